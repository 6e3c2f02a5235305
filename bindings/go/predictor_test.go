package cgpredict

import (
	"fmt"
	"math"
	"sync"
	"testing"
)

// The test model tests/fixtures/runtime/good.onnx: score = mean node features . w + graph
// features . v + 0.25, embedding = mean node features (scripts/make-runtime-test-models.py).
// The first 32 node features are the one-hot op, so each embedding's op block sums to 1.
const (
	opBlock      = 32
	embeddingDim = 52
)

var model = fixture("runtime", "good.onnx")

func nb201Graphs(t *testing.T) []*Graph {
	t.Helper()
	archs := []string{
		"|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|",
		"|avg_pool_3x3~0|+|none~0|skip_connect~1|+|nor_conv_1x1~0|none~1|avg_pool_3x3~2|",
		"|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|",
		"|nor_conv_1x1~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|none~0|nor_conv_1x1~1|nor_conv_3x3~2|",
	}
	graphs := make([]*Graph, len(archs))
	for i, arch := range archs {
		graphs[i] = must(GraphFromNASBench201(arch, 10))
	}
	t.Cleanup(func() {
		for _, g := range graphs {
			g.Close()
		}
	})
	return graphs
}

func openModel(t *testing.T) *Predictor {
	t.Helper()
	p, err := OpenPredictor(model, DeviceCPU)
	if err != nil {
		t.Fatalf("%v (ONNX Runtime missing? run scripts/fetch-onnxruntime.sh)", err)
	}
	t.Cleanup(p.Close)
	return p
}

func near(a, b float32) bool { return math.Abs(float64(a-b)) < 1e-5 }

func TestPredictorOpensOnTheCPU(t *testing.T) {
	p := openModel(t)
	if d := must(p.Device()); d != DeviceCPU {
		t.Errorf("device %v", d)
	}
	if dim := must(p.EmbeddingDim()); dim != embeddingDim {
		t.Errorf("embedding dim %d", dim)
	}
	if members := must(p.Members()); members != 1 {
		t.Errorf("members %d", members)
	}
	// Without CUDA, auto falls back to the CPU.
	auto := must(OpenPredictor(model, DeviceAuto))
	defer auto.Close()
	if d := must(auto.Device()); d != DeviceCPU {
		t.Errorf("auto runs on %v", d)
	}
}

func TestABatchScoresAsOneGraphAtATime(t *testing.T) {
	p := openModel(t)
	graphs := nb201Graphs(t)
	scores := must(p.Predict(graphs))
	if len(scores) != 4 || scores[0] == scores[1] {
		t.Fatalf("scores %v", scores)
	}
	for i, g := range graphs {
		if one := must(p.Predict([]*Graph{g})); !near(one[0], scores[i]) {
			t.Errorf("graph %d alone %v, in the batch %v", i, one[0], scores[i])
		}
	}
	// Into a buffer with room to spare: the rest is untouched.
	out := []float32{-1, -1, -1}
	if err := p.PredictInto(graphs[2:], out); err != nil {
		t.Fatal(err)
	}
	if !near(out[0], scores[2]) || !near(out[1], scores[3]) || out[2] != -1 {
		t.Errorf("into %v, scores %v", out, scores)
	}
	expectError(t, p.PredictInto(graphs, out), StatusBufferTooSmall, "3 floats")
	order := must(p.Rank(graphs))
	for i := 1; i < len(order); i++ {
		if scores[order[i-1]] < scores[order[i]] {
			t.Errorf("rank %v does not follow scores %v", order, scores)
		}
	}
	if empty := must(p.Predict(nil)); len(empty) != 0 {
		t.Errorf("empty batch gave %v", empty)
	}
}

func TestEmbeddingsAreRowsWithAOneHotOpBlock(t *testing.T) {
	p := openModel(t)
	graphs := nb201Graphs(t)
	rows := must(p.Embed(graphs))
	if len(rows) != 4*embeddingDim {
		t.Fatalf("%d values", len(rows))
	}
	for i := 0; i < 4; i++ {
		var sum float32
		for _, x := range rows[i*embeddingDim : i*embeddingDim+opBlock] {
			sum += x
		}
		if math.Abs(float64(sum-1)) > 1e-4 {
			t.Errorf("graph %d: op block sums to %v", i, sum)
		}
	}
	one := make([]float32, embeddingDim)
	if err := p.EmbedInto(graphs[2:3], one); err != nil {
		t.Fatal(err)
	}
	for k, x := range one {
		if !near(x, rows[2*embeddingDim+k]) {
			t.Errorf("feature %d: %v alone, %v in the batch", k, x, rows[2*embeddingDim+k])
		}
	}
	expectError(t, p.EmbedInto(graphs, make([]float32, 4*embeddingDim-1)), StatusBufferTooSmall, "207 floats")
}

