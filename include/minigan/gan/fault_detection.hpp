// gan/fault_detection.hpp - from window scores to alarms: the threshold for a false-alarm rate,
// the detection delay, and the pictures of examples/06_sensor_anogan.cpp.
//
// Read data/plant.hpp (the windows) and gan/metrics.hpp (ROC, AUROC) first. AUROC says how
// well a score separates faulty from healthy windows over all thresholds; an operator needs
// one threshold and asks two questions of it: how often does it ring on a healthy plant (the
// false-alarm rate, fixed on healthy validation data), and how long after a fault starts does
// it ring (the detection delay).
#pragma once

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "../data/plant.hpp"
#include "../io/canvas.hpp"
#include "../io/plot.hpp"
#include "anomaly_report.hpp"  // roc_series
#include "metrics.hpp"

namespace minigan::gan {

// The alarm threshold t for a false-alarm rate `rate` on healthy scores: flag score > t, with t
// the ceil((1 - rate) N)-th smallest healthy score, so at most rate * N of the N healthy scores
// lie above it (ties can only make it fewer). rate = 0.01: t is the 99th percentile.
inline float alarm_threshold(std::vector<float> healthy_scores, double rate) {
    if (healthy_scores.empty()) throw std::invalid_argument("alarm_threshold: no healthy scores");
    if (!(rate >= 0.0 && rate < 1.0)) throw std::invalid_argument("alarm_threshold: the false-alarm rate must be in [0, 1)");
    std::sort(healthy_scores.begin(), healthy_scores.end());
    const double n = static_cast<double>(healthy_scores.size());
    const long index = std::clamp(static_cast<long>(std::ceil((1.0 - rate) * n - 1e-9)) - 1, 0L, static_cast<long>(n) - 1);
    return healthy_scores[static_cast<size_t>(index)];
}

// Share of `scores` above the threshold (the false-alarm rate, when they are healthy).
inline double alarm_rate(const std::vector<float>& scores, float threshold) {
    if (scores.empty()) return 0.0;
    return static_cast<double>(std::count_if(scores.begin(), scores.end(), [&](float s) { return s > threshold; })) /
           static_cast<double>(scores.size());
}

// What one threshold does on a run whose fault starts at sample `onset`.
struct Detection {
    bool detected = false;
    int delay_samples = -1;          // end(i) - onset for the first flagged window i with end(i) > onset
    int first_window = -1;           // that window's index
    double false_alarm_rate = 0.0;   // share of the windows that end before the onset (healthy ones) flagged
};

// The detection delay: a window is judged when its last sample has arrived, at end(i) =
// start(i) + length; the first window flagged after the fault's first sample has arrived
// (end(i) > onset) raises the alarm, delay_samples = end(i) - onset samples of faulty signal
// later (1: the very first faulty sample was enough). Flags on windows that end at or before
// the onset are false alarms, counted apart.
inline Detection detect(const data::Windows& w, const std::vector<float>& scores, float threshold, int onset) {
    if (scores.size() != w.size())
        throw std::invalid_argument("detect: " + std::to_string(scores.size()) + " scores for " + std::to_string(w.size()) + " windows");
    Detection d;
    size_t before = 0, false_alarms = 0;
    for (size_t i = 0; i < w.size(); ++i) {
        const bool flagged = scores[i] > threshold;
        if (w.end(i) <= onset) {
            ++before;
            false_alarms += flagged;
        } else if (flagged && !d.detected) {
            d.detected = true, d.delay_samples = w.end(i) - onset, d.first_window = static_cast<int>(i);
        }
    }
    d.false_alarm_rate = before ? static_cast<double>(false_alarms) / static_cast<double>(before) : 0.0;
    return d;
}

// ---- pictures ---------------------------------------------------------------------------

// Images one above the other on white, each centred.
inline io::Image stack_images(const std::vector<io::Image>& parts) {
    int width = 0, height = 0;
    for (const io::Image& p : parts) width = std::max(width, p.width), height += p.height;
    io::Canvas canvas(width, height, {255, 255, 255});
    int y0 = 0;
    for (const io::Image& p : parts) {
        const int x0 = (width - p.width) / 2;
        for (int y = 0; y < p.height; ++y)
            for (int x = 0; x < p.width; ++x) {
                const uint8_t* px = p.at(x, y);
                canvas.set(x0 + x, y0 + y, p.channels == 3 ? io::RGB{px[0], px[1], px[2]} : io::RGB{px[0], px[0], px[0]});
            }
        y0 += p.height;
    }
    return canvas.image;
}

// Images side by side in rows of `columns`.
inline io::Image grid_images(const std::vector<io::Image>& parts, int columns) {
    std::vector<io::Image> rows;
    for (size_t first = 0; first < parts.size(); first += static_cast<size_t>(columns)) {
        int width = 0, height = 0;
        const size_t last = std::min(parts.size(), first + static_cast<size_t>(columns));
        for (size_t i = first; i < last; ++i) width += parts[i].width, height = std::max(height, parts[i].height);
        io::Canvas row(width, height, {255, 255, 255});
        int x0 = 0;
        for (size_t i = first; i < last; ++i) {
            for (int y = 0; y < parts[i].height; ++y)
                for (int x = 0; x < parts[i].width; ++x) {
                    const uint8_t* px = parts[i].at(x, y);
                    row.set(x0 + x, y, {px[0], px[1], px[2]});
                }
            x0 += parts[i].width;
        }
        rows.push_back(row.image);
    }
    return stack_images(rows);
}

// One scored method on a run, for the signal plot: its score per window and its threshold.
struct ScoredRun {
    std::string name;
    std::vector<float> scores;
    float threshold;
    io::RGB colour;
};

// The run's three channels over time (in their own units), and under them each method's score
// divided by its alarm threshold (alarm above 1), plotted at each window's end. Shaded in both
// panels: where the FIRST method's alarm is up (each flagged window shades the last `stride`
// samples before its end: the time it decides about). A dashed-looking gray line: the onset.
inline void write_signal_plot(const std::string& path, const std::string& title, const data::PlantSignals& s,
                              const data::Windows& w, const std::vector<ScoredRun>& methods, int onset) {
    if (methods.empty()) throw std::invalid_argument("write_signal_plot: no scores to draw");
    const float dt = static_cast<float>(s.dt), t_end = s.size() * dt;
    std::vector<std::pair<float, float>> bands;
    for (size_t i = 0; i < w.size(); ++i)
        if (methods[0].scores[i] > methods[0].threshold) {
            const float a = (w.end(i) - w.stride) * dt, b = w.end(i) * dt;
            if (!bands.empty() && bands.back().second >= a) bands.back().second = b;  // merge neighbours
            else bands.push_back({a, b});
        }
    std::vector<float> time(static_cast<size_t>(s.size()));
    for (int k = 0; k < s.size(); ++k) time[static_cast<size_t>(k)] = k * dt;
    const float onset_t = onset * dt;
    io::PlotOptions top;
    top.title = title;
    top.x_label = "time (s)";
    top.y_label = "level (m), valve (0..1)";
    top.width = 900, top.height = 330;
    top.x_min = 0, top.x_max = t_end;
    top.y_min = -0.1f, top.y_max = 1.1f;
    top.bands = bands;
    std::vector<io::Series> signals{{"setpoint r", time, s.setpoint, {0, 0, 0}},
                                    {"measurement m", time, s.measurement, io::plot_colour(0)},
                                    {"control u", time, s.control, io::plot_colour(2)},
                                    {"fault onset", {onset_t, onset_t}, {-0.1f, 1.1f}, {150, 150, 150}}};
    io::PlotOptions bottom = top;
    bottom.title = "";
    bottom.y_label = "score / threshold";
    bottom.height = 260;
    bottom.y_min = 0, bottom.y_max = 4;
    std::vector<io::Series> scores;
    for (const ScoredRun& m : methods) {
        io::Series series{m.name, {}, {}, m.colour};
        for (size_t i = 0; i < w.size(); ++i)
            series.x.push_back(w.end(i) * dt), series.y.push_back(m.scores[i] / std::max(m.threshold, 1e-12f));
        scores.push_back(series);
    }
    scores.push_back({"alarm threshold", {0, t_end}, {1, 1}, {214, 39, 40}});
    scores.push_back({"fault onset", {onset_t, onset_t}, {0, 4}, {150, 150, 150}});
    io::write_png(path, stack_images({io::draw_plot(signals, top), io::draw_plot(scores, bottom)}));
}

// One window (1, channels, length) beside its reconstruction, one small plot per channel:
// the window x, the reconstruction G(E(x)), and the residual x - G(E(x)) (scaled units).
inline void write_window_panel(const std::string& path, const std::string& title, const float* window,
                               const float* reconstruction, int length) {
    std::vector<io::Image> rows;
    for (int c = 0; c < data::kPlantChannels; ++c) {
        io::Series x{"x", {}, {}, {0, 0, 0}}, g{"G(E(x))", {}, {}, io::plot_colour(0)}, r{"x - G(E(x))", {}, {}, io::plot_colour(3)};
        for (int t = 0; t < length; ++t) {
            const float xv = window[c * length + t], gv = reconstruction[c * length + t];
            x.y.push_back(xv), g.y.push_back(gv), r.y.push_back(xv - gv);
        }
        io::PlotOptions opt;
        opt.title = c == 0 ? title : "";
        opt.x_label = std::string(data::channel_name(c)) + ": sample in the window";
        opt.y_label = "scaled";
        opt.width = 640, opt.height = c == 0 ? 250 : 210;
        opt.x_min = 0, opt.x_max = static_cast<float>(length - 1);
        opt.y_min = -1.5f, opt.y_max = 1.5f;
        opt.legend = c == 0;
        rows.push_back(io::draw_plot({x, g, r}, opt));
    }
    io::write_png(path, stack_images(rows));
}

// The ROC curve of each method on one fault type's windows, as a small plot.
inline io::Image roc_plot(const std::string& title, const std::vector<ScoredRun>& methods, const std::vector<int>& faulty) {
    std::vector<io::Series> curves;
    for (const ScoredRun& m : methods) curves.push_back(roc_series(m.name, m.scores, faulty, m.colour));
    curves.push_back({"chance", {0, 1}, {0, 1}, {180, 180, 180}});
    io::PlotOptions opt;
    opt.title = title;
    opt.x_label = "false alarm rate";
    opt.y_label = "detection rate";
    opt.x_min = 0, opt.x_max = 1, opt.y_min = 0, opt.y_max = 1;
    opt.width = 420, opt.height = 400;
    opt.x_ticks = 5, opt.y_ticks = 5;  // 0, 0.2, ..., 1: room for each label
    return io::draw_plot(curves, opt);
}

}  // namespace minigan::gan
