/* The spectral part of the C API, from C: the residual block's spectrum against numpy's
 * (tests/fixtures/spectral/expected.json), paths against their closed form, the distance,
 * and every error path. */
#include "check.h"

/* No libm: the test links against nothing but the library. */
static double absolute(double x) { return x < 0 ? -x : x; }

/* A path of n identity nodes (n <= 5) in cgpredict's JSON format. */
static cgp_graph *path(int n) {
    char json[2048];
    int len = snprintf(json, sizeof json, "{\"format\": \"cgpredict-graph\", \"version\": 1, \"nodes\": [");
    for (int i = 0; i < n; i++) {
        len += snprintf(json + len, sizeof json - (size_t)len,
                        "%s{\"id\": %d, \"op\": \"identity\", \"input\": [1, 1, 1], \"output\": [1, 1, 1]}",
                        i ? ", " : "", i);
    }
    len += snprintf(json + len, sizeof json - (size_t)len, "], \"edges\": [");
    for (int i = 1; i < n; i++) {
        len += snprintf(json + len, sizeof json - (size_t)len, "%s[%d, %d]", i > 1 ? ", " : "", i - 1, i);
    }
    len += snprintf(json + len, sizeof json - (size_t)len, "]}");
    cgp_graph *g = NULL;
    CHECK(cgp_graph_from_json(json, (size_t)len, &g) == CGP_OK && g != NULL);
    return g;
}

static cgp_node_desc desc(const char *op, uint32_t k) {
    cgp_node_desc d;
    memset(&d, 0, sizeof d);
    d.op = op;
    d.in_h = d.out_h = d.in_w = d.out_w = 32;
    d.in_c = d.out_c = 16;
    d.kernel_h = d.kernel_w = k;
    d.stride_h = d.stride_w = d.dilation_h = d.dilation_w = d.groups = k ? 1 : 0;
    d.has_bias = strcmp(op, "batch_norm") == 0;
    return d;
}

/* input -> conv3x3 -> bn -> relu -> conv3x3 -> bn -> add(+input) -> relu -> output. */
static cgp_graph *residual_block(void) {
    const char *ops[] = {"input", "conv", "batch_norm", "relu", "conv", "batch_norm", "add", "relu", "output"};
    cgp_graph *g = NULL;
    CHECK(cgp_graph_new(&g) == CGP_OK);
    for (int i = 0; i < 9; i++) {
        cgp_node_desc d = desc(ops[i], strcmp(ops[i], "conv") == 0 ? 3 : 0);
        uint32_t id;
        CHECK(cgp_graph_add_node(g, &d, &id) == CGP_OK && id == (uint32_t)i);
    }
    uint32_t edges[][2] = {{0, 1}, {1, 2}, {2, 3}, {3, 4}, {4, 5}, {5, 6}, {0, 6}, {6, 7}, {7, 8}};
    for (int i = 0; i < 9; i++) {
        CHECK(cgp_graph_add_edge(g, edges[i][0], edges[i][1]) == CGP_OK);
    }
    return g;
}

int main(void) {
    /* numpy eigvalsh of networkx's normalized Laplacian, with 2 isolated nodes for k = 11. */
    const double numpy[11] = {0.0, 0.0, 3.5111764798795554e-16, 0.18635511932595783, 0.37651019814126624,
                              0.5292802085515094, 1.1724732315097968, 1.2225209339563146, 1.6689040070510937,
                              1.9009688679024193, 1.942987433561641};
    cgp_graph *block = residual_block();
    double values[12];
    for (int i = 0; i < 12; i++) values[i] = -1.0;
    CHECK(cgp_graph_spectrum(block, 11, values, 12) == CGP_OK);
    for (int i = 0; i < 11; i++) CHECK(absolute(values[i] - numpy[i]) < 1e-8);
    CHECK(values[11] == -1.0);

    /* P4: 0, 1/2, 3/2, 2 (1 - cos(pi j / 3)), one zero in front for k = 5. */
    cgp_graph *p4 = path(4), *p5 = path(5);
    const double closed[5] = {0.0, 0.0, 0.5, 1.5, 2.0};
    CHECK(cgp_graph_spectrum(p4, 5, values, 5) == CGP_OK);
    for (int i = 0; i < 5; i++) CHECK(absolute(values[i] - closed[i]) < 1e-12);

    /* Against P5's 0, 1 - c, 1, 1 + c, 2 with c = cos(pi/4); compared squared. */
    double distance = -1.0, c = 0.70710678118654752440;
    CHECK(cgp_spectral_distance(p4, p5, 5, &distance) == CGP_OK);
    CHECK(absolute(distance * distance - ((1 - c) * (1 - c) + 0.25 + (0.5 - c) * (0.5 - c))) < 1e-12);
    CHECK(cgp_spectral_distance(p4, p4, 11, &distance) == CGP_OK && distance == 0.0);

    CHECK_ERROR(cgp_graph_spectrum(block, 11, values, 10), CGP_BUFFER_TOO_SMALL, "room for 10 values but k = 11");
    CHECK_ERROR(cgp_graph_spectrum(block, 0, values, 10), CGP_INVALID_ARGUMENT, "at least 1");
    CHECK_ERROR(cgp_graph_spectrum(NULL, 3, values, 10), CGP_INVALID_ARGUMENT, "g is NULL");
    CHECK_ERROR(cgp_graph_spectrum(block, 3, NULL, 10), CGP_INVALID_ARGUMENT, "out is NULL");
    CHECK_ERROR(cgp_spectral_distance(p4, NULL, 3, &distance), CGP_INVALID_ARGUMENT, "b is NULL");
    cgp_graph *empty = NULL;
    CHECK(cgp_graph_new(&empty) == CGP_OK);
    CHECK_ERROR(cgp_spectral_distance(empty, p4, 3, &distance), CGP_INVALID_ARGUMENT, "first graph: the graph has no nodes");

    cgp_graph_free(empty);
    cgp_graph_free(block);
    cgp_graph_free(p4);
    cgp_graph_free(p5);
    if (failures) {
        fprintf(stderr, "%d checks failed\n", failures);
        return 1;
    }
    printf("all checks passed\n");
    return 0;
}
