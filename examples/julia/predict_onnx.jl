# Imports an ONNX model as a computation graph and prints its size and predicted score.
#   CGPREDICT_LIBRARY=PREFIX/lib/libcgpredict.so \
#       julia --project=bindings/julia/CGPredict examples/julia/predict_onnx.jl MODEL.onnx [PREDICTOR.onnx]
# Without PREDICTOR.onnx the model bundled in the library scores the graph.
using CGPredict
using Printf

function main(args)
    if !(1 <= length(args) <= 2)
        println(stderr, "usage: predict_onnx.jl MODEL.onnx [PREDICTOR.onnx]")
        exit(2)
    end
    try
        graph = graph_from_onnx_file(args[1])
        @printf("%s: %d nodes, %d edges, %d parameters, %d MACs\n", args[1], node_count(graph),
                edge_count(graph), param_count(graph), macs(graph))
        predictor = Predictor(length(args) == 2 ? args[2] : nothing)
        @printf("score: %.6f\n", predict(predictor, graph))
    catch error
        error isa CGPredictError || rethrow()
        println(stderr, error.status, ": ", error.message)
        exit(1)
    end
end

main(ARGS)
