// The int8 network on the real weights and superheroes images: the AVX2 int8 table gives
// exactly the reference table's features, and the features stay close to fp32's on images
// the calibration did not see. README's int8 section has the figures over the whole set.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "feature_similarity.hpp"
#include "image/image.hpp"
#include "finetune/tuned_layers.hpp"
#include "kernel_dispatch.hpp"
#include "model/feature_extractor.hpp"
#include "model/packed_weights.hpp"
#include "quant/calibration_set.hpp"
#include "parallel/thread_pool.hpp"
#include "quant/int8_network.hpp"
#include "quant/int8_weights.hpp"
#include "weights/weight_file.hpp"

using namespace tinception;

namespace {

// A missing input is a failure, never a skip.
std::string required_path(const char* name) {
    const std::string variable = name;
    const char* value = std::getenv(name);
    REQUIRE_MESSAGE((value && *value), variable << " is not set; run tools/test.sh, which sets it");
    REQUIRE_MESSAGE(std::filesystem::exists(value), variable << "=" << value << " does not exist");
    return value;
}

struct Fixture {
    std::shared_ptr<const WeightFile> weights =
        std::make_shared<const WeightFile>(WeightFile::open(required_path("TINCEPTION_WEIGHTS")));
    std::string superheroes = required_path("TINCEPTION_SUPERHEROES");
    Preprocessing prep = preprocessing_of(*weights);
    // Calibrated on darth_vader, measured on elsa.
    CalibrationSet calibration = load_calibration_set(superheroes + "/darth_vader", prep, 16);
    CalibrationSet test_images = load_calibration_set(superheroes + "/elsa", prep, 4);
    ActivationRanges ranges = calibrate_ranges(*weights, "mixed10", calibration.input.data(),
                                               int(calibration.paths.size()), parse_range_rule("p99.999"));
};

}  // namespace

// The source's tensors are uint8 with an integral zero point; 16,814 of the 17,216 output
// channels have levels within -127..127 of it (the rest reach past either end).
TEST_CASE("int8 weights on the real file: the source's 8-bit levels, kept exactly where they fit") {
    const WeightFile weights = WeightFile::open(required_path("TINCEPTION_WEIGHTS"));
    weights.make_values_readable();
    int channels = 0, exact = 0;
    for (const Layer& l : weights.graph().layers()) {
        if (l.op != LayerOp::conv2d) continue;
        const int in_c = int(l.weights->dims[1]);
        const std::vector<float> values = int8_weight_values(quantize_conv_weights(l, in_c, 127), l, in_c);
        const std::size_t per_channel = values.size() / std::size_t(l.shape.c);
        for (std::size_t k0 = 0; k0 < values.size(); k0 += per_channel) {
            float largest = 0.0f, error = 0.0f;
            for (std::size_t k = k0; k < k0 + per_channel; ++k) {
                largest = std::max(largest, std::fabs(l.weights->data[k]));
                error = std::max(error, std::fabs(values[k] - l.weights->data[k]));
            }
            ++channels;
            exact += error <= 1e-6f * largest;  // float rounding only; a rounded level is off by up to 1/254
        }
    }
    CHECK(channels == 17216);
    CHECK(exact == 16814);
}

TEST_CASE("int8 network: the AVX2 and AVX-512 VNNI int8 tables give exactly the reference table's features") {
    const kernels::Int8KernelTable* avx2 = kernels::avx2_int8_kernels();
    REQUIRE_MESSAGE(avx2, "this test needs a CPU with AVX2");
    Fixture f;
    Int8Network reference(*f.weights, "mixed5", f.ranges, kernels::reference_int8_kernels());
    std::vector<float> expected(std::size_t(2 * reference.feature_size()));
    reference.extract_features(f.test_images.input.data(), 2, expected.data());
    const kernels::Int8KernelTable* vnni = kernels::avx512_vnni_int8_kernels();
    if (!vnni) MESSAGE("no AVX-512 VNNI on this CPU: only the avx2 table compared");
    for (const kernels::Int8KernelTable* table : {avx2, vnni}) {
        if (!table) continue;
        CAPTURE(std::string(table->isa_name));
        Int8Network fast(*f.weights, "mixed5", f.ranges, *table);
        std::vector<float> features(expected.size());
        fast.extract_features(f.test_images.input.data(), 2, features.data());
        CHECK(features == expected);
    }
}

