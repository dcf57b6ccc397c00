// Pooling backward (max, average, global average) against central finite differences of
// the forward references on the shared pooling cases, concat's backward as channel views
// read in place, and every SIMD backward table's pooling against the reference.
#include <doctest/doctest.h>

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
using kernels::Pool2dBackwardArgs;

namespace {

using PoolForward = void (*)(const kernels::Pool2dArgs&);

// Finite differences of `forward` over f's input against `backward`'s gradient; returns the
// worst relative error.
double check_pool_case(PoolFixture& f, PoolForward forward, kernels::Pool2dBackwardFn backward,
                       bool count_include_pad, std::uint32_t seed) {
    kernels::Pool2dArgs a = f.args(nullptr, count_include_pad);
    std::vector<float> output(f.fresh_output().size()), grad_output(output.size());
    fill_uniform(grad_output.data(), grad_output.size(), seed);
    const auto loss = [&] {
        kernels::Pool2dArgs again = a;
        again.output = output.data();
        forward(again);
        return weighted_sum(output, grad_output);
    };
    std::vector<float> grad_input(f.input.size(), 123.0f);  // overwritten, not added to
    Pool2dBackwardArgs b;
    b.forward = a;
    b.grad_output = grad_output.data();
    b.grad_input = grad_input.data();
    backward(b);
    const GradientReport r = check_gradient(f.input.data(), f.input.size(), grad_input.data(), loss, 0.1, true);
    require_close_gradient(r, "input");
    return r.worst;
}

}  // namespace

TEST_CASE("pool2d backward: max and average match finite differences of the forward references") {
    std::uint32_t seed = 77;
    double worst_max = 0.0, worst_avg = 0.0;
    int cases = 0;
    for (const PoolCase& pc : kPoolCases) {
        if (long(pc.n) * pc.h * pc.w * pc.c > 6000) continue;  // two forward calls per element
        CAPTURE(describe(pc));
        ++cases;
        PoolFixture f(pc, kLayouts[0], seed += 3);
        worst_max = std::max(worst_max, check_pool_case(f, kernels::maxpool2d_ref, kernels::maxpool2d_backward_ref,
                                                        false, seed + 1));
        for (bool include_pad : {false, true}) {
            CAPTURE(include_pad);
            worst_avg = std::max(worst_avg, check_pool_case(f, kernels::avgpool2d_ref,
                                                            kernels::avgpool2d_backward_ref, include_pad, seed + 2));
        }
    }
    CHECK(cases >= 10);
    MESSAGE("pool2d backward, reference: " << cases << " cases, worst relative error: max " << worst_max
                                           << ", average " << worst_avg);
}

TEST_CASE("global average pool backward matches finite differences, and adds when asked") {
    const int n = 3, h = 5, w = 7, c = 9;
    std::vector<float> input(std::size_t(n) * h * w * c), output(std::size_t(n) * c), grad_output(output.size());
    fill_uniform(input.data(), input.size(), 5);
    fill_uniform(grad_output.data(), grad_output.size(), 6);
    const auto loss = [&] {
        kernels::global_avgpool_ref(input.data(), output.data(), n, h, w, c);
        return weighted_sum(output, grad_output);
    };
    std::vector<float> grad_input(input.size(), 5.0f);
    kernels::global_avgpool_backward_ref(grad_output.data(), grad_input.data(), n, h, w, c, false);
    const GradientReport r = check_gradient(input.data(), input.size(), grad_input.data(), loss, 0.1, true);
    require_close_gradient(r, "input");
    MESSAGE("global average pool backward: worst relative error " << r.worst);

    std::vector<float> added(input.size(), 5.0f);
    kernels::global_avgpool_backward_ref(grad_output.data(), added.data(), n, h, w, c, true);
    for (std::size_t i = 0; i < added.size(); ++i) REQUIRE(added[i] == 5.0f + grad_input[i]);
}

TEST_CASE("concat backward: each branch reads its slice of the concatenated gradient in place") {
    // Two branches of 5 and 11 channels concatenated into 16, over 2 images of 6x7.
    const int n = 2, h = 6, w = 7, c1 = 5, c2 = 11, total = c1 + c2;
    std::vector<float> concat_grad(std::size_t(n) * h * w * total);
    fill_uniform(concat_grad.data(), concat_grad.size(), 9);
    const kernels::ChannelSliceView second = kernels::concat_backward_slice(concat_grad.data(), total, c1, c2);
    CHECK(second.data == concat_grad.data() + c1);  // a view, not a copy
    CHECK(second.pixel_stride == total);
    CHECK(second.channels == c2);

    // The second branch: a 3x3 stride-1 'same' average pool of an [n][h][w][c2] input.
    std::vector<float> input(std::size_t(n) * h * w * c2);
    fill_uniform(input.data(), input.size(), 10);
    Pool2dBackwardArgs b;
    b.forward.input = input.data();
    b.forward.n = n, b.forward.in_h = h, b.forward.in_w = w, b.forward.c = c2;
    b.forward.out_h = h, b.forward.out_w = w, b.forward.kernel_h = b.forward.kernel_w = 3;
    b.forward.pad_top = b.forward.pad_left = 1;
    std::vector<float> copied(std::size_t(n) * h * w * c2);
    for (long p = 0; p < long(n) * h * w; ++p)
        for (int ch = 0; ch < c2; ++ch) copied[std::size_t(p * c2 + ch)] = concat_grad[std::size_t(p * total + c1 + ch)];
    std::vector<float> from_view(input.size()), from_copy(input.size());
    b.grad_output = second.data, b.grad_output_pixel_stride = second.pixel_stride, b.grad_input = from_view.data();
    kernels::avgpool2d_backward_ref(b);
    b.grad_output = copied.data(), b.grad_output_pixel_stride = 0, b.grad_input = from_copy.data();
    kernels::avgpool2d_backward_ref(b);
    CHECK(from_view == from_copy);
}

