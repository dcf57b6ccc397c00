// The classifier file: round trip, prediction, and refusal of every kind of damage.
#include <doctest/doctest.h>

#include <fstream>

#include "error.hpp"
#include "file_io.hpp"
#include "temp_dir.hpp"
#include "classify/classifier_model.hpp"

using namespace tinception;
using tinception::testing::TempDir;

namespace {

ClassifierModel sample_model() {
    ClassifierModel m;
    m.labels = {"darth_vader", "elsa", "r2 d2"};
    m.feature_layer = "pool_3";
    m.feature_size = 4;
    m.weights_checksum = 0x12345678;
    m.weights_path = "weights/inception_v3.tcw";
    m.preprocessing.size = 299;
    m.preprocessing.align_corners = false;
    m.preprocessing.scale = 2.0f / 255.0f;
    m.preprocessing.offset = -1.0f;
    m.head.n_classes = 3;
    m.head.feature_size = 4;
    m.head.weights = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, -0.5f};
    m.head.bias = {0.1f, -0.2f, 0.3f};
    return m;
}

std::string load_error(const std::string& path) {
    try {
        load_classifier_model(path);
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

void write_bytes(const std::string& path, const std::vector<std::uint8_t>& bytes) {
    std::ofstream(path, std::ios::binary | std::ios::trunc)
        .write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

}  // namespace

TEST_CASE("a saved model loads back field for field") {
    TempDir dir;
    const ClassifierModel m = sample_model();
    save_classifier_model(dir.file("model.tcm"), m);
    const ClassifierModel r = load_classifier_model(dir.file("model.tcm"));
    CHECK(r.labels == m.labels);
    CHECK(r.feature_layer == m.feature_layer);
    CHECK(r.feature_size == m.feature_size);
    CHECK(r.weights_checksum == m.weights_checksum);
    CHECK(r.weights_path == m.weights_path);
    CHECK(r.preprocessing.size == 299);
    CHECK(r.preprocessing.align_corners == false);
    CHECK(r.preprocessing.scale == m.preprocessing.scale);
    CHECK(r.preprocessing.offset == m.preprocessing.offset);
    CHECK(r.head.weights == m.head.weights);
    CHECK(r.head.bias == m.head.bias);
    CHECK(serialize_classifier_model(r) == serialize_classifier_model(m));
}

TEST_CASE("predict gives probabilities in label order") {
    const ClassifierModel m = sample_model();
    const float features[4] = {5, 0, 0, 0};
    const std::vector<float> p = m.predict(features);
    REQUIRE(p.size() == 3);
    CHECK(p[0] + p[1] + p[2] == doctest::Approx(1.0));
    CHECK(p[0] > 0.9f);
}

TEST_CASE("every flipped byte and every truncation is refused with an Error") {
    TempDir dir;
    const std::vector<std::uint8_t> good = serialize_classifier_model(sample_model());
    const std::string path = dir.file("model.tcm");
    for (std::size_t i = 0; i < good.size(); ++i) {
        CAPTURE(i);
        std::vector<std::uint8_t> bad = good;
        bad[i] ^= 0x20;
        write_bytes(path, bad);
        CHECK(load_error(path) != "");
    }
    for (std::size_t size = 0; size < good.size(); ++size) {
        CAPTURE(size);
        write_bytes(path, std::vector<std::uint8_t>(good.begin(), good.begin() + std::ptrdiff_t(size)));
        CHECK(load_error(path) != "");
    }
    write_bytes(path, good);
    CHECK(load_error(path) == "");
}

TEST_CASE("the refusals say what is wrong") {
    TempDir dir;
    const std::string path = dir.file("model.tcm");
    std::vector<std::uint8_t> bytes = serialize_classifier_model(sample_model());
    write_bytes(path, std::vector<std::uint8_t>(bytes.begin(), bytes.end() - 10));
    CHECK(load_error(path).find("truncated") != std::string::npos);
    write_bytes(path, {'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd'});
    CHECK(load_error(path) == path + ": not a tinception classifier file (wrong magic)");
    bytes[40] ^= 1;
    write_bytes(path, bytes);
    CHECK(load_error(path) == path + ": classifier file checksum mismatch; the file is corrupt");
    CHECK(load_error(dir.file("absent.tcm")).find("absent.tcm: cannot open") != std::string::npos);
}

TEST_CASE("an inconsistent model is not saved") {
    ClassifierModel m = sample_model();
    m.head.bias.pop_back();
    CHECK_THROWS_AS(serialize_classifier_model(m), Error);
}

TEST_CASE("the labels file has one label per line") {
    TempDir dir;
    write_labels_file(dir.file("retrained_labels.txt"), {"darth_vader", "elsa"});
    const std::vector<std::uint8_t> bytes = read_file_bytes(dir.file("retrained_labels.txt"));
    CHECK(std::string(bytes.begin(), bytes.end()) == "darth_vader\nelsa\n");
}
