// io/plot.hpp - losses.png: line plots drawn pixel by pixel, with no plotting library.
//
// Read io/canvas.hpp (pixels, lines, text) first. plot_lines draws series as 2-pixel lines on
// white, with axes, "nice" tick values (1, 2 or 5 x 10^k), axis titles, a legend and a title,
// and writes a PNG. GAN losses are noisy: options.smooth = 50 draws a 50-point moving average
// over the faded raw curve. NaN / inf points leave a gap in the line.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "canvas.hpp"
#include "image_grid.hpp"

namespace minigan::io {

// ---------------------------------------------------------------------------------------
// Axes and ticks.

// A tick spacing near range / target, rounded to 1, 2 or 5 x 10^k ("nice numbers",
// Heckbert, Graphics Gems 1990): raw = 0.37 -> 10^k = 0.1, 3.7 -> 5 -> step 0.5.
inline double nice_step(double range, int target) {
    const double raw = range / target;
    const double power = std::pow(10.0, std::floor(std::log10(raw)));
    const double f = raw / power;  // in [1, 10)
    return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * power;
}

struct Axis {
    double lo, hi, step;  // the drawn range and the tick spacing
};

// The axis for data in [lo, hi]. A limit given in `fixed_*` (not NaN) is kept as is; an
// automatic one is pushed out to the next tick, so the curve ends on labelled values.
inline Axis make_axis(double lo, double hi, float fixed_lo, float fixed_hi, int target) {
    if (!std::isnan(fixed_lo)) lo = fixed_lo;
    if (!std::isnan(fixed_hi)) hi = fixed_hi;
    if (!std::isfinite(lo) || !std::isfinite(hi)) lo = 0, hi = 1;  // no data at all
    if (!(lo < hi)) {                                                // one value: widen around it
        const double d = lo == 0 ? 1 : std::abs(lo) * 0.5;
        lo -= d, hi += d;
    }
    const double step = nice_step(hi - lo, target);
    if (std::isnan(fixed_lo)) lo = std::floor(lo / step + 1e-9) * step;
    if (std::isnan(fixed_hi)) hi = std::ceil(hi / step - 1e-9) * step;
    return {lo, hi, step};
}

// Every multiple of step in [lo, hi] (counted in integers, so 0.1 + 0.1 + ... cannot drift).
inline std::vector<double> axis_ticks(const Axis& a) {
    std::vector<double> ticks;
    for (double k = std::ceil(a.lo / a.step - 1e-9); k * a.step <= a.hi + a.step * 1e-9; ++k) ticks.push_back(k * a.step);
    return ticks;
}

// As many decimals as the step needs: step 0.05 -> "0.15"; 20000 -> "20k"; 2e6 -> "2M".
inline std::string tick_label(double v, double step) {
    const char* suffix = "";
    if (step >= 1e6) v /= 1e6, step /= 1e6, suffix = "M";
    else if (step >= 1e3) v /= 1e3, step /= 1e3, suffix = "k";
    if (std::abs(v) < step * 1e-6) v = 0;  // no "-0"
    if (v == 0 && *suffix) return "0";      // not "0k"
    const int decimals = std::max(0, -static_cast<int>(std::floor(std::log10(step) + 1e-9)));
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.*f%s", decimals, v, suffix);
    return buf;
}

// Centered moving average: mean of the finite y[j] with |j - i| <= window / 2 (shorter at the
// ends). Prefix sums make it O(n) for any window. A non-finite y[i] stays a gap.
inline std::vector<float> moving_average(const std::vector<float>& y, int window) {
    if (window <= 1) return y;
    const int n = static_cast<int>(y.size()), half = window / 2;
    std::vector<double> sum(n + 1, 0.0);
    std::vector<int> count(n + 1, 0);
    for (int i = 0; i < n; ++i) {
        const bool ok = std::isfinite(y[i]);
        sum[i + 1] = sum[i] + (ok ? y[i] : 0.0);
        count[i + 1] = count[i] + (ok ? 1 : 0);
    }
    std::vector<float> out(y.size(), std::numeric_limits<float>::quiet_NaN());
    for (int i = 0; i < n; ++i) {
        if (!std::isfinite(y[i])) continue;
        const int a = std::max(0, i - half), b = std::min(n, i + half + 1);
        out[i] = static_cast<float>((sum[b] - sum[a]) / (count[b] - count[a]));
    }
    return out;
}

// ---------------------------------------------------------------------------------------
// The plot.

struct Series {
    std::string label;
    std::vector<float> x, y;  // x empty: 0, 1, 2, ...
    RGB colour = {31, 119, 180};
};

struct PlotOptions {
    std::string title;
    std::string x_label = "step", y_label = "loss";
    int width = 800, height = 500;
    int smooth = 1;  // moving-average window in points; 1 = plain lines
    // Axis limits; NaN = from the data. E.g. y_min = 0, y_max = 1 for an ROC curve, or a y_max
    // that cuts off the first steps' spikes (the range otherwise covers every finite point).
    float x_min = std::numeric_limits<float>::quiet_NaN(), x_max = std::numeric_limits<float>::quiet_NaN();
    float y_min = std::numeric_limits<float>::quiet_NaN(), y_max = std::numeric_limits<float>::quiet_NaN();
    bool legend = true;
    int x_ticks = 8, y_ticks = 6;  // about how many labelled ticks on each axis
    // x ranges [first, second] shaded in band_colour behind the curves (e.g. where an alarm is up).
    std::vector<std::pair<float, float>> bands;
    RGB band_colour = {255, 215, 215};
};

// Colours that tell lines apart (matplotlib's first five), for callers with many series.
inline RGB plot_colour(int i) {
    static const RGB colours[5] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44}, {214, 39, 40}, {148, 103, 189}};
    return colours[i % 5];
}

