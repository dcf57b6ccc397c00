// libFuzzer target: parse_classifier_model on arbitrary bytes returns a consistent model
// or throws tinception::Error. Also re-serialises what it accepted and parses it again.
#include <cstddef>
#include <cstdint>

#include "error.hpp"
#include "classify/classifier_model.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        const tinception::ClassifierModel m = tinception::parse_classifier_model(data, size, "fuzz");
        if (m.head.weights.size() != m.labels.size() * std::size_t(m.feature_size)) __builtin_trap();
        const std::vector<std::uint8_t> again = tinception::serialize_classifier_model(m);
        tinception::parse_classifier_model(again.data(), again.size(), "fuzz round trip");
    } catch (const tinception::Error&) {
    }
    return 0;
}
