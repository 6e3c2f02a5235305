package cgpredict

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// repo is the repository root, for the fixtures under tests/fixtures.
var repo = filepath.Join("..", "..")

func fixture(parts ...string) string {
	return filepath.Join(append([]string{repo, "tests", "fixtures"}, parts...)...)
}

// expectError checks that err is an *Error of status whose message contains fragment.
func expectError(t *testing.T, err error, status Status, fragment string) {
	t.Helper()
	var cgErr *Error
	if !errors.As(err, &cgErr) {
		t.Fatalf("expected an *Error of %v with %q, got %v", status, fragment, err)
	}
	if cgErr.Status != status || !strings.Contains(cgErr.Message, fragment) {
		t.Errorf("got %v %q, expected %v with %q", cgErr.Status, cgErr.Message, status, fragment)
	}
	if !errors.Is(err, status) {
		t.Errorf("errors.Is(%v, %v) is false", err, status)
	}
}

// must is the value of a call that has to succeed; a failure panics, which fails the test
// with the error and a stack trace (Go cannot pass t next to a call's two results).
func must[T any](value T, err error) T {
	if err != nil {
		panic(err)
	}
	return value
}

func node(op string, channels, kernel uint32) NodeDesc {
	d := NodeDesc{Op: op, InH: 32, InW: 32, InC: channels, OutH: 32, OutW: 32, OutC: channels,
		KernelH: kernel, KernelW: kernel, HasBias: op == "batch_norm"}
	if kernel > 0 {
		d.StrideH, d.StrideW, d.DilationH, d.DilationW, d.Groups = 1, 1, 1, 1, 1
	}
	return d
}

// residualBlock is input -> conv3x3 -> bn -> relu -> conv3x3 -> bn -> add(+input) -> relu ->
// output with 16 channels at 32x32.
func residualBlock(t *testing.T) *Graph {
	t.Helper()
	g := must(NewGraph())
	for i, op := range []string{"input", "conv", "batch_norm", "relu", "conv", "batch_norm", "add", "relu", "output"} {
		kernel := uint32(0)
		if op == "conv" {
			kernel = 3
		}
		if id := must(g.AddNode(node(op, 16, kernel))); id != uint32(i) {
			t.Fatalf("node %d got id %d", i, id)
		}
	}
	for _, e := range [][2]uint32{{0, 1}, {1, 2}, {2, 3}, {3, 4}, {4, 5}, {5, 6}, {0, 6}, {6, 7}, {7, 8}} {
		if err := g.AddEdge(e[0], e[1]); err != nil {
			t.Fatal(err)
		}
	}
	return g
}

func TestVersionIsTheHeaders(t *testing.T) {
	if Version() != HeaderVersion {
		t.Errorf("library %s, header %s", Version(), HeaderVersion)
	}
}

func TestResidualBlockCountsAreTheHandCountedOnes(t *testing.T) {
	g := residualBlock(t)
	defer g.Close()
	if n := must(g.NodeCount()); n != 9 {
		t.Errorf("%d nodes", n)
	}
	if n := must(g.EdgeCount()); n != 9 {
		t.Errorf("%d edges", n)
	}
	// Two 3x3 convs of 16*16*9 weights and two affine BNs of 2*16.
	if n := must(g.ParamCount()); n != 2*2304+2*32 {
		t.Errorf("%d parameters", n)
	}
	// Each conv: 32*32*16 outputs times 16*9 MACs.
	if n := must(g.MACs()); n != 2*32*32*16*16*9 {
		t.Errorf("%d MACs", n)
	}
}

func TestJSONRoundTripIsExactAndDOTHasTheEdges(t *testing.T) {
	g := residualBlock(t)
	defer g.Close()
	text := must(g.JSON())
	back := must(GraphFromJSON([]byte(text)))
	defer back.Close()
	if again := must(back.JSON()); again != text {
		t.Errorf("round trip differs:\n%s\n%s", text, again)
	}
	if dot := must(back.DOT()); !strings.Contains(dot, "n0 -> n6;") {
		t.Errorf("DOT lacks the skip edge:\n%s", dot)
	}
	_, err := GraphFromJSON([]byte(`{"format": "cgpredict-graph", "version": 1, "nodes": [`))
	expectError(t, err, StatusParseError, "graph JSON")
	_, err = GraphFromJSON(nil)
	expectError(t, err, StatusParseError, "")
}

func TestRefusedNodesAndEdgesLeaveTheGraphUnchanged(t *testing.T) {
	g := residualBlock(t)
	defer g.Close()
	_, err := g.AddNode(node("rleu", 16, 0))
	expectError(t, err, StatusInvalidArgument, `"rleu" is not in the vocabulary`)
	zero := node("conv", 16, 3)
	zero.OutH = 0
	_, err = g.AddNode(zero)
	expectError(t, err, StatusInvalidArgument, "output h is 0")
	expectError(t, g.AddEdge(0, 99), StatusInvalidArgument, "target node 99 does not exist")
	expectError(t, g.AddEdge(8, 0), StatusInvalidArgument, "cycle")
	if n := must(g.NodeCount()); n != 9 {
		t.Errorf("%d nodes after refusals", n)
	}
	if n := must(g.EdgeCount()); n != 9 {
		t.Errorf("%d edges after refusals", n)
	}
}

