// Images met one at a time (a folder, a cache with gaps, a command line) go to the network in
// batches of kNetworkBatch: the one place a batch is cut. Items keep the caller's numbering.
// Images can be handed over still to decode: a batch's decodes then run together on the
// thread pool when it is cut, so the cores that run the network also share the decoding
// instead of one decoding while the others wait.
#pragma once
#include <cstddef>
#include <functional>
#include <vector>

#include "error.hpp"
#include "image/image.hpp"

namespace tinception {

// Images per network call: the activations of 8 images stay well under 1 GiB, and more
// gain nothing on the kernels' speed.
inline constexpr std::size_t kNetworkBatch = 8;

class ImageBatches {
public:
    // Gets each full batch, and the rest at flush(): the items' numbers and their images.
    using Run = std::function<void(const std::vector<std::size_t>& items, std::vector<ImageRgb8>& images)>;
    // Produces one item's image; may run on any thread, so it touches only its own item's state.
    // Throws Error for an image that cannot be read or decoded.
    using Decode = std::function<ImageRgb8()>;
    // Hears of each item whose Decode threw an Error, on the calling thread, in item order,
    // before its batch runs without it.
    using Failed = std::function<void(std::size_t item, const Error& error)>;

    explicit ImageBatches(Run run, std::size_t batch_size = kNetworkBatch);
    ImageBatches(Run run, Failed failed, std::size_t batch_size = kNetworkBatch);

    void add(std::size_t item, ImageRgb8 image);  // runs a batch once it is full
    void add(std::size_t item, Decode decode);    // needs a Failed; decoded when its batch is cut
    void flush();                                  // runs what is left, if anything

private:
    Run run_;
    Failed failed_;
    std::size_t batch_size_;
    std::vector<std::size_t> items_;
    std::vector<Decode> decodes_;
};

}  // namespace tinception
