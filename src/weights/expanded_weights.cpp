// Expanding a format-3 file to the float32 layers and tensors of its format-2 twin; see the header.
#include "weights/expanded_weights.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <set>
#include <utility>

#include "error.hpp"
#include "weights/batch_norm_fold.hpp"
#include "weights/crc32.hpp"
#include "weights/layer_graph.hpp"
#include "weights/tcw_format.hpp"
#include "weights/weight_file_writer.hpp"

namespace tinception {
namespace {

void expand(const StoredTensor& t, float* out) {
    if (t.dtype == tcw::kDtypeUint8)
        dequantize_u8(t.bytes, t.count, t.scale, t.min, out);
    else
        std::memcpy(out, t.bytes, t.count * sizeof(float));
}

std::vector<float> expanded(const StoredTensor* t, std::size_t count, float fallback) {
    std::vector<float> v(count, fallback);
    if (t) expand(*t, v.data());
    return v;
}

// The epsilon as the converter wrote it: the shortest decimal that reads back as its double.
double parse_epsilon(const std::string& text, const std::string& who) {
    char* end = nullptr;
    const double eps = text.empty() ? NAN : std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(eps) || eps < 0.0)
        throw Error(who + " has batch_norm_epsilon '" + text + "', expected a finite number >= 0");
    return eps;
}

}  // namespace

ExpandedWeights::ExpandedWeights(const std::vector<StoredTensor>& stored, const std::vector<LayerSpec>& stored_layers,
                                 const std::string& path) {
    std::map<std::string, const StoredTensor*> by_name;
    for (const StoredTensor& t : stored) by_name[t.name] = &t;
    std::set<std::string> used;
    const auto take = [&](const std::string& name, const std::string& who) -> const StoredTensor* {
        const auto it = by_name.find(name);
        if (it == by_name.end()) return nullptr;  // the graph check names what is missing
        if (!used.insert(name).second) throw Error(who + " names tensor '" + name + "', which another layer uses too");
        return it->second;
    };

    // What each float32 tensor is made of: a stored tensor, or a folded conv2d's pieces.
    struct Folded {
        const StoredTensor *weights = nullptr, *bias = nullptr, *gamma = nullptr, *beta = nullptr, *mean = nullptr,
                           *variance = nullptr;
        double epsilon = 0.0;
    };
    struct Plan {
        const StoredTensor* stored = nullptr;  // as stored; null for a folded bias
        int folded = -1;                       // index into folds for a folded conv2d's weights and bias
        bool lazy = false;                     // conv2d weights
    };
    std::vector<Folded> folds;
    std::vector<Plan> plans;
    std::vector<TcwEntry> entries;
    const auto add = [&](const std::string& name, const std::vector<std::int64_t>& dims, Plan plan) {
        std::uint64_t count = 1;
        for (const std::int64_t d : dims) count *= std::uint64_t(d);
        entries.push_back({name, tcw::kDtypeFloat32, dims, count * sizeof(float), 0.0, 0.0});
        plans.push_back(plan);
    };

    for (const LayerSpec& l : stored_layers) {
        const std::string who = path + ": layer '" + l.name + "'";
        LayerSpec out = l;
        const auto eps = l.strings.find(tcw::kBatchNormEpsilon);
        if (eps == l.strings.end() || l.op != "conv2d") {
            for (const std::string& name : l.tensors)
                if (const StoredTensor* t = take(name, who))
                    add(name, t->dims, {t, -1, l.op == "conv2d" && name == l.name + "/weights"});
            layers_.push_back(std::move(out));
            continue;
        }
        Folded f;
        f.epsilon = parse_epsilon(eps->second, who);
        const std::map<std::string, const StoredTensor**> roles = {
            {l.name + "/weights", &f.weights}, {l.name + "/bias", &f.bias},
            {l.name + "/gamma", &f.gamma},     {l.name + "/beta", &f.beta},
            {l.name + "/moving_mean", &f.mean}, {l.name + "/moving_variance", &f.variance}};
        for (const std::string& name : l.tensors) {
            const auto role = roles.find(name);
            if (role == roles.end())
                throw Error(who + " names tensor '" + name +
                            "', not one of its weights, bias, gamma, beta, moving_mean, moving_variance");
            if (!(*role->second = take(name, who)))
                throw Error(who + " names tensor '" + name + "', which the file does not have");
        }
        if (!f.weights || !f.mean || !f.variance)
            throw Error(who + " folds a batch normalisation but lacks its weights, moving_mean or moving_variance");
        if (f.weights->dims.size() != 4 || f.weights->dims[0] < 1)
            throw Error(who + " has weights of shape " + dims_text(f.weights->dims) + ", expected OIHW");
        const std::vector<std::int64_t> channels = {f.weights->dims[0]};
        for (const StoredTensor* t : {f.bias, f.gamma, f.beta, f.mean, f.variance})
            if (t && t->dims != channels)
                throw Error(who + ": tensor '" + t->name + "' has shape " + dims_text(t->dims) + ", expected " +
                            dims_text(channels));
        out.strings.erase(tcw::kBatchNormEpsilon);
        out.tensors = {l.name + "/weights", l.name + "/bias"};
        folds.push_back(f);
        add(out.tensors[0], f.weights->dims, {f.weights, int(folds.size()) - 1, true});
        add(out.tensors[1], channels, {nullptr, int(folds.size()) - 1, false});
        layers_.push_back(std::move(out));
    }
    for (const StoredTensor& t : stored)
        if (!used.count(t.name)) throw Error(path + ": tensor '" + t.name + "' is used by no layer");

    encode_tcw_table(entries, {}, layers_, &offsets_, &data_size_);
    data_ = AlignedBuffer(std::max<std::size_t>(std::size_t(data_size_), 1), "the expanded weights");
    auto* base = static_cast<std::uint8_t*>(data_.data());
    std::vector<std::vector<double>> factors(folds.size());
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const std::uint64_t end = i + 1 < entries.size() ? offsets_[i + 1] : data_size_;
        std::memset(base + offsets_[i] + entries[i].bytes, 0, std::size_t(end - offsets_[i] - entries[i].bytes));
        float* values = reinterpret_cast<float*>(base + offsets_[i]);
        const std::size_t count = std::size_t(entries[i].bytes / sizeof(float));
        tensors_.push_back({entries[i].name, entries[i].dims, values, count});
        const Plan& p = plans[i];
        if (p.folded >= 0) {
            const Folded& f = folds[std::size_t(p.folded)];
            std::vector<double>& k = factors[std::size_t(p.folded)];
            if (k.empty()) {
                const std::size_t channels = std::size_t(f.weights->dims[0]);
                const std::vector<float> gamma = expanded(f.gamma, channels, 1.0f);
                const std::vector<float> variance = expanded(f.variance, channels, 0.0f);
                k = batch_norm_factors(f.gamma ? gamma.data() : nullptr, variance.data(), variance.size(), f.epsilon,
                                       path + ": layer '" + f.weights->name + "'");
            }
            if (p.lazy) {
                lazy_.push_back({i, *f.weights, k});
                continue;
            }
            std::vector<float> bias = expanded(f.bias, count, 0.0f);
            const std::vector<float> beta = expanded(f.beta, count, 0.0f);
            const std::vector<float> mean = expanded(f.mean, count, 0.0f);
            fold_batch_norm_bias(bias.data(), f.beta ? beta.data() : nullptr, mean.data(), k);
            std::memcpy(values, bias.data(), count * sizeof(float));
        } else if (p.lazy) {
            lazy_.push_back({i, *p.stored, {}});
        } else {
            expand(*p.stored, values);
        }
    }
}

