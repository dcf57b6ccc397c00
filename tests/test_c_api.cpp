// The C API as a C caller sees it: statuses and messages for bad files and bad arguments,
// pixel layouts, layer contexts, and one model shared by threads. The model under test has a
// fixed random head over the real weights, so no image decoding or training is needed.
#include <doctest/doctest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "feature_similarity.hpp"
#include "temp_dir.hpp"
#include "tinception.h"
#include "tinception.hpp"
#include "bf16/conv2d_bf16.hpp"
#include "classify/classifier_model.hpp"
#include "image/preprocess.hpp"
#include "model/feature_extractor.hpp"
#include "quant/activation_ranges.hpp"
#include "weights/weight_file.hpp"

namespace {

namespace fs = std::filesystem;
using tinception::testing::TempDir;

std::string weights_path() {
    const char* value = std::getenv("TINCEPTION_WEIGHTS");
    const std::string variable = "TINCEPTION_WEIGHTS";
    REQUIRE_MESSAGE((value && *value), variable << " is not set; run tools/test.sh, which fetches the weights");
    REQUIRE_MESSAGE(fs::exists(value), variable << "=" << value << " does not exist; run tools/test.sh");
    return value;
}

std::vector<std::uint8_t> file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A three-label classifier on mixed5 (768 features) with a seeded random head.
tinception::ClassifierModel random_model() {
    const tinception::WeightFile weights = tinception::WeightFile::open(weights_path());
    tinception::ClassifierModel m;
    m.labels = {"apple", "banana", "cherry"};
    m.feature_layer = "mixed5";
    m.feature_size = 768;
    m.weights_checksum = weights.checksum();
    m.weights_path = weights_path();
    m.head.n_classes = 3;
    m.head.feature_size = 768;
    std::mt19937 rng(1234);
    std::normal_distribution<float> normal(0.0f, 0.05f);
    for (int i = 0; i < 3 * 768; ++i) m.head.weights.push_back(normal(rng));
    m.head.bias = {0.1f, -0.1f, 0.0f};
    return m;
}

// One model file per test run, shared by the cases below.
struct Fixture {
    TempDir dir;
    std::string model_path = dir.file("model.tcm");
    Fixture() { tinception::save_classifier_model(model_path, random_model()); }
};

const Fixture& fixture() {
    static const Fixture f;
    return f;
}

// A small RGB picture with structure in every channel, tightly packed.
std::vector<std::uint8_t> test_rgb(int width, int height) {
    std::vector<std::uint8_t> rgb(std::size_t(width) * height * 3);
    for (int y = 0; y < height; ++y)
        for (int x = 0; x < width; ++x) {
            std::uint8_t* p = &rgb[(std::size_t(y) * width + x) * 3];
            p[0] = std::uint8_t(x * 255 / width);
            p[1] = std::uint8_t(y * 255 / height);
            p[2] = std::uint8_t((x * 7 + y * 13) % 256);
        }
    return rgb;
}

constexpr int kWidth = 41, kHeight = 29;

struct Loaded {
    tinception_model* model = nullptr;
    tinception_context* context = nullptr;
    Loaded() {
        REQUIRE(tinception_model_load(fixture().model_path.c_str(), nullptr, &model) == TINCEPTION_OK);
        REQUIRE(tinception_context_create(model, &context) == TINCEPTION_OK);
    }
    ~Loaded() {
        tinception_context_destroy(context);
        tinception_model_destroy(model);
    }
    std::vector<float> scores(const std::uint8_t* pixels, std::size_t stride, tinception_pixel_format format) {
        std::vector<float> out(3, -1.0f);
        const tinception_status s = tinception_classify(context, pixels, kWidth, kHeight, stride, format, out.data(), 3);
        CHECK_MESSAGE(s == TINCEPTION_OK, tinception_last_error());
        return out;
    }
};

std::string last_error() { return tinception_last_error(); }

}  // namespace

