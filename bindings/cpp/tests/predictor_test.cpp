// cgp::Predictor with the test model tests/fixtures/runtime/good.onnx (score = mean node
// features . w + graph features . v + 0.25, embedding = mean node features; see
// scripts/make-runtime-test-models.py): every batch form gives the scores of one graph at a
// time, embeddings have the one-hot op block that sums to 1, adaptation follows the labels,
// threads share one predictor, and errors carry status and message.
#include "cgpredict.hpp"
#include "expect_error.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <thread>
#include <type_traits>

namespace {

const std::string repo = CGP_REPO_DIR;
const std::string model = repo + "/tests/fixtures/runtime/good.onnx";

static_assert(!std::is_copy_constructible_v<cgp::Predictor> && !std::is_copy_assignable_v<cgp::Predictor>);
static_assert(std::is_nothrow_move_constructible_v<cgp::Predictor>);

// The node features' first 32 entries are the one-hot op (src/features).
constexpr std::size_t op_block = 32;
constexpr std::size_t dim = 52;

std::vector<cgp::Graph> nb201_graphs() {
    const char *archs[4] = {
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|",
        "|avg_pool_3x3~0|+|none~0|skip_connect~1|+|nor_conv_1x1~0|none~1|avg_pool_3x3~2|",
        "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|",
        "|nor_conv_1x1~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|none~0|nor_conv_1x1~1|nor_conv_3x3~2|",
    };
    std::vector<cgp::Graph> graphs;
    for (const char *arch : archs) graphs.push_back(cgp::Graph::from_nasbench201(arch));
    return graphs;
}

}  // namespace

TEST(Predictor, OpensOnTheCpu) {
    const cgp::Predictor p(model, cgp::Device::cpu);
    EXPECT_EQ(p.device(), cgp::Device::cpu);
    EXPECT_EQ(p.embedding_dim(), dim);
    EXPECT_EQ(p.members(), 1u);
    // Without CUDA, automatic falls back to the CPU.
    EXPECT_EQ(cgp::Predictor(model).device(), cgp::Device::cpu);
}

TEST(Predictor, EveryBatchFormScoresAsOneGraphAtATime) {
    const cgp::Predictor p(model, cgp::Device::cpu);
    const std::vector<cgp::Graph> graphs = nb201_graphs();
    const std::vector<float> scores = p.predict(graphs);
    ASSERT_EQ(scores.size(), 4u);
    EXPECT_NE(scores[0], scores[1]);
    for (std::size_t i = 0; i < 4; i++) EXPECT_NEAR(p.predict(graphs[i]), scores[i], 1e-5) << i;

    // Pointers to graphs held elsewhere, in another order.
    const std::vector<const cgp::Graph *> reversed = {&graphs[3], &graphs[2], &graphs[1], &graphs[0]};
    const std::vector<float> backwards = p.predict(reversed);
    for (std::size_t i = 0; i < 4; i++) EXPECT_NEAR(backwards[3 - i], scores[i], 1e-5) << i;

    // A sub-range by pointer and count, into a caller's buffer with room to spare.
    float buffer[5] = {-1, -1, -1, -1, -1};
    p.predict(graphs.data() + 1, 2, buffer, 5);
    EXPECT_NEAR(buffer[0], scores[1], 1e-5);
    EXPECT_NEAR(buffer[1], scores[2], 1e-5);
    EXPECT_EQ(buffer[2], -1);

    // Raw handles, as from C code.
    const cgp_graph *handles[2] = {graphs[3].get(), graphs[0].get()};
    p.predict(handles, 2, buffer, 2);
    EXPECT_NEAR(buffer[0], scores[3], 1e-5);
    EXPECT_NEAR(buffer[1], scores[0], 1e-5);

    EXPECT_TRUE(p.predict(std::vector<cgp::Graph>{}).empty());

    // Rank: indices best predicted first, by the same scores.
    const std::vector<std::size_t> order = p.rank(graphs);
    ASSERT_EQ(order.size(), 4u);
    for (std::size_t i = 1; i < 4; i++) EXPECT_GE(scores[order[i - 1]], scores[order[i]]) << i;
    EXPECT_EQ(p.rank(handles, 2).size(), 2u);
}

TEST(Predictor, EmbeddingsAreRowsWithAOneHotOpBlock) {
    const cgp::Predictor p(model, cgp::Device::cpu);
    const std::vector<cgp::Graph> graphs = nb201_graphs();
    const std::vector<float> rows = p.embed(graphs);
    ASSERT_EQ(rows.size(), 4 * dim);
    for (std::size_t i = 0; i < 4; i++) {
        float sum = 0;
        for (std::size_t k = 0; k < op_block; k++) sum += rows[i * dim + k];
        EXPECT_NEAR(sum, 1.0f, 1e-4) << "graph " << i;
    }
    // Each form puts graph i's row at the same place.
    const std::vector<float> one = p.embed(&graphs[2], 1);
    const std::vector<float> by_pointer = p.embed(std::vector<const cgp::Graph *>{&graphs[2]});
    std::vector<float> by_handle(dim);
    const cgp_graph *handle = graphs[2].get();
    p.embed(&handle, 1, by_handle.data(), by_handle.size());
    for (std::size_t k = 0; k < dim; k++) {
        EXPECT_NEAR(one[k], rows[2 * dim + k], 1e-5) << k;
        EXPECT_EQ(by_pointer[k], one[k]) << k;
        EXPECT_EQ(by_handle[k], one[k]) << k;
    }
    std::vector<float> small(4 * dim - 1);
    expect_error([&] { p.embed(graphs.data(), 4, small.data(), small.size()); }, cgp::Status::buffer_too_small,
                 "207 floats");
}

