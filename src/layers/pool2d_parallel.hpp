// Runs one max or average pooling across the thread pool as independent calls of the same
// kernel on (image, band of output rows). Each output is computed alone, so any cut gives
// the same bits; the cut still depends on the shape only, like conv2d_parallel's.
#pragma once
#include "kernel_table.hpp"

namespace tinception {

// What runs on a band's outputs after the pooling: out += bias[c], then max(0, out) with
// `relu`. For a 1x1 convolution computed before the average pooling that feeds it
// (network.cpp).
struct PoolEpilogue {
    const float* bias = nullptr;  // [c]; nullptr: no epilogue
    bool relu = false;
};

void pool2d_parallel(kernels::Pool2dFn pool, const kernels::Pool2dArgs& args, PoolEpilogue epilogue = {});

// The same pooling as tasks, for running several layers' tasks in one parallel_for:
// run(task) for every task in [0, count()), on any threads in any order.
class Pool2dTasks {
public:
    Pool2dTasks(kernels::Pool2dFn pool, const kernels::Pool2dArgs& args, PoolEpilogue epilogue = {});
    int count() const { return count_; }
    void run(int task) const;

private:
    kernels::Pool2dFn pool_;
    kernels::Pool2dArgs args_;
    PoolEpilogue epilogue_;
    int bands_ = 1;
    int count_ = 0;
};

}  // namespace tinception
