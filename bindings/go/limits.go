package cgpredict

// #include <stdlib.h>
// #include <cgpredict.h>
import "C"

import (
	"runtime"
	"unsafe"
)

// Limits are resource limits for the readers and importers that take them (a C cgp_limits):
// the most nodes and edges of a graph and the most bytes of an ONNX model. NewLimits holds the
// library's defaults (1,000,000 nodes, 4,000,000 edges, 2 GiB); input beyond a limit fails
// with StatusUnsupported and a message naming the limit.
type Limits struct {
	ptr *C.struct_cgp_limits
}

// NewLimits creates limits holding the defaults.
func NewLimits() (*Limits, error) {
	var out *C.struct_cgp_limits
	if err := call(func() C.enum_cgp_status { return C.cgp_limits_new(&out) }); err != nil {
		return nil, err
	}
	l := &Limits{ptr: out}
	runtime.SetFinalizer(l, (*Limits).Close)
	return l, nil
}

// Close releases the limits; later calls with them fail and a second Close does nothing.
func (l *Limits) Close() {
	if l == nil || l.ptr == nil {
		return
	}
	C.cgp_limits_free(l.ptr)
	l.ptr = nil
	runtime.SetFinalizer(l, nil)
}

// handle is the C limits, or an error for nil or closed Limits.
func (l *Limits) handle() (*C.struct_cgp_limits, error) {
	if l == nil {
		return nil, invalid("the limits are nil")
	}
	if l.ptr == nil {
		return nil, invalid("the limits are closed")
	}
	return l.ptr, nil
}

// set runs one setter on the handle.
func (l *Limits) set(setter func(*C.struct_cgp_limits) C.enum_cgp_status) error {
	ptr, err := l.handle()
	if err != nil {
		return err
	}
	defer runtime.KeepAlive(l)
	return call(func() C.enum_cgp_status { return setter(ptr) })
}

// SetMaxNodes sets the most nodes of one graph (at least 1).
func (l *Limits) SetMaxNodes(maxNodes uint) error {
	return l.set(func(ptr *C.struct_cgp_limits) C.enum_cgp_status {
		return C.cgp_limits_set_max_nodes(ptr, C.size_t(maxNodes))
	})
}

// SetMaxEdges sets the most edges of one graph (at least 1).
func (l *Limits) SetMaxEdges(maxEdges uint) error {
	return l.set(func(ptr *C.struct_cgp_limits) C.enum_cgp_status {
		return C.cgp_limits_set_max_edges(ptr, C.size_t(maxEdges))
	})
}

// SetMaxONNXBytes sets the most bytes of an ONNX model, after gzip inflation (at least 1).
func (l *Limits) SetMaxONNXBytes(maxBytes uint64) error {
	return l.set(func(ptr *C.struct_cgp_limits) C.enum_cgp_status {
		return C.cgp_limits_set_max_onnx_bytes(ptr, C.uint64_t(maxBytes))
	})
}

// withLimits runs one reader with the C limits, keeping them alive for the call.
func withLimits(limits *Limits, run func(*C.struct_cgp_limits, **C.struct_cgp_graph) C.enum_cgp_status) (*Graph, error) {
	ptr, err := limits.handle()
	if err != nil {
		return nil, err
	}
	defer runtime.KeepAlive(limits)
	var out *C.struct_cgp_graph
	if err := call(func() C.enum_cgp_status { return run(ptr, &out) }); err != nil {
		return nil, err
	}
	return wrapGraph(out), nil
}

// GraphFromJSONWithLimits is GraphFromJSON within limits.
func GraphFromJSONWithLimits(data []byte, limits *Limits) (*Graph, error) {
	return withLimits(limits, func(l *C.struct_cgp_limits, out **C.struct_cgp_graph) C.enum_cgp_status {
		return C.cgp_graph_from_json_with_limits((*C.char)(unsafe.Pointer(bytesPtr(data))), C.size_t(len(data)), l, out)
	})
}

// GraphFromONNXFileWithLimits is GraphFromONNXFile within limits: a larger file is not read.
func GraphFromONNXFileWithLimits(path string, limits *Limits) (*Graph, error) {
	return withLimits(limits, func(l *C.struct_cgp_limits, out **C.struct_cgp_graph) C.enum_cgp_status {
		cpath := C.CString(path)
		defer C.free(unsafe.Pointer(cpath))
		return C.cgp_graph_from_onnx_file_with_limits(cpath, l, out)
	})
}

// GraphFromONNXBytesWithLimits is GraphFromONNXBytes within limits.
func GraphFromONNXBytesWithLimits(data []byte, limits *Limits) (*Graph, error) {
	return withLimits(limits, func(l *C.struct_cgp_limits, out **C.struct_cgp_graph) C.enum_cgp_status {
		return C.cgp_graph_from_onnx_bytes_with_limits(bytesPtr(data), C.size_t(len(data)), l, out)
	})
}
