#include "model/image_batches.hpp"

#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>

#include "parallel/thread_pool.hpp"

namespace tinception {

ImageBatches::ImageBatches(Run run, std::size_t batch_size) : ImageBatches(std::move(run), nullptr, batch_size) {}

ImageBatches::ImageBatches(Run run, Failed failed, std::size_t batch_size)
    : run_(std::move(run)), failed_(std::move(failed)), batch_size_(batch_size ? batch_size : 1) {}

void ImageBatches::add(std::size_t item, ImageRgb8 image) {
    // std::function needs a copyable callable: the image waits in a shared slot.
    auto decoded = std::make_shared<ImageRgb8>(std::move(image));
    items_.push_back(item);
    decodes_.push_back([decoded] { return std::move(*decoded); });
    if (items_.size() == batch_size_) flush();
}

void ImageBatches::add(std::size_t item, Decode decode) {
    if (!failed_) throw std::logic_error("ImageBatches: decoding needs a Failed callback");
    items_.push_back(item);
    decodes_.push_back(std::move(decode));
    if (items_.size() == batch_size_) flush();
}

void ImageBatches::flush() {
    if (items_.empty()) return;
    // Taken out first, so a batch that throws is not run again by a later flush.
    std::vector<std::size_t> items = std::move(items_);
    std::vector<Decode> decodes = std::move(decodes_);
    items_.clear();
    decodes_.clear();

    std::vector<ImageRgb8> images(items.size());
    std::vector<std::optional<Error>> errors(items.size());
    parallel_for(int(items.size()), [&](int i) {
        try {
            images[std::size_t(i)] = decodes[std::size_t(i)]();
        } catch (const Error& e) {
            errors[std::size_t(i)] = e;
        }
    });
    std::size_t kept = 0;
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (errors[i]) {
            failed_(items[i], *errors[i]);
            continue;
        }
        if (kept != i) {  // a vector moved onto itself may come out empty
            items[kept] = items[i];
            images[kept] = std::move(images[i]);
        }
        ++kept;
    }
    items.resize(kept);
    images.resize(kept);
    if (kept) run_(items, images);
}

}  // namespace tinception
