// Every kernel table this machine runs, op by op, on the shared shapes of kernel_cases.hpp:
// convolution and pooling against the reference table, wherever a table brings its own
// kernel; the small ops (global average pool, softmax, dense, channel copy) against plain
// double-precision loops written here, once per distinct implementation, the reference's
// included. Cut and threaded calls are in test_parallel_kernels.cpp; timing is in bench/.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "conv2d_path.hpp"
#include "kernel_fixtures.hpp"
#include "layers/conv2d_workspace.hpp"
#include "reference.hpp"

using namespace tinception;
using namespace tinception::testing;
using kernels::KernelTable;

namespace {

// The distinct functions the runnable tables put in one entry, each with the tables that
// hold it, so a kernel shared by several tables is tested once and under every name.
template <typename Fn>
std::vector<std::pair<Fn, std::string>> distinct_entries(Fn KernelTable::*entry) {
    std::vector<std::pair<Fn, std::string>> found;
    for (const KernelTable* t : available_kernel_tables()) {
        const auto same = [&](const auto& f) { return f.first == t->*entry; };
        if (auto it = std::find_if(found.begin(), found.end(), same); it != found.end())
            it->second += std::string(" ") + t->isa_name;
        else
            found.emplace_back(t->*entry, t->isa_name);
    }
    return found;
}

// Runs pooling entry `op` of every table that has its own against the reference's.
// With `bias_and_relu` (average pooling), a bias per channel is added to each mean, about
// half of them negative enough for the ReLU to zero some outputs.
void check_pool(kernels::Pool2dFn KernelTable::*op, bool count_include_pad, Tolerance (*tolerance)(const PoolCase&),
                bool bias_and_relu = false) {
    for (const PoolCase& pc : kPoolCases)
        for (const MemoryLayout& layout : kLayouts) {
            CAPTURE(describe(pc));
            CAPTURE(std::string(layout.name));
            const PoolFixture f(pc, layout, 99);
            std::vector<float> bias(std::size_t(pc.c));
            for (int ch = 0; ch < pc.c; ++ch) bias[std::size_t(ch)] = float(ch % 7 - 3) * 0.3f;
            const auto args = [&](GuardedBuffer* out) {
                kernels::Pool2dArgs a = f.args(out, count_include_pad);
                if (bias_and_relu) a.bias = bias.data(), a.relu = true;
                return a;
            };
            GuardedBuffer expected = f.fresh_output();
            (kernels::reference_kernels().*op)(args(&expected));
            if (bias_and_relu) {  // the case must reach both sides of the ReLU
                long zeros = 0;
                for (std::size_t i = 0; i < expected.size(); ++i) zeros += expected[i] == 0.0f;
                CHECK(zeros > 0);
            }
            for (const KernelTable* table : tables_under_test()) {
                if (table->*op == kernels::reference_kernels().*op) continue;
                CAPTURE(std::string(table->isa_name));
                GuardedBuffer actual = f.fresh_output();
                (table->*op)(args(&actual));
                f.check(expected, actual, tolerance(pc));
            }
        }
}

}  // namespace

TEST_CASE("kernel tables: which ran on this CPU, which were built but not run") {
    std::string ran, not_run;
    for (const KernelTable* t : available_kernel_tables()) ran += std::string(" ") + t->isa_name;
    // A table this CPU cannot run is reported by name, never touched: building it would run
    // instructions the CPU lacks.
    if (kernels::avx2_kernels_built() && !kernels::avx2_kernels()) not_run += " avx2";
    if (kernels::avx512_kernels_built() && !kernels::avx512_kernels()) not_run += " avx512";
    if (kernels::neon_kernels_built() && !kernels::neon_kernels()) not_run += " neon";
    MESSAGE("kernel tables tested:" << ran << (not_run.empty() ? "" : "; built but NOT RUN on this CPU:" + not_run));
}

