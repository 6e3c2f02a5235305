package cgpredict

import (
	"os"
	"testing"
)

func TestGraphsAndModelsBeyondTheLimitsFailNamingTheLimit(t *testing.T) {
	text := must(residualBlock(t).JSON())
	limits := must(NewLimits())
	defer limits.Close()
	if g := must(GraphFromJSONWithLimits([]byte(text), limits)); must(g.NodeCount()) != 9 {
		t.Fatal("the residual block has 9 nodes")
	}
	if err := limits.SetMaxNodes(8); err != nil {
		t.Fatal(err)
	}
	_, err := GraphFromJSONWithLimits([]byte(text), limits)
	expectError(t, err, StatusUnsupported, "9 nodes, more than the limit max_nodes = 8")
	if err := limits.SetMaxNodes(9); err != nil {
		t.Fatal(err)
	}
	if err := limits.SetMaxEdges(8); err != nil {
		t.Fatal(err)
	}
	_, err = GraphFromJSONWithLimits([]byte(text), limits)
	expectError(t, err, StatusUnsupported, "max_edges = 8")
	expectError(t, limits.SetMaxEdges(0), StatusInvalidArgument, "max_edges must be at least 1")

	path := fixture("onnx", "nb201_best.onnx")
	if err := limits.SetMaxONNXBytes(1000); err != nil {
		t.Fatal(err)
	}
	_, err = GraphFromONNXFileWithLimits(path, limits)
	expectError(t, err, StatusUnsupported, "max_onnx_bytes = 1000")
	bytes := must(os.ReadFile(path))
	_, err = GraphFromONNXBytesWithLimits(bytes, limits)
	expectError(t, err, StatusUnsupported, "max_onnx_bytes = 1000")
	defaults := must(NewLimits())
	if must(must(GraphFromONNXBytesWithLimits(bytes, defaults)).NodeCount()) == 0 {
		t.Error("the model imports within the default limits")
	}
	if must(must(GraphFromONNXFileWithLimits(path, defaults)).NodeCount()) == 0 {
		t.Error("the file imports within the default limits")
	}

	defaults.Close()
	defaults.Close()
	_, err = GraphFromJSONWithLimits([]byte(text), defaults)
	expectError(t, err, StatusInvalidArgument, "the limits are closed")
	var none *Limits
	expectError(t, none.SetMaxNodes(1), StatusInvalidArgument, "the limits are nil")
}
