// The one bit of CSV the command line writes by hand: a field quoted as RFC 4180 says.
#pragma once
#include <string>

namespace tinception::cli {

inline std::string csv_field(const std::string& text) {
    if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
    std::string out = "\"";
    for (const char ch : text) out += ch == '"' ? std::string("\"\"") : std::string(1, ch);
    return out + "\"";
}

}  // namespace tinception::cli
