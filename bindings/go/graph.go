package cgpredict

// #include <stdlib.h>
// #include <cgpredict.h>
import "C"

import (
	"runtime"
	"unsafe"
)

// Graph is a computation graph: a DAG of primitive-operator nodes (a C cgp_graph).
type Graph struct {
	ptr *C.struct_cgp_graph
}

// NodeDesc describes one node for AddNode (the C cgp_node_desc). Op is a vocabulary name
// ("conv", "batch_norm", ...) or "unknown:NAME"; sizes are height, width, channels; fields
// left 0 mean "not given" where the README allows it.
type NodeDesc struct {
	Op                   string
	InH, InW, InC        uint32
	OutH, OutW, OutC     uint32
	KernelH, KernelW     uint32
	StrideH, StrideW     uint32
	DilationH, DilationW uint32
	Groups               uint32
	HasBias              bool // for normalizations: affine
}

// wrapGraph owns a handle from the library, with a finalizer as a safety net.
func wrapGraph(ptr *C.struct_cgp_graph) *Graph {
	g := &Graph{ptr: ptr}
	runtime.SetFinalizer(g, (*Graph).Close)
	return g
}

// Close releases the graph; later calls on it fail and a second Close does nothing.
func (g *Graph) Close() {
	if g == nil || g.ptr == nil {
		return
	}
	C.cgp_graph_free(g.ptr)
	g.ptr = nil
	runtime.SetFinalizer(g, nil)
}

// handle is the C graph, or an error for a nil or closed Graph.
func (g *Graph) handle() (*C.struct_cgp_graph, error) {
	if g == nil {
		return nil, invalid("the graph is nil")
	}
	if g.ptr == nil {
		return nil, invalid("the graph is closed")
	}
	return g.ptr, nil
}

// NewGraph creates an empty graph.
func NewGraph() (*Graph, error) {
	var out *C.struct_cgp_graph
	if err := call(func() C.enum_cgp_status { return C.cgp_graph_new(&out) }); err != nil {
		return nil, err
	}
	return wrapGraph(out), nil
}

// GraphFromJSON reads a graph in cgpredict's JSON format and validates it.
func GraphFromJSON(data []byte) (*Graph, error) {
	var out *C.struct_cgp_graph
	err := call(func() C.enum_cgp_status {
		return C.cgp_graph_from_json((*C.char)(unsafe.Pointer(bytesPtr(data))), C.size_t(len(data)), &out)
	})
	if err != nil {
		return nil, err
	}
	return wrapGraph(out), nil
}

// GraphFromONNXFile imports the structure and shapes of an ONNX model file (plain or gzip).
func GraphFromONNXFile(path string) (*Graph, error) {
	g, _, err := importONNX(false, func(out **C.struct_cgp_graph) C.enum_cgp_status {
		cpath := C.CString(path)
		defer C.free(unsafe.Pointer(cpath))
		return C.cgp_graph_from_onnx_file(cpath, out)
	})
	return g, err
}

// GraphFromONNXFileWithReport imports an ONNX model file and returns the import report as
// JSON too: ONNX ops mapped, folded and unknown, fused patterns, warnings.
func GraphFromONNXFileWithReport(path string) (*Graph, string, error) {
	return importONNX(true, func(out **C.struct_cgp_graph) C.enum_cgp_status {
		cpath := C.CString(path)
		defer C.free(unsafe.Pointer(cpath))
		return C.cgp_graph_from_onnx_file(cpath, out)
	})
}

// GraphFromONNXBytes imports an ONNX model from its protobuf bytes.
func GraphFromONNXBytes(data []byte) (*Graph, error) {
	g, _, err := importONNX(false, func(out **C.struct_cgp_graph) C.enum_cgp_status {
		return C.cgp_graph_from_onnx_bytes(bytesPtr(data), C.size_t(len(data)), out)
	})
	return g, err
}

// GraphFromONNXBytesWithReport imports an ONNX model from its bytes, with the import report.
func GraphFromONNXBytesWithReport(data []byte) (*Graph, string, error) {
	return importONNX(true, func(out **C.struct_cgp_graph) C.enum_cgp_status {
		return C.cgp_graph_from_onnx_bytes(bytesPtr(data), C.size_t(len(data)), out)
	})
}