TEST_CASE("int8 network: a batch gives what single images give, each image's early layers on one thread") {
    Fixture f;
    Int8Network net(*f.weights, "mixed5", f.ranges, active_int8_kernels());
    net.pool_layers({"mixed0", "mixed5"});  // mixed0 is pooled in the early waves
    const int n = 5;
    const std::size_t image_floats = f.calibration.input.size() / f.calibration.paths.size();
    const std::size_t size = std::size_t(net.feature_size());
    std::vector<float> singles(n * size, NAN);
    for (int i = 0; i < n; ++i)
        net.extract_features(f.calibration.input.data() + std::size_t(i) * image_floats, 1, singles.data() + i * size);
    for (const int threads : {1, 2, 3}) {  // 5 images over 1, 2 or 3 threads and early slots
        CAPTURE(threads);
        set_thread_count(threads);
        std::vector<float> batch(n * size, NAN);
        net.extract_features(f.calibration.input.data(), n, batch.data());  // images taken from one queue
        CHECK(batch == singles);
        std::vector<double> seconds;  // timed per step: a group's images together, layer by layer
        net.time_steps(&seconds);
        std::fill(batch.begin(), batch.end(), NAN);
        net.extract_features(f.calibration.input.data(), n, batch.data());
        net.time_steps(nullptr);
        CHECK(batch == singles);
    }
    set_thread_count(2);
}

TEST_CASE("int8 calibration: the same ranges on one thread as on two (the histograms are counted per thread)") {
    Fixture f;
    set_thread_count(1);
    const ActivationRanges one = calibrate_ranges(*f.weights, "mixed5", f.calibration.input.data(),
                                                  int(f.calibration.paths.size()), parse_range_rule("p99.999"));
    set_thread_count(2);
    const ActivationRanges two = calibrate_ranges(*f.weights, "mixed5", f.calibration.input.data(),
                                                  int(f.calibration.paths.size()), parse_range_rule("p99.999"));
    CHECK(one.size() > 30);
    CHECK(one == two);
    for (const auto& [layer, range] : two) CHECK(range == f.ranges.at(layer));  // the fixture's, to mixed10
}

TEST_CASE("int8 network: mixed5 and mixed10 features close to fp32 on images left out of calibration") {
    Fixture f;
    FeatureExtractor fp32(f.weights, "mixed5,mixed10");
    // The int8 extractor's fp32 weights are packed only if its fp32 network ever runs.
    int packings = 0;
    const PackedWeightsSource counted{&active_kernels(), [&] {
                                          ++packings;
                                          return std::make_shared<const PackedWeights>(*f.weights, active_kernels());
                                      }};
    FeatureExtractor int8(f.weights, counted, "mixed5,mixed10", TunedLayers{});
    int8.use_int8(f.ranges);
    CHECK(std::string(int8.precision()) == "int8");
    const int n = int(f.test_images.paths.size());
    const std::vector<float> e = fp32.extract_preprocessed(f.test_images.input.data(), n);
    const std::vector<float> a = int8.extract_preprocessed(f.test_images.input.data(), n);
    const int size = fp32.feature_size();
    for (int i = 0; i < n; ++i) {
        CAPTURE(f.test_images.paths[std::size_t(i)]);
        // Whole-set minima (README): mixed5 0.9966, mixed10 0.99; a margin below them.
        const double c5 = testing::cosine(e.data() + i * size, a.data() + i * size, 768);
        const double c10 = testing::cosine(e.data() + i * size + 768, a.data() + i * size + 768, 2048);
        CHECK(c5 > 0.995);
        CHECK(c10 > 0.98);
        CHECK(c5 < 1.0);  // the features did come from a different path
    }
    CHECK(packings == 0);
    int8.use_fp32();
    CHECK(int8.extract_preprocessed(f.test_images.input.data(), n) == e);
    CHECK(packings == 1);
}