TEST_CASE("c api: a missing or damaged model file is a status and a message, never a crash") {
    tinception_model* model = reinterpret_cast<tinception_model*>(&model);  // must be reset to NULL
    CHECK(tinception_model_load("/nonexistent/model.tcm", nullptr, &model) == TINCEPTION_IO_ERROR);
    CHECK(model == nullptr);
    CHECK(last_error().find("/nonexistent/model.tcm") != std::string::npos);

    TempDir dir;
    const std::string garbage = dir.file("garbage.tcm");
    std::ofstream(garbage, std::ios::binary) << "this is not a classifier file at all";
    CHECK(tinception_model_load(garbage.c_str(), nullptr, &model) == TINCEPTION_BAD_FORMAT);
    CHECK(last_error().find("not a tinception classifier file") != std::string::npos);

    const char bytes[] = "TCLF\r\n\x1a\n garbage after a correct magic";
    CHECK(tinception_model_load_from_memory(bytes, sizeof bytes, nullptr, &model) == TINCEPTION_BAD_FORMAT);
    CHECK(!last_error().empty());

    // A good model with weights that are missing, or are not a weight file.
    CHECK(tinception_model_load(fixture().model_path.c_str(), "/nonexistent/w.tcw", &model) == TINCEPTION_IO_ERROR);
    CHECK(last_error().find("/nonexistent/w.tcw") != std::string::npos);
    CHECK(tinception_model_load(fixture().model_path.c_str(), garbage.c_str(), &model) == TINCEPTION_BAD_FORMAT);
    CHECK(last_error().find("not a tinception weight file") != std::string::npos);
    const std::vector<std::uint8_t> model_bytes = file_bytes(fixture().model_path);
    CHECK(tinception_model_load_from_memory_with_weights(model_bytes.data(), model_bytes.size(), bytes, sizeof bytes,
                                                         &model) == TINCEPTION_BAD_FORMAT);
    CHECK(model == nullptr);
}

TEST_CASE("c api: a model whose preprocessing differs from the weight file's is refused with one line") {
    tinception::ClassifierModel m = random_model();
    m.preprocessing.scale = 2.0f / 255.0f;  // [-1, 1], where the weights expect [0, 1]
    m.preprocessing.offset = -1.0f;
    const std::vector<std::uint8_t> bytes = tinception::serialize_classifier_model(m);
    tinception_model* model = nullptr;
    CHECK(tinception_model_load_from_memory(bytes.data(), bytes.size(), nullptr, &model) == TINCEPTION_BAD_FORMAT);
    CHECK(model == nullptr);
    CHECK(last_error().find("model in memory was trained with preprocessing 299x299 input, pixel * 0.00784313") == 0);
    CHECK(last_error().find(weights_path() + " says 299x299 input, pixel * 0.00392156") != std::string::npos);
    CHECK(last_error().find('\n') == std::string::npos);
}

TEST_CASE("c api: NULL arguments are refused with TINCEPTION_INVALID_ARGUMENT") {
    tinception_model* model = nullptr;
    CHECK(tinception_model_load(nullptr, nullptr, &model) == TINCEPTION_INVALID_ARGUMENT);
    CHECK(tinception_model_load(fixture().model_path.c_str(), nullptr, nullptr) == TINCEPTION_INVALID_ARGUMENT);
    CHECK(tinception_model_load_from_memory(nullptr, 10, nullptr, &model) == TINCEPTION_INVALID_ARGUMENT);
    tinception_context* context = nullptr;
    CHECK(tinception_context_create(nullptr, &context) == TINCEPTION_INVALID_ARGUMENT);
    CHECK(context == nullptr);
    CHECK(tinception_model_label_count(nullptr) == 0);
    CHECK(tinception_model_label(nullptr, 0) == nullptr);
    CHECK(tinception_context_feature_size(nullptr) == 0);
    tinception_model_destroy(nullptr);
    tinception_context_destroy(nullptr);

    Loaded l;
    const std::vector<std::uint8_t> rgb = test_rgb(kWidth, kHeight);
    float scores[3];
    CHECK(tinception_context_create(l.model, nullptr) == TINCEPTION_INVALID_ARGUMENT);
    CHECK(tinception_classify(nullptr, rgb.data(), kWidth, kHeight, 0, TINCEPTION_RGB8, scores, 3) ==
          TINCEPTION_INVALID_ARGUMENT);
    CHECK(tinception_classify(l.context, nullptr, kWidth, kHeight, 0, TINCEPTION_RGB8, scores, 3) ==
          TINCEPTION_INVALID_ARGUMENT);
    CHECK(last_error() == "pixels is NULL");
    CHECK(tinception_classify(l.context, rgb.data(), kWidth, kHeight, 0, TINCEPTION_RGB8, nullptr, 3) ==
          TINCEPTION_INVALID_ARGUMENT);
    CHECK(tinception_features(l.context, rgb.data(), kWidth, kHeight, 0, TINCEPTION_RGB8, nullptr, 768) ==
          TINCEPTION_INVALID_ARGUMENT);
    CHECK(tinception_classify_file(l.context, nullptr, scores, 3) == TINCEPTION_INVALID_ARGUMENT);
}

