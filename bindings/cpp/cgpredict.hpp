// cgpredict for C++17: a header-only wrapper of the C API in cgpredict.h.
//
// - cgp::Graph and cgp::Predictor own their C handles (RAII, move-only).
// - Every failing call throws cgp::Error, which carries the cgp_status and the library's
//   message; nothing is returned through out-parameters.
// - Batch calls take a pointer and a count (of cgp::Graph objects or of raw handles) or a
//   std::vector, and either fill a caller's buffer or return a std::vector.
// - Thread safety is the C library's: const member functions may run on several threads at
//   once; non-const ones (Graph::add_node, Predictor::adapt, ...) need exclusive access.
//
// Link with cgpredict::cgpredict (CMake) or `pkg-config --libs cgpredict`.
#ifndef CGPREDICT_HPP
#define CGPREDICT_HPP

#include "cgpredict.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cgp {

/// The outcome of a call, as cgp_status.
enum class Status : int {
    ok = CGP_OK,
    invalid_argument = CGP_INVALID_ARGUMENT,
    parse_error = CGP_PARSE_ERROR,
    unsupported = CGP_UNSUPPORTED,
    io_error = CGP_IO_ERROR,
    model_error = CGP_MODEL_ERROR,
    runtime_error = CGP_RUNTIME_ERROR,
    buffer_too_small = CGP_BUFFER_TOO_SMALL,
    panic = CGP_PANIC,
};

/// The C name of a status ("CGP_PARSE_ERROR"), or "CGP_UNKNOWN_STATUS".
inline const char *to_string(Status status) noexcept {
    switch (status) {
    case Status::ok: return "CGP_OK";
    case Status::invalid_argument: return "CGP_INVALID_ARGUMENT";
    case Status::parse_error: return "CGP_PARSE_ERROR";
    case Status::unsupported: return "CGP_UNSUPPORTED";
    case Status::io_error: return "CGP_IO_ERROR";
    case Status::model_error: return "CGP_MODEL_ERROR";
    case Status::runtime_error: return "CGP_RUNTIME_ERROR";
    case Status::buffer_too_small: return "CGP_BUFFER_TOO_SMALL";
    case Status::panic: return "CGP_PANIC";
    }
    return "CGP_UNKNOWN_STATUS";
}

/// Where a predictor runs, as cgp_device.
enum class Device : std::uint32_t {
    automatic = CGP_DEVICE_AUTO,  ///< CUDA when available, else the CPU.
    cpu = CGP_DEVICE_CPU,
    cuda = CGP_DEVICE_CUDA,
};

/// A failed call: the status and the library's message (what()).
class Error : public std::runtime_error {
public:
    Error(Status status, const std::string &message) : std::runtime_error(message), status_(status) {}

    /// The status the call returned.
    Status status() const noexcept { return status_; }

private:
    Status status_;
};

namespace detail {

// Throws for a failed status, with this thread's message (read before anything else can
// overwrite it).
inline void check(cgp_status status) {
    if (status != CGP_OK) {
        throw Error(static_cast<Status>(status), cgp_last_error_message());
    }
}

// Copies a string from the library into a std::string and releases the original.
inline std::string take_string(char *text) {
    struct Free {
        void operator()(char *s) const noexcept { cgp_string_free(s); }
    };
    std::unique_ptr<char, Free> owned(text);
    return std::string(owned.get());
}

}  // namespace detail

/// The library's version, "MAJOR.MINOR.PATCH" (compare with CGP_VERSION_STRING).
inline std::string version() { return cgp_version(); }

/// The message of this thread's last failed call ("" if none); cgp::Error already carries it.
inline std::string last_error_message() { return cgp_last_error_message(); }

