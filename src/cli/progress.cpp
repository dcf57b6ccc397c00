// Progress bar rendering on stderr.
#include "cli/progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace tinception::cli {
namespace {

std::string clock_text(double seconds) {
    const long s = long(seconds + 0.5);
    char text[32];
    std::snprintf(text, sizeof text, "%ld:%02ld", s / 60, s % 60);
    return text;
}

}  // namespace

Progress::Progress(std::string what, std::size_t total, std::string unit)
    : what_(std::move(what)), unit_(std::move(unit)), total_(total),
      on_terminal_(::isatty(STDERR_FILENO) == 1), start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

Progress::~Progress() { finish(); }

void Progress::advance(std::size_t count) {
    done_ += count;
    const auto now = std::chrono::steady_clock::now();
    if (on_terminal_) {
        if (now - last_draw_ > std::chrono::milliseconds(100) || done_ == total_) {
            last_draw_ = now;
            draw(false);
        }
        return;
    }
    const std::size_t tenth = total_ ? done_ * 10 / total_ : 10;
    if (tenth > last_plain_tenth_ && done_ < total_) {
        last_plain_tenth_ = tenth;
        draw(false);
    }
}

void Progress::finish() {
    if (finished_) return;
    finished_ = true;
    draw(true);
}

void Progress::warn(const std::string& line) {
    if (on_terminal_ && !finished_) std::fprintf(stderr, "\r\033[K");
    std::fprintf(stderr, "warning: %s\n", line.c_str());
    if (on_terminal_ && !finished_) draw(false);
    std::fflush(stderr);
}

void Progress::draw(bool final_line) {
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double rate = elapsed > 0 ? done_ / elapsed : 0.0;
    char rate_text[64];
    std::snprintf(rate_text, sizeof rate_text, "%.1f %s/s", rate, unit_.c_str());
    std::string line = what_ + " " + std::to_string(done_) + "/" + std::to_string(total_) + " " + unit_;
    if (on_terminal_) {
        constexpr int kWidth = 30;
        const int filled = total_ ? int(double(done_) / total_ * kWidth) : kWidth;
        line = what_ + " [" + std::string(filled, '#') + std::string(kWidth - filled, '.') + "] " +
               std::to_string(done_) + "/" + std::to_string(total_);
    }
    line += std::string("  ") + rate_text;
    if (final_line)
        line += "  in " + clock_text(elapsed);
    else if (rate > 0 && done_ < total_)
        line += "  ETA " + clock_text((total_ - done_) / rate);
    if (on_terminal_)
        std::fprintf(stderr, "\r%s\033[K%s", line.c_str(), final_line ? "\n" : "");
    else
        std::fprintf(stderr, "%s\n", line.c_str());
    std::fflush(stderr);
}

}  // namespace tinception::cli
