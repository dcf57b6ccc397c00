// Runs one max or average pooling across the thread pool as independent calls of the same
// kernel on (image, band of output rows). Each output is computed alone, so any cut gives
// the same bits; the cut still depends on the shape only, like conv2d_parallel's.
#pragma once
#include "kernel_table.hpp"

namespace tinception {

void pool2d_parallel(kernels::Pool2dFn pool, const kernels::Pool2dArgs& args);

// The same pooling as tasks, for running several layers' tasks in one parallel_for:
// run(task) for every task in [0, count()), on any threads in any order.
class Pool2dTasks {
public:
    Pool2dTasks(kernels::Pool2dFn pool, const kernels::Pool2dArgs& args);
    int count() const { return count_; }
    void run(int task) const;

private:
    kernels::Pool2dFn pool_;
    kernels::Pool2dArgs args_;
    int bands_ = 1;
    int count_ = 0;
};

}  // namespace tinception
