"""
    CGPredict

Julia bindings of the cgpredict C library: predict neural-network accuracy from computation
graphs. `Graph` and `Predictor` own C handles; `close` releases one at once, a finalizer
releases a forgotten one. Failures throw `CGPredictError` with the library's status and
message.

The library is loaded as `ENV["CGPREDICT_LIBRARY"]` when the package is (pre)compiled, else as
`libcgpredict` from the system loader's path (`LD_LIBRARY_PATH`, `ldconfig`); see the README.

Threads: `predict`, `embed` and the getters may run on several threads at once on one
`Predictor` and on one `Graph`; `add_node!`, `add_edge!`, `adapt!` and `close` need exclusive
access.
"""
module CGPredict

export Graph, Predictor, NodeDesc, CGPredictError, Status, Device, Limits, OnnxOptions
export set_max_nodes!, set_max_edges!, set_max_onnx_bytes!
export set_input_shape!, set_first_input_shape!, set_limits!
export add_node!, add_edge!, node_count, edge_count, param_count, macs, to_json, to_dot
export spectrum, spectral_distance, onnx_last_report_json
export graph_from_json, graph_from_onnx_file, graph_from_onnx_bytes
export graph_from_nasbench101, graph_from_nasbench201, graph_from_darts, graph_from_ofa_mbv3
export device, embedding_dim, members, predict, predict!, rank, embed, adapt!, adapt_ranking!, library_version

"""Path or name of the shared library, fixed when the package is compiled."""
const libcgpredict = get(ENV, "CGPREDICT_LIBRARY", "libcgpredict")

"""The outcome of a call (the C `cgp_status`)."""
@enum Status::Cint begin
    CGP_OK = 0
    CGP_INVALID_ARGUMENT = 1
    CGP_PARSE_ERROR = 2
    CGP_UNSUPPORTED = 3
    CGP_IO_ERROR = 4
    CGP_MODEL_ERROR = 5
    CGP_RUNTIME_ERROR = 6
    CGP_BUFFER_TOO_SMALL = 7
    CGP_PANIC = 99
end

"""Where a predictor runs (the C `cgp_device`): auto (CUDA when available), CPU, CUDA."""
@enum Device::Cint begin
    CGP_DEVICE_AUTO = 0
    CGP_DEVICE_CPU = 1
    CGP_DEVICE_CUDA = 2
end

"""A failed call: the status the library returned and its message."""
struct CGPredictError <: Exception
    status::Status
    message::String
end

Base.showerror(io::IO, e::CGPredictError) = print(io, "CGPredictError(", e.status, "): ", e.message)

# The C types: opaque handles and the node description, field for field as in cgpredict.h.
struct cgp_graph end
struct cgp_predictor end
struct cgp_limits end
struct cgp_onnx_options end

struct cgp_node_desc
    op::Cstring
    in_h::UInt32
    in_w::UInt32
    in_c::UInt32
    out_h::UInt32
    out_w::UInt32
    out_c::UInt32
    kernel_h::UInt32
    kernel_w::UInt32
    stride_h::UInt32
    stride_w::UInt32
    dilation_h::UInt32
    dilation_w::UInt32
    groups::UInt32
    has_bias::Bool
end

# Throws for a failed status with this thread's message. Tasks switch threads only at yield
# points, and none lies between the failing ccall and this read.
function check(status::Cint)
    status == Cint(CGP_OK) && return nothing
    message = unsafe_string(ccall((:cgp_last_error_message, libcgpredict), Cstring, ()))
    throw(CGPredictError(Status(status), message))
end

invalid(message) = throw(CGPredictError(CGP_INVALID_ARGUMENT, message))

# Copies a string returned by the library and releases the original.
function take_string(text::Ptr{Cchar})
    try
        return unsafe_string(text)
    finally
        ccall((:cgp_string_free, libcgpredict), Cvoid, (Ptr{Cchar},), text)
    end
end

