// A model with fine-tuned convolutions (mixed6 to mixed7 of the real weights) classifies as
// the fine-tuning code computes: the scores of Classifier::classify (what guess, guess-dir and
// the C API run) against the frozen network's mixed6 activations run through the tuned span
// and the head by hand. The tuned weights are really used, and a packed-weights cache shared
// with an untuned model never mixes the two. A model on the layer set mixed5,mixed7 with the
// same tuned span puts the frozen network's mixed5 beside the tuned mixed7, standardised.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "classify/classifier.hpp"
#include "error.hpp"
#include "finetune/fine_tuner.hpp"
#include "model/feature_extractor.hpp"
#include "kernel_dispatch.hpp"
#include "model/network.hpp"
#include "temp_dir.hpp"
#include "weights/weight_file.hpp"

using namespace tinception;
using tinception::testing::TempDir;

namespace {

std::string weights_path() {
    const char* value = std::getenv("TINCEPTION_WEIGHTS");
    REQUIRE_MESSAGE((value && *value), "TINCEPTION_WEIGHTS is not set; run tools/test.sh, which fetches the weights");
    REQUIRE_MESSAGE(std::filesystem::exists(value), "TINCEPTION_WEIGHTS=" << value << " does not exist");
    return value;
}

ImageRgb8 pattern_image(int width, int height) {
    ImageRgb8 image;
    image.width = width, image.height = height;
    std::uint32_t s = 12345;
    for (int i = 0; i < width * height * 3; ++i) {
        s ^= s << 13, s ^= s >> 17, s ^= s << 5;
        image.pixels.push_back(std::uint8_t(((i / 3) % width / 20 % 2 ? 160 : 60) + (s >> 27)));
    }
    return image;
}

ClassifierModel model_on(const WeightFile& weights, const std::string& path) {
    ClassifierModel m;
    m.labels = {"one", "two", "three"};
    m.feature_layer = "mixed7";
    m.feature_size = 768;
    m.weights_checksum = weights.checksum();
    m.weights_path = path;
    m.preprocessing = preprocessing_of(weights);
    m.head.n_classes = 3, m.head.feature_size = 768;
    for (int i = 0; i < 3 * 768; ++i) m.head.weights.push_back(float((i * 7919) % 201 - 100) * 0.002f);
    m.head.bias = {0.1f, 0.0f, -0.1f};
    return m;
}

// The span fine-tuning trains for mixed7 after mixed6, on the fastest tables.
SpanBackprop mixed7_span(const WeightFile& weights) {
    const kernels::BackwardKernelTable* backward[3];
    const int backward_count = kernels::available_backward_tables(backward);
    return SpanBackprop(weights.graph(), "mixed6", "mixed7", active_kernels(), *backward[backward_count - 1]);
}

}  // namespace

TEST_CASE("a model with tuned layers classifies as the fine-tuning code's own forward does") {
    const std::string path = weights_path();
    const auto weights = std::make_shared<const WeightFile>(WeightFile::open(path));
    SpanBackprop span = mixed7_span(*weights);

    ClassifierModel tuned = model_on(*weights, path);
    tuned.tuned.from = "mixed6";
    tuned.tuned.convolutions = span.convolutions();
    std::uint32_t s = 99;
    for (TrainableConv& c : tuned.tuned.convolutions) {  // moved off the file's weights by up to 20%
        for (float& w : c.weights) s ^= s << 13, s ^= s >> 17, s ^= s << 5, w *= 0.8f + 0.4f * float(s >> 8) / 16777216.0f;
        c.grad_weights.clear(), c.grad_bias.clear();
    }
    const ClassifierModel frozen = model_on(*weights, path);
    TempDir dir;
    save_classifier_model(dir.file("tuned.tcm"), tuned);
    save_classifier_model(dir.file("frozen.tcm"), frozen);
    const PackedCacheChoice cache{true, dir.file("packed")};
    const ImageRgb8 image = pattern_image(320, 280);

    // the fine-tuning code: mixed6's activations from the frozen network, the span, the head
    Network trunk(*weights, "mixed6", active_kernels());
    std::vector<float> input(std::size_t(299) * 299 * 3);
    preprocess(image, tuned.preprocessing, input.data());
    const ActivationShape a = trunk.output_shape();
    std::vector<float> activations(std::size_t(a.h) * a.w * a.c), features(768);
    trunk.extract_activations(input.data(), 1, activations.data());
    for (std::size_t i = 0; i < span.convolutions().size(); ++i) {
        span.convolutions()[i].weights = tuned.tuned.convolutions[i].weights;
        span.convolutions()[i].bias = tuned.tuned.convolutions[i].bias;
    }
    span.forward(activations.data(), 1);
    span.forward_table().global_avgpool(span.output(), features.data(), 1, 17, 17, 768);
    const std::vector<float> expected = tuned.predict(features.data());

    const auto scores = [&](const std::string& model) {
        const Classifier classifier = Classifier::open(model, "", cache);
        FeatureExtractor extractor = classifier.extractor();
        CHECK(extractor.layer() == classifier.model().feature_layer);
        CHECK(extractor.feature_size() == classifier.model().feature_size);
        std::vector<float> by_label(3);
        const std::vector<std::vector<LabelScore>> result = classifier.classify(extractor, {image});
        for (const LabelScore& l : result[0])
            by_label[l.label == "one" ? 0 : l.label == "two" ? 1 : 2] = l.score;
        return by_label;
    };
    const std::vector<float> frozen_before = scores(dir.file("frozen.tcm"));
    const std::vector<float> tuned_scores = scores(dir.file("tuned.tcm"));
    const std::vector<float> frozen_after = scores(dir.file("frozen.tcm"));
    MESSAGE("tuned " << tuned_scores[0] << " " << tuned_scores[1] << " " << tuned_scores[2] << ", frozen "
                     << frozen_before[0] << " " << frozen_before[1] << " " << frozen_before[2]);
    for (int c = 0; c < 3; ++c) {
        CAPTURE(c);
        CHECK(tuned_scores[std::size_t(c)] == doctest::Approx(expected[std::size_t(c)]).epsilon(1e-6));
        CHECK(frozen_after[std::size_t(c)] == frozen_before[std::size_t(c)]);  // the cache kept the file's weights
    }
    CHECK(std::abs(tuned_scores[0] - frozen_before[0]) > 1e-4f);  // the tuned weights did run

    // refused: a model whose tuned layers are not of these weights' span
    ClassifierModel wrong = tuned;
    wrong.tuned.convolutions.pop_back();
    save_classifier_model(dir.file("wrong.tcm"), wrong);
    try {
        Classifier::open(dir.file("wrong.tcm"), "", cache);
        FAIL("a model with a tuned convolution missing was taken");
    } catch (const Error& e) {
        CHECK(std::string(e.what()).find("wrong.tcm holds " + std::to_string(tuned.tuned.convolutions.size() - 1) +
                                         " tuned convolutions") != std::string::npos);
    }
}

