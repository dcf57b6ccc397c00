// The classifier file: round trip, prediction, and refusal of every kind of damage.
#include <doctest/doctest.h>

#include <cstring>
#include <fstream>
#include <limits>

#include "error.hpp"
#include "file_io.hpp"
#include "temp_dir.hpp"
#include "byte_io.hpp"
#include "classifier_model_v1.hpp"
#include "classify/classifier_model.hpp"
#include "weights/crc32.hpp"

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


TEST_CASE("format 6 keeps the int8 ranges; a bad or repeated range is refused") {
    TempDir dir;
    ClassifierModel m = sample_model();
    m.int8_ranges = {{"conv2d_1", 2.5f}, {"mixed5", 11.0f}};
    save_classifier_model(dir.file("int8.tcm"), m);
    const ClassifierModel r = load_classifier_model(dir.file("int8.tcm"));
    CHECK(r.format_version == 6);
    CHECK_FALSE(r.bf16_features);
    CHECK(r.int8_ranges == m.int8_ranges);
    CHECK(serialize_classifier_model(r) == serialize_classifier_model(m));
    // The last range's float, just before the head, made 0 and then NaN.
    const std::size_t head = (m.head.weights.size() + m.head.bias.size()) * 4 + 4;
    for (const float bad : {0.0f, std::numeric_limits<float>::quiet_NaN()}) {
        std::vector<std::uint8_t> bytes = serialize_classifier_model(m);
        std::memcpy(bytes.data() + bytes.size() - head - 8, &bad, 4);  // before the bf16 flag
        store_le(bytes.data() + bytes.size() - 4, crc32(bytes.data(), bytes.size() - 4));
        write_bytes(dir.file("bad.tcm"), bytes);
        CHECK(load_error(dir.file("bad.tcm")).find("bad or repeated int8 range") != std::string::npos);
    }
}

TEST_CASE("format 6 keeps bf16 features; a bad flag, or bf16 with int8 ranges, is refused; format 5 still loads") {
    TempDir dir;
    ClassifierModel m = sample_model();
    m.bf16_features = true;
    save_classifier_model(dir.file("bf16.tcm"), m);
    const ClassifierModel r = load_classifier_model(dir.file("bf16.tcm"));
    CHECK(r.format_version == 6);
    CHECK(r.bf16_features);
    CHECK(serialize_classifier_model(r) == serialize_classifier_model(m));

    const std::size_t head = (m.head.weights.size() + m.head.bias.size()) * 4 + 4;
    std::vector<std::uint8_t> bytes = serialize_classifier_model(m);
    store_le(bytes.data() + bytes.size() - head - 4, std::uint32_t(2));  // the flag, just before the head
    store_le(bytes.data() + bytes.size() - 4, crc32(bytes.data(), bytes.size() - 4));
    write_bytes(dir.file("bad.tcm"), bytes);
    CHECK(load_error(dir.file("bad.tcm")).find("bad bf16 flag") != std::string::npos);

    ClassifierModel both = m;
    both.int8_ranges = {{"mixed5", 11.0f}};
    CHECK_THROWS_AS(serialize_classifier_model(both), Error);

    ClassifierModel plain = m;
    plain.bf16_features = false;
    write_bytes(dir.file("v5.tcm"), tinception::testing::format5_bytes(plain));
    const ClassifierModel five = load_classifier_model(dir.file("v5.tcm"));
    CHECK(five.format_version == 5);
    CHECK_FALSE(five.bf16_features);
    CHECK(serialize_classifier_model(five) == serialize_classifier_model(plain));
}

TEST_CASE("format 4 keeps the training record, augmentation and standardisation; formats 1 to 4 still load") {
    TempDir dir;
    ClassifierModel m = sample_model();
    m.training.present = true;
    m.training.trained_at = "2026-11-30T12:00:00Z";
    m.training.settings = {{"data folder", "/data/heroes"}, {"steps", "4000"}, {"seed", "7"}};
    m.training.split_counts = {{10, 2, 1}, {20, 3, 4}, {5, 1, 1}};
    m.training.test_count = 6;
    m.training.test_accuracy = 0.875f;
    m.training.folds = 5;
    m.training.fold_mean = 0.9f;
    m.training.fold_stddev = 0.02f;
    save_classifier_model(dir.file("v2.tcm"), m);
    const ClassifierModel r = load_classifier_model(dir.file("v2.tcm"));
    CHECK(r.training.present);
    CHECK(r.training.trained_at == m.training.trained_at);
    CHECK(r.training.settings == m.training.settings);
    REQUIRE(r.training.split_counts.size() == 3);
    CHECK(r.training.split_counts[1].validation == 3);
    CHECK(r.training.split_counts[2].training == 5);
    CHECK(r.training.test_count == 6);
    CHECK(r.training.test_accuracy == 0.875f);
    CHECK(r.training.folds == 5);
    CHECK(r.training.fold_stddev == 0.02f);
    CHECK(serialize_classifier_model(r) == serialize_classifier_model(m));
    CHECK(r.format_version == 6);
    CHECK(r.augmentation == TestTimeAugmentation::none);
    CHECK(r.standardization.empty());

    write_bytes(dir.file("v4.tcm"), tinception::testing::format4_bytes(m));
    const ClassifierModel four = load_classifier_model(dir.file("v4.tcm"));
    CHECK(four.format_version == 4);
    CHECK(four.int8_ranges.empty());
    CHECK(serialize_classifier_model(four) == serialize_classifier_model(m));

    write_bytes(dir.file("v3.tcm"), tinception::testing::format3_bytes(m));
    const ClassifierModel three = load_classifier_model(dir.file("v3.tcm"));
    CHECK(three.format_version == 3);
    CHECK(three.standardization.empty());
    CHECK(serialize_classifier_model(three) == serialize_classifier_model(m));

    write_bytes(dir.file("v2.tcm"), tinception::testing::format2_bytes(m));
    const ClassifierModel two = load_classifier_model(dir.file("v2.tcm"));
    CHECK(two.format_version == 2);
    CHECK(two.training.settings == m.training.settings);
    CHECK(two.head.weights == m.head.weights);
    CHECK(two.standardization.empty());
    CHECK(serialize_classifier_model(two) == serialize_classifier_model(m));

    write_bytes(dir.file("v1.tcm"), tinception::testing::format1_bytes(m));
    const ClassifierModel old = load_classifier_model(dir.file("v1.tcm"));
    CHECK_FALSE(old.training.present);
    CHECK(old.labels == m.labels);
    CHECK(old.head.weights == m.head.weights);
    CHECK(old.weights_path == m.weights_path);
}

