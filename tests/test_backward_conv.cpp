// Convolution backward: the reference against central finite differences of the forward
// reference (input, weight and bias gradients, ReLU fused) on the small rows of the shared
// case table, then every SIMD backward table against the reference on every row of it, in
// both memory layouts.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "backward/backward_kernels.hpp"
#include "gradient_check.hpp"
#include "kernel_fixtures.hpp"
#include "reference.hpp"

using namespace tinception;
using namespace tinception::testing;
using kernels::BackwardKernelTable;
using kernels::Conv2dBackwardArgs;

namespace {

long forward_cost(const ConvFixture& f) {
    return long(f.cc.n) * f.py.out * f.px.out * f.cc.out_c * f.cc.in_c * f.cc.kernel_h * f.cc.kernel_w;
}

// Random values in channels [offset, offset + width) of each pixel, NaN in the others: a
// gradient slice of a concatenated tensor, whose neighbours a kernel must not read.
void fill_slice(GuardedBuffer& buffer, int pixel_stride, int offset, int width, std::uint32_t seed) {
    fill_uniform(buffer.data(), buffer.size(), seed);
    for (std::size_t i = 0; i < buffer.size(); ++i) {
        const int ch = int(i % std::size_t(pixel_stride));
        if (ch < offset || ch >= offset + width) buffer[i] = std::numeric_limits<float>::quiet_NaN();
    }
}

// Scratch on a 64-byte boundary, as the backward kernels take it.
struct AlignedWorkspace {
    explicit AlignedWorkspace(std::size_t bytes) : storage(bytes + 64) {}
    void* data() {
        const auto base = reinterpret_cast<std::uintptr_t>(storage.data());
        return storage.data() + (64 - base % 64) % 64;
    }
    std::vector<unsigned char> storage;
};

// One backward call of `table` on f's layout: the input gradient into its own strided
// buffer (sentinels around the slice), starting from `start` when given (accumulating).
struct StridedGradients {
    GuardedBuffer input;
    std::vector<float> weights, bias;
};

StridedGradients run_strided(const BackwardKernelTable& table, Conv2dBackwardArgs b, const ConvFixture& f,
                             const GuardedBuffer* start) {
    StridedGradients g{GuardedBuffer(f.input.size()), std::vector<float>(f.weights.size()),
                       std::vector<float>(f.bias.size())};
    if (start) std::memcpy(g.input.data(), start->data(), start->size() * sizeof(float));
    AlignedWorkspace workspace(table.conv2d_backward_workspace_size ? table.conv2d_backward_workspace_size(b) : 0);
    b.workspace = workspace.data();
    b.grad_input = g.input.data();
    b.grad_input_pixel_stride = f.in_stride;
    b.accumulate_input = start != nullptr;
    b.grad_weights = g.weights.data();
    b.grad_bias = g.bias.data();
    table.conv2d_backward(b);
    return g;
}

}  // namespace

TEST_CASE("conv2d backward: the reference matches finite differences of the forward reference") {
    std::uint32_t seed = 4321;
    int cases = 0, compared = 0, skipped = 0;
    double worst = 0.0;
    for (const ConvCase& cc : kConvCases) {
        ConvFixture f(cc, kLayouts[0], seed += 11);
        if (forward_cost(f) > 130000) continue;  // the finite differences run it four or more times per element
        CAPTURE(describe(cc));
        ++cases;
        kernels::Conv2dArgs forward = f.args();
        std::vector<float> output(f.fresh_output().size()), scratch(output.size()), grad_output(output.size());
        fill_uniform(grad_output.data(), grad_output.size(), seed + 5);
        forward.output = output.data();
        kernels::conv2d_direct_ref(forward);
        const auto loss = [&] {
            kernels::Conv2dArgs again = forward;
            again.output = scratch.data();
            kernels::conv2d_direct_ref(again);
            return weighted_sum(scratch, grad_output);
        };
        Conv2dBackwardArgs b;
        b.forward = forward;
        b.grad_output = grad_output.data();
        StridedGradients g = run_strided(kernels::reference_backward_kernels(), b, f, nullptr);
        const double h = 0.1;
        for (const auto& [param, count, analytic, what] :
             {std::tuple{f.input.data(), f.input.size(), g.input.data(), "input"},
              std::tuple{f.weights.data(), f.weights.size(), g.weights.data(), "weights"},
              std::tuple{f.bias.data(), f.bias.size(), g.bias.data(), "bias"}}) {
            const GradientReport r = check_gradient(param, count, analytic, loss, h, true);
            require_close_gradient(r, what);
            worst = std::max(worst, r.worst);
            compared += r.compared, skipped += r.skipped;
        }
    }
    CHECK(cases >= 30);
    MESSAGE("conv2d backward, reference: " << cases << " cases, " << compared << " gradient elements compared ("
                                             << skipped << " astride a ReLU kink skipped), worst relative error "
                                             << worst);
}

