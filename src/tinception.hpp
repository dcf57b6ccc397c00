// A thin C++17 layer over tinception.h: RAII handles and exceptions on the caller's side of
// the boundary. Header-only; the library itself exposes only the C functions.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "tinception.h"

namespace tinception::api {

// A failed call: the status and the library's message for it.
class Error : public std::runtime_error {
public:
    Error(tinception_status status, const std::string& message)
        : std::runtime_error(message), status_(status) {}
    tinception_status status() const { return status_; }

private:
    tinception_status status_;
};

inline void check(tinception_status status) {
    if (status != TINCEPTION_OK) throw Error(status, tinception_last_error());
}

struct LabelScore {
    std::string label;
    float score = 0;
};

// Shareable across threads; copies share one loaded model.
class Model {
public:
    explicit Model(const std::string& model_path, const std::string& weights_path = "") {
        tinception_model* raw = nullptr;
        check(tinception_model_load(model_path.c_str(), weights_path.c_str(), &raw));
        handle_.reset(raw, tinception_model_destroy);
    }
    // The same with the packed-weights cache chosen (tinception_load_options).
    Model(const std::string& model_path, const std::string& weights_path, const tinception_load_options& options) {
        tinception_model* raw = nullptr;
        check(tinception_model_load_with_options(model_path.c_str(), weights_path.c_str(), &options, &raw));
        handle_.reset(raw, tinception_model_destroy);
    }
    static Model from_memory(const void* model_bytes, std::size_t model_size, const std::string& weights_path = "") {
        tinception_model* raw = nullptr;
        check(tinception_model_load_from_memory(model_bytes, model_size, weights_path.c_str(), &raw));
        return Model(raw);
    }
    static Model from_memory(const void* model_bytes, std::size_t model_size, const void* weight_bytes,
                             std::size_t weight_size) {
        tinception_model* raw = nullptr;
        check(tinception_model_load_from_memory_with_weights(model_bytes, model_size, weight_bytes, weight_size, &raw));
        return Model(raw);
    }

    std::vector<std::string> labels() const {
        std::vector<std::string> out;
        for (std::size_t i = 0; i < tinception_model_label_count(get()); ++i)
            out.emplace_back(tinception_model_label(get(), i));
        return out;
    }
    std::string feature_layer() const { return tinception_model_feature_layer(get()); }
    std::size_t feature_size() const { return tinception_model_feature_size(get()); }
    const tinception_model* get() const { return handle_.get(); }

private:
    explicit Model(tinception_model* raw) : handle_(raw, tinception_model_destroy) {}
    std::shared_ptr<tinception_model> handle_;
};

// One per thread. Movable, not copyable.
class Context {
public:
    explicit Context(const Model& model) {
        tinception_context* raw = nullptr;
        check(tinception_context_create(model.get(), &raw));
        handle_.reset(raw);
        labels_ = tinception_model_label_count(model.get());
    }
    Context(const Model& model, const std::string& layer) {
        tinception_context* raw = nullptr;
        check(tinception_context_create_for_layer(model.get(), layer.c_str(), &raw));
        handle_.reset(raw);
        labels_ = tinception_model_label_count(model.get());
    }

    // Probabilities in label order.
    std::vector<float> scores(const std::uint8_t* pixels, int width, int height, std::size_t stride_bytes = 0,
                              tinception_pixel_format format = TINCEPTION_RGB8) {
        std::vector<float> out(labels_);
        check(tinception_classify(get(), pixels, width, height, stride_bytes, format, out.data(), out.size()));
        return out;
    }
    std::vector<float> features(const std::uint8_t* pixels, int width, int height, std::size_t stride_bytes = 0,
                                tinception_pixel_format format = TINCEPTION_RGB8) {
        std::vector<float> out(tinception_context_feature_size(get()));
        check(tinception_features(get(), pixels, width, height, stride_bytes, format, out.data(), out.size()));
        return out;
    }
    // How image files are decoded (tinception_context_set_decode_mode).
    void set_decode_mode(tinception_decode_mode mode) { check(tinception_context_set_decode_mode(get(), mode)); }
    // Which network the context runs (tinception_context_set_precision).
    void set_precision(tinception_precision precision) { check(tinception_context_set_precision(get(), precision)); }
    tinception_precision precision() const { return tinception_context_precision(get()); }
    std::string layer() const { return tinception_context_layer(get()); }
    tinception_context* get() const { return handle_.get(); }

private:
    struct Destroy {
        void operator()(tinception_context* c) const { tinception_context_destroy(c); }
    };
    std::unique_ptr<tinception_context, Destroy> handle_;
    std::size_t labels_ = 0;
};

}  // namespace tinception::api