TEST_CASE("pool2d backward: every SIMD table matches the reference on every row, in both layouts") {
    const BackwardKernelTable* found[3];
    const int count = kernels::available_backward_tables(found);
    std::uint32_t seed = 555;
    for (const PoolCase& pc : kPoolCases)
        for (const MemoryLayout& layout : kLayouts)
            for (int kind = 0; kind < 3; ++kind) {  // max, average, average counting padding
                CAPTURE(describe(pc));
                CAPTURE(std::string(layout.name));
                CAPTURE(kind);
                const PoolFixture f(pc, layout, seed += 5);
                const kernels::Pool2dBackwardFn BackwardKernelTable::*entry =
                    kind == 0 ? &BackwardKernelTable::maxpool2d_backward : &BackwardKernelTable::avgpool2d_backward;
                // the gradient arrives in the output's slice of a wider tensor; it leaves into
                // the input's slice, the channels around it holding sentinels throughout
                GuardedBuffer grad_output = f.fresh_output();
                fill_uniform(grad_output.data(), grad_output.size(), seed + 1);
                Pool2dBackwardArgs b;
                b.forward = f.args(nullptr, kind == 2);
                b.grad_output = grad_output.data() + layout.out_offset;
                b.grad_output_pixel_stride = f.out_stride;
                b.grad_input_pixel_stride = f.in_stride;
                const auto run = [&](const BackwardKernelTable& table, bool accumulate) {
                    GuardedBuffer grad_input(f.input.size());
                    for (std::size_t i = 0; i < grad_input.size(); ++i)
                        if (int(i % std::size_t(f.in_stride)) < pc.c) grad_input[i] = accumulate ? 0.5f : 99.0f;
                    Pool2dBackwardArgs call = b;
                    call.grad_input = grad_input.data();
                    call.accumulate_input = accumulate;
                    (table.*entry)(call);
                    CHECK_MESSAGE(untouched_outside_slice(grad_input, f.in_stride, 0, pc.c),
                                  "wrote outside its input-gradient slice");
                    return grad_input;
                };
                const GuardedBuffer expected = run(kernels::reference_backward_kernels(), false);
                const Tolerance tol = sum_tolerance(long(pc.kernel_h) * pc.kernel_w, 1.0);
                const auto in_slice = [&](std::size_t i) { return int(i % std::size_t(f.in_stride)) < pc.c; };
                for (int t = 0; t < count; ++t) {
                    CAPTURE(std::string(found[t]->isa_name));
                    if (t > 0)
                        check_close(expected.data(), run(*found[t], false).data(), expected.size(), tol,
                                    nhwc_index(pc.h, pc.w, f.in_stride), in_slice);
                    std::vector<float> added(expected.size());
                    for (std::size_t i = 0; i < added.size(); ++i) added[i] = 0.5f + expected.data()[i];
                    check_close(added.data(), run(*found[t], true).data(), added.size(), tol,
                                nhwc_index(pc.h, pc.w, f.in_stride), in_slice);
                }
            }
}

TEST_CASE("max pool backward: a window of -inf alone hands its gradient to no cell, in every table") {
    // 9 channels (a vector and a tail on AVX2): even channels all -inf, odd ones finite
    const int c = 9;
    std::vector<float> input(std::size_t(3 * 3 * c)), grad_output(std::size_t(c), 1.0f);
    for (std::size_t i = 0; i < input.size(); ++i)
        input[i] = i % c % 2 == 0 ? -std::numeric_limits<float>::infinity() : float(i % 7);
    Pool2dBackwardArgs b;
    b.forward.input = input.data();
    b.forward.in_h = b.forward.in_w = 3, b.forward.c = c;
    b.forward.out_h = b.forward.out_w = 1, b.forward.kernel_h = b.forward.kernel_w = 3;
    b.grad_output = grad_output.data();
    const BackwardKernelTable* found[3];
    const int count = kernels::available_backward_tables(found);
    for (int t = 0; t < count; ++t) {
        CAPTURE(std::string(found[t]->isa_name));
        std::vector<float> grad_input(input.size(), 5.0f);
        b.grad_input = grad_input.data();
        found[t]->maxpool2d_backward(b);
        for (int ch = 0; ch < c; ++ch) {
            double handed = 0.0;
            for (int p = 0; p < 9; ++p) handed += grad_input[std::size_t(p * c + ch)];
            CHECK(handed == (ch % 2 == 0 ? 0.0 : 1.0));
        }
    }
}
