// A small synthetic weight file with Winograd-sized layers, for the packed-weights cache
// tests (fp32 and int8): input 10x10x3 -> 3x3 conv to 40 channels "stem" (in_c 3: GEMM) ->
// 3x3 conv 40 -> 40 "wide" (Winograd where the table has it) -> 1x7 conv 40 -> 40 "row" ->
// 1x1 conv to 16 channels "features", each with ReLU; and whole-file reads and writes.
#pragma once
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "temp_dir.hpp"
#include "weights/weight_file_writer.hpp"

namespace tinception::testing {

constexpr int kSmallPackedSize = 10;

inline void write_small_packed_weights(const std::string& path) {
    std::mt19937 rng(5);
    std::normal_distribution<float> normal(0.0f, 0.2f);
    const auto values = [&](std::size_t n) {
        std::vector<float> v(n);
        for (float& x : v) x = normal(rng);
        return v;
    };
    WeightFileWriter w;
    w.add_layer({"input_1", "input", {}, {{"height", kSmallPackedSize}, {"width", kSmallPackedSize}, {"channels", 3}}, {}, {}});
    struct Conv { const char* name; const char* from; int in_c, out_c, kh, kw; };
    const Conv convs[] = {{"stem", "input_1", 3, 40, 3, 3}, {"wide", "stem", 40, 40, 3, 3},
                          {"row", "wide", 40, 40, 1, 7}, {"features", "row", 40, 16, 1, 1}};
    for (const Conv& c : convs) {
        const std::string n = c.name;
        w.add_layer({n, "conv2d", {c.from},
                     {{"kernel_h", c.kh}, {"kernel_w", c.kw}, {"stride_h", 1}, {"stride_w", 1}, {"relu", 1}},
                     {{"padding", "same"}}, {n + "/weights", n + "/bias"}});
        w.add_tensor(n + "/weights", {c.out_c, c.in_c, c.kh, c.kw}, values(std::size_t(c.out_c * c.in_c * c.kh * c.kw)));
        w.add_tensor(n + "/bias", {c.out_c}, values(std::size_t(c.out_c)));
    }
    w.write(path);
}

// The input both cache tests run: two images of a fixed pattern.
inline std::vector<float> small_packed_input() {
    std::vector<float> input(2 * kSmallPackedSize * kSmallPackedSize * 3);
    for (std::size_t i = 0; i < input.size(); ++i) input[i] = float(i % 17) / 17.0f;
    return input;
}

// The weight file in a temporary folder, and a cache folder beside it (not created).
struct SmallPackedFiles {
    TempDir dir;
    std::string weights_path = dir.file("small.tcw");
    std::string cache_dir = dir.file("cache");
    SmallPackedFiles() { write_small_packed_weights(weights_path); }
};

inline std::vector<char> read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::vector<char>(std::istreambuf_iterator<char>(in), {});
}

inline void write_all(const std::string& path, const std::vector<char>& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), std::streamsize(bytes.size()));
}

}  // namespace tinception::testing
