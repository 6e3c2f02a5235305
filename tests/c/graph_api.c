/* The graph part of the C API, from C: builds a residual block, checks its counts against
 * numbers worked out by hand, round-trips it through JSON, and walks every error path. */
#include "check.h"

#include <stdlib.h>

static cgp_node_desc desc(const char *op, uint32_t c_in, uint32_t c_out, uint32_t k) {
    cgp_node_desc d;
    memset(&d, 0, sizeof d);
    d.op = op;
    d.in_h = d.out_h = 32;
    d.in_w = d.out_w = 32;
    d.in_c = c_in;
    d.out_c = c_out;
    d.kernel_h = d.kernel_w = k;
    d.stride_h = d.stride_w = k ? 1 : 0;
    d.dilation_h = d.dilation_w = k ? 1 : 0;
    d.groups = k ? 1 : 0;
    d.has_bias = strcmp(op, "batch_norm") == 0;
    return d;
}

static uint32_t add(cgp_graph *g, cgp_node_desc d) {
    uint32_t id = UINT32_MAX;
    cgp_status s = cgp_graph_add_node(g, &d, &id);
    if (s != CGP_OK) {
        fprintf(stderr, "add_node(%s) failed: %s\n", d.op, cgp_last_error_message());
        exit(1);
    }
    return id;
}

/* input -> conv3x3 -> bn -> relu -> conv3x3 -> bn -> add(+input) -> relu -> output, 16 ch, 32x32. */
static cgp_graph *residual_block(void) {
    cgp_graph *g = NULL;
    CHECK(cgp_graph_new(&g) == CGP_OK && g != NULL);
    uint32_t in = add(g, desc("input", 16, 16, 0));
    uint32_t conv1 = add(g, desc("conv", 16, 16, 3));
    uint32_t bn1 = add(g, desc("batch_norm", 16, 16, 0));
    uint32_t relu1 = add(g, desc("relu", 16, 16, 0));
    uint32_t conv2 = add(g, desc("conv", 16, 16, 3));
    uint32_t bn2 = add(g, desc("batch_norm", 16, 16, 0));
    uint32_t sum = add(g, desc("add", 16, 16, 0));
    uint32_t relu2 = add(g, desc("relu", 16, 16, 0));
    uint32_t out = add(g, desc("output", 16, 16, 0));
    uint32_t edges[][2] = {{in, conv1},  {conv1, bn1}, {bn1, relu1}, {relu1, conv2}, {conv2, bn2},
                           {bn2, sum},   {in, sum},    {sum, relu2}, {relu2, out}};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
        CHECK(cgp_graph_add_edge(g, edges[i][0], edges[i][1]) == CGP_OK);
    }
    return g;
}

static void check_counts(const cgp_graph *g) {
    size_t nodes = 0, edges = 0;
    uint64_t params = 0, macs = 0;
    CHECK(cgp_graph_node_count(g, &nodes) == CGP_OK && nodes == 9);
    CHECK(cgp_graph_edge_count(g, &edges) == CGP_OK && edges == 9);
    /* Two 3x3 convs of 16*16*9 = 2304 weights (no bias) and two affine BNs of 2*16. */
    CHECK(cgp_graph_param_count(g, &params) == CGP_OK && params == 2 * 2304 + 2 * 32);
    /* Each conv: 32*32*16 outputs times 16*9 MACs = 2,359,296. */
    CHECK(cgp_graph_macs(g, &macs) == CGP_OK && macs == 2ull * 32 * 32 * 16 * 16 * 9);
}

static void check_json_round_trip(const cgp_graph *g) {
    char *json = NULL;
    CHECK(cgp_graph_to_json(g, &json) == CGP_OK && json != NULL);
    cgp_graph *back = NULL;
    CHECK(cgp_graph_from_json(json, strlen(json), &back) == CGP_OK && back != NULL);
    check_counts(back);
    char *again = NULL;
    CHECK(cgp_graph_to_json(back, &again) == CGP_OK && strcmp(json, again) == 0);
    char *dot = NULL;
    CHECK(cgp_graph_to_dot(back, &dot) == CGP_OK && strstr(dot, "n0 -> n6;") != NULL);
    cgp_string_free(dot);
    cgp_string_free(again);
    cgp_string_free(json);
    cgp_graph_free(back);
}