func TestClosedAndNilGraphsAreErrors(t *testing.T) {
	g := residualBlock(t)
	g.Close()
	g.Close() // a second Close does nothing
	_, err := g.NodeCount()
	expectError(t, err, StatusInvalidArgument, "the graph is closed")
	expectError(t, g.AddEdge(0, 1), StatusInvalidArgument, "the graph is closed")
	var none *Graph
	_, err = none.ParamCount()
	expectError(t, err, StatusInvalidArgument, "the graph is nil")
	none.Close()
}

func TestNASBench101CellHasTheHandCountedParameters(t *testing.T) {
	// input -> conv1x1 -> output plus input -> output; see tests/c/benchmarks_api.c.
	adjacency := [][]uint8{{0, 1, 1}, {0, 0, 1}, {0, 0, 0}}
	ops := []string{"input", "conv1x1-bn-relu", "output"}
	expected := uint64(3712 + 5130)
	for stack := 0; stack < 3; stack++ {
		c := uint64(128) << stack
		for cell := 0; cell < 3; cell++ {
			in := c
			if stack > 0 && cell == 0 {
				in = c / 2
			}
			expected += 2*(in*c+2*c) + (c*c + 2*c)
		}
	}
	g := must(GraphFromNASBench101(adjacency, ops))
	defer g.Close()
	if n := must(g.ParamCount()); n != expected {
		t.Errorf("%d parameters, expected %d", n, expected)
	}
	_, err := GraphFromNASBench101(adjacency, []string{"input", "conv1x1", "output"})
	expectError(t, err, StatusInvalidArgument, `ops[1] = "conv1x1" is not a NAS-Bench-101 op`)
	_, err = GraphFromNASBench101([][]uint8{{0, 1, 0}, {0, 0}, {0, 0, 0}}, ops)
	expectError(t, err, StatusInvalidArgument, "adjacency[1] has 2 entries but there are 3 ops")
	_, err = GraphFromNASBench101(adjacency[:2], ops)
	expectError(t, err, StatusInvalidArgument, "adjacency has 2 rows")
}

func TestNASBench201LargestNetworkHasThePublishedParameters(t *testing.T) {
	allConv := "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
	for classes, want := range map[uint32]uint64{10: 1531546, 100: 1537396} {
		g := must(GraphFromNASBench201(allConv, classes))
		if n := must(g.ParamCount()); n != want {
			t.Errorf("%d classes: %d parameters, published %d", classes, n, want)
		}
		g.Close()
	}
	_, err := GraphFromNASBench201("|nor_conv_3x3~0|", 10)
	expectError(t, err, StatusParseError, "1 node(s) separated by '+'")
	_, err = GraphFromNASBench201(allConv, 0)
	expectError(t, err, StatusInvalidArgument, "num_classes is 0")
}

func TestDARTSV2HasTheHandCountedNodes(t *testing.T) {
	v2 := `{"normal": [["sep_conv_3x3", 0], ["sep_conv_3x3", 1], ["sep_conv_3x3", 0], ["sep_conv_3x3", 1],
	 ["sep_conv_3x3", 1], ["skip_connect", 0], ["skip_connect", 0], ["dil_conv_3x3", 2]],
	 "reduce": [["max_pool_3x3", 0], ["max_pool_3x3", 1], ["skip_connect", 2], ["max_pool_3x3", 1],
	 ["max_pool_3x3", 0], ["skip_connect", 2], ["skip_connect", 2], ["max_pool_3x3", 1]]}`
	g := must(GraphFromDARTS(v2))
	defer g.Close()
	if n := must(g.NodeCount()); n != 372 {
		t.Errorf("%d nodes", n)
	}
	_, err := GraphFromDARTS(`{"normal": [], "reduce": []}`)
	expectError(t, err, StatusParseError, "normal has 0 [op, input] pairs")
}

func TestOFALargestSubnetHasTheHandCountedParameters(t *testing.T) {
	var ks, e [20]uint8
	var d [5]uint8
	for i := range ks {
		ks[i], e[i] = 7, 6
	}
	for i := range d {
		d[i] = 4
	}
	g := must(GraphFromOFAMBv3(ks, e, d, 224))
	defer g.Close()
	if n := must(g.ParamCount()); n != 7664760 {
		t.Errorf("%d parameters", n)
	}
	d[2] = 5
	_, err := GraphFromOFAMBv3(ks, e, d, 224)
	expectError(t, err, StatusInvalidArgument, "d[2] = 5")
	d[2] = 4
	_, err = GraphFromOFAMBv3(ks, e, d, 100)
	expectError(t, err, StatusInvalidArgument, "resolution")
}

