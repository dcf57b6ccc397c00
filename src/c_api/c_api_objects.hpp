// What the C API's opaque handles hold: a model is one shared, immutable Classifier (model
// file + weights and their one packed copy, checked against each other there), a context one
// thread's FeatureExtractor (its activations and scratch).
#pragma once
#include <memory>
#include <vector>

#include "classify/classifier.hpp"
#include "image/image.hpp"
#include "model/feature_extractor.hpp"
#include "tinception.h"

struct tinception_model {
    std::shared_ptr<const tinception::Classifier> classifier;
};

struct tinception_context {
    std::shared_ptr<const tinception::Classifier> classifier;  // keeps the weights the extractor views alive
    tinception::FeatureExtractor extractor;
    bool classifies = false;
    tinception::ImageRgb8 rgb;  // the caller's pixels, repacked as tight RGB
    std::vector<float> features;
    tinception::DecodeMode decode = tinception::DecodeMode::scaled;  // tinception_classify_file's
};
