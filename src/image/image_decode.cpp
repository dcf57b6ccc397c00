// Image decoding: PNG, BMP, GIF and PNM over stb_image (Debian's libstb), JPEG over
// libjpeg-turbo (stb_image in builds without it) or, for a photo the network's input is an
// eighth of, our DC-only decoder; WebP and TIFF through image_formats.hpp,
// chosen by the bytes' signature. The header is read first so an
// oversized image is refused before its pixels are allocated.
#include <stb_image.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <memory>

#include "error.hpp"
#include "file_io.hpp"
#include "image/image.hpp"
#include "image/image_formats.hpp"
#include "image/image_header.hpp"

namespace tinception {
namespace {

bool is_jpeg(const std::uint8_t* data, std::size_t size) {
    return size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF;
}

// stb_image pads a truncated JPEG with zeros and reports success, so we look for the
// end-of-image marker after the last start-of-scan ourselves. Entropy-coded data stuffs
// every 0xFF with 0x00, so FF D9 there can only be the real marker. memchr, not a byte loop:
// a phone photo is megabytes and decoding it with libjpeg-turbo takes only a few times longer.
bool jpeg_has_end_marker(const std::uint8_t* data, std::size_t size) {
    const std::uint8_t* const end = data + size;
    const auto next_ff = [end](const std::uint8_t* from) {
        return from < end ? static_cast<const std::uint8_t*>(std::memchr(from, 0xFF, std::size_t(end - from))) : nullptr;
    };
    const std::uint8_t* last_scan = nullptr;
    for (const std::uint8_t* p = next_ff(data); p && p + 1 < end; p = next_ff(p + 1))
        if (p[1] == 0xDA && p != data) last_scan = p;
    if (!last_scan) return false;
    for (const std::uint8_t* p = next_ff(last_scan + 2); p && p + 1 < end; p = next_ff(p + 1))
        if (p[1] == 0xD9) return true;
    return false;
}

// Turns the stored pixels upright as the Exif Orientation tag asks (1: as stored, 2: mirrored,
// 3: rotated 180, 4: flipped, 5: transposed, 6: rotated 90 clockwise, 7: transversed,
// 8: rotated 90 counter-clockwise). Output pixel (x, y) reads stored pixel (sx, sy).
ImageRgb8 apply_orientation(ImageRgb8 in, int orientation) {
    if (orientation <= 1 || orientation > 8) return in;
    const int w = in.width, h = in.height;
    const bool swaps = orientation >= 5;
    ImageRgb8 out;
    out.width = swaps ? h : w;
    out.height = swaps ? w : h;
    out.pixels.resize(in.pixels.size());
    for (int y = 0; y < out.height; ++y)
        for (int x = 0; x < out.width; ++x) {
            int sx = x, sy = y;
            switch (orientation) {
                case 2: sx = w - 1 - x; break;
                case 3: sx = w - 1 - x; sy = h - 1 - y; break;
                case 4: sy = h - 1 - y; break;
                case 5: sx = y; sy = x; break;
                case 6: sx = y; sy = h - 1 - x; break;
                case 7: sx = w - 1 - y; sy = h - 1 - x; break;
                case 8: sx = w - 1 - y; sy = x; break;
            }
            const std::uint8_t* src = &in.pixels[(std::size_t(sy) * w + sx) * 3];
            std::uint8_t* dst = &out.pixels[(std::size_t(y) * out.width + x) * 3];
            dst[0] = src[0];
            dst[1] = src[1];
            dst[2] = src[2];
        }
    return out;
}

}  // namespace

void check_pixel_limit(std::int64_t width, std::int64_t height, const std::string& name, const ImageLimits& limits) {
    // Divided, not multiplied: two 32-bit header fields can overflow a 64-bit product.
    if (width > 0 && height > limits.max_pixels / width)
        throw Error(name + ": image is " + std::to_string(width) + "x" + std::to_string(height) +
                    " pixels, over the limit of " + std::to_string(limits.max_pixels));
}

std::string supported_image_formats() {
    std::string formats = "JPEG, PNG, BMP, GIF, PNM";
#ifdef TINCEPTION_HAVE_WEBP
    formats += ", WebP";
#endif
#ifdef TINCEPTION_HAVE_TIFF
    formats += ", TIFF";
#endif
    return formats;
}

void check_jpeg_complete(const std::uint8_t* data, std::size_t size, const std::string& name) {
    // Before any decoder reads the headers: stb_image's header parsing already builds the
    // Huffman tables. The same reasons whichever decoder runs.
    if (const std::string problem = jpeg_structure_problem(data, size); !problem.empty())
        throw Error(name + ": JPEG is damaged: " + problem);
    if (!is_jpeg(data, size)) return;
    if (!read_image_size(data, size)) throw Error(name + ": JPEG is truncated or damaged before its frame header");
    if (!jpeg_has_end_marker(data, size)) throw Error(name + ": JPEG is truncated (no end-of-image marker)");
}

ImageRgb8 decode_with_stb(const std::uint8_t* data, std::size_t size, const std::string& name,
                          const ImageLimits& limits) {
    if (size > std::size_t(INT32_MAX)) throw Error(name + ": file is too large to be an image");
    // Only what we list: stb_image would also take TGA, PSD, HDR and PIC, which no check covers.
    if (image_format_of(data, size).empty())
        throw Error(name + ": not a supported image (" + supported_image_formats() + ")");
    check_jpeg_complete(data, size, name);
    if (const std::string problem = pnm_header_problem(data, size); !problem.empty())
        throw Error(name + ": PNM is damaged: " + problem);
    int width = 0, height = 0, channels = 0;
    if (!stbi_info_from_memory(data, int(size), &width, &height, &channels))
        throw Error(name + ": not a supported image (" + supported_image_formats() + "): " +
                    stbi_failure_reason());
    if (width <= 0 || height <= 0) throw Error(name + ": image has no pixels");
    check_pixel_limit(width, height, name, limits);
    const std::int64_t pixels = std::int64_t(width) * height;

    int decoded_w = 0, decoded_h = 0, decoded_channels = 0;
    std::unique_ptr<stbi_uc, void (*)(void*)> decoded(
        stbi_load_from_memory(data, int(size), &decoded_w, &decoded_h, &decoded_channels, 3),
        stbi_image_free);
    if (!decoded) throw Error(name + ": cannot decode image: " + stbi_failure_reason());
    if (decoded_w != width || decoded_h != height)
        throw Error(name + ": image size changed between header and decode");

    ImageRgb8 image;
    image.width = width;
    image.height = height;
    image.pixels.assign(decoded.get(), decoded.get() + std::size_t(pixels) * 3);
    return image;
}

ImageRgb8 decode_image(const std::uint8_t* data, std::size_t size, const std::string& name,
                       const ImageLimits& limits) {
    if (size == 0) throw Error(name + ": file is empty");
    if (size > std::size_t(INT32_MAX)) throw Error(name + ": file is too large to be an image");
    if (is_webp(data, size)) return decode_webp(data, size, name, limits);
    if (is_tiff(data, size)) return decode_tiff(data, size, name, limits);
    // Our own header read first: stb_image refuses some huge sizes with a vaguer reason.
    if (const std::optional<ImageSize> declared = read_image_size(data, size))
        check_pixel_limit(declared->width, declared->height, name, limits);
    // A JPEG may sit behind 0xFF fill bytes (image_format_of takes them); its decoder starts at
    // the start-of-image marker, which libjpeg-turbo insists on.
    std::size_t fill = 0;
    while (fill + 3 < size && data[fill] == 0xFF && data[fill + 1] == 0xFF) ++fill;
    const std::uint8_t* jpeg = data + fill;
    const std::size_t jpeg_size = size - fill;
    if (!is_jpeg(jpeg, jpeg_size)) return decode_with_stb(data, size, name, limits);
    // A photo several times the input's size: its blocks' means are all the input needs.
    if (std::optional<ImageRgb8> eighth = decode_jpeg_dc_only(jpeg, jpeg_size, limits))
        return apply_orientation(std::move(*eighth), read_jpeg_exif_orientation(jpeg, jpeg_size));
#ifdef TINCEPTION_HAVE_TURBOJPEG
    ImageRgb8 image = decode_jpeg_turbo(jpeg, jpeg_size, name, limits);
#else
    ImageRgb8 image = decode_with_stb(jpeg, jpeg_size, name, limits);
#endif
    return apply_orientation(std::move(image), read_jpeg_exif_orientation(jpeg, jpeg_size));
}

std::string decode_variant(const std::uint8_t* data, std::size_t size, const ImageLimits& limits) {
    if (limits.min_side <= 0 || image_format_of(data, size) != "JPEG") return "";
    // The DC-only decoder shrinks large JPEGs in every build; libjpeg-turbo the mid-sized too.
#ifdef TINCEPTION_HAVE_TURBOJPEG
    return "jpeg-dc-dct-scaled";
#else
    return "jpeg-dc-scaled";
#endif
}

ImageRgb8 load_image(const std::string& path, const ImageLimits& limits) {
    const std::vector<std::uint8_t> bytes = read_file_bytes(path);
    return decode_image(bytes.data(), bytes.size(), path, limits);
}

}  // namespace tinception