void ExpandedWeights::fill(const LazyWeights& w, float* values) const {
    const std::size_t count = tensors_[w.tensor].count;
    const std::size_t per_channel = w.fold.empty() ? count : count / w.fold.size();
    if (w.stored.dtype == tcw::kDtypeUint8) {
        dequantize_u8_folded(w.stored.bytes, per_channel, w.stored.scale, w.stored.min, w.fold, count, values);
        return;
    }
    expand(w.stored, values);
    if (!w.fold.empty()) fold_batch_norm_weights(values, per_channel, w.fold);
}

void ExpandedWeights::expand_conv_weights() {
    for (LazyWeights& w : lazy_)
        if (!w.filled) {
            fill(w, reinterpret_cast<float*>(static_cast<std::uint8_t*>(data_.data()) + offsets_[w.tensor]));
            w.filled = true;
        }
}

void ExpandedWeights::expand_tensor(const float* data) {
    for (LazyWeights& w : lazy_)
        if (tensors_[w.tensor].data == data) {
            if (!w.filled) fill(w, const_cast<float*>(data));  // data_ is ours; the views are const
            w.filled = true;
            return;
        }
}

std::uint32_t ExpandedWeights::float32_checksum(const std::map<std::string, std::string>& metadata) const {
    std::vector<TcwEntry> entries;
    for (const TensorRef& t : tensors_) entries.push_back({t.name, tcw::kDtypeFloat32, t.dims, t.count * 4, 0.0, 0.0});
    std::vector<std::uint64_t> offsets;
    std::uint64_t data_size = 0;
    const std::vector<std::uint8_t> table = encode_tcw_table(entries, metadata, layers_, &offsets, &data_size);
    const std::size_t padding = (tcw::kDataAlignment - (tcw::kHeaderSize + table.size()) % tcw::kDataAlignment) %
                                tcw::kDataAlignment;
    const std::uint8_t zeros[tcw::kDataAlignment] = {};
    std::uint32_t crc = crc32(table.data(), table.size());
    crc = crc32(zeros, padding, crc);
    // data_ in order, each unfilled conv2d weight tensor replaced by its values made in scratch.
    const auto* base = static_cast<const std::uint8_t*>(data_.data());
    std::uint64_t done = 0;
    std::vector<float> scratch;
    for (const LazyWeights& w : lazy_) {
        if (w.filled) continue;
        const std::uint64_t start = offsets_[w.tensor];
        crc = crc32(base + done, std::size_t(start - done), crc);
        scratch.resize(tensors_[w.tensor].count);
        fill(w, scratch.data());
        crc = crc32(scratch.data(), scratch.size() * sizeof(float), crc);
        done = start + scratch.size() * sizeof(float);
    }
    return crc32(base + done, std::size_t(data_size_ - done), crc);
}

}  // namespace tinception
