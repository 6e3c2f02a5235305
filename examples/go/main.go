// Command predict_onnx imports an ONNX model as a computation graph and prints its size and
// predicted score.
//
//	go run . MODEL.onnx [PREDICTOR.onnx]
//
// Without PREDICTOR.onnx the model bundled in the library scores the graph. The cgpredict
// library is found through pkg-config (PKG_CONFIG_PATH=PREFIX/lib/pkgconfig).
package main

import (
	"errors"
	"fmt"
	"os"

	"cgpredict"
)

func main() {
	if len(os.Args) < 2 || len(os.Args) > 3 {
		fmt.Fprintf(os.Stderr, "usage: %s MODEL.onnx [PREDICTOR.onnx]\n", os.Args[0])
		os.Exit(2)
	}
	if err := run(os.Args[1:]); err != nil {
		var cgErr *cgpredict.Error
		if errors.As(err, &cgErr) {
			fmt.Fprintf(os.Stderr, "%s: %s\n", cgErr.Status, cgErr.Message)
		} else {
			fmt.Fprintln(os.Stderr, err)
		}
		os.Exit(1)
	}
}

func run(args []string) error {
	graph, err := cgpredict.GraphFromONNXFile(args[0])
	if err != nil {
		return err
	}
	defer graph.Close()
	nodes, err := graph.NodeCount()
	if err != nil {
		return err
	}
	edges, err := graph.EdgeCount()
	if err != nil {
		return err
	}
	params, err := graph.ParamCount()
	if err != nil {
		return err
	}
	macs, err := graph.MACs()
	if err != nil {
		return err
	}
	fmt.Printf("%s: %d nodes, %d edges, %d parameters, %d MACs\n", args[0], nodes, edges, params, macs)

	modelPath := "" // the model bundled in the library
	if len(args) == 2 {
		modelPath = args[1]
	}
	predictor, err := cgpredict.OpenPredictor(modelPath, cgpredict.DeviceAuto)
	if err != nil {
		return err
	}
	defer predictor.Close()
	scores, err := predictor.Predict([]*cgpredict.Graph{graph})
	if err != nil {
		return err
	}
	fmt.Printf("score: %.6f\n", scores[0])
	return nil
}