TEST_CASE("predict standardises raw features as stored and averages with the mirror's scores") {
    TempDir dir;
    ClassifierModel m = sample_model();
    m.standardization.mean = {1, 2, 3, 4};
    m.standardization.sd = {2, 0.5f, 1, 4};
    m.augmentation = TestTimeAugmentation::flip;
    save_classifier_model(dir.file("m.tcm"), m);
    const ClassifierModel r = load_classifier_model(dir.file("m.tcm"));
    CHECK(r.standardization.mean == m.standardization.mean);
    CHECK(r.standardization.sd == m.standardization.sd);
    CHECK(r.augmentation == TestTimeAugmentation::flip);

    const float raw[4] = {3, 2.5f, 3, 0}, standardised[4] = {1, 1, 0, -1};
    const float mirror_raw[4] = {1, 2, 5, 8}, mirror_standardised[4] = {0, 0, 2, 1};
    ClassifierModel plain = sample_model();
    const std::vector<float> expected = plain.predict(standardised);
    const std::vector<float> got = r.predict(raw);
    for (std::size_t c = 0; c < 3; ++c) CHECK(got[c] == doctest::Approx(expected[c]).epsilon(1e-6));
    const std::vector<float> mirror = plain.predict(mirror_standardised);
    const std::vector<float> both = r.predict(raw, mirror_raw);
    for (std::size_t c = 0; c < 3; ++c) CHECK(both[c] == doctest::Approx(0.5f * (expected[c] + mirror[c])).epsilon(1e-6));

    m.standardization.sd[2] = 0;
    CHECK_THROWS_AS(serialize_classifier_model(m), Error);
    m.standardization.sd.pop_back();
    m.standardization.sd[2] = 1;
    CHECK_THROWS_AS(serialize_classifier_model(m), Error);
}

TEST_CASE("standardisation statistics: each column's mean and deviation; a constant column keeps sd 1") {
    const std::vector<float> rows = {1, 5, 2,
                                     3, 5, 4,
                                     5, 5, 9};
    const FeatureStandardization s = fit_standardization(rows.data(), 3, 3);
    CHECK(s.mean == std::vector<float>{3, 5, 5});
    CHECK(s.sd[0] == doctest::Approx(std::sqrt(8.0 / 3.0)));
    CHECK(s.sd[1] == 1.0f);
    CHECK(s.sd[2] == doctest::Approx(std::sqrt((9.0 + 1.0 + 16.0) / 3.0)));
    std::vector<float> applied = rows;
    s.apply(applied.data(), 3);
    for (int c = 0; c < 3; ++c) {
        double sum = 0, squares = 0;
        for (int r = 0; r < 3; ++r) {
            sum += applied[std::size_t(r * 3 + c)];
            squares += double(applied[std::size_t(r * 3 + c)]) * applied[std::size_t(r * 3 + c)];
        }
        CHECK(sum == doctest::Approx(0).epsilon(1e-6));
        CHECK(squares / 3 == doctest::Approx(c == 1 ? 0.0 : 1.0).epsilon(1e-5));
    }
}

TEST_CASE("a newer or unknown format is refused with one clear line") {
    TempDir dir;
    for (const std::uint32_t version : {7u, 0u, 0x01000000u}) {
        CAPTURE(version);
        std::vector<std::uint8_t> bytes = serialize_classifier_model(sample_model());
        store_le(bytes.data() + 8, version);
        const std::uint32_t crc = crc32(bytes.data(), bytes.size() - 4);
        store_le(bytes.data() + bytes.size() - 4, crc);
        write_bytes(dir.file("m.tcm"), bytes);
        const std::string v = std::to_string(version);
        CHECK(load_error(dir.file("m.tcm")) ==
              dir.file("m.tcm") + ": classifier file format " + v +
                  (version ? " is newer than this build reads (1 to 6); upgrade tinception"
                           : " is not one this build reads (1 to 6); the file is corrupt"));
    }
}
