// Every kernel table this machine can run, compared op by op with the reference table on
// the awkward shapes of kernel_cases.hpp. Timing is not measured here; see bench/.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "check_close.hpp"
#include "kernel_cases.hpp"
#include "kernel_dispatch.hpp"

using namespace tinception;
using namespace tinception::testing;
using kernels::KernelTable;

namespace {

const float kNaN = std::numeric_limits<float>::quiet_NaN();

// Every available table except the reference itself.
std::vector<const KernelTable*> tables_under_test() {
    std::vector<const KernelTable*> tables;
    for (const KernelTable* t : available_kernel_tables())
        if (std::string(t->isa_name) != "reference") tables.push_back(t);
    return tables;
}

// Channels [offset, offset + width) of each pixel belong to the kernel; everything else in
// the buffer, and the guards around it, must still hold the sentinel.
bool untouched_outside_slice(const GuardedBuffer& buffer, int pixel_stride, int offset, int width) {
    if (!buffer.guards_intact()) return false;
    for (std::size_t i = 0; i < buffer.size(); ++i) {
        const int ch = int(i % std::size_t(pixel_stride));
        if ((ch < offset || ch >= offset + width) && !GuardedBuffer::is_sentinel(buffer.data()[i]))
            return false;
    }
    return true;
}

// Random values in the channels a kernel may read, NaN in the ones it must not.
void fill_activations(GuardedBuffer& buffer, int pixel_stride, int width, std::uint32_t seed) {
    fill_uniform(buffer.data(), buffer.size(), seed);
    for (std::size_t i = 0; i < buffer.size(); ++i)
        if (int(i % std::size_t(pixel_stride)) >= width) buffer[i] = kNaN;
}

struct FreeDeleter {
    void operator()(void* p) const { std::free(p); }
};

// 64-byte aligned packed weights when the table packs, else null (the kernel reads OIHW).
std::unique_ptr<void, FreeDeleter> pack_weights(const KernelTable& table, kernels::Conv2dArgs& args) {
    if (!table.conv2d_pack || !table.conv2d_packed_size) return nullptr;
    const std::size_t bytes = table.conv2d_packed_size(args);
    const std::size_t rounded = (bytes + 63) / 64 * 64;
    std::unique_ptr<void, FreeDeleter> packed(std::aligned_alloc(64, rounded ? rounded : 64));
    REQUIRE(packed);
    table.conv2d_pack(args, packed.get());
    args.packed = packed.get();
    return packed;
}

// One convolution case in one memory layout, run through one table.
struct ConvFixture {
    ConvFixture(const ConvCase& cc, const MemoryLayout& layout, std::uint32_t seed)
        : cc(cc), layout(layout), py(padding_for(cc.pad, cc.h, cc.kernel_h, cc.stride)),
          px(padding_for(cc.pad, cc.w, cc.kernel_w, cc.stride)),
          in_stride(cc.in_c + layout.in_extra),
          out_stride(cc.out_c + layout.out_offset + layout.out_extra),
          input(std::size_t(cc.n) * cc.h * cc.w * in_stride, layout.misaligned),
          weights(std::size_t(cc.out_c) * cc.in_c * cc.kernel_h * cc.kernel_w),
          bias(std::size_t(cc.out_c)) {
        fill_activations(input, in_stride, cc.in_c, seed);
        fill_uniform(weights.data(), weights.size(), seed + 1);
        fill_uniform(bias.data(), bias.size(), seed + 2);
    }

    std::size_t out_size() const { return std::size_t(cc.n) * py.out * px.out * out_stride; }

    void run(const KernelTable& table, GuardedBuffer& out) const {
        kernels::Conv2dArgs a;
        a.input = input.data();
        a.weights = weights.data();
        a.bias = bias.data();
        a.output = out.data() + layout.out_offset;
        a.n = cc.n, a.in_h = cc.h, a.in_w = cc.w, a.in_c = cc.in_c;
        a.out_h = py.out, a.out_w = px.out, a.out_c = cc.out_c;
        a.kernel_h = cc.kernel_h, a.kernel_w = cc.kernel_w;
        a.stride_h = a.stride_w = cc.stride;
        a.pad_top = py.before, a.pad_left = px.before;
        a.in_pixel_stride = in_stride, a.out_pixel_stride = out_stride;
        a.relu = cc.relu;
        const auto packed = pack_weights(table, a);
        table.conv2d(a);
    }

