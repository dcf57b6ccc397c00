// Runs one ONNX node on one of our kernel tables, for the conformance test. Knows the
// operators in kOpsInScope; anything they need that our kernels cannot express is refused
// with NotApplicable, never approximated.
#pragma once
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "kernel_table.hpp"
#include "onnx_model.hpp"

namespace tinception::onnx {

// Thrown by run_node when the case needs something our kernels do not do.
struct NotApplicable {
    std::string reason;
};

// The operators run_node knows.
inline const std::set<std::string> kOpsInScope = {
    "Conv", "MaxPool", "AveragePool", "Relu", "Concat", "Softmax", "Gemm", "MatMul",
    "BatchNormalization", "GlobalAveragePool"};

using Inputs = std::vector<const Tensor*>;  // in the node's input order; nullptr when omitted

// The node's single output, computed with `table`. Throws NotApplicable, or Error on
// inputs that contradict the node.
Tensor run_node(const Node& node, const Inputs& in, const kernels::KernelTable& table,
                std::int64_t opset);

}  // namespace tinception::onnx
