#include "model/image_batches.hpp"

#include <utility>

namespace tinception {

ImageBatches::ImageBatches(Run run, std::size_t batch_size)
    : run_(std::move(run)), batch_size_(batch_size ? batch_size : 1) {}

void ImageBatches::add(std::size_t item, ImageRgb8 image) {
    items_.push_back(item);
    images_.push_back(std::move(image));
    if (items_.size() == batch_size_) flush();
}

void ImageBatches::flush() {
    if (items_.empty()) return;
    // Taken out first, so a batch that throws is not run again by a later flush.
    std::vector<std::size_t> items = std::move(items_);
    std::vector<ImageRgb8> images = std::move(images_);
    items_.clear();
    images_.clear();
    run_(items, images);
}

}  // namespace tinception