TEST_CASE("c api: sizes, strides, formats and output lengths are validated") {
    Loaded l;
    const std::vector<std::uint8_t> rgb = test_rgb(kWidth, kHeight);
    float scores[3];
    const auto classify = [&](int w, int h, std::size_t stride, int format, std::size_t count) {
        return tinception_classify(l.context, rgb.data(), w, h, stride, tinception_pixel_format(format), scores, count);
    };
    CHECK(classify(0, kHeight, 0, TINCEPTION_RGB8, 3) == TINCEPTION_INVALID_ARGUMENT);
    CHECK(classify(kWidth, -1, 0, TINCEPTION_RGB8, 3) == TINCEPTION_INVALID_ARGUMENT);
    CHECK(classify(kWidth, kHeight, kWidth * 3 - 1, TINCEPTION_RGB8, 3) == TINCEPTION_INVALID_ARGUMENT);
    CHECK(last_error().find("stride") != std::string::npos);
    CHECK(classify(kWidth, kHeight, kWidth * 4 - 1, TINCEPTION_RGBA8, 3) == TINCEPTION_INVALID_ARGUMENT);
    CHECK(classify(100000, 100000, 0, TINCEPTION_RGB8, 3) == TINCEPTION_INVALID_ARGUMENT);
    CHECK(last_error().find("limit") != std::string::npos);
    CHECK(classify(2, 3, SIZE_MAX / 2, TINCEPTION_RGB8, 3) == TINCEPTION_INVALID_ARGUMENT);
    CHECK(last_error().find("overflows") != std::string::npos);
    CHECK(classify(kWidth, kHeight, 0, 7, 3) == TINCEPTION_INVALID_ARGUMENT);
    CHECK(classify(kWidth, kHeight, 0, TINCEPTION_RGB8, 2) == TINCEPTION_INVALID_ARGUMENT);
    CHECK(last_error().find("3 labels") != std::string::npos);
    std::vector<float> features(767);
    CHECK(tinception_features(l.context, rgb.data(), kWidth, kHeight, 0, TINCEPTION_RGB8, features.data(), 767) ==
          TINCEPTION_INVALID_ARGUMENT);
    CHECK(tinception_status_name(TINCEPTION_UNSUPPORTED) == std::string("unsupported"));
}

TEST_CASE("c api: RGB, padded RGB, RGBA and BGR of the same picture give the same scores") {
    Loaded l;
    REQUIRE(tinception_model_label_count(l.model) == 3);
    CHECK(tinception_model_label(l.model, 1) == std::string("banana"));
    CHECK(tinception_model_label(l.model, 3) == nullptr);
    CHECK(tinception_model_feature_layer(l.model) == std::string("mixed5"));
    CHECK(tinception_model_feature_size(l.model) == 768);

    const std::vector<std::uint8_t> rgb = test_rgb(kWidth, kHeight);
    const std::size_t padded_stride = kWidth * 3 + 5;
    std::vector<std::uint8_t> padded(padded_stride * (kHeight - 1) + kWidth * 3, 0xAB);  // last row unpadded
    std::vector<std::uint8_t> rgba(std::size_t(kWidth) * kHeight * 4), bgr(rgb.size());
    for (std::size_t i = 0; i < std::size_t(kWidth) * kHeight; ++i) {
        const std::size_t y = i / kWidth, x = i % kWidth;
        std::memcpy(&padded[y * padded_stride + x * 3], &rgb[i * 3], 3);
        rgba[i * 4 + 0] = rgb[i * 3 + 0];
        rgba[i * 4 + 1] = rgb[i * 3 + 1];
        rgba[i * 4 + 2] = rgb[i * 3 + 2];
        rgba[i * 4 + 3] = std::uint8_t(i);  // alpha must not matter
        bgr[i * 3 + 0] = rgb[i * 3 + 2];
        bgr[i * 3 + 1] = rgb[i * 3 + 1];
        bgr[i * 3 + 2] = rgb[i * 3 + 0];
    }
    const std::vector<float> expected = l.scores(rgb.data(), 0, TINCEPTION_RGB8);
    CHECK(expected[0] + expected[1] + expected[2] == doctest::Approx(1.0f));
    CHECK(l.scores(rgb.data(), kWidth * 3, TINCEPTION_RGB8) == expected);
    CHECK(l.scores(padded.data(), padded_stride, TINCEPTION_RGB8) == expected);
    CHECK(l.scores(rgba.data(), 0, TINCEPTION_RGBA8) == expected);
    CHECK(l.scores(bgr.data(), 0, TINCEPTION_BGR8) == expected);
    // Swapping the channels of a picture whose red and blue differ must change the scores.
    CHECK(l.scores(bgr.data(), 0, TINCEPTION_RGB8) != expected);
    CHECK(tinception_top_index(expected.data(), 3) < 3);
}