TEST_CASE("conv2d backward: every SIMD table matches the reference on every row, in both layouts") {
    const BackwardKernelTable* found[3];
    const int count = kernels::available_backward_tables(found);
    std::string tested;
    for (int t = 1; t < count; ++t) tested += std::string(" ") + found[t]->isa_name;
    if (kernels::avx512_kernels_built() && !kernels::avx512_backward_kernels())
        MESSAGE("avx512 backward table built but NOT RUN on this CPU");
    MESSAGE("conv2d backward tables tested against the reference:" << (tested.empty() ? " none" : tested));
    std::uint32_t seed = 987;
    for (const ConvCase& cc : kConvCases)
        for (const MemoryLayout& layout : kLayouts) {
            CAPTURE(describe(cc));
            CAPTURE(std::string(layout.name));
            const ConvFixture f(cc, layout, seed += 13);
            // the reference takes about a second per 100M terms: the strided layout on the
            // smaller rows only, which still reach every kernel shape and stride
            if (&layout != &kLayouts[0] && forward_cost(f) > 4000000) continue;
            GuardedBuffer output = f.fresh_output();
            kernels::Conv2dArgs forward = f.args(&output);
            kernels::conv2d_direct_ref(forward);
            GuardedBuffer grad_output = f.fresh_output();
            fill_slice(grad_output, f.out_stride, layout.out_offset, cc.out_c, seed + 1);
            GuardedBuffer start(f.input.size());
            fill_slice(start, f.in_stride, 0, cc.in_c, seed + 2);
            for (std::size_t i = 0; i < start.size(); ++i)
                if (std::isnan(start[i])) start[i] = GuardedBuffer::kSentinel;
            Conv2dBackwardArgs b;
            b.forward = forward;
            b.grad_output = grad_output.data() + layout.out_offset;
            b.grad_output_pixel_stride = f.out_stride;
            const StridedGradients expected = run_strided(kernels::reference_backward_kernels(), b, f, nullptr);
            const long pixels = long(cc.n) * f.py.out * f.px.out;
            const Tolerance input_tol = sum_tolerance(long(cc.out_c) * cc.kernel_h * cc.kernel_w, 1.0);
            const Tolerance weight_tol = sum_tolerance(pixels, 1.0);
            const auto in_slice = [&](std::size_t i) { return int(i % std::size_t(f.in_stride)) < cc.in_c; };
            const IndexNamer name_input = nhwc_index(cc.h, cc.w, f.in_stride);
            for (int t = 0; t < count; ++t) {
                CAPTURE(std::string(found[t]->isa_name));
                if (t > 0) {
                    const StridedGradients actual = run_strided(*found[t], b, f, nullptr);
                    CHECK_MESSAGE(untouched_outside_slice(actual.input, f.in_stride, 0, cc.in_c),
                                  "wrote outside its input-gradient slice");
                    check_close(expected.input.data(), actual.input.data(), expected.input.size(), input_tol,
                                name_input, in_slice);
                    check_close(expected.weights.data(), actual.weights.data(), expected.weights.size(), weight_tol);
                    check_close(expected.bias.data(), actual.bias.data(), expected.bias.size(), weight_tol);
                }
                // accumulate_input adds the same gradient onto what the buffer held
                const StridedGradients added = run_strided(*found[t], b, f, &start);
                std::vector<float> sum(start.size());
                for (std::size_t i = 0; i < sum.size(); ++i) sum[i] = in_slice(i) ? start[i] + expected.input.data()[i] : 0.0f;
                Tolerance added_tol = input_tol;
                added_tol.abs += 4.0 * FLT_EPSILON;
                CHECK_MESSAGE(untouched_outside_slice(added.input, f.in_stride, 0, cc.in_c),
                              "wrote outside its input-gradient slice");
                check_close(sum.data(), added.input.data(), sum.size(), added_tol, name_input, in_slice);
            }
        }
}