// importONNX runs one import and, if asked, reads its report. The library keeps the report
// per OS thread, so the goroutine stays on one thread for both calls.
func importONNX(withReport bool, run func(**C.struct_cgp_graph) C.enum_cgp_status) (*Graph, string, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var out *C.struct_cgp_graph
	if err := call(func() C.enum_cgp_status { return run(&out) }); err != nil {
		return nil, "", err
	}
	g := wrapGraph(out)
	if !withReport {
		return g, "", nil
	}
	var report *C.char
	if err := call(func() C.enum_cgp_status { return C.cgp_onnx_last_report_json(&report) }); err != nil {
		g.Close()
		return nil, "", err
	}
	return g, takeString(report), nil
}

// GraphFromNASBench101 builds the NAS-Bench-101 network (CIFAR-10) of a cell: adjacency is
// the cell's n x n 0/1 matrix (adjacency[i][j] = 1 for an edge i -> j), ops its n op names
// ("input", "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3", "output").
func GraphFromNASBench101(adjacency [][]uint8, ops []string) (*Graph, error) {
	n := len(ops)
	if len(adjacency) != n {
		return nil, invalid("adjacency has %d rows but there are %d ops", len(adjacency), n)
	}
	flat := make([]byte, 0, n*n)
	for i, row := range adjacency {
		if len(row) != n {
			return nil, invalid("adjacency[%d] has %d entries but there are %d ops", i, len(row), n)
		}
		flat = append(flat, row...)
	}
	names := make([]*C.char, n)
	for i, op := range ops {
		names[i] = C.CString(op)
		defer C.free(unsafe.Pointer(names[i]))
	}
	var namesPtr **C.char
	if n > 0 {
		namesPtr = &names[0]
	}
	var out *C.struct_cgp_graph
	err := call(func() C.enum_cgp_status {
		return C.cgp_graph_from_nasbench101(bytesPtr(flat), C.size_t(n), namesPtr, &out)
	})
	if err != nil {
		return nil, err
	}
	return wrapGraph(out), nil
}

// GraphFromNASBench201 builds the NAS-Bench-201 network of an architecture string
// ("|nor_conv_3x3~0|+|...|") for numClasses classes on 32x32 input.
func GraphFromNASBench201(arch string, numClasses uint32) (*Graph, error) {
	carch := C.CString(arch)
	defer C.free(unsafe.Pointer(carch))
	var out *C.struct_cgp_graph
	if err := call(func() C.enum_cgp_status {
		return C.cgp_graph_from_nasbench201(carch, C.uint32_t(numClasses), &out)
	}); err != nil {
		return nil, err
	}
	return wrapGraph(out), nil
}

// GraphFromDARTS builds the NAS-Bench-301 (DARTS space) CIFAR-10 network of a genotype,
// {"normal": [["sep_conv_3x3", 0], ...], "reduce": [...]}.
func GraphFromDARTS(genotypeJSON string) (*Graph, error) {
	cjson := C.CString(genotypeJSON)
	defer C.free(unsafe.Pointer(cjson))
	var out *C.struct_cgp_graph
	if err := call(func() C.enum_cgp_status { return C.cgp_graph_from_darts(cjson, &out) }); err != nil {
		return nil, err
	}
	return wrapGraph(out), nil
}

// GraphFromOFAMBv3 builds a Once-for-All MobileNetV3 (w1.0) subnet: 20 kernel sizes (3, 5,
// 7), 20 expand ratios (3, 4, 6), 5 stage depths (2, 3, 4), a resolution from 128 to 224.
func GraphFromOFAMBv3(ks, e [20]uint8, d [5]uint8, resolution uint32) (*Graph, error) {
	var out *C.struct_cgp_graph
	if err := call(func() C.enum_cgp_status {
		return C.cgp_graph_from_ofa_mbv3(bytesPtr(ks[:]), bytesPtr(e[:]), bytesPtr(d[:]), C.uint32_t(resolution), &out)
	}); err != nil {
		return nil, err
	}
	return wrapGraph(out), nil
}

// AddNode adds a checked node and returns its id (0, 1, 2, ... in order of addition).
func (g *Graph) AddNode(d NodeDesc) (uint32, error) {
	ptr, err := g.handle()
	if err != nil {
		return 0, err
	}
	op := C.CString(d.Op)
	defer C.free(unsafe.Pointer(op))
	desc := C.struct_cgp_node_desc{
		op:   op,
		in_h: C.uint32_t(d.InH), in_w: C.uint32_t(d.InW), in_c: C.uint32_t(d.InC),
		out_h: C.uint32_t(d.OutH), out_w: C.uint32_t(d.OutW), out_c: C.uint32_t(d.OutC),
		kernel_h: C.uint32_t(d.KernelH), kernel_w: C.uint32_t(d.KernelW),
		stride_h: C.uint32_t(d.StrideH), stride_w: C.uint32_t(d.StrideW),
		dilation_h: C.uint32_t(d.DilationH), dilation_w: C.uint32_t(d.DilationW),
		groups:   C.uint32_t(d.Groups),
		has_bias: C.bool(d.HasBias),
	}
	var id C.uint32_t
	err = call(func() C.enum_cgp_status { return C.cgp_graph_add_node(ptr, &desc, &id) })
	runtime.KeepAlive(g)
	return uint32(id), err
}

