// Images per split of one category: what training used, shown by the report and `info`.
#pragma once
#include <cstddef>

namespace tinception {

struct SplitCounts {
    std::size_t training = 0, validation = 0, testing = 0;
};

}  // namespace tinception
