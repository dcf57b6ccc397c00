// Cache lookups first, then the misses through the network a batch at a time.
#include "train/bottlenecks.hpp"

#include "error.hpp"
#include "file_io.hpp"
#include "image/image.hpp"
#include "model/feature_extractor.hpp"
#include "train/bottleneck_cache.hpp"

namespace tinception {
namespace {

constexpr std::size_t kBatch = 8;

struct Pending {
    std::size_t row;
    BottleneckKey key;
    ImageRgb8 image;
};

}  // namespace

BottleneckBatch compute_bottlenecks(FeatureExtractor& extractor, const BottleneckCache* cache,
                                    const std::vector<std::string>& paths,
                                    const std::function<void(std::size_t)>& progress, BottleneckMode mode,
                                    const ImageLimits& decode) {
    BottleneckBatch out;
    out.feature_size = extractor.feature_size();
    const std::size_t size = std::size_t(out.feature_size);
    out.features.assign(paths.size() * size, 0.0f);
    out.errors.assign(paths.size(), "");
    std::size_t done = 0;
    std::vector<Pending> pending;

    const auto flush = [&] {
        if (pending.empty()) return;
        std::vector<ImageRgb8> images;
        for (Pending& p : pending) images.push_back(std::move(p.image));
        const std::vector<float> features = extractor.extract(images);
        for (std::size_t i = 0; i < pending.size(); ++i) {
            const std::vector<float> row(features.begin() + long(i * size), features.begin() + long((i + 1) * size));
            std::copy(row.begin(), row.end(), out.features.begin() + long(pending[i].row * size));
            if (cache) cache->store(pending[i].key, row);
        }
        out.computed += pending.size();
        done += pending.size();
        pending.clear();
        if (progress) progress(done);
    };

    for (std::size_t row = 0; row < paths.size(); ++row) {
        try {
            const std::vector<std::uint8_t> bytes = read_file_bytes(paths[row]);
            BottleneckKey key;
            key.content_hash = image_content_hash(bytes.data(), bytes.size());
            key.layer = extractor.layer();
            key.weights_checksum = extractor.weights_checksum();
            key.feature_size = out.feature_size;
            key.decode = decode_variant(bytes.data(), bytes.size(), decode);
            if (cache) {
                if (std::optional<std::vector<float>> hit = cache->load(key)) {
                    std::copy(hit->begin(), hit->end(), out.features.begin() + long(row * size));
                    ++out.from_cache;
                    ++done;
                    if (progress) progress(done);
                    continue;
                }
            }
            ImageRgb8 image = decode_image(bytes.data(), bytes.size(), paths[row], decode);
            if (mode == BottleneckMode::cached_only) {
                out.missing.push_back(row);
                out.errors[row] = paths[row] + ": not in the bottleneck cache";
                ++done;
                if (progress) progress(done);
                continue;
            }
            pending.push_back({row, key, std::move(image)});
        } catch (const Error& e) {
            out.errors[row] = e.what();
            ++done;
            if (progress) progress(done);
        }
        if (pending.size() == kBatch) flush();
    }
    flush();
    return out;
}

}  // namespace tinception
