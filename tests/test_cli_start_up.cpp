// `guess` start-up through the program, on a tiny synthetic weight file: a bad image is
// refused before the weights' data is read, results are the same from a fresh cache, a mapped
// cache and --no-cache, and a byte flipped in the weight data is still refused with and
// without the cache (and by info).
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "classify/classifier_model.hpp"
#include "cli_harness.hpp"
#include "model/feature_extractor.hpp"
#include "small_packed_weights.hpp"
#include "temp_dir.hpp"
#include "weights/weight_file.hpp"
#include "weights/weight_file_writer.hpp"

using namespace tinception;
using namespace tinception::testing;
namespace fs = std::filesystem;

namespace {

// input 12x12x3 -> 3x3 conv to 6 channels "features", pixels scaled to [0, 1].
void write_weights(const std::string& path) {
    std::mt19937 rng(3);
    std::normal_distribution<float> normal(0.0f, 0.5f);
    const auto values = [&](std::size_t n) {
        std::vector<float> v(n);
        for (float& x : v) x = normal(rng);
        return v;
    };
    WeightFileWriter w;
    w.add_layer({"input_1", "input", {}, {{"height", 12}, {"width", 12}, {"channels", 3}}, {}, {}});
    w.add_layer({"features", "conv2d", {"input_1"},
                 {{"kernel_h", 3}, {"kernel_w", 3}, {"stride_h", 1}, {"stride_w", 1}, {"relu", 1}},
                 {{"padding", "same"}}, {"features/weights", "features/bias"}});
    w.add_tensor("features/weights", {6, 3, 3, 3}, values(6 * 3 * 3 * 3));
    w.add_tensor("features/bias", {6}, values(6));
    w.set_metadata("input_size", "12");
    w.write(path);
}

void write_model(const std::string& path, const std::string& weights_path) {
    const WeightFile weights = WeightFile::open(weights_path);
    std::mt19937 rng(9);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    ClassifierModel m;
    m.labels = {"left", "right"};
    m.feature_layer = "features";
    m.feature_size = 6;
    m.weights_checksum = weights.checksum();
    m.weights_path = weights_path;
    m.preprocessing = preprocessing_of(weights);
    m.head.n_classes = 2;
    m.head.feature_size = 6;
    for (int i = 0; i < 12; ++i) m.head.weights.push_back(normal(rng));
    m.head.bias = {0.0f, 0.0f};
    save_classifier_model(path, m);
}

// A 16x10 24-bit BMP with a gradient, written by hand; `shade` shifts its colours.
void write_bmp(const std::string& path, int shade = 0) {
    const int w = 16, h = 10, row = w * 3;  // 48 bytes: already a multiple of 4
    std::vector<unsigned char> b(54 + std::size_t(row) * h, 0);
    const auto put32 = [&b](std::size_t at, std::uint32_t v) {
        for (int i = 0; i < 4; ++i) b[at + std::size_t(i)] = static_cast<unsigned char>(v >> (8 * i));
    };
    b[0] = 'B';
    b[1] = 'M';
    put32(2, std::uint32_t(b.size()));
    put32(10, 54);
    put32(14, 40);
    put32(18, w);
    put32(22, h);
    b[26] = 1;
    b[28] = 24;
    put32(34, std::uint32_t(row * h));
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w * 3; ++x)
            b[54 + std::size_t(y * row + x)] = static_cast<unsigned char>(x * 5 + y * 20 + shade * (x % 3 + 1));
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("guess: a bad image is refused before the weight data is read; the cache and --no-cache agree; damaged weight data is refused (guess, embed, info)") {
    TempDir dir;
    const std::string weights = dir.file("w.tcw"), model = dir.file("m.tcm"), good = dir.file("good.bmp"),
                      bad = dir.file("bad.jpg");
    write_weights(weights);
    write_model(model, weights);
    write_bmp(good);
    std::ofstream(bad) << "not a picture";
    const std::string cache = dir.file("cache");
    ::setenv("XDG_CACHE_HOME", cache.c_str(), 1);  // inherited by the program

    const CommandResult first = run_tinception({"guess", model, good});
    INFO(first.err);
    REQUIRE(first.exit_code == 0);
    CHECK(contains(first.out, "left (score = "));
    REQUIRE(fs::is_directory(fs::path(cache) / "tinception" / "packed"));
    CHECK(std::distance(fs::directory_iterator(fs::path(cache) / "tinception" / "packed"), fs::directory_iterator()) == 1);
    const CommandResult mapped = run_tinception({"guess", model, good});
    CHECK(mapped.exit_code == 0);
    CHECK(mapped.out == first.out);
    const CommandResult no_cache = run_tinception({"guess", model, good, "--no-cache"});
    CHECK(no_cache.exit_code == 0);
    CHECK(no_cache.out == first.out);

    // A flipped byte in the last tensor's data, written in place.
    std::vector<char> bytes;
    {
        std::ifstream in(weights, std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    bytes[bytes.size() - 3] = char(bytes[bytes.size() - 3] ^ 0x20);
    std::ofstream(weights, std::ios::binary | std::ios::trunc).write(bytes.data(), std::streamsize(bytes.size()));

    // The image fails first: the weight data was never read, so its damage is not what is reported.
    const CommandResult refused = run_tinception({"guess", model, bad});
    CHECK(refused.exit_code == 2);
    CHECK(contains(refused.err, "bad.jpg"));
    CHECK_FALSE(contains(refused.err, "checksum"));
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"guess", model, good}, std::vector<std::string>{"guess", model, good, "--no-cache"},
          std::vector<std::string>{"embed", weights, good, "--layer", "features"},
          std::vector<std::string>{"info", weights}}) {
        CAPTURE(args.back());
        const CommandResult r = run_tinception(args);
        CHECK(r.exit_code != 0);
        CHECK(contains(r.err, "data checksum mismatch"));
        CHECK(r.out.find("score") == std::string::npos);
    }
    ::unsetenv("XDG_CACHE_HOME");
}

