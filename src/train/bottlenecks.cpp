// Cache lookups first, then the misses through the network a batch at a time.
#include "train/bottlenecks.hpp"

#include <cstdio>
#include <cstring>
#include <memory>
#include <unordered_map>

#include "bf16/conv2d_bf16.hpp"
#include "error.hpp"
#include "file_io.hpp"
#include "image/image.hpp"
#include "image/preprocess.hpp"
#include "model/feature_extractor.hpp"
#include "model/image_batches.hpp"
#include "quant/int8_network.hpp"
#include "train/bottleneck_cache.hpp"
#include "train/hashing.hpp"

namespace tinception {

std::string mirrored_variant(const std::string& variant) {
    return variant.empty() ? "mirrored" : variant + ",mirrored";
}

std::string precision_variant(const FeatureExtractor& extractor) {
    if (std::string(extractor.precision()) == "bf16") return "bf16-" + std::to_string(kernels::kBf16PlanVersion);
    if (extractor.int8_ranges().empty()) return "";
    std::string text;  // the ranges exactly: each name, then its float's bits
    for (const auto& [name, range] : extractor.int8_ranges()) {
        std::uint32_t bits = 0;
        std::memcpy(&bits, &range, sizeof bits);
        text += name + "=" + std::to_string(bits) + ";";
    }
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fnv1a_64(text)));
    return "int8-" + std::to_string(kInt8NetworkVersion) + "-" + hex;
}

BottleneckBatch compute_bottlenecks(FeatureExtractor& extractor, const BottleneckCache* cache,
                                    const std::vector<std::string>& paths,
                                    const std::function<void(std::size_t)>& progress, BottleneckMode mode,
                                    const ImageLimits& decode, bool mirrored) {
    BottleneckBatch out;
    out.feature_size = extractor.feature_size();
    const std::size_t size = std::size_t(out.feature_size);
    out.features.assign(paths.size() * size, 0.0f);
    out.errors.assign(paths.size(), "");
    std::size_t done = 0;
    std::unordered_map<std::size_t, BottleneckKey> keys;  // of the rows waiting in a batch

    const auto run = [&](const std::vector<std::size_t>& rows, std::vector<ImageRgb8>& images) {
        const std::vector<float> features = extractor.extract(images);
        for (std::size_t i = 0; i < rows.size(); ++i) {
            const std::vector<float> row(features.begin() + long(i * size), features.begin() + long((i + 1) * size));
            std::copy(row.begin(), row.end(), out.features.begin() + long(rows[i] * size));
            if (cache) cache->store(keys.at(rows[i]), row);
            keys.erase(rows[i]);
        }
        out.computed += rows.size();
        done += rows.size();
        if (progress) progress(done);
    };
    const auto fail = [&](std::size_t row, const Error& e) {
        out.errors[row] = e.what();
        keys.erase(row);
        ++done;
        if (progress) progress(done);
    };
    ImageBatches batches(run, fail);

    for (std::size_t row = 0; row < paths.size(); ++row) {
        try {
            // Shared with the decode, which runs later with the rest of its batch.
            const auto file = std::make_shared<const std::vector<std::uint8_t>>(read_file_bytes(paths[row]));
            const std::vector<std::uint8_t>& bytes = *file;
            BottleneckKey key;
            key.content_hash = image_content_hash(bytes.data(), bytes.size());
            key.layer = extractor.layer();
            key.weights_checksum = extractor.weights_checksum();
            key.feature_size = out.feature_size;
            key.decode = decode_variant(bytes.data(), bytes.size(), decode);
            if (const std::string precision = precision_variant(extractor); !precision.empty())
                key.decode = key.decode.empty() ? precision : key.decode + "," + precision;
            if (mirrored) key.decode = mirrored_variant(key.decode);
            if (cache) {
                if (std::optional<std::vector<float>> hit = cache->load(key)) {
                    std::copy(hit->begin(), hit->end(), out.features.begin() + long(row * size));
                    ++out.from_cache;
                    ++done;
                    if (progress) progress(done);
                    continue;
                }
            }
            if (mode == BottleneckMode::cached_only) {
                decode_image(bytes.data(), bytes.size(), paths[row], decode);  // a bad image says so, not "missing"
                out.missing.push_back(row);
                out.errors[row] = paths[row] + ": not in the bottleneck cache";
                ++done;
                if (progress) progress(done);
                continue;
            }
            keys[row] = std::move(key);
            batches.add(row, ImageBatches::Decode([file, &paths, row, &decode, mirrored] {
                ImageRgb8 image = decode_image(file->data(), file->size(), paths[row], decode);
                return mirrored ? mirrored_left_right(image) : image;
            }));
        } catch (const Error& e) {
            out.errors[row] = e.what();
            ++done;
            if (progress) progress(done);
        }
    }
    batches.flush();
    return out;
}

}  // namespace tinception
