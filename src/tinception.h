/* tinception's embeddable C API: load a classifier trained with `tinception train`, then
 * classify pixel buffers or take their Inception v3 features. No exceptions, no globals the
 * caller must set up; every failure is a status code plus a message.
 *
 * Objects
 *   tinception_model    the trained classifier (labels, softmax head) and the Inception v3
 *                       weights it was trained on. Immutable after loading: one model may be
 *                       used from any number of threads at once.
 *   tinception_context  what one classification needs besides the model: the network, its
 *                       packed weights and activation scratch (a few hundred MB). A context is
 *                       used by one thread at a time; give each thread its own. A context keeps
 *                       its model alive, so the model may be destroyed before its contexts.
 *
 * Errors
 *   Every function returning tinception_status returns TINCEPTION_OK (0) on success. On
 *   failure it also stores a one-sentence message for the calling thread, read with
 *   tinception_last_error(); it stays valid until the next failing call on that thread.
 *   Output arguments are left untouched on failure (an output handle is set to NULL).
 *
 * Pixels
 *   A pixel buffer is height rows of width pixels, top row first. Rows start stride_bytes
 *   apart (stride_bytes >= width * bytes per pixel; 0 means exactly width * bytes per pixel,
 *   no padding). Only the first width * bytes-per-pixel bytes of a row are read, and the last
 *   row need not be padded. Alpha is ignored. Any size up to 50,000,000 pixels is accepted;
 *   images are resized (bilinear) to the network's 299x299 input.
 */
#ifndef TINCEPTION_H
#define TINCEPTION_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum tinception_status {
    TINCEPTION_OK = 0,
    TINCEPTION_INVALID_ARGUMENT = 1, /* NULL pointer, bad size, stride, format or buffer length */
    TINCEPTION_IO_ERROR = 2,         /* a file could not be opened or read */
    TINCEPTION_BAD_FORMAT = 3,       /* a model or weight file was refused (corrupt, mismatched) */
    TINCEPTION_OUT_OF_MEMORY = 4,
    TINCEPTION_UNSUPPORTED = 5,      /* not in this build (e.g. image files without image_io),
                                        or not possible with this context (classify on a
                                        context made for another layer) */
    TINCEPTION_INTERNAL_ERROR = 6,
    TINCEPTION_STATUS_MAX_ENUM = 0x7FFFFFFF /* not a status: makes every int value a valid one */
} tinception_status;

typedef enum tinception_pixel_format {
    TINCEPTION_RGB8 = 0,  /* 3 bytes a pixel: R, G, B */
    TINCEPTION_RGBA8 = 1, /* 4 bytes a pixel: R, G, B, A (A ignored) */
    TINCEPTION_BGR8 = 2,  /* 3 bytes a pixel: B, G, R (OpenCV's default) */
    TINCEPTION_PIXEL_FORMAT_MAX_ENUM = 0x7FFFFFFF /* not a format: lets C++ take any int a C
                                                     caller passes, then refuse it */
} tinception_pixel_format;

typedef struct tinception_model tinception_model;
typedef struct tinception_context tinception_context;

/* Library version, e.g. "0.1.0". */
const char* tinception_version(void);

/* A fixed English name for a status ("invalid argument", ...); never NULL. */
const char* tinception_status_name(tinception_status status);

/* The calling thread's message for its last failed call; "" when none. Never NULL. */
const char* tinception_last_error(void);

/* Loads a model file (.tcm) and the weight file (.tcw) it was trained on. weights_path NULL
 * or "" uses the path stored in the model. The weights must have the checksum the model was
 * trained with. On success *out_model is a new model; destroy it with tinception_model_destroy.
 * The weights' kernel-layout (packed) copy comes from the packed-weights cache in the default
 * folder ($XDG_CACHE_HOME/tinception/packed, else ~/.cache/tinception/packed): the first load
 * of a weight file on a machine builds it (checking every weight against the file's checksum),
 * later loads map it. tinception_model_load_with_options chooses. */
tinception_status tinception_model_load(const char* model_path, const char* weights_path,
                                        tinception_model** out_model);

/* How a model gets its packed weights; zero-initialise, then set what differs. */
typedef struct tinception_load_options {
    /* Non-zero: no cache file is read or written; the weights are checked and packed in
     * memory at every load. */
    int no_packed_cache;
    /* The cache folder (created when missing); NULL or "": the default folder above. A folder
     * that cannot be written is no error: the weights are then packed in memory. */
    const char* packed_cache_dir;
} tinception_load_options;

/* tinception_model_load with options; NULL options: the defaults, as tinception_model_load. */
tinception_status tinception_model_load_with_options(const char* model_path, const char* weights_path,
                                                     const tinception_load_options* options,
                                                     tinception_model** out_model);

/* As tinception_model_load, with the model file's bytes in memory (copied; the buffer may be
 * freed after the call). The weights come from weights_path, or the path stored in the model
 * when it is NULL or "". */
tinception_status tinception_model_load_from_memory(const void* model_bytes, size_t model_size,
                                                    const char* weights_path,
                                                    tinception_model** out_model);

/* Both files from memory. The weight bytes are copied into an aligned buffer the model owns,
 * so the caller may free them after the call. */
tinception_status tinception_model_load_from_memory_with_weights(const void* model_bytes, size_t model_size,
                                                                 const void* weight_bytes, size_t weight_size,
                                                                 tinception_model** out_model);

/* NULL is ignored. Contexts made from the model stay usable. */
void tinception_model_destroy(tinception_model* model);