"""The C library's version, `"MAJOR.MINOR.PATCH"`."""
library_version() = unsafe_string(ccall((:cgp_version, libcgpredict), Cstring, ()))

"""The message of this thread's last failed call (`CGPredictError` already carries it)."""
last_error_message() = unsafe_string(ccall((:cgp_last_error_message, libcgpredict), Cstring, ()))

"""
    Graph()

A computation graph (owns a C `cgp_graph`); empty when made with `Graph()`. Release it with
`close`; the finalizer does so otherwise.
"""
mutable struct Graph
    ptr::Ptr{cgp_graph}
    function Graph(ptr::Ptr{cgp_graph})
        g = new(ptr)
        finalizer(close, g)
        return g
    end
end

function Graph()
    out = Ref{Ptr{cgp_graph}}(C_NULL)
    check(ccall((:cgp_graph_new, libcgpredict), Cint, (Ref{Ptr{cgp_graph}},), out))
    return Graph(out[])
end

"""Releases the graph; later calls on it throw, and a second `close` does nothing."""
function Base.close(g::Graph)
    if g.ptr != C_NULL
        ccall((:cgp_graph_free, libcgpredict), Cvoid, (Ptr{cgp_graph},), g.ptr)
        g.ptr = C_NULL
    end
    return nothing
end

handle(g::Graph) = g.ptr == C_NULL ? invalid("the graph is closed") : g.ptr

"""
    NodeDesc(op; input=(h, w, c), output=(h, w, c), kernel=(0, 0), stride=(0, 0),
             dilation=(0, 0), groups=0, has_bias=false)

One node for `add_node!`: `op` is a vocabulary name ("conv", "batch_norm", ...) or
"unknown:NAME"; sizes are height, width, channels; 0 means "not given" where allowed.
"""
struct NodeDesc
    op::String
    input::NTuple{3,UInt32}
    output::NTuple{3,UInt32}
    kernel::NTuple{2,UInt32}
    stride::NTuple{2,UInt32}
    dilation::NTuple{2,UInt32}
    groups::UInt32
    has_bias::Bool
end

NodeDesc(op::AbstractString; input, output, kernel=(0, 0), stride=(0, 0), dilation=(0, 0), groups=0,
         has_bias=false) = NodeDesc(String(op), input, output, kernel, stride, dilation, groups, has_bias)

"""Adds a checked node to `g` and returns its id (0, 1, 2, ... in order of addition)."""
function add_node!(g::Graph, node::NodeDesc)
    op = node.op
    occursin('\0', op) && invalid("op contains a NUL byte")
    id = Ref{UInt32}(0)
    GC.@preserve g op begin
        desc = Ref(cgp_node_desc(Base.unsafe_convert(Cstring, op), node.input..., node.output..., node.kernel...,
                                 node.stride..., node.dilation..., node.groups, node.has_bias))
        check(ccall((:cgp_graph_add_node, libcgpredict), Cint,
                    (Ptr{cgp_graph}, Ref{cgp_node_desc}, Ref{UInt32}), handle(g), desc, id))
    end
    return id[]
end

"""Adds the edge `from -> to`; unknown ids, self-loops and cycles throw."""
function add_edge!(g::Graph, from::Integer, to::Integer)
    GC.@preserve g check(ccall((:cgp_graph_add_edge, libcgpredict), Cint,
                               (Ptr{cgp_graph}, UInt32, UInt32), handle(g), from, to))
    return g
end

"""The number of nodes."""
function node_count(g::Graph)
    out = Ref{Csize_t}(0)
    GC.@preserve g check(ccall((:cgp_graph_node_count, libcgpredict), Cint,
                               (Ptr{cgp_graph}, Ref{Csize_t}), handle(g), out))
    return Int(out[])
end

"""The number of edges."""
function edge_count(g::Graph)
    out = Ref{Csize_t}(0)
    GC.@preserve g check(ccall((:cgp_graph_edge_count, libcgpredict), Cint,
                               (Ptr{cgp_graph}, Ref{Csize_t}), handle(g), out))
    return Int(out[])
