// The trained classifier file: labels, which features it was trained on, and the softmax
// head. Our own format, all integers little-endian, floats IEEE-754 binary32 little-endian:
//
//   8   magic "TCLF\r\n\x1a\n" (text-mode mangling shows up as a wrong magic)
//   4   format version (1)
//   8   total file size in bytes (catches truncation first)
//   4   label count L (>= 2), then L strings
//   str feature layer name
//   4   feature size F
//   4   weights-file checksum (WeightFile::checksum(): CRC-32 of its table and data)
//   str weights file path: relative to the model file's folder, or absolute
//   4   preprocessing size, 1 align_corners (0/1), 4 scale (f32), 4 offset (f32)
//       format 2 only, the training record (TrainingRecord):
//   str training date; 4 setting count S, then S name and value strings
//   12*L images per split and label (training, validation, testing; u32 each)
//   4   test images, 4 test accuracy (f32); 4 folds, 4 mean and 4 stddev accuracy (f32)
//       format 3 and later (finetune/tuned_layers.hpp):
//   str the frozen layer a fine-tuned span starts after (empty: none); 4 count K; K tuned
//       convolutions (name, weight and bias counts, OIHW weights, bias), run in place of the
//       weight file's from that layer up to the feature layer
//       format 4 and later:
//   4   test-time augmentation: 0 none, 1 the mirror's scores averaged in (TestTimeAugmentation)
//   4   standardised features S (0: none, else F), then S means and S standard deviations (f32)
//       format 5 and later:
//   4   int8 activation ranges R (0: the features are fp32's), then R times: str layer, f32 range
//       (> 0, finite): the features come from the int8 network calibrated with them
//       format 6 and later:
//   4   bf16 features (0/1; 1 only when R is 0): the features come from the bf16 network
//   4*L*F head weights, row-major [L][F]; 4*L bias
//   4   CRC-32 of every byte before it
// A string is a u32 byte count and that many UTF-8 bytes, no terminator. Format 1 files
// (no training record), format 2 (nothing fine-tuned), format 3 (no augmentation, no
// standardisation), format 4 (fp32) and format 5 (fp32 or int8) are still read; this build
// writes format 6.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "classify/feature_standardization.hpp"
#include "classify/softmax_head.hpp"
#include "classify/split_counts.hpp"
#include "finetune/tuned_layers.hpp"
#include "image/preprocess.hpp"
#include "quant/activation_ranges.hpp"

namespace tinception {

// How a model was trained, for `tinception info MODEL`: written by train, absent
// (present == false) in a format-1 file.
struct TrainingRecord {
    bool present = false;
    std::string trained_at;  // ISO 8601 UTC, "2026-11-30T12:43:36Z"
    std::vector<std::pair<std::string, std::string>> settings;  // the report's settings, in order
    std::vector<SplitCounts> split_counts;                      // per label
    std::uint32_t test_count = 0;
    float test_accuracy = 0;
    std::uint32_t folds = 0;  // 0: no cross-validation
    float fold_mean = 0, fold_stddev = 0;
};

// What guess does besides scoring the image itself.
enum class TestTimeAugmentation : std::uint32_t { none = 0, flip = 1 };  // flip: average with the mirror's scores

struct ClassifierModel {
    std::vector<std::string> labels;
    std::string feature_layer;
    int feature_size = 0;
    std::uint32_t weights_checksum = 0;
    std::string weights_path;
    Preprocessing preprocessing;
    SoftmaxLayer head;  // head.n_classes == labels.size(), head.feature_size == feature_size
    TrainingRecord training;  // its split_counts, when present, parallel to labels
    TunedLayers tuned;        // the fine-tuned convolutions below the feature layer; empty: none
    FeatureStandardization standardization;  // applied to the raw features before the head
    TestTimeAugmentation augmentation = TestTimeAugmentation::none;
    ActivationRanges int8_ranges;  // empty: fp32 features; else int8's with these ranges
    bool bf16_features = false;    // the features come from the bf16 network (int8_ranges empty)
    std::uint32_t format_version = 0;  // of the file it was read from; 0 when not read

    // Probabilities for one raw feature vector of feature_size floats, in label order; with
    // `mirrored` (the features of the image mirrored left-right) the mean of both's.
    std::vector<float> predict(const float* features, const float* mirrored = nullptr) const;
};

std::vector<std::uint8_t> serialize_classifier_model(const ClassifierModel& model);
// `name` is used in error messages. Throws Error for wrong magic, unknown version, wrong
// size, checksum mismatch, or inconsistent fields; never reads out of bounds.
ClassifierModel parse_classifier_model(const std::uint8_t* data, std::size_t size, const std::string& name);

void save_classifier_model(const std::string& path, const ClassifierModel& model);  // atomic

// Where the weight file recorded in a model loaded from `model_path` is: a relative record
// is taken from the model file's folder, so a model moved with its weights still finds them.
std::string recorded_weights_location(const std::string& model_path, const ClassifierModel& model);
// What to record for `weights_path` in a model written to `model_path`: relative to the
// model's folder when the user gave it relative, else absolute.
std::string weights_path_to_record(const std::string& model_path, const std::string& weights_path);
ClassifierModel load_classifier_model(const std::string& path);

// One label per line, like retrain.py's retrained_labels.txt; written atomically.
std::string labels_file_text(const std::vector<std::string>& labels);
void write_labels_file(const std::string& path, const std::vector<std::string>& labels);

}  // namespace tinception
