/* Hostile input through the C API: NULL for every pointer argument of every entry point,
 * zero and huge lengths, output buffers too small, model files that are random bytes, ONNX
 * but not cgpredict, or cgpredict of another schema version, and input beyond the limits.
 * Each call must return its status with a message naming the problem, leave its
 * out-parameters untouched, and never abort. Run from the crate root (tests/c_api.rs). */
#include "check.h"

#include <stdint.h>
#include <stdlib.h>

#define GOOD_MODEL "tests/fixtures/runtime/good.onnx"
#define ONNX_MODEL "tests/fixtures/onnx/nb201_best.onnx"
#define NB201 "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"

/* A sentinel that no successful call writes, to check that failures leave outputs alone. */
static struct cgp_graph *const UNTOUCHED_GRAPH = (struct cgp_graph *)(uintptr_t)0x5eed;

static void graph_entry_points(void) {
    struct cgp_graph *g = NULL;
    CHECK(cgp_graph_new(&g) == CGP_OK);
    CHECK_ERROR(cgp_graph_new(NULL), CGP_INVALID_ARGUMENT, "out is NULL");

    struct cgp_node_desc d = {0};
    d.op = "input";
    d.in_h = d.in_w = d.out_h = d.out_w = 8;
    d.in_c = d.out_c = 4;
    uint32_t id = 77;
    CHECK_ERROR(cgp_graph_add_node(NULL, &d, &id), CGP_INVALID_ARGUMENT, "g is NULL");
    CHECK_ERROR(cgp_graph_add_node(g, NULL, &id), CGP_INVALID_ARGUMENT, "d is NULL");
    struct cgp_graph *scratch = NULL;
    size_t scratch_nodes = 0;
    CHECK(cgp_graph_new(&scratch) == CGP_OK);
    CHECK(cgp_graph_add_node(scratch, &d, NULL) == CGP_OK); /* out_id may be NULL */
    CHECK(cgp_graph_node_count(scratch, &scratch_nodes) == CGP_OK && scratch_nodes == 1);
    cgp_graph_free(scratch);
    struct cgp_node_desc no_op = d;
    no_op.op = NULL;
    CHECK_ERROR(cgp_graph_add_node(g, &no_op, &id), CGP_INVALID_ARGUMENT, "d->op is NULL");
    struct cgp_node_desc bad_utf8 = d;
    bad_utf8.op = "\xff\xfe";
    CHECK_ERROR(cgp_graph_add_node(g, &bad_utf8, &id), CGP_INVALID_ARGUMENT, "not valid UTF-8");
    struct cgp_node_desc huge = d;
    huge.op = "conv";
    huge.in_h = huge.in_w = huge.out_h = huge.out_w = UINT32_MAX;
    huge.in_c = huge.out_c = UINT32_MAX;
    huge.kernel_h = huge.kernel_w = UINT32_MAX;
    CHECK_ERROR(cgp_graph_add_node(g, &huge, &id), CGP_INVALID_ARGUMENT, "node 0 (conv)");
    CHECK(id == 77);
    CHECK(cgp_graph_add_node(g, &d, &id) == CGP_OK && id == 0);
    CHECK_ERROR(cgp_graph_add_edge(NULL, 0, 0), CGP_INVALID_ARGUMENT, "g is NULL");
    CHECK_ERROR(cgp_graph_add_edge(g, 0, UINT32_MAX), CGP_INVALID_ARGUMENT, "does not exist");
    CHECK_ERROR(cgp_graph_add_edge(g, 0, 0), CGP_INVALID_ARGUMENT, "self-loop");

    size_t count = 5;
    uint64_t big = 5;
    char *text = NULL;
    CHECK_ERROR(cgp_graph_node_count(NULL, &count), CGP_INVALID_ARGUMENT, "g is NULL");
    CHECK_ERROR(cgp_graph_node_count(g, NULL), CGP_INVALID_ARGUMENT, "out is NULL");
    CHECK_ERROR(cgp_graph_edge_count(NULL, &count), CGP_INVALID_ARGUMENT, "g is NULL");
    CHECK_ERROR(cgp_graph_edge_count(g, NULL), CGP_INVALID_ARGUMENT, "out is NULL");
    CHECK_ERROR(cgp_graph_param_count(NULL, &big), CGP_INVALID_ARGUMENT, "g is NULL");
    CHECK_ERROR(cgp_graph_param_count(g, NULL), CGP_INVALID_ARGUMENT, "out is NULL");
    CHECK_ERROR(cgp_graph_macs(NULL, &big), CGP_INVALID_ARGUMENT, "g is NULL");
    CHECK_ERROR(cgp_graph_macs(g, NULL), CGP_INVALID_ARGUMENT, "out is NULL");
    CHECK_ERROR(cgp_graph_to_json(NULL, &text), CGP_INVALID_ARGUMENT, "g is NULL");
    CHECK_ERROR(cgp_graph_to_json(g, NULL), CGP_INVALID_ARGUMENT, "out is NULL");
    CHECK_ERROR(cgp_graph_to_dot(NULL, &text), CGP_INVALID_ARGUMENT, "g is NULL");
    CHECK_ERROR(cgp_graph_to_dot(g, NULL), CGP_INVALID_ARGUMENT, "out is NULL");
    CHECK(count == 5 && big == 5 && text == NULL);

    struct cgp_graph *out = UNTOUCHED_GRAPH;
    const char json[] = "{}";
    CHECK_ERROR(cgp_graph_from_json(NULL, 2, &out), CGP_INVALID_ARGUMENT, "json is NULL");
    CHECK_ERROR(cgp_graph_from_json(json, 2, NULL), CGP_INVALID_ARGUMENT, "out is NULL");
    CHECK_ERROR(cgp_graph_from_json(json, 0, &out), CGP_PARSE_ERROR, "graph JSON");
    CHECK_ERROR(cgp_graph_from_json(NULL, 0, &out), CGP_PARSE_ERROR, "graph JSON");
    CHECK_ERROR(cgp_graph_from_json(json, SIZE_MAX, &out), CGP_INVALID_ARGUMENT, "too large");
    CHECK_ERROR(cgp_graph_from_json("\xff", 1, &out), CGP_PARSE_ERROR, "not UTF-8");
    CHECK(out == UNTOUCHED_GRAPH);

    double spectrum[4] = {0};
    double distance = -1;
    CHECK_ERROR(cgp_graph_spectrum(NULL, 2, spectrum, 4), CGP_INVALID_ARGUMENT, "g is NULL");
    CHECK_ERROR(cgp_graph_spectrum(g, 2, NULL, 4), CGP_INVALID_ARGUMENT, "out is NULL");
    CHECK_ERROR(cgp_graph_spectrum(g, 0, spectrum, 4), CGP_INVALID_ARGUMENT, "k");
    CHECK_ERROR(cgp_graph_spectrum(g, 4, spectrum, 3), CGP_BUFFER_TOO_SMALL, "room for 3 values");
    CHECK_ERROR(cgp_graph_spectrum(g, SIZE_MAX, spectrum, SIZE_MAX), CGP_INVALID_ARGUMENT, "k");
    CHECK_ERROR(cgp_spectral_distance(NULL, g, 2, &distance), CGP_INVALID_ARGUMENT, "a is NULL");
    CHECK_ERROR(cgp_spectral_distance(g, NULL, 2, &distance), CGP_INVALID_ARGUMENT, "b is NULL");
    CHECK_ERROR(cgp_spectral_distance(g, g, 2, NULL), CGP_INVALID_ARGUMENT, "out is NULL");
    CHECK_ERROR(cgp_spectral_distance(g, g, SIZE_MAX, &distance), CGP_INVALID_ARGUMENT, "k");
    CHECK(distance == -1);

    cgp_graph_free(g);
    cgp_graph_free(NULL);
    cgp_string_free(NULL);
}