end

"""Learned parameters (weights and biases)."""
function param_count(g::Graph)
    out = Ref{UInt64}(0)
    GC.@preserve g check(ccall((:cgp_graph_param_count, libcgpredict), Cint,
                               (Ptr{cgp_graph}, Ref{UInt64}), handle(g), out))
    return out[]
end

"""Multiply-accumulates of one forward pass."""
function macs(g::Graph)
    out = Ref{UInt64}(0)
    GC.@preserve g check(ccall((:cgp_graph_macs, libcgpredict), Cint,
                               (Ptr{cgp_graph}, Ref{UInt64}), handle(g), out))
    return out[]
end

"""The graph in cgpredict's JSON format."""
function to_json(g::Graph)
    out = Ref{Ptr{Cchar}}(C_NULL)
    GC.@preserve g check(ccall((:cgp_graph_to_json, libcgpredict), Cint,
                               (Ptr{cgp_graph}, Ref{Ptr{Cchar}}), handle(g), out))
    return take_string(out[])
end

"""The graph in Graphviz DOT."""
function to_dot(g::Graph)
    out = Ref{Ptr{Cchar}}(C_NULL)
    GC.@preserve g check(ccall((:cgp_graph_to_dot, libcgpredict), Cint,
                               (Ptr{cgp_graph}, Ref{Ptr{Cchar}}), handle(g), out))
    return take_string(out[])
end

"""Reads a graph in cgpredict's JSON format and validates it."""
function graph_from_json(json::AbstractString)
    text = String(json)
    out = Ref{Ptr{cgp_graph}}(C_NULL)
    GC.@preserve text check(ccall((:cgp_graph_from_json, libcgpredict), Cint,
                                  (Ptr{Cchar}, Csize_t, Ref{Ptr{cgp_graph}}), text, sizeof(text), out))
    return Graph(out[])
end

"""
    Limits()

Resource limits for the readers and importers that take them (owns a C `cgp_limits`): the
most nodes and edges of a graph and the most bytes of an ONNX model. Holds the library's
defaults (1,000,000 nodes, 4,000,000 edges, 2 GiB) until changed with `set_max_nodes!`,
`set_max_edges!`, `set_max_onnx_bytes!`; input beyond a limit throws `CGP_UNSUPPORTED`
naming the limit.
"""
mutable struct Limits
    ptr::Ptr{cgp_limits}
    function Limits()
        out = Ref{Ptr{cgp_limits}}(C_NULL)
        check(ccall((:cgp_limits_new, libcgpredict), Cint, (Ref{Ptr{cgp_limits}},), out))
        l = new(out[])
        finalizer(close, l)
        return l
    end
end

"""Releases the limits; later calls with them throw, and a second `close` does nothing."""
function Base.close(l::Limits)
    if l.ptr != C_NULL
        ccall((:cgp_limits_free, libcgpredict), Cvoid, (Ptr{cgp_limits},), l.ptr)
        l.ptr = C_NULL
    end
    return nothing
end

handle(l::Limits) = l.ptr == C_NULL ? invalid("the limits are closed") : l.ptr

"""Sets the most nodes of one graph (at least 1); returns the limits."""
function set_max_nodes!(l::Limits, max_nodes::Integer)
    GC.@preserve l check(ccall((:cgp_limits_set_max_nodes, libcgpredict), Cint,
                               (Ptr{cgp_limits}, Csize_t), handle(l), max_nodes))
    return l
end

"""Sets the most edges of one graph (at least 1); returns the limits."""
function set_max_edges!(l::Limits, max_edges::Integer)
    GC.@preserve l check(ccall((:cgp_limits_set_max_edges, libcgpredict), Cint,
                               (Ptr{cgp_limits}, Csize_t), handle(l), max_edges))
    return l
end