    const ConvCase& cc;
    const MemoryLayout& layout;
    Padding1d py, px;
    int in_stride, out_stride;
    GuardedBuffer input, weights, bias;
};

struct PoolFixture {
    PoolFixture(const PoolCase& pc, const MemoryLayout& layout, std::uint32_t seed)
        : pc(pc), layout(layout), py(padding_for(pc.pad, pc.h, pc.kernel_h, pc.stride)),
          px(padding_for(pc.pad, pc.w, pc.kernel_w, pc.stride)), in_stride(pc.c + layout.in_extra),
          out_stride(pc.c + layout.out_offset + layout.out_extra),
          input(std::size_t(pc.n) * pc.h * pc.w * in_stride, layout.misaligned) {
        fill_activations(input, in_stride, pc.c, seed);
    }

    std::size_t out_size() const { return std::size_t(pc.n) * py.out * px.out * out_stride; }

    void run(kernels::Pool2dFn pool, bool count_include_pad, GuardedBuffer& out) const {
        kernels::Pool2dArgs a;
        a.input = input.data();
        a.output = out.data() + layout.out_offset;
        a.n = pc.n, a.in_h = pc.h, a.in_w = pc.w, a.c = pc.c;
        a.out_h = py.out, a.out_w = px.out;
        a.kernel_h = pc.kernel_h, a.kernel_w = pc.kernel_w;
        a.stride_h = a.stride_w = pc.stride;
        a.pad_top = py.before, a.pad_left = px.before;
        a.in_pixel_stride = in_stride, a.out_pixel_stride = out_stride;
        a.count_include_pad = count_include_pad;
        pool(a);
    }

    const PoolCase& pc;
    const MemoryLayout& layout;
    Padding1d py, px;
    int in_stride, out_stride;
    GuardedBuffer input;
};

// Runs a pooling op of `table` and of the reference on every case and layout.
void check_pool(kernels::Pool2dFn KernelTable::*op, const char* op_name, bool count_include_pad,
                Tolerance (*tolerance)(const PoolCase&)) {
    for (const KernelTable* table : tables_under_test()) {
        REQUIRE_MESSAGE(bool(table->*op), table->isa_name << " has no " << op_name);
        for (const PoolCase& pc : kPoolCases)
            for (const MemoryLayout& layout : kLayouts) {
                CAPTURE(table->isa_name);
                CAPTURE(describe(pc));
                CAPTURE(layout.name);
                const PoolFixture f(pc, layout, 99);
                GuardedBuffer expected(f.out_size()), actual(f.out_size());
                f.run(kernels::reference_kernels().*op, count_include_pad, expected);
                f.run(table->*op, count_include_pad, actual);
                CHECK_MESSAGE(untouched_outside_slice(actual, f.out_stride, layout.out_offset, pc.c),
                              "wrote outside its output slice");
                check_close(expected.data(), actual.data(), expected.size(), tolerance(pc),
                            nhwc_index(f.py.out, f.px.out, f.out_stride), [&](std::size_t i) {
                                const int ch = int(i % std::size_t(f.out_stride));
                                return ch >= layout.out_offset && ch < layout.out_offset + pc.c;
                            });
            }
    }
}

}  // namespace

TEST_CASE("kernel tables under test") {
    std::string ran, not_run;
    for (const KernelTable* t : tables_under_test()) ran += std::string(" ") + t->isa_name;
    // A table this CPU cannot run is reported by name, never touched: building it would run
    // instructions the CPU lacks.
    if (kernels::avx2_kernels_built() && !kernels::avx2_kernels()) not_run += " avx2";
    if (kernels::avx512_kernels_built() && !kernels::avx512_kernels()) not_run += " avx512";
    MESSAGE("kernel tables compared with the reference:" << ran
            << (not_run.empty() ? "" : "; built but not run on this CPU:" + not_run));
    CHECK_FALSE(ran.empty());
}

// How much further than a direct sum a table's result may drift on this shape: the SIMD
// tables compute 1x7 and 7x1 layers by Winograd F(4, 7), whose transforms (points 0, +-1,
// +-2, +-1/2, +-2/3) round up to about 2.5 times the direct bound on random data in [-1, 1].
double winograd_error_growth(const KernelTable& table, const ConvCase& cc) {
    const bool seven_taps = (cc.kernel_h == 1 && cc.kernel_w == 7) || (cc.kernel_h == 7 && cc.kernel_w == 1);
    return table.conv2d_panel_width > 0 && seven_taps && cc.stride == 1 ? 4.0 : 1.0;
}

