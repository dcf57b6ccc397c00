// A 12-megapixel JPEG (4032x3024, quality 90, 4:2:0, made here from tests/image_corpus.hpp's
// photo pattern) decoded and preprocessed to the network's 299x299 input on one core: stb_image
// at full size (the reference), libjpeg-turbo at full size, libjpeg-turbo scaled in the DCT
// (1/8 here), and our DC-only 1/8 decoder, which decode_image uses for such photos. x_stb is
// stb_image's time over each one's, stb_image timed in the same run.
// Times are the thread's CPU time: the work is single-threaded, and on a machine shared with
// other jobs wall time measures the neighbours too.
#include <benchmark/benchmark.h>

#include <time.h>

#include <algorithm>
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

enum class Path { stb, turbo_full, turbo_scaled, dc_scaled };

// Decode and preprocess once, as the program does for one image.
void decode_and_preprocess(Path path, std::vector<float>& input) {
    const Preprocessing p;
    const std::vector<std::uint8_t>& bytes = photo();
    const ImageLimits limits = decode_limits(p, path == Path::stb || path == Path::turbo_full ? DecodeMode::exact
                                                                                             : DecodeMode::scaled);
    ImageRgb8 image;
    switch (path) {
        case Path::stb: image = decode_with_stb(bytes.data(), bytes.size(), "photo.jpg", limits); break;
#ifdef TINCEPTION_HAVE_TURBOJPEG
        case Path::turbo_full:
        case Path::turbo_scaled: image = decode_jpeg_turbo(bytes.data(), bytes.size(), "photo.jpg", limits); break;
#else
        case Path::turbo_full:
        case Path::turbo_scaled: break;
#endif
        case Path::dc_scaled: image = decode_image(bytes.data(), bytes.size(), "photo.jpg", limits); break;
    }
    input.resize(std::size_t(p.size) * p.size * 3);
    preprocess(image, p, input.data());
}

double thread_cpu_seconds() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return double(t.tv_sec) + double(t.tv_nsec) * 1e-9;
}

double seconds_of(Path path) {
    std::vector<float> input;
    const double start = thread_cpu_seconds();
    decode_and_preprocess(path, input);
    return thread_cpu_seconds() - start;
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

// stb_image's full-size decode averaged over 8x8 blocks: what a 1/8 DCT-scaled decode
// approximates (the bilinear resize of the full image instead samples, and aliases, its
// fine texture, so it is no yardstick for the scaled path).
ImageRgb8 eighth_of(const ImageRgb8& full) {
    ImageRgb8 out;
    out.width = full.width / 8;
    out.height = full.height / 8;
    out.pixels.resize(std::size_t(out.width) * out.height * 3);
    for (int y = 0; y < out.height; ++y)
        for (int x = 0; x < out.width; ++x)
            for (int c = 0; c < 3; ++c) {
                int sum = 0;
                for (int dy = 0; dy < 8; ++dy)
                    for (int dx = 0; dx < 8; ++dx)
                        sum += full.pixels[(std::size_t(y * 8 + dy) * full.width + x * 8 + dx) * 3 + c];
                out.pixels[(std::size_t(y) * out.width + x) * 3 + c] = std::uint8_t((sum + 32) / 64);
            }
    return out;
}

// Before any timing: each path's input against stb_image's (for the scaled path, against
// stb_image's decode averaged to the same size). Both agree to a level or so.
double mean_difference(Path path) {
    std::vector<float> reference, input;
    if (path == Path::turbo_scaled || path == Path::dc_scaled) {
        const std::vector<std::uint8_t>& bytes = photo();
        const Preprocessing p;
        reference.resize(std::size_t(p.size) * p.size * 3);
        preprocess(eighth_of(decode_with_stb(bytes.data(), bytes.size(), "photo.jpg", {})), p, reference.data());
    } else {
        decode_and_preprocess(Path::stb, reference);
    }
    decode_and_preprocess(path, input);
    double sum = 0;
    for (std::size_t i = 0; i < input.size(); ++i) sum += std::fabs(double(input[i]) - reference[i]);
    return sum / double(input.size()) * 255.0;  // in 8-bit levels
}

void decode(benchmark::State& state, Path path) {
    const double mean_levels = mean_difference(path);
    const double allowed = path == Path::turbo_scaled || path == Path::dc_scaled ? 3.0 : 1.0;
    if (mean_levels > allowed) {
        state.SkipWithError("input differs from stb_image's by more than expected");
        return;
    }
    std::vector<float> input;
    const double reference = stb_seconds();
    const double start = thread_cpu_seconds();
    for (auto _ : state) {
        decode_and_preprocess(path, input);
        benchmark::DoNotOptimize(input.data());
    }
    const double seconds = (thread_cpu_seconds() - start) / double(state.iterations());
    state.counters["x_stb"] = reference / seconds;
    state.counters["levels_vs_stb"] = mean_levels;  // mean |difference| of the input, 8-bit levels
    state.counters["cpu_ms"] = seconds * 1e3;
    state.counters["MP/s"] = benchmark::Counter(double(kWidth) * kHeight / 1e6, benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

BENCHMARK_CAPTURE(decode, stb_full, Path::stb)->Unit(benchmark::kMillisecond)->MinTime(2.0);
#ifdef TINCEPTION_HAVE_TURBOJPEG
BENCHMARK_CAPTURE(decode, turbojpeg_full, Path::turbo_full)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK_CAPTURE(decode, turbojpeg_scaled, Path::turbo_scaled)->Unit(benchmark::kMillisecond)->MinTime(2.0);
#endif
BENCHMARK_CAPTURE(decode, dc_only_scaled, Path::dc_scaled)->Unit(benchmark::kMillisecond)->MinTime(2.0);

BENCHMARK_MAIN();