"""Sets the most bytes of an ONNX model, after gzip inflation (at least 1); returns the limits."""
function set_max_onnx_bytes!(l::Limits, max_onnx_bytes::Integer)
    GC.@preserve l check(ccall((:cgp_limits_set_max_onnx_bytes, libcgpredict), Cint,
                               (Ptr{cgp_limits}, UInt64), handle(l), max_onnx_bytes))
    return l
end

"""Reads a graph in cgpredict's JSON format within `limits`."""
function graph_from_json(json::AbstractString, limits::Limits)
    text = String(json)
    out = Ref{Ptr{cgp_graph}}(C_NULL)
    GC.@preserve text limits check(ccall((:cgp_graph_from_json_with_limits, libcgpredict), Cint,
                                         (Ptr{Cchar}, Csize_t, Ptr{cgp_limits}, Ref{Ptr{cgp_graph}}),
                                         text, sizeof(text), handle(limits), out))
    return Graph(out[])
end

"""Imports an ONNX model file within `limits`: a larger file is not read."""
function graph_from_onnx_file(path::AbstractString, limits::Limits)
    out = Ref{Ptr{cgp_graph}}(C_NULL)
    GC.@preserve limits check(ccall((:cgp_graph_from_onnx_file_with_limits, libcgpredict), Cint,
                                    (Cstring, Ptr{cgp_limits}, Ref{Ptr{cgp_graph}}), path, handle(limits), out))
    return Graph(out[])
end

"""Imports an ONNX model from its protobuf bytes within `limits`."""
function graph_from_onnx_bytes(data::AbstractVector{UInt8}, limits::Limits)
    bytes = Vector{UInt8}(data)
    out = Ref{Ptr{cgp_graph}}(C_NULL)
    GC.@preserve limits check(ccall((:cgp_graph_from_onnx_bytes_with_limits, libcgpredict), Cint,
                                    (Ptr{UInt8}, Csize_t, Ptr{cgp_limits}, Ref{Ptr{cgp_graph}}),
                                    bytes, length(bytes), handle(limits), out))
    return Graph(out[])
end

"""
    OnnxOptions()

Options for `graph_from_onnx_file` and `graph_from_onnx_bytes` (owns a C `cgp_onnx_options`):
shapes for graph inputs in place of the declared ones (inputs with a symbolic height, width or
sequence length, or another resolution), set with `set_input_shape!` and
`set_first_input_shape!`, and limits (`set_limits!`). Holds the declared shapes and the
default limits until changed.
"""
mutable struct OnnxOptions
    ptr::Ptr{cgp_onnx_options}
    function OnnxOptions()
        out = Ref{Ptr{cgp_onnx_options}}(C_NULL)
        check(ccall((:cgp_onnx_options_new, libcgpredict), Cint, (Ref{Ptr{cgp_onnx_options}},), out))
        o = new(out[])
        finalizer(close, o)
        return o
    end
end

"""Releases the options; later calls with them throw, and a second `close` does nothing."""
function Base.close(o::OnnxOptions)
    if o.ptr != C_NULL
        ccall((:cgp_onnx_options_free, libcgpredict), Cvoid, (Ptr{cgp_onnx_options},), o.ptr)
        o.ptr = C_NULL
    end
    return nothing
end

handle(o::OnnxOptions) = o.ptr == C_NULL ? invalid("the ONNX options are closed") : o.ptr

"""
Sets the shape of the graph input `name` (positive sizes, as many as the model declares);
returns the options. Import throws `CGP_INVALID_ARGUMENT` naming the input when it is not a
data input of the model or its rank differs.
"""
function set_input_shape!(o::OnnxOptions, name::AbstractString, dims::AbstractVector{<:Integer})
    sizes = Vector{UInt64}(dims)
    GC.@preserve o sizes check(ccall((:cgp_onnx_options_set_input_shape, libcgpredict), Cint,
                                     (Ptr{cgp_onnx_options}, Cstring, Ptr{UInt64}, Csize_t),
                                     handle(o), name, sizes, length(sizes)))
    return o
