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
