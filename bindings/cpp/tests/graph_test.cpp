// cgp::Graph and the free functions of cgpredict.hpp: counts against numbers worked out by
// hand or published by the benchmarks, spectra against numpy, ONNX import against the
// PyTorch exporter's own counts, and errors as cgp::Error with status and message.
#include "cgpredict.hpp"
#include "expect_error.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <iterator>
#include <type_traits>

namespace {

const std::string repo = CGP_REPO_DIR;

static_assert(!std::is_copy_constructible_v<cgp::Graph> && !std::is_copy_assignable_v<cgp::Graph>);
static_assert(std::is_nothrow_move_constructible_v<cgp::Graph> && std::is_nothrow_move_assignable_v<cgp::Graph>);

cgp::NodeDesc node(const std::string &op, std::uint32_t channels, std::uint32_t kernel) {
    cgp::NodeDesc d;
    d.op = op;
    d.in_h = d.out_h = d.in_w = d.out_w = 32;
    d.in_c = d.out_c = channels;
    d.kernel_h = d.kernel_w = kernel;
    d.stride_h = d.stride_w = d.dilation_h = d.dilation_w = d.groups = kernel ? 1 : 0;
    d.has_bias = op == "batch_norm";
    return d;
}

// input -> conv3x3 -> bn -> relu -> conv3x3 -> bn -> add(+input) -> relu -> output, 16 ch, 32x32.
cgp::Graph residual_block() {
    cgp::Graph g;
    const char *ops[] = {"input", "conv", "batch_norm", "relu", "conv", "batch_norm", "add", "relu", "output"};
    for (std::uint32_t i = 0; i < 9; i++) {
        EXPECT_EQ(g.add_node(node(ops[i], 16, std::string(ops[i]) == "conv" ? 3 : 0)), i);
    }
    const std::uint32_t edges[][2] = {{0, 1}, {1, 2}, {2, 3}, {3, 4}, {4, 5}, {5, 6}, {0, 6}, {6, 7}, {7, 8}};
    for (const auto &e : edges) g.add_edge(e[0], e[1]);
    return g;
}

}  // namespace

TEST(Library, VersionIsTheHeaders) { EXPECT_EQ(cgp::version(), CGP_VERSION_STRING); }

TEST(Graph, ResidualBlockCountsAreTheHandCountedOnes) {
    const cgp::Graph g = residual_block();
    EXPECT_EQ(g.node_count(), 9u);
    EXPECT_EQ(g.edge_count(), 9u);
    // Two 3x3 convs of 16*16*9 weights (no bias) and two affine BNs of 2*16.
    EXPECT_EQ(g.param_count(), 2u * 2304 + 2 * 32);
    // Each conv: 32*32*16 outputs times 16*9 MACs.
    EXPECT_EQ(g.macs(), 2ull * 32 * 32 * 16 * 16 * 9);
}

TEST(Graph, JsonRoundTripIsExactAndDotHasTheEdges) {
    const cgp::Graph g = residual_block();
    const std::string json = g.to_json();
    const cgp::Graph back = cgp::Graph::from_json(json);
    EXPECT_EQ(back.to_json(), json);
    EXPECT_EQ(back.param_count(), g.param_count());
    EXPECT_NE(back.to_dot().find("n0 -> n6;"), std::string::npos);
}

TEST(Graph, MovesTransferTheHandle) {
    cgp::Graph a = residual_block();
    const cgp_graph *handle = a.get();
    cgp::Graph b = std::move(a);
    EXPECT_EQ(b.get(), handle);
    EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move): a moved-from Graph is empty by contract
    expect_error([&] { (void)a.node_count(); }, cgp::Status::invalid_argument, "g is NULL");
    cgp::Graph c;
    c = std::move(b);
    EXPECT_EQ(c.node_count(), 9u);
    cgp_graph *raw = c.release();
    EXPECT_FALSE(c);
    cgp::Graph adopted(raw);
    EXPECT_EQ(adopted.edge_count(), 9u);
}