TEST_CASE("guess-dir: --no-cache writes no cache and classifies as the cache does, across batches and a bad image") {
    TempDir dir;
    const std::string weights = dir.file("w.tcw"), model = dir.file("m.tcm"), in = dir.file("in");
    write_weights(weights);
    write_model(model, weights);
    fs::create_directories(in);
    for (int i = 0; i < 11; ++i) write_bmp(in + "/image" + std::to_string(10 + i) + ".bmp");
    std::ofstream(in + "/image15.bmp", std::ios::trunc) << "not a picture";  // in the first batch
    const std::string cache = dir.file("cache");
    ::setenv("XDG_CACHE_HOME", cache.c_str(), 1);

    const CommandResult uncached = run_tinception({"guess-dir", model, in, dir.file("out1"), "--no-cache"});
    INFO(uncached.err);
    CHECK(uncached.exit_code == 1);  // one file failed
    CHECK(contains(uncached.out, "10 classified, 1 failed"));
    CHECK_FALSE(fs::exists(fs::path(cache) / "tinception" / "packed"));
    const CommandResult cached = run_tinception({"guess-dir", model, in, dir.file("out2")});
    CHECK(cached.exit_code == 1);
    CHECK(fs::is_directory(fs::path(cache) / "tinception" / "packed"));
    ::unsetenv("XDG_CACHE_HOME");

    const auto read = [](const std::string& path) {
        std::ifstream f(path);
        return std::string(std::istreambuf_iterator<char>(f), {});
    };
    const std::string csv = read(dir.file("out1") + "/predictions.csv");
    CHECK(csv == read(dir.file("out2") + "/predictions.csv"));
    CHECK(contains(csv, "image15.bmp,,,,"));  // the bad image's row, with its error
    std::size_t rows = 0;
    for (const char c : csv) rows += c == '\n';
    CHECK(rows == 1 + 11);
}

TEST_CASE("train: the networks' packed weights come from the packed-weights cache, or from memory with --no-packed-cache; the same model either way") {
    TempDir dir;
    const std::string weights = dir.file("w.tcw");
    write_weights(weights);
    const fs::path data = dir.path() / "data";
    for (const char* label : {"dark", "light"}) {
        fs::create_directories(data / label);
        for (int i = 0; i < 12; ++i)
            write_bmp((data / label / ("i" + std::to_string(i) + ".bmp")).string(), (label[0] == 'd' ? 0 : 40) + i);
    }
    const std::string cache = dir.file("cache");
    ::setenv("XDG_CACHE_HOME", cache.c_str(), 1);  // inherited by the program
    const fs::path packed = fs::path(cache) / "tinception" / "packed";
    const auto train = [&](const std::string& model, const std::vector<std::string>& extra) {
        std::vector<std::string> args{"train", data.string(), "-o", dir.file(model), "--weights", weights,
                                      "--bottleneck", "features", "--no-cache", "--steps", "20", "-q"};
        args.insert(args.end(), extra.begin(), extra.end());
        const CommandResult r = run_tinception(args);
        INFO(r.err);
        CHECK(r.exit_code == 0);
    };
    train("memory.tcm", {"--no-packed-cache"});
    CHECK_FALSE(fs::exists(packed));
    train("built.tcm", {});
    REQUIRE(fs::is_directory(packed));
    CHECK(std::distance(fs::directory_iterator(packed), fs::directory_iterator()) == 1);
    train("mapped.tcm", {});
    // SOURCE_DATE_EPOCH (set by the test run) fixes the model's time stamp.
    const auto bytes = [&](const std::string& model) { return read_all(dir.file(model)); };
    CHECK_FALSE(bytes("memory.tcm").empty());
    CHECK(bytes("built.tcm") == bytes("memory.tcm"));
    CHECK(bytes("mapped.tcm") == bytes("memory.tcm"));
    ::unsetenv("XDG_CACHE_HOME");
}