end

"""Sets the shape of the model's first data input; returns the options."""
function set_first_input_shape!(o::OnnxOptions, dims::AbstractVector{<:Integer})
    sizes = Vector{UInt64}(dims)
    GC.@preserve o sizes check(ccall((:cgp_onnx_options_set_input_shape, libcgpredict), Cint,
                                     (Ptr{cgp_onnx_options}, Ptr{Cchar}, Ptr{UInt64}, Csize_t),
                                     handle(o), C_NULL, sizes, length(sizes)))
    return o
end

"""Imports with `limits` (copied); returns the options."""
function set_limits!(o::OnnxOptions, limits::Limits)
    GC.@preserve o limits check(ccall((:cgp_onnx_options_set_limits, libcgpredict), Cint,
                                      (Ptr{cgp_onnx_options}, Ptr{cgp_limits}), handle(o), handle(limits)))
    return o
end

"""Imports an ONNX model file with `options` (input shapes, limits)."""
function graph_from_onnx_file(path::AbstractString, options::OnnxOptions)
    out = Ref{Ptr{cgp_graph}}(C_NULL)
    GC.@preserve options check(ccall((:cgp_graph_from_onnx_file_with_options, libcgpredict), Cint,
                                     (Cstring, Ptr{cgp_onnx_options}, Ref{Ptr{cgp_graph}}),
                                     path, handle(options), out))
    return Graph(out[])
end

"""Imports an ONNX model from its protobuf bytes with `options`."""
function graph_from_onnx_bytes(data::AbstractVector{UInt8}, options::OnnxOptions)
    bytes = Vector{UInt8}(data)
    out = Ref{Ptr{cgp_graph}}(C_NULL)
    GC.@preserve options check(ccall((:cgp_graph_from_onnx_bytes_with_options, libcgpredict), Cint,
                                     (Ptr{UInt8}, Csize_t, Ptr{cgp_onnx_options}, Ref{Ptr{cgp_graph}}),
                                     bytes, length(bytes), handle(options), out))
    return Graph(out[])
end

"""Imports the structure and shapes of an ONNX model file (plain or gzip-compressed)."""
function graph_from_onnx_file(path::AbstractString)
    out = Ref{Ptr{cgp_graph}}(C_NULL)
    check(ccall((:cgp_graph_from_onnx_file, libcgpredict), Cint, (Cstring, Ref{Ptr{cgp_graph}}), path, out))
    return Graph(out[])
end

"""Imports an ONNX model from its protobuf bytes."""
function graph_from_onnx_bytes(data::AbstractVector{UInt8})
    bytes = Vector{UInt8}(data)
    out = Ref{Ptr{cgp_graph}}(C_NULL)
    check(ccall((:cgp_graph_from_onnx_bytes, libcgpredict), Cint,
                (Ptr{UInt8}, Csize_t, Ref{Ptr{cgp_graph}}), bytes, length(bytes), out))
    return Graph(out[])
end

"""
The import report (JSON) of this thread's last successful `graph_from_onnx_*` call. Call it
right after the import, before anything that yields (the task might move to another thread).
"""
function onnx_last_report_json()
    out = Ref{Ptr{Cchar}}(C_NULL)
    check(ccall((:cgp_onnx_last_report_json, libcgpredict), Cint, (Ref{Ptr{Cchar}},), out))
    return take_string(out[])
end