TEST(Graph, RefusedNodesAndEdgesThrowAndLeaveTheGraphUnchanged) {
    cgp::Graph g = residual_block();
    expect_error([&] { g.add_node(node("rleu", 16, 0)); }, cgp::Status::invalid_argument,
                 "\"rleu\" is not in the vocabulary");
    cgp::NodeDesc zero = node("conv", 16, 3);
    zero.out_h = 0;
    expect_error([&] { g.add_node(zero); }, cgp::Status::invalid_argument, "output h is 0");
    expect_error([&] { g.add_edge(0, 99); }, cgp::Status::invalid_argument, "target node 99 does not exist");
    expect_error([&] { g.add_edge(8, 0); }, cgp::Status::invalid_argument, "cycle");
    EXPECT_EQ(g.node_count(), 9u);
    EXPECT_EQ(g.edge_count(), 9u);
    expect_error([] { cgp::Graph::from_json("{\"format\": \"cgpredict-graph\", \"version\": 1, \"nodes\": ["); },
                 cgp::Status::parse_error, "graph JSON");
    // The message of the last failure is also readable afterwards, as in C.
    EXPECT_NE(cgp::last_error_message().find("graph JSON"), std::string::npos);
}

TEST(Limits, GraphsAndModelsBeyondThemThrowNamingTheLimit) {
    const std::string json = residual_block().to_json();
    cgp::Limits limits;
    EXPECT_EQ(cgp::Graph::from_json(json, limits).node_count(), 9u);
    limits.max_nodes(8);
    expect_error([&] { cgp::Graph::from_json(json, limits); }, cgp::Status::unsupported,
                 "9 nodes, more than the limit max_nodes = 8");
    limits.max_nodes(9).max_edges(8);
    expect_error([&] { cgp::Graph::from_json(json, limits); }, cgp::Status::unsupported, "max_edges = 8");
    expect_error([&] { limits.max_edges(0); }, cgp::Status::invalid_argument, "max_edges must be at least 1");

    const std::string path = repo + "/tests/fixtures/onnx/nb201_best.onnx";
    cgp::Limits small;
    small.max_onnx_bytes(1000);
    expect_error([&] { cgp::Graph::from_onnx_file(path, small); }, cgp::Status::unsupported, "max_onnx_bytes = 1000");
    std::ifstream file(path, std::ios::binary);
    const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    expect_error([&] { cgp::Graph::from_onnx_bytes(bytes, small); }, cgp::Status::unsupported, "max_onnx_bytes");
    EXPECT_GT(cgp::Graph::from_onnx_bytes(bytes, cgp::Limits()).node_count(), 0u);
    EXPECT_GT(cgp::Graph::from_onnx_file(path, cgp::Limits()).node_count(), 0u);
}

TEST(Benchmarks, NasBench101CellHasTheHandCountedParameters) {
    // input -> conv1x1 -> output plus input -> output; see tests/c/benchmarks_api.c for the count.
    const std::vector<std::uint8_t> adjacency = {0, 1, 1, 0, 0, 1, 0, 0, 0};
    const std::vector<std::string> ops = {"input", "conv1x1-bn-relu", "output"};
    std::uint64_t expected = 3712 + 5130;
    for (std::uint64_t stack = 0; stack < 3; stack++) {
        const std::uint64_t c = 128u << stack;
        for (int cell = 0; cell < 3; cell++) {
            const std::uint64_t in = (stack > 0 && cell == 0) ? c / 2 : c;
            expected += 2 * (in * c + 2 * c) + (c * c + 2 * c);
        }
    }
    EXPECT_EQ(cgp::Graph::from_nasbench101(adjacency, ops).param_count(), expected);
    const char *const raw_ops[3] = {"input", "conv1x1-bn-relu", "output"};
    EXPECT_EQ(cgp::Graph::from_nasbench101(adjacency.data(), 3, raw_ops).param_count(), expected);
    expect_error([&] { cgp::Graph::from_nasbench101({0, 1, 0}, ops); }, cgp::Status::invalid_argument,
                 "3 entries, 9 expected");
    expect_error([&] { cgp::Graph::from_nasbench101(adjacency, {"input", "conv1x1", "output"}); },
                 cgp::Status::invalid_argument, "ops[1] = \"conv1x1\" is not a NAS-Bench-101 op");
}

