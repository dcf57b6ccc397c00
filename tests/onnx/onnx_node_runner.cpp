// ONNX single-operator semantics expressed with our kernel tables: channels-first to
// channels-last conversion, ONNX window attributes to our padding, and one adapter per
// operator. Only the operators and attributes the conformance test covers.
#include "onnx_node_runner.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "conv_geometry.hpp"
#include "error.hpp"
#include "layers/conv2d_workspace.hpp"

namespace tinception::onnx {

using kernels::KernelTable;

namespace {

int to_int(std::int64_t v) { return int(v); }

// [N][C][S...] <-> [N][S...][C]: ONNX is channels-first, our kernels channels-last.
struct ChannelsFirst {
    int n = 0, c = 0;
    long spatial = 1;
};

ChannelsFirst split_channels(const Tensor& t) {
    if (t.dims.size() < 2) throw NotApplicable{"input '" + t.name + "' has fewer than 2 dimensions"};
    ChannelsFirst s{to_int(t.dims[0]), to_int(t.dims[1]), 1};
    for (std::size_t i = 2; i < t.dims.size(); ++i) s.spatial *= long(t.dims[i]);
    return s;
}

std::vector<float> to_channels_last(const Tensor& t) {
    const ChannelsFirst s = split_channels(t);
    std::vector<float> out(t.values.size());
    for (int b = 0; b < s.n; ++b)
        for (int ch = 0; ch < s.c; ++ch)
            for (long p = 0; p < s.spatial; ++p)
                out[(long(b) * s.spatial + p) * s.c + ch] = t.values[(long(b) * s.c + ch) * s.spatial + p];
    return out;
}

Tensor from_channels_last(const std::vector<float>& nhwc, std::vector<std::int64_t> dims) {
    Tensor t;
    t.data_type = kFloat;
    t.dims = std::move(dims);
    t.values.resize(nhwc.size());
    const ChannelsFirst s = split_channels(t);
    for (int b = 0; b < s.n; ++b)
        for (int ch = 0; ch < s.c; ++ch)
            for (long p = 0; p < s.spatial; ++p)
                t.values[(long(b) * s.c + ch) * s.spatial + p] = nhwc[(long(b) * s.spatial + p) * s.c + ch];
    return t;
}

// Kernel, stride and padding along the two spatial axes, from ONNX's attributes.
struct Window2d {
    int kernel_h, kernel_w, stride_h, stride_w, pad_top, pad_left, out_h, out_w;
};

Window2d window_from(const Node& node, int in_h, int in_w, int kernel_h, int kernel_w) {
    for (const std::int64_t d : node.ints_or("dilations", {}))
        if (d != 1) throw NotApplicable{"dilations other than 1"};
    if (node.int_or("ceil_mode", 0) != 0) throw NotApplicable{"ceil_mode"};
    const std::vector<std::int64_t> strides = node.ints_or("strides", {1, 1});
    if (strides.size() != 2) throw NotApplicable{"strides of rank other than 2"};
    Window2d w{kernel_h, kernel_w, to_int(strides[0]), to_int(strides[1]), 0, 0, 0, 0};
    const std::string auto_pad = node.string_or("auto_pad", "NOTSET");
    if (auto_pad == "NOTSET") {
        const std::vector<std::int64_t> pads = node.ints_or("pads", {0, 0, 0, 0});
        if (pads.size() != 4) throw NotApplicable{"pads of rank other than 2"};
        w.pad_top = to_int(pads[0]), w.pad_left = to_int(pads[1]);
        w.out_h = to_int((in_h + pads[0] + pads[2] - kernel_h) / w.stride_h + 1);
        w.out_w = to_int((in_w + pads[1] + pads[3] - kernel_w) / w.stride_w + 1);
        return w;
    }
    Padding1d py, px;
    if (auto_pad == "VALID") {
        py = valid_padding(in_h, kernel_h, w.stride_h), px = valid_padding(in_w, kernel_w, w.stride_w);
    } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
        py = same_padding(in_h, kernel_h, w.stride_h), px = same_padding(in_w, kernel_w, w.stride_w);
        if (auto_pad == "SAME_LOWER") std::swap(py.before, py.after), std::swap(px.before, px.after);
    } else {
        throw NotApplicable{"auto_pad " + auto_pad};
    }
    w.pad_top = py.before, w.pad_left = px.before, w.out_h = py.out, w.out_w = px.out;
    return w;
}

void require_rank(const Tensor& t, std::size_t rank, const std::string& why) {
    if (t.dims.size() != rank)
        throw NotApplicable{"input of rank " + std::to_string(t.dims.size()) + ": " + why};
}

const Tensor& input(const Inputs& in, std::size_t i, const std::string& op) {
    if (i >= in.size() || !in[i]) throw Error(op + ": input " + std::to_string(i) + " is missing");
    return *in[i];
}

// Calls the table's conv2d, first packing the weights into a 64-byte aligned buffer when
// the table packs.
void conv2d_packing_first(const KernelTable& table, kernels::Conv2dArgs& a) {
    std::vector<std::uint8_t> packed;
    if (table.conv2d_pack && table.conv2d_packed_size) {
        packed.resize(table.conv2d_packed_size(a) + 64);
        void* aligned = packed.data() + (64 - reinterpret_cast<std::uintptr_t>(packed.data()) % 64) % 64;
        table.conv2d_pack(a, aligned);
        a.packed = aligned;
    }
    conv2d_once(table, a);
}

Tensor run_conv(const Node& node, const Inputs& in, const KernelTable& table) {
    const Tensor& x = input(in, 0, "Conv");
    const Tensor& w = input(in, 1, "Conv");
    const Tensor* bias = in.size() > 2 ? in[2] : nullptr;
    require_rank(x, 4, "only 2-D convolution");
    if (node.int_or("group", 1) != 1) throw NotApplicable{"group other than 1"};
    const Window2d win = window_from(node, to_int(x.dims[2]), to_int(x.dims[3]), to_int(w.dims[2]),
                                     to_int(w.dims[3]));
    const std::vector<float> nhwc = to_channels_last(x);
    std::vector<float> out(std::size_t(x.dims[0]) * w.dims[0] * win.out_h * win.out_w);
    kernels::Conv2dArgs a;
    a.input = nhwc.data();
    a.weights = w.values.data();
    a.bias = bias ? bias->values.data() : nullptr;
    a.output = out.data();
    a.n = to_int(x.dims[0]), a.in_c = to_int(x.dims[1]), a.in_h = to_int(x.dims[2]), a.in_w = to_int(x.dims[3]);
    a.out_c = to_int(w.dims[0]), a.out_h = win.out_h, a.out_w = win.out_w;
    a.kernel_h = win.kernel_h, a.kernel_w = win.kernel_w;
    a.stride_h = win.stride_h, a.stride_w = win.stride_w;
    a.pad_top = win.pad_top, a.pad_left = win.pad_left;
    conv2d_packing_first(table, a);
    return from_channels_last(out, {x.dims[0], w.dims[0], win.out_h, win.out_w});
}

Tensor run_pool(const Node& node, const Inputs& in, const KernelTable& table) {
    const Tensor& x = input(in, 0, node.op_type);
    require_rank(x, 4, "only 2-D pooling");
    const std::vector<std::int64_t> kernel = node.ints_or("kernel_shape", {});
    if (kernel.size() != 2) throw NotApplicable{"kernel_shape of rank other than 2"};
    const Window2d win = window_from(node, to_int(x.dims[2]), to_int(x.dims[3]), to_int(kernel[0]),
                                     to_int(kernel[1]));
    const std::vector<float> nhwc = to_channels_last(x);
    std::vector<float> out(std::size_t(x.dims[0]) * x.dims[1] * win.out_h * win.out_w);
    kernels::Pool2dArgs a;
    a.input = nhwc.data();
    a.output = out.data();
    a.n = to_int(x.dims[0]), a.c = to_int(x.dims[1]), a.in_h = to_int(x.dims[2]), a.in_w = to_int(x.dims[3]);
    a.out_h = win.out_h, a.out_w = win.out_w;
    a.kernel_h = win.kernel_h, a.kernel_w = win.kernel_w;
    a.stride_h = win.stride_h, a.stride_w = win.stride_w;
    a.pad_top = win.pad_top, a.pad_left = win.pad_left;
    a.count_include_pad = node.int_or("count_include_pad", 0) != 0;
    (node.op_type == "MaxPool" ? table.maxpool2d : table.avgpool2d)(a);
    return from_channels_last(out, {x.dims[0], x.dims[1], win.out_h, win.out_w});
}

Tensor run_global_avgpool(const Inputs& in, const KernelTable& table) {
    const Tensor& x = input(in, 0, "GlobalAveragePool");
    require_rank(x, 4, "only 2-D pooling");
    const std::vector<float> nhwc = to_channels_last(x);
    std::vector<float> out(std::size_t(x.dims[0]) * x.dims[1]);
    table.global_avgpool(nhwc.data(), out.data(), to_int(x.dims[0]), to_int(x.dims[2]),
                         to_int(x.dims[3]), to_int(x.dims[1]));
    return from_channels_last(out, {x.dims[0], x.dims[1], 1, 1});
}

// Relu as the fused activation of an identity 1x1 convolution over every element.
Tensor run_relu(const Inputs& in, const KernelTable& table) {
    const Tensor& x = input(in, 0, "Relu");
    Tensor y = x;
    const float one = 1.0f;
    kernels::Conv2dArgs a;
    a.input = x.values.data();
    a.weights = &one;
    a.output = y.values.data();
    a.n = 1, a.in_h = a.out_h = 1, a.in_w = a.out_w = to_int(x.element_count()), a.in_c = a.out_c = 1;
    a.relu = true;
    conv2d_packing_first(table, a);
    return y;
}

// Inference BatchNormalization as per-channel scale and shift: a 1x1 convolution with a
// diagonal weight matrix and a bias.
Tensor run_batchnorm(const Node& node, const Inputs& in, const KernelTable& table) {
    if (node.outputs.size() != 1) throw NotApplicable{"training outputs (running mean / variance)"};
    if (node.int_or("training_mode", 0) != 0) throw NotApplicable{"training_mode"};
    const Tensor& x = input(in, 0, "BatchNormalization");
    const Tensor& scale = input(in, 1, "BatchNormalization");
    const Tensor& shift = input(in, 2, "BatchNormalization");
    const Tensor& mean = input(in, 3, "BatchNormalization");
    const Tensor& var = input(in, 4, "BatchNormalization");
    const double epsilon = node.float_or("epsilon", 1e-5f);
    const ChannelsFirst s = split_channels(x);
    std::vector<float> weights(std::size_t(s.c) * s.c, 0.0f), bias(std::size_t(s.c));
    for (int ch = 0; ch < s.c; ++ch) {
        const double k = scale.values[ch] / std::sqrt(double(var.values[ch]) + epsilon);
        weights[std::size_t(ch) * s.c + ch] = float(k);
        bias[ch] = float(shift.values[ch] - k * mean.values[ch]);
    }
    const std::vector<float> nhwc = to_channels_last(x);
    std::vector<float> out(nhwc.size());
    kernels::Conv2dArgs a;
    a.input = nhwc.data();
    a.weights = weights.data();
    a.bias = bias.data();
    a.output = out.data();
    a.n = s.n, a.in_h = a.out_h = 1, a.in_w = a.out_w = int(s.spatial), a.in_c = a.out_c = s.c;
    conv2d_packing_first(table, a);
    return from_channels_last(out, x.dims);
}

int normalise_axis(std::int64_t axis, std::size_t rank) {
    const std::int64_t r = std::int64_t(rank);
    if (axis < -r || axis >= r) throw Error("axis " + std::to_string(axis) + " out of range for rank " + std::to_string(rank));
    return to_int(axis < 0 ? axis + r : axis);
}

// Concat along any axis of a row-major tensor is a channel copy: everything before the
// axis is the "pixel", the axis and everything after it the "channels".
Tensor run_concat(const Node& node, const Inputs& in, const KernelTable& table) {
    const Tensor& first = input(in, 0, "Concat");
    const int axis = normalise_axis(node.int_or("axis", 0), first.dims.size());
    long outer = 1, inner = 1;
    for (int d = 0; d < axis; ++d) outer *= long(first.dims[d]);
    for (std::size_t d = std::size_t(axis) + 1; d < first.dims.size(); ++d) inner *= long(first.dims[d]);
    std::int64_t total = 0;
    for (std::size_t i = 0; i < in.size(); ++i) total += input(in, i, "Concat").dims[axis];
    Tensor y;
    y.data_type = kFloat;
    y.dims = first.dims;
    y.dims[axis] = total;
    y.values.resize(std::size_t(outer * total * inner));
    const int stride = int(total * inner);
    int offset = 0;
    for (const Tensor* t : in) {
        const int width = int(t->dims[axis] * inner);
        table.copy_channels(t->values.data(), int(outer), width, y.values.data(), stride, offset);
        offset += width;
    }
    return y;
}

// Opset 13 and later: softmax along one axis. Earlier: the input is flattened to 2-D at the
// axis (default 1) and each row normalised.
Tensor run_softmax(const Node& node, const Inputs& in, const KernelTable& table,
                         std::int64_t opset) {
    const Tensor& x = input(in, 0, "Softmax");
    Tensor y = x;
    const int axis = normalise_axis(node.int_or("axis", opset >= 13 ? -1 : 1), x.dims.size());
    long outer = 1, length = 1, inner = 1;
    for (int d = 0; d < int(x.dims.size()); ++d)
        (d < axis ? outer : d == axis ? length : inner) *= long(x.dims[d]);
    if (opset < 13) {
        table.softmax(x.values.data(), y.values.data(), int(outer), int(length * inner));
        return y;
    }
    // gather the axis last: [outer][inner][length], normalise rows, scatter back
    std::vector<float> rows(x.values.size()), out(x.values.size());
    for (long o = 0; o < outer; ++o)
        for (long l = 0; l < length; ++l)
            for (long i = 0; i < inner; ++i)
                rows[(o * inner + i) * length + l] = x.values[(o * length + l) * inner + i];
    table.softmax(rows.data(), out.data(), int(outer * inner), int(length));
    for (long o = 0; o < outer; ++o)
        for (long l = 0; l < length; ++l)
            for (long i = 0; i < inner; ++i)
                y.values[(o * length + l) * inner + i] = out[(o * inner + i) * length + l];
    return y;
}

// Row-major [rows][cols] -> [cols][rows]
std::vector<float> transposed(const Tensor& t) {
    const long rows = long(t.dims[0]), cols = long(t.dims[1]);
    std::vector<float> out(t.values.size());
    for (long r = 0; r < rows; ++r)
        for (long c = 0; c < cols; ++c) out[c * rows + r] = t.values[r * cols + c];
    return out;
}

// Y = alpha * A' * B' + beta * C, with dense computing A' * B' from A' [M][K] and B'^T [N][K].
Tensor run_gemm(const Node& node, const Inputs& in, const KernelTable& table) {
    const bool is_gemm = node.op_type == "Gemm";
    const Tensor& a = input(in, 0, node.op_type);
    const Tensor& b = input(in, 1, node.op_type);
    require_rank(a, 2, "only 2-D matrix products");
    require_rank(b, 2, "only 2-D matrix products");
    const bool trans_a = is_gemm && node.int_or("transA", 0) != 0;
    const bool trans_b = is_gemm && node.int_or("transB", 0) != 0;
    const int m = to_int(a.dims[trans_a ? 1 : 0]), k = to_int(a.dims[trans_a ? 0 : 1]);
    const int n = to_int(b.dims[trans_b ? 0 : 1]);
    const std::vector<float> lhs = trans_a ? transposed(a) : a.values;
    const std::vector<float> weights = trans_b ? b.values : transposed(b);
    Tensor y;
    y.data_type = kFloat;
    y.dims = {m, n};
    y.values.resize(std::size_t(m) * n);
    kernels::DenseArgs d;
    d.input = lhs.data();
    d.weights = weights.data();
    d.output = y.values.data();
    d.n = m, d.in_features = k, d.out_features = n;
    table.dense(d);
    if (!is_gemm) return y;
    const float alpha = node.float_or("alpha", 1.0f), beta = node.float_or("beta", 1.0f);
    const Tensor* c = in.size() > 2 ? in[2] : nullptr;
    if (c && c->dims.size() > 2) throw Error("Gemm: C has rank " + std::to_string(c->dims.size()));
    // C broadcasts to [M][N] from the right: [], [N], [1][N], [M][1], [M][N]
    const long c_rows = c && c->dims.size() == 2 ? long(c->dims[0]) : 1;
    const long c_cols = c && !c->dims.empty() ? long(c->dims.back()) : 1;
    for (long i = 0; i < m; ++i)
        for (long j = 0; j < n; ++j) {
            float& v = y.values[i * n + j];
            v *= alpha;
            if (c) v += beta * c->values[(c_rows == 1 ? 0 : i) * c_cols + (c_cols == 1 ? 0 : j)];
        }
    return y;
}

}  // namespace

Tensor run_node(const Node& node, const Inputs& in, const KernelTable& table,
                      std::int64_t opset) {
    const std::string& op = node.op_type;
    if (op == "Conv") return run_conv(node, in, table);
    if (op == "MaxPool" || op == "AveragePool") return run_pool(node, in, table);
    if (op == "GlobalAveragePool") return run_global_avgpool(in, table);
    if (op == "Relu") return run_relu(in, table);
    if (op == "BatchNormalization") return run_batchnorm(node, in, table);
    if (op == "Concat") return run_concat(node, in, table);
    if (op == "Softmax") return run_softmax(node, in, table, opset);
    if (op == "Gemm" || op == "MatMul") return run_gemm(node, in, table);
    throw NotApplicable{"operator " + op};
}

}  // namespace tinception::onnx