TEST_CASE("c api: models from memory classify like the model from its files") {
    Loaded l;
    const std::vector<std::uint8_t> rgb = test_rgb(kWidth, kHeight);
    const std::vector<float> expected = l.scores(rgb.data(), 0, TINCEPTION_RGB8);

    const std::vector<std::uint8_t> model_bytes = file_bytes(fixture().model_path);
    const std::vector<std::uint8_t> weight_bytes = file_bytes(weights_path());
    for (const bool weights_in_memory : {false, true}) {
        CAPTURE(weights_in_memory);
        tinception_model* model = nullptr;
        const tinception_status s =
            weights_in_memory ? tinception_model_load_from_memory_with_weights(
                                    model_bytes.data(), model_bytes.size(), weight_bytes.data(), weight_bytes.size(), &model)
                              : tinception_model_load_from_memory(model_bytes.data(), model_bytes.size(), nullptr, &model);
        REQUIRE_MESSAGE(s == TINCEPTION_OK, tinception_last_error());
        tinception_context* context = nullptr;
        REQUIRE(tinception_context_create(model, &context) == TINCEPTION_OK);
        tinception_model_destroy(model);  // the context keeps what it needs
        std::vector<float> scores(3);
        CHECK(tinception_classify(context, rgb.data(), kWidth, kHeight, 0, TINCEPTION_RGB8, scores.data(), 3) ==
              TINCEPTION_OK);
        CHECK(scores == expected);
        tinception_context_destroy(context);
    }
}

TEST_CASE("c api: a context for mixed10 gives 2048 features and does not classify") {
    Loaded l;
    const std::vector<std::uint8_t> rgb = test_rgb(kWidth, kHeight);
    std::vector<float> features(768);
    CHECK(tinception_context_feature_size(l.context) == 768);
    CHECK(tinception_features(l.context, rgb.data(), kWidth, kHeight, 0, TINCEPTION_RGB8, features.data(), 768) ==
          TINCEPTION_OK);

    tinception_context* deep = nullptr;
    CHECK(tinception_context_create_for_layer(l.model, "no_such_layer", &deep) == TINCEPTION_INVALID_ARGUMENT);
    CHECK(last_error().find("no_such_layer") != std::string::npos);
    REQUIRE(tinception_context_create_for_layer(l.model, "mixed10", &deep) == TINCEPTION_OK);
    CHECK(tinception_context_layer(deep) == std::string("mixed10"));
    REQUIRE(tinception_context_feature_size(deep) == 2048);
    std::vector<float> deep_features(2048, -1.0f);
    CHECK(tinception_features(deep, rgb.data(), kWidth, kHeight, 0, TINCEPTION_RGB8, deep_features.data(), 2048) ==
          TINCEPTION_OK);
    int positive = 0;
    for (float v : deep_features) {
        CHECK(v >= 0.0f);  // pooled after a ReLU
        positive += v > 0.0f;
    }
    CHECK(positive > 100);
    float scores[3];
    CHECK(tinception_classify(deep, rgb.data(), kWidth, kHeight, 0, TINCEPTION_RGB8, scores, 3) ==
          TINCEPTION_UNSUPPORTED);
    tinception_context_destroy(deep);

    // A file without image_io is unsupported; with it, a missing file is an IO error.
    const tinception_status s = tinception_classify_file(l.context, "/nonexistent/picture.jpg", scores, 3);
#ifdef TINCEPTION_HAVE_IMAGE_IO
    CHECK(s == TINCEPTION_IO_ERROR);
#else
    CHECK(s == TINCEPTION_UNSUPPORTED);
    CHECK(last_error().find("image_io") != std::string::npos);
#endif
}

