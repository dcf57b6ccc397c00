// The int8 network's packed-weights cache on a small synthetic weight file: written by the
// first network, mapped by the next with features bit for bit those of quantizing in memory
// and the weight file's data left unread; a damaged entry or a damaged file rebuilt, never
// trusted; a stale fingerprint never mapped.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "kernel_dispatch.hpp"
#include "model/packed_cache.hpp"
#include "quant/activation_ranges.hpp"
#include "quant/int8_network.hpp"
#include "quant/int8_packed_cache.hpp"
#include "small_packed_weights.hpp"
#include "temp_dir.hpp"
#include "weights/weight_file.hpp"

using namespace tinception;
using tinception::testing::read_all;
using tinception::testing::write_all;
namespace fs = std::filesystem;

namespace {

// The int8 tables that pack their weights: only those use the cache.
std::vector<const kernels::Int8KernelTable*> packing_int8_tables() {
    std::vector<const kernels::Int8KernelTable*> out;
    for (const kernels::Int8KernelTable* t :
         {kernels::avx2_int8_kernels(), kernels::avx2_7bit_int8_kernels(), kernels::avx512_vnni_int8_kernels()})
        if (t && t->conv2d_pack) out.push_back(t);
    return out;
}

std::vector<float> features_of(Int8Network& net) {
    const std::vector<float> input = tinception::testing::small_packed_input();
    std::vector<float> out(2 * std::size_t(net.feature_size()), NAN);
    net.extract_features(input.data(), 2, out.data());
    return out;
}

struct Fixture : tinception::testing::SmallPackedFiles {
    ActivationRanges ranges_of(const WeightFile& weights) const {
        const std::vector<float> input = tinception::testing::small_packed_input();
        return calibrate_ranges(weights, "features", input.data(), 2, parse_range_rule("max"));
    }
};

}  // namespace

TEST_CASE("int8 packed cache: a table that packs nothing (the reference, all a -Dsimd=none build has) caches nothing") {
    const Fixture f;
    const WeightFile weights = WeightFile::open(f.weights_path);
    const ActivationRanges ranges = f.ranges_of(weights);
    Int8Network in_memory(weights, "features", ranges, kernels::reference_int8_kernels());
    Int8Network asked_to_cache(weights, "features", ranges, kernels::reference_int8_kernels(),
                               PackedCacheChoice{true, f.cache_dir});
    CHECK(asked_to_cache.cache_path().empty());
    CHECK_FALSE(fs::exists(f.cache_dir));
    CHECK(features_of(asked_to_cache) == features_of(in_memory));
}

TEST_CASE("int8 packed cache: written on first use, mapped afterwards, features identical to quantizing in memory") {
    const Fixture f;
    const std::vector<const kernels::Int8KernelTable*> tables = packing_int8_tables();
    if (tables.empty()) MESSAGE("no int8 table that packs in this build or on this CPU: nothing is cached (case above)");
    for (const kernels::Int8KernelTable* table : tables) {
        CAPTURE(std::string(table->isa_name));
        ActivationRanges ranges;
        std::vector<float> expected;
        {
            const WeightFile weights = WeightFile::open(f.weights_path);
            ranges = f.ranges_of(weights);
            Int8Network in_memory(weights, "features", ranges, *table);
            CHECK(in_memory.cache_path().empty());
            expected = features_of(in_memory);
        }
        const PackedCacheChoice cache{true, f.cache_dir};
        {
            const WeightFile weights = WeightFile::open(f.weights_path, DataCheck::deferred);
            Int8Network built(weights, "features", ranges, *table, cache);
            CHECK_FALSE(built.cache_mapped_every_layer());
            CHECK(fs::is_regular_file(built.cache_path()));
            CHECK(fs::path(built.cache_path()).filename().string().find(std::string("-i8_") + table->isa_name + "-") !=
                  std::string::npos);
            CHECK(weights.data_verified());  // quantized from checked data only
            CHECK(features_of(built) == expected);
        }
        const WeightFile weights = WeightFile::open(f.weights_path, DataCheck::deferred);
        Int8Network mapped(weights, "features", ranges, *table, cache);
        CHECK(mapped.cache_mapped_every_layer());
        CHECK_FALSE(weights.data_verified());  // nothing read from the weight file's tensors
        CHECK(features_of(mapped) == expected);
        // Copied out of the mapping: the same features, the file as it was, still no tensor read.
        const std::vector<char> file = read_all(mapped.cache_path());
        Int8Network copied(weights, "features", ranges, *table, PackedCacheChoice{true, f.cache_dir, true});
        CHECK(copied.cache_mapped_every_layer());
        CHECK_FALSE(weights.data_verified());
        CHECK(features_of(copied) == expected);
        CHECK(read_all(copied.cache_path()) == file);
    }
}

TEST_CASE("int8 packed cache: a damaged entry is quantized again and the file rewritten; a damaged file rebuilt") {
    const Fixture f;
    for (const kernels::Int8KernelTable* table : packing_int8_tables()) {
        CAPTURE(std::string(table->isa_name));
        const WeightFile weights = WeightFile::open(f.weights_path, DataCheck::deferred);
        const ActivationRanges ranges = f.ranges_of(weights);
        const PackedCacheChoice cache{true, f.cache_dir};
        std::string path;
        std::vector<float> expected;
        {
            Int8Network first(weights, "features", ranges, *table, cache);
            path = first.cache_path();
            expected = features_of(first);
        }
        const std::vector<char> good = read_all(path);
        REQUIRE(good.size() > 300);
        std::vector<char> entry_flipped = good;
        entry_flipped[200] = char(entry_flipped[200] ^ 0x01);  // in the first entry (data starts at 128)
        std::vector<char> header_flipped = good;
        header_flipped[40] = char(header_flipped[40] ^ 0x40);
        std::vector<char> truncated(good.begin(), good.begin() + std::ptrdiff_t(good.size() / 2));
        for (const std::vector<char>* bad : {&entry_flipped, &header_flipped, &truncated}) {
            write_all(path, *bad);
            Int8Network again(weights, "features", ranges, *table, cache);
            CHECK_FALSE(again.cache_mapped_every_layer());
            CHECK(features_of(again) == expected);
            CHECK(read_all(path) == good);  // rebuilt byte for byte
        }
    }
}

TEST_CASE("int8 packed cache: keyed apart from the fp32 cache and by the int8 table") {
    const Fixture f;
    const WeightFile weights = WeightFile::open(f.weights_path);
    const kernels::Int8KernelTable& reference = kernels::reference_int8_kernels();
    const PackedCacheKey a = int8_packed_cache_key(weights, reference);
    CHECK(a.table_name == "i8_reference");
    CHECK(a.fingerprint == int8_packed_cache_key(weights, reference).fingerprint);
    const kernels::Int8KernelTable* avx2 = kernels::avx2_int8_kernels();
    const kernels::Int8KernelTable* seven_bit = kernels::avx2_7bit_int8_kernels();
    if (!avx2 || !seven_bit) return;  // a build or CPU without them: the rest is about them
    const PackedCacheKey wide = int8_packed_cache_key(weights, *avx2);
    const PackedCacheKey narrow = int8_packed_cache_key(weights, *seven_bit);
    CHECK(wide.table_name == "i8_avx2");
    CHECK(wide.fingerprint != narrow.fingerprint);  // 7-bit weights are other bytes
    CHECK(packed_cache_file_name(wide) != packed_cache_file_name(narrow));
}
