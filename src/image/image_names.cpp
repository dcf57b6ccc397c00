// Which files count as images, by name and by their first bytes. Kept apart from the decoder
// so a build without image decoding (-Dimage_io=disabled) still lists data folders the same way.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include "image/image.hpp"
#include "image/image_formats.hpp"

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

bool is_webp(const std::uint8_t* data, std::size_t size) {
    return size >= 12 && std::memcmp(data, "RIFF", 4) == 0 && std::memcmp(data + 8, "WEBP", 4) == 0;
}

bool is_tiff(const std::uint8_t* data, std::size_t size) {
    return size >= 4 && (std::memcmp(data, "II*\0", 4) == 0 || std::memcmp(data, "MM\0*", 4) == 0);
}

std::string image_format_of(const std::uint8_t* data, std::size_t size) {
    const auto starts = [&](const char* magic, std::size_t n) { return size >= n && std::memcmp(data, magic, n) == 0; };
    // The start-of-image marker, after any 0xFF fill bytes (stb_image accepts those too).
    std::size_t fill = 0;
    while (fill + 1 < size && data[fill] == 0xFF && data[fill + 1] == 0xFF) ++fill;
    if (size >= fill + 2 && data[fill] == 0xFF && data[fill + 1] == 0xD8) return "JPEG";
    if (starts("\x89PNG\r\n\x1A\n", 8)) return "PNG";
    if (starts("GIF87a", 6) || starts("GIF89a", 6)) return "GIF";
    if (starts("BM", 2)) return "BMP";
    if ((starts("P5", 2) || starts("P6", 2)) && size >= 3 && std::isspace(data[2])) return "PNM";
    if (is_webp(data, size)) return "WebP";
    if (is_tiff(data, size)) return "TIFF";
    return "";
}

std::string image_file_problem(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::string("cannot open: ") + std::strerror(errno);
    std::uint8_t head[16];
    ssize_t got;
    do got = ::read(fd, head, sizeof head);
    while (got < 0 && errno == EINTR);
    const int read_errno = errno;
    ::close(fd);
    if (got < 0) return std::string("cannot read: ") + std::strerror(read_errno);
    if (got == 0) return "file is empty";
    if (image_format_of(head, std::size_t(got)).empty()) return "not a supported image (" + supported_image_formats() + ")";
    return "";
}

}  // namespace tinception
