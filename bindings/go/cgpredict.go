// Package cgpredict predicts neural-network accuracy from computation graphs: Go bindings of
// the cgpredict C library (cgo, found through pkg-config as "cgpredict").
//
// Graph and Predictor own C handles: release them with Close (a finalizer releases a
// forgotten one, but only when the garbage collector gets to it). Failures are *Error values
// carrying the library's Status and message; errors.Is(err, StatusParseError) and
// errors.As(err, &cgErr) both work.
//
// Concurrency follows the C library: a Graph may be read by several goroutines at once, but
// AddNode, AddEdge and Close need exclusive access; a Predictor may be used by any number of
// goroutines at once (Adapt and Close wait for the calls in flight).
package cgpredict

// #cgo pkg-config: cgpredict
// #include <stdlib.h>
// #include <cgpredict.h>
import "C"

import (
	"fmt"
	"runtime"
	"unsafe"
)

// Status is the outcome of a call, as the C library's cgp_status. A Status is also an error,
// so that errors.Is(err, StatusIOError) matches an *Error of that status.
type Status int

// The statuses of the C API.
const (
	StatusOK              Status = C.CGP_OK
	StatusInvalidArgument Status = C.CGP_INVALID_ARGUMENT
	StatusParseError      Status = C.CGP_PARSE_ERROR
	StatusUnsupported     Status = C.CGP_UNSUPPORTED
	StatusIOError         Status = C.CGP_IO_ERROR
	StatusModelError      Status = C.CGP_MODEL_ERROR
	StatusRuntimeError    Status = C.CGP_RUNTIME_ERROR
	StatusBufferTooSmall  Status = C.CGP_BUFFER_TOO_SMALL
	StatusPanic           Status = C.CGP_PANIC
)

var statusNames = map[Status]string{
	StatusOK:              "CGP_OK",
	StatusInvalidArgument: "CGP_INVALID_ARGUMENT",
	StatusParseError:      "CGP_PARSE_ERROR",
	StatusUnsupported:     "CGP_UNSUPPORTED",
	StatusIOError:         "CGP_IO_ERROR",
	StatusModelError:      "CGP_MODEL_ERROR",
	StatusRuntimeError:    "CGP_RUNTIME_ERROR",
	StatusBufferTooSmall:  "CGP_BUFFER_TOO_SMALL",
	StatusPanic:           "CGP_PANIC",
}

// String is the C name of the status ("CGP_PARSE_ERROR").
func (s Status) String() string {
	if name, ok := statusNames[s]; ok {
		return name
	}
	return fmt.Sprintf("cgp_status(%d)", int(s))
}

// Error makes a Status usable as a target of errors.Is.
func (s Status) Error() string { return s.String() }

// Error is a failed call: the status the library returned and its message.
type Error struct {
	Status  Status
	Message string
}

// Error is "cgpredict: MESSAGE (STATUS)".
func (e *Error) Error() string {
	return fmt.Sprintf("cgpredict: %s (%s)", e.Message, e.Status)
}

// Unwrap gives the status, for errors.Is(err, StatusXxx).
func (e *Error) Unwrap() error { return e.Status }

// invalid is an error raised on the Go side, before the library is called.
func invalid(format string, args ...any) error {
	return &Error{Status: StatusInvalidArgument, Message: fmt.Sprintf(format, args...)}
}

// call runs one C call and turns a failure into an *Error. The library keeps the message of
// the last failure per OS thread, and goroutines move between threads, so the thread is
// locked from the call until the message is copied.
func call(f func() C.enum_cgp_status) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if status := f(); status != C.CGP_OK {
		return &Error{Status: Status(status), Message: C.GoString(C.cgp_last_error_message())}
	}
	return nil
}

// takeString copies a string returned by the library and releases the original.
func takeString(s *C.char) string {
	defer C.cgp_string_free(s)
	return C.GoString(s)
}

// Version is the C library's version, "MAJOR.MINOR.PATCH".
func Version() string { return C.GoString(C.cgp_version()) }

// HeaderVersion is the version of the cgpredict.h these bindings were compiled against.
const HeaderVersion = C.CGP_VERSION_STRING

// bytesPtr is the address of a slice's first byte, or nil for an empty slice.
func bytesPtr(b []byte) *C.uint8_t {
	if len(b) == 0 {
		return nil
	}
	return (*C.uint8_t)(unsafe.Pointer(&b[0]))
}

// floatsPtr is the address of a slice's first float, or nil for an empty slice.
func floatsPtr(f []float32) *C.float {
	if len(f) == 0 {
		return nil
	}
	return (*C.float)(unsafe.Pointer(&f[0]))
}
