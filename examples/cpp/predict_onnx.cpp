// Imports an ONNX model as a computation graph and prints its size and predicted score.
// Usage: predict_onnx MODEL.onnx [PREDICTOR.onnx]
// Without PREDICTOR.onnx the model bundled in the library scores the graph.
#include <cgpredict.hpp>

#include <cstdio>

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) {
        std::fprintf(stderr, "usage: %s MODEL.onnx [PREDICTOR.onnx]\n", argv[0]);
        return 2;
    }
    try {
        const cgp::Graph graph = cgp::Graph::from_onnx_file(argv[1]);
        std::printf("%s: %zu nodes, %zu edges, %llu parameters, %llu MACs\n", argv[1], graph.node_count(),
                    graph.edge_count(), static_cast<unsigned long long>(graph.param_count()),
                    static_cast<unsigned long long>(graph.macs()));
        const cgp::Predictor predictor = argc == 3 ? cgp::Predictor(argv[2]) : cgp::Predictor();
        std::printf("score: %.6f\n", predictor.predict(graph));
    } catch (const cgp::Error &error) {
        std::fprintf(stderr, "%s: %s\n", cgp::to_string(error.status()), error.what());
        return 1;
    }
    return 0;
}