TEST(Benchmarks, NasBench201LargestNetworkHasThePublishedParameters) {
    const std::string all_conv =
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|";
    EXPECT_EQ(cgp::Graph::from_nasbench201(all_conv).param_count(), 1531546u);
    EXPECT_EQ(cgp::Graph::from_nasbench201(all_conv, 100).param_count(), 1537396u);
    expect_error([] { cgp::Graph::from_nasbench201("|nor_conv_3x3~0|"); }, cgp::Status::parse_error,
                 "1 node(s) separated by '+'");
}

TEST(Benchmarks, DartsV2HasTheHandCountedNodes) {
    const std::string v2 =
        R"({"normal": [["sep_conv_3x3", 0], ["sep_conv_3x3", 1], ["sep_conv_3x3", 0], ["sep_conv_3x3", 1],)"
        R"( ["sep_conv_3x3", 1], ["skip_connect", 0], ["skip_connect", 0], ["dil_conv_3x3", 2]],)"
        R"( "reduce": [["max_pool_3x3", 0], ["max_pool_3x3", 1], ["skip_connect", 2], ["max_pool_3x3", 1],)"
        R"( ["max_pool_3x3", 0], ["skip_connect", 2], ["skip_connect", 2], ["max_pool_3x3", 1]]})";
    EXPECT_EQ(cgp::Graph::from_darts(v2).node_count(), 372u);
    expect_error([] { cgp::Graph::from_darts(R"({"normal": [], "reduce": []})"); }, cgp::Status::parse_error,
                 "normal has 0 [op, input] pairs");
}

TEST(Benchmarks, OfaLargestSubnetHasTheHandCountedParameters) {
    std::array<std::uint8_t, 20> ks{}, e{};
    std::array<std::uint8_t, 5> d{};
    ks.fill(7);
    e.fill(6);
    d.fill(4);
    EXPECT_EQ(cgp::Graph::from_ofa_mbv3(ks, e, d).param_count(), 7664760u);
    d[2] = 5;
    expect_error([&] { cgp::Graph::from_ofa_mbv3(ks, e, d, 224); }, cgp::Status::invalid_argument, "d[2] = 5");
}

TEST(Onnx, ImportedNb201ModelHasTheExportersCounts) {
    // tests/fixtures/onnx/nb201_expected.json: PyTorch's parameter count with BN folded into the
    // convolutions (as the canonical form does) and its MACs.
    const std::string path = repo + "/tests/fixtures/onnx/nb201_best.onnx";
    const cgp::Graph g = cgp::Graph::from_onnx_file(path);
    EXPECT_EQ(g.param_count(), 1285498u);
    EXPECT_EQ(g.macs(), 184730240u);
    const std::string report = cgp::onnx_last_report_json();
    EXPECT_NE(report.find("\"opset\": 18"), std::string::npos) << report;
    EXPECT_NE(report.find("\"onnx_nodes\": 185"), std::string::npos) << report;

    std::ifstream file(path, std::ios::binary);
    const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    const cgp::Graph same = cgp::Graph::from_onnx_bytes(bytes);
    EXPECT_EQ(same.to_json(), g.to_json());

    expect_error([] { cgp::Graph::from_onnx_file("/nonexistent/model.onnx"); }, cgp::Status::io_error,
                 "/nonexistent/model.onnx");
    const std::vector<std::uint8_t> garbage = {0xff, 0xff, 0xff, 0xff};
    expect_error([&] { cgp::Graph::from_onnx_bytes(garbage); }, cgp::Status::parse_error, "");
}