func TestAdaptedScoresFollowTheLabels(t *testing.T) {
	p := openModel(t)
	graphs := nb201Graphs(t)
	if err := p.Adapt(graphs, []float32{94, 60, 80, 90}); err != nil {
		t.Fatal(err)
	}
	s := must(p.Predict(graphs))
	if !(s[0] > s[3] && s[3] > s[2] && s[2] > s[1]) {
		t.Errorf("adapted scores %v do not follow 94, 60, 80, 90", s)
	}
	// A failed adaptation keeps the previous head.
	expectError(t, p.Adapt(graphs, []float32{1, 1, 1, 1}), StatusInvalidArgument, "labels are equal")
	expectError(t, p.Adapt(graphs, []float32{1, 2}), StatusInvalidArgument, "4 graphs but 2 labels")
	again := must(p.Predict(graphs))
	for i := range s {
		if again[i] != s[i] {
			t.Errorf("graph %d: %v after a failed adaptation, %v before", i, again[i], s[i])
		}
	}
	// For ranking: the labels' order, in rank units (1 for the worst of 4, 4 for the best).
	if err := p.AdaptRanking(graphs, []float32{94, 60, 80, 90}); err != nil {
		t.Fatal(err)
	}
	r := must(p.Predict(graphs))
	if !(r[0] > r[3] && r[3] > r[2] && r[2] > r[1]) || r[0] < 3.5 || r[1] > 1.5 {
		t.Errorf("ranking scores %v do not follow the ranks 4, 1, 2, 3", r)
	}
	expectError(t, p.AdaptRanking(graphs, []float32{1, 2}), StatusInvalidArgument, "4 graphs but 2 labels")
	expectError(t, p.AdaptRanking(graphs, []float32{1, 1, 1, 1}), StatusInvalidArgument, "labels are equal")
}

func TestConcurrentPredictionsFromManyGoroutines(t *testing.T) {
	p := openModel(t)
	graphs := nb201Graphs(t)
	want := must(p.Predict(graphs))
	const workers, rounds = 8, 25
	var wg sync.WaitGroup
	failures := make(chan string, workers*rounds)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for r := 0; r < rounds; r++ {
				// Each goroutine scores the batch rotated by its number, so that results are
				// matched to their own inputs.
				shift := (w + r) % len(graphs)
				batch := append(append([]*Graph{}, graphs[shift:]...), graphs[:shift]...)
				got, err := p.Predict(batch)
				if err != nil {
					failures <- err.Error()
					return
				}
				for i := range got {
					if expected := want[(i+shift)%len(graphs)]; !near(got[i], expected) {
						failures <- fmt.Sprintf("goroutine %d, round %d, graph %d: %v, expected %v", w, r, i, got[i], expected)
						return
					}
				}
			}
		}(w)
	}
	wg.Wait()
	close(failures)
	for failure := range failures {
		t.Error(failure)
	}
}

func TestAdaptAndCloseWaitForPredictionsInFlight(t *testing.T) {
	p := must(OpenPredictor(model, DeviceCPU))
	graphs := nb201Graphs(t)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := 0; r < 10; r++ {
				if _, err := p.Predict(graphs); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	if err := p.Adapt(graphs, []float32{94, 60, 80, 90}); err != nil {
		t.Error(err)
	}
	wg.Wait()
	p.Close()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	_, err := p.Predict(graphs)
	expectError(t, err, StatusInvalidArgument, "the predictor is closed")
	expectError(t, p.Adapt(graphs, []float32{1, 2, 3, 4}), StatusInvalidArgument, "the predictor is closed")
	p.Close()
}

func TestPredictorErrorsCarryStatusAndMessage(t *testing.T) {
	_, err := OpenPredictor("/nonexistent/model.onnx", DeviceCPU)
	expectError(t, err, StatusIOError, "/nonexistent/model.onnx")
	_, err = OpenPredictor(fixture("runtime", "bad_schema.onnx"), DeviceCPU)
	expectError(t, err, StatusModelError, "schema")
	_, err = OpenPredictor(model, DeviceCUDA)
	expectError(t, err, StatusRuntimeError, "CUDA")
	_, err = OpenPredictor(model, Device(7))
	expectError(t, err, StatusInvalidArgument, "device 7")

	p := openModel(t)
	graphs := nb201Graphs(t)
	closed := must(GraphFromNASBench201("|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|", 10))
	closed.Close()
	_, err = p.Predict([]*Graph{graphs[0], closed})
	expectError(t, err, StatusInvalidArgument, "graphs[1] is closed")
	_, err = p.Embed([]*Graph{nil})
	expectError(t, err, StatusInvalidArgument, "graphs[0] is nil")
	var none *Predictor
	_, err = none.EmbeddingDim()
	expectError(t, err, StatusInvalidArgument, "the predictor is nil")
	_, err = none.Members()
	expectError(t, err, StatusInvalidArgument, "the predictor is nil")
	if DeviceCUDA.String() != "cuda" || Device(9).String() != "cgp_device(9)" {
		t.Errorf("device names %v %v", DeviceCUDA, Device(9))
	}
}
