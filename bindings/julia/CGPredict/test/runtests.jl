# Tests of the Julia bindings, as the C++ and Go ones: counts against numbers worked out by hand
# or published by the benchmarks, spectra against numpy, ONNX import against the exporter's
# counts, the test model's scores, and errors as CGPredictError. Run from the repository with
#   CGPREDICT_LIBRARY=PREFIX/lib/libcgpredict.so julia --project=bindings/julia/CGPredict \
#       -e 'using Pkg; Pkg.test()'
# (ONNX Runtime as for every binding: scripts/fetch-onnxruntime.sh.)
using CGPredict
using CGPredict: CGP_OK, CGP_INVALID_ARGUMENT, CGP_PARSE_ERROR, CGP_IO_ERROR, CGP_MODEL_ERROR,
                 CGP_RUNTIME_ERROR, CGP_BUFFER_TOO_SMALL, CGP_DEVICE_AUTO, CGP_DEVICE_CPU, CGP_DEVICE_CUDA
using Test

const REPO = normpath(joinpath(@__DIR__, "..", "..", "..", ".."))
fixture(parts...) = joinpath(REPO, "tests", "fixtures", parts...)
const MODEL = fixture("runtime", "good.onnx")

# The call must throw a CGPredictError of `status` whose message contains `fragment`.
function throws_status(f, status, fragment)
    try
        f()
    catch error
        error isa CGPredictError || rethrow()
        return error.status == status && occursin(fragment, error.message)
    end
    return false
end

node(op, channels, kernel) = NodeDesc(op; input=(32, 32, channels), output=(32, 32, channels),
                                      kernel=(kernel, kernel), stride=kernel > 0 ? (1, 1) : (0, 0),
                                      dilation=kernel > 0 ? (1, 1) : (0, 0), groups=kernel > 0 ? 1 : 0,
                                      has_bias=op == "batch_norm")

# input -> conv3x3 -> bn -> relu -> conv3x3 -> bn -> add(+input) -> relu -> output, 16 ch, 32x32.
function residual_block()
    g = Graph()
    for (i, op) in enumerate(["input", "conv", "batch_norm", "relu", "conv", "batch_norm", "add", "relu", "output"])
        @test add_node!(g, node(op, 16, op == "conv" ? 3 : 0)) == i - 1
    end
    for (a, b) in [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 6), (0, 6), (6, 7), (7, 8)]
        add_edge!(g, a, b)
    end
    return g
end

const NB201 = [
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|",
    "|avg_pool_3x3~0|+|none~0|skip_connect~1|+|nor_conv_1x1~0|none~1|avg_pool_3x3~2|",
    "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|",
    "|nor_conv_1x1~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|none~0|nor_conv_1x1~1|nor_conv_3x3~2|",
]

