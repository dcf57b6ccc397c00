// ImageBatches: full batches as images arrive, the rest at flush, items in the caller's
// numbering, and a batch that throws is not run twice.
#include <doctest/doctest.h>

#include <stdexcept>
#include <vector>

#include "model/image_batches.hpp"

using namespace tinception;

namespace {

ImageRgb8 image_of_width(int w) { return ImageRgb8{w, 1, std::vector<std::uint8_t>(std::size_t(w) * 3, 0)}; }

}  // namespace

TEST_CASE("image batches: cut at the batch size, the rest at flush, items and images kept together") {
    std::vector<std::vector<std::size_t>> runs;
    ImageBatches batches(
        [&](const std::vector<std::size_t>& items, std::vector<ImageRgb8>& images) {
            REQUIRE(items.size() == images.size());
            for (std::size_t i = 0; i < items.size(); ++i) CHECK(images[i].width == int(items[i]) + 1);
            runs.push_back(items);
        },
        3);
    batches.flush();  // nothing yet: no call
    CHECK(runs.empty());
    for (const std::size_t item : {0, 2, 3, 5, 8, 9, 11}) batches.add(item, image_of_width(int(item) + 1));
    REQUIRE(runs.size() == 2);
    batches.flush();
    batches.flush();
    CHECK(runs == std::vector<std::vector<std::size_t>>{{0, 2, 3}, {5, 8, 9}, {11}});
}

TEST_CASE("image batches: the network's batch by default; a batch that throws is dropped, not re-run") {
    int calls = 0;
    ImageBatches batches([&](const std::vector<std::size_t>& items, std::vector<ImageRgb8>&) {
        ++calls;
        CHECK(items.size() == (calls == 1 ? kNetworkBatch : 1));
        if (calls == 1) throw std::runtime_error("network failed");
    });
    for (std::size_t i = 0; i + 1 < kNetworkBatch; ++i) batches.add(i, image_of_width(1));
    CHECK(calls == 0);
    CHECK_THROWS_AS(batches.add(kNetworkBatch - 1, image_of_width(1)), std::runtime_error);
    batches.flush();
    CHECK(calls == 1);
    batches.add(100, image_of_width(1));
    batches.flush();
    CHECK(calls == 2);
}