TEST_CASE("conv2d: every table matches the reference on every row, packed and not, in both layouts") {
    std::uint32_t seed = 1234;
    for (const ConvCase& cc : kConvCases)
        for (const MemoryLayout& layout : kLayouts) {
            CAPTURE(describe(cc));
            CAPTURE(std::string(layout.name));
            const ConvFixture f(cc, layout, seed += 7);
            GuardedBuffer expected = f.fresh_output();
            kernels::reference_kernels().conv2d(f.args(&expected));
            for (const KernelTable* table : tables_under_test()) {
                CAPTURE(std::string(table->isa_name));
                CAPTURE(std::string(table->conv2d_path ? table->conv2d_path(f.args()) : "one path"));
                GuardedBuffer actual = f.fresh_output();
                conv2d_once(*table, f.args(&actual));
                f.check(*table, expected, actual);
                const PackedWeights packed = pack_weights(*table, f.args());
                if (!packed) continue;
                GuardedBuffer with_packed = f.fresh_output();
                conv2d_once(*table, f.args(&with_packed, packed.get()));
                CHECK_MESSAGE(with_packed == actual, "packing the weights once changed the output");
            }
        }
}

TEST_CASE("conv2d: the rows reach every path of every SIMD table, built or not") {
    struct Simd { const char* name; bool built; const KernelTable* table; int winograd_min_in_c; };
    const Simd tables[] = {
        {"avx2", kernels::avx2_kernels_built(), kernels::avx2_kernels(), kernels::kAvx2WinogradMinInC},
        {"avx512", kernels::avx512_kernels_built(), kernels::avx512_kernels(), kernels::kAvx512WinogradMinInC},
        {"neon", kernels::neon_kernels_built(), kernels::neon_kernels(), kernels::kNeonWinogradMinInC},
    };
    for (const Simd& simd : tables) {
        if (!simd.built) continue;
        CAPTURE(std::string(simd.name));
        std::set<std::string> reached;
        for (const ConvCase& cc : kConvCases) {
            const ConvFixture f(cc, kLayouts[0], 1);
            const std::string path = kernels::conv_path_name(f.args(), simd.winograd_min_in_c);
            reached.insert(path);
            // A table that runs here reports the path the choice above names.
            if (simd.table) CHECK(path == simd.table->conv2d_path(f.args()));
        }
        for (const char* path : kernels::kConvPathNames) CHECK_MESSAGE(reached.count(path), "no row takes " << std::string(path));
    }
}

TEST_CASE("maxpool2d: every table matches the reference exactly") {
    check_pool(&KernelTable::maxpool2d, false, [](const PoolCase&) { return Tolerance{}; });
}

TEST_CASE("avgpool2d: every table matches the reference, padding in and out of the divisor") {
    const auto tolerance = [](const PoolCase& pc) { return sum_tolerance(long(pc.kernel_h) * pc.kernel_w, 1.0); };
    SUBCASE("padding excluded from the divisor") { check_pool(&KernelTable::avgpool2d, false, tolerance); }
    SUBCASE("count_include_pad") { check_pool(&KernelTable::avgpool2d, true, tolerance); }
    SUBCASE("a bias per channel and a ReLU after the mean") { check_pool(&KernelTable::avgpool2d, false, tolerance, true); }
}