inline Image draw_plot(const std::vector<Series>& series, const PlotOptions& opt = {}) {
    const RGB black{0, 0, 0}, grid_gray{225, 225, 225}, white{255, 255, 255};
    const int S = 2, title_scale = 3;  // text scales: 10x14 and 15x21 pixel letters
    auto x_at = [](const Series& s, size_t i) { return s.x.empty() ? float(i) : s.x[i]; };

    // 1. The data's range, over finite points only.
    double x_lo = INFINITY, x_hi = -INFINITY, y_lo = INFINITY, y_hi = -INFINITY;
    for (const Series& s : series) {
        if (!s.x.empty() && s.x.size() != s.y.size())
            throw std::invalid_argument("plot: series '" + s.label + "' has " + std::to_string(s.x.size()) +
                                        " x values and " + std::to_string(s.y.size()) + " y values");
        for (size_t i = 0; i < s.y.size(); ++i)
            if (std::isfinite(x_at(s, i)) && std::isfinite(s.y[i])) {
                x_lo = std::min<double>(x_lo, x_at(s, i)), x_hi = std::max<double>(x_hi, x_at(s, i));
                y_lo = std::min<double>(y_lo, s.y[i]), y_hi = std::max<double>(y_hi, s.y[i]);
            }
    }
    const Axis ax = make_axis(x_lo, x_hi, opt.x_min, opt.x_max, opt.x_ticks), ay = make_axis(y_lo, y_hi, opt.y_min, opt.y_max, opt.y_ticks);
    const std::vector<double> x_ticks = axis_ticks(ax), y_ticks = axis_ticks(ay);

    // 2. Layout: the plot area [left, right] x [top, bottom] leaves room for the labels.
    int y_label_w = 0;
    for (double t : y_ticks) y_label_w = std::max(y_label_w, text_width(tick_label(t, ay.step), S));
    const int tick_len = 6, gap = 8;
    const int left = gap + text_height(S) + gap + y_label_w + gap + tick_len;
    const int last_x_label_w = x_ticks.empty() ? 0 : text_width(tick_label(x_ticks.back(), ax.step), S);
    const int right = opt.width - std::max(3 * gap, last_x_label_w / 2 + gap);
    const int top = opt.title.empty() ? 3 * gap : 2 * gap + text_height(title_scale) + 2 * gap;
    const int bottom = opt.height - (gap + text_height(S) + gap + text_height(S) + gap + tick_len);
    if (right - left < 50 || bottom - top < 50) throw std::invalid_argument("plot: width/height too small");
    // data -> pixel: x maps [lo, hi] to [left, right]; y is flipped (pixel rows grow downwards).
    auto px = [&](double x) { return left + (x - ax.lo) / (ax.hi - ax.lo) * (right - left); };
    auto py = [&](double y) { return bottom - (y - ay.lo) / (ay.hi - ay.lo) * (bottom - top); };

    Canvas canvas(opt.width, opt.height, white);
    for (double t : x_ticks) canvas.fill_rect(int(std::lround(px(t))), top, 1, bottom - top, grid_gray);
    for (double t : y_ticks) canvas.fill_rect(left, int(std::lround(py(t))), right - left, 1, grid_gray);

    // 3. The curves: consecutive finite points joined; with smoothing, the raw data faded
    // (30% colour, 70% white, 1 px) under the moving average.
    auto draw_curve = [&](const Series& s, const std::vector<float>& y, RGB c, int thickness) {
        for (size_t i = 1; i < y.size(); ++i) {
            double x0 = px(x_at(s, i - 1)), y0 = py(y[i - 1]), x1 = px(x_at(s, i)), y1 = py(y[i]);
            if (!std::isfinite(x0 + y0 + x1 + y1) || !clip_segment(x0, y0, x1, y1, left - 2, top - 2, right + 2, bottom + 2))
                continue;
            canvas.line(int(std::lround(x0)), int(std::lround(y0)), int(std::lround(x1)), int(std::lround(y1)), c, thickness);
        }
        if (y.size() == 1 && std::isfinite(y[0]))  // a single point: a dot
            canvas.fill_rect(int(std::lround(px(x_at(s, 0)))) - 1, int(std::lround(py(y[0]))) - 1, 3, 3, c);
    };
    canvas.clip(left + 1, top + 1, right, bottom);
    for (const auto& [x0, x1] : opt.bands) {
        const int a = int(std::lround(std::clamp<double>(px(x0), left, right)));
        const int b = int(std::lround(std::clamp<double>(px(x1), left, right)));
        canvas.fill_rect(a, top + 1, std::max(1, b - a), bottom - top - 1, opt.band_colour);
    }
    for (const Series& s : series) {
        if (opt.smooth <= 1) continue;
        const RGB faded{uint8_t((s.colour.r * 3 + 255 * 7) / 10), uint8_t((s.colour.g * 3 + 255 * 7) / 10),
                        uint8_t((s.colour.b * 3 + 255 * 7) / 10)};
        draw_curve(s, s.y, faded, 1);
    }
    for (const Series& s : series) draw_curve(s, moving_average(s.y, opt.smooth), s.colour, 2);
    canvas.unclip();

    // 4. Frame, ticks, tick labels, axis titles, title.
    canvas.rect_outline(left, top, right - left + 1, bottom - top + 1, black);
    for (double t : x_ticks) {
        const int x = int(std::lround(px(t)));
        const std::string label = tick_label(t, ax.step);
        canvas.fill_rect(x, bottom + 1, 1, tick_len, black);
        canvas.text(x - text_width(label, S) / 2, bottom + tick_len + gap, label, black, S);
    }
    for (double t : y_ticks) {
        const int y = int(std::lround(py(t)));
        const std::string label = tick_label(t, ay.step);
        canvas.fill_rect(left - tick_len, y, tick_len, 1, black);
        canvas.text(left - tick_len - gap - text_width(label, S), y - text_height(S) / 2, label, black, S);
    }
    canvas.text((left + right - text_width(opt.x_label, S)) / 2, opt.height - gap - text_height(S), opt.x_label, black, S);
    canvas.text_up(gap, (top + bottom + text_width(opt.y_label, S)) / 2, opt.y_label, black, S);
    canvas.text((opt.width - text_width(opt.title, title_scale)) / 2, 2 * gap, opt.title, black, title_scale);

    // 5. Legend: a line sample and the label for each series, in a corner of the plot.
    if (opt.legend && !series.empty()) {
        int label_w = 0;
        for (const Series& s : series) label_w = std::max(label_w, text_width(s.label, S));
        const int row_h = text_height(S) + gap, sample_w = 30;
        const int w = gap + sample_w + gap + label_w + gap, h = gap + int(series.size()) * row_h;
        // Put it in the corner where it hides the fewest curve pixels (top right on a tie).
        int x = 0, y = 0;
        long fewest = -1;
        for (int corner = 0; corner < 4; ++corner) {
            const int cx = corner % 2 == 0 ? right - gap - w : left + gap + 1;
            const int cy = corner < 2 ? top + gap + 1 : bottom - gap - h;
            long hidden = 0;
            for (int j = std::max(cy, 0); j < std::min(cy + h, opt.height); ++j)
                for (int i = std::max(cx, 0); i < std::min(cx + w, opt.width); ++i) {
                    const uint8_t* p = canvas.image.at(i, j);
                    hidden += !(p[0] == p[1] && p[1] == p[2] && (p[0] == white.r || p[0] == grid_gray.r));
                }
            if (fewest < 0 || hidden < fewest) fewest = hidden, x = cx, y = cy;
        }
        canvas.fill_rect(x, y, w, h, white);
        canvas.rect_outline(x, y, w, h, RGB{160, 160, 160});
        for (size_t i = 0; i < series.size(); ++i) {
            const int row_y = y + gap + int(i) * row_h;
            canvas.fill_rect(x + gap, row_y + text_height(S) / 2 - 1, sample_w, 3, series[i].colour);
            canvas.text(x + gap + sample_w + gap, row_y, series[i].label, black, S);
        }
    }
    return canvas.image;
}

// Draw and write a PNG (atomically).
//   plot_lines("runs/dcgan/losses.png", {{"D loss", steps, d_loss, {200, 40, 40}},
//                                         {"G loss", steps, g_loss, {40, 80, 200}}}, options);
inline void plot_lines(const std::string& path, const std::vector<Series>& series, const PlotOptions& options = {}) {
    write_png(path, draw_plot(series, options));
}

}  // namespace minigan::io
