/* cgp_rank from C: the test model (tests/fixtures/runtime/good.onnx) ranks NB-201 graphs in
 * the order of its cgp_predict scores, follows the labels once adapted, and argument errors
 * write nothing. Needs ONNX Runtime: run scripts/fetch-onnxruntime.sh first. */
#include "check.h"

#define MODEL "tests/fixtures/runtime/good.onnx"
#define N 4

int main(void) {
    cgp_predictor *p = NULL;
    if (cgp_predictor_open(MODEL, CGP_DEVICE_CPU, &p) != CGP_OK) {
        fprintf(stderr, "cannot open %s: %s\n", MODEL, cgp_last_error_message());
        return 1;
    }
    const char *archs[N] = {
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|",
        "|avg_pool_3x3~0|+|none~0|skip_connect~1|+|nor_conv_1x1~0|none~1|avg_pool_3x3~2|",
        "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|",
        "|nor_conv_1x1~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|none~0|nor_conv_1x1~1|nor_conv_3x3~2|",
    };
    cgp_graph *graphs[N];
    for (int i = 0; i < N; i++) CHECK(cgp_graph_from_nasbench201(archs[i], 10, &graphs[i]) == CGP_OK);
    const cgp_graph *const *g = (const cgp_graph *const *)graphs;

    /* The order is a permutation along which the model's scores do not increase. */
    float scores[N];
    CHECK(cgp_predict(p, g, N, scores, N) == CGP_OK);
    size_t order[N] = {99, 99, 99, 99};
    CHECK(cgp_rank(p, g, N, order) == CGP_OK);
    int seen[N] = {0};
    for (int i = 0; i < N; i++) {
        CHECK(order[i] < N);
        if (order[i] < N) seen[order[i]]++;
        if (i > 0 && order[i] < N && order[i - 1] < N) CHECK(scores[order[i - 1]] >= scores[order[i]]);
    }
    for (int i = 0; i < N; i++) CHECK(seen[i] == 1);

    /* Adapted to labels, the ranking follows them: 94 (0), 90 (3), 80 (2), 60 (1). */
    float labels[N] = {94.0f, 60.0f, 80.0f, 90.0f};
    CHECK(cgp_predictor_adapt(p, g, labels, N) == CGP_OK);
    CHECK(cgp_rank(p, g, N, order) == CGP_OK);
    CHECK(order[0] == 0 && order[1] == 3 && order[2] == 2 && order[3] == 1);

    /* No candidates: nothing to write, out_order may be NULL. */
    CHECK(cgp_rank(p, g, 0, NULL) == CGP_OK);

    /* Errors write nothing. */
    size_t untouched[N] = {7, 7, 7, 7};
    CHECK_ERROR(cgp_rank(NULL, g, N, untouched), CGP_INVALID_ARGUMENT, "p is NULL");
    CHECK_ERROR(cgp_rank(p, NULL, N, untouched), CGP_INVALID_ARGUMENT, "graphs is NULL");
    const cgp_graph *with_null[2] = {graphs[0], NULL};
    CHECK_ERROR(cgp_rank(p, with_null, 2, untouched), CGP_INVALID_ARGUMENT, "graphs[1] is NULL");
    CHECK_ERROR(cgp_rank(p, g, N, NULL), CGP_INVALID_ARGUMENT, "out_order is NULL");
    for (int i = 0; i < N; i++) CHECK(untouched[i] == 7);

    for (int i = 0; i < N; i++) cgp_graph_free(graphs[i]);
    cgp_predictor_free(p);
    if (failures > 0) {
        fprintf(stderr, "%d checks failed\n", failures);
        return 1;
    }
    printf("all checks passed\n");
    return 0;
}
