// io/progress.hpp - a progress bar for long loops: batches done, images/s, ETA, and live numbers.
//
// Nothing to read first. On a terminal it redraws one line in place:
//   epoch 2/5 [#########.........]  410/937  1843 img/s  ETA 0:17  d_loss 1.21 g_loss 0.93 D(x) 0.57 D(G(z)) 0.41
// When stdout is not a terminal (CI, a pipe, `| tee log`) it prints a plain line every
// `plain_every` updates instead, so logs stay readable.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

namespace minigan::io {

inline std::string format_duration(double seconds) {
    if (!(seconds >= 0) || seconds > 1e7) return "?";
    long s = static_cast<long>(seconds + 0.5);
    char buf[32];
    if (s >= 3600) std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
    return buf;
}

class ProgressBar {
public:
    // total: number of updates expected (batches); items_per_update: images per batch.
    ProgressBar(std::string label, long total, long items_per_update, long plain_every = 100)
        : label_(std::move(label)), total_(total), items_(items_per_update), plain_every_(plain_every),
          tty_(isatty(fileno(stdout)) != 0), start_(Clock::now()) {}

    // Mark `done` updates finished; `extra` is appended (losses, D(x), ...).
    void update(long done, const std::string& extra = "") {
        double elapsed = seconds();
        double rate = elapsed > 0 ? done * items_ / elapsed : 0.0;
        double eta = done > 0 ? elapsed * (total_ - done) / done : -1.0;
        char head[160];
        std::snprintf(head, sizeof head, "%5ld/%-5ld %6.0f img/s  ETA %s", done, total_, rate, format_duration(eta).c_str());
        if (tty_) {
            const int width = 20;
            int filled = total_ > 0 ? static_cast<int>(width * done / total_) : 0;
            std::string bar = std::string(filled, '#') + std::string(width - filled, '.');
            std::printf("\r%s [%s] %s  %s\033[K", label_.c_str(), bar.c_str(), head, extra.c_str());
            std::fflush(stdout);
        } else if (done == total_ || done % plain_every_ == 0) {
            std::printf("%s %s  %s\n", label_.c_str(), head, extra.c_str());
            std::fflush(stdout);
        }
    }
    // Finish the line (on a terminal) and say how long it took.
    void finish(const std::string& extra = "") {
        if (tty_) std::printf("\n");
        std::printf("%s done in %s  %s\n", label_.c_str(), format_duration(seconds()).c_str(), extra.c_str());
        std::fflush(stdout);
    }
    double seconds() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

private:
    using Clock = std::chrono::steady_clock;
    std::string label_;
    long total_, items_, plain_every_;
    bool tty_;
    Clock::time_point start_;
};

// Seconds since it was made (or restarted): for timings that no progress bar covers.
class Stopwatch {
public:
    double seconds() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }
    // The seconds so far, and start again from 0.
    double restart() {
        const double s = seconds();
        start_ = std::chrono::steady_clock::now();
        return s;
    }

private:
    std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// `value` with `digits` decimals ("%.*f"), for the numbers of a progress line.
inline std::string fixed(double value, int digits) {
    char text[64];
    std::snprintf(text, sizeof text, "%.*f", digits, value);
    return text;
}

}  // namespace minigan::io
