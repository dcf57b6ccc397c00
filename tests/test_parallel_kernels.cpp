// Convolutions and pools cut into row bands and channel groups, by hand and by
// conv2d_parallel / pool2d_parallel on 1 to 32 threads, over the rows of kernel_cases.hpp and
// Inception's 17x17 and 8x8 shapes:
// every cut matches the reference, and the threaded cuts are bit-identical to one thread (and,
// for tables with panels, to the uncut call). Then the thread pool under them.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "kernel_fixtures.hpp"
#include "layers/conv2d_parallel.hpp"
#include "layers/pool2d_parallel.hpp"
#include "parallel/thread_pool.hpp"

using namespace tinception;
using namespace tinception::testing;
using kernels::Conv2dArgs;
using kernels::KernelTable;

TEST_CASE("conv2d: row bands of one, two, three and five rows, pad_top down to negative, match the reference") {
    const MemoryLayout& layout = kLayouts[1];
    for (const ConvCase& cc : kConvCases) {
        CAPTURE(describe(cc));
        const ConvFixture f(cc, layout, 11);
        GuardedBuffer expected = f.fresh_output();
        kernels::reference_kernels().conv2d(f.args(&expected));
        for (const KernelTable* table : tables_under_test())
            // 5: a band that holds a whole 4-row Winograd tile, whose last row a shorter band never computes
            for (const int band_rows : {1, 2, 3, 5}) {
                CAPTURE(std::string(table->isa_name));
                CAPTURE(band_rows);
                GuardedBuffer actual = f.fresh_output();
                const Conv2dArgs whole = f.args(&actual);
                for (int b = 0; b < whole.n; ++b)
                    for (int y0 = 0; y0 < whole.out_h; y0 += band_rows) {
                        Conv2dArgs band = whole;
                        band.n = 1;
                        band.input = whole.input + long(b) * whole.in_h * whole.in_w * whole.in_pixel_stride;
                        band.out_h = std::min(band_rows, whole.out_h - y0);
                        band.pad_top = whole.pad_top - y0 * whole.stride_h;
                        band.output = whole.output + (long(b) * whole.out_h + y0) * whole.out_w * whole.out_pixel_stride;
                        conv2d_once(*table, band);
                    }
                f.check(*table, expected, actual);
            }
    }
}

// cc on `table` through conv2d_parallel on one thread, then on each of `thread_counts`
// (counts past the cores are fine: only the cut, not the speed, is under test): one thread
// matches the reference and every count gives one thread's bits. Returns the cuts planned.
std::vector<Conv2dCut> check_threads_bit_identical(const KernelTable& table, const ConvCase& cc, std::uint32_t seed,
                                                   const std::vector<int>& thread_counts) {
    const ConvFixture f(cc, kLayouts[1], seed);
    const PackedWeights packed = pack_weights(table, f.args());
    GuardedBuffer expected = f.fresh_output(), whole = f.fresh_output(), one = f.fresh_output();
    kernels::reference_kernels().conv2d(f.args(&expected));
    conv2d_once(table, f.args(&whole, packed.get()));
    set_thread_count(1);
    conv2d_parallel(table, f.args(&one, packed.get()));
    f.check(table, expected, one);
    // Bands start on the table's row alignment and channel groups on its panels, so every cut
    // keeps the uncut call's tiles and sums; tables without panels are cut for two threads
    // whatever the count.
    if (table.conv2d_panel_width > 0) CHECK(whole == one);
    std::vector<Conv2dCut> cuts;
    for (const int threads : thread_counts) {
        CAPTURE(threads);
        GuardedBuffer many = f.fresh_output();
        cuts.push_back(conv2d_cut(table, f.args(&many, packed.get()), threads));
        set_thread_count(threads);
        conv2d_parallel(table, f.args(&many, packed.get()));
        CHECK(one == many);
    }
    set_thread_count(2);
    return cuts;
}

TEST_CASE("conv2d_parallel: every row on 1 to 32 threads, bit-identical to one thread and to the uncut call") {
    for (const KernelTable* table : tables_under_test()) {
        CAPTURE(std::string(table->isa_name));
        bool cut_rows = false, cut_channels = false;
        for (const ConvCase& cc : kConvCases) {
            CAPTURE(describe(cc));
            for (const Conv2dCut& cut : check_threads_bit_identical(*table, cc, 5, {2, 3, 8, 32})) {
                cut_rows = cut_rows || cut.bands > 1;
                cut_channels = cut_channels || cut.groups > 1;
            }
        }
        // Both kinds of cut really ran (tables without panels are cut by rows only).
        CHECK(cut_rows);
        if (table->conv2d_panel_width > 0) CHECK(cut_channels);
    }
}

