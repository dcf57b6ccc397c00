// Turns the file's LayerSpecs into checked, typed Layers, inferring shapes as it goes; every
// rule a graph must follow is here, once (weights/FORMAT.md lists the ops).
#include "weights/layer_graph.hpp"

#include <unordered_map>
#include <utility>

#include "conv_geometry.hpp"
#include "error.hpp"

namespace tinception {
namespace {

constexpr std::pair<const char*, LayerOp> kOps[] = {
    {"input", LayerOp::input},         {"conv2d", LayerOp::conv2d},   {"maxpool2d", LayerOp::maxpool2d},
    {"avgpool2d", LayerOp::avgpool2d}, {"concat", LayerOp::concat},   {"flatten", LayerOp::flatten},
    {"dense", LayerOp::dense}};

// Checks one LayerSpec against the layers before it and builds its Layer.
class LayerChecker {
public:
    LayerChecker(const std::string& path, const LayerSpec& spec, const std::vector<Layer>& earlier,
                 const std::unordered_map<std::string, int>& index, const LayerGraph::TensorLookup& tensor)
        : path_(path), spec_(spec), earlier_(earlier), index_(index), tensor_(tensor) {}

    Layer build() {
        if (spec_.name.empty()) fail("has an empty name");
        layer_.name = spec_.name;
        layer_.op = op();
        for (const std::string& in : spec_.inputs) {
            const auto it = index_.find(in);
            if (it == index_.end()) fail("takes input '" + in + "', which is not a layer listed before it");
            layer_.inputs.push_back(it->second);
        }
        switch (layer_.op) {
        case LayerOp::input: input(); break;
        case LayerOp::conv2d: conv2d(); break;
        case LayerOp::maxpool2d:
        case LayerOp::avgpool2d:
            input_count(1, 1);
            window();
            layer_.shape.c = in().c;
            break;
        case LayerOp::concat: concat(); break;
        case LayerOp::flatten:
            input_count(1, 1);
            layer_.shape = {1, 1, in().h * in().w * in().c};  // each factor was checked; the product too
            break;
        case LayerOp::dense: dense(); break;
        }
        const std::int64_t floats = std::int64_t(layer_.shape.h) * layer_.shape.w * layer_.shape.c;
        if (floats > kMaxActivationFloats)
            fail("gives " + std::to_string(floats) + " floats per image, more than the limit of " +
                 std::to_string(kMaxActivationFloats));
        return std::move(layer_);
    }

private:
    [[noreturn]] void fail(const std::string& what) const {
        throw Error(path_ + ": layer '" + spec_.name + "' (" + spec_.op + ") " + what);
    }

    LayerOp op() const {
        for (const auto& [name, op] : kOps)
            if (spec_.op == name) return op;
        fail("has unknown op '" + spec_.op + "', which this build cannot run");
    }

    const ActivationShape& in() const { return earlier_[std::size_t(layer_.inputs[0])].shape; }

    void input_count(std::size_t lo, std::size_t hi) const {
        const std::size_t n = spec_.inputs.size();
        if (n < lo || n > hi)
            fail("has " + std::to_string(n) + " inputs, expected " +
                 (lo == hi ? std::to_string(lo) : std::to_string(lo) + " or more"));
    }

    std::int64_t attr(const char* key) const {
        const auto it = spec_.ints.find(key);
        if (it == spec_.ints.end()) fail(std::string("lacks the integer attribute '") + key + "'");
        return it->second;
    }
    int extent(const char* key) const {
        const std::int64_t v = attr(key);
        if (v < 1 || v > kMaxExtent)
            fail(std::string("has ") + key + " = " + std::to_string(v) + ", expected 1.." + std::to_string(kMaxExtent));
        return int(v);
    }
    std::string text(const char* key) const {
        const auto it = spec_.strings.find(key);
        if (it == spec_.strings.end()) fail(std::string("lacks the string attribute '") + key + "'");
        return it->second;
    }

    // The tensor named i-th in the layer's list, of shape `expected`.
    const TensorRef* tensor(std::size_t i, const std::vector<std::int64_t>& expected) const {
        const TensorRef* t = tensor_(spec_.tensors[i]);
        if (!t) fail("uses tensor '" + spec_.tensors[i] + "', which the file does not hold");
        if (t->dims != expected)
            fail("has tensor '" + t->name + "' of shape " + dims_text(t->dims) + ", expected " + dims_text(expected));
        return t;
    }
    // The first dimension of the weights tensor (output channels or features), checked
    // before the full shape so a mismatch message can state the whole expected shape.
    std::int64_t outputs_of_weights(std::size_t rank) const {
        if (spec_.tensors.size() != 2)
            fail("names " + std::to_string(spec_.tensors.size()) + " tensors, expected 2 (weights, bias)");
        const TensorRef* w = tensor_(spec_.tensors[0]);
        if (!w) fail("uses tensor '" + spec_.tensors[0] + "', which the file does not hold");
        if (w->dims.size() != rank || w->dims[0] < 1 || w->dims[0] > kMaxExtent)
            fail("has weights '" + w->name + "' of shape " + dims_text(w->dims) + ", expected rank " +
                 std::to_string(rank) + " with 1.." + std::to_string(kMaxExtent) + " outputs");
        return w->dims[0];
    }