TEST_CASE("global_avgpool: each implementation against a double-precision mean") {
    struct Size { int n, h, w; };
    const Size sizes[] = {{1, 1, 1}, {1, 8, 8}, {3, 5, 7}, {1, 17, 17}};
    for (const auto& entry : distinct_entries(&KernelTable::global_avgpool))
        for (const Size& s : sizes)
            for (const int c : kChannelCounts)
                for (const bool misaligned : {false, true}) {
                    CAPTURE(entry.second);
                    CAPTURE(s.n); CAPTURE(s.h); CAPTURE(s.w); CAPTURE(c); CAPTURE(misaligned);
                    GuardedBuffer input(std::size_t(s.n) * s.h * s.w * c, misaligned);
                    fill_uniform(input.data(), input.size(), 7u + unsigned(c));
                    GuardedBuffer expected(std::size_t(s.n) * c), actual(std::size_t(s.n) * c);
                    for (int b = 0; b < s.n; ++b)
                        for (int ch = 0; ch < c; ++ch) {
                            double sum = 0.0;
                            for (int p = 0; p < s.h * s.w; ++p) sum += input[(std::size_t(b) * s.h * s.w + p) * c + ch];
                            expected[std::size_t(b) * c + ch] = float(sum / (s.h * s.w));
                        }
                    entry.first(input.data(), actual.data(), s.n, s.h, s.w, c);
                    CHECK_MESSAGE(actual.guards_intact(), "wrote outside its output");
                    check_close(expected.data(), actual.data(), expected.size(), sum_tolerance(long(s.h) * s.w, 1.0),
                                nhwc_index(s.n, 1, c));
                }
    // Channel counts past the reference's block of 256 (and its tail), bit for bit the per-channel
    // double sum.
    for (const int c : {255, 256, 257, 600}) {
        CAPTURE(c);
        const int n = 2, h = 3, w = 5;
        std::vector<float> input(std::size_t(n) * h * w * c), actual(std::size_t(n) * c, -1.0f);
        fill_uniform(input.data(), input.size(), 11u);
        kernels::global_avgpool_ref(input.data(), actual.data(), n, h, w, c);
        for (int b = 0; b < n; ++b)
            for (int ch = 0; ch < c; ++ch) {
                double sum = 0.0;
                for (int p = 0; p < h * w; ++p) sum += input[(std::size_t(b) * h * w + p) * c + ch];
                REQUIRE(actual[std::size_t(b) * c + ch] == float(sum / (h * w)));
            }
    }
}

TEST_CASE("softmax: each implementation against double-precision exponentials, large logits included") {
    const int lengths[] = {1, 7, 8, 16, 17, 1001};
    struct Logits { float lo, hi; const char* name; };
    const Logits ranges[] = {{-5.0f, 5.0f, "small"},
                             {990.0f, 1010.0f, "large, close together"},
                             {-1000.0f, 1000.0f, "large, far apart"}};
    for (const auto& entry : distinct_entries(&KernelTable::softmax))
        for (const int length : lengths)
            for (const int rows : {1, 3})
                for (const Logits& range : ranges)
                    for (const bool misaligned : {false, true}) {
                        CAPTURE(entry.second);
                        CAPTURE(length); CAPTURE(rows); CAPTURE(std::string(range.name)); CAPTURE(misaligned);
                        const std::size_t count = std::size_t(rows) * length;
                        GuardedBuffer input(count, misaligned), expected(count), actual(count);
                        fill_uniform(input.data(), count, 31u + unsigned(length), range.lo, range.hi);
                        for (int r = 0; r < rows; ++r) {
                            const float* in = input.data() + std::size_t(r) * length;
                            const double top = *std::max_element(in, in + length);
                            double sum = 0.0;
                            for (int i = 0; i < length; ++i) sum += std::exp(double(in[i]) - top);
                            for (int i = 0; i < length; ++i)
                                expected[std::size_t(r) * length + i] = float(std::exp(double(in[i]) - top) / sum);
                        }
                        entry.first(input.data(), actual.data(), rows, length);
                        CHECK_MESSAGE(actual.guards_intact(), "wrote outside its output");
                        // exp() in float is good to a few ulp and normalising sums `length`
                        // terms; results below the normal range may be flushed to zero.
                        const Tolerance tol{1e-35, 2.0 * (length + 16) * FLT_EPSILON};
                        check_close(expected.data(), actual.data(), count, tol);
                    }
}

