// Format-1 to -5 classifier files for the tests that check they are still read: tinception
// wrote them before models recorded how they were trained (1), held fine-tuned layers (2),
// held test-time augmentation and feature standardisation (3), int8 ranges (4), and bf16
// features (5).
#pragma once
#include <cstdint>
#include <vector>

#include "byte_io.hpp"
#include "classify/classifier_model.hpp"
#include "weights/crc32.hpp"

namespace tinception::testing {

// `bytes` with the header's version, size and trailing checksum made to match.
inline std::vector<std::uint8_t> with_header(std::vector<std::uint8_t> bytes, std::uint32_t version) {
    store_le(bytes.data() + 8, version);
    store_le(bytes.data() + 12, std::uint64_t(bytes.size() + 4));
    const std::uint32_t crc = crc32(bytes.data(), bytes.size());
    for (int i = 0; i < 4; ++i) bytes.push_back(std::uint8_t(crc >> (8 * i)));
    return bytes;
}

// A later format's bytes of `m` less `cut` bytes just before the head, as format `version`.
inline std::vector<std::uint8_t> without_before_head(const std::vector<std::uint8_t>& later, const ClassifierModel& m,
                                                     std::size_t cut, std::uint32_t version) {
    const std::size_t head = (m.head.weights.size() + m.head.bias.size()) * 4 + 4;
    std::vector<std::uint8_t> bytes(later.begin(), later.end() - std::ptrdiff_t(head + cut));
    bytes.insert(bytes.end(), later.end() - std::ptrdiff_t(head), later.end() - 4);
    return with_header(std::move(bytes), version);
}

// A format-5 file of `m` without bf16 features: format 6's bytes less the zero bf16 flag.
inline std::vector<std::uint8_t> format5_bytes(const ClassifierModel& m) {
    ClassifierModel plain = m;
    plain.bf16_features = false;
    return without_before_head(serialize_classifier_model(plain), plain, 4, 5);
}

// A format-4 file of `m` in fp32: format 5's bytes less the zero int8 range count.
inline std::vector<std::uint8_t> format4_bytes(const ClassifierModel& m) {
    ClassifierModel plain = m;
    plain.int8_ranges.clear();
    return without_before_head(format5_bytes(plain), plain, 4, 4);
}

// A format-3 file of `m` without augmentation or standardisation: format 4's bytes less the
// two zero counts before the head, as tinception wrote models before they had them.
inline std::vector<std::uint8_t> format3_bytes(const ClassifierModel& m) {
    ClassifierModel plain = m;
    plain.augmentation = TestTimeAugmentation::none;
    plain.standardization = FeatureStandardization{};
    return without_before_head(format4_bytes(plain), plain, 8, 3);
}

// A format-2 file of `m` with nothing fine-tuned: format 3's bytes less the empty tuned-layer
// section (name and count).
inline std::vector<std::uint8_t> format2_bytes(const ClassifierModel& m) {
    ClassifierModel plain = m;
    plain.tuned = TunedLayers{};
    return without_before_head(format3_bytes(plain), plain, 8, 2);
}

// A format-1 file of `m`: format 2's bytes without the training record.
inline std::vector<std::uint8_t> format1_bytes(const ClassifierModel& m) {
    ClassifierModel bare = m;
    bare.training = TrainingRecord{};
    // The empty record: date (4), setting count (4), 12 per label, 4 + 4 + 4 + 4 + 4.
    return without_before_head(format2_bytes(bare), bare, 4 + 4 + 12 * m.labels.size() + 20, 1);
}

}  // namespace tinception::testing
