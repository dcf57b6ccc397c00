// Format-1 classifier files for the tests that check they are still read: tinception wrote
// them before models recorded how they were trained.
#pragma once
#include <cstdint>
#include <vector>

#include "byte_io.hpp"
#include "classify/classifier_model.hpp"
#include "weights/crc32.hpp"

namespace tinception::testing {

// A format-1 file of `m`: the bytes without the training record or later sections, version 1, and
// the size and checksum made to match, as tinception wrote models before the record.
inline std::vector<std::uint8_t> format1_bytes(const ClassifierModel& m) {
    ClassifierModel bare = m;
    bare.training = TrainingRecord{};
    std::vector<std::uint8_t> v2 = serialize_classifier_model(bare);
    // The empty record: date (4), setting count (4), 12 per label, 4 + 4 + 4 + 4 + 4.
    const std::size_t record = 4 + 4 + 12 * m.labels.size() + 20;
    const std::size_t head = (m.head.weights.size() + m.head.bias.size()) * 4 + 4;
    const std::size_t tuned = 8;  // format 3's empty tuned-layer section: name and count
    std::vector<std::uint8_t> v1(v2.begin(), v2.end() - std::ptrdiff_t(head + tuned + record));
    v1.insert(v1.end(), v2.end() - std::ptrdiff_t(head), v2.end() - 4);
    store_le(v1.data() + 8, std::uint32_t(1));
    store_le(v1.data() + 12, std::uint64_t(v1.size() + 4));
    const std::uint32_t crc = crc32(v1.data(), v1.size());
    for (int i = 0; i < 4; ++i) v1.push_back(std::uint8_t(crc >> (8 * i)));
    return v1;
}

}  // namespace tinception::testing
