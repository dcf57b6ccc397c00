// k-fold cross-validation: stable folds, sensible accuracy, errors.
#include <doctest/doctest.h>

#include <random>

#include "error.hpp"
#include "train/cross_validation.hpp"
#include "train/sampling.hpp"

using namespace tinception;

TEST_CASE("fold assignment is stable and spreads rows over all folds") {
    std::vector<int> counts(5, 0);
    for (int i = 0; i < 1000; ++i) {
        const std::string path = "cat/img" + std::to_string(i) + ".jpg";
        const int f = fold_of(path, 5);
        REQUIRE(f >= 0);
        REQUIRE(f < 5);
        CHECK(fold_of(path, 5) == f);
        ++counts[std::size_t(f)];
    }
    for (int c : counts) CHECK(c > 150);
    CHECK(fold_of("cat/a_nohash_1.jpg", 5) == fold_of("cat/a_nohash_2.jpg", 5));
}

TEST_CASE("cross-validation on separable data scores high with little spread") {
    std::mt19937_64 rng(9);
    FeatureSet data;
    data.feature_size = 8;
    std::vector<std::string> paths;
    for (int i = 0; i < 300; ++i) {
        const int label = i % 3;
        for (int f = 0; f < 8; ++f) data.features.push_back(float((f == label ? 5.0 : 0.0) + standard_normal(rng)));
        data.labels.push_back(label);
        paths.push_back("c" + std::to_string(label) + "/img" + std::to_string(i) + ".jpg");
    }
    TrainOptions options;
    options.steps = 200;
    options.learning_rate = 0.1f;
    const CrossValidationResult r = cross_validate(data, paths, 3, 5, options);
    CHECK(r.fold_accuracy.size() == 5);
    CHECK(r.mean_accuracy > 0.95);
    CHECK(r.stddev_accuracy >= 0.0);
    CHECK(r.stddev_accuracy < 0.05);
    CHECK_THROWS_AS(cross_validate(data, paths, 3, 1, options), Error);
    paths.pop_back();
    CHECK_THROWS_AS(cross_validate(data, paths, 3, 5, options), Error);
}

TEST_CASE("a fold seed gives another partition, as stable and as even as the first") {
    std::vector<std::string> paths;
    for (int i = 0; i < 1000; ++i) paths.push_back("cat/img" + std::to_string(i) + ".jpg");
    for (const std::uint64_t seed : {1u, 2u}) {
        CAPTURE(seed);
        std::vector<int> counts(5, 0);
        int moved = 0;
        for (const std::string& path : paths) {
            const int f = fold_of(path, 5, seed);
            REQUIRE(f >= 0);
            REQUIRE(f < 5);
            CHECK(fold_of(path, 5, seed) == f);
            ++counts[std::size_t(f)];
            moved += f != fold_of(path, 5, 0);
        }
        for (int c : counts) CHECK(c > 150);
        CHECK(moved > 600);  // about 4 in 5 rows change fold
    }
    CHECK(fold_of("cat/a_nohash_1.jpg", 5, 2) == fold_of("cat/a_nohash_2.jpg", 5, 2));
}

TEST_CASE("cross-validation with mirrors: trains on them, scores with them, refuses a mismatch") {
    // Class c is carried by feature c in a picture and by feature 3 - c in its mirror: a head
    // that saw only pictures misreads mirrors, one trained on both reads either.
    std::mt19937_64 rng(4);
    FeatureSet data, mirrored;
    data.feature_size = mirrored.feature_size = 4;
    std::vector<std::string> paths;
    for (int i = 0; i < 200; ++i) {
        const int label = i % 2;
        for (int f = 0; f < 4; ++f) {
            data.features.push_back(float((f == label ? 4.0 : 0.0) + standard_normal(rng)));
            mirrored.features.push_back(float((f == 3 - label ? 4.0 : 0.0) + standard_normal(rng)));
        }
        data.labels.push_back(label);
        mirrored.labels.push_back(label);
        paths.push_back("c" + std::to_string(label) + "/img" + std::to_string(i) + ".jpg");
    }
    TrainOptions options;
    options.steps = 300;
    options.learning_rate = 0.1f;
    FoldOptions folds;
    const double plain = cross_validate(data, mirrored, paths, 2, folds, options).mean_accuracy;
    CHECK(plain > 0.95);
    // Scored with mirrors the head never saw, then trained on them too.
    folds.test_time_flip = true;
    const CrossValidationResult flipped = cross_validate(data, mirrored, paths, 2, folds, options);
    folds.train_on_mirrored = true;
    const CrossValidationResult both = cross_validate(data, mirrored, paths, 2, folds, options);
    CHECK(both.mean_accuracy > 0.95);
    CHECK(both.mean_accuracy >= flipped.mean_accuracy);
    folds.seed = 3;
    CHECK(cross_validate(data, mirrored, paths, 2, folds, options).fold_accuracy.size() == 5);

    mirrored.labels.pop_back();
    mirrored.features.resize(mirrored.features.size() - 4);
    CHECK_THROWS_AS(cross_validate(data, mirrored, paths, 2, folds, options), Error);
}
