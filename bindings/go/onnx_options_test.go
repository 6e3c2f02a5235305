package cgpredict

import (
	"os"
	"testing"
)

func TestONNXOptionsGiveInputShapesByName(t *testing.T) {
	// The 32x32 network at 64x64: four times the MACs except the 64 x 10 classifier after
	// global pooling (184,730,240 - 640 at 32x32).
	const doubled = 4*(184730240-640) + 640
	path := fixture("onnx", "nb201_best.onnx")
	options := must(NewONNXOptions())
	defer options.Close()
	if err := options.SetInputShape("image", []uint64{1, 3, 64, 64}); err != nil {
		t.Fatal(err)
	}
	if macs := must(must(GraphFromONNXFileWithOptions(path, options)).MACs()); macs != doubled {
		t.Errorf("MACs at 64x64: %d, expected %d", macs, doubled)
	}
	bytes := must(os.ReadFile(path))
	if macs := must(must(GraphFromONNXBytesWithOptions(bytes, options)).MACs()); macs != doubled {
		t.Errorf("MACs from bytes at 64x64: %d, expected %d", macs, doubled)
	}

	first := must(NewONNXOptions())
	defer first.Close()
	if err := first.SetFirstInputShape([]uint64{1, 3, 64, 64}); err != nil {
		t.Fatal(err)
	}
	if macs := must(must(GraphFromONNXFileWithOptions(path, first)).MACs()); macs != doubled {
		t.Errorf("MACs with the first input's shape: %d, expected %d", macs, doubled)
	}
	if err := first.SetInputShape("mask", []uint64{1, 8}); err != nil {
		t.Fatal(err)
	}
	_, err := GraphFromONNXFileWithOptions(path, first)
	expectError(t, err, StatusInvalidArgument, "'mask', which is not a data input of the graph (its data inputs: 'image')")
	expectError(t, options.SetInputShape("image", []uint64{1, 0}), StatusInvalidArgument, "size 0 at axis 1")
	expectError(t, options.SetFirstInputShape(nil), StatusInvalidArgument, "at least one dimension")

	limits := must(NewLimits())
	defer limits.Close()
	if err := limits.SetMaxONNXBytes(1000); err != nil {
		t.Fatal(err)
	}
	if err := options.SetLimits(limits); err != nil {
		t.Fatal(err)
	}
	_, err = GraphFromONNXFileWithOptions(path, options)
	expectError(t, err, StatusUnsupported, "max_onnx_bytes = 1000")

	options.Close()
	options.Close()
	_, err = GraphFromONNXBytesWithOptions(bytes, options)
	expectError(t, err, StatusInvalidArgument, "the ONNX options are closed")
	var none *ONNXOptions
	expectError(t, none.SetFirstInputShape([]uint64{1}), StatusInvalidArgument, "the ONNX options are nil")
}