/// One node for Graph::add_node; the fields of cgp_node_desc with `op` as a std::string.
/// Fields left 0 mean "not given" where the README allows it.
struct NodeDesc {
    std::string op;                 ///< "conv", "batch_norm", ... or "unknown:NAME".
    std::uint32_t in_h = 0, in_w = 0, in_c = 0;
    std::uint32_t out_h = 0, out_w = 0, out_c = 0;
    std::uint32_t kernel_h = 0, kernel_w = 0;
    std::uint32_t stride_h = 0, stride_w = 0;
    std::uint32_t dilation_h = 0, dilation_w = 0;
    std::uint32_t groups = 0;
    bool has_bias = false;          ///< For normalizations: affine.
};

/// Resource limits for the readers and importers that take them (owns a cgp_limits): the most
/// nodes and edges of a graph and the most bytes of an ONNX model. Holds the library's
/// defaults (1,000,000 nodes, 4,000,000 edges, 2 GiB) until changed; input beyond a limit
/// throws Status::unsupported naming the limit. Move-only.
class Limits {
public:
    Limits() { detail::check(cgp_limits_new(&handle_)); }
    Limits(Limits &&other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
    Limits &operator=(Limits &&other) noexcept {
        if (this != &other) {
            cgp_limits_free(handle_);
            handle_ = std::exchange(other.handle_, nullptr);
        }
        return *this;
    }
    Limits(const Limits &) = delete;
    Limits &operator=(const Limits &) = delete;
    ~Limits() { cgp_limits_free(handle_); }

    /// Sets the most nodes of one graph (at least 1); returns *this for chaining.
    Limits &max_nodes(std::size_t value) {
        detail::check(cgp_limits_set_max_nodes(handle_, value));
        return *this;
    }

    /// Sets the most edges of one graph (at least 1).
    Limits &max_edges(std::size_t value) {
        detail::check(cgp_limits_set_max_edges(handle_, value));
        return *this;
    }

    /// Sets the most bytes of an ONNX model, after gzip inflation (at least 1).
    Limits &max_onnx_bytes(std::uint64_t value) {
        detail::check(cgp_limits_set_max_onnx_bytes(handle_, value));
        return *this;
    }

    /// The C handle, owned by this object.
    const cgp_limits *get() const noexcept { return handle_; }

private:
    cgp_limits *handle_ = nullptr;
};

/// Options for Graph::from_onnx_file and Graph::from_onnx_bytes (owns a cgp_onnx_options):
/// shapes for graph inputs in place of the declared ones (inputs with symbolic height, width
/// or sequence length, or another resolution) and limits. Move-only.
class OnnxOptions {
public:
    OnnxOptions() { detail::check(cgp_onnx_options_new(&handle_)); }
    OnnxOptions(OnnxOptions &&other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
    OnnxOptions &operator=(OnnxOptions &&other) noexcept {
        if (this != &other) {
            cgp_onnx_options_free(handle_);
            handle_ = std::exchange(other.handle_, nullptr);
        }
        return *this;
    }
    OnnxOptions(const OnnxOptions &) = delete;
    OnnxOptions &operator=(const OnnxOptions &) = delete;
    ~OnnxOptions() { cgp_onnx_options_free(handle_); }

    /// Sets the shape of the graph input `name` (positive sizes, as many as the model
    /// declares); returns *this for chaining. Import throws Status::invalid_argument naming
    /// the input when it is not a data input of the model or its rank differs.
    OnnxOptions &input_shape(const std::string &name, const std::vector<std::uint64_t> &dims) {
        detail::check(cgp_onnx_options_set_input_shape(handle_, name.c_str(), dims.data(), dims.size()));
        return *this;
    }

    /// Sets the shape of the model's first data input.
    OnnxOptions &first_input_shape(const std::vector<std::uint64_t> &dims) {
        detail::check(cgp_onnx_options_set_input_shape(handle_, nullptr, dims.data(), dims.size()));
        return *this;
    }

    /// Imports with these limits (copied).
    OnnxOptions &limits(const Limits &limits) {
        detail::check(cgp_onnx_options_set_limits(handle_, limits.get()));
        return *this;
    }

    /// The C handle, owned by this object.
    const cgp_onnx_options *get() const noexcept { return handle_; }

private:
    cgp_onnx_options *handle_ = nullptr;
};

/// A computation graph (owns a cgp_graph). Move-only; a moved-from Graph holds no handle and
/// its calls throw Status::invalid_argument.
class Graph {
public:
    /// An empty graph.
    Graph() { detail::check(cgp_graph_new(&handle_)); }