"""
    graph_from_nasbench101(adjacency, ops)

The NAS-Bench-101 network (CIFAR-10) of a cell: `adjacency` is its n x n 0/1 matrix
(`adjacency[i, j] == 1` for an edge i -> j), `ops` its n op names ("input",
"conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3", "output").
"""
function graph_from_nasbench101(adjacency::AbstractMatrix{<:Integer}, ops::AbstractVector{<:AbstractString})
    n = length(ops)
    size(adjacency) == (n, n) || invalid("adjacency is $(size(adjacency, 1))x$(size(adjacency, 2)) but there are $n ops")
    any(x -> !(0 <= x <= 255), adjacency) && invalid("adjacency holds a value outside 0..255")
    # Row-major, as the C API reads it.
    flat = UInt8[adjacency[i, j] for i in 1:n for j in 1:n]
    names = String[String(op) for op in ops]
    any(name -> occursin('\0', name), names) && invalid("an op name contains a NUL byte")
    out = Ref{Ptr{cgp_graph}}(C_NULL)
    GC.@preserve names begin
        pointers = Ptr{Cchar}[pointer(name) for name in names]
        check(ccall((:cgp_graph_from_nasbench101, libcgpredict), Cint,
                    (Ptr{UInt8}, Csize_t, Ptr{Ptr{Cchar}}, Ref{Ptr{cgp_graph}}), flat, n, pointers, out))
    end
    return Graph(out[])
end

"""The NAS-Bench-201 network of an architecture string for `num_classes` classes."""
function graph_from_nasbench201(arch::AbstractString, num_classes::Integer=10)
    out = Ref{Ptr{cgp_graph}}(C_NULL)
    check(ccall((:cgp_graph_from_nasbench201, libcgpredict), Cint,
                (Cstring, UInt32, Ref{Ptr{cgp_graph}}), arch, num_classes, out))
    return Graph(out[])
end

"""The NAS-Bench-301 (DARTS space) CIFAR-10 network of a genotype in JSON."""
function graph_from_darts(genotype_json::AbstractString)
    out = Ref{Ptr{cgp_graph}}(C_NULL)
    check(ccall((:cgp_graph_from_darts, libcgpredict), Cint, (Cstring, Ref{Ptr{cgp_graph}}), genotype_json, out))
    return Graph(out[])
end

"""
    graph_from_ofa_mbv3(ks, e, d; resolution=224)

A Once-for-All MobileNetV3 (w1.0) subnet: 20 kernel sizes, 20 expand ratios, 5 stage depths.
"""
function graph_from_ofa_mbv3(ks::AbstractVector{<:Integer}, e::AbstractVector{<:Integer},
                             d::AbstractVector{<:Integer}; resolution::Integer=224)
    # The C API reads exactly 20, 20 and 5 bytes.
    length(ks) == 20 || invalid("ks has $(length(ks)) entries, 20 expected")
    length(e) == 20 || invalid("e has $(length(e)) entries, 20 expected")
    length(d) == 5 || invalid("d has $(length(d)) entries, 5 expected")
    bytes(v) = UInt8[0 <= x <= 255 ? x : invalid("value $x is out of range") for x in v]
    out = Ref{Ptr{cgp_graph}}(C_NULL)
    check(ccall((:cgp_graph_from_ofa_mbv3, libcgpredict), Cint,
                (Ptr{UInt8}, Ptr{UInt8}, Ptr{UInt8}, UInt32, Ref{Ptr{cgp_graph}}),
                bytes(ks), bytes(e), bytes(d), resolution, out))
    return Graph(out[])
end

"""The `k` smallest eigenvalues of the graph's normalized Laplacian, ascending (paper: k = 11)."""
function spectrum(g::Graph, k::Integer=11)
    k >= 0 || invalid("k is $k")
    # One spare element, so that the buffer is never NULL and k = 0 is what gets reported.
    values = zeros(Cdouble, k + 1)
    GC.@preserve g check(ccall((:cgp_graph_spectrum, libcgpredict), Cint,
                               (Ptr{cgp_graph}, Csize_t, Ptr{Cdouble}, Csize_t), handle(g), k, values, k))
    return resize!(values, k)
end

"""The Euclidean distance between the `k`-spectra of two graphs."""
function spectral_distance(a::Graph, b::Graph, k::Integer=11)
    k >= 0 || invalid("k is $k")
    out = Ref{Cdouble}(0)
    GC.@preserve a b check(ccall((:cgp_spectral_distance, libcgpredict), Cint,
                                 (Ptr{cgp_graph}, Ptr{cgp_graph}, Csize_t, Ref{Cdouble}), handle(a), handle(b), k, out))
    return out[]
