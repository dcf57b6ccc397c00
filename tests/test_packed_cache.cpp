// The packed-weights cache on a small synthetic weight file with Winograd-sized layers: written
// by the first network with the layers it packed and mapped afterwards with the same results as
// packing in memory; a deeper network adding its layers; damaged, truncated and stale files
// rebuilt, never trusted and never a crash; and the weight file's data still checked, at the
// latest when a cache is built.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "error.hpp"
#include "kernel_dispatch.hpp"
#include "model/layer_args.hpp"
#include "model/network.hpp"
#include "model/packed_cache.hpp"
#include "model/packed_weights.hpp"
#include "small_packed_weights.hpp"
#include "temp_dir.hpp"
#include "weights/weight_file.hpp"

using namespace tinception;
using tinception::testing::TempDir;
namespace fs = std::filesystem;
using tinception::testing::read_all;
using tinception::testing::write_all;

namespace {

std::vector<float> features_of(const std::shared_ptr<const PackedWeights>& packed) {
    Network net(packed, "features");  // writes the cache file when it packed layers
    const std::vector<float> input = tinception::testing::small_packed_input();
    std::vector<float> out(2 * std::size_t(net.feature_size()), NAN);
    net.extract_features(input.data(), 2, out.data());
    return out;
}

using Fixture = tinception::testing::SmallPackedFiles;

}  // namespace

TEST_CASE("packed cache: built on first use, mapped afterwards, features identical to packing in memory") {
    const Fixture f;
    const WeightFile weights = WeightFile::open(f.weights_path, DataCheck::deferred);
    for (const kernels::KernelTable* table : available_kernel_tables()) {
        const std::string isa = table->isa_name;
        CAPTURE(isa);
        const std::vector<float> expected = features_of(std::make_shared<const PackedWeights>(weights, *table));
        const auto built = PackedWeights::cached(weights, *table, f.cache_dir);
        CHECK(built->source() == PackedWeights::Source::cache_built);
        CHECK_FALSE(fs::exists(built->cache_path()));  // nothing packed yet, nothing written
        CHECK(features_of(built) == expected);
        CHECK(fs::is_regular_file(built->cache_path()));
        const auto mapped = PackedWeights::cached(weights, *table, f.cache_dir);
        CHECK(mapped->source() == PackedWeights::Source::cache_mapped);
        CHECK(features_of(mapped) == expected);
        CHECK(mapped->packed_bytes() == 0);  // every layer came from the file, none packed here

        // Copied out of the mapping into memory of its own: the same bytes elsewhere, the
        // same features, and the file left as it was.
        const std::vector<char> file = read_all(mapped->cache_path());
        const auto copied = PackedWeights::cached(weights, *table, f.cache_dir, /*copy_mapped=*/true);
        CHECK(copied->source() == PackedWeights::Source::cache_mapped);
        CHECK(features_of(copied) == expected);
        for (const Layer& l : weights.graph().layers()) {
            if (l.op != LayerOp::conv2d || !table->conv2d_packed_size) continue;
            const kernels::Conv2dArgs args = conv_args_for_packing(weights.graph(), l);
            const int index = int(&l - weights.graph().layers().data());
            const void* from_file = mapped->conv2d(index, args);
            const void* copy = copied->conv2d(index, args);
            REQUIRE(from_file != nullptr);
            CHECK(copy != from_file);
            CHECK(std::memcmp(copy, from_file, table->conv2d_packed_size(args)) == 0);
        }
        CHECK(read_all(mapped->cache_path()) == file);
    }
}

