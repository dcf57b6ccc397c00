// WebP through libwebp: the header (WebPGetFeatures) is read first for the pixel limit and
// to refuse animations, which WebPDecodeRGB cannot decode.
#include <webp/decode.h>

#include <memory>

#include "error.hpp"
#include "image/image_formats.hpp"

namespace tinception {

ImageRgb8 decode_webp(const std::uint8_t* data, std::size_t size, const std::string& name,
                      const ImageLimits& limits) {
    WebPBitstreamFeatures features;
    const VP8StatusCode status = WebPGetFeatures(data, size, &features);
    if (status == VP8_STATUS_NOT_ENOUGH_DATA)
        throw Error(name + ": WebP is truncated before the end of its header");
    if (status != VP8_STATUS_OK) throw Error(name + ": WebP header is damaged");
    if (features.width <= 0 || features.height <= 0) throw Error(name + ": image has no pixels");
    check_pixel_limit(features.width, features.height, name, limits);
    if (features.has_animation) throw Error(name + ": animated WebP is not supported");

    int width = 0, height = 0;
    const std::unique_ptr<std::uint8_t, void (*)(void*)> decoded(WebPDecodeRGB(data, size, &width, &height),
                                                                 WebPFree);
    if (!decoded) throw Error(name + ": cannot decode WebP image (truncated or damaged)");
    if (width != features.width || height != features.height)
        throw Error(name + ": image size changed between header and decode");
    ImageRgb8 image;
    image.width = width;
    image.height = height;
    image.pixels.assign(decoded.get(), decoded.get() + std::size_t(width) * std::size_t(height) * 3);
    return image;
}

}  // namespace tinception