func TestImportedNB201ModelHasTheExportersCounts(t *testing.T) {
	// tests/fixtures/onnx/nb201_expected.json: PyTorch's parameters with BN folded into the
	// convolutions (as the canonical form does) and its MACs.
	path := fixture("onnx", "nb201_best.onnx")
	g, report, err := GraphFromONNXFileWithReport(path)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if n := must(g.ParamCount()); n != 1285498 {
		t.Errorf("%d parameters", n)
	}
	if n := must(g.MACs()); n != 184730240 {
		t.Errorf("%d MACs", n)
	}
	for _, want := range []string{`"opset": 18`, `"onnx_nodes": 185`} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %s:\n%s", want, report)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fromBytes := must(GraphFromONNXBytes(data))
	defer fromBytes.Close()
	plain := must(GraphFromONNXFile(path))
	defer plain.Close()
	want := must(g.JSON())
	for name, other := range map[string]*Graph{"bytes": fromBytes, "file": plain} {
		if got := must(other.JSON()); got != want {
			t.Errorf("the import from %s differs", name)
		}
	}
	_, bytesReport, err := GraphFromONNXBytesWithReport(data)
	if err != nil || bytesReport != report {
		t.Errorf("report from bytes: %v\n%s", err, bytesReport)
	}

	_, err = GraphFromONNXFile("/nonexistent/model.onnx")
	expectError(t, err, StatusIOError, "/nonexistent/model.onnx")
	_, _, err = GraphFromONNXBytesWithReport([]byte{0xff, 0xff, 0xff, 0xff})
	expectError(t, err, StatusParseError, "")
}

func TestResidualBlockSpectrumIsNumpys(t *testing.T) {
	// numpy eigvalsh of networkx's normalized Laplacian, 2 zeros in front for k = 11
	// (tests/fixtures/spectral/expected.json).
	numpy := []float64{0.0, 0.0, 3.5111764798795554e-16, 0.18635511932595783, 0.37651019814126624,
		0.5292802085515094, 1.1724732315097968, 1.2225209339563146, 1.6689040070510937,
		1.9009688679024193, 1.942987433561641}
	g := residualBlock(t)
	defer g.Close()
	values := must(g.Spectrum(11))
	if len(values) != 11 {
		t.Fatalf("%d values", len(values))
	}
	for i, want := range numpy {
		if math.Abs(values[i]-want) > 1e-8 {
			t.Errorf("eigenvalue %d: %v, numpy %v", i, values[i], want)
		}
	}
	_, err := g.Spectrum(0)
	expectError(t, err, StatusInvalidArgument, "at least 1")
	_, err = g.Spectrum(-1)
	expectError(t, err, StatusInvalidArgument, "k is -1")
}

func TestSpectralDistanceOfTwoPathsIsTheClosedForm(t *testing.T) {
	path := func(n uint32) *Graph {
		g := must(NewGraph())
		for i := uint32(0); i < n; i++ {
			must(g.AddNode(NodeDesc{Op: "identity", InH: 1, InW: 1, InC: 1, OutH: 1, OutW: 1, OutC: 1}))
			if i > 0 {
				if err := g.AddEdge(i-1, i); err != nil {
					t.Fatal(err)
				}
			}
		}
		return g
	}
	// P4: 0, 1/2, 3/2, 2 with a 0 in front for k = 5; P5: 0, 1-c, 1, 1+c, 2, c = cos(pi/4).
	p4, p5 := path(4), path(5)
	defer p4.Close()
	defer p5.Close()
	c := math.Cos(math.Pi / 4)
	distance := must(SpectralDistance(p4, p5, 5))
	if want := (1-c)*(1-c) + 0.25 + (0.5-c)*(0.5-c); math.Abs(distance*distance-want) > 1e-12 {
		t.Errorf("squared distance %v, closed form %v", distance*distance, want)
	}
	if same := must(SpectralDistance(p4, p4, 11)); same != 0 {
		t.Errorf("distance to itself %v", same)
	}
	empty := must(NewGraph())
	defer empty.Close()
	_, err := SpectralDistance(empty, p4, 3)
	expectError(t, err, StatusInvalidArgument, "first graph: the graph has no nodes")
	_, err = SpectralDistance(p4, nil, 3)
	expectError(t, err, StatusInvalidArgument, "the graph is nil")
}

func TestStatusesNameTheCConstants(t *testing.T) {
	err := &Error{Status: StatusBufferTooSmall, Message: "out holds 3 floats"}
	if got := err.Error(); got != "cgpredict: out holds 3 floats (CGP_BUFFER_TOO_SMALL)" {
		t.Errorf("%q", got)
	}
	if got := Status(42).String(); got != "cgp_status(42)" {
		t.Errorf("%q", got)
	}
	if errors.Is(err, StatusIOError) {
		t.Error("a buffer error matched StatusIOError")
	}
	if err.Unwrap() != StatusBufferTooSmall {
		t.Errorf("unwraps to %v", err.Unwrap())
	}
}