// Inception's 17x17 and 8x8 layers, narrowed in in_c to keep the reference quick: at batch 1
// two threads split the 8x8 ones by output channel and the 17x17 ones by rows and channels;
// at batch 8 two threads take whole images and three split each image. out_c leaves at least
// two channel groups of two panels each for the widest panels (AVX-512's 32 channels).
const ConvCase kSmallImageCases[] = {
    {1, 40, 17, 17, 192, 1, 1, 1, Padding::same, true},   // 1x1 in place
    {1, 40, 17, 17, 160, 1, 7, 1, Padding::same, true},   // F(4, 7) along the rows
    {1, 40, 17, 17, 192, 7, 1, 1, Padding::same, true},   // F(4, 7) down the columns: 4-row tiles
    {1, 33, 17, 17, 128, 3, 3, 1, Padding::same, true},   // F(4x4, 3x3)
    {1, 40, 35, 35, 160, 3, 3, 2, Padding::valid, true},  // stride 2 into 17x17: im2col
    {1, 40, 17, 17, 160, 3, 3, 2, Padding::valid, false}, // stride 2 into 8x8
    {1, 48, 8, 8, 160, 3, 3, 1, Padding::same, true},     // F(2x2, 3x3)
    {1, 48, 8, 8, 136, 1, 3, 1, Padding::same, true},     // F(4, 3) along the rows, a partial panel
    {1, 48, 8, 8, 136, 3, 1, 1, Padding::same, false},    // F(4, 3) down the columns
};

TEST_CASE("conv2d_parallel: 17x17 and 8x8 layers at batch 1 and 8, bit-identical on 1, 2, 3 and more threads than cores") {
    const int more_than_cores = int(std::thread::hardware_concurrency()) + 1;
    for (const KernelTable* table : tables_under_test()) {
        CAPTURE(std::string(table->isa_name));
        for (const ConvCase& small : kSmallImageCases)
            for (const int n : {1, 8}) {
                ConvCase cc = small;
                cc.n = n;
                CAPTURE(describe(cc));
                const std::vector<Conv2dCut> cuts = check_threads_bit_identical(*table, cc, 17, {2, 3, more_than_cores});
                if (table->conv2d_panel_width > 0 && n == 1) {
                    // The splits this test is about, on two threads: channel halves of every
                    // row at 8x8; at 17x17, a band each and channel halves of the odd row (or
                    // Winograd tile row) left over.
                    const bool eight = ConvFixture(cc, kLayouts[1], 17).args().out_h == 8;
                    CHECK(cuts[0].groups == 2);
                    CHECK(cuts[0].bands == (eight ? 1 : 2));
                    CHECK(cuts[0].shared_rows == !eight);
                }
            }
    }
}

TEST_CASE("pool2d_parallel: every pooling row, max and average, 1 and 2 threads bit-identical") {
    for (const KernelTable* table : available_kernel_tables())
        for (const PoolCase& pc : kPoolCases)
            for (const bool max : {true, false}) {
                CAPTURE(std::string(table->isa_name));
                CAPTURE(describe(pc));
                CAPTURE(max);
                const PoolFixture f(pc, kLayouts[1], 5);
                const auto op = [&](const KernelTable& t) { return max ? t.maxpool2d : t.avgpool2d; };
                GuardedBuffer expected = f.fresh_output(), one = f.fresh_output(), two = f.fresh_output();
                op(kernels::reference_kernels())(f.args(&expected, false));
                set_thread_count(1);
                pool2d_parallel(op(*table), f.args(&one, false));
                set_thread_count(2);
                pool2d_parallel(op(*table), f.args(&two, false));
                CHECK(one == two);
                f.check(expected, two, max ? Tolerance{} : sum_tolerance(long(pc.kernel_h) * pc.kernel_w, 1.0));
            }
    set_thread_count(2);
}

