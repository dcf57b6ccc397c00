// Huffman tables (JPEG Annex C: canonical codes assigned in order of length).
#include "image/jpeg_huffman.hpp"

namespace tinception::jpeg {

std::optional<HuffmanTable> build_huffman_table(const std::uint8_t (&counts)[16], const std::uint8_t* symbols,
                                                bool ac) {
    HuffmanTable table;
    int total = 0;
    for (const std::uint8_t c : counts) total += c;
    if (total > 256) return std::nullopt;
    std::memcpy(table.symbols.data(), symbols, std::size_t(total));
    table.symbol_count = total;

    std::int32_t code = 0;
    int index = 0;
    table.max_code[0] = -1;
    for (int length = 1; length <= 16; ++length) {
        const int n = counts[length - 1];
        table.value_offset[std::size_t(length)] = index - code;
        for (int i = 0; i < n; ++i, ++code, ++index) {
            // Past the code space of this length: refused before the code indexes anything.
            if (code >= (std::int32_t(1) << length)) return std::nullopt;
            if (length > kLookupBits) continue;
            // Every lookup index starting with this code decodes to it.
            const std::uint8_t symbol = symbols[index];
            const int spare = kLookupBits - length;
            const int size = symbol & 15;
            const int run = symbol >> 4;
            std::uint16_t skip = 0;
            if (ac && size <= 10) {
                const int advance = size == 0 ? (run == 15 ? 16 : run == 0 ? 64 : 0) : run + 1;
                if (advance) skip = std::uint16_t((length + size) | advance << 5);
            }
            for (int fill = 0; fill < 1 << spare; ++fill) {
                const std::size_t at = std::size_t(code) << spare | std::size_t(fill);
                table.symbol_lookup[at] = std::uint16_t(length << 8 | symbol);
                if (ac) table.ac_skip[at] = skip;
            }
        }
        table.max_code[std::size_t(length)] = n ? code - 1 : -1;
        // A code of all ones is reserved, and the code space must not overflow.
        if (code >= (std::int32_t(1) << length)) return std::nullopt;
        code <<= 1;
    }
    return table;
}

}  // namespace tinception::jpeg
