// ONNX's structural rules (onnx/checker.cc) as far as our reader sees a model: a version
// and an opset, typed and shaped graph inputs and outputs, initialisers named once, every
// value defined once, and every node input defined before the node that reads it.
#pragma once
#include <string>
#include <vector>

#include "onnx_model.hpp"

namespace tinception::onnx {

// One line per broken rule; empty when the model passes.
std::vector<std::string> structural_problems(const Model& model);

}  // namespace tinception::onnx
