// ONNX's own single-operator test cases (Debian's libonnx-testdata) run through our kernels:
// the reference table and every other available table. The expected outputs come from ONNX,
// not from us. Cases our kernels cannot express are listed as not applicable, with the reason.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "check_close.hpp"
#include "error.hpp"
#include "kernel_dispatch.hpp"
#include "onnx/onnx_model.hpp"
#include "onnx/onnx_node_runner.hpp"

using namespace tinception;
using kernels::KernelTable;
using onnx::Inputs;
using onnx::NotApplicable;
namespace fs = std::filesystem;

namespace {

const char* const kNodeTestDir = "/usr/share/libonnx-testdata/data/node";
constexpr int kMinimumCasesRun = 30;

std::string shape_text(const std::vector<std::int64_t>& dims) {
    std::string s;
    for (const std::int64_t d : dims) s += (s.empty() ? "" : "x") + std::to_string(d);
    return s.empty() ? "scalar" : s;
}

// Reasons a case cannot run, found from the model alone.
void check_model_applicable(const onnx::Model& model) {
    const onnx::Node& node = model.graph.nodes.front();
    if (!node.domain.empty() && node.domain != "ai.onnx") throw NotApplicable{"domain " + node.domain};
    if (node.outputs.size() != 1)
        throw NotApplicable{std::to_string(node.outputs.size()) + " outputs (only a single output is supported)"};
    for (const onnx::ValueInfo& v : model.graph.inputs) {
        if (v.elem_type != onnx::kFloat)
            throw NotApplicable{"input '" + v.name + "' has element type " + std::to_string(v.elem_type) + ", not float"};
        if (v.has_symbolic_dim()) throw NotApplicable{"input '" + v.name + "' has a dynamic shape"};
    }
    for (const onnx::ValueInfo& v : model.graph.outputs)
        if (v.elem_type != onnx::kFloat)
            throw NotApplicable{"output '" + v.name + "' has element type " + std::to_string(v.elem_type) + ", not float"};
}

std::vector<fs::path> sorted_entries(const fs::path& dir, const std::string& prefix) {
    std::vector<fs::path> out;
    for (const fs::directory_entry& e : fs::directory_iterator(dir))
        if (e.path().filename().string().rfind(prefix, 0) == 0) out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

enum class Outcome { passed, failed, not_applicable };

// Runs one test directory through every table; reports failures and returns the outcome.
Outcome run_case(const fs::path& dir, const onnx::Model& model,
                 const std::vector<const KernelTable*>& tables, std::string& message) {
    const onnx::Node& node = model.graph.nodes.front();
    try {
        check_model_applicable(model);
        std::map<std::string, const onnx::Tensor*> values;
        for (const onnx::Tensor& t : model.graph.initializers) values[t.name] = &t;
        bool all_passed = true;
        for (const fs::path& set : sorted_entries(dir, "test_data_set_")) {
            std::vector<onnx::Tensor> given, expected;
            for (const fs::path& p : sorted_entries(set, "input_")) given.push_back(onnx::read_tensor_file(p.string()));
            for (const fs::path& p : sorted_entries(set, "output_")) expected.push_back(onnx::read_tensor_file(p.string()));
            // input_<i>.pb feeds the i-th graph input not already set by an initializer
            std::map<std::string, const onnx::Tensor*> feed = values;
            std::size_t next = 0;
            for (const onnx::ValueInfo& v : model.graph.inputs)
                if (!feed.count(v.name) && next < given.size()) feed[v.name] = &given[next++];
            Inputs in;
            for (const std::string& name : node.inputs) in.push_back(name.empty() ? nullptr : feed.at(name));
            for (const onnx::Tensor* t : in)
                if (t && t->data_type != onnx::kFloat) throw NotApplicable{"non-float input '" + t->name + "'"};
            if (expected.size() != 1) throw NotApplicable{std::to_string(expected.size()) + " expected outputs"};
            for (const KernelTable* table : tables) {
                const onnx::Tensor actual = onnx::run_node(node, in, *table, model.opset);
                const onnx::Tensor& want = expected.front();
                std::string problem;
                if (actual.dims != want.dims) {
                    problem = "shape " + shape_text(actual.dims) + ", expected " + shape_text(want.dims);
                } else {
                    const testing::CloseReport r = testing::compare_close(
                        want.values.data(), actual.values.data(), want.values.size(),
                        testing::Tolerance{1e-5, 1e-4});
                    problem = r.text;
                }
                if (!problem.empty()) {
                    all_passed = false;
                    message += "FAILED " + dir.filename().string() + " (" + set.filename().string() +
                               ", " + table->isa_name + "): " + problem + "\n";
                }
            }
        }
        return all_passed ? Outcome::passed : Outcome::failed;
    } catch (const NotApplicable& na) {
        message = "NOT APPLICABLE " + dir.filename().string() + " (" + node.op_type + "): " + na.reason;
        return Outcome::not_applicable;
    } catch (const std::exception& e) {
        message = "FAILED " + dir.filename().string() + ": " + e.what();
        return Outcome::failed;
    }
}

}  // namespace

TEST_CASE("onnx conformance: single-operator node tests on every kernel table") {
    REQUIRE_MESSAGE(fs::is_directory(kNodeTestDir),
                    kNodeTestDir << " is missing; install Debian's libonnx-testdata");
    const std::vector<const KernelTable*> tables = available_kernel_tables();
    std::string table_names;
    for (const KernelTable* t : tables) table_names += std::string(" ") + t->isa_name;
    MESSAGE("onnx conformance on kernel tables:" << table_names);

    int ran = 0, passed = 0, not_applicable = 0, out_of_scope = 0, unreadable = 0;
    for (const fs::path& dir : sorted_entries(kNodeTestDir, "test_")) {
        const fs::path model_path = dir / "model.onnx";
        if (!fs::exists(model_path)) continue;
        onnx::Model model;
        try {
            model = onnx::read_model_file(model_path.string());
        } catch (const std::exception& e) {
            ++unreadable;
            FAIL_CHECK("could not read " << model_path.string() << ": " << e.what());
            continue;
        }
        if (model.graph.nodes.size() != 1 || !onnx::kOpsInScope.count(model.graph.nodes.front().op_type)) {
            ++out_of_scope;
            continue;
        }
        std::string message;
        switch (run_case(dir, model, tables, message)) {
            case Outcome::passed: ++ran, ++passed; break;
            case Outcome::failed: ++ran; FAIL_CHECK(message); break;
            case Outcome::not_applicable: ++not_applicable; MESSAGE(message); break;
        }
    }
    MESSAGE("onnx conformance: " << ran << " cases ran, " << passed << " passed, " << not_applicable
            << " not applicable (" << out_of_scope << " other test directories use other or several operators)");
    CHECK(passed == ran);
    CHECK(unreadable == 0);
    CHECK(ran >= kMinimumCasesRun);
}
