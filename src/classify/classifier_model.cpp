// Writing and validating the classifier file; see the format in classifier_model.hpp.
#include "classify/classifier_model.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "byte_io.hpp"
#include "error.hpp"
#include "file_io.hpp"
#include "weights/crc32.hpp"

namespace tinception {
namespace {

namespace fs = std::filesystem;

constexpr std::uint8_t kMagic[8] = {'T', 'C', 'L', 'F', '\r', '\n', 0x1A, '\n'};
constexpr std::uint32_t kVersion = 6;         // what this build writes
constexpr std::uint32_t kOldestVersion = 1;   // format 1: no training record
constexpr std::size_t kMaxString = 1 << 16;
constexpr std::uint32_t kMaxLabels = 1 << 20;
constexpr std::uint32_t kMaxFeatureSize = 1 << 24;
constexpr std::size_t kSizeOffset = 12;  // where the total size field sits
constexpr std::uint32_t kMaxSettings = 1 << 10;

void write_record(ByteWriter& w, const TrainingRecord& t, std::size_t n_labels) {
    w.string(t.trained_at);
    w.u32(std::uint32_t(t.settings.size()));
    for (const auto& [name, value] : t.settings) {
        w.string(name);
        w.string(value);
    }
    for (std::size_t i = 0; i < n_labels; ++i) {
        const SplitCounts c = i < t.split_counts.size() ? t.split_counts[i] : SplitCounts{};
        for (const std::size_t n : {c.training, c.validation, c.testing}) w.u32(std::uint32_t(n));
    }
    w.u32(t.test_count);
    w.f32(t.test_accuracy);
    w.u32(t.folds);
    w.f32(t.fold_mean);
    w.f32(t.fold_stddev);
}

TrainingRecord read_record(ByteReader& r, std::size_t n_labels, const std::string& name) {
    TrainingRecord t;
    t.present = true;
    t.trained_at = r.string(kMaxString);
    const std::uint32_t n_settings = r.u32();
    if (n_settings > kMaxSettings)
        throw Error(name + ": classifier file has " + std::to_string(n_settings) + " settings; corrupt");
    for (std::uint32_t i = 0; i < n_settings; ++i) {
        std::string key = r.string(kMaxString);
        t.settings.emplace_back(std::move(key), r.string(kMaxString));
    }
    t.split_counts.resize(n_labels);
    for (SplitCounts& c : t.split_counts)
        for (std::size_t* n : {&c.training, &c.validation, &c.testing}) *n = r.u32();
    t.test_count = r.u32();
    t.test_accuracy = r.f32();
    t.folds = r.u32();
    t.fold_mean = r.f32();
    t.fold_stddev = r.f32();
    return t;
}

void check_consistent(const ClassifierModel& m, const std::string& name) {
    if (m.labels.size() < 2) throw Error(name + ": a classifier needs at least 2 labels");
    if (m.feature_size < 1) throw Error(name + ": feature size must be positive");
    if (!m.standardization.empty() && (m.standardization.mean.size() != std::size_t(m.feature_size) ||
                                       m.standardization.sd.size() != std::size_t(m.feature_size)))
        throw Error(name + ": the standardisation does not have " + std::to_string(m.feature_size) + " features");
    for (const float sd : m.standardization.sd)
        if (!(sd > 0.0f) || !std::isfinite(sd)) throw Error(name + ": a standardisation deviation is not positive");
    if (m.augmentation != TestTimeAugmentation::none && m.augmentation != TestTimeAugmentation::flip)
        throw Error(name + ": unknown test-time augmentation " + std::to_string(std::uint32_t(m.augmentation)));
    if (m.bf16_features && !m.int8_ranges.empty())
        throw Error(name + ": features cannot come from both the bf16 and the int8 network");
    if (m.head.n_classes != int(m.labels.size()) || m.head.feature_size != m.feature_size ||
        m.head.weights.size() != m.labels.size() * std::size_t(m.feature_size) ||
        m.head.bias.size() != m.labels.size())
        throw Error(name + ": the head's shape does not match " + std::to_string(m.labels.size()) + " labels x " +
                    std::to_string(m.feature_size) + " features");
}

}  // namespace

std::vector<float> ClassifierModel::predict(const float* features, const float* mirrored) const {
    std::vector<float> x(features, features + feature_size);
    if (mirrored) x.insert(x.end(), mirrored, mirrored + feature_size);
    const std::size_t rows = mirrored ? 2 : 1;
    standardization.apply(x.data(), standardization.empty() ? 0 : rows);
    std::vector<float> p(labels.size() * rows);
    softmax_forward(head, x.data(), rows, p.data());
    if (mirrored) {
        for (std::size_t c = 0; c < labels.size(); ++c) p[c] = 0.5f * (p[c] + p[labels.size() + c]);
        p.resize(labels.size());
    }
    return p;
}

std::vector<std::uint8_t> serialize_classifier_model(const ClassifierModel& m) {
    check_consistent(m, "classifier model");
    ByteWriter w;
    w.raw(kMagic, sizeof kMagic);
    w.u32(kVersion);
    w.u64(0);  // total size, patched below
    w.u32(std::uint32_t(m.labels.size()));
    for (const std::string& label : m.labels) w.string(label);
    w.string(m.feature_layer);
    w.u32(std::uint32_t(m.feature_size));
    w.u32(m.weights_checksum);
    w.string(m.weights_path);
    w.u32(std::uint32_t(m.preprocessing.size));
    w.u8(m.preprocessing.align_corners ? 1 : 0);
    w.f32(m.preprocessing.scale);
    w.f32(m.preprocessing.offset);
    write_record(w, m.training, m.labels.size());
    write_tuned_layers(w, m.tuned);
    w.u32(std::uint32_t(m.augmentation));
    w.u32(std::uint32_t(m.standardization.mean.size()));
    w.floats(m.standardization.mean.data(), m.standardization.mean.size());
    w.floats(m.standardization.sd.data(), m.standardization.sd.size());
    w.u32(std::uint32_t(m.int8_ranges.size()));
    for (const auto& [layer, range] : m.int8_ranges) {
        w.string(layer);
        w.f32(range);
    }
    w.u32(m.bf16_features ? 1 : 0);
    w.floats(m.head.weights.data(), m.head.weights.size());
    w.floats(m.head.bias.data(), m.head.bias.size());
    std::vector<std::uint8_t>& bytes = w.bytes();
    const std::uint64_t total = bytes.size() + 4;
    store_le(bytes.data() + kSizeOffset, total);
    w.u32(crc32(bytes.data(), bytes.size()));
    return std::move(w.bytes());
}

ClassifierModel parse_classifier_model(const std::uint8_t* data, std::size_t size, const std::string& name) {
    ByteReader r(data, size, name);
    if (size < sizeof kMagic || !std::equal(kMagic, kMagic + sizeof kMagic, data))
        throw Error(name + ": not a tinception classifier file (wrong magic)");
    r.take(sizeof kMagic, "the magic");
    const std::uint32_t version = r.u32();
    if (version > kVersion)
        throw Error(name + ": classifier file format " + std::to_string(version) + " is newer than this build reads (" +
                    std::to_string(kOldestVersion) + " to " + std::to_string(kVersion) + "); upgrade tinception");
    if (version < kOldestVersion)
        throw Error(name + ": classifier file format " + std::to_string(version) + " is not one this build reads (" +
                    std::to_string(kOldestVersion) + " to " + std::to_string(kVersion) + "); the file is corrupt");
    const std::uint64_t total = r.u64();
    if (total != size)
        throw Error(name + ": classifier file is " + std::to_string(size) + " bytes but its header says " +
                    std::to_string(total) + "; it is truncated or corrupt");
    if (size < r.position() + 4) throw Error(name + ": classifier file is truncated");
    if (crc32(data, size - 4) != load_le<std::uint32_t>(data + size - 4))
        throw Error(name + ": classifier file checksum mismatch; the file is corrupt");

    ClassifierModel m;
    m.format_version = version;
    const std::uint32_t n_labels = r.u32();
    if (n_labels < 2 || n_labels > kMaxLabels)
        throw Error(name + ": classifier file has " + std::to_string(n_labels) + " labels; corrupt");
    for (std::uint32_t i = 0; i < n_labels; ++i) m.labels.push_back(r.string(kMaxString));
    m.feature_layer = r.string(kMaxString);
    const std::uint32_t feature_size = r.u32();
    if (feature_size < 1 || feature_size > kMaxFeatureSize)
        throw Error(name + ": classifier file has feature size " + std::to_string(feature_size) + "; corrupt");
    m.feature_size = int(feature_size);
    m.weights_checksum = r.u32();
    m.weights_path = r.string(kMaxString);
    m.preprocessing.size = int(r.u32());
    const std::uint8_t align = r.u8();
    if (align > 1 || m.preprocessing.size < 1 || m.preprocessing.size > 65536)
        throw Error(name + ": classifier file has invalid preprocessing fields; corrupt");
    m.preprocessing.align_corners = align == 1;
    m.preprocessing.scale = r.f32();
    m.preprocessing.offset = r.f32();
    if (version >= 2) m.training = read_record(r, n_labels, name);
    if (version >= 3) m.tuned = read_tuned_layers(r, name);
    if (version >= 4) {
        const std::uint32_t augmentation = r.u32();
        if (augmentation > std::uint32_t(TestTimeAugmentation::flip))
            throw Error(name + ": classifier file has test-time augmentation " + std::to_string(augmentation) +
                        ", which this build does not know; corrupt or newer");
        m.augmentation = TestTimeAugmentation(augmentation);
        const std::uint32_t standardized = r.u32();
        if (standardized != 0 && standardized != feature_size)
            throw Error(name + ": classifier file standardises " + std::to_string(standardized) + " of " +
                        std::to_string(feature_size) + " features; corrupt");
        if (r.remaining() < std::size_t(standardized) * 8)
            throw Error(name + ": classifier file is truncated in its standardisation");
        m.standardization.mean.resize(standardized);
        m.standardization.sd.resize(standardized);
        r.floats(m.standardization.mean.data(), standardized);
        r.floats(m.standardization.sd.data(), standardized);
    }
    if (version >= 5) {
        const std::uint32_t ranges = r.u32();
        if (ranges > kMaxSettings * 64) throw Error(name + ": classifier file has " + std::to_string(ranges) +
                                                    " int8 ranges; corrupt");
        for (std::uint32_t i = 0; i < ranges; ++i) {
            std::string layer = r.string(kMaxString);
            const float range = r.f32();
            if (!(range > 0.0f) || !std::isfinite(range) || !m.int8_ranges.emplace(std::move(layer), range).second)
                throw Error(name + ": classifier file has a bad or repeated int8 range; corrupt");
        }
    }
    if (version >= 6) {
        const std::uint32_t bf16 = r.u32();
        if (bf16 > 1 || (bf16 && !m.int8_ranges.empty()))
            throw Error(name + ": classifier file has a bad bf16 flag; corrupt");
        m.bf16_features = bf16 == 1;
    }
    const std::size_t n_weights = std::size_t(n_labels) * feature_size;
    if (r.remaining() != (n_weights + n_labels) * 4 + 4)
        throw Error(name + ": classifier file holds " + std::to_string(r.remaining()) + " bytes for the head, expected " +
                    std::to_string((n_weights + n_labels) * 4 + 4));
    m.head.n_classes = int(n_labels);
    m.head.feature_size = int(feature_size);
    m.head.weights.resize(n_weights);
    m.head.bias.resize(n_labels);
    r.floats(m.head.weights.data(), n_weights);
    r.floats(m.head.bias.data(), n_labels);
    check_consistent(m, name);
    return m;
}

void save_classifier_model(const std::string& path, const ClassifierModel& model) {
    const std::vector<std::uint8_t> bytes = serialize_classifier_model(model);
    write_file_atomically(path, bytes.data(), bytes.size());
}

std::string recorded_weights_location(const std::string& model_path, const ClassifierModel& model) {
    const fs::path recorded(model.weights_path);
    if (recorded.empty() || recorded.is_absolute()) return model.weights_path;
    return (fs::path(model_path).parent_path() / recorded).lexically_normal().string();
}

std::string weights_path_to_record(const std::string& model_path, const std::string& weights_path) {
    std::error_code ec;
    const fs::path weights = fs::absolute(weights_path, ec);
    if (ec || fs::path(weights_path).is_absolute()) return weights_path;
    const fs::path model_folder = fs::absolute(model_path, ec).parent_path();
    const fs::path relative = weights.lexically_normal().lexically_relative(model_folder.lexically_normal());
    return ec || relative.empty() ? weights.lexically_normal().string() : relative.string();
}

ClassifierModel load_classifier_model(const std::string& path) {
    const std::vector<std::uint8_t> bytes = read_file_bytes(path);
    return parse_classifier_model(bytes.data(), bytes.size(), path);
}

std::string labels_file_text(const std::vector<std::string>& labels) {
    std::string text;
    for (const std::string& label : labels) {
        if (label.find('\n') != std::string::npos) throw Error("label '" + label + "' contains a line break");
        text += label;
        text += '\n';
    }
    return text;
}

void write_labels_file(const std::string& path, const std::vector<std::string>& labels) {
    const std::string text = labels_file_text(labels);
    write_file_atomically(path, text.data(), text.size());
}

}  // namespace tinception
