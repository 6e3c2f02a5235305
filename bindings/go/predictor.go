package cgpredict

// #include <stdlib.h>
// #include <cgpredict.h>
import "C"

import (
	"runtime"
	"strconv"
	"sync"
	"unsafe"
)

// Device is where a predictor runs (the C cgp_device).
type Device uint32

// The devices of the C API.
const (
	DeviceAuto Device = C.CGP_DEVICE_AUTO // CUDA when available, else the CPU
	DeviceCPU  Device = C.CGP_DEVICE_CPU
	DeviceCUDA Device = C.CGP_DEVICE_CUDA // fails when CUDA is unavailable
)

// String is "auto", "cpu" or "cuda".
func (d Device) String() string {
	switch d {
	case DeviceAuto:
		return "auto"
	case DeviceCPU:
		return "cpu"
	case DeviceCUDA:
		return "cuda"
	}
	return "cgp_device(" + strconv.FormatUint(uint64(d), 10) + ")"
}

// Predictor is a cgpredict model in ONNX Runtime (a C cgp_predictor). Any number of
// goroutines may call Predict, Embed and the getters at once; Adapt and Close wait for them.
type Predictor struct {
	mu  sync.RWMutex
	ptr *C.struct_cgp_predictor
}

// OpenPredictor opens a model file; modelPath "" opens the model bundled in the library.
// ONNX Runtime is found through ORT_DYLIB_PATH, the cache of scripts/fetch-onnxruntime.sh,
// then the system (see the README).
func OpenPredictor(modelPath string, device Device) (*Predictor, error) {
	var cpath *C.char
	if modelPath != "" {
		cpath = C.CString(modelPath)
		defer C.free(unsafe.Pointer(cpath))
	}
	var out *C.struct_cgp_predictor
	if err := call(func() C.enum_cgp_status { return C.cgp_predictor_open(cpath, C.uint32_t(device), &out) }); err != nil {
		return nil, err
	}
	p := &Predictor{ptr: out}
	runtime.SetFinalizer(p, (*Predictor).Close)
	return p, nil
}

// Close releases the predictor after the calls in flight; later calls fail.
func (p *Predictor) Close() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ptr != nil {
		C.cgp_predictor_free(p.ptr)
		p.ptr = nil
		runtime.SetFinalizer(p, nil)
	}
}

