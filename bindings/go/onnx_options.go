package cgpredict

// #include <stdlib.h>
// #include <cgpredict.h>
import "C"

import (
	"runtime"
	"unsafe"
)

// ONNXOptions are options for GraphFromONNXFileWithOptions and GraphFromONNXBytesWithOptions
// (a C cgp_onnx_options): shapes for graph inputs in place of the declared ones (inputs with
// a symbolic height, width or sequence length, or another resolution) and limits.
// NewONNXOptions holds every input's declared shape and the default limits.
type ONNXOptions struct {
	ptr *C.struct_cgp_onnx_options
}

// NewONNXOptions creates import options: declared shapes, default limits.
func NewONNXOptions() (*ONNXOptions, error) {
	var out *C.struct_cgp_onnx_options
	if err := call(func() C.enum_cgp_status { return C.cgp_onnx_options_new(&out) }); err != nil {
		return nil, err
	}
	o := &ONNXOptions{ptr: out}
	runtime.SetFinalizer(o, (*ONNXOptions).Close)
	return o, nil
}

// Close releases the options; later calls with them fail and a second Close does nothing.
func (o *ONNXOptions) Close() {
	if o == nil || o.ptr == nil {
		return
	}
	C.cgp_onnx_options_free(o.ptr)
	o.ptr = nil
	runtime.SetFinalizer(o, nil)
}

// handle is the C options, or an error for nil or closed options.
func (o *ONNXOptions) handle() (*C.struct_cgp_onnx_options, error) {
	if o == nil {
		return nil, invalid("the ONNX options are nil")
	}
	if o.ptr == nil {
		return nil, invalid("the ONNX options are closed")
	}
	return o.ptr, nil
}

// setInputShape sets the shape of the input named by cname (nil: the first data input).
func (o *ONNXOptions) setInputShape(cname *C.char, dims []uint64) error {
	ptr, err := o.handle()
	if err != nil {
		return err
	}
	defer runtime.KeepAlive(o)
	var first *C.uint64_t
	if len(dims) > 0 {
		first = (*C.uint64_t)(unsafe.Pointer(&dims[0]))
	}
	return call(func() C.enum_cgp_status {
		return C.cgp_onnx_options_set_input_shape(ptr, cname, first, C.size_t(len(dims)))
	})
}

// SetInputShape sets the shape of the graph input name (positive sizes, as many as the model
// declares). Import fails with StatusInvalidArgument naming the input when it is not a data
// input of the model or its rank differs.
func (o *ONNXOptions) SetInputShape(name string, dims []uint64) error {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	return o.setInputShape(cname, dims)
}

// SetFirstInputShape sets the shape of the model's first data input.
func (o *ONNXOptions) SetFirstInputShape(dims []uint64) error {
	return o.setInputShape(nil, dims)
}

// SetLimits imports with these limits (copied).
func (o *ONNXOptions) SetLimits(limits *Limits) error {
	ptr, err := o.handle()
	if err != nil {
		return err
	}
	l, err := limits.handle()
	if err != nil {
		return err
	}
	defer runtime.KeepAlive(o)
	defer runtime.KeepAlive(limits)
	return call(func() C.enum_cgp_status { return C.cgp_onnx_options_set_limits(ptr, l) })
}

// withOptions runs one import with the C options, keeping them alive for the call.
func withOptions(options *ONNXOptions, run func(*C.struct_cgp_onnx_options, **C.struct_cgp_graph) C.enum_cgp_status) (*Graph, error) {
	ptr, err := options.handle()
	if err != nil {
		return nil, err
	}
	defer runtime.KeepAlive(options)
	var out *C.struct_cgp_graph
	if err := call(func() C.enum_cgp_status { return run(ptr, &out) }); err != nil {
		return nil, err
	}
	return wrapGraph(out), nil
}

// GraphFromONNXFileWithOptions is GraphFromONNXFile with options (input shapes, limits).
func GraphFromONNXFileWithOptions(path string, options *ONNXOptions) (*Graph, error) {
	return withOptions(options, func(o *C.struct_cgp_onnx_options, out **C.struct_cgp_graph) C.enum_cgp_status {
		cpath := C.CString(path)
		defer C.free(unsafe.Pointer(cpath))
		return C.cgp_graph_from_onnx_file_with_options(cpath, o, out)
	})
}

// GraphFromONNXBytesWithOptions is GraphFromONNXBytes with options.
func GraphFromONNXBytesWithOptions(data []byte, options *ONNXOptions) (*Graph, error) {
	return withOptions(options, func(o *C.struct_cgp_onnx_options, out **C.struct_cgp_graph) C.enum_cgp_status {
		return C.cgp_graph_from_onnx_bytes_with_options(bytesPtr(data), C.size_t(len(data)), o, out)
	})
}
