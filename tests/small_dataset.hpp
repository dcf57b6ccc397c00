// A small copy of the superheroes set for the command-line tests on real weights.
#pragma once
#include <algorithm>
#include <filesystem>
#include <vector>

#include "cli_harness.hpp"
#include "temp_dir.hpp"

namespace tinception::testing {

// The first `per_category` images (by name) of each superheroes category, copied into
// `dir`/data; returns that folder.
inline std::filesystem::path small_dataset(const TempDir& dir, std::size_t per_category) {
    namespace fs = std::filesystem;
    const fs::path source = required_env_path("TINCEPTION_SUPERHEROES");
    const fs::path data = dir.path() / "data";
    for (const char* category : {"darth_vader", "elsa"}) {
        fs::create_directories(data / category);
        std::vector<fs::path> images;
        for (const auto& e : fs::directory_iterator(source / category))
            if (e.path().extension() == ".jpg") images.push_back(e.path());
        std::sort(images.begin(), images.end());
        REQUIRE(images.size() >= per_category);
        for (std::size_t i = 0; i < per_category; ++i) fs::copy_file(images[i], data / category / images[i].filename());
    }
    return data;
}

}  // namespace tinception::testing
