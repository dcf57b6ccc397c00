// Format 3, the 8-bit weight file: uint8 tensors expanded and batch normalisation folded at
// load give the float32 file's values and checksum; every kind of damage is one-line Error.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "byte_io.hpp"
#include "error.hpp"
#include "kernel_dispatch.hpp"
#include "model/network.hpp"
#include "model/packed_weights.hpp"
#include "temp_dir.hpp"
#include "weights/batch_norm_fold.hpp"
#include "weights/crc32.hpp"
#include "weights/tcw_format.hpp"
#include "weights/weight_file.hpp"
#include "weights/weight_file_writer.hpp"

using namespace tinception;
using tinception::testing::TempDir;

namespace {

constexpr double kScale = 0.0123, kMin = -1.5, kEps = 0.001;

std::vector<std::uint8_t> bytes_ramp(std::size_t n, unsigned step) {
    std::vector<std::uint8_t> q(n);
    for (std::size_t i = 0; i < n; ++i) q[i] = std::uint8_t(i * step % 256);
    return q;
}

// Independent of the library's fold: the arithmetic FORMAT.md gives, in double, one IEEE
// operation at a time (volatile keeps the compiler from fusing or reordering any of them).
float value(std::uint8_t q, double scale, double min) {
    volatile double product = scale * double(q);
    return float(min + product);
}
float folded(float w, double k) {
    volatile double product = double(w) * k;
    return float(product);
}

// input 4x4x2 -> conv 3x3 (3 out, batch norm folded at load, relu) -> flatten -> dense 48 -> 2.
// The 8-bit file, and the float32 file it must expand to.
struct Pair {
    WeightFileWriter u8, f32;
};

Pair small_pair() {
    Pair p;
    const LayerSpec input{"input_1", "input", {}, {{"height", 4}, {"width", 4}, {"channels", 2}}, {}, {}};
    LayerSpec conv{"conv2d_1", "conv2d", {"input_1"},
                   {{"kernel_h", 3}, {"kernel_w", 3}, {"stride_h", 1}, {"stride_w", 1}, {"relu", 1}},
                   {{"padding", "same"}}, {"conv2d_1/weights", "conv2d_1/bias"}};
    const LayerSpec flat{"flatten_1", "flatten", {"conv2d_1"}, {}, {}, {}};
    const LayerSpec dense{"dense_1", "dense", {"flatten_1"}, {}, {{"activation", "softmax"}},
                          {"dense_1/weights", "dense_1/bias"}};
    for (const LayerSpec& l : {input, conv, flat, dense}) p.f32.add_layer(l);
    conv.strings[tcw::kBatchNormEpsilon] = "0.001";
    conv.tensors = {"conv2d_1/weights", "conv2d_1/beta", "conv2d_1/moving_mean", "conv2d_1/moving_variance"};
    for (const LayerSpec& l : {input, conv, flat, dense}) p.u8.add_layer(l);

    const std::vector<std::uint8_t> w = bytes_ramp(54, 37), beta = {3, 200, 90}, var = {10, 250, 77};
    const std::vector<float> mean = {0.25f, -0.5f, 1.0f};
    p.u8.add_uint8_tensor("conv2d_1/weights", {3, 2, 3, 3}, w, kScale, kMin);
    p.u8.add_uint8_tensor("conv2d_1/beta", {3}, beta, 0.01, -1.0);
    p.u8.add_tensor("conv2d_1/moving_mean", {3}, mean);
    p.u8.add_uint8_tensor("conv2d_1/moving_variance", {3}, var, 0.002, 0.003);
    const std::vector<std::uint8_t> dw = bytes_ramp(96, 11);
    p.u8.add_uint8_tensor("dense_1/weights", {2, 48}, dw, 0.5, -64.0);
    p.u8.add_tensor("dense_1/bias", {2}, {1.0f, -1.0f});

    std::vector<float> fw(54), fb(3), fdw(96);
    for (std::size_t o = 0; o < 3; ++o) {
        const double k = 1.0 / std::sqrt(double(value(var[o], 0.002, 0.003)) + kEps);
        for (std::size_t j = 0; j < 18; ++j) fw[o * 18 + j] = folded(value(w[o * 18 + j], kScale, kMin), k);
        fb[o] = float(double(value(beta[o], 0.01, -1.0)) + (0.0 - double(mean[o])) * k);
    }
    for (std::size_t i = 0; i < 96; ++i) fdw[i] = value(dw[i], 0.5, -64.0);
    p.f32.add_tensor("conv2d_1/weights", {3, 2, 3, 3}, fw);
    p.f32.add_tensor("conv2d_1/bias", {3}, fb);
    p.f32.add_tensor("dense_1/weights", {2, 48}, fdw);
    p.f32.add_tensor("dense_1/bias", {2}, {1.0f, -1.0f});
    for (WeightFileWriter* w8 : {&p.u8, &p.f32}) {
        w8->set_metadata("source", "test");
        w8->set_metadata("input_size", "4");
    }
    const std::vector<std::uint8_t> f32_bytes = p.f32.serialize();
    char crc[16];
    std::snprintf(crc, sizeof crc, "%08x", unsigned(load_le<std::uint32_t>(f32_bytes.data() + tcw::kOffContentCrc)));
    p.u8.set_metadata(tcw::kFloat32Checksum, crc);
    return p;
}

void write_bytes(const std::string& path, const std::vector<std::uint8_t>& bytes) {
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

std::string open_error(const std::vector<std::uint8_t>& bytes, const TempDir& dir) {
    write_bytes(dir.file("x.tcw"), bytes);
    try {
        WeightFile::open(dir.file("x.tcw"));
    } catch (const Error& e) {
        const std::string message = e.what();
        CHECK_MESSAGE(message.find('\n') == std::string::npos, message);
        return message.empty() ? "(empty message)" : message;
    }
    return "";
}

void fix_checksums(std::vector<std::uint8_t>& b) {
    const auto table = load_le<std::uint64_t>(b.data() + tcw::kOffTableOffset);
    const auto data = load_le<std::uint64_t>(b.data() + tcw::kOffDataOffset);
    if (table <= data && data <= b.size()) {
        store_le(b.data() + tcw::kOffTableCrc, crc32(b.data() + table, std::size_t(data - table)));
        store_le(b.data() + tcw::kOffContentCrc, crc32(b.data() + table, b.size() - std::size_t(table)));
    }
    store_le(b.data() + tcw::kOffHeaderCrc, crc32(b.data(), tcw::kOffHeaderCrc));
}

// Where the named tensor's entry puts its dtype byte (the name is followed by it).
std::size_t dtype_at(const std::vector<std::uint8_t>& b, const std::string& name) {
    const std::string needle = std::string(1, char(name.size())) + '\0' + name;
    const auto it = std::search(b.begin() + tcw::kHeaderSize, b.end(), needle.begin(), needle.end());
    REQUIRE(it != b.end());
    return std::size_t(it - b.begin()) + needle.size();
}

}  // namespace

TEST_CASE("an 8-bit file expands to its float32 file: layers, values and checksum") {
    TempDir dir;
    Pair p = small_pair();
    write_bytes(dir.file("u8.tcw"), p.u8.serialize());
    write_bytes(dir.file("f32.tcw"), p.f32.serialize());
    const WeightFile f32 = WeightFile::open(dir.file("f32.tcw"));
    const WeightFile u8 = WeightFile::open(dir.file("u8.tcw"));
    CHECK(f32.format_version() == 2);
    CHECK(u8.format_version() == 3);
    CHECK(u8.checksum() == f32.checksum());
    CHECK(u8.file_checksum() != f32.file_checksum());
    CHECK(u8.metadata() == f32.metadata());
    CHECK(u8.layer("conv2d_1").strings == f32.layer("conv2d_1").strings);
    CHECK(u8.layer("conv2d_1").tensors == f32.layer("conv2d_1").tensors);
    REQUIRE(u8.tensors().size() == 4);
    for (std::size_t i = 0; i < 4; ++i) {
        const TensorRef &a = f32.tensors()[i], &b = u8.tensors()[i];
        CHECK(a.name == b.name);
        CHECK(a.dims == b.dims);
        REQUIRE(a.count == b.count);
        CHECK(std::memcmp(a.data, b.data, a.count * 4) == 0);
        CHECK(reinterpret_cast<std::uintptr_t>(b.data) % 64 == 0);
    }
}

TEST_CASE("dequantize_u8_folded gives the bits of dequantising and then folding") {
    std::vector<std::uint8_t> q(3 * 300 + 5 * 7);
    for (std::size_t i = 0; i < q.size(); ++i) q[i] = std::uint8_t((i * 37 + i / 3) % 256);
    for (const std::size_t per_channel : {std::size_t(300), std::size_t(7)}) {  // with and without the table
        CAPTURE(per_channel);
        const std::vector<double> k = {0.731, -1.0 / 3.0, 2.5e-3};
        const std::size_t count = per_channel * k.size();
        std::vector<float> expected(count), folded(count, -1.0f), plain(count, -1.0f);
        dequantize_u8(q.data(), count, kScale, kMin, expected.data());
        std::vector<float> unfolded = expected;
        fold_batch_norm_weights(expected.data(), per_channel, k);
        dequantize_u8_folded(q.data(), per_channel, kScale, kMin, k, count, folded.data());
        CHECK(std::memcmp(folded.data(), expected.data(), count * sizeof(float)) == 0);
        dequantize_u8_folded(q.data(), count, kScale, kMin, {}, count, plain.data());
        CHECK(std::memcmp(plain.data(), unfolded.data(), count * sizeof(float)) == 0);
    }
}

TEST_CASE("an 8-bit file opened deferred has its biases at once and its conv weights once asked for") {
    TempDir dir;
    Pair p = small_pair();
    write_bytes(dir.file("u8.tcw"), p.u8.serialize());
    write_bytes(dir.file("f32.tcw"), p.f32.serialize());
    const WeightFile f32 = WeightFile::open(dir.file("f32.tcw"));
    const WeightFile u8 = WeightFile::open(dir.file("u8.tcw"), DataCheck::deferred);
    CHECK_FALSE(u8.data_verified());
    CHECK(std::memcmp(u8.tensor("conv2d_1/bias").data, f32.tensor("conv2d_1/bias").data, 12) == 0);
    CHECK(std::memcmp(u8.tensor("dense_1/weights").data, f32.tensor("dense_1/weights").data, 96 * 4) == 0);
    u8.make_values_readable();
    CHECK(u8.data_verified());
    CHECK(std::memcmp(u8.tensor("conv2d_1/weights").data, f32.tensor("conv2d_1/weights").data, 54 * 4) == 0);
}

TEST_CASE("8-bit format checks: dtype, sizes, scale and min, truncation, the expanded checksum") {
    TempDir dir;
    const std::vector<std::uint8_t> good = small_pair().u8.serialize();
    CHECK(open_error(good, dir).empty());
    const auto refused = [&](std::vector<std::uint8_t> b, const char* expected) {
        fix_checksums(b);
        const std::string message = open_error(b, dir);
        CAPTURE(std::string(expected));
        CHECK_MESSAGE(message.find(expected) != std::string::npos, message);
    };
    std::vector<std::uint8_t> b = good;
    b[dtype_at(b, "conv2d_1/weights")] = 7;
    refused(b, "dtype code 7");
    // A uint8 tensor in a format 2 file: that format has float32 only.
    b = good;
    store_le<std::uint32_t>(b.data() + tcw::kOffVersion, 2);
    refused(b, "has only float32");
    // Size field against dims: a uint8 tensor is one byte per value.
    b = good;
    const std::size_t w = dtype_at(b, "conv2d_1/weights");
    store_le<std::uint64_t>(b.data() + w + 2 + 16 + 8, 54 * 4);
    refused(b, "size field says 216 bytes");
    // A float32 entry read as uint8: its scale and min are missing (the next entry's bytes).
    b = good;
    b[dtype_at(b, "conv2d_1/moving_mean")] = tcw::kDtypeUint8;
    refused(b, "conv2d_1/moving_mean");
    for (const double bad : {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()}) {
        b = good;
        store_le<double>(b.data() + w + 2 + 16 + 16, bad);  // scale
        refused(b, "must be finite");
        b = good;
        store_le<double>(b.data() + w + 2 + 16 + 24, bad);  // min
        refused(b, "must be finite");
    }
    // Metadata: the float32 checksum is required and must be what the file expands to.
    b = good;
    const std::string key = tcw::kFloat32Checksum;
    const auto at = std::search(b.begin(), b.end(), key.begin(), key.end());
    REQUIRE(at != b.end());
    b[std::size_t(at - b.begin()) + key.size() + 4] ^= 1;  // one hex digit of the value
    refused(b, "expands to float32 weights with checksum");
    b = good;
    *at = 'g';
    refused(b, "without the 'float32_checksum' metadata");
    // Damage in the data section with checksums fixed: the expansion no longer matches.
    b = good;
    b[std::size_t(load_le<std::uint64_t>(b.data() + tcw::kOffDataOffset) + load_le<std::uint64_t>(b.data() + w + 18)) + 5] ^= 0x10;
    refused(b, "expands to float32 weights with checksum");
    // Truncated anywhere.
    for (std::size_t size = 0; size < good.size(); size += 7) {
        const std::vector<std::uint8_t> cut(good.begin(), good.begin() + std::ptrdiff_t(size));
        CHECK_FALSE(open_error(cut, dir).empty());
    }
}

TEST_CASE("8-bit batch norm graphs: missing, unknown or misshapen tensors and bad epsilons are refused") {
    TempDir dir;
    const auto refused = [&](WeightFileWriter w, const char* expected) {
        const std::string message = open_error(w.serialize(), dir);
        CHECK_MESSAGE(message.find(expected) != std::string::npos, message);
    };
    Pair p = small_pair();
    for (const char* eps : {"-1", "nan", "", "1e-3x", "inf"}) {
        WeightFileWriter w;
        for (LayerSpec l : p.u8.layers()) {
            if (l.name == "conv2d_1") l.strings[tcw::kBatchNormEpsilon] = eps;
            w.add_layer(l);
        }
        w.add_uint8_tensor("conv2d_1/weights", {3, 2, 3, 3}, bytes_ramp(54, 37), kScale, kMin);
        w.add_uint8_tensor("conv2d_1/beta", {3}, {1, 2, 3}, 0.01, -1.0);
        w.add_tensor("conv2d_1/moving_mean", {3}, {0.0f, 0.0f, 0.0f});
        w.add_uint8_tensor("conv2d_1/moving_variance", {3}, {1, 2, 3}, 0.002, 0.003);
        w.add_tensor("dense_1/weights", {2, 48}, std::vector<float>(96));
        w.add_tensor("dense_1/bias", {2}, {0.0f, 0.0f});
        w.set_metadata(tcw::kFloat32Checksum, "00000000");
        refused(w, "batch_norm_epsilon");
    }
    const auto variant = [&](const std::vector<std::string>& names, std::vector<std::int64_t> mean_dims,
                             float variance, bool extra = false) {
        WeightFileWriter w;
        for (LayerSpec l : p.u8.layers()) {
            if (l.name == "conv2d_1") l.tensors = names;
            w.add_layer(l);
        }
        w.add_uint8_tensor("conv2d_1/weights", {3, 2, 3, 3}, bytes_ramp(54, 37), kScale, kMin);
        std::int64_t n = 1;
        for (const std::int64_t d : mean_dims) n *= d;
        w.add_tensor("conv2d_1/moving_mean", mean_dims, std::vector<float>(std::size_t(n)));
        w.add_tensor("conv2d_1/moving_variance", {3}, {variance, variance, variance});
        if (extra) w.add_tensor("conv2d_1/extra", {3}, {0.0f, 0.0f, 0.0f});
        w.add_tensor("dense_1/weights", {2, 48}, std::vector<float>(96));
        w.add_tensor("dense_1/bias", {2}, {0.0f, 0.0f});
        w.set_metadata(tcw::kFloat32Checksum, "00000000");
        return w;
    };
    const std::vector<std::string> ok = {"conv2d_1/weights", "conv2d_1/moving_mean", "conv2d_1/moving_variance"};
    refused(variant(ok, {3}, 1.0f, true), "'conv2d_1/extra' is used by no layer");
    refused(variant({"conv2d_1/weights", "conv2d_1/moving_mean", "conv2d_1/moving_variance", "conv2d_1/extra"}, {3}, 1.0f, true),
            "not one of its weights");
    refused(variant({"conv2d_1/weights", "conv2d_1/moving_variance"}, {3}, 1.0f), "lacks its weights, moving_mean");
    refused(variant(ok, {4}, 1.0f), "expected 3");
    refused(variant(ok, {3}, -1.0f), "non-positive variance + epsilon in channel 0");
}

TEST_CASE("an 8-bit file and its float32 file keep a packed cache each: alternating maps, never rebuilds") {
    TempDir dir;
    const Pair p = small_pair();
    write_bytes(dir.file("u8.tcw"), p.u8.serialize());
    write_bytes(dir.file("f32.tcw"), p.f32.serialize());
    const WeightFile u8 = WeightFile::open(dir.file("u8.tcw"), DataCheck::deferred);
    const WeightFile f32 = WeightFile::open(dir.file("f32.tcw"), DataCheck::deferred);
    const std::string cache = dir.file("packed");
    const auto features = [](const std::shared_ptr<const PackedWeights>& packed) {
        Network net(packed, "conv2d_1");  // writes the cache file when it packed layers
        std::vector<float> input(4 * 4 * 2), out(std::size_t(net.feature_size()));
        for (std::size_t i = 0; i < input.size(); ++i) input[i] = float(i) / 32.0f;
        net.extract_features(input.data(), 1, out.data());
        return out;
    };
    for (const kernels::KernelTable* table : available_kernel_tables()) {
        const std::string isa = table->isa_name;
        CAPTURE(isa);
        const auto u8_built = PackedWeights::cached(u8, *table, cache);
        const auto f32_built = PackedWeights::cached(f32, *table, cache);
        CHECK(u8_built->cache_path() != f32_built->cache_path());
        const std::vector<float> expected = features(u8_built);
        CHECK(features(f32_built) == expected);
        for (int round = 0; round < 2; ++round) {
            CHECK(PackedWeights::cached(u8, *table, cache)->source() == PackedWeights::Source::cache_mapped);
            CHECK(PackedWeights::cached(f32, *table, cache)->source() == PackedWeights::Source::cache_mapped);
        }
        CHECK(features(PackedWeights::cached(u8, *table, cache)) == expected);
    }
}
