// xxh64 against values the xxHash library (Debian libxxhash0 0.8.1, called through Python's
// ctypes once) gives for the same bytes: every length class of the algorithm (under 4, 4-7,
// 8-31, exactly 32, stripes plus every kind of tail) and a non-zero seed.
#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "weights/xxh64.hpp"

using namespace tinception;

TEST_CASE("xxh64: matches the xxHash library on every length class, with and without a seed") {
    std::vector<unsigned char> data(200);
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<unsigned char>((i * 37 + 11) % 256);
    struct Expected {
        std::size_t length;
        std::uint64_t seed0, seed_2654435761;
    };
    const Expected table[] = {
        {0, 0xef46db3751d8e999ull, 0xac75fda2929b17efull},   {1, 0xf592c0c7639c4cb6ull, 0xe7fda85a72454615ull},
        {3, 0x22c08528601d4f27ull, 0x5cbb7f85404a1f73ull},   {4, 0xfb1e5cf2f1ae4d95ull, 0x9994339dd3cf0d91ull},
        {7, 0x5613ac510496c04eull, 0xc53cce27ae03ad38ull},   {8, 0x57cb2b7521f3e21aull, 0xcd44f16c92a699dfull},
        {12, 0x2f53b00266039e64ull, 0xdce50ff235f73a04ull},  {31, 0xe4a0e629e519a4aeull, 0x9fab920ef1fc4e09ull},
        {32, 0xcc6b8aaada790b2dull, 0x881c3285b30b5a93ull},  {33, 0x35ec49850475a832ull, 0x207074871e91cb01ull},
        {63, 0xbf9f0ba3cf95b28aull, 0xe28c6289b8031861ull},  {64, 0x155ccce4bf32befcull, 0x90535f3e4eae4016ull},
        {100, 0x4826e367566ea023ull, 0xd57c2ea757c17569ull}, {200, 0x2f074b6dd9094e34ull, 0x8d6659e70ba08787ull},
    };
    for (const Expected& e : table) {
        CAPTURE(e.length);
        CHECK(xxh64(data.data(), e.length) == e.seed0);
        CHECK(xxh64(data.data(), e.length, 2654435761u) == e.seed_2654435761);
    }
    CHECK(xxh64("abc", 3) == 0x44bc2cf5ad770999ull);
}

TEST_CASE("xxh64: one flipped bit anywhere changes the value") {
    std::vector<unsigned char> data(4096 + 13);
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<unsigned char>(i * 7);
    const std::uint64_t clean = xxh64(data.data(), data.size());
    for (const std::size_t at : {std::size_t(0), std::size_t(31), std::size_t(2048), data.size() - 1}) {
        CAPTURE(at);
        data[at] ^= 0x10;
        CHECK(xxh64(data.data(), data.size()) != clean);
        data[at] ^= 0x10;
    }
    CHECK(xxh64(data.data(), data.size()) == clean);
}
