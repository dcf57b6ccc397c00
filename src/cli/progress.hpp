// Progress on long work: a redrawn bar with rate and ETA on a terminal, a plain line every
// tenth of the way otherwise (logs and CI stay readable).
#pragma once
#include <chrono>
#include <cstddef>
#include <string>

namespace tinception::cli {

class Progress {
public:
    Progress(std::string what, std::size_t total, std::string unit);
    ~Progress();
    Progress(const Progress&) = delete;
    Progress& operator=(const Progress&) = delete;

    void advance(std::size_t count = 1);
    void finish();  // prints the final line once; also done by the destructor
    // A warning line on stderr that does not tear the bar: on a terminal the bar's line is
    // cleared first and redrawn after; elsewhere the line is simply printed.
    void warn(const std::string& line);

private:
    void draw(bool final_line);

    std::string what_;
    std::string unit_;
    std::size_t total_;
    std::size_t done_ = 0;
    std::size_t last_plain_tenth_ = 0;
    bool on_terminal_;
    bool finished_ = false;
    std::chrono::steady_clock::time_point start_;
    std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace tinception::cli