@testset "CGPredict" begin
    @testset "version, statuses, devices" begin
        @test library_version() == "0.1.0"
        @test Status(7) == CGP_BUFFER_TOO_SMALL && Integer(CGP_OK) == 0
        @test Device(2) == CGP_DEVICE_CUDA && Integer(CGP_DEVICE_AUTO) == 0
        @test sprint(showerror, CGPredictError(CGP_IO_ERROR, "no such file")) == "CGPredictError(CGP_IO_ERROR): no such file"
    end

    @testset "residual block counts" begin
        g = residual_block()
        @test node_count(g) == 9
        @test edge_count(g) == 9
        @test param_count(g) == 2 * 2304 + 2 * 32  # two 3x3 convs of 16*16*9, two affine BNs
        @test macs(g) == 2 * 32 * 32 * 16 * 16 * 9
        @test sprint(show, g) == "CGPredict.Graph(9 nodes, 9 edges, 4672 parameters, 4718592 MACs)"
        json = to_json(g)
        back = graph_from_json(json)
        @test to_json(back) == json
        @test occursin("n0 -> n6;", to_dot(back))
        @test throws_status(() -> add_node!(g, node("rleu", 16, 0)), CGP_INVALID_ARGUMENT, "\"rleu\" is not in the vocabulary")
        @test throws_status(() -> add_edge!(g, 8, 0), CGP_INVALID_ARGUMENT, "cycle")
        @test throws_status(() -> graph_from_json("{\"format\": \"cgpredict-graph\", \"version\": 1, \"nodes\": ["),
                            CGP_PARSE_ERROR, "graph JSON")
        @test node_count(g) == 9
        close(g)
        close(g)
        @test sprint(show, g) == "CGPredict.Graph(closed)"
        @test throws_status(() -> node_count(g), CGP_INVALID_ARGUMENT, "the graph is closed")
    end

    @testset "ONNX options" begin
        # The 32x32 network at 64x64: four times the MACs but for the 64 x 10 classifier.
        model = fixture("onnx", "nb201_best.onnx")
        options = set_input_shape!(OnnxOptions(), "image", [1, 3, 64, 64])
        @test macs(graph_from_onnx_file(model, options)) == 4 * (184730240 - 640) + 640
        @test macs(graph_from_onnx_bytes(read(model), options)) == 738919040
        first = set_first_input_shape!(OnnxOptions(), [1, 3, 64, 64])
        @test macs(graph_from_onnx_file(model, first)) == 738919040
        set_input_shape!(first, "mask", [1, 8])
        @test throws_status(() -> graph_from_onnx_file(model, first), CGP_INVALID_ARGUMENT,
                            "'mask', which is not a data input of the graph (its data inputs: 'image')")
        @test throws_status(() -> set_input_shape!(options, "image", [1, 0]), CGP_INVALID_ARGUMENT, "size 0 at axis 1")
        set_limits!(options, set_max_onnx_bytes!(Limits(), 1000))
        @test throws_status(() -> graph_from_onnx_file(model, options), CGP_UNSUPPORTED, "max_onnx_bytes = 1000")
        close(options)
        close(options)
        @test throws_status(() -> graph_from_onnx_file(model, options), CGP_INVALID_ARGUMENT, "the ONNX options are closed")
    end

    @testset "limits" begin
        json = to_json(residual_block())
        limits = Limits()
        @test node_count(graph_from_json(json, limits)) == 9
        set_max_nodes!(limits, 8)
        @test throws_status(() -> graph_from_json(json, limits), CGP_UNSUPPORTED, "9 nodes, more than the limit max_nodes = 8")
        set_max_edges!(set_max_nodes!(limits, 9), 8)
        @test throws_status(() -> graph_from_json(json, limits), CGP_UNSUPPORTED, "max_edges = 8")
        @test throws_status(() -> set_max_edges!(limits, 0), CGP_INVALID_ARGUMENT, "max_edges must be at least 1")
        model = fixture("onnx", "nb201_best.onnx")
        set_max_onnx_bytes!(limits, 1000)
        @test throws_status(() -> graph_from_onnx_file(model, limits), CGP_UNSUPPORTED, "max_onnx_bytes = 1000")
        @test throws_status(() -> graph_from_onnx_bytes(read(model), limits), CGP_UNSUPPORTED, "max_onnx_bytes = 1000")
        @test node_count(graph_from_onnx_file(model, Limits())) > 0
        @test node_count(graph_from_onnx_bytes(read(model), Limits())) > 0
        close(limits)
        close(limits)
        @test throws_status(() -> graph_from_json(json, limits), CGP_INVALID_ARGUMENT, "the limits are closed")
    end

    @testset "benchmark families" begin
        # NAS-Bench-101: input -> conv1x1 -> output plus input -> output (tests/c/benchmarks_api.c).
        expected = 3712 + 5130
        for stack in 0:2, cell in 0:2
            c = 128 << stack
            inp = stack > 0 && cell == 0 ? c ÷ 2 : c
            expected += 2 * (inp * c + 2 * c) + (c * c + 2 * c)
        end
        adjacency = [0 1 1; 0 0 1; 0 0 0]
        @test param_count(graph_from_nasbench101(adjacency, ["input", "conv1x1-bn-relu", "output"])) == expected
        @test throws_status(() -> graph_from_nasbench101(adjacency, ["input", "conv1x1", "output"]),
                            CGP_INVALID_ARGUMENT, "ops[1] = \"conv1x1\" is not a NAS-Bench-101 op")
        # NAS-Bench-201's largest network, as published.
        all_conv = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
        @test param_count(graph_from_nasbench201(all_conv)) == 1531546
        @test param_count(graph_from_nasbench201(all_conv, 100)) == 1537396
        @test throws_status(() -> graph_from_nasbench201("|nor_conv_3x3~0|"), CGP_PARSE_ERROR, "separated by '+'")
        # DARTS-V2 at NAS-Bench-301's size: 372 nodes.
        v2 = """{"normal": [["sep_conv_3x3", 0], ["sep_conv_3x3", 1], ["sep_conv_3x3", 0], ["sep_conv_3x3", 1],
                ["sep_conv_3x3", 1], ["skip_connect", 0], ["skip_connect", 0], ["dil_conv_3x3", 2]],
                "reduce": [["max_pool_3x3", 0], ["max_pool_3x3", 1], ["skip_connect", 2], ["max_pool_3x3", 1],
                ["max_pool_3x3", 0], ["skip_connect", 2], ["skip_connect", 2], ["max_pool_3x3", 1]]}"""
        @test node_count(graph_from_darts(v2)) == 372
        # OFA-MBv3's largest subnet at 224.
        @test param_count(graph_from_ofa_mbv3(fill(7, 20), fill(6, 20), fill(4, 5))) == 7664760
        @test throws_status(() -> graph_from_ofa_mbv3(fill(7, 20), fill(6, 20), [4, 4, 5, 4, 4]),
                            CGP_INVALID_ARGUMENT, "d[2] = 5")
        @test throws_status(() -> graph_from_ofa_mbv3(fill(7, 19), fill(6, 20), fill(4, 5)),
                            CGP_INVALID_ARGUMENT, "ks has 19 entries")
    end

    @testset "ONNX import" begin
        # tests/fixtures/onnx/nb201_expected.json: PyTorch's counts, BN folded.
        path = fixture("onnx", "nb201_best.onnx")
        g = graph_from_onnx_file(path)
        report = onnx_last_report_json()
        @test param_count(g) == 1285498
        @test macs(g) == 184730240
        @test occursin("\"opset\": 18", report)
        @test to_json(graph_from_onnx_bytes(read(path))) == to_json(g)
        @test throws_status(() -> graph_from_onnx_file("/nonexistent/model.onnx"), CGP_IO_ERROR, "/nonexistent/model.onnx")
    end

    @testset "spectra" begin
        numpy = [0.0, 0.0, 3.5111764798795554e-16, 0.18635511932595783, 0.37651019814126624,
                 0.5292802085515094, 1.1724732315097968, 1.2225209339563146, 1.6689040070510937,
                 1.9009688679024193, 1.942987433561641]
        @test maximum(abs.(spectrum(residual_block()) .- numpy)) < 1e-8
        function path(n)
            g = Graph()
            for i in 0:n-1
                add_node!(g, NodeDesc("identity"; input=(1, 1, 1), output=(1, 1, 1)))
                i > 0 && add_edge!(g, i - 1, i)
            end
            return g
        end
        c = cos(pi / 4)
        d = spectral_distance(path(4), path(5), 5)
        @test abs(d^2 - ((1 - c)^2 + 0.25 + (0.5 - c)^2)) < 1e-12
        @test spectral_distance(path(4), path(4)) == 0
        @test throws_status(() -> spectrum(path(4), 0), CGP_INVALID_ARGUMENT, "at least 1")
    end

    @testset "predictor" begin
        p = Predictor(MODEL; device=CGP_DEVICE_CPU)
        @test device(p) == CGP_DEVICE_CPU
        @test embedding_dim(p) == 52
        @test members(p) == 1
        @test sprint(show, p) == "CGPredict.Predictor(CGP_DEVICE_CPU, embedding_dim=52)"
        graphs = [graph_from_nasbench201(arch) for arch in NB201]
        scores = predict(p, graphs)
        @test length(scores) == 4 && scores[1] != scores[2]
        @test all(abs(predict(p, graphs[i]) - scores[i]) < 1e-5 for i in 1:4)
        buffer = fill(-1.0f0, 5)
        predict!(buffer, p, graphs[2:3])
        @test abs(buffer[1] - scores[2]) < 1e-5 && buffer[3] == -1
        @test throws_status(() -> predict!(zeros(Float32, 3), p, graphs), CGP_BUFFER_TOO_SMALL, "3 floats")
        @test rank(p, graphs) == sortperm(scores; rev=true)
        # One column per graph; the first 32 features are the one-hot op, so they sum to 1.
        e = embed(p, graphs)
        @test size(e) == (52, 4)
        @test all(abs(sum(e[1:32, i]) - 1) < 1e-4 for i in 1:4)
        @test maximum(abs.(embed(p, graphs[3:3])[:, 1] .- e[:, 3])) < 1e-5
        adapt!(p, graphs, [94, 60, 80, 90])
        s = predict(p, graphs)
        @test s[1] > s[4] > s[3] > s[2]
        @test throws_status(() -> adapt!(p, graphs, [1, 1, 1, 1]), CGP_INVALID_ARGUMENT, "labels are equal")
        @test predict(p, graphs) == s
        # For ranking: the labels' order, in rank units (1 for the worst of 4, 4 for the best).
        adapt_ranking!(p, graphs, [94, 60, 80, 90])
        r = predict(p, graphs)
        @test r[1] > r[4] > r[3] > r[2] && r[1] > 3.5 && r[2] < 1.5
        @test throws_status(() -> adapt_ranking!(p, graphs, [1, 2]), CGP_INVALID_ARGUMENT, "4 graphs but 2 labels")
        adapt!(p, graphs, [94, 60, 80, 90])
        # Threads share one predictor.
        results = Vector{Vector{Float32}}(undef, 8)
        Threads.@threads for t in 1:8
            results[t] = predict(p, graphs)
        end
        @test all(r == s for r in results)
        close(p)
        @test throws_status(() -> predict(p, graphs), CGP_INVALID_ARGUMENT, "the predictor is closed")
        @test throws_status(() -> Predictor("/nonexistent/model.onnx"), CGP_IO_ERROR, "/nonexistent/model.onnx")
        @test throws_status(() -> Predictor(fixture("runtime", "bad_schema.onnx")), CGP_MODEL_ERROR, "schema")
        @test throws_status(() -> Predictor(MODEL; device=CGP_DEVICE_CUDA), CGP_RUNTIME_ERROR, "CUDA")
    end
end
