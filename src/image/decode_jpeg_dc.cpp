// A baseline JPEG at 1/8 scale from its DC coefficients: each 8x8 block's DC coefficient is
// its mean, which is all a 1/8 decode keeps of luma. The AC coefficients are skipped (their
// codes and magnitude bits dropped, never turned into values), no IDCT runs, and only the
// 1/64 of the pixels that make the output are ever stored. Anything beyond the common case
// (progressive or arithmetic coding, 12-bit samples, CMYK or RGB-coded colour, several scans)
// or any damage gives nothing, so the caller decodes the file with libjpeg-turbo instead,
// which decodes it or says what is wrong.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "image/byte_order.hpp"
#include "image/image_formats.hpp"
#include "image/jpeg_huffman.hpp"

namespace tinception {
namespace {

using jpeg::BitReader;
using jpeg::HuffmanTable;

using bytes::be16;

struct Component {
    int id = 0;
    int h = 1, v = 1;                   // sampling factors
    int quant_table = 0;
    int dc_table = 0, ac_table = 0;     // from the scan header
    int blocks_wide = 0, blocks_high = 0;  // blocks holding image samples
    int plane_stride = 0;               // blocks per row of the DC plane (whole MCUs)
    std::vector<std::int32_t> dc;       // DC coefficient times its quantiser: 8 x (mean - 128)
};

struct Frame {
    int width = 0, height = 0;
    int h_max = 1, v_max = 1;
    std::vector<Component> components;
    int restart_interval = 0;
};

// The headers, as far as the DC-only path needs them.
struct Headers {
    Frame frame;
    std::optional<HuffmanTable> dc_tables[4], ac_tables[4];
    std::optional<std::uint16_t> quant_dc[4];  // each table's first (DC) entry
    bool adobe = false;                         // an APP14 "Adobe" segment: colour transform may differ
};

bool read_dqt(const std::uint8_t* p, std::size_t n, Headers& h) {
    std::size_t i = 0;
    while (i < n) {
        const int precision = p[i] >> 4, id = p[i] & 15;
        const std::size_t size = precision ? 128 : 64;
        if (precision > 1 || id > 3 || n - i - 1 < size) return false;
        h.quant_dc[id] = precision ? std::uint16_t(be16(p + i + 1)) : p[i + 1];
        i += 1 + size;
    }
    return true;
}

bool read_dht(const std::uint8_t* p, std::size_t n, Headers& h) {
    std::size_t i = 0;
    while (i < n) {
        if (n - i < 17) return false;
        const int table_class = p[i] >> 4, id = p[i] & 15;
        if (table_class > 1 || id > 3) return false;
        std::uint8_t counts[16];
        std::size_t total = 0;
        for (int k = 0; k < 16; ++k) total += counts[k] = p[i + 1 + std::size_t(k)];
        if (total > 256 || n - i - 17 < total) return false;
        auto table = jpeg::build_huffman_table(counts, p + i + 17, table_class == 1);
        if (!table) return false;
        (table_class ? h.ac_tables : h.dc_tables)[id] = std::move(table);
        i += 17 + total;
    }
    return true;
}

bool read_sof(const std::uint8_t* p, std::size_t n, Frame& f) {
    if (n < 6 || p[0] != 8) return false;  // 8-bit samples only
    f.height = int(be16(p + 1));
    f.width = int(be16(p + 3));
    const int count = p[5];
    if (f.width == 0 || f.height == 0 || (count != 1 && count != 3) || n != 6 + 3 * std::size_t(count)) return false;
    for (int c = 0; c < count; ++c) {
        Component comp;
        comp.id = p[6 + 3 * c];
        comp.h = p[7 + 3 * c] >> 4;
        comp.v = p[7 + 3 * c] & 15;
        comp.quant_table = p[8 + 3 * c];
        if (comp.h < 1 || comp.h > 4 || comp.v < 1 || comp.v > 4 || comp.quant_table > 3) return false;
        f.h_max = std::max(f.h_max, comp.h);
        f.v_max = std::max(f.v_max, comp.v);
        f.components.push_back(std::move(comp));
    }
    for (Component& c : f.components) {
        // Chroma upsampled by a whole factor only (4:2:0, 4:2:2, 4:4:0, 4:1:1, 4:4:4).
        if (f.h_max % c.h || f.v_max % c.v) return false;
        const int samples_wide = (f.width * c.h + f.h_max - 1) / f.h_max;
        const int samples_high = (f.height * c.v + f.v_max - 1) / f.v_max;
        c.blocks_wide = (samples_wide + 7) / 8;
        c.blocks_high = (samples_high + 7) / 8;
    }
    return true;
}

// The scan header: which components, and their tables. All the frame's components, in a
// single sequential scan.
bool read_sos(const std::uint8_t* p, std::size_t n, Headers& h) {
    Frame& f = h.frame;
    if (n < 1) return false;
    const std::size_t count = p[0];
    if (count != f.components.size() || n != 4 + 2 * count) return false;
    for (std::size_t k = 0; k < count; ++k) {
        Component& c = f.components[k];
        if (p[1 + 2 * k] != c.id) return false;  // the frame's order, as interleaving requires
        c.dc_table = p[2 + 2 * k] >> 4;
        c.ac_table = p[2 + 2 * k] & 15;
        if (c.dc_table > 3 || c.ac_table > 3 || !h.dc_tables[c.dc_table] || !h.ac_tables[c.ac_table] ||
            !h.quant_dc[c.quant_table])
            return false;
    }
    const std::uint8_t* tail = p + 1 + 2 * count;
    return tail[0] == 0 && tail[1] == 63 && tail[2] == 0;  // spectral 0..63, no approximation
}

// Canonical decoding of a code longer than the lookup: its symbol, or -1 when no code matches.
int decode_long_code(BitReader& r, const HuffmanTable& t) {
    for (int length = jpeg::kLookupBits + 1; length <= 16; ++length) {
        const auto code = std::int32_t(r.bits() >> (64 - length));
        if (code <= t.max_code[std::size_t(length)]) {
            const std::int32_t index = code + t.value_offset[std::size_t(length)];
            if (index < 0 || index >= t.symbol_count) return -1;  // cannot happen for a valid table; cheap here
            r.drop(length);
            return t.symbols[std::size_t(index)];
        }
    }
    return -1;
}

int decode_symbol(BitReader& r, const HuffmanTable& t) {
    const std::uint16_t e = t.symbol_lookup[r.bits() >> (64 - jpeg::kLookupBits)];
    if (e) {
        r.drop(e >> 8);
        return e & 0xFF;
    }
    return decode_long_code(r, t);
}

// A magnitude category's `size` bits as a signed value (JPEG's EXTEND).
std::int32_t extend(std::uint32_t bits, int size) {
    return bits < (1u << (size - 1)) ? std::int32_t(bits) - (std::int32_t(1) << size) + 1 : std::int32_t(bits);
}

// One block: updates the DC predictor and skips the AC coefficients. False on a code the
// table lacks, an impossible category, or a DC value no 8-bit encoder writes.
bool decode_block(BitReader& r, const HuffmanTable& dc, const HuffmanTable& ac, std::int32_t& predictor) {
    if (r.count() < 27) r.refill();
    const int size = decode_symbol(r, dc);
    if (size < 0 || size > 11) return false;
    if (size) predictor += extend(r.take(size), size);
    // An 8-bit image's DC coefficient lies within +-1024 (8 times the mean's distance from 128,
    // quantised by at least 1): anything beyond is damage.
    if (predictor < -2048 || predictor > 2047) return false;
    for (int k = 1; k < 64;) {
        if (r.count() < 26) r.refill();
        const std::uint16_t skip = ac.ac_skip[r.bits() >> (64 - jpeg::kLookupBits)];
        if (skip) {
            r.drop(skip & 31);
            k += skip >> 5;
            continue;
        }
        const int symbol = decode_long_code(r, ac);
        if (symbol < 0) return false;
        const int run = symbol >> 4, bits = symbol & 15;
        if (bits > 10) return false;
        if (bits == 0 && run != 15) break;  // end of block (run 0), or an undefined symbol
        r.drop(bits);
        k += bits ? run + 1 : 16;
    }
    return true;
}

// Reads the headers up to the first scan; false on anything this path leaves to libjpeg-turbo.
// On success `scan` is where the entropy-coded data starts.
bool read_headers(const std::uint8_t* d, std::size_t n, Headers& h, std::size_t& scan) {
    if (n < 4 || d[0] != 0xFF || d[1] != 0xD8) return false;
    bool have_frame = false;
    std::size_t i = 2;
    while (i + 4 <= n) {
        if (d[i] != 0xFF) return false;
        const std::uint8_t marker = d[i + 1];
        if (marker == 0xFF) { ++i; continue; }
        const std::size_t length = be16(d + i + 2);
        if (length < 2 || n - i - 2 < length) return false;
        const std::uint8_t* body = d + i + 4;
        const std::size_t body_size = length - 2;
        bool ok = true;
        if (marker == 0xC0 || marker == 0xC1) {  // baseline or extended sequential, Huffman
            ok = !have_frame && read_sof(body, body_size, h.frame);
            have_frame = true;
        } else if (marker == 0xC4) {
            ok = read_dht(body, body_size, h);
        } else if (marker == 0xDB) {
            ok = read_dqt(body, body_size, h);
        } else if (marker == 0xDD) {
            ok = body_size == 2;
            if (ok) h.frame.restart_interval = int(be16(body));
        } else if (marker == 0xEE) {
            h.adobe = h.adobe || (body_size >= 5 && std::memcmp(body, "Adobe", 5) == 0);
        } else if (marker == 0xDA) {
            if (!have_frame || !read_sos(body, body_size, h)) return false;
            scan = i + 2 + length;
            return true;
        } else if (!((marker >= 0xE0 && marker <= 0xEF) || marker == 0xFE)) {
            return false;  // another frame type, arithmetic-coding conditioning, DNL, ...
        }
        if (!ok) return false;
        i += 2 + length;
    }
    return false;
}

// Every block's DC coefficient, MCU by MCU, restart interval by restart interval; false on
// any damage, and unless the scan is followed by the end-of-image marker.
bool decode_scan(const std::uint8_t* d, std::size_t n, std::size_t scan, Headers& h) {
    Frame& f = h.frame;
    const bool interleaved = f.components.size() > 1;
    // A single-component scan codes its blocks in raster order, one block an MCU.
    const int mcus_wide = interleaved ? (f.width + 8 * f.h_max - 1) / (8 * f.h_max) : f.components[0].blocks_wide;
    const int mcus_high = interleaved ? (f.height + 8 * f.v_max - 1) / (8 * f.v_max) : f.components[0].blocks_high;
    for (Component& c : f.components) {
        c.plane_stride = interleaved ? mcus_wide * c.h : c.blocks_wide;
        c.dc.assign(std::size_t(c.plane_stride) * std::size_t(interleaved ? mcus_high * c.v : c.blocks_high), 0);
    }
    BitReader reader(d + scan, d + n);
    std::int32_t predictor[3] = {};
    const std::int64_t mcus = std::int64_t(mcus_wide) * mcus_high;
    int expected_restart = 0;
    for (std::int64_t m = 0; m < mcus; ++m) {
        if (f.restart_interval && m > 0 && m % f.restart_interval == 0) {
            if (reader.finish_interval() != 0xD0 + expected_restart) return false;
            expected_restart = (expected_restart + 1) & 7;
            predictor[0] = predictor[1] = predictor[2] = 0;
        }
        const int mx = int(m % mcus_wide), my = int(m / mcus_wide);
        for (std::size_t ci = 0; ci < f.components.size(); ++ci) {
            Component& c = f.components[ci];
            const HuffmanTable& dc = *h.dc_tables[c.dc_table];
            const HuffmanTable& ac = *h.ac_tables[c.ac_table];
            const std::int32_t quant = *h.quant_dc[c.quant_table];
            const int bh = interleaved ? c.v : 1, bw = interleaved ? c.h : 1;
            for (int by = 0; by < bh; ++by)
                for (int bx = 0; bx < bw; ++bx) {
                    if (!decode_block(reader, dc, ac, predictor[ci])) return false;
                    const std::size_t at = std::size_t(my * bh + by) * std::size_t(c.plane_stride) +
                                           std::size_t(mx * bw + bx);
                    c.dc[at] = predictor[ci] * quant;
                }
        }
    }
    return reader.finish_interval() == 0xD9;
}

// Where each output pixel samples a component stored at 1/factor of the output's resolution:
// between stored samples i0 and i1, weight w on i1 (centres aligned, as libjpeg's upsampling).
struct Tap {
    int i0, i1;
    float w;
};

std::vector<Tap> taps(int out_size, int factor, int stored_size) {
    std::vector<Tap> t(static_cast<std::size_t>(out_size));
    for (int o = 0; o < out_size; ++o) {
        const float s = (float(o) + 0.5f) / float(factor) - 0.5f;
        const int i0 = std::max(0, std::min(stored_size - 1, int(std::floor(s))));
        const int i1 = std::min(stored_size - 1, i0 + 1);
        t[std::size_t(o)] = {i0, i1, std::max(0.0f, std::min(1.0f, s - float(i0)))};
    }
    return t;
}

// A component's samples (8 x (mean - 128) per block) at the output's resolution, as means.
std::vector<float> upsampled(const Component& c, const Frame& f, int out_w, int out_h) {
    const std::vector<Tap> tx = taps(out_w, f.h_max / c.h, c.blocks_wide);
    const std::vector<Tap> ty = taps(out_h, f.v_max / c.v, c.blocks_high);
    std::vector<float> out(std::size_t(out_w) * std::size_t(out_h));
    for (int y = 0; y < out_h; ++y) {
        const Tap& ry = ty[std::size_t(y)];
        const std::int32_t* row0 = &c.dc[std::size_t(ry.i0) * std::size_t(c.plane_stride)];
        const std::int32_t* row1 = &c.dc[std::size_t(ry.i1) * std::size_t(c.plane_stride)];
        for (int x = 0; x < out_w; ++x) {
            const Tap& rx = tx[std::size_t(x)];
            const float top = float(row0[rx.i0]) + float(row0[rx.i1] - row0[rx.i0]) * rx.w;
            const float bottom = float(row1[rx.i0]) + float(row1[rx.i1] - row1[rx.i0]) * rx.w;
            out[std::size_t(y) * std::size_t(out_w) + std::size_t(x)] = (top + (bottom - top) * ry.w) * 0.125f + 128.0f;
        }
    }
    return out;
}

std::uint8_t to_sample(float v) { return std::uint8_t(std::min(255.0f, std::max(0.0f, std::floor(v + 0.5f)))); }

}  // namespace

std::optional<ImageRgb8> decode_jpeg_dc_only(const std::uint8_t* data, std::size_t size, const ImageLimits& limits) {
    Headers h;
    std::size_t scan = 0;
    if (!read_headers(data, size, h, scan)) return std::nullopt;
    const Frame& f = h.frame;
    if (limits.min_side <= 0 || (f.width + 7) / 8 < limits.min_side || (f.height + 7) / 8 < limits.min_side ||
        f.width > limits.max_pixels / f.height)
        return std::nullopt;
    // Three components are YCbCr unless an Adobe segment or R, G, B ids say otherwise.
    if (f.components.size() == 3 &&
        (h.adobe || (f.components[0].id == 'R' && f.components[1].id == 'G' && f.components[2].id == 'B')))
        return std::nullopt;
    if (!decode_scan(data, size, scan, h)) return std::nullopt;

    ImageRgb8 image;
    image.width = (f.width + 7) / 8;
    image.height = (f.height + 7) / 8;
    const std::size_t pixels = std::size_t(image.width) * std::size_t(image.height);
    image.pixels.resize(pixels * 3);
    const std::vector<float> y = upsampled(f.components[0], f, image.width, image.height);
    if (f.components.size() == 1) {
        for (std::size_t i = 0; i < pixels; ++i) image.pixels[3 * i] = image.pixels[3 * i + 1] = image.pixels[3 * i + 2] = to_sample(y[i]);
        return image;
    }
    const std::vector<float> cb = upsampled(f.components[1], f, image.width, image.height);
    const std::vector<float> cr = upsampled(f.components[2], f, image.width, image.height);
    for (std::size_t i = 0; i < pixels; ++i) {  // JFIF's YCbCr to RGB
        const float u = cb[i] - 128.0f, v = cr[i] - 128.0f;
        image.pixels[3 * i] = to_sample(y[i] + 1.402f * v);
        image.pixels[3 * i + 1] = to_sample(y[i] - 0.344136f * u - 0.714136f * v);
        image.pixels[3 * i + 2] = to_sample(y[i] + 1.772f * u);
    }
    return image;
}

}  // namespace tinception