end

function Base.show(io::IO, g::Graph)
    if g.ptr == C_NULL
        print(io, "CGPredict.Graph(closed)")
    else
        print(io, "CGPredict.Graph(", node_count(g), " nodes, ", edge_count(g), " edges, ",
              param_count(g), " parameters, ", macs(g), " MACs)")
    end
end

"""
    Predictor(model_path=nothing; device=CGP_DEVICE_AUTO)

A cgpredict model in ONNX Runtime (owns a C `cgp_predictor`); `nothing` opens the model bundled
in the library. Release it with `close`; the finalizer does so otherwise.
"""
mutable struct Predictor
    ptr::Ptr{cgp_predictor}
    function Predictor(model_path::Union{Nothing,AbstractString}=nothing; device::Device=CGP_DEVICE_AUTO)
        # NULL asks for the bundled model, so the path goes as a pointer rather than a Cstring.
        path = model_path === nothing ? Ptr{Cchar}(C_NULL) : String(model_path)
        path isa String && occursin('\0', path) && invalid("model_path contains a NUL byte")
        out = Ref{Ptr{cgp_predictor}}(C_NULL)
        check(ccall((:cgp_predictor_open, libcgpredict), Cint,
                    (Ptr{Cchar}, UInt32, Ref{Ptr{cgp_predictor}}), path, UInt32(Integer(device)), out))
        p = new(out[])
        finalizer(close, p)
        return p
    end
end

"""Releases the predictor; later calls on it throw, and a second `close` does nothing."""
function Base.close(p::Predictor)
    if p.ptr != C_NULL
        ccall((:cgp_predictor_free, libcgpredict), Cvoid, (Ptr{cgp_predictor},), p.ptr)
        p.ptr = C_NULL
    end
    return nothing
end

handle(p::Predictor) = p.ptr == C_NULL ? invalid("the predictor is closed") : p.ptr

"""The device that runs the model (`CGP_DEVICE_CPU` or `CGP_DEVICE_CUDA`)."""
function device(p::Predictor)
    out = Ref{Cint}(0)
    GC.@preserve p check(ccall((:cgp_predictor_device, libcgpredict), Cint,
                               (Ptr{cgp_predictor}, Ref{Cint}), handle(p), out))
    return Device(out[])
end

"""The width of the model's embeddings."""
function embedding_dim(p::Predictor)
    out = Ref{Csize_t}(0)
    GC.@preserve p check(ccall((:cgp_predictor_embedding_dim, libcgpredict), Cint,
                               (Ptr{cgp_predictor}, Ref{Csize_t}), handle(p), out))
    return Int(out[])
end

"""
The number of networks the model averages (1 for a single network); its embedding is theirs
side by side, `embedding_dim(p) ÷ members(p)` values each, and `adapt!` and `adapt_ranking!`
fit one head per member.
"""
function members(p::Predictor)
    out = Ref{Csize_t}(0)
    GC.@preserve p check(ccall((:cgp_predictor_members, libcgpredict), Cint,
                               (Ptr{cgp_predictor}, Ref{Csize_t}), handle(p), out))
    return Int(out[])
end

handles(graphs::AbstractVector{Graph}) = Ptr{cgp_graph}[handle(g) for g in graphs]

"""
    predict!(scores, p, graphs)

Writes the scores of `graphs` into `scores[1:length(graphs)]`; a shorter `scores` throws
`CGP_BUFFER_TOO_SMALL`.
"""
function predict!(scores::Vector{Cfloat}, p::Predictor, graphs::AbstractVector{Graph})
    h = handles(graphs)
    GC.@preserve p graphs check(ccall((:cgp_predict, libcgpredict), Cint,
                                      (Ptr{cgp_predictor}, Ptr{Ptr{cgp_graph}}, Csize_t, Ptr{Cfloat}, Csize_t),
                                      handle(p), h, length(h), scores, length(scores)))
    return scores
