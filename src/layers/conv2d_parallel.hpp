// Runs one convolution across the thread pool by cutting it into independent calls of the
// same kernel. Shape checking and padding choice stay in the layer code; this only splits.
#pragma once
#include "kernel_table.hpp"
#include "layers/conv2d_workspace.hpp"

namespace tinception {

// How one image's output is cut: `bands` row bands times `groups` output-channel groups.
// Where the images do not share out evenly over the threads, small images (8x8 on two
// threads) are cut into channel groups, so that each thread reads only its share of the
// weights; larger ones into bands, and when their rows (or Winograd tile rows) do not share
// out either, `shared_rows`: one band of whole rows per thread (`bands` of them), the rows
// left over cut into `groups` channel groups, one more task per thread.
struct Conv2dCut {
    int bands = 1;
    int groups = 1;
    bool shared_rows = false;
};

// Same result as table.conv2d(args), computed as tasks of (batch image, channel group, band
// of output rows). For the SIMD tables the cut depends on the shape and the thread count but
// never changes a value: each output's sum runs in the same order whatever the cut (the GEMM
// kernels chunk the reduction by K alone; bands start on the table's row alignment, so
// Winograd tiles stay put), so the output is bit-identical to an uncut call. Other tables get a cut that ignores
// the thread count. Either way the output is bit-identical for any number of threads.
// Each task runs in its thread's workspace, which must hold conv2d_workspace_bytes(table,
// args) bytes for at least thread_count() threads (an Error otherwise, before any work).
void conv2d_parallel(const kernels::KernelTable& table, const kernels::Conv2dArgs& args,
                     const Conv2dWorkspaces& workspaces);
// The same with workspaces allocated for this call: for tests, benchmarks and one-off calls.
void conv2d_parallel(const kernels::KernelTable& table, const kernels::Conv2dArgs& args);

// One convolution as conv2d_parallel's tasks, for running several layers' tasks in one
// parallel_for (network.cpp's waves). run(task) for every task in [0, count()), on any
// threads in any order, gives table.conv2d(args)'s output. The memory `args` and
// `workspaces` point to must stay valid while tasks run.
class Conv2dTasks {
public:
    // Plans the cut for `threads` threads; an Error when `workspaces` hold less than that.
    Conv2dTasks(const kernels::KernelTable& table, const kernels::Conv2dArgs& args, const Conv2dWorkspaces& workspaces,
                int threads);
    int count() const { return count_; }
    void run(int task) const;

private:
    void run_group(const kernels::Conv2dArgs& rows, int group, int groups) const;

    const kernels::KernelTable& table_;
    kernels::Conv2dArgs args_;
    Conv2dWorkspaces workspaces_;
    Conv2dCut cut_;
    int count_ = 0;
    int unit_ = 1, units_ = 1;
    int per_band_ = 0, shared_y0_ = 0;  // shared_rows only
};

// The cut conv2d_parallel uses for this shape, table and thread count (exposed for tests).
Conv2dCut conv2d_cut(const kernels::KernelTable& table, const kernels::Conv2dArgs& args, int threads);

// The number of row bands each image is cut into for this shape (exposed for tests), and
// where band `band` of `bands` starts (a multiple of the table's row alignment; band `bands`
// starts at out_h).
int conv2d_bands_per_image(const kernels::KernelTable& table, const kernels::Conv2dArgs& args, int threads);
int conv2d_band_start(const kernels::KernelTable& table, const kernels::Conv2dArgs& args, int bands, int band);

}  // namespace tinception