    /// Takes ownership of a handle from the C API (NULL gives an empty-handed Graph).
    explicit Graph(cgp_graph *owned) noexcept : handle_(owned) {}

    Graph(Graph &&other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
    Graph &operator=(Graph &&other) noexcept {
        if (this != &other) {
            cgp_graph_free(handle_);
            handle_ = std::exchange(other.handle_, nullptr);
        }
        return *this;
    }
    Graph(const Graph &) = delete;
    Graph &operator=(const Graph &) = delete;
    ~Graph() { cgp_graph_free(handle_); }

    /// Reads a graph from cgpredict's JSON format (see the README).
    static Graph from_json(std::string_view json) {
        cgp_graph *out = nullptr;
        detail::check(cgp_graph_from_json(json.data(), json.size(), &out));
        return Graph(out);
    }

    /// Reads a graph from cgpredict's JSON format within `limits`.
    static Graph from_json(std::string_view json, const Limits &limits) {
        cgp_graph *out = nullptr;
        detail::check(cgp_graph_from_json_with_limits(json.data(), json.size(), limits.get(), &out));
        return Graph(out);
    }

    /// Imports the structure and shapes of an ONNX model file (plain or gzip-compressed).
    static Graph from_onnx_file(const std::string &path) {
        cgp_graph *out = nullptr;
        detail::check(cgp_graph_from_onnx_file(path.c_str(), &out));
        return Graph(out);
    }

    /// Imports an ONNX model file within `limits`.
    static Graph from_onnx_file(const std::string &path, const Limits &limits) {
        cgp_graph *out = nullptr;
        detail::check(cgp_graph_from_onnx_file_with_limits(path.c_str(), limits.get(), &out));
        return Graph(out);
    }

    /// Imports an ONNX model file with `options` (input shapes, limits).
    static Graph from_onnx_file(const std::string &path, const OnnxOptions &options) {
        cgp_graph *out = nullptr;
        detail::check(cgp_graph_from_onnx_file_with_options(path.c_str(), options.get(), &out));
        return Graph(out);
    }

    /// Imports an ONNX model from `len` bytes of protobuf.
    static Graph from_onnx_bytes(const std::uint8_t *data, std::size_t len) {
        cgp_graph *out = nullptr;
        detail::check(cgp_graph_from_onnx_bytes(data, len, &out));
        return Graph(out);
    }

    /// Imports an ONNX model from `len` bytes of protobuf within `limits`.
    static Graph from_onnx_bytes(const std::uint8_t *data, std::size_t len, const Limits &limits) {
        cgp_graph *out = nullptr;
        detail::check(cgp_graph_from_onnx_bytes_with_limits(data, len, limits.get(), &out));
        return Graph(out);
    }

    /// Imports an ONNX model from `len` bytes of protobuf with `options`.
    static Graph from_onnx_bytes(const std::uint8_t *data, std::size_t len, const OnnxOptions &options) {
        cgp_graph *out = nullptr;
        detail::check(cgp_graph_from_onnx_bytes_with_options(data, len, options.get(), &out));
        return Graph(out);
    }

    /// Imports an ONNX model from its protobuf bytes with `options`.
    static Graph from_onnx_bytes(const std::vector<std::uint8_t> &bytes, const OnnxOptions &options) {
        return from_onnx_bytes(bytes.data(), bytes.size(), options);
    }

    /// Imports an ONNX model from its protobuf bytes.
    static Graph from_onnx_bytes(const std::vector<std::uint8_t> &bytes) {
        return from_onnx_bytes(bytes.data(), bytes.size());
    }

    /// Imports an ONNX model from its protobuf bytes within `limits`.
    static Graph from_onnx_bytes(const std::vector<std::uint8_t> &bytes, const Limits &limits) {
        return from_onnx_bytes(bytes.data(), bytes.size(), limits);
    }

    /// The NAS-Bench-101 network of a cell: `adjacency` is n x n row-major 0/1, `ops` n names.
    static Graph from_nasbench101(const std::uint8_t *adjacency, std::size_t n, const char *const *ops) {
        cgp_graph *out = nullptr;
        detail::check(cgp_graph_from_nasbench101(adjacency, n, ops, &out));
        return Graph(out);
    }

    /// The NAS-Bench-101 network of a cell; `adjacency` must hold ops.size() squared entries.
    static Graph from_nasbench101(const std::vector<std::uint8_t> &adjacency, const std::vector<std::string> &ops) {
        if (adjacency.size() != ops.size() * ops.size()) {
            throw Error(Status::invalid_argument,
                        "adjacency has " + std::to_string(adjacency.size()) + " entries, " +
                            std::to_string(ops.size() * ops.size()) + " expected for " +
                            std::to_string(ops.size()) + " ops");
        }
        std::vector<const char *> names;
        names.reserve(ops.size());
        for (const std::string &op : ops) names.push_back(op.c_str());
        return from_nasbench101(adjacency.data(), ops.size(), names.data());
    }

    /// The NAS-Bench-201 network of an architecture string, for `num_classes` classes.
    static Graph from_nasbench201(const std::string &arch, std::uint32_t num_classes = 10) {
        cgp_graph *out = nullptr;
        detail::check(cgp_graph_from_nasbench201(arch.c_str(), num_classes, &out));
        return Graph(out);
    }

    /// The NAS-Bench-301 (DARTS) network of a genotype in JSON.
    static Graph from_darts(const std::string &genotype_json) {
        cgp_graph *out = nullptr;
        detail::check(cgp_graph_from_darts(genotype_json.c_str(), &out));
        return Graph(out);
    }

    /// A Once-for-All MobileNetV3 (w1.0) subnet: kernel sizes, expand ratios, stage depths.
    static Graph from_ofa_mbv3(const std::array<std::uint8_t, 20> &ks, const std::array<std::uint8_t, 20> &e,
                               const std::array<std::uint8_t, 5> &d, std::uint32_t resolution = 224) {
        cgp_graph *out = nullptr;
        detail::check(cgp_graph_from_ofa_mbv3(ks.data(), e.data(), d.data(), resolution, &out));
        return Graph(out);
    }

    /// Adds a checked node and returns its id (0, 1, 2, ... in order of addition).
    std::uint32_t add_node(const NodeDesc &node) {
        cgp_node_desc desc{};
        desc.op = node.op.c_str();
        desc.in_h = node.in_h;
        desc.in_w = node.in_w;
        desc.in_c = node.in_c;
        desc.out_h = node.out_h;
        desc.out_w = node.out_w;
        desc.out_c = node.out_c;
        desc.kernel_h = node.kernel_h;
        desc.kernel_w = node.kernel_w;
        desc.stride_h = node.stride_h;
        desc.stride_w = node.stride_w;
        desc.dilation_h = node.dilation_h;
        desc.dilation_w = node.dilation_w;
        desc.groups = node.groups;
        desc.has_bias = node.has_bias;
        std::uint32_t id = 0;
        detail::check(cgp_graph_add_node(handle_, &desc, &id));
        return id;
    }

    /// Adds the edge from -> to; an existing edge is a no-op.
    void add_edge(std::uint32_t from, std::uint32_t to) { detail::check(cgp_graph_add_edge(handle_, from, to)); }

    /// The number of nodes.
    std::size_t node_count() const {
        std::size_t n = 0;
        detail::check(cgp_graph_node_count(handle_, &n));
        return n;
    }

    /// The number of edges.
    std::size_t edge_count() const {
        std::size_t n = 0;
        detail::check(cgp_graph_edge_count(handle_, &n));
        return n;
    }

    /// Learned parameters (weights and biases).
    std::uint64_t param_count() const {
        std::uint64_t n = 0;
        detail::check(cgp_graph_param_count(handle_, &n));
        return n;
    }

    /// Multiply-accumulates of one forward pass.
    std::uint64_t macs() const {
        std::uint64_t n = 0;
        detail::check(cgp_graph_macs(handle_, &n));
        return n;
    }

    /// The graph in cgpredict's JSON format.
    std::string to_json() const {
        char *text = nullptr;
        detail::check(cgp_graph_to_json(handle_, &text));
        return detail::take_string(text);
    }

    /// The graph in Graphviz DOT.
    std::string to_dot() const {
        char *text = nullptr;
        detail::check(cgp_graph_to_dot(handle_, &text));
        return detail::take_string(text);
    }

    /// Writes the k smallest normalized-Laplacian eigenvalues, ascending, into out[0..k).
    void spectrum(std::size_t k, double *out, std::size_t out_len) const {
        detail::check(cgp_graph_spectrum(handle_, k, out, out_len));
    }

    /// The k smallest normalized-Laplacian eigenvalues, ascending (the paper uses k = 11).
    std::vector<double> spectrum(std::size_t k = 11) const {
        std::vector<double> values(k);
        // An empty vector has no buffer; pass a real one so that k = 0 is what gets reported.
        double unused = 0;
        spectrum(k, k > 0 ? values.data() : &unused, values.size());
        return values;
    }

    /// The C handle, still owned by this Graph (NULL after a move).
    cgp_graph *get() noexcept { return handle_; }
    /// The C handle, still owned by this Graph (NULL after a move).
    const cgp_graph *get() const noexcept { return handle_; }
    /// Gives up ownership: the caller frees the handle with cgp_graph_free.
    cgp_graph *release() noexcept { return std::exchange(handle_, nullptr); }
    /// Whether this Graph holds a handle.
    explicit operator bool() const noexcept { return handle_ != nullptr; }

private:
    cgp_graph *handle_ = nullptr;
};

/// The spectral distance of two graphs: the Euclidean distance of their k-spectra.
inline double spectral_distance(const Graph &a, const Graph &b, std::size_t k = 11) {
    double distance = 0;
    detail::check(cgp_spectral_distance(a.get(), b.get(), k, &distance));
    return distance;
}

/// The import report (JSON) of this thread's last successful Graph::from_onnx_* call.
inline std::string onnx_last_report_json() {
    char *text = nullptr;
    detail::check(cgp_onnx_last_report_json(&text));
    return detail::take_string(text);
}

/// A cgpredict model in ONNX Runtime (owns a cgp_predictor). Move-only. The const calls
/// (predict, embed, getters) may run on several threads at once; adapt needs exclusive access.
class Predictor {
public:
    /// Opens the model bundled in the library.
    explicit Predictor(Device device = Device::automatic) { open(nullptr, device); }

