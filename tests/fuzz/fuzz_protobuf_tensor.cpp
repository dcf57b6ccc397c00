// libFuzzer target: the ONNX test harness's TensorProto and ModelProto readers on
// arbitrary bytes return a value or throw tinception::Error; never read out of bounds.
#include <cstddef>
#include <cstdint>

#include "error.hpp"
#include "onnx/onnx_model.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        tinception::onnx::parse_tensor(data, size, "fuzz tensor");
    } catch (const tinception::Error&) {
    }
    try {
        tinception::onnx::parse_model(data, size, "fuzz model");
    } catch (const tinception::Error&) {
    }
    return 0;
}