TEST_CASE("conv2d: every table matches the reference on awkward shapes") {
    for (const KernelTable* table : tables_under_test()) {
        REQUIRE_MESSAGE(bool(table->conv2d), table->isa_name << " has no conv2d");
        std::uint32_t seed = 1234;
        for (const ConvCase& cc : kConvCases)
            for (const MemoryLayout& layout : kLayouts) {
                CAPTURE(table->isa_name);
                CAPTURE(describe(cc));
                CAPTURE(layout.name);
                const ConvFixture f(cc, layout, seed += 7);
                GuardedBuffer expected(f.out_size()), actual(f.out_size());
                f.run(kernels::reference_kernels(), expected);
                f.run(*table, actual);
                CHECK_MESSAGE(untouched_outside_slice(actual, f.out_stride, layout.out_offset, cc.out_c),
                              "wrote outside its output slice");
                // inputs, weights and bias are all within [-1, 1]
                Tolerance tol = sum_tolerance(long(cc.in_c) * cc.kernel_h * cc.kernel_w, 1.0);
                tol.abs *= winograd_error_growth(*table, cc);
                check_close(expected.data(), actual.data(), expected.size(), tol,
                            nhwc_index(f.py.out, f.px.out, f.out_stride), [&](std::size_t i) {
                                const int ch = int(i % std::size_t(f.out_stride));
                                return ch >= layout.out_offset && ch < layout.out_offset + cc.out_c;
                            });
            }
    }
}

TEST_CASE("maxpool2d: every table matches the reference exactly") {
    check_pool(&KernelTable::maxpool2d, "maxpool2d", false, [](const PoolCase&) { return Tolerance{}; });
}

TEST_CASE("avgpool2d: every table matches the reference, padding in and out of the divisor") {
    const auto tolerance = [](const PoolCase& pc) {
        return sum_tolerance(long(pc.kernel_h) * pc.kernel_w, 1.0);
    };
    SUBCASE("padding excluded from the divisor") {
        check_pool(&KernelTable::avgpool2d, "avgpool2d", false, tolerance);
    }
    SUBCASE("count_include_pad") {
        check_pool(&KernelTable::avgpool2d, "avgpool2d", true, tolerance);
    }
}

TEST_CASE("global_avgpool: every table matches the reference") {
    struct Size { int n, h, w; };
    const Size sizes[] = {{1, 1, 1}, {1, 8, 8}, {3, 5, 7}, {1, 17, 17}};
    for (const KernelTable* table : tables_under_test()) {
        REQUIRE_MESSAGE(bool(table->global_avgpool), table->isa_name << " has no global_avgpool");
        for (const Size& s : sizes)
            for (const int c : kChannelCounts)
                for (const bool misaligned : {false, true}) {
                    CAPTURE(table->isa_name);
                    CAPTURE(s.n); CAPTURE(s.h); CAPTURE(s.w); CAPTURE(c); CAPTURE(misaligned);
                    GuardedBuffer input(std::size_t(s.n) * s.h * s.w * c, misaligned);
                    fill_uniform(input.data(), input.size(), 7u + unsigned(c));
                    GuardedBuffer expected(std::size_t(s.n) * c), actual(std::size_t(s.n) * c);
                    kernels::reference_kernels().global_avgpool(input.data(), expected.data(), s.n, s.h, s.w, c);
                    table->global_avgpool(input.data(), actual.data(), s.n, s.h, s.w, c);
                    CHECK_MESSAGE(actual.guards_intact(), "wrote outside its output");
                    check_close(expected.data(), actual.data(), expected.size(),
                                sum_tolerance(long(s.h) * s.w, 1.0), nhwc_index(1, 1, c));
                }
    }
}

