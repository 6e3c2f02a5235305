/* Imports an ONNX model's computation graph and predicts its accuracy rank score.
 *
 *   predict NETWORK.onnx [MODEL.onnx]
 *
 * MODEL.onnx is a cgpredict predictor model; without it the default model is used (the file
 * $CGPREDICT_MODEL names, else the model built into the library). ONNX Runtime is found
 * through ORT_DYLIB_PATH or the cache of scripts/fetch-onnxruntime.sh.
 * Build: cc -std=c11 predict.c -Iinclude -Ltarget/release -lcgpredict */
#include "cgpredict.h"

#include <stdio.h>

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s NETWORK.onnx [MODEL.onnx]\n", argv[0]);
        return 2;
    }
    const char *network = argv[1];
    const char *model = argc == 3 ? argv[2] : NULL; /* NULL: the default model */

    cgp_graph *graph = NULL;
    if (cgp_graph_from_onnx_file(network, &graph) != CGP_OK) {
        fprintf(stderr, "cannot import %s: %s\n", network, cgp_last_error_message());
        return 1;
    }
    cgp_predictor *predictor = NULL;
    if (cgp_predictor_open(model, CGP_DEVICE_AUTO, &predictor) != CGP_OK) {
        fprintf(stderr, "cannot open the predictor: %s\n", cgp_last_error_message());
        cgp_graph_free(graph);
        return 1;
    }
    cgp_device device = CGP_DEVICE_CPU;
    float score = 0.0f;
    const cgp_graph *graphs[1] = {graph};
    int ok = cgp_predictor_device(predictor, &device) == CGP_OK &&
             cgp_predict(predictor, graphs, 1, &score, 1) == CGP_OK;
    if (ok) {
        size_t nodes = 0;
        cgp_graph_node_count(graph, &nodes);
        printf("%s: score %.9g (%zu nodes, on %s)\n", network, (double)score, nodes,
               device == CGP_DEVICE_CUDA ? "CUDA" : "the CPU");
    } else {
        fprintf(stderr, "cannot predict: %s\n", cgp_last_error_message());
    }
    cgp_predictor_free(predictor);
    cgp_graph_free(graph);
    return ok ? 0 : 1;
}
