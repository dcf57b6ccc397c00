// TF.js Keras model -> .tcw: folds each BatchNormalization into its Conv2D, fuses a following
// relu, transposes kernels to OIHW, drops Dropout, and cuts the head after the last Flatten
// unless asked to keep it. The command-line wrapper is main.cpp.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "tfjs_model.hpp"
#include "weights/weight_file_writer.hpp"

namespace tinception::convert {

inline constexpr const char* kConverterVersion = "1";

struct ConvertOptions {
    std::string model_json;
    std::string out_path;
    bool force = false;        // overwrite an existing output
    bool keep_head = false;    // keep the Dense layers after the last Flatten
    std::string source;        // metadata "source"; defaults to the model.json path
    std::string labels;        // metadata "labels" (newline-separated), omitted when empty
    // What pixel values 0 and 255 become at the network's input, e.g. {0, 1} (nsfwjs's
    // model) or {-1, 1} (keras.applications' InceptionV3). A model.json does not record it
    // unless it starts with a Rescaling layer; with neither, conversion is refused.
    std::optional<std::pair<double, double>> input_range;
    // Keep the source's uint8 tensors as they are and each batch normalisation beside its conv,
    // folded at load: the 8-bit file (format 3), expanding to the float32 file bit for bit.
    bool uint8 = false;
};

struct ConvertSummary {
    std::map<std::string, int> layers_by_op;
    std::size_t tensor_count = 0;
    std::uint64_t parameter_count = 0;
    std::uint64_t file_size = 0;
    std::uint32_t checksum = 0;       // of the float32 file (an 8-bit file's expands to it)
    std::uint32_t file_checksum = 0;  // of the file written
    std::uint32_t format_version = 0;
};

// The whole network as a writer, ready to serialise (the 8-bit file's with options.uint8). Throws Error (bad input) naming the
// layer or weight that cannot be converted.
WeightFileWriter build_weight_file(const TfjsModel& model, const ConvertOptions& options);

// Loads, converts, writes `<out>.tmp`, re-opens it to verify, then renames it to `out`.
// Refuses to overwrite an existing `out` unless options.force.
ConvertSummary convert_weights(const ConvertOptions& options);

}  // namespace tinception::convert