TEST_CASE("softmax: every table matches the reference, large logits included") {
    const int lengths[] = {1, 7, 8, 16, 17, 1001};
    struct Logits { float lo, hi; const char* name; };
    const Logits ranges[] = {{-5.0f, 5.0f, "small"},
                             {990.0f, 1010.0f, "large, close together"},
                             {-1000.0f, 1000.0f, "large, far apart"}};
    for (const KernelTable* table : tables_under_test()) {
        REQUIRE_MESSAGE(bool(table->softmax), table->isa_name << " has no softmax");
        for (const int length : lengths)
            for (const int rows : {1, 3})
                for (const Logits& range : ranges)
                    for (const bool misaligned : {false, true}) {
                        CAPTURE(table->isa_name);
                        CAPTURE(length); CAPTURE(rows); CAPTURE(range.name); CAPTURE(misaligned);
                        const std::size_t count = std::size_t(rows) * length;
                        GuardedBuffer input(count, misaligned), expected(count), actual(count);
                        fill_uniform(input.data(), count, 31u + unsigned(length), range.lo, range.hi);
                        kernels::reference_kernels().softmax(input.data(), expected.data(), rows, length);
                        table->softmax(input.data(), actual.data(), rows, length);
                        CHECK_MESSAGE(actual.guards_intact(), "wrote outside its output");
                        // exp() is good to a few ulp; normalising sums `length` terms. Results
                        // below the normal range may be flushed to zero.
                        const Tolerance tol{1e-35, 2.0 * (length + 16) * FLT_EPSILON};
                        check_close(expected.data(), actual.data(), count, tol);
                    }
    }
}

TEST_CASE("dense: every table matches the reference") {
    const int in_features[] = {1, 7, 8, 9, 17, 33, 2048};
    const int out_features[] = {1, 3, 16, 17, 1001};
    for (const KernelTable* table : tables_under_test()) {
        REQUIRE_MESSAGE(bool(table->dense), table->isa_name << " has no dense");
        for (const int in_f : in_features)
            for (const int out_f : out_features)
                for (const int n : {1, 3})
                    for (const bool with_bias : {true, false}) {
                        CAPTURE(table->isa_name);
                        CAPTURE(in_f); CAPTURE(out_f); CAPTURE(n); CAPTURE(with_bias);
                        const bool misaligned = (in_f + out_f) % 2 == 1;
                        GuardedBuffer input(std::size_t(n) * in_f, misaligned);
                        GuardedBuffer weights{std::size_t(out_f) * in_f}, bias{std::size_t(out_f)};
                        fill_uniform(input.data(), input.size(), 5u + unsigned(in_f));
                        fill_uniform(weights.data(), weights.size(), 6u + unsigned(out_f));
                        fill_uniform(bias.data(), bias.size(), 8u);
                        GuardedBuffer expected(std::size_t(n) * out_f), actual(std::size_t(n) * out_f);
                        kernels::DenseArgs a;
                        a.input = input.data();
                        a.weights = weights.data();
                        a.bias = with_bias ? bias.data() : nullptr;
                        a.n = n, a.in_features = in_f, a.out_features = out_f;
                        a.output = expected.data();
                        kernels::reference_kernels().dense(a);
                        a.output = actual.data();
                        table->dense(a);
                        CHECK_MESSAGE(actual.guards_intact(), "wrote outside its output");
                        check_close(expected.data(), actual.data(), expected.size(),
                                    sum_tolerance(in_f, 1.0), nhwc_index(1, 1, out_f));
                    }
    }
}

TEST_CASE("copy_channels: every table copies exactly into the slice and nowhere else") {
    for (const KernelTable* table : tables_under_test()) {
        REQUIRE_MESSAGE(bool(table->copy_channels), table->isa_name << " has no copy_channels");
        for (const int pixels : {1, 7, 35})
            for (const int c : kChannelCounts)
                for (const MemoryLayout& layout : kLayouts) {
                    CAPTURE(table->isa_name);
                    CAPTURE(pixels); CAPTURE(c); CAPTURE(layout.name);
                    const int stride = c + layout.out_offset + layout.out_extra;
                    GuardedBuffer src(std::size_t(pixels) * c, layout.misaligned);
                    fill_uniform(src.data(), src.size(), 11u + unsigned(c));
                    GuardedBuffer expected(std::size_t(pixels) * stride), actual(std::size_t(pixels) * stride);
                    kernels::reference_kernels().copy_channels(src.data(), pixels, c, expected.data(),
                                                               stride, layout.out_offset);
                    table->copy_channels(src.data(), pixels, c, actual.data(), stride, layout.out_offset);
                    CHECK_MESSAGE(untouched_outside_slice(actual, stride, layout.out_offset, c),
                                  "wrote outside its channel slice");
                    check_close(expected.data(), actual.data(), expected.size(), Tolerance{},
                                nhwc_index(1, pixels, stride));
                }
    }
}
