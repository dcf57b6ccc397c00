// The C API (tinception.h) over Classifier: a model is one shared, immutable Classifier (model
// file + weights and their one packed copy, checked against each other there), a context one
// thread's FeatureExtractor (its activations and scratch).
// Every entry point catches everything; no exception crosses into C. Image decoding is only
// reached through tinception_classify_file.
#include "tinception.h"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "build_info.hpp"
#include "classify/classifier.hpp"
#include "error.hpp"
#include "file_io.hpp"
#include "image/image.hpp"
#include "model/feature_extractor.hpp"
#include "weights/weight_file.hpp"

namespace {

using namespace tinception;

constexpr std::int64_t kMaxPixels = 50'000'000;  // as ImageLimits: well past any camera, far from overflow

thread_local std::string t_last_error;

// A failure with the status the caller sees; anything else thrown is mapped in guarded().
struct Failure {
    tinception_status status;
    std::string message;
};

[[noreturn]] void fail(tinception_status status, std::string message) { throw Failure{status, std::move(message)}; }

tinception_status record(tinception_status status, const std::string& message) {
    try {
        t_last_error = message;
    } catch (...) {
        t_last_error.clear();  // no memory for the message; the status still says what happened
    }
    return status;
}

// Runs `body`; Error counts as `error_status` (what a refusal means at that call).
template <typename Body>
tinception_status guarded(tinception_status error_status, Body&& body) noexcept {
    try {
        body();
        return TINCEPTION_OK;
    } catch (const Failure& f) {
        return record(f.status, f.message);
    } catch (const Error& e) {
        switch (e.kind()) {
            case ErrorKind::internal: return record(TINCEPTION_INTERNAL_ERROR, e.what());
            case ErrorKind::unreadable: return record(TINCEPTION_IO_ERROR, e.what());
            case ErrorKind::out_of_memory: return record(TINCEPTION_OUT_OF_MEMORY, e.what());
            case ErrorKind::bad_input: break;
        }
        return record(error_status, e.what());
    } catch (const std::bad_alloc&) {
        return record(TINCEPTION_OUT_OF_MEMORY, "out of memory");
    } catch (const std::exception& e) {
        return record(TINCEPTION_INTERNAL_ERROR, std::string("internal error: ") + e.what());
    } catch (...) {
        return record(TINCEPTION_INTERNAL_ERROR, "internal error: unknown exception");
    }
}

}  // namespace

struct tinception_model {
    std::shared_ptr<const Classifier> classifier;
};

struct tinception_context {
    std::shared_ptr<const Classifier> classifier;  // keeps the weights the extractor views alive
    FeatureExtractor extractor;
    bool classifies = false;
    ImageRgb8 rgb;  // the caller's pixels, repacked as tight RGB
    std::vector<float> features;
    DecodeMode decode = DecodeMode::scaled;  // tinception_classify_file's
};