// AddEdge adds the edge from -> to; unknown ids, self-loops and cycles are refused.
func (g *Graph) AddEdge(from, to uint32) error {
	ptr, err := g.handle()
	if err != nil {
		return err
	}
	err = call(func() C.enum_cgp_status { return C.cgp_graph_add_edge(ptr, C.uint32_t(from), C.uint32_t(to)) })
	runtime.KeepAlive(g)
	return err
}

// NodeCount is the number of nodes.
func (g *Graph) NodeCount() (int, error) {
	var n C.size_t
	err := g.read(func(ptr *C.struct_cgp_graph) C.enum_cgp_status { return C.cgp_graph_node_count(ptr, &n) })
	return int(n), err
}

// EdgeCount is the number of edges.
func (g *Graph) EdgeCount() (int, error) {
	var n C.size_t
	err := g.read(func(ptr *C.struct_cgp_graph) C.enum_cgp_status { return C.cgp_graph_edge_count(ptr, &n) })
	return int(n), err
}

// ParamCount is the number of learned parameters (weights and biases).
func (g *Graph) ParamCount() (uint64, error) {
	var n C.uint64_t
	err := g.read(func(ptr *C.struct_cgp_graph) C.enum_cgp_status { return C.cgp_graph_param_count(ptr, &n) })
	return uint64(n), err
}

// MACs is the number of multiply-accumulates of one forward pass.
func (g *Graph) MACs() (uint64, error) {
	var n C.uint64_t
	err := g.read(func(ptr *C.struct_cgp_graph) C.enum_cgp_status { return C.cgp_graph_macs(ptr, &n) })
	return uint64(n), err
}

// JSON is the graph in cgpredict's JSON format.
func (g *Graph) JSON() (string, error) {
	var text *C.char
	if err := g.read(func(ptr *C.struct_cgp_graph) C.enum_cgp_status { return C.cgp_graph_to_json(ptr, &text) }); err != nil {
		return "", err
	}
	return takeString(text), nil
}

// DOT is the graph in Graphviz DOT.
func (g *Graph) DOT() (string, error) {
	var text *C.char
	if err := g.read(func(ptr *C.struct_cgp_graph) C.enum_cgp_status { return C.cgp_graph_to_dot(ptr, &text) }); err != nil {
		return "", err
	}
	return takeString(text), nil
}

// Spectrum is the k smallest eigenvalues of the graph's normalized Laplacian, ascending
// (the paper uses k = 11).
func (g *Graph) Spectrum(k int) ([]float64, error) {
	if k < 0 {
		return nil, invalid("k is %d", k)
	}
	// One spare element, so that the buffer is never NULL and k = 0 is what gets reported.
	values := make([]float64, k+1)
	out := (*C.double)(unsafe.Pointer(&values[0]))
	err := g.read(func(ptr *C.struct_cgp_graph) C.enum_cgp_status {
		return C.cgp_graph_spectrum(ptr, C.size_t(k), out, C.size_t(k))
	})
	if err != nil {
		return nil, err
	}
	return values[:k], nil
}

// SpectralDistance is the Euclidean distance between the k-spectra of two graphs.
func SpectralDistance(a, b *Graph, k int) (float64, error) {
	if k < 0 {
		return 0, invalid("k is %d", k)
	}
	pa, err := a.handle()
	if err != nil {
		return 0, err
	}
	pb, err := b.handle()
	if err != nil {
		return 0, err
	}
	var distance C.double
	err = call(func() C.enum_cgp_status { return C.cgp_spectral_distance(pa, pb, C.size_t(k), &distance) })
	runtime.KeepAlive(a)
	runtime.KeepAlive(b)
	return float64(distance), err
}

// read runs a call that only reads the graph.
func (g *Graph) read(f func(*C.struct_cgp_graph) C.enum_cgp_status) error {
	ptr, err := g.handle()
	if err != nil {
		return err
	}
	err = call(func() C.enum_cgp_status { return f(ptr) })
	runtime.KeepAlive(g)
	return err
}
