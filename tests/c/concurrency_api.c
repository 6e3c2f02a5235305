/* 16 threads sharing one predictor and many graphs get exactly (bit for bit) the scores of a
 * single-threaded run. The trainer's architecture with random weights
 * (tests/fixtures/runtime/kgnn_speed.onnx); run from the crate root (tests/c_api.rs). */
#include "check.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#define MODEL "tests/fixtures/runtime/kgnn_speed.onnx"
#define THREADS 16
#define GRAPHS 64
#define BATCH 8
#define BATCHES (GRAPHS / BATCH)

static const char *const OPS[5] = {"none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"};

static struct cgp_predictor *predictor;
static const struct cgp_graph *graphs[GRAPHS];
static float expected[GRAPHS];

struct worker {
    int first_batch;
    float scores[GRAPHS];
    cgp_status status;
};

/* Scores every batch, starting at `first_batch`, so that different batches run at once. */
static void *score_all(void *arg) {
    struct worker *w = arg;
    w->status = CGP_OK;
    for (int step = 0; step < BATCHES && w->status == CGP_OK; step++) {
        int batch = (w->first_batch + step) % BATCHES;
        w->status = cgp_predict(predictor, graphs + batch * BATCH, BATCH, w->scores + batch * BATCH, BATCH);
    }
    return NULL;
}

int main(void) {
    CHECK(cgp_predictor_open(MODEL, CGP_DEVICE_CPU, &predictor) == CGP_OK);
    if (predictor == NULL) {
        fprintf(stderr, "cannot open %s: %s\n", MODEL, cgp_last_error_message());
        return 1;
    }
    for (int i = 0; i < GRAPHS; i++) {
        int index = i * 15625 / GRAPHS;
        int digit[6];
        for (int edge = 0; edge < 6; edge++, index /= 5) digit[edge] = index % 5;
        char arch[160];
        snprintf(arch, sizeof arch, "|%s~0|+|%s~0|%s~1|+|%s~0|%s~1|%s~2|", OPS[digit[0]], OPS[digit[1]],
                 OPS[digit[2]], OPS[digit[3]], OPS[digit[4]], OPS[digit[5]]);
        struct cgp_graph *g = NULL;
        CHECK(cgp_graph_from_nasbench201(arch, 10, &g) == CGP_OK);
        graphs[i] = g;
    }
    for (int batch = 0; batch < BATCHES; batch++) {
        CHECK(cgp_predict(predictor, graphs + batch * BATCH, BATCH, expected + batch * BATCH, BATCH) == CGP_OK);
    }

    static struct worker workers[THREADS];
    pthread_t threads[THREADS];
    for (int t = 0; t < THREADS; t++) {
        workers[t].first_batch = t % BATCHES;
        CHECK(pthread_create(&threads[t], NULL, score_all, &workers[t]) == 0);
    }
    for (int t = 0; t < THREADS; t++) {
        CHECK(pthread_join(threads[t], NULL) == 0);
        CHECK(workers[t].status == CGP_OK);
        CHECK(memcmp(workers[t].scores, expected, sizeof expected) == 0);
    }

    for (int i = 0; i < GRAPHS; i++) cgp_graph_free((struct cgp_graph *)graphs[i]);
    cgp_predictor_free(predictor);
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("concurrency: all checks passed\n");
    return 0;
}
