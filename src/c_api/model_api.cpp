// The C API's models (tinception.h): loading from files or memory, with or without the
// packed-weights cache, and what a model says about itself. Every entry point runs guarded().
#include <memory>
#include <string>
#include <utility>

#include "c_api/c_api_objects.hpp"
#include "c_api/c_api_status.hpp"
#include "classify/classifier_model.hpp"
#include "weights/weight_file.hpp"

namespace {

using namespace tinception;
using tinception::c_api::fail;
using tinception::c_api::guarded;

void create_model(Classifier classifier, tinception_model** out) {
    auto model = std::make_unique<tinception_model>();
    model->classifier = std::make_shared<const Classifier>(std::move(classifier));
    model->classifier->packed_weights();  // the weights checked and packed (or mapped) at load
    *out = model.release();
}

// The weights from `weights_path`, or from the path the model names when that is NULL or "".
void load_model(ClassifierModel classifier, const std::string& name, const char* weights_path,
                const PackedCacheChoice& cache, tinception_model** out) {
    const std::string path = weights_path && *weights_path ? weights_path : recorded_weights_location(name, classifier);
    auto weights = std::make_shared<const WeightFile>(WeightFile::open(path, DataCheck::deferred));
    create_model(Classifier(std::move(classifier), std::move(weights), name, cache), out);
}

PackedCacheChoice cache_choice(const tinception_load_options* options) {
    PackedCacheChoice choice;
    if (!options) return choice;
    choice.use = options->no_packed_cache == 0;
    if (options->packed_cache_dir) choice.dir = options->packed_cache_dir;
    return choice;
}

}  // namespace

extern "C" {

tinception_status tinception_model_load(const char* model_path, const char* weights_path, tinception_model** out_model) {
    if (out_model) *out_model = nullptr;
    return guarded(TINCEPTION_BAD_FORMAT, [&] {
        if (!out_model) fail(TINCEPTION_INVALID_ARGUMENT, "out_model is NULL");
        if (!model_path || !*model_path) fail(TINCEPTION_INVALID_ARGUMENT, "model_path is NULL or empty");
        load_model(load_classifier_model(model_path), model_path, weights_path, {}, out_model);
    });
}

tinception_status tinception_model_load_with_options(const char* model_path, const char* weights_path,
                                                     const tinception_load_options* options,
                                                     tinception_model** out_model) {
    if (out_model) *out_model = nullptr;
    return guarded(TINCEPTION_BAD_FORMAT, [&] {
        if (!out_model) fail(TINCEPTION_INVALID_ARGUMENT, "out_model is NULL");
        if (!model_path || !*model_path) fail(TINCEPTION_INVALID_ARGUMENT, "model_path is NULL or empty");
        load_model(load_classifier_model(model_path), model_path, weights_path, cache_choice(options), out_model);
    });
}

tinception_status tinception_model_load_from_memory(const void* model_bytes, size_t model_size,
                                                    const char* weights_path, tinception_model** out_model) {
    if (out_model) *out_model = nullptr;
    return guarded(TINCEPTION_BAD_FORMAT, [&] {
        if (!out_model) fail(TINCEPTION_INVALID_ARGUMENT, "out_model is NULL");
        if (!model_bytes) fail(TINCEPTION_INVALID_ARGUMENT, "model_bytes is NULL");
        ClassifierModel m =
            parse_classifier_model(static_cast<const std::uint8_t*>(model_bytes), model_size, "model in memory");
        load_model(std::move(m), "model in memory", weights_path, {}, out_model);
    });
}

tinception_status tinception_model_load_from_memory_with_weights(const void* model_bytes, size_t model_size,
                                                                 const void* weight_bytes, size_t weight_size,
                                                                 tinception_model** out_model) {
    if (out_model) *out_model = nullptr;
    return guarded(TINCEPTION_BAD_FORMAT, [&] {
        if (!out_model) fail(TINCEPTION_INVALID_ARGUMENT, "out_model is NULL");
        if (!model_bytes) fail(TINCEPTION_INVALID_ARGUMENT, "model_bytes is NULL");
        if (!weight_bytes) fail(TINCEPTION_INVALID_ARGUMENT, "weight_bytes is NULL");
        ClassifierModel m =
            parse_classifier_model(static_cast<const std::uint8_t*>(model_bytes), model_size, "model in memory");
        auto weights =
            std::make_shared<const WeightFile>(WeightFile::from_memory(weight_bytes, weight_size, "weights in memory"));
        create_model(Classifier(std::move(m), std::move(weights), "model in memory"), out_model);
    });
}

void tinception_model_destroy(tinception_model* model) { delete model; }

size_t tinception_model_label_count(const tinception_model* model) {
    return model ? model->classifier->model().labels.size() : 0;
}

const char* tinception_model_label(const tinception_model* model, size_t index) {
    if (!model || index >= model->classifier->model().labels.size()) return nullptr;
    return model->classifier->model().labels[index].c_str();
}

const char* tinception_model_feature_layer(const tinception_model* model) {
    return model ? model->classifier->model().feature_layer.c_str() : nullptr;
}

size_t tinception_model_feature_size(const tinception_model* model) {
    return model ? std::size_t(model->classifier->model().feature_size) : 0;
}

tinception_precision tinception_model_precision(const tinception_model* model) {
    if (!model) return TINCEPTION_PRECISION_FP32;
    const ClassifierModel& m = model->classifier->model();
    return !m.int8_ranges.empty() ? TINCEPTION_PRECISION_INT8
           : m.bf16_features      ? TINCEPTION_PRECISION_BF16
                                  : TINCEPTION_PRECISION_FP32;
}

}  // extern "C"
