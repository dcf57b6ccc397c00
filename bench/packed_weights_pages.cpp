// Forwards from the fp32 packed weights three ways, in one process, rounds alternating:
// packed in memory (huge pages), mapped from the packed-weights cache file (its 4 KiB page
// cache pages), and mapped then copied into memory (PackedCacheChoice::copy_mapped). Prints
// each network's build time once, then per round ms per image and the ratio to memory.
//   packed_weights_pages WEIGHTS CACHE_DIR [LAYER=mixed10] [BATCH=8] [THREADS=2] [ROUNDS=6]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "error.hpp"
#include "kernel_dispatch.hpp"
#include "model/network.hpp"
#include "model/packed_weights.hpp"
#include "parallel/thread_pool.hpp"
#include "weights/weight_file.hpp"

using namespace tinception;

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) { return std::chrono::duration<double, std::milli>(Clock::now() - start).count(); }

}  // namespace

int main(int argc, char** argv) try {
    if (argc < 3) {
        std::fprintf(stderr, "usage: packed_weights_pages WEIGHTS CACHE_DIR [LAYER] [BATCH] [THREADS] [ROUNDS]\n");
        return 2;
    }
    const std::string layer = argc > 3 ? argv[3] : "mixed10";
    const int batch = argc > 4 ? std::atoi(argv[4]) : 8;
    const int threads = argc > 5 ? std::atoi(argv[5]) : 2;
    const int rounds = argc > 6 ? std::atoi(argv[6]) : 6;
    if (batch < 1 || threads < 1 || rounds < 1) throw Error("batch, threads and rounds must be at least 1");
    set_thread_count(threads);
    const WeightFile weights = WeightFile::open(argv[1]);
    const kernels::KernelTable& table = active_kernels();
    Network(PackedWeights::cached(weights, table, argv[2]), layer);  // the cache file, built if missing

    const char* names[] = {"memory", "mapped", "copied"};
    std::vector<std::unique_ptr<Network>> nets;
    for (int way = 0; way < 3; ++way) {
        const Clock::time_point start = Clock::now();
        nets.push_back(std::make_unique<Network>(
            way == 0 ? std::make_shared<const PackedWeights>(weights, table)
                     : PackedWeights::cached(weights, table, argv[2], /*copy_mapped=*/way == 2),
            layer));
        std::printf("%s: network built in %.1f ms\n", names[way], ms_since(start));
    }
    const ActivationShape in = nets[0]->input_shape();
    std::vector<float> input(std::size_t(batch) * std::size_t(in.h) * std::size_t(in.w) * std::size_t(in.c));
    std::mt19937 rng(5);
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    for (float& v : input) v = uniform(rng);
    std::vector<float> features(std::size_t(batch) * std::size_t(nets[0]->feature_size()));
    for (auto& net : nets)
        for (int i = 0; i < 2; ++i) net->extract_features(input.data(), batch, features.data());
    std::printf("%s, batch %d, %d threads, ms per image (ratio to memory):\n", layer.c_str(), batch, threads);
    for (int r = 0; r < rounds; ++r) {
        double ms[3];
        for (int way = 0; way < 3; ++way) {
            const Clock::time_point start = Clock::now();
            for (int i = 0; i < 5; ++i) nets[std::size_t(way)]->extract_features(input.data(), batch, features.data());
            ms[way] = ms_since(start) / 5 / batch;
        }
        std::printf("  memory %.2f  mapped %.2f (%.3f)  copied %.2f (%.3f)\n", ms[0], ms[1], ms[1] / ms[0], ms[2],
                    ms[2] / ms[0]);
    }
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "packed_weights_pages: %s\n", e.what());
    return 1;
}