TEST_CASE("dense: each implementation against a double-precision product") {
    const int in_features[] = {1, 7, 8, 9, 17, 33, 2048};
    const int out_features[] = {1, 3, 16, 17, 1001};
    for (const auto& entry : distinct_entries(&KernelTable::dense))
        for (const int in_f : in_features)
            for (const int out_f : out_features)
                for (const int n : {1, 3})
                    for (const bool with_bias : {true, false}) {
                        CAPTURE(entry.second);
                        CAPTURE(in_f); CAPTURE(out_f); CAPTURE(n); CAPTURE(with_bias);
                        const bool misaligned = (in_f + out_f) % 2 == 1;
                        GuardedBuffer input(std::size_t(n) * in_f, misaligned);
                        GuardedBuffer weights{std::size_t(out_f) * in_f}, bias{std::size_t(out_f)};
                        fill_uniform(input.data(), input.size(), 5u + unsigned(in_f));
                        fill_uniform(weights.data(), weights.size(), 6u + unsigned(out_f));
                        fill_uniform(bias.data(), bias.size(), 8u);
                        GuardedBuffer expected(std::size_t(n) * out_f), actual(std::size_t(n) * out_f);
                        for (int b = 0; b < n; ++b)
                            for (int j = 0; j < out_f; ++j) {
                                double sum = with_bias ? bias[std::size_t(j)] : 0.0;
                                for (int i = 0; i < in_f; ++i)
                                    sum += double(input[std::size_t(b) * in_f + i]) * weights[std::size_t(j) * in_f + i];
                                expected[std::size_t(b) * out_f + j] = float(sum);
                            }
                        kernels::DenseArgs a;
                        a.input = input.data();
                        a.weights = weights.data();
                        a.bias = with_bias ? bias.data() : nullptr;
                        a.n = n, a.in_features = in_f, a.out_features = out_f;
                        a.output = actual.data();
                        entry.first(a);
                        CHECK_MESSAGE(actual.guards_intact(), "wrote outside its output");
                        check_close(expected.data(), actual.data(), expected.size(), sum_tolerance(in_f, 1.0),
                                    nhwc_index(n, 1, out_f));
                    }
}

TEST_CASE("copy_channels: each implementation copies exactly into the slice and nowhere else") {
    for (const auto& entry : distinct_entries(&KernelTable::copy_channels))
        for (const int pixels : {1, 7, 35})
            for (const int c : kChannelCounts)
                for (const MemoryLayout& layout : kLayouts) {
                    CAPTURE(entry.second);
                    CAPTURE(pixels); CAPTURE(c); CAPTURE(std::string(layout.name));
                    const int stride = c + layout.out_offset + layout.out_extra;
                    GuardedBuffer src(std::size_t(pixels) * c, layout.misaligned);
                    fill_uniform(src.data(), src.size(), 11u + unsigned(c));
                    GuardedBuffer actual(std::size_t(pixels) * stride);
                    entry.first(src.data(), pixels, c, actual.data(), stride, layout.out_offset);
                    CHECK_MESSAGE(untouched_outside_slice(actual, stride, layout.out_offset, c),
                                  "wrote outside its channel slice");
                    std::size_t wrong = 0;
                    for (int p = 0; p < pixels; ++p)
                        for (int ch = 0; ch < c; ++ch)
                            wrong += actual[std::size_t(p) * stride + layout.out_offset + ch] != src[std::size_t(p) * c + ch];
                    CHECK_MESSAGE(wrong == 0, wrong << " channels copied wrong");
                }
}

namespace {

// Values over twenty octaves, so that a sum taken in another order than the documented one,
// or a product fused where it must be rounded, changes the bits.
std::vector<float> wide_floats(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::uniform_int_distribution<int> octave(-10, 10);
    std::vector<float> v(n);
    for (float& x : v) x = std::ldexp(normal(rng), octave(rng));
    return v;
}

// head_dots' order as kernel_table.hpp words it, written out again.
double documented_dot(const float* x, const double* w, int n) {
    double part[8] = {};
    const int whole = n - n % 8;
    for (int j = 0; j < whole; ++j) part[j % 8] += double(x[j]) * w[j];
    double sum = 0;
    for (int j = whole; j < n; ++j) sum += double(x[j]) * w[j];
    for (const double p : part) sum += p;
    return sum;
}

}  // namespace

