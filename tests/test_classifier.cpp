// Classifier on a tiny synthetic weight file: the model and weight file are checked against
// each other (checksum, feature layer, preprocessing), and images classified together score
// exactly as each one alone.
#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

#include "classify/classifier.hpp"
#include "image/preprocess.hpp"
#include "model/network.hpp"
#include "error.hpp"
#include "temp_dir.hpp"
#include "weights/weight_file.hpp"
#include "weights/weight_file_writer.hpp"

using namespace tinception;
using tinception::testing::TempDir;

namespace {

constexpr int kSize = 12;

std::vector<float> random_values(std::size_t n, std::mt19937& rng) {
    std::normal_distribution<float> normal(0.0f, 0.5f);
    std::vector<float> v(n);
    for (float& x : v) x = normal(rng);
    return v;
}

// input (kSize x kSize x 3) -> 3x3 conv with 6 channels "features"; inputs scaled to [-1, 1].
void write_weights(const std::string& path) {
    std::mt19937 rng(7);
    WeightFileWriter w;
    w.add_layer({"input_1", "input", {}, {{"height", kSize}, {"width", kSize}, {"channels", 3}}, {}, {}});
    w.add_layer({"features", "conv2d", {"input_1"},
                 {{"kernel_h", 3}, {"kernel_w", 3}, {"stride_h", 1}, {"stride_w", 1}, {"relu", 1}},
                 {{"padding", "same"}}, {"features/weights", "features/bias"}});
    w.add_tensor("features/weights", {6, 3, 3, 3}, random_values(6 * 3 * 3 * 3, rng));
    w.add_tensor("features/bias", {6}, random_values(6, rng));
    w.set_metadata("input_size", std::to_string(kSize));
    w.set_metadata("input_scale", "0.00784313725490196");
    w.set_metadata("input_offset", "-1");
    w.set_metadata("align_corners", "1");
    w.set_metadata("resize", "bilinear");
    w.write(path);
}

struct Files {
    TempDir dir;
    std::string weights = dir.file("tiny.tcw");
    Files() { write_weights(weights); }