static void check_errors(cgp_graph *g) {
    cgp_node_desc relu = desc("relu", 16, 16, 0);
    uint32_t id = 12345;
    size_t count = 0;
    cgp_graph *none = NULL;

    CHECK_ERROR(cgp_graph_new(NULL), CGP_INVALID_ARGUMENT, "out is NULL");
    CHECK_ERROR(cgp_graph_add_node(NULL, &relu, &id), CGP_INVALID_ARGUMENT, "g is NULL");
    CHECK_ERROR(cgp_graph_add_node(g, NULL, &id), CGP_INVALID_ARGUMENT, "d is NULL");
    /* out_id may be NULL (the header says so): the node is added, its id not written. */
    cgp_graph *scratch = NULL;
    CHECK(cgp_graph_new(&scratch) == CGP_OK);
    CHECK(cgp_graph_add_node(scratch, &relu, NULL) == CGP_OK);
    CHECK(cgp_graph_node_count(scratch, &count) == CGP_OK && count == 1);
    cgp_graph_free(scratch);
    cgp_node_desc no_op = relu;
    no_op.op = NULL;
    CHECK_ERROR(cgp_graph_add_node(g, &no_op, &id), CGP_INVALID_ARGUMENT, "d->op is NULL");
    cgp_node_desc typo = desc("rleu", 16, 16, 0);
    CHECK_ERROR(cgp_graph_add_node(g, &typo, &id), CGP_INVALID_ARGUMENT, "\"rleu\" is not in the vocabulary");
    cgp_node_desc bad_groups = desc("conv", 16, 24, 3);
    bad_groups.groups = 5;
    CHECK_ERROR(cgp_graph_add_node(g, &bad_groups, &id), CGP_INVALID_ARGUMENT, "node 9 (conv): in_c = 16 and out_c = 24");
    cgp_node_desc zero = desc("conv", 16, 16, 3);
    zero.out_h = 0;
    CHECK_ERROR(cgp_graph_add_node(g, &zero, &id), CGP_INVALID_ARGUMENT, "output h is 0");
    CHECK(id == 12345); /* out-params are untouched on failure */

    CHECK_ERROR(cgp_graph_add_edge(NULL, 0, 1), CGP_INVALID_ARGUMENT, "g is NULL");
    CHECK_ERROR(cgp_graph_add_edge(g, 0, 99), CGP_INVALID_ARGUMENT, "target node 99 does not exist");
    CHECK_ERROR(cgp_graph_add_edge(g, 4, 4), CGP_INVALID_ARGUMENT, "self-loop on node 4");
    CHECK_ERROR(cgp_graph_add_edge(g, 8, 0), CGP_INVALID_ARGUMENT, "cycle");

    CHECK_ERROR(cgp_graph_node_count(NULL, &count), CGP_INVALID_ARGUMENT, "g is NULL");
    CHECK_ERROR(cgp_graph_node_count(g, NULL), CGP_INVALID_ARGUMENT, "out is NULL");
    CHECK_ERROR(cgp_graph_edge_count(g, NULL), CGP_INVALID_ARGUMENT, "out is NULL");
    CHECK_ERROR(cgp_graph_param_count(NULL, NULL), CGP_INVALID_ARGUMENT, "g is NULL");
    CHECK_ERROR(cgp_graph_macs(g, NULL), CGP_INVALID_ARGUMENT, "out is NULL");
    CHECK_ERROR(cgp_graph_to_json(g, NULL), CGP_INVALID_ARGUMENT, "out is NULL");
    CHECK_ERROR(cgp_graph_to_dot(NULL, NULL), CGP_INVALID_ARGUMENT, "g is NULL");

    const char *broken = "{\"format\": \"cgpredict-graph\", \"version\": 1, \"nodes\": [";
    CHECK_ERROR(cgp_graph_from_json(broken, strlen(broken), &none), CGP_PARSE_ERROR, "graph JSON");
    CHECK_ERROR(cgp_graph_from_json(NULL, 4, &none), CGP_INVALID_ARGUMENT, "json is NULL");
    CHECK_ERROR(cgp_graph_from_json("{}", 2, NULL), CGP_INVALID_ARGUMENT, "out is NULL");
    CHECK(none == NULL);

    /* The failures above left the graph as it was. */
    check_counts(g);
    cgp_graph_free(NULL);
    cgp_string_free(NULL);
}

int main(void) {
    CHECK(strcmp(cgp_version(), CGP_VERSION_STRING) == 0);
    CHECK(strcmp(cgp_last_error_message(), "") == 0);
    cgp_graph *g = residual_block();
    check_counts(g);
    check_json_round_trip(g);
    check_errors(g);
    cgp_graph_free(g);
    if (failures) {
        fprintf(stderr, "%d checks failed\n", failures);
        return 1;
    }
    printf("graph_api: all checks passed\n");
    return 0;
}
