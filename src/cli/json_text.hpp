// The one bit of JSON the command line writes by hand: a quoted, escaped string.
#pragma once
#include <cstdio>
#include <string>

namespace tinception::cli {

inline std::string json_string(const std::string& text) {
    std::string out = "\"";
    for (const unsigned char ch : text) {
        if (ch == '"' || ch == '\\') {
            out += '\\';
            out += char(ch);
        } else if (ch < 0x20) {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\u%04x", ch);
            out += escaped;
        } else {
            out += char(ch);
        }
    }
    return out + "\"";
}

}  // namespace tinception::cli