TEST(Onnx, OptionsGiveInputShapesByName) {
    // The 32x32 network at 64x64: four times the MACs except the 64 x 10 classifier after
    // global pooling (184,730,240 - 640 at 32x32).
    const std::string path = repo + "/tests/fixtures/onnx/nb201_best.onnx";
    cgp::OnnxOptions options;
    options.input_shape("image", {1, 3, 64, 64});
    EXPECT_EQ(cgp::Graph::from_onnx_file(path, options).macs(), 4u * (184730240u - 640u) + 640u);
    std::ifstream file(path, std::ios::binary);
    const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    EXPECT_EQ(cgp::Graph::from_onnx_bytes(bytes, options).macs(), 738919040u);

    cgp::OnnxOptions first;
    first.first_input_shape({1, 3, 64, 64});
    EXPECT_EQ(cgp::Graph::from_onnx_file(path, first).macs(), 738919040u);
    first.input_shape("mask", {1, 8});
    expect_error([&] { cgp::Graph::from_onnx_file(path, first); }, cgp::Status::invalid_argument,
                 "'mask', which is not a data input of the graph (its data inputs: 'image')");
    expect_error([&] { options.input_shape("image", {1, 0}); }, cgp::Status::invalid_argument, "size 0 at axis 1");
    cgp::Limits small;
    small.max_onnx_bytes(1000);
    options.limits(small);
    expect_error([&] { cgp::Graph::from_onnx_file(path, options); }, cgp::Status::unsupported, "max_onnx_bytes = 1000");
}

TEST(Spectral, ResidualBlockSpectrumIsNumpys) {
    // numpy eigvalsh of networkx's normalized Laplacian, 2 zeros in front for k = 11
    // (tests/fixtures/spectral/expected.json).
    const double numpy[11] = {0.0, 0.0, 3.5111764798795554e-16, 0.18635511932595783, 0.37651019814126624,
                              0.5292802085515094, 1.1724732315097968, 1.2225209339563146, 1.6689040070510937,
                              1.9009688679024193, 1.942987433561641};
    const cgp::Graph g = residual_block();
    const std::vector<double> values = g.spectrum();
    ASSERT_EQ(values.size(), 11u);
    for (int i = 0; i < 11; i++) EXPECT_NEAR(values[i], numpy[i], 1e-8) << i;
    double buffer[12];
    std::fill(std::begin(buffer), std::end(buffer), -1.0);
    g.spectrum(11, buffer, 12);
    EXPECT_EQ(buffer[11], -1.0);
    EXPECT_NEAR(buffer[10], numpy[10], 1e-8);
    expect_error([&] { g.spectrum(11, buffer, 10); }, cgp::Status::buffer_too_small, "room for 10 values but k = 11");
    expect_error([&] { (void)g.spectrum(0); }, cgp::Status::invalid_argument, "at least 1");
}

TEST(Spectral, DistanceOfTwoPathsIsTheClosedForm) {
    // Paths of identity nodes: P4's spectrum is 0, 1/2, 3/2, 2 and P5's 0, 1-c, 1, 1+c, 2
    // with c = cos(pi/4); k = 5 puts a 0 in front of P4's.
    auto path = [](std::uint32_t n) {
        cgp::Graph g;
        cgp::NodeDesc d;
        d.op = "identity";
        d.in_h = d.in_w = d.in_c = d.out_h = d.out_w = d.out_c = 1;
        for (std::uint32_t i = 0; i < n; i++) g.add_node(d);
        for (std::uint32_t i = 1; i < n; i++) g.add_edge(i - 1, i);
        return g;
    };
    const double c = std::cos(std::acos(-1.0) / 4);
    const double distance = cgp::spectral_distance(path(4), path(5), 5);
    EXPECT_NEAR(distance * distance, (1 - c) * (1 - c) + 0.25 + (0.5 - c) * (0.5 - c), 1e-12);
    EXPECT_EQ(cgp::spectral_distance(path(4), path(4)), 0.0);
    expect_error([&] { cgp::spectral_distance(cgp::Graph(), path(4), 3); }, cgp::Status::invalid_argument,
                 "first graph: the graph has no nodes");
}
