// ImageBatches: full batches as images arrive, the rest at flush, items in the caller's
// numbering, a batch that throws is not run twice, and images handed over still to decode are
// decoded on every thread of the pool, their failures told in item order and left out.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "model/image_batches.hpp"
#include "parallel/thread_pool.hpp"

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

TEST_CASE("image batches: decodes run across the pool; a failed decode is told in order and left out") {
    const int saved_threads = thread_count();
    set_thread_count(2);
    const int pool_threads = thread_count();  // 1 in a build without threads
    std::vector<int> decoded_on(kNetworkBatch + 3, -1);
    std::vector<std::string> told;
    std::vector<std::vector<std::size_t>> runs;
    ImageBatches batches(
        [&](const std::vector<std::size_t>& items, std::vector<ImageRgb8>& images) {
            REQUIRE(items.size() == images.size());
            for (std::size_t i = 0; i < items.size(); ++i) {
                CHECK(images[i].width == int(items[i]) + 1);
                CHECK(images[i].pixels.size() == std::size_t(images[i].width) * 3);
            }
            runs.push_back(items);
        },
        [&](std::size_t item, const Error& e) { told.push_back(std::to_string(item) + ": " + e.what()); });
    // Items 0 and 4, the first of each thread's share of the first batch, each wait (up to
    // 10 s) for a decode on another thread: the items are tiny, and a thread that finishes its
    // share early takes over the rest, so without the wait one thread might decode them all.
    std::atomic<unsigned> decoding_threads{0};  // bit i: thread i has started a decode
    for (std::size_t item = 0; item < decoded_on.size(); ++item)
        batches.add(item, ImageBatches::Decode([&, item] {
            decoded_on[item] = thread_index();
            const unsigned mine = 1u << thread_index();
            decoding_threads |= mine;
            if ((item == 0 || item == 4) && pool_threads > 1) {
                const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
                while ((decoding_threads.load() & ~mine) == 0 && std::chrono::steady_clock::now() < deadline)
                    std::this_thread::sleep_for(std::chrono::microseconds(100));
            }
            if (item == 1 || item == 6 || item == 9) throw Error("cannot decode");
            return image_of_width(int(item) + 1);
        }));
    CHECK(runs.size() == 1);  // the first batch ran as soon as it was full
    batches.flush();
    set_thread_count(saved_threads);

    CHECK(runs == std::vector<std::vector<std::size_t>>{{0, 2, 3, 4, 5, 7}, {8, 10}});
    CHECK(told == std::vector<std::string>{"1: cannot decode", "6: cannot decode", "9: cannot decode"});
    // Every item decoded once, and a full batch on more than one thread where the build has them.
    std::set<int> threads(decoded_on.begin(), decoded_on.begin() + long(kNetworkBatch));
    CHECK(threads.count(-1) == 0);
    CHECK(int(threads.size()) == pool_threads);
}

TEST_CASE("image batches: a decode that fails in a batch of one leaves no network call") {
    int calls = 0;
    std::vector<std::size_t> told;
    ImageBatches batches([&](const std::vector<std::size_t>&, std::vector<ImageRgb8>&) { ++calls; },
                         [&](std::size_t item, const Error&) { told.push_back(item); });
    batches.add(7, ImageBatches::Decode([]() -> ImageRgb8 { throw Error("empty file"); }));
    batches.flush();
    CHECK(calls == 0);
    CHECK(told == std::vector<std::size_t>{7});
}

TEST_CASE("image batches: decoding without a Failed callback is refused") {
    ImageBatches batches([](const std::vector<std::size_t>&, std::vector<ImageRgb8>&) {});
    CHECK_THROWS_AS(batches.add(0, ImageBatches::Decode([] { return image_of_width(1); })), std::logic_error);
}