static void benchmark_entry_points(void) {
    struct cgp_graph *out = UNTOUCHED_GRAPH;
    const uint8_t adjacency[9] = {0, 1, 1, 0, 0, 1, 0, 0, 0};
    const char *ops[3] = {"input", "conv1x1-bn-relu", "output"};
    const char *null_op[3] = {"input", NULL, "output"};
    CHECK_ERROR(cgp_graph_from_nasbench101(NULL, 3, ops, &out), CGP_INVALID_ARGUMENT, "adjacency is NULL");
    CHECK_ERROR(cgp_graph_from_nasbench101(adjacency, 3, NULL, &out), CGP_INVALID_ARGUMENT, "ops is NULL");
    CHECK_ERROR(cgp_graph_from_nasbench101(adjacency, 3, null_op, &out), CGP_INVALID_ARGUMENT, "ops[1] is NULL");
    CHECK_ERROR(cgp_graph_from_nasbench101(adjacency, 3, ops, NULL), CGP_INVALID_ARGUMENT, "out is NULL");
    CHECK_ERROR(cgp_graph_from_nasbench101(adjacency, 0, ops, &out), CGP_INVALID_ARGUMENT, "");
    CHECK_ERROR(cgp_graph_from_nasbench101(adjacency, SIZE_MAX, ops, &out), CGP_INVALID_ARGUMENT, "");

    CHECK_ERROR(cgp_graph_from_nasbench201(NULL, 10, &out), CGP_INVALID_ARGUMENT, "arch is NULL");
    CHECK_ERROR(cgp_graph_from_nasbench201(NB201, 10, NULL), CGP_INVALID_ARGUMENT, "out is NULL");
    CHECK_ERROR(cgp_graph_from_nasbench201("", 10, &out), CGP_PARSE_ERROR, "NAS-Bench-201");
    CHECK_ERROR(cgp_graph_from_nasbench201(NB201, 0, &out), CGP_INVALID_ARGUMENT, "num_classes");

    CHECK_ERROR(cgp_graph_from_darts(NULL, &out), CGP_INVALID_ARGUMENT, "genotype_json is NULL");
    CHECK_ERROR(cgp_graph_from_darts("{}", NULL), CGP_INVALID_ARGUMENT, "out is NULL");
    CHECK_ERROR(cgp_graph_from_darts("", &out), CGP_PARSE_ERROR, "genotype JSON");

    uint8_t ks[20], e[20], d[5];
    memset(ks, 3, sizeof ks);
    memset(e, 3, sizeof e);
    memset(d, 2, sizeof d);
    CHECK_ERROR(cgp_graph_from_ofa_mbv3(NULL, e, d, 224, &out), CGP_INVALID_ARGUMENT, "ks is NULL");
    CHECK_ERROR(cgp_graph_from_ofa_mbv3(ks, NULL, d, 224, &out), CGP_INVALID_ARGUMENT, "e is NULL");
    CHECK_ERROR(cgp_graph_from_ofa_mbv3(ks, e, NULL, 224, &out), CGP_INVALID_ARGUMENT, "d is NULL");
    CHECK_ERROR(cgp_graph_from_ofa_mbv3(ks, e, d, 224, NULL), CGP_INVALID_ARGUMENT, "out is NULL");
    CHECK_ERROR(cgp_graph_from_ofa_mbv3(ks, e, d, UINT32_MAX, &out), CGP_INVALID_ARGUMENT, "resolution");
    CHECK(out == UNTOUCHED_GRAPH);
}