TEST_CASE("c api: two threads with their own contexts on one model agree with one thread") {
    Loaded l;
    const std::vector<std::uint8_t> a = test_rgb(kWidth, kHeight), b = test_rgb(kHeight, kWidth);
    std::vector<float> expected_a(3), expected_b(3);
    REQUIRE(tinception_classify(l.context, a.data(), kWidth, kHeight, 0, TINCEPTION_RGB8, expected_a.data(), 3) ==
            TINCEPTION_OK);
    REQUIRE(tinception_classify(l.context, b.data(), kHeight, kWidth, 0, TINCEPTION_RGB8, expected_b.data(), 3) ==
            TINCEPTION_OK);

    std::vector<float> got[2] = {std::vector<float>(6), std::vector<float>(6)};
    tinception_status status[2][3] = {};
    const auto work = [&](int t) {
        tinception_context* context = nullptr;
        status[t][0] = tinception_context_create(l.model, &context);
        if (status[t][0] != TINCEPTION_OK) return;
        // Opposite orders, so the threads are mostly on different images at once.
        const bool first_a = t == 0;
        status[t][1] = tinception_classify(context, first_a ? a.data() : b.data(), first_a ? kWidth : kHeight,
                                           first_a ? kHeight : kWidth, 0, TINCEPTION_RGB8, got[t].data(), 3);
        status[t][2] = tinception_classify(context, first_a ? b.data() : a.data(), first_a ? kHeight : kWidth,
                                           first_a ? kWidth : kHeight, 0, TINCEPTION_RGB8, got[t].data() + 3, 3);
        tinception_context_destroy(context);
    };
    std::thread t0(work, 0), t1(work, 1);
    t0.join();
    t1.join();
    for (int t = 0; t < 2; ++t)
        for (int i = 0; i < 3; ++i) CHECK(status[t][i] == TINCEPTION_OK);
    CHECK(std::vector<float>(got[0].begin(), got[0].begin() + 3) == expected_a);
    CHECK(std::vector<float>(got[0].begin() + 3, got[0].end()) == expected_b);
    CHECK(std::vector<float>(got[1].begin(), got[1].begin() + 3) == expected_b);
    CHECK(std::vector<float>(got[1].begin() + 3, got[1].end()) == expected_a);
}

TEST_CASE("c api: the C++ wrapper throws the status and message") {
    namespace api = tinception::api;
    try {
        api::Model missing("/nonexistent/model.tcm");
        FAIL("loading a missing model did not throw");
    } catch (const api::Error& e) {
        CHECK(e.status() == TINCEPTION_IO_ERROR);
        CHECK(std::string(e.what()).find("/nonexistent/model.tcm") != std::string::npos);
    }
    const api::Model model(fixture().model_path);
    CHECK(model.labels() == std::vector<std::string>{"apple", "banana", "cherry"});
    api::Context context(model);
    const std::vector<std::uint8_t> rgb = test_rgb(kWidth, kHeight);
    CHECK(context.scores(rgb.data(), kWidth, kHeight).size() == 3);
    CHECK_THROWS_AS(context.scores(rgb.data(), 0, kHeight), api::Error);
}