TEST_CASE("head_dots: every table gives the documented sums bit for bit, any rows and classes") {
    for (const auto& entry : distinct_entries(&KernelTable::head_dots))
        for (const int n : {0, 1, 7, 8, 9, 15, 17, 33, 2303, 2304, 2305})
            for (const int rows : {1, 3, 4, 5, 8, 9, 17, 32})
                for (const int classes : {1, 2, 3}) {
                    CAPTURE(entry.second);
                    CAPTURE(n); CAPTURE(rows); CAPTURE(classes);
                    // Each row one float further into the buffer than a whole row: misaligned rows.
                    const std::vector<float> x = wide_floats(std::size_t(rows) * (std::size_t(n) + 1), unsigned(n + rows));
                    const std::vector<float> wf = wide_floats(std::size_t(classes) * std::size_t(n), unsigned(7 * n + classes));
                    const std::vector<double> w(wf.begin(), wf.end());
                    std::vector<const float*> row(static_cast<std::size_t>(rows));
                    for (int r = 0; r < rows; ++r) row[std::size_t(r)] = x.data() + std::size_t(r) * (std::size_t(n) + 1) + 1;
                    std::vector<double> z(std::size_t(rows) * std::size_t(classes) + 1, -7.0);  // one past: untouched
                    entry.first(row.data(), rows, w.data(), classes, n, z.data());
                    std::size_t wrong = 0;
                    for (int r = 0; r < rows; ++r)
                        for (int c = 0; c < classes; ++c)
                            wrong += z[std::size_t(r * classes + c)] !=
                                     documented_dot(row[std::size_t(r)], w.data() + std::size_t(c) * std::size_t(n), n);
                    CHECK_MESSAGE(wrong == 0, wrong << " sums differ");
                    CHECK(z.back() == -7.0);
                }
}

TEST_CASE("head_outer: every table rounds each product before adding it, rows in order, bit for bit") {
    for (const auto& entry : distinct_entries(&KernelTable::head_outer))
        for (const int n : {0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 2303, 2304, 2305})
            for (const int rows : {1, 2, 5, 32})
                for (const int classes : {1, 2, 3}) {
                    CAPTURE(entry.second);
                    CAPTURE(n); CAPTURE(rows); CAPTURE(classes);
                    const std::vector<float> x = wide_floats(std::size_t(rows) * (std::size_t(n) + 1), unsigned(n + rows));
                    std::vector<const float*> row(static_cast<std::size_t>(rows));
                    for (int r = 0; r < rows; ++r) row[std::size_t(r)] = x.data() + std::size_t(r) * (std::size_t(n) + 1) + 1;
                    // Gradients that are not floats, so no product is exact in double.
                    std::vector<double> g(std::size_t(rows) * std::size_t(classes));
                    for (std::size_t k = 0; k < g.size(); ++k) g[k] = 0.1234567890123 * double(k + 1) / 3.0;
                    const std::vector<float> start = wide_floats(std::size_t(classes) * std::size_t(n), unsigned(n) + 99);
                    std::vector<double> out(start.begin(), start.end());
                    out.push_back(-7.0);  // one past: untouched
                    entry.first(row.data(), g.data(), rows, classes, n, out.data());
                    std::size_t wrong = 0;
                    for (int c = 0; c < classes; ++c)
                        for (int j = 0; j < n; ++j) {
                            const std::size_t at = std::size_t(c) * std::size_t(n) + std::size_t(j);
                            double expected = start[at];
                            for (int r = 0; r < rows; ++r) {
                                volatile double product = g[std::size_t(r * classes + c)] * double(row[std::size_t(r)][j]);
                                expected += product;  // rounded on its own, then added
                            }
                            wrong += out[at] != expected;
                        }
                    CHECK_MESSAGE(wrong == 0, wrong << " sums differ");
                    CHECK(out.back() == -7.0);
                }
}
