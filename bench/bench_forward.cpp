// Whole-network forward pass with the real weights: ms per image, images/s and effective
// FLOP/s (from Network::multiply_adds_per_image) per kernel table, with the speed-up over the
// reference kernels measured in the same process. Threads as the library picks them
// (TINCEPTION_THREADS). The reference runs to mixed5 only, batch 1, a few iterations: it is slow.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "error.hpp"
#include "kernel_dispatch.hpp"
#include "model/network.hpp"
#include "weights/weight_file.hpp"

using namespace tinception;

namespace {

constexpr const char* kTrunk = "flatten_1";   // everything before the classifier head
constexpr const char* kReferenceLayer = "mixed5";

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

const WeightFile& weights() {
    static const WeightFile file = [] {
        const char* env = std::getenv("TINCEPTION_WEIGHTS");
        return WeightFile::open(env && *env ? env : "weights/inception_v3.tcw");
    }();
    return file;
}

// Uniform [0, 1) images, the range the preprocessing produces.
const std::vector<float>& input_images(std::size_t floats) {
    static std::vector<float> images;
    if (images.size() < floats) {
        std::mt19937 rng(7);
        std::uniform_real_distribution<float> dist(0.0f, 1.0f);
        images.resize(floats);
        for (float& v : images) v = dist(rng);
    }
    return images;
}

// The reference to mixed5 on image 0, run once per process: its features check every other
// table before it is timed, and its time per multiply-add is the x_ref baseline.
struct ReferenceRun {
    std::vector<float> features;
    double seconds_per_multiply_add = 0.0;
};

const ReferenceRun& reference_run() {
    static const ReferenceRun run = [] {
        Network net(weights(), kReferenceLayer, kernels::reference_kernels());
        const ActivationShape in = net.input_shape();
        const std::vector<float>& input = input_images(std::size_t(in.h) * in.w * in.c);
        ReferenceRun r;
        r.features.resize(std::size_t(net.feature_size()));
        const auto start = std::chrono::steady_clock::now();
        net.extract_features(input.data(), 1, r.features.data());
        r.seconds_per_multiply_add = seconds_since(start) / double(net.multiply_adds_per_image());
        return r;
    }();
    return run;
}

// True when `table` reproduces the reference's mixed5 features on image 0 (1e-4 relative,
// as the tests demand); a fast wrong table must not produce a number.
bool matches_reference(const kernels::KernelTable& table) {
    const ReferenceRun& ref = reference_run();
    Network net(weights(), kReferenceLayer, table);
    const ActivationShape in = net.input_shape();
    std::vector<float> features(ref.features.size());
    net.extract_features(input_images(std::size_t(in.h) * in.w * in.c).data(), 1, features.data());
    double scale = 0.0, diff = 0.0;
    for (std::size_t i = 0; i < features.size(); ++i) {
        scale = std::max(scale, double(std::fabs(ref.features[i])));
        diff = std::max(diff, double(std::fabs(ref.features[i] - features[i])));
    }
    return diff <= 1e-4 * scale;
}

void bm_forward(benchmark::State& state, const kernels::KernelTable* table, std::string layer, int batch) {
    const bool reference = std::string(table->isa_name) == "reference";
    if (!reference && !matches_reference(*table)) {
        state.SkipWithError("mixed5 features differ from the reference kernels'");
        return;
    }
    Network net(weights(), layer, *table);
    const ActivationShape in = net.input_shape();
    const std::vector<float>& input = input_images(std::size_t(batch) * in.h * in.w * in.c);
    std::vector<float> features(std::size_t(batch) * net.feature_size());
    if (!reference) net.extract_features(input.data(), batch, features.data());  // warm-up: buffers, caches

    const auto start = std::chrono::steady_clock::now();
    for (auto _ : state) {
        net.extract_features(input.data(), batch, features.data());
        benchmark::ClobberMemory();
    }
    const double seconds_per_image = seconds_since(start) / double(state.iterations()) / batch;
    const double multiply_adds = double(net.multiply_adds_per_image());
    state.counters["ms/image"] = 1e3 * seconds_per_image;
    state.counters["images/s"] = benchmark::Counter(batch, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["FLOP/s"] = benchmark::Counter(2.0 * multiply_adds * batch, benchmark::Counter::kIsIterationInvariantRate,
                                                  benchmark::Counter::OneK::kIs1000);
    // Per multiply-add, so a whole-trunk run compares with the reference's mixed5 run; for
    // mixed5 rows this is exactly the ratio of times.
    state.counters["x_ref"] = reference_run().seconds_per_multiply_add / (seconds_per_image / multiply_adds);
}

void add(const kernels::KernelTable* table, const std::string& layer, int batch) {
    const std::string name =
        std::string("forward/") + table->isa_name + "/" + layer + "/batch:" + std::to_string(batch);
    auto* b = benchmark::RegisterBenchmark(name.c_str(), bm_forward, table, layer, batch);
    b->Unit(benchmark::kMillisecond)->UseRealTime();
    if (std::string(table->isa_name) == "reference") b->Iterations(2);
}

}  // namespace

int main(int argc, char** argv) {
    try {
        weights();
    } catch (const Error& e) {
        std::fprintf(stderr, "bench_forward: %s (set TINCEPTION_WEIGHTS or run from the source root)\n", e.what());
        return 1;
    }
    const kernels::KernelTable& active = active_kernels();
    std::vector<const kernels::KernelTable*> tables{&eigen_kernels()};
    if (&active != &eigen_kernels()) tables.push_back(&active);
    for (const kernels::KernelTable* table : tables) {
        add(table, kReferenceLayer, 1);
        for (const int batch : {1, 8}) add(table, kTrunk, batch);
    }
    add(&kernels::reference_kernels(), kReferenceLayer, 1);
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