TEST_CASE("c api: a model loads through the packed-weights cache or without it, with the same scores") {
    const Fixture& f = fixture();
    TempDir cache;
    const std::vector<std::uint8_t> rgb = test_rgb(kWidth, kHeight);
    const auto scores_with = [&](const tinception_load_options* options) {
        tinception_model* model = nullptr;
        tinception_context* context = nullptr;
        std::vector<float> out(3, -1.0f);
        REQUIRE_MESSAGE(tinception_model_load_with_options(f.model_path.c_str(), nullptr, options, &model) ==
                            TINCEPTION_OK,
                        tinception_last_error());
        REQUIRE(tinception_context_create(model, &context) == TINCEPTION_OK);
        CHECK(tinception_classify(context, rgb.data(), kWidth, kHeight, 0, TINCEPTION_RGB8, out.data(), 3) ==
              TINCEPTION_OK);
        tinception_context_destroy(context);
        tinception_model_destroy(model);
        return out;
    };
    const tinception_load_options no_cache{1, nullptr};
    const std::vector<float> expected = scores_with(&no_cache);
    CHECK(fs::is_empty(cache.path()));
    const std::string dir = cache.file("packed");
    const tinception_load_options in_folder{0, dir.c_str()};
    CHECK(scores_with(&in_folder) == expected);  // builds the cache file
    REQUIRE(fs::is_directory(dir));
    CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 1);
    CHECK(scores_with(&in_folder) == expected);  // maps it
    CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 1);
}

TEST_CASE("c api: a model trained in int8 runs in int8, a context can switch to fp32 and back") {
    // The fp32 model of the other cases: fp32 only.
    Loaded fp32;
    CHECK(tinception_model_precision(fp32.model) == TINCEPTION_PRECISION_FP32);
    CHECK(tinception_context_precision(fp32.context) == TINCEPTION_PRECISION_FP32);
    CHECK(tinception_context_set_precision(fp32.context, TINCEPTION_PRECISION_INT8) == TINCEPTION_UNSUPPORTED);
    CHECK(last_error().find("trained in fp32") != std::string::npos);
    CHECK(tinception_context_set_precision(fp32.context, tinception_precision(7)) == TINCEPTION_INVALID_ARGUMENT);
    CHECK(tinception_context_set_precision(nullptr, TINCEPTION_PRECISION_FP32) == TINCEPTION_INVALID_ARGUMENT);
    CHECK(tinception_context_set_precision(fp32.context, TINCEPTION_PRECISION_FP32) == TINCEPTION_OK);

    // The same head with calibration ranges, as `train --precision int8` stores them (here from
    // the test picture and its transpose).
    const std::vector<std::uint8_t> rgb = test_rgb(kWidth, kHeight);
    tinception::ClassifierModel m = random_model();
    {
        const tinception::WeightFile weights = tinception::WeightFile::open(weights_path());
        const tinception::Preprocessing prep = tinception::preprocessing_of(weights);
        const std::size_t floats = std::size_t(prep.size) * prep.size * 3;
        std::vector<float> input(2 * floats);
        tinception::preprocess(tinception::ImageRgb8{kWidth, kHeight, rgb}, prep, input.data());
        tinception::preprocess(tinception::ImageRgb8{kHeight, kWidth, test_rgb(kHeight, kWidth)}, prep,
                               input.data() + floats);
        m.int8_ranges = tinception::calibrate_ranges(weights, "mixed5", input.data(), 2, tinception::RangeRule{});
    }
    TempDir dir;
    const std::string path = dir.file("int8.tcm");
    tinception::save_classifier_model(path, m);
    tinception_model* model = nullptr;
    REQUIRE(tinception_model_load(path.c_str(), nullptr, &model) == TINCEPTION_OK);
    CHECK(tinception_model_precision(model) == TINCEPTION_PRECISION_INT8);
    tinception_context *context = nullptr, *mixed10 = nullptr;
    REQUIRE(tinception_context_create(model, &context) == TINCEPTION_OK);
    REQUIRE(tinception_context_create_for_layer(model, "mixed10", &mixed10) == TINCEPTION_OK);
    CHECK(tinception_context_precision(context) == TINCEPTION_PRECISION_INT8);
    CHECK(tinception_context_precision(mixed10) == TINCEPTION_PRECISION_FP32);
    CHECK(tinception_context_set_precision(mixed10, TINCEPTION_PRECISION_INT8) == TINCEPTION_UNSUPPORTED);
    CHECK(last_error().find("mixed10") != std::string::npos);

    const auto features = [&] {
        std::vector<float> f(768, -1.0f);
        CHECK(tinception_features(context, rgb.data(), kWidth, kHeight, 0, TINCEPTION_RGB8, f.data(), f.size()) ==
              TINCEPTION_OK);
        return f;
    };
    const std::vector<float> int8_features = features();
    REQUIRE(tinception_context_set_precision(context, TINCEPTION_PRECISION_FP32) == TINCEPTION_OK);
    CHECK(tinception_context_precision(context) == TINCEPTION_PRECISION_FP32);
    const std::vector<float> fp32_features = features();
    // The fp32 features of an int8 model's context are those of an fp32 model's.
    std::vector<float> reference(768, -2.0f);
    CHECK(tinception_features(fp32.context, rgb.data(), kWidth, kHeight, 0, TINCEPTION_RGB8, reference.data(),
                              reference.size()) == TINCEPTION_OK);
    CHECK(fp32_features == reference);
    REQUIRE(tinception_context_set_precision(context, TINCEPTION_PRECISION_INT8) == TINCEPTION_OK);
    CHECK(features() == int8_features);  // back to the same int8 network
    // Close but not equal: int8 rounds every activation.
    CHECK(int8_features != fp32_features);
    CHECK(tinception::testing::cosine(int8_features.data(), fp32_features.data(), int8_features.size()) > 0.99);

    tinception_context_destroy(mixed10);
    tinception_context_destroy(context);
    tinception_model_destroy(model);
}