TEST_CASE("a model with tuned layers on mixed5,mixed7: frozen mixed5 beside tuned mixed7, standardised") {
    const std::string path = weights_path();
    const auto weights = std::make_shared<const WeightFile>(WeightFile::open(path));
    SpanBackprop span = mixed7_span(*weights);
    ClassifierModel tuned = model_on(*weights, path);
    tuned.feature_layer = "mixed5,mixed7";
    tuned.feature_size = tuned.head.feature_size = 1536;
    tuned.head.weights.clear();
    for (int i = 0; i < 3 * 1536; ++i) tuned.head.weights.push_back(float((i * 7919) % 201 - 100) * 0.002f);
    for (int i = 0; i < 1536; ++i) {
        tuned.standardization.mean.push_back(0.01f * float(i % 7));
        tuned.standardization.sd.push_back(0.5f + 0.1f * float(i % 5));
    }
    tuned.tuned.from = "mixed6";
    tuned.tuned.convolutions = span.convolutions();
    for (TrainableConv& c : tuned.tuned.convolutions) {
        for (float& w : c.weights) w *= 1.1f;
        c.grad_weights.clear(), c.grad_bias.clear();
        span.convolutions()[std::size_t(&c - tuned.tuned.convolutions.data())].weights = c.weights;
    }
    TempDir dir;
    save_classifier_model(dir.file("set.tcm"), tuned);
    const ImageRgb8 image = pattern_image(300, 320);

    // by hand: mixed5 from an untuned extractor, mixed7 through the tuned span from mixed6
    FeatureExtractor mixed5(weights, "mixed5");
    const std::vector<float> frozen = mixed5.extract({image});
    Network trunk(*weights, "mixed6", active_kernels());
    std::vector<float> input(std::size_t(299) * 299 * 3), activations(std::size_t(17) * 17 * 768), top(768);
    preprocess(image, tuned.preprocessing, input.data());
    trunk.extract_activations(input.data(), 1, activations.data());
    span.forward(activations.data(), 1);
    span.forward_table().global_avgpool(span.output(), top.data(), 1, 17, 17, 768);

    const Classifier classifier = Classifier::open(dir.file("set.tcm"), "", {true, dir.file("packed")});
    FeatureExtractor extractor = classifier.extractor();
    CHECK(extractor.layer() == "mixed5,mixed7");
    REQUIRE(extractor.feature_size() == 1536);
    const std::vector<float> features = extractor.extract({image});
    for (int i = 0; i < 768; ++i) {
        CAPTURE(i);
        CHECK(features[std::size_t(i)] == doctest::Approx(frozen[std::size_t(i)]).epsilon(1e-5));
        CHECK(features[std::size_t(768 + i)] == doctest::Approx(top[std::size_t(i)]).epsilon(1e-5));
    }
    std::vector<float> raw = frozen;
    raw.insert(raw.end(), top.begin(), top.end());
    const std::vector<float> expected = tuned.predict(raw.data());
    const std::vector<std::vector<LabelScore>> result = classifier.classify(extractor, {image});
    for (const LabelScore& l : result[0]) {
        CAPTURE(l.label);
        CHECK(l.score == doctest::Approx(expected[l.label == "one" ? 0 : l.label == "two" ? 1 : 2]).epsilon(1e-5));
    }
}