TEST_CASE("packed cache: a network to an inner layer writes only the layers it packed; a deeper one adds the rest") {
    const Fixture f;
    const WeightFile weights = WeightFile::open(f.weights_path, DataCheck::deferred);
    for (const kernels::KernelTable* table : available_kernel_tables()) {
        if (!table->conv2d_pack) continue;  // nothing packed, nothing to write
        const std::string isa = table->isa_name;
        CAPTURE(isa);
        TempDir dir;
        const std::string inner_dir = dir.file("inner"), full_dir = dir.file("full");
        const auto inner = PackedWeights::cached(weights, *table, inner_dir);
        Network(inner, "wide");  // stem and wide
        const std::vector<char> two_layers = read_all(inner->cache_path());
        {
            std::string why;
            const PackedCacheKey key{weights.checksum(), table->isa_name, packing_fingerprint(weights.graph(), *table),
                                     weights.identity()};
            const auto file = PackedCacheFile::open(inner->cache_path(), key, &why);
            REQUIRE_MESSAGE(file, why);
            CHECK(file->entry_count() == 2);
        }
        // The deeper network maps the two and packs the other two, and the file then holds all four,
        // byte for byte what a fresh build of the whole network writes.
        const auto deeper = PackedWeights::cached(weights, *table, inner_dir);
        CHECK(deeper->source() == PackedWeights::Source::cache_mapped);
        const std::vector<float> features = features_of(deeper);
        CHECK(read_all(inner->cache_path()).size() > two_layers.size());
        features_of(PackedWeights::cached(weights, *table, full_dir));
        const std::string full_path = (fs::path(full_dir) / fs::path(inner->cache_path()).filename()).string();
        CHECK(read_all(inner->cache_path()) == read_all(full_path));
        const auto mapped = PackedWeights::cached(weights, *table, inner_dir);
        CHECK(features_of(mapped) == features);
        CHECK(mapped->packed_bytes() == 0);
    }
}

TEST_CASE("packed cache: damaged, truncated or stale files are rebuilt and never crash") {
    const Fixture f;
    const WeightFile weights = WeightFile::open(f.weights_path, DataCheck::deferred);
    const kernels::KernelTable& table = active_kernels();
    const std::vector<float> expected = features_of(std::make_shared<const PackedWeights>(weights, table));
    const auto first = PackedWeights::cached(weights, table, f.cache_dir);
    features_of(first);
    const std::string path = first->cache_path();
    const std::vector<char> good = read_all(path);
    REQUIRE(good.size() > 130);  // header and trailer at least: a table that packs nothing writes no layers

    struct Damage { const char* what; std::vector<char> bytes; };
    std::vector<Damage> cases;
    for (const std::size_t keep : {std::size_t(0), std::size_t(7), std::size_t(64), std::size_t(130),
                                   good.size() / 2, good.size() - 1})
        cases.push_back({"truncated", std::vector<char>(good.begin(), good.begin() + std::ptrdiff_t(keep))});
    for (const std::size_t at : {std::size_t(3), std::size_t(40), std::size_t(100), good.size() - 20, good.size() - 3}) {
        std::vector<char> b = good;
        b[at] = char(b[at] ^ 0x40);
        cases.push_back({"a flipped byte in the header or the entry table", b});
    }
    std::vector<char> longer = good;
    longer.push_back('x');
    cases.push_back({"padded", longer});
    for (const Damage& d : cases) {
        CAPTURE(d.what);
        CAPTURE(d.bytes.size());
        write_all(path, d.bytes);
        const auto p = PackedWeights::cached(weights, table, f.cache_dir);
        CHECK(p->source() == PackedWeights::Source::cache_built);
        CHECK(features_of(p) == expected);
        CHECK(read_all(path) == good);  // rebuilt byte for byte
    }
}

