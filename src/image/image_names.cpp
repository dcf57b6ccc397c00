// has_image_extension: which file names count as images. Kept apart from the decoder so a
// build without image decoding (-Dimage_io=disabled) still lists data folders the same way.
#include <algorithm>
#include <cctype>

#include "image/image.hpp"

namespace tinception {

bool has_image_extension(const std::string& path) {
    const std::size_t dot = path.rfind('.');
    if (dot == std::string::npos || path.find('/', dot) != std::string::npos) return false;
    std::string ext = path.substr(dot + 1);
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char ch) { return char(std::tolower(ch)); });
    return ext == "jpg" || ext == "jpeg" || ext == "png" || ext == "bmp" || ext == "gif" || ext == "webp" ||
           ext == "tif" || ext == "tiff";
}

}  // namespace tinception
