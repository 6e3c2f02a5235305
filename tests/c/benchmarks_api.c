/* The benchmark part of the C API, from C: NAS-Bench-101 and -201 cells become graphs whose
 * parameter counts are the benchmarks' own, and malformed cells fail with their reason. */
#include "check.h"

static uint64_t params_of(cgp_graph *g) {
    uint64_t params = 0;
    CHECK(cgp_graph_param_count(g, &params) == CGP_OK);
    cgp_graph_free(g);
    return params;
}

static void nasbench101(void) {
    /* input -> conv1x1 -> output, plus input -> output. Counted by hand: stem 3*128*9 + 256 =
     * 3712, dense 512*10 + 10 = 5130, and per cell with `in` input and C output channels two
     * projections of the input (conv1x1 in*C + BN 2C; one to the vertex, one added to the
     * output) and the vertex's conv1x1 (C*C + 2C). */
    const uint8_t adjacency[9] = {0, 1, 1, 0, 0, 1, 0, 0, 0};
    const char *const ops[3] = {"input", "conv1x1-bn-relu", "output"};
    cgp_graph *g = NULL;
    CHECK(cgp_graph_from_nasbench101(adjacency, 3, ops, &g) == CGP_OK && g != NULL);
    /* C = 128, 256, 512; the first cell of stacks 1 and 2 reads C/2 channels. */
    uint64_t expected = 3712 + 5130;
    const uint64_t channels[3] = {128, 256, 512};
    for (int stack = 0; stack < 3; stack++) {
        uint64_t c = channels[stack];
        for (int cell = 0; cell < 3; cell++) {
            uint64_t in = (stack > 0 && cell == 0) ? c / 2 : c;
            expected += 2 * (in * c + 2 * c) + (c * c + 2 * c);
        }
    }
    CHECK(params_of(g) == expected);

    const char *const typo[3] = {"input", "conv1x1", "output"};
    g = NULL;
    CHECK_ERROR(cgp_graph_from_nasbench101(adjacency, 3, typo, &g), CGP_INVALID_ARGUMENT,
                "ops[1] = \"conv1x1\" is not a NAS-Bench-101 op");
    CHECK(g == NULL);
    const uint8_t lower[9] = {0, 1, 0, 1, 0, 1, 0, 0, 0};
    CHECK_ERROR(cgp_graph_from_nasbench101(lower, 3, ops, &g), CGP_INVALID_ARGUMENT,
                "adjacency[1][0] = 1 is on or below the diagonal");
    CHECK_ERROR(cgp_graph_from_nasbench101(NULL, 3, ops, &g), CGP_INVALID_ARGUMENT,
                "adjacency is NULL");
}

static void nasbench201(void) {
    /* The largest NAS-Bench-201 network: 1.531546M parameters on CIFAR-10, 1.537396M on
     * CIFAR-100 (benchmark file v1.1). */
    const char *all_conv =
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|";
    cgp_graph *g = NULL;
    CHECK(cgp_graph_from_nasbench201(all_conv, 10, &g) == CGP_OK);
    CHECK(params_of(g) == 1531546);
    CHECK(cgp_graph_from_nasbench201(all_conv, 100, &g) == CGP_OK);
    CHECK(params_of(g) == 1537396);
    g = NULL;
    CHECK_ERROR(cgp_graph_from_nasbench201("|nor_conv_3x3~0|", 10, &g), CGP_PARSE_ERROR,
                "1 node(s) separated by '+'");
    CHECK_ERROR(cgp_graph_from_nasbench201(all_conv, 0, &g), CGP_INVALID_ARGUMENT,
                "num_classes is 0");
    CHECK(g == NULL);
}

static void darts(void) {
    /* DARTS-V2 at NAS-Bench-301's 32 channels and 8 cells: 372 nodes (counted by hand in
     * import::darts' tests). */
    const char *v2 =
        "{\"normal\": [[\"sep_conv_3x3\", 0], [\"sep_conv_3x3\", 1], [\"sep_conv_3x3\", 0], "
        "[\"sep_conv_3x3\", 1], [\"sep_conv_3x3\", 1], [\"skip_connect\", 0], [\"skip_connect\", 0], "
        "[\"dil_conv_3x3\", 2]], \"reduce\": [[\"max_pool_3x3\", 0], [\"max_pool_3x3\", 1], "
        "[\"skip_connect\", 2], [\"max_pool_3x3\", 1], [\"max_pool_3x3\", 0], [\"skip_connect\", 2], "
        "[\"skip_connect\", 2], [\"max_pool_3x3\", 1]]}";
    cgp_graph *g = NULL;
    size_t nodes = 0;
    CHECK(cgp_graph_from_darts(v2, &g) == CGP_OK && g != NULL);
    CHECK(cgp_graph_node_count(g, &nodes) == CGP_OK && nodes == 372);
    cgp_graph_free(g);
    g = NULL;
    CHECK_ERROR(cgp_graph_from_darts("{\"normal\": [], \"reduce\": []}", &g), CGP_PARSE_ERROR,
                "normal has 0 [op, input] pairs");
    CHECK_ERROR(cgp_graph_from_darts(NULL, &g), CGP_INVALID_ARGUMENT, "genotype_json is NULL");
    CHECK(g == NULL);
}

static void ofa_mbv3(void) {
    /* The largest subnet at 224: 7,664,760 parameters (counted by hand in import::ofa). */
    uint8_t ks[20], e[20], d[5];
    memset(ks, 7, sizeof ks);
    memset(e, 6, sizeof e);
    memset(d, 4, sizeof d);
    cgp_graph *g = NULL;
    CHECK(cgp_graph_from_ofa_mbv3(ks, e, d, 224, &g) == CGP_OK);
    CHECK(params_of(g) == 7664760);
    g = NULL;
    d[2] = 5;
    CHECK_ERROR(cgp_graph_from_ofa_mbv3(ks, e, d, 224, &g), CGP_INVALID_ARGUMENT, "d[2] = 5");
    d[2] = 4;
    CHECK_ERROR(cgp_graph_from_ofa_mbv3(ks, e, d, 100, &g), CGP_INVALID_ARGUMENT, "resolution");
    CHECK_ERROR(cgp_graph_from_ofa_mbv3(ks, NULL, d, 224, &g), CGP_INVALID_ARGUMENT, "e is NULL");
    CHECK(g == NULL);
}

int main(void) {
    nasbench101();
    nasbench201();
    darts();
    ofa_mbv3();
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("all checks passed\n");
    return 0;
}