// shared runs a call that many goroutines may make at once.
func (p *Predictor) shared(f func(*C.struct_cgp_predictor) C.enum_cgp_status) error {
	if p == nil {
		return invalid("the predictor is nil")
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.ptr == nil {
		return invalid("the predictor is closed")
	}
	return call(func() C.enum_cgp_status { return f(p.ptr) })
}

// Device is the device that runs the model (DeviceCPU or DeviceCUDA).
func (p *Predictor) Device() (Device, error) {
	var device C.enum_cgp_device
	err := p.shared(func(ptr *C.struct_cgp_predictor) C.enum_cgp_status {
		return C.cgp_predictor_device(ptr, &device)
	})
	return Device(device), err
}

// EmbeddingDim is the width of the model's embeddings.
func (p *Predictor) EmbeddingDim() (int, error) {
	var dim C.size_t
	err := p.shared(func(ptr *C.struct_cgp_predictor) C.enum_cgp_status {
		return C.cgp_predictor_embedding_dim(ptr, &dim)
	})
	return int(dim), err
}

// Members is the number of networks the model averages (1 for a single network); its
// embedding is theirs side by side, EmbeddingDim()/Members() values each, and Adapt and
// AdaptRanking fit one head per member.
func (p *Predictor) Members() (int, error) {
	var members C.size_t
	err := p.shared(func(ptr *C.struct_cgp_predictor) C.enum_cgp_status {
		return C.cgp_predictor_members(ptr, &members)
	})
	return int(members), err
}

// handles are the C graphs of a batch; a nil or closed graph is an error naming its index.
func handles(graphs []*Graph) ([]*C.struct_cgp_graph, error) {
	out := make([]*C.struct_cgp_graph, len(graphs))
	for i, g := range graphs {
		switch {
		case g == nil:
			return nil, invalid("graphs[%d] is nil", i)
		case g.ptr == nil:
			return nil, invalid("graphs[%d] is closed", i)
		}
		out[i] = g.ptr
	}
	return out, nil
}

func handlesPtr(h []*C.struct_cgp_graph) **C.struct_cgp_graph {
	if len(h) == 0 {
		return nil
	}
	return &h[0]
}

// Predict scores a batch of graphs (higher = better predicted accuracy; after Adapt, the
// adapted head's scores).
func (p *Predictor) Predict(graphs []*Graph) ([]float32, error) {
	scores := make([]float32, len(graphs))
	if err := p.PredictInto(graphs, scores); err != nil {
		return nil, err
	}
	return scores, nil
}

// PredictInto writes the scores of a batch into out[:len(graphs)]; a shorter out is
// StatusBufferTooSmall.
func (p *Predictor) PredictInto(graphs []*Graph, out []float32) error {
	h, err := handles(graphs)
	if err != nil {
		return err
	}
	err = p.shared(func(ptr *C.struct_cgp_predictor) C.enum_cgp_status {
		return C.cgp_predict(ptr, handlesPtr(h), C.size_t(len(h)), floatsPtr(out), C.size_t(len(out)))
	})
	runtime.KeepAlive(graphs)
	return err
}

// Rank gives the indices of graphs, best predicted first (cgp_rank).
func (p *Predictor) Rank(graphs []*Graph) ([]int, error) {
	h, err := handles(graphs)
	if err != nil {
		return nil, err
	}
	order := make([]C.size_t, len(graphs))
	var orderPtr *C.size_t
	if len(order) > 0 {
		orderPtr = &order[0]
	}
	err = p.shared(func(ptr *C.struct_cgp_predictor) C.enum_cgp_status {
		return C.cgp_rank(ptr, handlesPtr(h), C.size_t(len(h)), orderPtr)
	})
	runtime.KeepAlive(graphs)
	if err != nil {
		return nil, err
	}
	indices := make([]int, len(order))
	for i, index := range order {
		indices[i] = int(index)
	}
	return indices, nil
}

// Embed gives the model's embeddings of a batch, row-major len(graphs) x EmbeddingDim().
func (p *Predictor) Embed(graphs []*Graph) ([]float32, error) {
	dim, err := p.EmbeddingDim()
	if err != nil {
		return nil, err
	}
	values := make([]float32, len(graphs)*dim)
	if err := p.EmbedInto(graphs, values); err != nil {
		return nil, err
	}
	return values, nil
}

// EmbedInto writes the embeddings of a batch into out, row-major; an out shorter than
// len(graphs) x EmbeddingDim() is StatusBufferTooSmall.
func (p *Predictor) EmbedInto(graphs []*Graph, out []float32) error {
	h, err := handles(graphs)
	if err != nil {
		return err
	}
	err = p.shared(func(ptr *C.struct_cgp_predictor) C.enum_cgp_status {
		return C.cgp_embed(ptr, handlesPtr(h), C.size_t(len(h)), floatsPtr(out), C.size_t(len(out)))
	})
	runtime.KeepAlive(graphs)
	return err
}

// Adapt fits a new head on labeled graphs (closed-form ridge regression on the embeddings;
// labels in any scale, higher = better, at least 2 that differ), which Predict uses from
// then on. On failure the predictor keeps its previous head. It waits for the calls in flight.
func (p *Predictor) Adapt(graphs []*Graph, labels []float32) error {
	return p.fitHead(graphs, labels, func(ptr *C.struct_cgp_predictor, h **C.struct_cgp_graph, y *C.float, n C.size_t) C.enum_cgp_status {
		return C.cgp_predictor_adapt(ptr, h, y, n)
	})
}

// AdaptRanking fits a head for ranking on labeled graphs: on the embeddings and the model's
// own score, against the ranks of the labels (any scale, higher = better), which Predict uses
// from then on, in rank units. Only the order of the labels counts, so a few broken networks
// cannot dominate the fit. On failure the previous head stays.
func (p *Predictor) AdaptRanking(graphs []*Graph, labels []float32) error {
	return p.fitHead(graphs, labels, func(ptr *C.struct_cgp_predictor, h **C.struct_cgp_graph, y *C.float, n C.size_t) C.enum_cgp_status {
		return C.cgp_predictor_adapt_ranking(ptr, h, y, n)
	})
}

// fitHead runs one adaptation call with exclusive access to the predictor.
func (p *Predictor) fitHead(graphs []*Graph, labels []float32, fit func(*C.struct_cgp_predictor, **C.struct_cgp_graph, *C.float, C.size_t) C.enum_cgp_status) error {
	if len(graphs) != len(labels) {
		return invalid("%d graphs but %d labels", len(graphs), len(labels))
	}
	h, err := handles(graphs)
	if err != nil {
		return err
	}
	if p == nil {
		return invalid("the predictor is nil")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ptr == nil {
		return invalid("the predictor is closed")
	}
	err = call(func() C.enum_cgp_status {
		return fit(p.ptr, handlesPtr(h), floatsPtr(labels), C.size_t(len(h)))
	})
	runtime.KeepAlive(graphs)
	return err
}