static void onnx_and_limits(void) {
    struct cgp_graph *out = UNTOUCHED_GRAPH;
    char *report = NULL;
    const uint8_t junk[4] = {0xde, 0xad, 0xbe, 0xef};
    CHECK_ERROR(cgp_graph_from_onnx_file(NULL, &out), CGP_INVALID_ARGUMENT, "path is NULL");
    CHECK_ERROR(cgp_graph_from_onnx_file(ONNX_MODEL, NULL), CGP_INVALID_ARGUMENT, "out is NULL");
    CHECK_ERROR(cgp_graph_from_onnx_file("", &out), CGP_IO_ERROR, "cannot read");
    CHECK_ERROR(cgp_graph_from_onnx_file("tests", &out), CGP_IO_ERROR, "tests");
    CHECK_ERROR(cgp_graph_from_onnx_bytes(NULL, 4, &out), CGP_INVALID_ARGUMENT, "data is NULL");
    CHECK_ERROR(cgp_graph_from_onnx_bytes(junk, 4, NULL), CGP_INVALID_ARGUMENT, "out is NULL");
    CHECK_ERROR(cgp_graph_from_onnx_bytes(junk, 0, &out), CGP_PARSE_ERROR, "empty");
    CHECK_ERROR(cgp_graph_from_onnx_bytes(junk, SIZE_MAX, &out), CGP_INVALID_ARGUMENT, "too large");
    CHECK_ERROR(cgp_graph_from_onnx_bytes(junk, 4, &out), CGP_PARSE_ERROR, "not a valid ONNX protobuf");
    /* ModelProto.graph claiming 2 GiB over 3 bytes: refused without allocating it. */
    const uint8_t claimed[9] = {0x3a, 0x80, 0x80, 0x80, 0x80, 0x08, 1, 2, 3};
    CHECK_ERROR(cgp_graph_from_onnx_bytes(claimed, sizeof claimed, &out), CGP_PARSE_ERROR, "ONNX");
    CHECK_ERROR(cgp_onnx_last_report_json(NULL), CGP_INVALID_ARGUMENT, "out is NULL");

    struct cgp_limits *limits = NULL;
    CHECK_ERROR(cgp_limits_new(NULL), CGP_INVALID_ARGUMENT, "out is NULL");
    CHECK(cgp_limits_new(&limits) == CGP_OK);
    CHECK_ERROR(cgp_limits_set_max_nodes(NULL, 1), CGP_INVALID_ARGUMENT, "l is NULL");
    CHECK_ERROR(cgp_limits_set_max_edges(NULL, 1), CGP_INVALID_ARGUMENT, "l is NULL");
    CHECK_ERROR(cgp_limits_set_max_onnx_bytes(NULL, 1), CGP_INVALID_ARGUMENT, "l is NULL");
    CHECK_ERROR(cgp_limits_set_max_nodes(limits, 0), CGP_INVALID_ARGUMENT, "max_nodes must be at least 1");
    CHECK_ERROR(cgp_limits_set_max_edges(limits, 0), CGP_INVALID_ARGUMENT, "max_edges must be at least 1");
    CHECK_ERROR(cgp_limits_set_max_onnx_bytes(limits, 0), CGP_INVALID_ARGUMENT, "max_onnx_bytes must be at least 1");
    CHECK_ERROR(cgp_graph_from_json_with_limits("{}", 2, NULL, &out), CGP_INVALID_ARGUMENT, "limits is NULL");
    CHECK_ERROR(cgp_graph_from_json_with_limits(NULL, 2, limits, &out), CGP_INVALID_ARGUMENT, "json is NULL");
    CHECK_ERROR(cgp_graph_from_json_with_limits("{}", 2, limits, NULL), CGP_INVALID_ARGUMENT, "out is NULL");
    CHECK_ERROR(cgp_graph_from_onnx_file_with_limits(ONNX_MODEL, NULL, &out), CGP_INVALID_ARGUMENT, "limits is NULL");
    CHECK_ERROR(cgp_graph_from_onnx_file_with_limits(NULL, limits, &out), CGP_INVALID_ARGUMENT, "path is NULL");
    CHECK_ERROR(cgp_graph_from_onnx_file_with_limits(ONNX_MODEL, limits, NULL), CGP_INVALID_ARGUMENT, "out is NULL");
    CHECK_ERROR(cgp_graph_from_onnx_bytes_with_limits(junk, 4, NULL, &out), CGP_INVALID_ARGUMENT, "limits is NULL");
    CHECK_ERROR(cgp_graph_from_onnx_bytes_with_limits(NULL, 4, limits, &out), CGP_INVALID_ARGUMENT, "data is NULL");
    CHECK_ERROR(cgp_graph_from_onnx_bytes_with_limits(junk, 4, limits, NULL), CGP_INVALID_ARGUMENT, "out is NULL");

    /* A real model and graph beyond tightened limits: named limit and value. */
    CHECK(cgp_limits_set_max_onnx_bytes(limits, 1000) == CGP_OK);
    CHECK_ERROR(cgp_graph_from_onnx_file_with_limits(ONNX_MODEL, limits, &out), CGP_UNSUPPORTED,
                "more than the limit max_onnx_bytes = 1000");
    CHECK(cgp_limits_set_max_onnx_bytes(limits, UINT64_MAX) == CGP_OK);
    CHECK(cgp_limits_set_max_nodes(limits, 10) == CGP_OK);
    CHECK_ERROR(cgp_graph_from_onnx_file_with_limits(ONNX_MODEL, limits, &out), CGP_UNSUPPORTED, "max_nodes = 10");
    struct cgp_graph *nb201 = NULL;
    char *json = NULL;
    CHECK(cgp_graph_from_nasbench201(NB201, 10, &nb201) == CGP_OK);
    CHECK(cgp_graph_to_json(nb201, &json) == CGP_OK);
    CHECK_ERROR(cgp_graph_from_json_with_limits(json, strlen(json), limits, &out), CGP_UNSUPPORTED,
                "more than the limit max_nodes = 10");
    CHECK(out == UNTOUCHED_GRAPH && report == NULL);
    cgp_string_free(json);
    cgp_graph_free(nb201);
    cgp_limits_free(limits);
    cgp_limits_free(NULL);
}

