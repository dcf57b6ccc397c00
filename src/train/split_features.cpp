// One compute_bottlenecks pass per split, its result matrix moved (not copied) into the
// split's FeatureSet.
#include "train/split_features.hpp"

#include <algorithm>
#include <cstring>

#include "error.hpp"
#include "model/feature_extractor.hpp"
#include "train/bottleneck_cache.hpp"

namespace tinception {
namespace {

constexpr std::size_t kMissingNamed = 5;  // missing images named in the error itself

struct SplitList {
    std::vector<std::string> relative;
    std::vector<int> labels;
};

SplitList list_split(const Dataset& data, Split split) {
    SplitList list;
    for (std::size_t c = 0; c < data.categories.size(); ++c) {
        const CategoryImages& cat = data.categories[c];
        const std::vector<std::string>& paths =
            split == Split::training ? cat.training : split == Split::validation ? cat.validation : cat.testing;
        list.relative.insert(list.relative.end(), paths.begin(), paths.end());
        list.labels.insert(list.labels.end(), paths.size(), int(c));
    }
    return list;
}

}  // namespace

SplitFeatures load_split_features(FeatureExtractor& extractor, const BottleneckCache* cache, const Dataset& data,
                                  BottleneckMode mode, const SplitFeatureEvents& events, const ImageLimits& decode,
                                  bool with_mirrored) {
    SplitFeatures out;
    const Split splits[] = {Split::training, Split::validation, Split::testing};
    SplitFeatureRows* targets[] = {&out.training, &out.validation, &out.testing};
    SplitList lists[3];
    std::size_t total = 0;
    for (int s = 0; s < 3; ++s) {
        lists[s] = list_split(data, splits[s]);
        total += lists[s].relative.size();
    }
    if (events.started) events.started(with_mirrored ? 2 * total : total);
    std::vector<std::string> missing;
    std::size_t done_before = 0;
    for (int s = 0; s < 3; ++s) {
        SplitList& list = lists[s];
        std::vector<std::string> full;
        full.reserve(list.relative.size());
        for (const std::string& rel : list.relative) full.push_back(data.full_path(rel));
        BottleneckBatch batch = compute_bottlenecks(
            extractor, cache, full,
            [&](std::size_t done) {
                if (events.progress) events.progress(done_before + done);
            },
            mode, decode);
        full.clear();
        full.shrink_to_fit();
        done_before += list.relative.size();
        out.computed += batch.computed;
        out.from_cache += batch.from_cache;
        for (const std::size_t row : batch.missing) missing.push_back(data.full_path(list.relative[row]));

        // Squeeze failed rows out of the matrix in place.
        const std::size_t size = std::size_t(batch.feature_size);
        SplitFeatureRows& target = *targets[s];
        std::size_t kept = 0;
        for (std::size_t row = 0; row < list.relative.size(); ++row) {
            if (!batch.errors[row].empty()) {
                if (mode != BottleneckMode::cached_only || !std::binary_search(batch.missing.begin(), batch.missing.end(), row)) {
                    ++out.skipped;
                    if (events.warning)
                        events.warning(skipped_message(data.full_path(list.relative[row]), batch.errors[row]));
                }
                continue;
            }
            if (kept != row) {  // never a self-move: that may empty the string
                std::memmove(batch.features.data() + kept * size, batch.features.data() + row * size, size * sizeof(float));
                list.relative[kept] = std::move(list.relative[row]);
                list.labels[kept] = list.labels[row];
            }
            ++kept;
        }
        batch.features.resize(kept * size);
        batch.features.shrink_to_fit();
        list.relative.resize(kept);
        list.labels.resize(kept);
        target.set.feature_size = batch.feature_size;
        target.set.features = std::move(batch.features);
        target.set.labels = std::move(list.labels);
        target.relative_paths = std::move(list.relative);
        if (with_mirrored) {
            for (const std::string& rel : target.relative_paths) full.push_back(data.full_path(rel));
            BottleneckBatch mirrored = compute_bottlenecks(
                extractor, cache, full,
                [&](std::size_t done) {
                    if (events.progress) events.progress(done_before + done);
                },
                mode, decode, true);
            done_before += batch.errors.size();  // the mirror pass counts the skipped rows too
            out.computed += mirrored.computed;
            out.from_cache += mirrored.from_cache;
            for (std::size_t row = 0; row < full.size(); ++row)
                if (!mirrored.errors[row].empty()) {
                    if (std::binary_search(mirrored.missing.begin(), mirrored.missing.end(), row))
                        missing.push_back(full[row] + " (mirrored)");
                    else
                        throw Error(full[row] + ": mirrored copy failed: " + mirrored.errors[row]);
                }
            target.mirrored.feature_size = mirrored.feature_size;
            target.mirrored.features = std::move(mirrored.features);
            target.mirrored.labels = target.set.labels;
        }
    }
    if (!missing.empty()) {
        for (const std::string& path : missing)
            if (events.warning) events.warning("not cached: " + path);
        std::string named;
        for (std::size_t i = 0; i < std::min(missing.size(), kMissingNamed); ++i) named += (i ? ", " : "") + missing[i];
        if (missing.size() > kMissingNamed) named += ", ...";
        throw Error(std::to_string(missing.size()) + " of " + std::to_string(total) + " images are not in the bottleneck cache " +
                    (cache ? cache->directory() : std::string("(none)")) + " (" + named +
                    "); compute them with 'tinception bottlenecks' first");
    }
    return out;
}

SplitFeatureRows all_split_rows(const SplitFeatures& features, std::size_t n_categories) {
    SplitFeatureRows all;
    all.set.feature_size = all.mirrored.feature_size = features.training.set.feature_size;
    // Bounded by relative_paths: distorted copies appended to training have none.
    const SplitFeatureRows* parts[] = {&features.training, &features.validation, &features.testing};
    std::size_t next[3] = {0, 0, 0};
    for (std::size_t c = 0; c < n_categories; ++c)
        for (int s = 0; s < 3; ++s) {
            const SplitFeatureRows& part = *parts[s];
            for (; next[s] < part.relative_paths.size() && part.set.labels[next[s]] == int(c); ++next[s]) {
                const float* row = part.set.row(next[s]);
                all.set.features.insert(all.set.features.end(), row, row + part.set.feature_size);
                if (part.mirrored.size() > 0) {
                    const float* mirror = part.mirrored.row(next[s]);
                    all.mirrored.features.insert(all.mirrored.features.end(), mirror, mirror + part.set.feature_size);
                    all.mirrored.labels.push_back(int(c));
                }
                all.set.labels.push_back(int(c));
                all.relative_paths.push_back(part.relative_paths[next[s]]);
            }
        }
    return all;
}

}  // namespace tinception