TEST(Predictor, AdaptedScoresFollowTheLabels) {
    cgp::Predictor p(model, cgp::Device::cpu);
    const std::vector<cgp::Graph> graphs = nb201_graphs();
    p.adapt(graphs, {94.0f, 60.0f, 80.0f, 90.0f});
    const std::vector<float> adapted = p.predict(graphs);
    EXPECT_GT(adapted[0], adapted[3]);
    EXPECT_GT(adapted[3], adapted[2]);
    EXPECT_GT(adapted[2], adapted[1]);

    // The pointer forms adapt too: reversed labels reverse the order.
    const float labels[4] = {60.0f, 94.0f, 90.0f, 80.0f};
    p.adapt(graphs.data(), labels, 4);
    const std::vector<float> again = p.predict(graphs);
    EXPECT_GT(again[1], again[2]);
    EXPECT_GT(again[2], again[3]);
    EXPECT_GT(again[3], again[0]);

    // A failed adaptation keeps the previous head.
    expect_error([&] { p.adapt(graphs, {1, 1, 1, 1}); }, cgp::Status::invalid_argument, "labels are equal");
    expect_error([&] { p.adapt(graphs, {1, 2}); }, cgp::Status::invalid_argument, "4 graphs but 2 labels");
    const std::vector<const cgp::Graph *> with_null = {&graphs[0], nullptr};
    expect_error([&] { p.adapt(with_null, {1, 2}); }, cgp::Status::invalid_argument, "graphs[1] is NULL");
    EXPECT_EQ(p.predict(graphs), again);

    // For ranking: the labels' order, in rank units (1 for the worst of 4, 4 for the best).
    p.adapt_ranking(graphs, {94.0f, 60.0f, 80.0f, 90.0f});
    const std::vector<float> ranked = p.predict(graphs);
    EXPECT_GT(ranked[0], ranked[3]);
    EXPECT_GT(ranked[3], ranked[2]);
    EXPECT_GT(ranked[2], ranked[1]);
    EXPECT_NEAR(ranked[0], 4.0f, 0.5f);
    EXPECT_NEAR(ranked[1], 1.0f, 0.5f);
    expect_error([&] { p.adapt_ranking(graphs, {1, 2}); }, cgp::Status::invalid_argument, "4 graphs but 2 labels");
    expect_error([&] { p.adapt_ranking(with_null, {1, 2}); }, cgp::Status::invalid_argument, "graphs[1] is NULL");
    EXPECT_EQ(p.predict(graphs), ranked);
}

TEST(Predictor, ThreadsShareOnePredictor) {
    const cgp::Predictor p(model, cgp::Device::cpu);
    const std::vector<cgp::Graph> graphs = nb201_graphs();
    const std::vector<float> expected = p.predict(graphs);
    std::vector<int> mismatches(8, 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; t++) {
        threads.emplace_back([&, t] {
            for (int round = 0; round < 25; round++) {
                const std::vector<float> got = p.predict(graphs);
                for (std::size_t i = 0; i < got.size(); i++) {
                    if (std::abs(got[i] - expected[i]) > 1e-5f) mismatches[t]++;
                }
            }
        });
    }
    for (std::thread &thread : threads) thread.join();
    for (int t = 0; t < 8; t++) EXPECT_EQ(mismatches[t], 0) << "thread " << t;
}

TEST(Predictor, ErrorsCarryStatusAndMessage) {
    expect_error([] { cgp::Predictor("/nonexistent/model.onnx", cgp::Device::cpu); }, cgp::Status::io_error,
                 "/nonexistent/model.onnx");
    expect_error([] { cgp::Predictor(repo + "/tests/fixtures/runtime/bad_schema.onnx", cgp::Device::cpu); },
                 cgp::Status::model_error, "schema");
    expect_error([] { cgp::Predictor(model, cgp::Device::cuda); }, cgp::Status::runtime_error, "CUDA");
    expect_error([] { cgp::Predictor(model, static_cast<cgp::Device>(7)); }, cgp::Status::invalid_argument,
                 "device 7");

    const cgp::Predictor p(model, cgp::Device::cpu);
    const std::vector<cgp::Graph> graphs = nb201_graphs();
    float scores[4];
    expect_error([&] { p.predict(graphs.data(), 4, scores, 3); }, cgp::Status::buffer_too_small, "3 floats");
    expect_error([&] { p.predict(static_cast<const cgp::Graph *>(nullptr), 2, scores, 4); },
                 cgp::Status::invalid_argument, "graphs is NULL");
    cgp::Graph moved = cgp::Graph::from_nasbench201(
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|");
    cgp::Graph keeper = std::move(moved);
    expect_error([&] { p.predict(moved); }, cgp::Status::invalid_argument, "graphs[0] is NULL");

    cgp::Predictor first(model, cgp::Device::cpu);
    cgp::Predictor second = std::move(first);
    EXPECT_FALSE(first);  // NOLINT(bugprone-use-after-move): empty by contract
    EXPECT_TRUE(second);
    expect_error([&] { (void)first.embedding_dim(); }, cgp::Status::invalid_argument, "p is NULL");
    expect_error([&] { (void)first.members(); }, cgp::Status::invalid_argument, "p is NULL");
    cgp_predictor *raw = second.release();
    cgp_predictor_free(raw);
}
