// Running out of memory is an error, never a crash: a child process with a small address-space
// limit (RLIMIT_AS) builds a network whose activations do not fit, through the library and
// through the C API, and reports what it got in its exit code.
#include <doctest/doctest.h>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "classify/classifier_model.hpp"
#include "error.hpp"
#include "kernel_dispatch.hpp"
#include "model/network.hpp"
#include "tinception.h"
#include "weights/weight_file.hpp"
#include "weights/weight_file_writer.hpp"

using namespace tinception;

namespace {

// input 9000x9000x3 -> 1x1 conv to 3 channels: tiny tensors, ~1 GB of activations per image.
constexpr int kSide = 9000;

std::vector<std::uint8_t> huge_network_bytes() {
    WeightFileWriter w;
    w.add_layer({"input_1", "input", {}, {{"height", kSide}, {"width", kSide}, {"channels", 3}}, {}, {}});
    w.add_layer({"conv", "conv2d", {"input_1"},
                 {{"kernel_h", 1}, {"kernel_w", 1}, {"stride_h", 1}, {"stride_w", 1}, {"relu", 0}},
                 {{"padding", "valid"}}, {"conv/weights", "conv/bias"}});
    w.add_tensor("conv/weights", {3, 3, 1, 1}, std::vector<float>(9, 0.5f));
    w.add_tensor("conv/bias", {3}, std::vector<float>(3, 0.0f));
    w.set_metadata("input_size", std::to_string(kSide));
    return w.serialize();
}

std::size_t address_space_bytes() {
    std::ifstream status("/proc/self/statm");
    std::size_t pages = 0;
    status >> pages;
    return pages * std::size_t(sysconf(_SC_PAGESIZE));
}

// Runs `body` in a child limited to its current address space plus 256 MiB, on one thread;
// returns the child's exit code, or -signal if it died of one.
int in_small_child(const std::function<int()>& body) {
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        setenv("TINCEPTION_THREADS", "1", 1);  // no pool threads to reserve stacks for
        const rlimit limit{address_space_bytes() + (256u << 20), RLIM_INFINITY};
        if (setrlimit(RLIMIT_AS, &limit) != 0) _exit(90);
        _exit(body());
    }
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

bool one_line_about_memory(const std::string& message) {
    return message.find("out of memory") != std::string::npos && message.find('\n') == std::string::npos;
}

}  // namespace

TEST_CASE("out of memory: a network whose activations do not fit throws an out-of-memory Error") {
    const std::vector<std::uint8_t> bytes = huge_network_bytes();
    const int code = in_small_child([&] {
        try {
            const WeightFile weights = WeightFile::from_memory(bytes.data(), bytes.size(), "huge.tcw");
            Network net(weights, "conv", active_kernels());
            return 3;  // built: the limit did not bite
        } catch (const Error& e) {
            if (e.kind() != ErrorKind::out_of_memory) return 4;
            return one_line_about_memory(e.what()) ? 0 : 5;
        } catch (...) {
            return 6;
        }
    });
    CHECK_MESSAGE(code == 0, "child exit code " << code << " (3 no failure, 4 other Error, 5 message, 6 other "
                                                   "exception, negative: killed by that signal)");
}

TEST_CASE("out of memory: the C API reports TINCEPTION_OUT_OF_MEMORY and one line") {
    const std::vector<std::uint8_t> weights = huge_network_bytes();
    ClassifierModel m;
    m.labels = {"a", "b"};
    m.feature_layer = "conv";
    m.feature_size = 3;
    m.weights_checksum = WeightFile::from_memory(weights.data(), weights.size(), "huge.tcw").checksum();
    m.preprocessing.size = kSide;
    m.head.n_classes = 2;
    m.head.feature_size = 3;
    m.head.weights.assign(6, 0.25f);
    m.head.bias = {0.0f, 0.0f};
    const std::vector<std::uint8_t> model = serialize_classifier_model(m);
    const int code = in_small_child([&] {
        tinception_model* loaded = nullptr;
        if (tinception_model_load_from_memory_with_weights(model.data(), model.size(), weights.data(),
                                                           weights.size(), &loaded) != TINCEPTION_OK)
            return 7;
        tinception_context* context = nullptr;
        const tinception_status status = tinception_context_create(loaded, &context);
        const bool reported = status == TINCEPTION_OUT_OF_MEMORY && !context &&
                              one_line_about_memory(tinception_last_error());
        tinception_context_destroy(context);
        tinception_model_destroy(loaded);
        return reported ? 0 : status == TINCEPTION_OK ? 3 : 8;
    });
    CHECK_MESSAGE(code == 0, "child exit code " << code << " (3 no failure, 7 model refused, 8 other status, "
                                                   "negative: killed by that signal)");
}
