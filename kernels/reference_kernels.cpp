// The reference table: what every other table is tested against.
#include "reference.hpp"

namespace tinception::kernels {

const KernelTable& reference_kernels() {
    static const KernelTable table = [] {
        KernelTable t;
        t.isa_name = "reference";
        t.conv2d = conv2d_direct_ref;
        t.maxpool2d = maxpool2d_ref;
        t.avgpool2d = avgpool2d_ref;
        t.global_avgpool = global_avgpool_ref;
        t.softmax = softmax_ref;
        t.dense = dense_ref;
        t.copy_channels = copy_channels_ref;
        t.head_dots = head_dots_ref;
        t.head_outer = head_outer_ref;
        return t;
    }();
    return table;
}

}  // namespace tinception::kernels
