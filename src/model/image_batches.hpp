// Images met one at a time (a folder, a cache with gaps, a command line) go to the network in
// batches of kNetworkBatch: the one place a batch is cut. Items keep the caller's numbering.
#pragma once
#include <cstddef>
#include <functional>
#include <vector>

#include "image/image.hpp"

namespace tinception {

// Images per network call: the activations of 8 images stay well under 1 GiB, and more
// gain nothing on the kernels' speed.
inline constexpr std::size_t kNetworkBatch = 8;

class ImageBatches {
public:
    // Gets each full batch, and the rest at flush(): the items' numbers and their images.
    using Run = std::function<void(const std::vector<std::size_t>& items, std::vector<ImageRgb8>& images)>;
    explicit ImageBatches(Run run, std::size_t batch_size = kNetworkBatch);

    void add(std::size_t item, ImageRgb8 image);  // runs a batch once it is full
    void flush();                                  // runs what is left, if anything

private:
    Run run_;
    std::size_t batch_size_;
    std::vector<std::size_t> items_;
    std::vector<ImageRgb8> images_;
};

}  // namespace tinception