/* Import options: input shapes by name and for the first input, checked arguments. */
static void onnx_options(void) {
    struct cgp_graph *out = UNTOUCHED_GRAPH;
    struct cgp_onnx_options *options = NULL;
    const uint64_t doubled[4] = {1, 3, 64, 64};
    const uint64_t zero[2] = {1, 0};
    const uint8_t junk[4] = {0xde, 0xad, 0xbe, 0xef};
    CHECK_ERROR(cgp_onnx_options_new(NULL), CGP_INVALID_ARGUMENT, "out is NULL");
    CHECK(cgp_onnx_options_new(&options) == CGP_OK);
    CHECK_ERROR(cgp_onnx_options_set_input_shape(NULL, "image", doubled, 4), CGP_INVALID_ARGUMENT, "o is NULL");
    CHECK_ERROR(cgp_onnx_options_set_input_shape(options, "image", NULL, 4), CGP_INVALID_ARGUMENT, "dims is NULL");
    CHECK_ERROR(cgp_onnx_options_set_input_shape(options, "image", doubled, 0), CGP_INVALID_ARGUMENT,
                "at least one dimension");
    CHECK_ERROR(cgp_onnx_options_set_input_shape(options, NULL, zero, 2), CGP_INVALID_ARGUMENT, "size 0 at axis 1");
    CHECK_ERROR(cgp_onnx_options_set_limits(options, NULL), CGP_INVALID_ARGUMENT, "limits is NULL");
    CHECK_ERROR(cgp_graph_from_onnx_file_with_options(ONNX_MODEL, NULL, &out), CGP_INVALID_ARGUMENT,
                "options is NULL");
    CHECK_ERROR(cgp_graph_from_onnx_file_with_options(NULL, options, &out), CGP_INVALID_ARGUMENT, "path is NULL");
    CHECK_ERROR(cgp_graph_from_onnx_file_with_options(ONNX_MODEL, options, NULL), CGP_INVALID_ARGUMENT,
                "out is NULL");
    CHECK_ERROR(cgp_graph_from_onnx_bytes_with_options(NULL, 4, options, &out), CGP_INVALID_ARGUMENT,
                "data is NULL");
    CHECK_ERROR(cgp_graph_from_onnx_bytes_with_options(junk, 4, options, &out), CGP_PARSE_ERROR,
                "not a valid ONNX protobuf");

    /* The 32x32 network at 64x64: four times the MACs but for the 64 x 10 classifier after
     * global pooling (184,730,240 at 32x32, tests/fixtures/onnx/nb201_expected.json). */
    struct cgp_graph *graph = NULL;
    uint64_t macs = 0;
    CHECK(cgp_onnx_options_set_input_shape(options, "image", doubled, 4) == CGP_OK);
    CHECK(cgp_graph_from_onnx_file_with_options(ONNX_MODEL, options, &graph) == CGP_OK);
    CHECK(cgp_graph_macs(graph, &macs) == CGP_OK && macs == 4u * (184730240u - 640u) + 640u);
    cgp_graph_free(graph);
    CHECK(cgp_onnx_options_set_input_shape(options, NULL, doubled, 3) == CGP_OK);
    CHECK_ERROR(cgp_graph_from_onnx_file_with_options(ONNX_MODEL, options, &out), CGP_INVALID_ARGUMENT,
                "'image' is given a shape twice");
    cgp_onnx_options_free(options);

    CHECK(cgp_onnx_options_new(&options) == CGP_OK);
    CHECK(cgp_onnx_options_set_input_shape(options, NULL, doubled, 3) == CGP_OK);
    CHECK_ERROR(cgp_graph_from_onnx_file_with_options(ONNX_MODEL, options, &out), CGP_INVALID_ARGUMENT,
                "has 3 dimensions; the model declares 4");
    CHECK(cgp_onnx_options_set_input_shape(options, NULL, doubled, 4) == CGP_OK);
    CHECK(cgp_onnx_options_set_input_shape(options, "mask", doubled, 2) == CGP_OK);
    CHECK_ERROR(cgp_graph_from_onnx_file_with_options(ONNX_MODEL, options, &out), CGP_INVALID_ARGUMENT,
                "'mask', which is not a data input of the graph (its data inputs: 'image')");
    CHECK(out == UNTOUCHED_GRAPH);
    cgp_onnx_options_free(options);
    cgp_onnx_options_free(NULL);
}