namespace {

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

std::size_t bytes_per_pixel(tinception_pixel_format format) {
    switch (format) {
        case TINCEPTION_RGB8: return 3;
        case TINCEPTION_BGR8: return 3;
        case TINCEPTION_RGBA8: return 4;
        case TINCEPTION_PIXEL_FORMAT_MAX_ENUM: break;
    }
    fail(TINCEPTION_INVALID_ARGUMENT, "pixel format " + std::to_string(int(format)) + " is not one of RGB8, RGBA8, BGR8");
}

// Checks the buffer description, then copies the pixels into the context as tight RGB.
void take_pixels(tinception_context* ctx, const std::uint8_t* pixels, int width, int height, std::size_t stride_bytes,
                 tinception_pixel_format format) {
    if (!pixels) fail(TINCEPTION_INVALID_ARGUMENT, "pixels is NULL");
    if (width < 1 || height < 1)
        fail(TINCEPTION_INVALID_ARGUMENT, "image is " + std::to_string(width) + "x" + std::to_string(height) +
                                              "; width and height must be at least 1");
    if (std::int64_t(width) * height > kMaxPixels)
        fail(TINCEPTION_INVALID_ARGUMENT, "image is " + std::to_string(width) + "x" + std::to_string(height) +
                                              ", more than the limit of " + std::to_string(kMaxPixels) + " pixels");
    const std::size_t bpp = bytes_per_pixel(format);
    const std::size_t row_bytes = std::size_t(width) * bpp;  // < 2^28: width <= kMaxPixels
    const std::size_t stride = stride_bytes == 0 ? row_bytes : stride_bytes;
    if (stride < row_bytes)
        fail(TINCEPTION_INVALID_ARGUMENT, "row stride " + std::to_string(stride) + " bytes is less than " +
                                              std::to_string(width) + " pixels x " + std::to_string(bpp) + " bytes");
    const std::size_t rows_before_last = std::size_t(height) - 1;
    if (rows_before_last != 0 && stride > (SIZE_MAX - row_bytes) / rows_before_last)
        fail(TINCEPTION_INVALID_ARGUMENT, "row stride " + std::to_string(stride) + " bytes times " +
                                              std::to_string(height) + " rows overflows the address space");
    const std::size_t span = stride * rows_before_last + row_bytes;
    if (reinterpret_cast<std::uintptr_t>(pixels) > UINTPTR_MAX - span)
        fail(TINCEPTION_INVALID_ARGUMENT, "the pixel buffer would run past the end of the address space");

    ImageRgb8& rgb = ctx->rgb;
    rgb.width = width;
    rgb.height = height;
    rgb.pixels.resize(std::size_t(width) * std::size_t(height) * 3);
    std::uint8_t* to = rgb.pixels.data();
    for (int y = 0; y < height; ++y) {
        const std::uint8_t* from = pixels + std::size_t(y) * stride;
        if (format == TINCEPTION_RGB8) {
            std::memcpy(to, from, row_bytes);
            to += row_bytes;
            continue;
        }
        for (int x = 0; x < width; ++x, from += bpp, to += 3) {
            const bool bgr = format == TINCEPTION_BGR8;
            to[0] = from[bgr ? 2 : 0];
            to[1] = from[1];
            to[2] = from[bgr ? 0 : 2];
        }
    }
}

// Runs the network on ctx->rgb; the features land in ctx->features.
void run_network(tinception_context* ctx) { ctx->extractor.extract(&ctx->rgb, 1, ctx->features.data()); }

// Classifies ctx->rgb as guess does (with the model's test-time augmentation).
void write_scores(tinception_context* ctx, float* scores) {
    const std::vector<float> p = ctx->classifier->probabilities(ctx->extractor, &ctx->rgb, 1);
    std::memcpy(scores, p.data(), p.size() * sizeof(float));
}

// Everything a classify call can refuse before any work is done.
void check_classify(const tinception_context* ctx, const float* scores, std::size_t scores_count) {
    if (!ctx) fail(TINCEPTION_INVALID_ARGUMENT, "context is NULL");
    if (!ctx->classifies)
        fail(TINCEPTION_UNSUPPORTED, "this context gives features of layer '" + ctx->extractor.layer() +
                                         "', but the classifier was trained on '" +
                                         ctx->classifier->model().feature_layer +
                                         "'; classify with a context from tinception_context_create");
    if (!scores) fail(TINCEPTION_INVALID_ARGUMENT, "scores is NULL");
    const std::size_t labels = ctx->classifier->model().labels.size();
    if (scores_count < labels)
        fail(TINCEPTION_INVALID_ARGUMENT, "scores has room for " + std::to_string(scores_count) +
                                              " values, the model has " + std::to_string(labels) + " labels");
}

}  // namespace

