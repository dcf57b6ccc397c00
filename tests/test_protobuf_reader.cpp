// The protobuf / ONNX reader on hand-made, truncated and corrupted bytes: it either decodes
// or throws Error with a message saying what is wrong; it never reads out of bounds.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "error.hpp"
#include "file_io.hpp"
#include "onnx/onnx_model.hpp"
#include "onnx/protobuf_reader.hpp"

using namespace tinception;
using Bytes = std::vector<std::uint8_t>;

namespace {

const char* const kSampleDir = "/usr/share/libonnx-testdata/data/node/test_conv_with_strides_padding";

std::string tensor_error(const Bytes& bytes) {
    try {
        onnx::parse_tensor(bytes.data(), bytes.size(), "bytes");
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

// A little-endian float's four bytes.
void put_float(Bytes& b, float v) {
    std::uint32_t bits;
    std::memcpy(&bits, &v, 4);
    for (int i = 0; i < 4; ++i) b.push_back(std::uint8_t(bits >> (8 * i)));
}

// Parses `bytes` as both a model and a tensor; any outcome but a crash or a non-Error
// exception is acceptable. Returns how many of the two parses were refused.
int parse_both(const Bytes& bytes) {
    int refused = 0;
    try {
        onnx::parse_model(bytes.data(), bytes.size(), "fuzz");
    } catch (const Error& e) {
        CHECK(std::string(e.what()).find("fuzz") == 0);
        ++refused;
    }
    try {
        onnx::parse_tensor(bytes.data(), bytes.size(), "fuzz");
    } catch (const Error& e) {
        CHECK(std::string(e.what()).find("fuzz") == 0);
        ++refused;
    }
    return refused;
}

}  // namespace

TEST_CASE("well-formed tensors decode: packed and unpacked float_data, raw_data") {
    // dims [2] packed, data_type 1, float_data packed
    Bytes packed = {0x0a, 0x01, 0x02, 0x10, 0x01, 0x22, 0x08};
    put_float(packed, 1.5f);
    put_float(packed, -2.0f);
    const onnx::Tensor a = onnx::parse_tensor(packed.data(), packed.size(), "packed");
    CHECK(a.dims == std::vector<std::int64_t>{2});
    CHECK(a.values == std::vector<float>{1.5f, -2.0f});

    // dims 2 unpacked, float_data as two fixed32 fields, name "t"
    Bytes unpacked = {0x08, 0x02, 0x10, 0x01, 0x25};
    put_float(unpacked, 3.0f);
    unpacked.push_back(0x25);
    put_float(unpacked, 4.0f);
    unpacked.insert(unpacked.end(), {0x42, 0x01, 't'});
    const onnx::Tensor b = onnx::parse_tensor(unpacked.data(), unpacked.size(), "unpacked");
    CHECK(b.name == "t");
    CHECK(b.values == std::vector<float>{3.0f, 4.0f});

    // dims 1x1, raw_data of one float
    Bytes raw = {0x08, 0x01, 0x08, 0x01, 0x10, 0x01, 0x4a, 0x04};
    put_float(raw, 0.25f);
    const onnx::Tensor c = onnx::parse_tensor(raw.data(), raw.size(), "raw");
    CHECK(c.dims == std::vector<std::int64_t>{1, 1});
    CHECK(c.values == std::vector<float>{0.25f});
}

TEST_CASE("malformed bytes are refused with a message that says why") {
    CHECK(tensor_error({0x08}).find("varint runs past the end") != std::string::npos);
    CHECK(tensor_error({0x08, 0x80}).find("varint runs past the end") != std::string::npos);
    CHECK(tensor_error({0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f})
              .find("overflows") != std::string::npos);
    CHECK(tensor_error({0x42, 0x05, 'a'}).find("claims 5 bytes but only 1 remain") != std::string::npos);
    CHECK(tensor_error({0x42, 0xff, 0xff, 0xff, 0xff, 0x0f}).find("claims") != std::string::npos);
    CHECK(tensor_error({0x0b}).find("unsupported wire type 3") != std::string::npos);
    CHECK(tensor_error({0x00, 0x01}).find("field number 0") != std::string::npos);
    CHECK(tensor_error({0x25, 0x00, 0x00}).find("fixed32 field runs past") != std::string::npos);
    CHECK(tensor_error({0x21, 0x00}).find("fixed64 field runs past") != std::string::npos);
    // name (field 8) sent as a varint
    CHECK(tensor_error({0x40, 0x01}).find("should be length-delimited") != std::string::npos);
    // packed float_data of 3 bytes
    CHECK(tensor_error({0x10, 0x01, 0x22, 0x03, 0, 0, 0}).find("not a multiple of 4") != std::string::npos);
    // dims [2] but one float
    Bytes short_data = {0x08, 0x02, 0x10, 0x01, 0x4a, 0x04};
    put_float(short_data, 1.0f);
    CHECK(tensor_error(short_data).find("expected 8") != std::string::npos);
    // a negative dimension (varint of -1)
    CHECK(tensor_error({0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x10, 0x01})
              .find("negative dimension") != std::string::npos);
    // dimensions whose product overflows
    CHECK(tensor_error({0x08, 0xff, 0xff, 0xff, 0xff, 0x07, 0x08, 0xff, 0xff, 0xff, 0xff, 0x07, 0x10, 0x01})
              .find("more elements") != std::string::npos);
    CHECK_THROWS_AS(onnx::parse_model(nullptr, 0, "empty"), Error);  // no graph
}

TEST_CASE("truncated and corrupted ONNX files: a clear refusal or a decode, never a crash") {
    if (!std::filesystem::is_directory(kSampleDir)) {
        MESSAGE("not run: " << kSampleDir << " is missing; install libonnx-testdata");
        return;
    }
    const std::string dir = kSampleDir;
    for (const std::string name : {"/model.onnx", "/test_data_set_0/input_0.pb", "/test_data_set_0/output_0.pb"}) {
        CAPTURE(name);
        const Bytes whole = read_file_bytes(dir + name);
        REQUIRE(whole.size() > 16);
        int refused = 0;
        for (std::size_t cut = 0; cut < whole.size(); ++cut)
            refused += parse_both(Bytes(whole.begin(), whole.begin() + long(cut)));
        CHECK(refused > 0);  // most cuts fall inside a field

        std::mt19937 rng(2024);
        for (int trial = 0; trial < 2000; ++trial) {
            Bytes corrupt = whole;
            const int flips = 1 + int(rng() % 4);
            for (int f = 0; f < flips; ++f) corrupt[rng() % corrupt.size()] = std::uint8_t(rng());
            parse_both(corrupt);
        }
    }
    std::mt19937 rng(7);
    for (int trial = 0; trial < 2000; ++trial) {
        Bytes garbage(rng() % 64);
        for (std::uint8_t& b : garbage) b = std::uint8_t(rng());
        parse_both(garbage);
    }
}
