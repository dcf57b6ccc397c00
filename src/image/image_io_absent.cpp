// Stand-ins for the decoder in builds made with -Dimage_io=disabled (no stb): every call
// refuses with a clear message. Callers that have pixels already use preprocess.hpp directly.
#include "error.hpp"
#include "image/image.hpp"

namespace tinception {

ImageRgb8 decode_image(const std::uint8_t*, std::size_t, const std::string& name, const ImageLimits&) {
    throw Error(name + ": this build of tinception cannot decode images (configured with -Dimage_io=disabled)");
}

std::string decode_variant(const std::uint8_t*, std::size_t, const ImageLimits&) { return ""; }

std::string supported_image_formats() { return "none (built with -Dimage_io=disabled)"; }

ImageRgb8 load_image(const std::string& path, const ImageLimits& limits) {
    return decode_image(nullptr, 0, path, limits);
}

}  // namespace tinception
