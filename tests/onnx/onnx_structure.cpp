// The checks of onnx_structure.hpp, in graph order, so the first problem names the node.
#include "onnx_structure.hpp"

#include <set>

namespace tinception::onnx {
namespace {

void check_typed(const ValueInfo& v, const char* role, std::vector<std::string>& problems) {
    if (v.name.empty()) problems.push_back(std::string("a graph ") + role + " has no name");
    if (v.elem_type == 0) problems.push_back(std::string("graph ") + role + " '" + v.name + "' has no element type");
    if (!v.has_shape) problems.push_back(std::string("graph ") + role + " '" + v.name + "' has no shape");
}

}  // namespace

std::vector<std::string> structural_problems(const Model& model) {
    std::vector<std::string> problems;
    if (model.ir_version <= 0) problems.push_back("no ir_version");
    if (model.opset <= 0) problems.push_back("no opset_import for the default domain");
    const Graph& g = model.graph;
    if (g.name.empty()) problems.push_back("the graph has no name");

    std::set<std::string> defined, initializers;
    const auto define = [&](const std::string& name, const std::string& what) {
        if (name.empty()) problems.push_back(what + " has an empty name");
        else if (!defined.insert(name).second) problems.push_back("'" + name + "' is defined twice (again by " + what + ")");
    };
    for (const Tensor& t : g.initializers) {
        if (!initializers.insert(t.name).second) problems.push_back("initializer '" + t.name + "' is named twice");
        if (t.data_type == kFloat && !t.external && t.values.size() != std::size_t(t.element_count()))
            problems.push_back("initializer '" + t.name + "' holds the wrong number of values");
    }
    for (const ValueInfo& v : g.inputs) {
        check_typed(v, "input", problems);
        if (!initializers.count(v.name)) define(v.name, "graph input '" + v.name + "'");
    }
    for (const Tensor& t : g.initializers) define(t.name, "initializer '" + t.name + "'");
    for (const Node& n : g.nodes) {
        const std::string what = n.op_type + " node '" + n.name + "'";
        if (n.op_type.empty()) problems.push_back("node '" + n.name + "' has no op_type");
        for (const std::string& in : n.inputs)
            if (!in.empty() && !defined.count(in))
                problems.push_back(what + " reads '" + in + "' before it is defined");
        for (const std::string& out : n.outputs) define(out, what);
    }
    if (g.outputs.empty()) problems.push_back("the graph has no outputs");
    for (const ValueInfo& v : g.outputs) {
        check_typed(v, "output", problems);
        if (!defined.count(v.name)) problems.push_back("graph output '" + v.name + "' is never computed");
    }
    return problems;
}

}  // namespace tinception::onnx