    void input() {
        input_count(0, 0);
        for (const Layer& l : earlier_)
            if (l.op == LayerOp::input) fail("is a second input layer ('" + l.name + "' is the first); one is supported");
        layer_.shape = {extent("height"), extent("width"), extent("channels")};
    }

    // Kernel, stride and padding, and the output height and width they give.
    void window() {
        layer_.kernel_h = extent("kernel_h");
        layer_.kernel_w = extent("kernel_w");
        layer_.stride_h = extent("stride_h");
        layer_.stride_w = extent("stride_w");
        const std::string name = text("padding");
        if (name != "same" && name != "valid") fail("has padding '" + name + "', expected same or valid");
        const Padding padding = name == "same" ? Padding::same : Padding::valid;
        if (padding == Padding::valid && (layer_.kernel_h > in().h || layer_.kernel_w > in().w))
            fail("has a " + std::to_string(layer_.kernel_h) + "x" + std::to_string(layer_.kernel_w) +
                 " window that does not fit its " + std::to_string(in().h) + "x" + std::to_string(in().w) +
                 " input with valid padding");
        const Padding1d y = padding_for(padding, in().h, layer_.kernel_h, layer_.stride_h);
        const Padding1d x = padding_for(padding, in().w, layer_.kernel_w, layer_.stride_w);
        layer_.pad_top = y.before;
        layer_.pad_left = x.before;
        layer_.shape.h = y.out;
        layer_.shape.w = x.out;
    }

    void conv2d() {
        input_count(1, 1);
        window();
        const std::int64_t relu = attr("relu");
        if (relu != 0 && relu != 1) fail("has relu = " + std::to_string(relu) + ", expected 0 or 1");
        layer_.relu = relu == 1;
        const std::int64_t out_c = outputs_of_weights(4);
        layer_.weights = tensor(0, {out_c, in().c, layer_.kernel_h, layer_.kernel_w});
        layer_.bias = tensor(1, {out_c});
        layer_.shape.c = int(out_c);
    }

    void concat() {
        input_count(1, SIZE_MAX);
        layer_.shape = {in().h, in().w, 0};
        for (const int i : layer_.inputs) {
            const ActivationShape& s = earlier_[std::size_t(i)].shape;
            if (s.h != in().h || s.w != in().w)
                fail("concatenates inputs of different sizes (" + std::to_string(in().h) + "x" + std::to_string(in().w) +
                     " and " + std::to_string(s.h) + "x" + std::to_string(s.w) + ")");
            layer_.shape.c += s.c;  // each at most kMaxActivationFloats, and at most 65535 inputs
            if (layer_.shape.c > kMaxActivationFloats) fail("has more channels than the limit allows");
        }
    }

    void dense() {
        input_count(1, 1);
        if (in().h != 1 || in().w != 1)
            fail("reads a " + std::to_string(in().h) + "x" + std::to_string(in().w) + " input; it needs a flat one");
        const std::string activation = text("activation");
        if (activation == "linear") layer_.activation = DenseActivation::linear;
        else if (activation == "relu") layer_.activation = DenseActivation::relu;
        else if (activation == "softmax") layer_.activation = DenseActivation::softmax;
        else fail("has activation '" + activation + "', expected linear, relu or softmax");
        const std::int64_t out = outputs_of_weights(2);
        layer_.weights = tensor(0, {out, in().c});
        layer_.bias = tensor(1, {out});
        layer_.shape = {1, 1, int(out)};
    }

    const std::string& path_;
    const LayerSpec& spec_;
    const std::vector<Layer>& earlier_;
    const std::unordered_map<std::string, int>& index_;
    const LayerGraph::TensorLookup& tensor_;
    Layer layer_;
};

}  // namespace

std::string dims_text(const std::vector<std::int64_t>& dims) {
    std::string s;
    for (std::size_t i = 0; i < dims.size(); ++i) s += (i ? "x" : "") + std::to_string(dims[i]);
    return dims.empty() ? "a scalar" : s;
}

const char* op_name(LayerOp op) {
    for (const auto& [name, o] : kOps)
        if (o == op) return name;
    return "?";
}

LayerGraph LayerGraph::checked(const std::vector<LayerSpec>& specs, const TensorLookup& tensor,
                               const std::string& path) {
    LayerGraph g;
    std::unordered_map<std::string, int> index;
    for (const LayerSpec& spec : specs) {
        Layer layer = LayerChecker(path, spec, g.layers_, index, tensor).build();
        if (!index.emplace(layer.name, int(g.layers_.size())).second)
            throw Error(path + ": layer '" + layer.name + "' appears twice in the graph");
        g.layers_.push_back(std::move(layer));
    }
    return g;
}

std::vector<int> LayerGraph::needed_for(int output) const {
    std::vector<bool> needed(layers_.size(), false);
    std::vector<int> todo{output};
    while (!todo.empty()) {
        const int i = todo.back();
        todo.pop_back();
        if (needed[std::size_t(i)]) continue;
        needed[std::size_t(i)] = true;
        for (const int in : layers_[std::size_t(i)].inputs) todo.push_back(in);
    }
    std::vector<int> order;
    for (std::size_t i = 0; i < needed.size(); ++i)
        if (needed[i]) order.push_back(int(i));
    return order;
}

int LayerGraph::index_of(const std::string& name) const {
    for (std::size_t i = 0; i < layers_.size(); ++i)
        if (layers_[i].name == name) return int(i);
    return -1;
}

}  // namespace tinception
