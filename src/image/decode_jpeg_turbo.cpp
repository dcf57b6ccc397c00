// JPEG through libjpeg-turbo's TurboJPEG API, optionally shrunk in the DCT (M/8 scaling) so a
// phone photo is never decoded at full size only to be resized to the network's input.
// The Exif orientation is applied by decode_image (image_decode.cpp), for either JPEG decoder.
#include <turbojpeg.h>

#include <memory>
#include <vector>

#include "error.hpp"
#include "image/image_formats.hpp"

namespace tinception {
namespace {

using TurboHandle = std::unique_ptr<void, int (*)(tjhandle)>;

// The smallest scale of 1/8..1 (what libjpeg-turbo's IDCT can produce below full size) that
// leaves both sides at least min_side; full size when min_side is 0 or the image is smaller.
tjscalingfactor choose_scale(int width, int height, int min_side) {
    tjscalingfactor best{1, 1};
    if (min_side <= 0) return best;
    int count = 0;
    const tjscalingfactor* factors = tjGetScalingFactors(&count);
    for (int i = 0; factors && i < count; ++i) {
        const tjscalingfactor f = factors[i];
        if (f.num > f.denom) continue;  // enlarging is never wanted
        if (TJSCALED(width, f) < min_side || TJSCALED(height, f) < min_side) continue;
        if (std::int64_t(f.num) * best.denom < std::int64_t(best.num) * f.denom) best = f;
    }
    return best;
}

// CMYK as stored (libjpeg turns YCCK into CMYK) to RGB the way stb_image does, so both
// decoders agree: each colour channel times K, rounded (stb_image's blinn_8x8).
std::uint8_t times_k(std::uint8_t value, std::uint8_t k) {
    const unsigned t = unsigned(value) * k + 128;
    return std::uint8_t((t + (t >> 8)) >> 8);
}

}  // namespace

ImageRgb8 decode_jpeg_turbo(const std::uint8_t* data, std::size_t size, const std::string& name,
                            const ImageLimits& limits) {
    if (size > std::size_t(INT32_MAX)) throw Error(name + ": file is too large to be an image");
    check_jpeg_complete(data, size, name);
    const TurboHandle handle(tjInitDecompress(), tjDestroy);
    if (!handle) throw Error(name + ": cannot start the JPEG decoder: " + tjGetErrorStr2(nullptr));
    int width = 0, height = 0, subsampling = 0, colorspace = 0;
    if (tjDecompressHeader3(handle.get(), data, static_cast<unsigned long>(size), &width, &height, &subsampling,
                            &colorspace) != 0)
        throw Error(name + ": JPEG header is damaged: " + tjGetErrorStr2(handle.get()));
    if (width <= 0 || height <= 0) throw Error(name + ": image has no pixels");
    check_pixel_limit(width, height, name, limits);

    const tjscalingfactor scale = choose_scale(width, height, limits.min_side);
    const int out_w = TJSCALED(width, scale), out_h = TJSCALED(height, scale);
    const bool cmyk = colorspace == TJCS_CMYK || colorspace == TJCS_YCCK;
    const int channels = cmyk ? 4 : 3;
    std::vector<std::uint8_t> decoded(std::size_t(out_w) * std::size_t(out_h) * std::size_t(channels));
    // Warnings (a corrupt entropy stream libjpeg would pad over) are errors; LIMITSCANS refuses
    // a progressive file of hundreds of scans, which would take minutes for a few bytes.
    const int flags = TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS | TJFLAG_ACCURATEDCT;
    if (tjDecompress2(handle.get(), data, static_cast<unsigned long>(size), decoded.data(), out_w, 0, out_h,
                      cmyk ? TJPF_CMYK : TJPF_RGB, flags) != 0)
        throw Error(name + ": cannot decode JPEG: " + tjGetErrorStr2(handle.get()));

    ImageRgb8 image;
    image.width = out_w;
    image.height = out_h;
    if (!cmyk) {
        image.pixels = std::move(decoded);
        return image;
    }
    image.pixels.resize(std::size_t(out_w) * std::size_t(out_h) * 3);
    for (std::size_t i = 0, n = std::size_t(out_w) * std::size_t(out_h); i < n; ++i) {
        const std::uint8_t* p = &decoded[4 * i];
        for (int c = 0; c < 3; ++c) image.pixels[3 * i + std::size_t(c)] = times_k(p[c], p[3]);
    }
    return image;
}

}  // namespace tinception
