// Stand-ins for the optional decoders a build leaves out (-Dwebp=disabled, -Dtiff=disabled,
// or the library not found): such an image is recognised and refused by name.
#include "error.hpp"
#include "image/image_formats.hpp"

namespace tinception {

#ifndef TINCEPTION_HAVE_WEBP
ImageRgb8 decode_webp(const std::uint8_t*, std::size_t, const std::string& name, const ImageLimits&) {
    throw Error(name + ": WebP image, but this build of tinception has no WebP decoder (libwebp)");
}
#endif
#ifndef TINCEPTION_HAVE_TIFF
ImageRgb8 decode_tiff(const std::uint8_t*, std::size_t, const std::string& name, const ImageLimits&) {
    throw Error(name + ": TIFF image, but this build of tinception has no TIFF decoder (libtiff)");
}
#endif

}  // namespace tinception