TEST_CASE("packed cache: a damaged layer is packed in memory, and the file rebuilt for the next run") {
    const Fixture f;
    const WeightFile weights = WeightFile::open(f.weights_path, DataCheck::deferred);
    for (const kernels::KernelTable* table : available_kernel_tables()) {
        if (!table->conv2d_pack) continue;  // nothing packed, nothing in the data section to damage
        const std::string isa = table->isa_name;
        CAPTURE(isa);
        const std::vector<float> expected = features_of(std::make_shared<const PackedWeights>(weights, *table));
        const auto first = PackedWeights::cached(weights, *table, f.cache_dir);
        features_of(first);
        const std::string path = first->cache_path();
        const std::vector<char> good = read_all(path);
        std::vector<char> bad = good;
        bad[200] = char(bad[200] ^ 0x01);  // inside the first layer's packed bytes (data starts at 128)
        write_all(path, bad);
        const auto p = PackedWeights::cached(weights, *table, f.cache_dir);
        CHECK(p->source() == PackedWeights::Source::cache_mapped);  // header and entry table are sound
        CHECK(features_of(p) == expected);
        CHECK(p->packed_bytes() > 0);  // the damaged layer, packed in memory
        CHECK(read_all(path) == good);
        CHECK(PackedWeights::cached(weights, *table, f.cache_dir)->source() == PackedWeights::Source::cache_mapped);
    }
}

TEST_CASE("packed cache: a weight file changed since the cache was built is checked again") {
    const Fixture f;
    const kernels::KernelTable& table = active_kernels();
    {
        const WeightFile weights = WeightFile::open(f.weights_path, DataCheck::deferred);
        features_of(PackedWeights::cached(weights, table, f.cache_dir));
    }
    // A flipped byte in the last tensor's data, written in place: the header still says the old
    // checksum, so only the data check can tell.
    std::vector<char> bytes = read_all(f.weights_path);
    bytes[bytes.size() - 5] = char(bytes[bytes.size() - 5] ^ 0x08);
    write_all(f.weights_path, bytes);
    const WeightFile damaged = WeightFile::open(f.weights_path, DataCheck::deferred);  // header and table only
    CHECK_FALSE(damaged.data_verified());
    CHECK_THROWS_WITH_AS(PackedWeights::cached(damaged, table, f.cache_dir), doctest::Contains("data checksum mismatch"),
                         Error);
    CHECK_THROWS_WITH_AS(PackedWeights(damaged, table), doctest::Contains("data checksum mismatch"), Error);
    CHECK_THROWS_WITH_AS(WeightFile::open(f.weights_path), doctest::Contains("data checksum mismatch"), Error);
}

TEST_CASE("packed cache: a folder that cannot be written leaves the layers packed in memory") {
    const Fixture f;
    const WeightFile weights = WeightFile::open(f.weights_path, DataCheck::deferred);
    const kernels::KernelTable& table = active_kernels();
    write_all(f.cache_dir, {'n', 'o', 't', ' ', 'a', ' ', 'f', 'o', 'l', 'd', 'e', 'r'});
    const auto p = PackedWeights::cached(weights, table, f.cache_dir);
    CHECK(features_of(p) == features_of(std::make_shared<const PackedWeights>(weights, table)));
    if (table.conv2d_pack) CHECK(p->cache_note().find("not written") != std::string::npos);
    CHECK(weights.data_verified());
}

TEST_CASE("packed cache: the file name carries checksum, table and fingerprint; another table packs differently") {
    const Fixture f;
    const WeightFile weights = WeightFile::open(f.weights_path);
    const std::vector<const kernels::KernelTable*> tables = available_kernel_tables();
    std::vector<std::uint64_t> prints;
    for (const kernels::KernelTable* t : tables) prints.push_back(packing_fingerprint(weights.graph(), *t));
    for (std::size_t i = 0; i < tables.size(); ++i) {
        CHECK(prints[i] == packing_fingerprint(weights.graph(), *tables[i]));  // deterministic
        for (std::size_t j = 0; j < i; ++j) CHECK(prints[i] != prints[j]);
    }
    const PackedCacheKey key{0x1234abcdu, "avx2", 0x0123456789abcdefull, {}};
    CHECK(packed_cache_file_name(key) == "1234abcd-avx2-0123456789abcdef.tcp");
    const PackedCacheKey eight_bit{0x1234abcdu, "avx2", 0x0123456789abcdefull, {}, true};
    CHECK(packed_cache_file_name(eight_bit) == "1234abcd-avx2-0123456789abcdef-u8.tcp");
}
