// TIFF through libtiff, read from memory by our own I/O callbacks. libtiff's messages go to
// the error we throw, never to stderr; its single allocations are capped by the pixel limit.
#include <tiffio.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "error.hpp"
#include "image/image_formats.hpp"

namespace tinception {
namespace {

struct MemoryTiff {
    const std::uint8_t* data = nullptr;
    toff_t size = 0;
    toff_t position = 0;
    std::string first_error;  // libtiff's first complaint, for our message
};

tmsize_t read_bytes(thandle_t handle, void* out, tmsize_t count) {
    MemoryTiff& file = *static_cast<MemoryTiff*>(handle);
    if (count <= 0 || file.position >= file.size) return 0;
    const toff_t n = std::min<toff_t>(toff_t(count), file.size - file.position);
    std::memcpy(out, file.data + file.position, std::size_t(n));
    file.position += n;
    return tmsize_t(n);
}

tmsize_t refuse_write(thandle_t, void*, tmsize_t) { return -1; }

toff_t seek_to(thandle_t handle, toff_t offset, int whence) {
    MemoryTiff& file = *static_cast<MemoryTiff*>(handle);
    const toff_t base = whence == SEEK_CUR ? file.position : whence == SEEK_END ? file.size : 0;
    if (whence != SEEK_SET && whence != SEEK_CUR && whence != SEEK_END) return toff_t(-1);
    if (offset > toff_t(-1) - base) return toff_t(-1);  // past what toff_t holds
    file.position = base + offset;                      // past the end reads nothing
    return file.position;
}

int close_nothing(thandle_t) { return 0; }
toff_t file_size(thandle_t handle) { return static_cast<MemoryTiff*>(handle)->size; }

int keep_first_error(TIFF*, void* user_data, const char* module, const char* format, va_list args) {
    MemoryTiff& file = *static_cast<MemoryTiff*>(user_data);
    if (file.first_error.empty()) {
        char text[256];
        std::vsnprintf(text, sizeof text, format, args);
        file.first_error = (module && *module ? std::string(module) + ": " : std::string()) + text;
    }
    return 1;  // handled: nothing printed
}

int ignore_warning(TIFF*, void*, const char*, const char*, va_list) { return 1; }

std::string reason(const MemoryTiff& file) {
    return file.first_error.empty() ? "damaged or truncated" : file.first_error;
}

}  // namespace

ImageRgb8 decode_tiff(const std::uint8_t* data, std::size_t size, const std::string& name,
                      const ImageLimits& limits) {
    MemoryTiff file;
    file.data = data;
    file.size = toff_t(size);
    const std::unique_ptr<TIFFOpenOptions, void (*)(TIFFOpenOptions*)> options(TIFFOpenOptionsAlloc(),
                                                                              TIFFOpenOptionsFree);
    if (!options) throw Error(name + ": out of memory opening TIFF");
    TIFFOpenOptionsSetErrorHandlerExtR(options.get(), keep_first_error, &file);
    TIFFOpenOptionsSetWarningHandlerExtR(options.get(), ignore_warning, &file);
    // No single buffer larger than a full RGBA image at the limit: a header that declares
    // huge strips is refused instead of allocated.
    TIFFOpenOptionsSetMaxSingleMemAlloc(options.get(), tmsize_t(limits.max_pixels) * 4);
    // "m": no memory mapping, every byte comes through read_bytes and its bounds.
    const std::unique_ptr<TIFF, void (*)(TIFF*)> tiff(
        TIFFClientOpenExt(name.c_str(), "rm", &file, read_bytes, refuse_write, seek_to, close_nothing,
                          file_size, nullptr, nullptr, options.get()),
        TIFFClose);
    if (!tiff) throw Error(name + ": TIFF cannot be opened: " + reason(file));

    std::uint32_t width = 0, height = 0;
    if (!TIFFGetField(tiff.get(), TIFFTAG_IMAGEWIDTH, &width) || !TIFFGetField(tiff.get(), TIFFTAG_IMAGELENGTH, &height))
        throw Error(name + ": TIFF has no image size");
    if (width == 0 || height == 0) throw Error(name + ": image has no pixels");
    check_pixel_limit(width, height, name, limits);

    std::vector<std::uint32_t> rgba(std::size_t(width) * height);
    if (!TIFFReadRGBAImageOriented(tiff.get(), width, height, rgba.data(), ORIENTATION_TOPLEFT, 0))
        throw Error(name + ": cannot decode TIFF image: " + reason(file));
    ImageRgb8 image;
    image.width = int(width);
    image.height = int(height);
    image.pixels.resize(rgba.size() * 3);
    for (std::size_t i = 0; i < rgba.size(); ++i) {
        image.pixels[3 * i] = std::uint8_t(TIFFGetR(rgba[i]));
        image.pixels[3 * i + 1] = std::uint8_t(TIFFGetG(rgba[i]));
        image.pixels[3 * i + 2] = std::uint8_t(TIFFGetB(rgba[i]));
    }
    return image;
}

}  // namespace tinception
