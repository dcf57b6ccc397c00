// Listing, choosing and preprocessing the calibration images.
#include "quant/calibration_set.hpp"

#include <algorithm>
#include <filesystem>
#include <optional>
#include <system_error>
#include <utility>

#include "error.hpp"
#include "image/image.hpp"
#include "parallel/thread_pool.hpp"

namespace tinception {

CalibrationSet load_calibration_set(const std::string& dir, const Preprocessing& preprocessing, int max_images) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) throw Error("calibration folder '" + dir + "' is not a folder");
    std::vector<std::string> all;
    for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
        if (it->is_regular_file(ec) && has_image_extension(it->path().string())) all.push_back(it->path().string());
    if (ec) throw Error("calibration folder '" + dir + "': " + ec.message());
    if (all.empty()) throw Error("calibration folder '" + dir + "' holds no image files");
    return load_calibration_images(std::move(all), preprocessing, max_images);
}

CalibrationSet load_calibration_images(std::vector<std::string> all, const Preprocessing& preprocessing,
                                       int max_images) {
    if (all.empty()) throw Error("int8 calibration needs at least one image");
    std::sort(all.begin(), all.end());
    CalibrationSet set;
    const std::size_t count = std::min(all.size(), std::size_t(std::max(max_images, 1)));
    for (std::size_t i = 0; i < count; ++i) set.paths.push_back(all[i * all.size() / count]);
    const std::size_t image_floats = std::size_t(preprocessing.size) * std::size_t(preprocessing.size) * 3;
    set.input.resize(count * image_floats);
    // Each image into its own place; of several unreadable ones, the first in path order is
    // reported, whichever thread met it first.
    std::vector<std::optional<Error>> errors(count);
    parallel_for(int(count), [&](int i) {
        try {
            preprocess(load_image(set.paths[std::size_t(i)]), preprocessing, set.input.data() + std::size_t(i) * image_floats);
        } catch (const Error& e) {
            errors[std::size_t(i)] = e;
        }
    });
    for (const std::optional<Error>& error : errors)
        if (error) throw *error;
    return set;
}

}  // namespace tinception