/* Writes `len` pseudo-random bytes (a fixed xorshift sequence) to `path`. */
static int write_random_file(const char *path, size_t len) {
    FILE *file = fopen(path, "wb");
    if (file == NULL) return 0;
    uint64_t state = 0x9e3779b97f4a7c15u;
    for (size_t i = 0; i < len; i++) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        fputc((int)(state & 0xff), file);
    }
    return fclose(file) == 0;
}

static void predictor_entry_points(void) {
    struct cgp_predictor *out = (struct cgp_predictor *)(uintptr_t)0x5eed;
    const char *random_model = "target/hostile_random_model.onnx";
    CHECK(write_random_file(random_model, 4096));
    CHECK_ERROR(cgp_predictor_open(random_model, CGP_DEVICE_CPU, &out), CGP_MODEL_ERROR, random_model);
    CHECK_ERROR(cgp_predictor_open(ONNX_MODEL, CGP_DEVICE_CPU, &out), CGP_MODEL_ERROR, ONNX_MODEL);
    CHECK_ERROR(cgp_predictor_open("tests/fixtures/runtime/no_metadata.onnx", CGP_DEVICE_CPU, &out), CGP_MODEL_ERROR,
                "not a cgpredict model");
    CHECK_ERROR(cgp_predictor_open("tests/fixtures/runtime/bad_schema.onnx", CGP_DEVICE_CPU, &out), CGP_MODEL_ERROR,
                "feature schema");
    CHECK_ERROR(cgp_predictor_open("tests/fixtures/runtime/bad_vocabulary.onnx", CGP_DEVICE_CPU, &out), CGP_MODEL_ERROR,
                "op vocabulary");
    CHECK_ERROR(cgp_predictor_open("", CGP_DEVICE_CPU, &out), CGP_IO_ERROR, "");
    CHECK_ERROR(cgp_predictor_open(GOOD_MODEL, UINT32_MAX, &out), CGP_INVALID_ARGUMENT, "device");
    CHECK_ERROR(cgp_predictor_open(GOOD_MODEL, CGP_DEVICE_CPU, NULL), CGP_INVALID_ARGUMENT, "out is NULL");
    CHECK(out == (struct cgp_predictor *)(uintptr_t)0x5eed);
    remove(random_model);

    struct cgp_predictor *p = NULL;
    CHECK(cgp_predictor_open(GOOD_MODEL, CGP_DEVICE_CPU, &p) == CGP_OK);
    struct cgp_graph *g = NULL;
    CHECK(cgp_graph_from_nasbench201(NB201, 10, &g) == CGP_OK);
    const struct cgp_graph *graphs[2] = {g, g};
    float scores[2] = {-1, -1};
    size_t dim = 0, order[2] = {9, 9};
    enum cgp_device device = CGP_DEVICE_AUTO;
    CHECK(cgp_predictor_embedding_dim(p, &dim) == CGP_OK && dim > 0);
    float *embeddings = calloc(2 * dim, sizeof(float));

    CHECK_ERROR(cgp_predictor_device(NULL, &device), CGP_INVALID_ARGUMENT, "p is NULL");
    CHECK_ERROR(cgp_predictor_device(p, NULL), CGP_INVALID_ARGUMENT, "out is NULL");
    CHECK_ERROR(cgp_predictor_embedding_dim(NULL, &dim), CGP_INVALID_ARGUMENT, "p is NULL");
    CHECK_ERROR(cgp_predictor_embedding_dim(p, NULL), CGP_INVALID_ARGUMENT, "out is NULL");
    CHECK_ERROR(cgp_predictor_members(NULL, &dim), CGP_INVALID_ARGUMENT, "p is NULL");
    CHECK_ERROR(cgp_predictor_members(p, NULL), CGP_INVALID_ARGUMENT, "out is NULL");

    CHECK_ERROR(cgp_predict(NULL, graphs, 2, scores, 2), CGP_INVALID_ARGUMENT, "p is NULL");
    CHECK_ERROR(cgp_predict(p, NULL, 2, scores, 2), CGP_INVALID_ARGUMENT, "graphs is NULL");
    CHECK_ERROR(cgp_predict(p, graphs, 2, NULL, 2), CGP_INVALID_ARGUMENT, "out_scores is NULL");
    CHECK_ERROR(cgp_predict(p, graphs, 2, scores, 1), CGP_BUFFER_TOO_SMALL, "1 floats");
    CHECK_ERROR(cgp_predict(p, graphs, SIZE_MAX, scores, 2), CGP_INVALID_ARGUMENT, "too large");
    CHECK(scores[0] == -1 && scores[1] == -1);

    CHECK_ERROR(cgp_embed(NULL, graphs, 2, embeddings, 2 * dim), CGP_INVALID_ARGUMENT, "p is NULL");
    CHECK_ERROR(cgp_embed(p, NULL, 2, embeddings, 2 * dim), CGP_INVALID_ARGUMENT, "graphs is NULL");
    CHECK_ERROR(cgp_embed(p, graphs, 2, NULL, 2 * dim), CGP_INVALID_ARGUMENT, "out is NULL");
    CHECK_ERROR(cgp_embed(p, graphs, 2, embeddings, 2 * dim - 1), CGP_BUFFER_TOO_SMALL, "floats");
    CHECK_ERROR(cgp_embed(p, graphs, SIZE_MAX, embeddings, 2 * dim), CGP_INVALID_ARGUMENT, "too large");

    const float labels[2] = {1, 2};
    CHECK_ERROR(cgp_predictor_adapt(NULL, graphs, labels, 2), CGP_INVALID_ARGUMENT, "p is NULL");
    CHECK_ERROR(cgp_predictor_adapt(p, NULL, labels, 2), CGP_INVALID_ARGUMENT, "graphs is NULL");
    CHECK_ERROR(cgp_predictor_adapt(p, graphs, NULL, 2), CGP_INVALID_ARGUMENT, "labels is NULL");
    CHECK_ERROR(cgp_predictor_adapt(p, graphs, labels, SIZE_MAX), CGP_INVALID_ARGUMENT, "too large");

    CHECK_ERROR(cgp_rank(NULL, graphs, 2, order), CGP_INVALID_ARGUMENT, "p is NULL");
    CHECK_ERROR(cgp_rank(p, NULL, 2, order), CGP_INVALID_ARGUMENT, "graphs is NULL");
    CHECK_ERROR(cgp_rank(p, graphs, 2, NULL), CGP_INVALID_ARGUMENT, "out_order is NULL");
    CHECK_ERROR(cgp_rank(p, graphs, SIZE_MAX, order), CGP_INVALID_ARGUMENT, "too large");
    CHECK(order[0] == 9 && order[1] == 9);

    /* Zero graphs is a valid, empty batch. */
    CHECK(cgp_predict(p, NULL, 0, scores, 0) == CGP_OK);

    free(embeddings);
    cgp_graph_free(g);
    cgp_predictor_free(p);
    cgp_predictor_free(NULL);
}

int main(void) {
    graph_entry_points();
    benchmark_entry_points();
    onnx_and_limits();
    onnx_options();
    predictor_entry_points();
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("hostile input: all checks passed\n");
    return 0;
}