/* Number of labels (>= 2); 0 for NULL. */
size_t tinception_model_label_count(const tinception_model* model);

/* Label `index` in the model's order (the order of tinception_classify's scores), UTF-8,
 * valid while the model or any of its contexts lives; NULL when model is NULL or index is
 * out of range. */
const char* tinception_model_label(const tinception_model* model, size_t index);

/* The layer the classifier was trained on ("mixed3,mixed5,mixed7" by default: three layers
 * side by side) and its feature count (3 x 768 = 2304 for those); NULL / 0 for NULL. */
const char* tinception_model_feature_layer(const tinception_model* model);
size_t tinception_model_feature_size(const tinception_model* model);

/* A context that classifies and gives features of the model's feature layer. */
tinception_status tinception_context_create(const tinception_model* model, tinception_context** out_context);

/* A context whose features come from another Inception v3 layer, e.g. "mixed10" (2048
 * features, the last pooled layer) or "mixed7". Such a context classifies only when `layer`
 * is the model's feature layer; otherwise tinception_classify returns TINCEPTION_UNSUPPORTED.
 * An unknown layer name gives TINCEPTION_INVALID_ARGUMENT. */
tinception_status tinception_context_create_for_layer(const tinception_model* model, const char* layer,
                                                      tinception_context** out_context);

/* NULL is ignored. */
void tinception_context_destroy(tinception_context* context);

/* The context's layer and its feature count; NULL / 0 for NULL. */
const char* tinception_context_layer(const tinception_context* context);
size_t tinception_context_feature_size(const tinception_context* context);

/* Writes one probability per label, in label order, into scores[0 .. label count). scores_count
 * must be at least the label count (extra entries are left alone). */
tinception_status tinception_classify(tinception_context* context, const uint8_t* pixels, int width, int height,
                                      size_t stride_bytes, tinception_pixel_format format, float* scores,
                                      size_t scores_count);

/* Writes the context layer's features, global-average-pooled, into features[0 .. feature
 * size); features_count must be at least tinception_context_feature_size(context). */
tinception_status tinception_features(tinception_context* context, const uint8_t* pixels, int width, int height,
                                      size_t stride_bytes, tinception_pixel_format format, float* features,
                                      size_t features_count);

/* How tinception_classify_file decodes a JPEG. TINCEPTION_DECODE_SCALED, a new context's:
 * shrunk in the DCT (libjpeg-turbo) to no less than the network's input size, several times
 * faster on large photos, with features very close to a full-size decode's (as the command
 * line by default). TINCEPTION_DECODE_EXACT: at full size, the reference (as --exact-decode). */
typedef enum tinception_decode_mode {
    TINCEPTION_DECODE_SCALED = 0,
    TINCEPTION_DECODE_EXACT = 1,
    TINCEPTION_DECODE_MODE_MAX_ENUM = 0x7FFFFFFF /* not a mode: lets C++ take any int, then refuse it */
} tinception_decode_mode;

/* Sets the context's decode mode; TINCEPTION_INVALID_ARGUMENT for NULL or an unknown mode. */
tinception_status tinception_context_set_decode_mode(tinception_context* context, tinception_decode_mode mode);

/* Which network a context runs. TINCEPTION_PRECISION_FP32: float32 throughout.
 * TINCEPTION_PRECISION_INT8: 8-bit activations and weights with 32-bit sums, on the
 * calibration ranges a model trained with `tinception train --precision int8` stores (a
 * context on its feature layer starts in int8). TINCEPTION_PRECISION_BF16: convolutions on
 * bfloat16 inputs and weights with float32 sums, on CPUs with AVX-512 BF16 (a context on the
 * feature layer of a model trained with `--precision bf16` starts in bf16 on such a CPU, in
 * fp32 elsewhere). */
typedef enum tinception_precision {
    TINCEPTION_PRECISION_FP32 = 0,
    TINCEPTION_PRECISION_INT8 = 1,
    TINCEPTION_PRECISION_BF16 = 2,
    TINCEPTION_PRECISION_MAX_ENUM = 0x7FFFFFFF /* not a precision: lets C++ take any int, then refuse it */
} tinception_precision;

/* The precision the model was trained in (INT8 when it stores calibration ranges, BF16 when
 * trained on bf16 features); FP32 for NULL. */
tinception_precision tinception_model_precision(const tinception_model* model);

/* The precision the context runs; FP32 for NULL. */
tinception_precision tinception_context_precision(const tinception_context* context);

/* Switches the context's network. FP32 is always possible (an int8 or bf16 model's head then
 * reads float32 features, which it was not trained on: close, not equal). INT8 needs
 * calibration ranges: TINCEPTION_UNSUPPORTED on a model trained in fp32, or on a context of
 * another layer than the model's. BF16 needs AVX-512 BF16 (TINCEPTION_UNSUPPORTED otherwise,
 * and for a model with fine-tuned layers). TINCEPTION_INVALID_ARGUMENT for NULL or an unknown
 * precision. */
tinception_status tinception_context_set_precision(tinception_context* context, tinception_precision precision);

/* tinception_classify on an image file (JPEG, PNG, BMP, GIF). Returns TINCEPTION_UNSUPPORTED
 * in a build made with -Dimage_io=disabled. */
tinception_status tinception_classify_file(tinception_context* context, const char* image_path, float* scores,
                                           size_t scores_count);

/* Index of the highest score (the first on ties); 0 when count is 0 or scores is NULL. */
size_t tinception_top_index(const float* scores, size_t count);

#ifdef __cplusplus
}
#endif

#endif /* TINCEPTION_H */
