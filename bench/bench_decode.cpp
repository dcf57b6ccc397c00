// A 12-megapixel JPEG (4032x3024, quality 90, 4:2:0, made here from tests/image_corpus.hpp's
// photo pattern) decoded and preprocessed to the network's 299x299 input on one core: stb_image
// at full size (the reference), libjpeg-turbo at full size, and libjpeg-turbo scaled in the
// DCT (1/8 here). x_stb is stb_image's time over each one's, stb_image timed in the same run.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <vector>

#include "image/image.hpp"
#include "image/image_formats.hpp"
#include "image/preprocess.hpp"
#include "image_corpus.hpp"

using namespace tinception;

namespace {

constexpr int kWidth = 4032, kHeight = 3024;

const std::vector<std::uint8_t>& photo() {
    static const std::vector<std::uint8_t> bytes = [] {
        testing::JpegOptions o;
        o.quality = 90;
        return testing::jpeg_from_pixels(kWidth, kHeight, testing::photo_pattern(kWidth, kHeight, 3), o);
    }();
    return bytes;
}

enum class Path { stb, turbo_full, turbo_scaled };

// Decode and preprocess once, as the program does for one image.
void decode_and_preprocess(Path path, std::vector<float>& input) {
    const Preprocessing p;
    const std::vector<std::uint8_t>& bytes = photo();
    const ImageRgb8 image =
        path == Path::stb ? decode_with_stb(bytes.data(), bytes.size(), "photo.jpg", {})
                          : decode_image(bytes.data(), bytes.size(), "photo.jpg",
                                         decode_limits(p, path == Path::turbo_scaled ? DecodeMode::scaled
                                                                                     : DecodeMode::exact));
    input.resize(std::size_t(p.size) * p.size * 3);
    preprocess(image, p, input.data());
}

double seconds_of(Path path) {
    std::vector<float> input;
    const auto start = std::chrono::steady_clock::now();
    decode_and_preprocess(path, input);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// stb_image's time: the median of three, measured once per process.
double stb_seconds() {
    static const double seconds = [] {
        double runs[3] = {seconds_of(Path::stb), seconds_of(Path::stb), seconds_of(Path::stb)};
        std::sort(runs, runs + 3);
        return runs[1];
    }();
    return seconds;
}

// Before any timing: each path's input against stb_image's. Full-size decodes agree to
// rounding; the scaled one is a different (smoother) sampling, checked loosely.
double mean_difference(Path path) {
    std::vector<float> reference, input;
    decode_and_preprocess(Path::stb, reference);
    decode_and_preprocess(path, input);
    double sum = 0;
    for (std::size_t i = 0; i < input.size(); ++i) sum += std::fabs(double(input[i]) - reference[i]);
    return sum / double(input.size()) * 255.0;  // in 8-bit levels
}

void decode(benchmark::State& state, Path path) {
    const double mean_levels = mean_difference(path);
    const double allowed = path == Path::turbo_scaled ? 12.0 : 1.0;
    if (mean_levels > allowed) {
        state.SkipWithError("input differs from stb_image's by more than expected");
        return;
    }
    std::vector<float> input;
    const double reference = stb_seconds();
    const auto start = std::chrono::steady_clock::now();
    for (auto _ : state) {
        decode_and_preprocess(path, input);
        benchmark::DoNotOptimize(input.data());
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() /
                           double(state.iterations());
    state.counters["x_stb"] = reference / seconds;
    state.counters["levels_vs_stb"] = mean_levels;
    state.counters["MP/s"] = benchmark::Counter(double(kWidth) * kHeight / 1e6, benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

BENCHMARK_CAPTURE(decode, stb_full, Path::stb)->Unit(benchmark::kMillisecond)->MinTime(2.0);
#ifdef TINCEPTION_HAVE_TURBOJPEG
BENCHMARK_CAPTURE(decode, turbojpeg_full, Path::turbo_full)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK_CAPTURE(decode, turbojpeg_scaled, Path::turbo_scaled)->Unit(benchmark::kMillisecond)->MinTime(2.0);
#endif

BENCHMARK_MAIN();