TEST_CASE("parallel_for: runs every task once, partitions statically, rethrows") {
    for (int threads : {1, 2, 3}) {
        set_thread_count(threads);
#ifdef TINCEPTION_NO_THREADS
        CHECK(thread_count() == 1);  // -Dthreads=disabled: there is no pool to resize
#else
        CHECK(thread_count() == threads);
#endif
        std::vector<int> hits(37, 0);
        parallel_for(37, [&](int t) { ++hits[std::size_t(t)]; });
        CHECK(std::vector<int>(37, 1) == hits);
        CHECK_THROWS(parallel_for(5, [](int t) {
            if (t == 3) throw std::runtime_error("task 3");
        }));
        // A single task runs on the caller, whose nested call may then use the pool; tasks
        // of a pooled call run their nested calls inline. Either way every nested task runs
        // once (counted atomically: the first case's may run on several threads).
        std::atomic<int> nested{0};
        parallel_for(1, [&](int) { parallel_for(4, [&](int) { ++nested; }); });
        CHECK(nested.load() == 4);
        nested = 0;
        parallel_for(3, [&](int) { parallel_for(4, [&](int) { ++nested; }); });
        CHECK(nested.load() == 12);
    }
    set_thread_count(2);
}

TEST_CASE("parallel_for: back-to-back calls, calls after the workers sleep") {
    set_thread_count(2);
    std::atomic<long> sum{0};
    for (int i = 0; i < 20000; ++i) parallel_for(2, [&](int t) { sum += t + 1; });
    CHECK(sum == 20000L * 3);
    for (int i = 0; i < 5; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(3));  // past the workers' polling time
        parallel_for(4, [&](int t) { sum += t; });
    }
    CHECK(sum == 20000L * 3 + 5 * 6);
}

#ifndef TINCEPTION_NO_THREADS
TEST_CASE("parallel_for: a thread held up in its first task does not hold up the rest of its share") {
    set_thread_count(2);
    // The worker's share is tasks 4..7. Task 0 waits for the worker to start task 4 (its first),
    // and task 4 waits until 5, 6 and 7 are done: only the caller taking them over lets it
    // finish (without that, it gives up after 10 s and the test fails).
    const auto caller = std::this_thread::get_id();
    std::vector<std::thread::id> ran_on(8);
    std::atomic<bool> worker_started{false};
    std::atomic<int> later_done{0};
    bool gave_up = false;
    const auto wait_for = [](const auto& ready) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (!ready() && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::microseconds(100));
        return ready();
    };
    parallel_for(8, [&](int t) {
        ran_on[std::size_t(t)] = std::this_thread::get_id();
        if (std::this_thread::get_id() != caller) worker_started = true;
        if (t == 0) wait_for([&] { return worker_started.load(); });
        if (t == 4) {
            gave_up = !wait_for([&] { return later_done.load() == 3; });
        }
        if (t > 4) ++later_done;
    });
    CHECK_FALSE(gave_up);
    for (int t = 0; t < 4; ++t) CHECK(ran_on[std::size_t(t)] == caller);  // its own share
    for (int t = 5; t < 8; ++t) CHECK(ran_on[std::size_t(t)] == caller);  // taken over
    CHECK(ran_on[4] != caller);

    // After a throw, unstarted tasks are skipped and the call still returns. The first task
    // to start throws at once; the others take 20 us, so most are still unstarted by then.
    std::atomic<int> ran{0};
    CHECK_THROWS_AS(parallel_for(1000, [&](int) {
                        if (ran++ == 0) throw std::runtime_error("the first task");
                        std::this_thread::sleep_for(std::chrono::microseconds(20));
                    }),
                    std::runtime_error);
    CHECK(ran.load() < 1000);
}

TEST_CASE("run_on_every_thread: one task on each thread, none taken over") {
    for (int threads : {1, 2, 3}) {
        set_thread_count(threads);
        std::vector<int> index_seen(std::size_t(threads), -1);
        std::vector<std::thread::id> ids(static_cast<std::size_t>(threads));
        run_on_every_thread([&](int t) {
            index_seen[std::size_t(t)] = thread_index();
            ids[std::size_t(t)] = std::this_thread::get_id();
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        });
        for (int t = 0; t < threads; ++t) CHECK(index_seen[std::size_t(t)] == t);
        CHECK(ids[0] == std::this_thread::get_id());
        CHECK(std::set<std::thread::id>(ids.begin(), ids.end()).size() == std::size_t(threads));
    }
    set_thread_count(2);
}
#endif
