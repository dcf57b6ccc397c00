// The C API's contexts (tinception.h): made from a model for its layer or another, they take
// the caller's pixels (or, with image_io, a file), run the network and give scores or
// features. Every entry point runs guarded(); image decoding is only reached through
// tinception_classify_file.
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "bf16/conv2d_bf16.hpp"
#include "c_api/c_api_objects.hpp"
#include "c_api/c_api_status.hpp"
#include "file_io.hpp"

namespace {

using namespace tinception;
using tinception::c_api::fail;
using tinception::c_api::guarded;
using tinception::c_api::record;

constexpr std::int64_t kMaxPixels = 50'000'000;  // as ImageLimits: well past any camera, far from overflow

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
        ctx->extractor.prepare();  // a context that cannot run fails here, not at its first image
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

tinception_precision tinception_context_precision(const tinception_context* context) {
    if (!context) return TINCEPTION_PRECISION_FP32;
    const std::string precision = context->extractor.precision();
    return precision == "int8"   ? TINCEPTION_PRECISION_INT8
           : precision == "bf16" ? TINCEPTION_PRECISION_BF16
                                 : TINCEPTION_PRECISION_FP32;
}

tinception_status tinception_context_set_precision(tinception_context* context, tinception_precision precision) {
    return guarded(TINCEPTION_UNSUPPORTED, [&] {
        if (!context) fail(TINCEPTION_INVALID_ARGUMENT, "context is NULL");
        if (precision == TINCEPTION_PRECISION_FP32) {
            context->extractor.use_fp32();
            context->extractor.prepare();
            return;
        }
        if (precision == TINCEPTION_PRECISION_BF16) {
            if (!kernels::avx512_bf16_kernels())
                fail(TINCEPTION_UNSUPPORTED, "bf16 needs a CPU with AVX-512 BF16, which this one lacks");
            if (std::strcmp(context->extractor.precision(), "bf16") != 0)
                context->extractor.use_bf16(context->classifier->packed_cache());
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
        if (std::strcmp(context->extractor.precision(), "int8") != 0)
            context->extractor.use_int8(model.int8_ranges, context->classifier->packed_cache());
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
