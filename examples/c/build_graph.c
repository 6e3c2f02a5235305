/* Builds a small network (conv-bn-relu, global pool, classifier) through the C API and
 * prints its size. Build: cc -std=c11 build_graph.c -Iinclude -Ltarget/release -lcgpredict */
#include "cgpredict.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

static uint32_t add(cgp_graph *g, cgp_node_desc d) {
    uint32_t id;
    if (cgp_graph_add_node(g, &d, &id) != CGP_OK) {
        fprintf(stderr, "add_node(%s): %s\n", d.op, cgp_last_error_message());
        exit(1);
    }
    return id;
}

static void connect(cgp_graph *g, uint32_t from, uint32_t to) {
    if (cgp_graph_add_edge(g, from, to) != CGP_OK) {
        fprintf(stderr, "add_edge(%u, %u): %s\n", from, to, cgp_last_error_message());
        exit(1);
    }
}

int main(void) {
    cgp_graph *g;
    if (cgp_graph_new(&g) != CGP_OK) return 1;
    /* Fields left out are zero: "not given" for ops they do not apply to. */
    uint32_t x = add(g, (cgp_node_desc){.op = "input", .in_h = 32, .in_w = 32, .in_c = 3, .out_h = 32, .out_w = 32, .out_c = 3});
    uint32_t conv = add(g, (cgp_node_desc){.op = "conv", .in_h = 32, .in_w = 32, .in_c = 3, .out_h = 32, .out_w = 32,
                                           .out_c = 16, .kernel_h = 3, .kernel_w = 3, .stride_h = 1, .stride_w = 1,
                                           .dilation_h = 1, .dilation_w = 1, .groups = 1});
    uint32_t bn = add(g, (cgp_node_desc){.op = "batch_norm", .in_h = 32, .in_w = 32, .in_c = 16, .out_h = 32,
                                         .out_w = 32, .out_c = 16, .has_bias = true});
    uint32_t relu = add(g, (cgp_node_desc){.op = "relu", .in_h = 32, .in_w = 32, .in_c = 16, .out_h = 32, .out_w = 32, .out_c = 16});
    uint32_t pool = add(g, (cgp_node_desc){.op = "global_avg_pool", .in_h = 32, .in_w = 32, .in_c = 16, .out_h = 1, .out_w = 1, .out_c = 16});
    uint32_t fc = add(g, (cgp_node_desc){.op = "linear", .in_h = 1, .in_w = 1, .in_c = 16, .out_h = 1, .out_w = 1, .out_c = 10, .has_bias = true});
    uint32_t out = add(g, (cgp_node_desc){.op = "output", .in_h = 1, .in_w = 1, .in_c = 10, .out_h = 1, .out_w = 1, .out_c = 10});
    connect(g, x, conv);
    connect(g, conv, bn);
    connect(g, bn, relu);
    connect(g, relu, pool);
    connect(g, pool, fc);
    connect(g, fc, out);

    size_t nodes, edges;
    uint64_t params, macs;
    cgp_graph_node_count(g, &nodes);
    cgp_graph_edge_count(g, &edges);
    cgp_graph_param_count(g, &params);
    cgp_graph_macs(g, &macs);
    printf("cgpredict %s: %zu nodes, %zu edges, %" PRIu64 " parameters, %" PRIu64 " MACs\n", cgp_version(), nodes,
           edges, params, macs);
    cgp_graph_free(g);
    return 0;
}
