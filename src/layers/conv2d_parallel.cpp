// Splitting a convolution into (image, channel group, row band) tasks. A band is itself a
// convolution: its output starts y0 rows down, and its input window starts where the band's
// first row reads. A channel group is one too: a slice of the weights, bias, packed panels
// and output channels.
#include "layers/conv2d_parallel.hpp"

#include <string>

#include "error.hpp"
#include "layers/row_band.hpp"
#include "parallel/thread_pool.hpp"

namespace tinception {

namespace {

// Below this many output pixels per band the GEMM tiles run mostly empty and a split costs
// more than it gains, unless the threads would otherwise sit idle.
constexpr long kMinBandPixels = 128;
// Enough bands to balance two to a few threads.
constexpr int kMaxBands = 12;
// Channel groups start at multiples of the table's panel width (of this, for tables without
// panels) and hold at least two units, so a group's repeated im2col or input transform stays
// small beside its GEMM.
constexpr int kChannelUnit = 32;
constexpr int kMinGroupUnits = 2;
// Below this many output pixels per image and thread (the 8x8 layers at batch 1 on two
// threads), a row band holds a handful of Winograd tiles (a 6-row and a 2-row GEMM tile for
// 8 tiles) while every thread streams all of the layer's weights: there the threads split
// the output channels instead, each reading its share of the weights.
constexpr long kChannelCutMaxPixelsPerThread = 128;

// The convolution restricted to image `b` and output rows [y0, y0 + rows).
kernels::Conv2dArgs band_args(const kernels::Conv2dArgs& a, int b, int y0, int rows) {
    return row_band(a, a.in_pixel_stride ? a.in_pixel_stride : a.in_c,
                    a.out_pixel_stride ? a.out_pixel_stride : a.out_c, b, y0, rows);
}

// The convolution restricted to output channels [c0, c0 + count); c0 is a multiple of
// channel_unit(table), so packed panels are cut on a panel boundary.
kernels::Conv2dArgs channel_args(const kernels::KernelTable& table, const kernels::Conv2dArgs& a, int c0,
                                 int count) {
    const long k_len = long(a.in_c) * a.kernel_h * a.kernel_w;
    kernels::Conv2dArgs g = a;
    if (!g.out_pixel_stride) g.out_pixel_stride = a.out_c;
    g.out_c = count;
    g.output = a.output + c0;
    g.weights = a.weights ? a.weights + c0 * k_len : nullptr;
    g.bias = a.bias ? a.bias + c0 : nullptr;
    const std::size_t packed_offset =
        table.conv2d_packed_offset ? table.conv2d_packed_offset(a, c0) : std::size_t(c0) * std::size_t(k_len);
    g.packed = a.packed ? static_cast<const float*>(a.packed) + packed_offset : nullptr;
    return g;
}

int conv2d_row_alignment(const kernels::KernelTable& table, const kernels::Conv2dArgs& a) {
    const int align = table.conv2d_row_alignment ? table.conv2d_row_alignment(a) : 1;
    return align < 1 ? 1 : align;
}

int channel_unit(const kernels::KernelTable& table) {
    return table.conv2d_panel_width > 0 ? table.conv2d_panel_width : kChannelUnit;
}

bool can_cut_channels(const kernels::KernelTable& table, const kernels::Conv2dArgs& a) {
    return !a.packed || table.conv2d_panel_width > 0;
}

}  // namespace

int conv2d_bands_per_image(const kernels::KernelTable& table, const kernels::Conv2dArgs& a, int threads) {
    // Bands hold whole groups of `align` rows, so a Winograd band's tiles sit where the uncut
    // call's do.
    const int align = conv2d_row_alignment(table, a);
    const long max_bands = (long(a.out_h) + align - 1) / align;
    long bands = long(a.out_h) * a.out_w / kMinBandPixels;
    if (bands > kMaxBands) bands = kMaxBands;
    // When the images do not share out evenly, every thread needs bands of each image: a
    // thread that keeps its own rows from layer to layer finds them in its own cache.
    if (threads > 1 && a.n % threads != 0 && bands < threads) bands = threads;
    if (bands > threads && threads > 1) bands -= bands % threads;  // equal shares
    if (bands > max_bands) bands = max_bands;
    return bands < 1 ? 1 : int(bands);
}

int conv2d_band_start(const kernels::KernelTable& table, const kernels::Conv2dArgs& a, int bands, int band) {
    const int align = conv2d_row_alignment(table, a);
    const long groups = (long(a.out_h) + align - 1) / align;
    const long y = align * (groups * band / bands);
    return int(y < a.out_h ? y : a.out_h);
}

Conv2dCut conv2d_cut(const kernels::KernelTable& table, const kernels::Conv2dArgs& a, int threads) {
    // Tables without packed panels (Eigen) may sum in another order when a call's size
    // changes: their cut is planned for two threads whatever the count, so that their output,
    // too, never depends on the thread count.
    if (table.conv2d_panel_width <= 0) threads = 2;
    Conv2dCut cut;
    cut.bands = conv2d_bands_per_image(table, a, threads);
    if (threads <= 1 || a.n % threads == 0 || !can_cut_channels(table, a)) return cut;
    const int unit = channel_unit(table);
    const int max_groups = (a.out_c + unit - 1) / unit / kMinGroupUnits;
    if (max_groups < 2) return cut;
    if (table.conv2d_panel_width > 0) {
        const int align = conv2d_row_alignment(table, a);
        const int row_units = (a.out_h + align - 1) / align;
        if (long(a.out_h) * a.out_w < kChannelCutMaxPixelsPerThread * threads) {
            // Small images: channel groups first, then bands for threads the groups leave over.
            cut.groups = threads < max_groups ? threads : max_groups;
            const int bands = (threads + cut.groups - 1) / cut.groups;
            cut.bands = bands < row_units ? bands : row_units;
            return cut;
        }
        if (row_units % threads != 0) {
            // Rows that do not share out (17 rows, or 5 or 9 Winograd tile rows, on two
            // threads): a band of whole row units per thread, and the rows left over cut by channel.
            cut.bands = threads;
            cut.groups = threads < max_groups ? threads : max_groups;
            cut.shared_rows = true;
            return cut;
        }
    }
    if (cut.bands >= threads) return cut;
    // Too few rows to give every thread a band: cut the channels as well.
    const int groups = (threads + cut.bands - 1) / cut.bands;
    cut.groups = groups < max_groups ? groups : max_groups;
    return cut;
}

void conv2d_parallel(const kernels::KernelTable& table, const kernels::Conv2dArgs& args) {
    const Conv2dScratch scratch(conv2d_workspace_bytes(table, args), thread_count());
    conv2d_parallel(table, args, scratch.workspaces());
}

Conv2dTasks::Conv2dTasks(const kernels::KernelTable& table, const kernels::Conv2dArgs& args,
                         const Conv2dWorkspaces& workspaces, int threads)
    : table_(table), args_(args), workspaces_(workspaces) {
    if (args.n <= 0 || args.out_h <= 0) return;
    const std::size_t needed = conv2d_workspace_bytes(table, args);
    if (needed > 0 && (workspaces.bytes_each < needed || workspaces.count < threads))
        throw Error("conv2d_parallel: " + std::to_string(workspaces.count) + " workspaces of " +
                        std::to_string(workspaces.bytes_each) + " bytes, where " + std::to_string(threads) + " of " +
                        std::to_string(needed) + " are needed",
                    ErrorKind::internal);
    cut_ = conv2d_cut(table, args, threads);
    unit_ = channel_unit(table);
    units_ = (args.out_c + unit_ - 1) / unit_;
    if (cut_.shared_rows) {
        // Per image, thread slot s runs task 2s, its band of whole row units, and task 2s + 1,
        // its channel group of the rows past the last band; the static partition gives each
        // thread the same number of slots.
        const int align = conv2d_row_alignment(table, args);
        per_band_ = (args.out_h + align - 1) / align / cut_.bands * align;
        shared_y0_ = per_band_ * cut_.bands;
        count_ = args.n * 2 * cut_.bands;
    } else {
        count_ = args.n * cut_.bands * cut_.groups;
    }
}

// Channels [c0, c1) of group `group` of `groups`: whole panels, the last one clipped.
void Conv2dTasks::run_group(const kernels::Conv2dArgs& rows, int group, int groups) const {
    const int c0 = units_ * group / groups * unit_;
    int c1 = units_ * (group + 1) / groups * unit_;
    if (c1 > args_.out_c) c1 = args_.out_c;
    if (c1 > c0) table_.conv2d(channel_args(table_, rows, c0, c1 - c0));
}

void Conv2dTasks::run(int task) const {
    if (cut_.shared_rows) {
        const int b = task / (2 * cut_.bands);
        const int slot = task % (2 * cut_.bands) / 2;
        const bool shared = task % 2 == 1;
        const int y0 = shared ? shared_y0_ : slot * per_band_;
        const int y1 = shared ? args_.out_h : y0 + per_band_;
        if (y1 <= y0 || (shared && slot >= cut_.groups)) return;
        kernels::Conv2dArgs rows = band_args(args_, b, y0, y1 - y0);
        rows.workspace = workspaces_.for_thread(thread_index());
        if (shared)
            run_group(rows, slot, cut_.groups);
        else
            table_.conv2d(rows);
        return;
    }
    // Task order (image, group, band): a thread's share is whole images where the batch
    // divides evenly, else the same rows of each layer.
    const int per_image = cut_.bands * cut_.groups;
    const int b = task / per_image;
    const int group = task % per_image / cut_.bands;
    const int band = task % cut_.bands;
    const int y0 = conv2d_band_start(table_, args_, cut_.bands, band);
    const int y1 = conv2d_band_start(table_, args_, cut_.bands, band + 1);
    if (y1 <= y0) return;
    kernels::Conv2dArgs rows = band_args(args_, b, y0, y1 - y0);
    rows.workspace = workspaces_.for_thread(thread_index());
    if (cut_.groups == 1)
        table_.conv2d(rows);
    else
        run_group(rows, group, cut_.groups);
}

void conv2d_parallel(const kernels::KernelTable& table, const kernels::Conv2dArgs& args,
                     const Conv2dWorkspaces& workspaces) {
    const Conv2dTasks tasks(table, args, workspaces, thread_count());
    if (tasks.count() <= 1) {
        if (tasks.count() == 1) tasks.run(0);
        return;
    }
    parallel_for(tasks.count(), [&](int task) { tasks.run(task); });
}

}  // namespace tinception
