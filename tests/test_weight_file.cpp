// The .tcw format: write then read back, and every kind of damage is a clear Error, never a crash.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "error.hpp"
#include "temp_dir.hpp"
#include "weights/crc32.hpp"
#include "weights/tcw_format.hpp"
#include "weights/weight_file.hpp"
#include "weights/weight_file_writer.hpp"

using namespace tinception;
using tinception::testing::TempDir;

namespace {

std::vector<float> ramp(std::size_t n, float start) {
    std::vector<float> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = start + 0.25f * float(i);
    return v;
}

// input 4x4x2 -> conv 3x3 (3 out, relu) -> flatten -> dense 48 -> 2.
WeightFileWriter small_network() {
    WeightFileWriter w;
    LayerSpec input{"input_1", "input", {}, {{"height", 4}, {"width", 4}, {"channels", 2}}, {}, {}};
    LayerSpec conv{"conv2d_1", "conv2d", {"input_1"},
                   {{"kernel_h", 3}, {"kernel_w", 3}, {"stride_h", 1}, {"stride_w", 1}, {"relu", 1}},
                   {{"padding", "same"}}, {"conv2d_1/weights", "conv2d_1/bias"}};
    LayerSpec flat{"flatten_1", "flatten", {"conv2d_1"}, {}, {}, {}};
    LayerSpec dense{"dense_1", "dense", {"flatten_1"}, {}, {{"activation", "softmax"}},
                    {"dense_1/weights", "dense_1/bias"}};
    for (const LayerSpec& l : {input, conv, flat, dense}) w.add_layer(l);
    w.add_tensor("conv2d_1/weights", {3, 2, 3, 3}, ramp(54, -3.0f));
    w.add_tensor("conv2d_1/bias", {3}, ramp(3, 0.5f));
    w.add_tensor("dense_1/weights", {2, 48}, ramp(96, -10.0f));
    w.add_tensor("dense_1/bias", {2}, ramp(2, 1.0f));
    w.set_metadata("source", "test");
    w.set_metadata("input_size", "4");
    return w;
}

void write_bytes(const std::string& path, const std::vector<std::uint8_t>& bytes) {
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

std::string open_error(const std::string& path) {
    try {
        WeightFile::open(path);
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

template <typename T>
T field(const std::vector<std::uint8_t>& b, std::size_t at) {
    T v;
    std::memcpy(&v, b.data() + at, sizeof v);
    return v;
}

template <typename T>
void set_field(std::vector<std::uint8_t>& b, std::size_t at, T v) {
    std::memcpy(b.data() + at, &v, sizeof v);
}

// Recomputes the CRCs so a test can reach the checks behind them. Sections whose offsets
// a test has pushed out of the file keep their old CRCs: the reader refuses those offsets
// before it checksums anything (found reading out of bounds under AddressSanitizer).
void fix_checksums(std::vector<std::uint8_t>& b) {
    const auto table = field<std::uint64_t>(b, tcw::kOffTableOffset);
    const auto data = field<std::uint64_t>(b, tcw::kOffDataOffset);
    if (table <= data && data <= b.size()) {
        set_field(b, tcw::kOffTableCrc, crc32(b.data() + table, std::size_t(data - table)));
        set_field(b, tcw::kOffContentCrc, crc32(b.data() + table, b.size() - std::size_t(table)));
    }
    set_field(b, tcw::kOffHeaderCrc, crc32(b.data(), tcw::kOffHeaderCrc));
}

}  // namespace

TEST_CASE("crc32 matches the standard check value") {
    CHECK(crc32("123456789", 9) == 0xCBF43926u);
    CHECK(crc32("", 0) == 0u);
    const std::string long_text(1000, 'x');
    CHECK(crc32(long_text.data() + 3, 997, crc32(long_text.data(), 3)) == crc32(long_text.data(), 1000));
}

TEST_CASE("a written file reads back equal, with aligned views into the mapping") {
    TempDir dir;
    const std::string path = dir.file("a.tcw");
    small_network().write(path);
    WeightFile f = WeightFile::open(path);
    CHECK(f.path() == path);
    REQUIRE(f.layers().size() == 4);
    const LayerSpec& conv = f.layer("conv2d_1");
    CHECK(conv.op == "conv2d");
    CHECK(conv.inputs == std::vector<std::string>{"input_1"});
    CHECK(conv.ints.at("relu") == 1);
    CHECK(conv.ints.at("kernel_w") == 3);
    CHECK(conv.strings.at("padding") == "same");
    CHECK(conv.tensors == std::vector<std::string>{"conv2d_1/weights", "conv2d_1/bias"});
    CHECK(f.layers()[3].strings.at("activation") == "softmax");
    CHECK(f.layer("input_1").ints.at("channels") == 2);

    REQUIRE(f.tensors().size() == 4);
    const TensorRef& w = f.tensor("conv2d_1/weights");
    CHECK(w.dims == std::vector<std::int64_t>{3, 2, 3, 3});
    REQUIRE(w.count == 54);
    CHECK(std::vector<float>(w.data, w.data + w.count) == ramp(54, -3.0f));
    for (const TensorRef& t : f.tensors()) CHECK(reinterpret_cast<std::uintptr_t>(t.data) % 64 == 0);
    CHECK(f.has_tensor("dense_1/bias"));
    CHECK_FALSE(f.has_tensor("dense_2/bias"));
    CHECK_THROWS_AS(f.tensor("nope"), Error);
    CHECK_THROWS_AS(f.layer("nope"), Error);
    CHECK(f.metadata().at("source") == "test");
    CHECK(f.file_size() == small_network().serialize().size());

    const std::vector<std::uint8_t> bytes = small_network().serialize();
    const auto table_offset = field<std::uint64_t>(bytes, tcw::kOffTableOffset);
    CHECK(f.checksum() == crc32(bytes.data() + table_offset, bytes.size() - std::size_t(table_offset)));
    CHECK(f.format_version() == tcw::kFloat32Format);

    WeightFile moved = std::move(f);
    CHECK(moved.tensor("dense_1/bias").data[1] == 1.25f);
}

TEST_CASE("the checksum covers the graph and metadata as well as the tensors") {
    const auto checksum_of = [](const WeightFileWriter& w) {
        const std::vector<std::uint8_t> bytes = w.serialize();
        return WeightFile::from_memory(bytes.data(), bytes.size(), "w.tcw").checksum();
    };
    const std::uint32_t base = checksum_of(small_network());
    CHECK(checksum_of(small_network()) == base);
    WeightFileWriter other_metadata = small_network();
    other_metadata.set_metadata("input_scale", "0.0078125");
    CHECK(checksum_of(other_metadata) != base);
    WeightFileWriter other_graph = small_network();
    other_graph.add_layer({"flatten_2", "flatten", {"dense_1"}, {}, {}, {}});
    CHECK(checksum_of(other_graph) != base);
}

TEST_CASE("one flipped byte in the header, table or data is a checksum error") {
    TempDir dir;
    const std::vector<std::uint8_t> good = small_network().serialize();
    const auto table = field<std::uint64_t>(good, tcw::kOffTableOffset);
    const auto data = field<std::uint64_t>(good, tcw::kOffDataOffset);
    struct Flip { std::size_t at; const char* expected; };
    for (const Flip& flip : {Flip{tcw::kOffTensorCount, "header checksum"}, Flip{tcw::kOffDataSize + 1, "header checksum"},
                             Flip{std::size_t(table) + 5, "table checksum"}, Flip{std::size_t(data) - 1, "table checksum"},
                             Flip{std::size_t(data) + 17, "data checksum"}, Flip{good.size() - 1, "data checksum"}}) {
        CAPTURE(flip.at);
        std::vector<std::uint8_t> bad = good;
        bad[flip.at] ^= 0x10;
        write_bytes(dir.file("bad.tcw"), bad);
        const std::string message = open_error(dir.file("bad.tcw"));
        CHECK(message.find(flip.expected) != std::string::npos);
        CHECK(message.find(dir.file("bad.tcw")) == 0);
    }
}

TEST_CASE("a file truncated anywhere is refused, never crashes") {
    TempDir dir;
    const std::vector<std::uint8_t> good = small_network().serialize();
    const auto data = std::size_t(field<std::uint64_t>(good, tcw::kOffDataOffset));
    // Every offset through the header and table, then a stride through the data.
    for (std::size_t size = 0; size < good.size(); size += size < data + 8 ? 1 : 29) {
        CAPTURE(size);
        write_bytes(dir.file("cut.tcw"), std::vector<std::uint8_t>(good.begin(), good.begin() + std::ptrdiff_t(size)));
        CHECK_FALSE(open_error(dir.file("cut.tcw")).empty());
    }
    write_bytes(dir.file("cut.tcw"), std::vector<std::uint8_t>(good.begin(), good.end() - 4));
    CHECK(open_error(dir.file("cut.tcw")).find("truncated") != std::string::npos);
}

TEST_CASE("wrong magic, other versions and a missing file are clear refusals") {
    TempDir dir;
    std::vector<std::uint8_t> bytes = small_network().serialize();
    bytes[0] = 'X';
    write_bytes(dir.file("m.tcw"), bytes);
    CHECK(open_error(dir.file("m.tcw")).find("not a tinception weight file") != std::string::npos);
    write_bytes(dir.file("text.tcw"), {'h', 'e', 'l', 'l', 'o'});
    CHECK(open_error(dir.file("text.tcw")).find("not a tinception weight file") != std::string::npos);

    bytes = small_network().serialize();
    set_field<std::uint32_t>(bytes, tcw::kOffVersion, tcw::kNewestFormat + 1);
    fix_checksums(bytes);
    write_bytes(dir.file("v3.tcw"), bytes);
    CHECK(open_error(dir.file("v3.tcw")).find("newer") != std::string::npos);
    // Format 1's second checksum covered the data alone: such a file is refused in one line
    // that says how to get a current one.
    set_field<std::uint32_t>(bytes, tcw::kOffVersion, 1);
    fix_checksums(bytes);
    write_bytes(dir.file("v1.tcw"), bytes);
    const std::string old = open_error(dir.file("v1.tcw"));
    CHECK(old.find("format 1 is older than this build reads (2); re-run weights/fetch_weights.sh") != std::string::npos);
    CHECK(old.find('\n') == std::string::npos);

    CHECK(open_error(dir.file("absent.tcw")).find("cannot open") != std::string::npos);
}

TEST_CASE("inconsistent sizes, offsets and alignment are refused even with valid checksums") {
    TempDir dir;
    const std::vector<std::uint8_t> good = small_network().serialize();
    auto refused = [&](std::vector<std::uint8_t> bytes, const char* expected) {
        fix_checksums(bytes);
        write_bytes(dir.file("x.tcw"), bytes);
        const std::string message = open_error(dir.file("x.tcw"));
        CHECK_MESSAGE(message.find(expected) != std::string::npos, message);
    };
    std::vector<std::uint8_t> b = good;
    set_field<std::uint64_t>(b, tcw::kOffDataOffset, field<std::uint64_t>(good, tcw::kOffDataOffset) + 8);
    refused(b, "out of range");
    b = good;
    set_field<std::uint64_t>(b, tcw::kOffTableOffset, 4);
    refused(b, "inconsistent");
    b = good;
    set_field<std::uint64_t>(b, tcw::kOffTableOffset, ~std::uint64_t(0));
    refused(b, "out of range");
    b = good;
    set_field<std::uint32_t>(b, tcw::kOffAlignment, 32);
    refused(b, "alignment");
    b = good;
    set_field<std::uint32_t>(b, tcw::kOffTensorCount, 40);
    refused(b, "");
}

TEST_CASE("any single damaged table byte, checksums made to match, is an Error or a valid file") {
    TempDir dir;
    const std::vector<std::uint8_t> good = small_network().serialize();
    const auto table = std::size_t(field<std::uint64_t>(good, tcw::kOffTableOffset));
    const auto data = std::size_t(field<std::uint64_t>(good, tcw::kOffDataOffset));
    int refusals = 0;
    for (std::size_t at = table; at < data; ++at)
        for (const std::uint8_t value : {std::uint8_t(0x00), std::uint8_t(0xFF)}) {
            std::vector<std::uint8_t> bad = good;
            if (bad[at] == value) continue;
            bad[at] = value;
            fix_checksums(bad);
            write_bytes(dir.file("t.tcw"), bad);
            try {
                const WeightFile f = WeightFile::open(dir.file("t.tcw"));
                for (const TensorRef& t : f.tensors()) CHECK(t.count * sizeof(float) <= f.file_size());
            } catch (const Error&) {
                ++refusals;
            }
        }
    CHECK(refusals > 0);
}

TEST_CASE("a graph that names an unknown tensor or layer is refused") {
    TempDir dir;
    WeightFileWriter w = small_network();
    w.add_layer({"dense_2", "dense", {"dense_1"}, {}, {{"activation", "linear"}}, {"dense_2/weights", "dense_2/bias"}});
    w.write(dir.file("t.tcw"));
    CHECK(open_error(dir.file("t.tcw")).find("dense_2/weights") != std::string::npos);

    WeightFileWriter v = small_network();
    v.add_layer({"flatten_2", "flatten", {"missing_layer"}, {}, {}, {}});
    v.write(dir.file("l.tcw"));
    CHECK(open_error(dir.file("l.tcw")).find("missing_layer") != std::string::npos);

    WeightFileWriter u = small_network();
    u.add_layer({"odd", "softmax2d", {"dense_1"}, {}, {}, {}});
    u.write(dir.file("o.tcw"));
    CHECK(open_error(dir.file("o.tcw")).find("unknown op") != std::string::npos);

    WeightFileWriter bad_values;
    CHECK_THROWS_AS(bad_values.add_tensor("t", {2, 3}, std::vector<float>(5)), Error);
}
