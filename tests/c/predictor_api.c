/* The predictor part of the C API, from C: the test model (tests/fixtures/runtime/good.onnx,
 * score = mean node features . w + graph features . v + 0.25) scores NB-201 graphs, embeds
 * them, adapts to labels, and every argument error comes back with its status and message.
 * Needs ONNX Runtime: run scripts/fetch-onnxruntime.sh first. */
#include <math.h>

#include "check.h"

#define MODEL "tests/fixtures/runtime/good.onnx"

int main(void) {
    cgp_predictor *p = NULL;
    cgp_status status = cgp_predictor_open(MODEL, CGP_DEVICE_CPU, &p);
    if (status != CGP_OK) {
        fprintf(stderr, "cannot open %s: %s\n", MODEL, cgp_last_error_message());
        return 1;
    }
    cgp_device device = CGP_DEVICE_AUTO;
    CHECK(cgp_predictor_device(p, &device) == CGP_OK && device == CGP_DEVICE_CPU);
    size_t dim = 0;
    CHECK(cgp_predictor_embedding_dim(p, &dim) == CGP_OK && dim == 52);
    size_t members = 0;
    CHECK(cgp_predictor_members(p, &members) == CGP_OK && members == 1);

    const char *archs[4] = {
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|",
        "|avg_pool_3x3~0|+|none~0|skip_connect~1|+|nor_conv_1x1~0|none~1|avg_pool_3x3~2|",
        "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|",
        "|nor_conv_1x1~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|none~0|nor_conv_1x1~1|nor_conv_3x3~2|",
    };
    cgp_graph *graphs[4];
    for (int i = 0; i < 4; i++) {
        CHECK(cgp_graph_from_nasbench201(archs[i], 10, &graphs[i]) == CGP_OK);
    }
    const cgp_graph *const *g = (const cgp_graph *const *)graphs;

    /* A batch scores as its graphs one by one. */
    float scores[4] = {0};
    CHECK(cgp_predict(p, g, 4, scores, 4) == CGP_OK);
    for (int i = 0; i < 4; i++) {
        float one = 0;
        CHECK(cgp_predict(p, g + i, 1, &one, 1) == CGP_OK);
        CHECK(one - scores[i] < 1e-5f && scores[i] - one < 1e-5f);
    }
    CHECK(scores[0] != scores[1]);

    float embeddings[4 * 52];
    CHECK(cgp_embed(p, g, 4, embeddings, 4 * 52) == CGP_OK);
    /* Each embedding is a mean of node features, one-hot ops among them: the op block sums to 1. */
    for (int i = 0; i < 4; i++) {
        float sum = 0;
        for (int k = 0; k < 32; k++) sum += embeddings[i * 52 + k];
        CHECK(sum > 0.9999f && sum < 1.0001f);
    }

    /* Adapting to labels makes the scores follow them. */
    float labels[4] = {94.0f, 60.0f, 80.0f, 90.0f};
    CHECK(cgp_predictor_adapt(p, g, labels, 4) == CGP_OK);
    float adapted[4] = {0};
    CHECK(cgp_predict(p, g, 4, adapted, 4) == CGP_OK);
    CHECK(adapted[0] > adapted[2] && adapted[2] > adapted[1] && adapted[3] > adapted[2]);

    /* Adapting for ranking: the same order, in rank units (ranks 1 to 4 of the labels); then
     * back to the labels' head, which a later adaptation replaces again. */
    float ranked[4] = {0};
    CHECK(cgp_predictor_adapt_ranking(p, g, labels, 4) == CGP_OK);
    CHECK(cgp_predict(p, g, 4, ranked, 4) == CGP_OK);
    CHECK(ranked[0] > ranked[2] && ranked[2] > ranked[1] && ranked[3] > ranked[2]);
    CHECK(ranked[1] > 0.5f && ranked[0] < 4.5f);
    CHECK(cgp_predictor_adapt(p, g, labels, 4) == CGP_OK);

    /* Error paths. */
    cgp_predictor *none = NULL;
#ifdef CGP_TEST_BUNDLED_MODEL
    /* This build carries the trainer's model: NULL opens it. */
    CHECK(cgp_predictor_open(NULL, CGP_DEVICE_CPU, &none) == CGP_OK);
    CHECK(cgp_predict(none, g, 4, scores, 4) == CGP_OK);
    cgp_predictor_free(none);
    none = NULL;
#else
    CHECK_ERROR(cgp_predictor_open(NULL, CGP_DEVICE_CPU, &none), CGP_MODEL_ERROR, "no bundled default model");
#endif
    CHECK_ERROR(cgp_predictor_open("/nonexistent/model.onnx", CGP_DEVICE_CPU, &none), CGP_IO_ERROR, "/nonexistent/model.onnx");
    CHECK_ERROR(cgp_predictor_open("tests/fixtures/runtime/bad_schema.onnx", CGP_DEVICE_CPU, &none), CGP_MODEL_ERROR, "schema");
    /* CUDA runs, or fails clearly (always so in a build without the cuda feature). */
    status = cgp_predictor_open(MODEL, CGP_DEVICE_CUDA, &none);
#ifdef CGP_TEST_CUDA_FEATURE
    if (status == CGP_OK) {
        CHECK(cgp_predictor_device(none, &device) == CGP_OK && device == CGP_DEVICE_CUDA);
        cgp_predictor_free(none);
        none = NULL;
    } else
#endif
    {
        CHECK(status == CGP_RUNTIME_ERROR && strstr(cgp_last_error_message(), "CUDA") != NULL);
    }
    CHECK_ERROR(cgp_predictor_open(MODEL, 7, &none), CGP_INVALID_ARGUMENT, "device 7");
    CHECK_ERROR(cgp_predictor_open(MODEL, CGP_DEVICE_CPU, NULL), CGP_INVALID_ARGUMENT, "out is NULL");
    CHECK(none == NULL);
    CHECK(cgp_predictor_open(MODEL, CGP_DEVICE_AUTO, &none) == CGP_OK);
    CHECK(cgp_predictor_device(none, &device) == CGP_OK);
    CHECK(device == (status == CGP_OK ? CGP_DEVICE_CUDA : CGP_DEVICE_CPU));
    cgp_predictor_free(none);

    CHECK_ERROR(cgp_predict(p, g, 4, scores, 3), CGP_BUFFER_TOO_SMALL, "3 floats");
    CHECK_ERROR(cgp_predict(NULL, g, 4, scores, 4), CGP_INVALID_ARGUMENT, "p is NULL");
    CHECK_ERROR(cgp_predict(p, NULL, 4, scores, 4), CGP_INVALID_ARGUMENT, "graphs is NULL");
    const cgp_graph *with_null[2] = {graphs[0], NULL};
    CHECK_ERROR(cgp_predict(p, with_null, 2, scores, 4), CGP_INVALID_ARGUMENT, "graphs[1] is NULL");
    CHECK_ERROR(cgp_predict(p, g, 4, NULL, 4), CGP_INVALID_ARGUMENT, "out_scores is NULL");
    CHECK_ERROR(cgp_embed(p, g, 4, embeddings, 4 * 52 - 1), CGP_BUFFER_TOO_SMALL, "207 floats");
    CHECK_ERROR(cgp_predictor_embedding_dim(p, NULL), CGP_INVALID_ARGUMENT, "out is NULL");
    CHECK_ERROR(cgp_predictor_members(p, NULL), CGP_INVALID_ARGUMENT, "out is NULL");
    CHECK_ERROR(cgp_predictor_device(NULL, &device), CGP_INVALID_ARGUMENT, "p is NULL");
    CHECK_ERROR(cgp_predictor_adapt(p, g, NULL, 4), CGP_INVALID_ARGUMENT, "labels is NULL");
    float same[4] = {1, 1, 1, 1};
    CHECK_ERROR(cgp_predictor_adapt(p, g, same, 4), CGP_INVALID_ARGUMENT, "labels are equal");
    CHECK_ERROR(cgp_predictor_adapt_ranking(NULL, g, labels, 4), CGP_INVALID_ARGUMENT, "p is NULL");
    CHECK_ERROR(cgp_predictor_adapt_ranking(p, g, NULL, 4), CGP_INVALID_ARGUMENT, "labels is NULL");
    CHECK_ERROR(cgp_predictor_adapt_ranking(p, g, same, 4), CGP_INVALID_ARGUMENT, "labels are equal");
    float broken[4] = {94.0f, NAN, 80.0f, 90.0f};
    CHECK_ERROR(cgp_predictor_adapt_ranking(p, g, broken, 4), CGP_INVALID_ARGUMENT, "labels[1] is NaN");
    /* A failed adaptation keeps the previous head. */
    float again[4] = {0};
    CHECK(cgp_predict(p, g, 4, again, 4) == CGP_OK && again[0] == adapted[0]);

    for (int i = 0; i < 4; i++) cgp_graph_free(graphs[i]);
    cgp_predictor_free(p);
    cgp_predictor_free(NULL);
    if (failures > 0) {
        fprintf(stderr, "%d checks failed\n", failures);
        return 1;
    }
    printf("all checks passed\n");
    return 0;
}