    // A model trained, as far as the checks can tell, on these weights.
    ClassifierModel model() const {
        const WeightFile file = WeightFile::open(weights);
        std::mt19937 rng(11);
        ClassifierModel m;
        m.labels = {"left", "middle", "right"};
        m.feature_layer = "features";
        m.feature_size = 6;
        m.weights_checksum = file.checksum();
        m.weights_path = weights;
        m.preprocessing.size = kSize;
        m.preprocessing.scale = float(0.00784313725490196);
        m.preprocessing.offset = -1.0f;
        m.head.n_classes = 3;
        m.head.feature_size = 6;
        m.head.weights = random_values(3 * 6, rng);
        m.head.bias = {0.1f, 0.0f, -0.1f};
        return m;
    }
    std::string save(const ClassifierModel& m, const std::string& name) const {
        save_classifier_model(dir.file(name), m);
        return dir.file(name);
    }
};

std::string refusal(const std::string& model_path, const std::string& weights_path = "") {
    try {
        Classifier::open(model_path, weights_path);
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

ImageRgb8 picture(int width, int height, int seed) {
    ImageRgb8 image;
    image.width = width;
    image.height = height;
    for (int i = 0; i < width * height * 3; ++i) image.pixels.push_back(std::uint8_t((i * 37 + seed * 101) % 256));
    return image;
}

}  // namespace

TEST_CASE("classifier: a model and the weights it was trained on classify") {
    const Files f;
    const Classifier classifier = Classifier::open(f.save(f.model(), "good.tcm"));
    FeatureExtractor extractor = classifier.extractor();
    const auto scores = classifier.classify(extractor, {picture(20, 15, 1)});
    REQUIRE(scores.size() == 1);
    REQUIRE(scores[0].size() == 3);
    CHECK(scores[0][0].score >= scores[0][1].score);
    CHECK(scores[0][1].score >= scores[0][2].score);
    CHECK(scores[0][0].score + scores[0][1].score + scores[0][2].score == doctest::Approx(1.0));
}

TEST_CASE("classifier: its extractors share one packed copy of the weights and agree") {
    const Files f;
    const Classifier classifier = Classifier::open(f.save(f.model(), "good.tcm"));
    FeatureExtractor first = classifier.extractor();
    FeatureExtractor second = classifier.extractor();
    FeatureExtractor by_name = classifier.extractor("features");
    CHECK(&first.network().packed_weights()->weights() == &classifier.weights());
    CHECK(first.network().packed_weights() == second.network().packed_weights());
    CHECK(first.network().packed_weights() == by_name.network().packed_weights());
    FeatureExtractor alone(f.weights, "features");  // its own weights and packing
    CHECK(alone.network().packed_weights() != first.network().packed_weights());
    const std::vector<ImageRgb8> images = {picture(20, 15, 2), picture(9, 31, 3)};
    const std::vector<float> expected = alone.extract(images);
    CHECK(first.extract(images) == expected);
    CHECK(second.extract(images) == expected);
}

TEST_CASE("classifier: a model and weights that disagree are refused with one line") {
    const Files f;
    ClassifierModel other_preprocessing = f.model();
    other_preprocessing.preprocessing.scale = 1.0f / 255.0f;
    other_preprocessing.preprocessing.offset = 0.0f;
    const std::string message = refusal(f.save(other_preprocessing, "scaled.tcm"));
    CHECK(message.find("trained with preprocessing") != std::string::npos);
    CHECK(message.find("pixel * 0.00784313") != std::string::npos);  // what the weight file says
    CHECK(message.find('\n') == std::string::npos);

    ClassifierModel other_size = f.model();
    other_size.preprocessing.size = 299;
    CHECK(refusal(f.save(other_size, "size.tcm")).find("299x299 input") != std::string::npos);

    ClassifierModel other_checksum = f.model();
    other_checksum.weights_checksum ^= 1;
    CHECK(refusal(f.save(other_checksum, "checksum.tcm")).find("was trained on weights with checksum") !=
          std::string::npos);

    ClassifierModel other_features = f.model();
    other_features.feature_size = 5;
    other_features.head.feature_size = 5;
    other_features.head.weights.resize(3 * 5);
    CHECK(refusal(f.save(other_features, "features.tcm")).find("expects 5 features from layer 'features'") !=
          std::string::npos);

    ClassifierModel other_layer = f.model();
    other_layer.feature_layer = "mixed5";
    CHECK(refusal(f.save(other_layer, "layer.tcm")).find("uses layer 'mixed5'") != std::string::npos);
}

TEST_CASE("classifier: a file that cannot be read is an unreadable error, not a format error") {
    const Files f;
    try {
        Classifier::open(f.dir.file("absent.tcm"));
        FAIL("opened a model that does not exist");
    } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::unreadable);
    }
    try {
        Classifier::open(f.save(f.model(), "good.tcm"), f.dir.file("absent.tcw"));
        FAIL("opened weights that do not exist");
    } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::unreadable);
    }
}

TEST_CASE("classifier: a --tta flip model scores each image with its mirror, batched as if apart") {
    const Files f;
    ClassifierModel flip_model = f.model();
    flip_model.augmentation = TestTimeAugmentation::flip;
    const Classifier classifier = Classifier::open(f.save(flip_model, "flip.tcm"));
    FeatureExtractor extractor = classifier.extractor();
    // Five images: image and mirror go in pairs, four pairs a batch, so the fifth is a batch of its own.
    std::vector<ImageRgb8> images, mirrors;
    for (int i = 0; i < 5; ++i) {
        images.push_back(picture(20 + i, 15 + 2 * i, 10 + i));
        mirrors.push_back(mirrored_left_right(images.back()));
    }
    std::vector<float> features(5 * 6), mirrored(5 * 6);
    extractor.extract_with_mirrors(images.data(), images.size(), features.data(), mirrored.data());
    CHECK(features == extractor.extract(images));
    CHECK(mirrored == extractor.extract(mirrors));
    CHECK(features != mirrored);  // the pictures are not symmetric

    const std::vector<float> p = classifier.probabilities(extractor, images.data(), images.size());
    REQUIRE(p.size() == 5 * 3);
    for (std::size_t i = 0; i < 5; ++i) {
        const std::vector<float> alone = flip_model.predict(&features[i * 6], &mirrored[i * 6]);
        CHECK(std::vector<float>(p.begin() + std::ptrdiff_t(3 * i), p.begin() + std::ptrdiff_t(3 * i + 3)) == alone);
    }
}