extern "C" {

const char* tinception_version(void) { return build_info::version; }

const char* tinception_status_name(tinception_status status) {
    switch (status) {
        case TINCEPTION_OK: return "ok";
        case TINCEPTION_INVALID_ARGUMENT: return "invalid argument";
        case TINCEPTION_IO_ERROR: return "input/output error";
        case TINCEPTION_BAD_FORMAT: return "bad format";
        case TINCEPTION_OUT_OF_MEMORY: return "out of memory";
        case TINCEPTION_UNSUPPORTED: return "unsupported";
        case TINCEPTION_INTERNAL_ERROR: return "internal error";
        case TINCEPTION_STATUS_MAX_ENUM: break;
    }
    return "unknown status";
}

const char* tinception_last_error(void) { return t_last_error.c_str(); }

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

tinception_status tinception_context_create_for_layer(const tinception_model* model, const char* layer,
                                                      tinception_context** out_context) {
    if (out_context) *out_context = nullptr;
    return guarded(TINCEPTION_BAD_FORMAT, [&] {
        if (!out_context) fail(TINCEPTION_INVALID_ARGUMENT, "out_context is NULL");
        if (!model) fail(TINCEPTION_INVALID_ARGUMENT, "model is NULL");
        if (!layer || !*layer) fail(TINCEPTION_INVALID_ARGUMENT, "layer is NULL or empty");
        const Classifier& classifier = *model->classifier;
        if (!classifier.has_layer(layer))
            fail(TINCEPTION_INVALID_ARGUMENT,
                 std::string("layer '") + layer + "' is not in " + classifier.weights().path());
        auto ctx = std::unique_ptr<tinception_context>(
            new tinception_context{model->classifier, classifier.extractor(layer), false, {}, {}, DecodeMode::scaled});
        ctx->classifies = ctx->extractor.layer() == classifier.model().feature_layer;
        ctx->features.resize(std::size_t(ctx->extractor.feature_size()));
        *out_context = ctx.release();
    });
}

tinception_status tinception_context_create(const tinception_model* model, tinception_context** out_context) {
    if (!model) {
        if (out_context) *out_context = nullptr;
        return record(TINCEPTION_INVALID_ARGUMENT, "model is NULL");
    }
    return tinception_context_create_for_layer(model, model->classifier->model().feature_layer.c_str(), out_context);
}

void tinception_context_destroy(tinception_context* context) { delete context; }

const char* tinception_context_layer(const tinception_context* context) {
    return context ? context->extractor.layer().c_str() : nullptr;
}

size_t tinception_context_feature_size(const tinception_context* context) {
    return context ? context->features.size() : 0;
}

tinception_status tinception_classify(tinception_context* context, const uint8_t* pixels, int width, int height,
                                      size_t stride_bytes, tinception_pixel_format format, float* scores,
                                      size_t scores_count) {
    return guarded(TINCEPTION_INVALID_ARGUMENT, [&] {
        check_classify(context, scores, scores_count);
        take_pixels(context, pixels, width, height, stride_bytes, format);
        write_scores(context, scores);
    });
}

tinception_status tinception_features(tinception_context* context, const uint8_t* pixels, int width, int height,
                                      size_t stride_bytes, tinception_pixel_format format, float* features,
                                      size_t features_count) {
    return guarded(TINCEPTION_INVALID_ARGUMENT, [&] {
        if (!context) fail(TINCEPTION_INVALID_ARGUMENT, "context is NULL");
        if (!features) fail(TINCEPTION_INVALID_ARGUMENT, "features is NULL");
        if (features_count < context->features.size())
            fail(TINCEPTION_INVALID_ARGUMENT, "features has room for " + std::to_string(features_count) +
                                                  " values, layer '" + context->extractor.layer() + "' gives " +
                                                  std::to_string(context->features.size()));
        take_pixels(context, pixels, width, height, stride_bytes, format);
        run_network(context);
        std::memcpy(features, context->features.data(), context->features.size() * sizeof(float));
    });
}

tinception_status tinception_context_set_decode_mode(tinception_context* context, tinception_decode_mode mode) {
    return guarded(TINCEPTION_INVALID_ARGUMENT, [&] {
        if (!context) fail(TINCEPTION_INVALID_ARGUMENT, "context is NULL");
        if (mode != TINCEPTION_DECODE_SCALED && mode != TINCEPTION_DECODE_EXACT)
            fail(TINCEPTION_INVALID_ARGUMENT, "unknown decode mode " + std::to_string(int(mode)));
        context->decode = mode == TINCEPTION_DECODE_EXACT ? DecodeMode::exact : DecodeMode::scaled;
    });
}

tinception_precision tinception_model_precision(const tinception_model* model) {
    return model && !model->classifier->model().int8_ranges.empty() ? TINCEPTION_PRECISION_INT8
                                                                     : TINCEPTION_PRECISION_FP32;
}

tinception_precision tinception_context_precision(const tinception_context* context) {
    return context && std::strcmp(context->extractor.precision(), "int8") == 0 ? TINCEPTION_PRECISION_INT8
                                                                                : TINCEPTION_PRECISION_FP32;
}

tinception_status tinception_context_set_precision(tinception_context* context, tinception_precision precision) {
    return guarded(TINCEPTION_UNSUPPORTED, [&] {
        if (!context) fail(TINCEPTION_INVALID_ARGUMENT, "context is NULL");
        if (precision == TINCEPTION_PRECISION_FP32) {
            context->extractor.use_fp32();
            return;
        }
        if (precision != TINCEPTION_PRECISION_INT8)
            fail(TINCEPTION_INVALID_ARGUMENT, "unknown precision " + std::to_string(int(precision)));
        const ClassifierModel& model = context->classifier->model();
        if (model.int8_ranges.empty())
            fail(TINCEPTION_UNSUPPORTED, "the model was trained in fp32 and holds no int8 calibration ranges; "
                                         "train it with 'tinception train --precision int8'");
        if (context->extractor.layer() != model.feature_layer)
            fail(TINCEPTION_UNSUPPORTED, "the model's int8 calibration covers its own layer '" + model.feature_layer +
                                             "', not this context's '" + context->extractor.layer() + "'");
        if (std::strcmp(context->extractor.precision(), "int8") != 0) context->extractor.use_int8(model.int8_ranges);
    });
}

tinception_status tinception_classify_file(tinception_context* context, const char* image_path, float* scores,
                                           size_t scores_count) {
    return guarded(TINCEPTION_BAD_FORMAT, [&] {
        check_classify(context, scores, scores_count);
        if (!image_path || !*image_path) fail(TINCEPTION_INVALID_ARGUMENT, "image_path is NULL or empty");
#ifdef TINCEPTION_HAVE_IMAGE_IO
        const std::vector<std::uint8_t> bytes = read_file_bytes(image_path);
        context->rgb = decode_image(bytes.data(), bytes.size(), image_path,
                                    decode_limits(context->extractor.preprocessing(), context->decode));
        write_scores(context, scores);
#else
        fail(TINCEPTION_UNSUPPORTED, std::string(image_path) +
                                         ": this build of tinception cannot decode image files (-Dimage_io=disabled); "
                                         "decode it yourself and call tinception_classify");
#endif
    });
}

size_t tinception_top_index(const float* scores, size_t count) {
    if (!scores) return 0;
    std::size_t best = 0;
    for (std::size_t i = 1; i < count; ++i)
        if (scores[i] > scores[best]) best = i;
    return best;
}

}  // extern "C"
