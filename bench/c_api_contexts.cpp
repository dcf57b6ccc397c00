// Peak memory of C API contexts: one model, N contexts, 4 threads classifying at once (with
// one context the threads take turns on it). Run it under /usr/bin/time -v for the peak RSS;
// bench/README.md has the figures; it prints the model's load time (weights opened, checked or
// mapped, packed). Usage: c_api_contexts WEIGHTS CONTEXTS [IMAGES_PER_THREAD]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "classify/classifier_model.hpp"
#include "tinception.h"
#include "weights/weight_file.hpp"

namespace {

constexpr int kThreads = 4;

// A two-label model on mixed5 with a random head: the scores do not matter here, the memory does.
std::vector<std::uint8_t> random_model(const std::string& weights_path) {
    const tinception::WeightFile weights = tinception::WeightFile::open(weights_path, tinception::DataCheck::deferred);
    tinception::ClassifierModel m;
    m.labels = {"a", "b"};
    m.feature_layer = "mixed5";
    m.feature_size = 768;
    m.weights_checksum = weights.checksum();
    m.weights_path = weights_path;
    m.head.n_classes = 2;
    m.head.feature_size = 768;
    std::mt19937 rng(7);
    std::normal_distribution<float> normal(0.0f, 0.05f);
    for (int i = 0; i < 2 * 768; ++i) m.head.weights.push_back(normal(rng));
    m.head.bias = {0.0f, 0.0f};
    return tinception::serialize_classifier_model(m);
}

void check(tinception_status status, const char* what) {
    if (status == TINCEPTION_OK) return;
    std::fprintf(stderr, "c_api_contexts: %s: %s\n", what, tinception_last_error());
    std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: c_api_contexts WEIGHTS CONTEXTS [IMAGES_PER_THREAD]\n");
        return 2;
    }
    const int contexts = std::atoi(argv[2]);
    const int images = argc > 3 ? std::atoi(argv[3]) : 2;
    if (contexts < 1 || contexts > kThreads || images < 1) {
        std::fprintf(stderr, "c_api_contexts: CONTEXTS must be 1..%d, IMAGES_PER_THREAD at least 1\n", kThreads);
        return 2;
    }
    std::vector<std::uint8_t> model_bytes;
    try {
        model_bytes = random_model(argv[1]);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "c_api_contexts: %s\n", e.what());
        return 1;
    }
    tinception_model* model = nullptr;
    const auto load_start = std::chrono::steady_clock::now();
    check(tinception_model_load_from_memory(model_bytes.data(), model_bytes.size(), argv[1], &model), "model");
    const double load_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - load_start).count();
    std::vector<tinception_context*> ctx(static_cast<std::size_t>(contexts), nullptr);
    std::vector<std::mutex> in_use(static_cast<std::size_t>(contexts));
    for (tinception_context*& c : ctx) check(tinception_context_create(model, &c), "context");

    std::vector<std::uint8_t> pixels(299 * 299 * 3);
    std::mt19937 rng(1);
    for (std::uint8_t& p : pixels) p = std::uint8_t(rng());
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&, t] {
            const std::size_t c = std::size_t(t % contexts);
            float scores[2];
            for (int i = 0; i < images; ++i) {
                const std::lock_guard<std::mutex> lock(in_use[c]);
                check(tinception_classify(ctx[c], pixels.data(), 299, 299, 0, TINCEPTION_RGB8, scores, 2), "classify");
            }
        });
    for (std::thread& t : threads) t.join();
    for (tinception_context* c : ctx) tinception_context_destroy(c);
    tinception_model_destroy(model);
    std::printf("%d context(s), %d threads, %d image(s) each: done; model load %.1f ms\n", contexts, kThreads, images,
                load_ms);
    return 0;
}