    /// Opens a model file.
    explicit Predictor(const std::string &model_path, Device device = Device::automatic) {
        open(model_path.c_str(), device);
    }

    Predictor(Predictor &&other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
    Predictor &operator=(Predictor &&other) noexcept {
        if (this != &other) {
            cgp_predictor_free(handle_);
            handle_ = std::exchange(other.handle_, nullptr);
        }
        return *this;
    }
    Predictor(const Predictor &) = delete;
    Predictor &operator=(const Predictor &) = delete;
    ~Predictor() { cgp_predictor_free(handle_); }

    /// The device that runs the model (cpu or cuda).
    Device device() const {
        cgp_device device = CGP_DEVICE_AUTO;
        detail::check(cgp_predictor_device(handle_, &device));
        return static_cast<Device>(device);
    }

    /// The width of the model's embeddings.
    std::size_t embedding_dim() const {
        std::size_t dim = 0;
        detail::check(cgp_predictor_embedding_dim(handle_, &dim));
        return dim;
    }

    /// The number of networks the model averages (1 for a single network); its embedding is
    /// theirs side by side, embedding_dim() / members() floats each, and adapt and
    /// adapt_ranking fit one head per member.
    std::size_t members() const {
        std::size_t members = 0;
        detail::check(cgp_predictor_members(handle_, &members));
        return members;
    }

    /// Scores n graphs (raw handles) into out[0..n); out_len < n throws buffer_too_small.
    void predict(const cgp_graph *const *graphs, std::size_t n, float *out, std::size_t out_len) const {
        detail::check(cgp_predict(handle_, graphs, n, out, out_len));
    }

    /// Scores n contiguous graphs into out[0..n).
    void predict(const Graph *graphs, std::size_t n, float *out, std::size_t out_len) const {
        std::vector<const cgp_graph *> handles = handles_of(graphs, n);
        predict(handles.data(), n, out, out_len);
    }

    /// Scores n contiguous graphs (higher = better predicted accuracy).
    std::vector<float> predict(const Graph *graphs, std::size_t n) const {
        std::vector<float> scores(n);
        predict(graphs, n, scores.data(), scores.size());
        return scores;
    }

    /// Scores a batch of graphs.
    std::vector<float> predict(const std::vector<Graph> &graphs) const { return predict(graphs.data(), graphs.size()); }

    /// Scores a batch of graphs held elsewhere.
    std::vector<float> predict(const std::vector<const Graph *> &graphs) const {
        std::vector<const cgp_graph *> handles = handles_of(graphs);
        std::vector<float> scores(graphs.size());
        predict(handles.data(), handles.size(), scores.data(), scores.size());
        return scores;
    }

    /// Scores one graph.
    float predict(const Graph &graph) const {
        float score = 0;
        predict(&graph, 1, &score, 1);
        return score;
    }

    /// The indices of n graphs (raw handles), best predicted first (cgp_rank).
    std::vector<std::size_t> rank(const cgp_graph *const *graphs, std::size_t n) const {
        std::vector<std::size_t> order(n);
        detail::check(cgp_rank(handle_, graphs, n, order.data()));
        return order;
    }

    /// The indices of a batch of graphs, best predicted first.
    std::vector<std::size_t> rank(const std::vector<Graph> &graphs) const {
        std::vector<const cgp_graph *> handles = handles_of(graphs.data(), graphs.size());
        return rank(handles.data(), handles.size());
    }

    /// Writes the embeddings of n graphs (raw handles), row-major n x embedding_dim().
    void embed(const cgp_graph *const *graphs, std::size_t n, float *out, std::size_t out_len) const {
        detail::check(cgp_embed(handle_, graphs, n, out, out_len));
    }

    /// Writes the embeddings of n contiguous graphs, row-major n x embedding_dim().
    void embed(const Graph *graphs, std::size_t n, float *out, std::size_t out_len) const {
        std::vector<const cgp_graph *> handles = handles_of(graphs, n);
        embed(handles.data(), n, out, out_len);
    }

    /// The embeddings of n contiguous graphs, row-major n x embedding_dim().
    std::vector<float> embed(const Graph *graphs, std::size_t n) const {
        std::vector<float> values(n * embedding_dim());
        embed(graphs, n, values.data(), values.size());
        return values;
    }

    /// The embeddings of a batch, row-major graphs.size() x embedding_dim().
    std::vector<float> embed(const std::vector<Graph> &graphs) const { return embed(graphs.data(), graphs.size()); }

    /// The embeddings of a batch held elsewhere, row-major graphs.size() x embedding_dim().
    std::vector<float> embed(const std::vector<const Graph *> &graphs) const {
        std::vector<const cgp_graph *> handles = handles_of(graphs);
        std::vector<float> values(graphs.size() * embedding_dim());
        embed(handles.data(), handles.size(), values.data(), values.size());
        return values;
    }

    /// Fits a new head on n labeled graphs (raw handles; labels higher = better).
    void adapt(const cgp_graph *const *graphs, const float *labels, std::size_t n) {
        detail::check(cgp_predictor_adapt(handle_, graphs, labels, n));
    }

    /// Fits a new head on n contiguous labeled graphs.
    void adapt(const Graph *graphs, const float *labels, std::size_t n) {
        std::vector<const cgp_graph *> handles = handles_of(graphs, n);
        adapt(handles.data(), labels, n);
    }

    /// Fits a new head on labeled graphs; the sizes must agree.
    void adapt(const std::vector<Graph> &graphs, const std::vector<float> &labels) {
        check_sizes(graphs.size(), labels.size());
        adapt(graphs.data(), labels.data(), graphs.size());
    }

    /// Fits a new head on labeled graphs held elsewhere; the sizes must agree.
    void adapt(const std::vector<const Graph *> &graphs, const std::vector<float> &labels) {
        check_sizes(graphs.size(), labels.size());
        std::vector<const cgp_graph *> handles = handles_of(graphs);
        adapt(handles.data(), labels.data(), handles.size());
    }

    /// Fits a head for ranking on n labeled graphs (raw handles): on the embeddings and the
    /// model's score, against the ranks of the labels; scores are then in rank units.
    void adapt_ranking(const cgp_graph *const *graphs, const float *labels, std::size_t n) {
        detail::check(cgp_predictor_adapt_ranking(handle_, graphs, labels, n));
    }

    /// Fits a head for ranking on labeled graphs; the sizes must agree.
    void adapt_ranking(const std::vector<Graph> &graphs, const std::vector<float> &labels) {
        check_sizes(graphs.size(), labels.size());
        std::vector<const cgp_graph *> handles = handles_of(graphs.data(), graphs.size());
        adapt_ranking(handles.data(), labels.data(), handles.size());
    }

    /// Fits a head for ranking on labeled graphs held elsewhere; the sizes must agree.
    void adapt_ranking(const std::vector<const Graph *> &graphs, const std::vector<float> &labels) {
        check_sizes(graphs.size(), labels.size());
        std::vector<const cgp_graph *> handles = handles_of(graphs);
        adapt_ranking(handles.data(), labels.data(), handles.size());
    }

    /// The C handle, still owned by this Predictor (NULL after a move).
    cgp_predictor *get() noexcept { return handle_; }
    /// The C handle, still owned by this Predictor (NULL after a move).
    const cgp_predictor *get() const noexcept { return handle_; }
    /// Gives up ownership: the caller frees the handle with cgp_predictor_free.
    cgp_predictor *release() noexcept { return std::exchange(handle_, nullptr); }
    /// Whether this Predictor holds a handle.
    explicit operator bool() const noexcept { return handle_ != nullptr; }

private:
    void open(const char *path, Device device) {
        detail::check(cgp_predictor_open(path, static_cast<std::uint32_t>(device), &handle_));
    }

    static std::vector<const cgp_graph *> handles_of(const Graph *graphs, std::size_t n) {
        if (graphs == nullptr && n > 0) {
            throw Error(Status::invalid_argument, "graphs is NULL but n is " + std::to_string(n));
        }
        std::vector<const cgp_graph *> handles(n);
        for (std::size_t i = 0; i < n; i++) handles[i] = graphs[i].get();
        return handles;
    }

    // A NULL entry becomes a NULL handle, which the library reports as graphs[i] is NULL.
    static std::vector<const cgp_graph *> handles_of(const std::vector<const Graph *> &graphs) {
        std::vector<const cgp_graph *> handles(graphs.size());
        for (std::size_t i = 0; i < graphs.size(); i++) handles[i] = graphs[i] ? graphs[i]->get() : nullptr;
        return handles;
    }

    static void check_sizes(std::size_t graphs, std::size_t labels) {
        if (graphs != labels) {
            throw Error(Status::invalid_argument, std::to_string(graphs) + " graphs but " +
                                                      std::to_string(labels) + " labels");
        }
    }

    cgp_predictor *handle_ = nullptr;
};

}  // namespace cgp

#endif  // CGPREDICT_HPP
