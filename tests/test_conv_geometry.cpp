// 'same' / 'valid' padding against values worked out by hand from TensorFlow's rule.
#include <doctest/doctest.h>

#include "conv_geometry.hpp"
#include "error.hpp"

using namespace tinception;

namespace {

void check_padding(const Padding1d& p, int before, int after, int out) {
    CHECK(p.before == before);
    CHECK(p.after == after);
    CHECK(p.out == out);
}

}  // namespace

TEST_CASE("same padding: out = ceil(in / stride), smaller half before") {
    check_padding(same_padding(299, 3, 2), 1, 1, 150);  // (150-1)*2+3-299 = 2
    check_padding(same_padding(300, 3, 2), 0, 1, 150);  // total 1: all of it after
    check_padding(same_padding(35, 3, 1), 1, 1, 35);
    check_padding(same_padding(17, 7, 1), 3, 3, 17);    // 1x7 factorised conv
    check_padding(same_padding(17, 1, 1), 0, 0, 17);
    check_padding(same_padding(8, 3, 2), 0, 1, 4);      // (4-1)*2+3-8 = 1
    check_padding(same_padding(9, 3, 2), 1, 1, 5);      // (5-1)*2+3-9 = 2
    check_padding(same_padding(10, 4, 2), 1, 1, 5);     // (5-1)*2+4-10 = 2
    check_padding(same_padding(13, 5, 2), 2, 2, 7);     // (7-1)*2+5-13 = 4
    check_padding(same_padding(4, 2, 1), 0, 1, 4);      // even kernel: the extra cell after
    check_padding(same_padding(5, 1, 2), 0, 0, 3);      // (3-1)*2+1-5 = 0
    check_padding(same_padding(6, 1, 3), 0, 0, 2);      // negative total clamps to 0
    check_padding(same_padding(1, 1, 1), 0, 0, 1);
    check_padding(same_padding(2, 5, 1), 2, 2, 2);      // kernel wider than the input
}

TEST_CASE("valid padding: no padding, out = floor((in - k) / stride) + 1") {
    check_padding(valid_padding(299, 3, 2), 0, 0, 149);
    check_padding(valid_padding(147, 3, 1), 0, 0, 145);
    check_padding(valid_padding(73, 3, 2), 0, 0, 36);
    check_padding(valid_padding(8, 3, 2), 0, 0, 3);
    check_padding(valid_padding(3, 3, 1), 0, 0, 1);     // input == kernel: one output
    check_padding(valid_padding(3, 3, 2), 0, 0, 1);
    check_padding(valid_padding(1, 1, 1), 0, 0, 1);
    check_padding(valid_padding(17, 1, 1), 0, 0, 17);
}

TEST_CASE("padding_for picks the rule") {
    check_padding(padding_for(Padding::same, 9, 3, 2), 1, 1, 5);
    check_padding(padding_for(Padding::valid, 9, 3, 2), 0, 0, 4);
}

TEST_CASE("impossible windows are refused with an Error") {
    CHECK_THROWS_AS(valid_padding(2, 3, 1), Error);
    CHECK_THROWS_AS(same_padding(0, 3, 1), Error);
    CHECK_THROWS_AS(same_padding(5, 0, 1), Error);
    CHECK_THROWS_AS(same_padding(5, 3, 0), Error);
}