end

"""
    rank(p, graphs) -> Vector{Int}

The positions of `graphs` (1-based), best predicted first (`cgp_rank`).
"""
function rank(p::Predictor, graphs::AbstractVector{Graph})
    h = handles(graphs)
    order = Vector{Csize_t}(undef, length(h))
    GC.@preserve p graphs check(ccall((:cgp_rank, libcgpredict), Cint,
                                      (Ptr{cgp_predictor}, Ptr{Ptr{cgp_graph}}, Csize_t, Ptr{Csize_t}),
                                      handle(p), h, length(h), order))
    return Int.(order) .+ 1
end

"""
    predict(p, graphs) -> Vector{Float32}
    predict(p, graph) -> Float32

Scores graphs (higher = better predicted accuracy; after `adapt!`, the adapted head's).
"""
predict(p::Predictor, graphs::AbstractVector{Graph}) = predict!(Vector{Cfloat}(undef, length(graphs)), p, graphs)
predict(p::Predictor, graph::Graph) = predict(p, [graph])[1]

"""
    embed(p, graphs) -> Matrix{Float32}

The model's embeddings, one column per graph (`embedding_dim(p)` rows).
"""
function embed(p::Predictor, graphs::AbstractVector{Graph})
    h = handles(graphs)
    values = Matrix{Cfloat}(undef, embedding_dim(p), length(h))
    # Column-major columns are the C API's row-major rows.
    GC.@preserve p graphs check(ccall((:cgp_embed, libcgpredict), Cint,
                                      (Ptr{cgp_predictor}, Ptr{Ptr{cgp_graph}}, Csize_t, Ptr{Cfloat}, Csize_t),
                                      handle(p), h, length(h), values, length(values)))
    return values
end

"""
    adapt!(p, graphs, labels)

Fits a new head on labeled graphs (ridge regression on the embeddings; labels in any scale,
higher = better, at least 2 that differ). On failure the previous head stays.
"""
function adapt!(p::Predictor, graphs::AbstractVector{Graph}, labels::AbstractVector{<:Real})
    length(graphs) == length(labels) || invalid("$(length(graphs)) graphs but $(length(labels)) labels")
    h = handles(graphs)
    y = Vector{Cfloat}(labels)
    GC.@preserve p graphs check(ccall((:cgp_predictor_adapt, libcgpredict), Cint,
                                      (Ptr{cgp_predictor}, Ptr{Ptr{cgp_graph}}, Ptr{Cfloat}, Csize_t),
                                      handle(p), h, y, length(h)))
    return p
end

"""
    adapt_ranking!(p, graphs, labels)

Fits a head for ranking: on the embeddings and the model's own score of `graphs`, against the
ranks of `labels` (any scale, higher = better), which `predict` uses from then on, in rank
units. Only the order of the labels counts, so a few broken networks cannot dominate the fit.
Returns the predictor; on failure it keeps its previous head.
"""
function adapt_ranking!(p::Predictor, graphs::AbstractVector{Graph}, labels::AbstractVector{<:Real})
    length(graphs) == length(labels) || invalid("$(length(graphs)) graphs but $(length(labels)) labels")
    h = handles(graphs)
    y = Vector{Cfloat}(labels)
    GC.@preserve p graphs check(ccall((:cgp_predictor_adapt_ranking, libcgpredict), Cint,
                                      (Ptr{cgp_predictor}, Ptr{Ptr{cgp_graph}}, Ptr{Cfloat}, Csize_t),
                                      handle(p), h, y, length(h)))
    return p
end

function Base.show(io::IO, p::Predictor)
    if p.ptr == C_NULL
        print(io, "CGPredict.Predictor(closed)")
    else
        print(io, "CGPredict.Predictor(", device(p), ", embedding_dim=", embedding_dim(p), ")")
    end
end

end # module