TEST_CASE("c api: a model trained on bf16 features runs bf16 where the CPU can; any context can switch") {
    const bool cpu_has_bf16 = tinception::kernels::avx512_bf16_kernels() != nullptr;
    Loaded fp32;  // the fp32 model of the other cases
    const std::vector<std::uint8_t> rgb = test_rgb(kWidth, kHeight);
    const auto features = [&](tinception_context* context) {
        std::vector<float> f(768, -1.0f);
        CHECK(tinception_features(context, rgb.data(), kWidth, kHeight, 0, TINCEPTION_RGB8, f.data(), f.size()) ==
              TINCEPTION_OK);
        return f;
    };
    const std::vector<float> fp32_features = features(fp32.context);

    tinception::ClassifierModel m = random_model();
    m.bf16_features = true;
    TempDir dir;
    const std::string path = dir.file("bf16.tcm");
    tinception::save_classifier_model(path, m);
    tinception_model* model = nullptr;
    REQUIRE(tinception_model_load(path.c_str(), nullptr, &model) == TINCEPTION_OK);
    CHECK(tinception_model_precision(model) == TINCEPTION_PRECISION_BF16);
    tinception_context* context = nullptr;
    REQUIRE(tinception_context_create(model, &context) == TINCEPTION_OK);
    if (!cpu_has_bf16) {  // the model still answers, in fp32
        CHECK(tinception_context_precision(context) == TINCEPTION_PRECISION_FP32);
        CHECK(features(context) == fp32_features);
        CHECK(tinception_context_set_precision(context, TINCEPTION_PRECISION_BF16) == TINCEPTION_UNSUPPORTED);
        CHECK(last_error().find("AVX-512 BF16") != std::string::npos);
    } else {
        CHECK(tinception_context_precision(context) == TINCEPTION_PRECISION_BF16);
        const std::vector<float> bf16_features = features(context);
        // Close but not equal: bf16 rounds every convolution's inputs and weights.
        CHECK(bf16_features != fp32_features);
        CHECK(tinception::testing::cosine(bf16_features.data(), fp32_features.data(), bf16_features.size()) > 0.999);
        REQUIRE(tinception_context_set_precision(context, TINCEPTION_PRECISION_FP32) == TINCEPTION_OK);
        CHECK(tinception_context_precision(context) == TINCEPTION_PRECISION_FP32);
        CHECK(features(context) == fp32_features);
        // An fp32 model's context switches to bf16 too, and gives the bf16 model's features.
        REQUIRE(tinception_context_set_precision(fp32.context, TINCEPTION_PRECISION_BF16) == TINCEPTION_OK);
        CHECK(tinception_context_precision(fp32.context) == TINCEPTION_PRECISION_BF16);
        CHECK(features(fp32.context) == bf16_features);
    }
    tinception_context_destroy(context);
    tinception_model_destroy(model);
}
