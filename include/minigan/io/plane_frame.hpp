// io/plane_frame.hpp - one picture of a 2D GAN at one moment: D's verdict over the plane as a
// colour map, the real and the generated points, and the arrows that show where D pushes G's points.
//
// Read io/canvas.hpp first. The colour map is "coolwarm" (Moreland 2009): blue where D says
// "fake", light gray at 1/2, red where D says "real"; a colour bar at the right says so. For
// losses without a probability (least squares, hinge, Wasserstein) the map is D's raw score,
// scaled from its lowest value on the plane (blue) to its highest (red). Real points are black,
// generated ones green; each arrow starts at a generated point and points along minus the
// gradient of G's loss there, the longest drawn 30 pixels.
#pragma once

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "../data/toy_2d.hpp"
#include "canvas.hpp"

namespace minigan::io {

struct PlaneFrame {
    float extent = 3.0f;               // the plane shown: [-extent, extent]^2
    int cells = 100;                   // the map: cells x cells values, row 0 at the top (y = +extent)
    std::vector<float> map;            // D's probability (or score) at each cell centre
    bool map_is_probability = true;    // false: scores, scaled to their range
    std::vector<data::Point> real, fake;
    std::vector<data::Point> push;     // per fake point (or empty): -dLoss_G/dx
    std::string title;                 // the line above the plane
};

// The cell centres of a frame's map, row by row from the top: (cells^2, 2) points to give D.
inline std::vector<data::Point> plane_cell_centers(float extent, int cells) {
    std::vector<data::Point> p;
    for (int row = 0; row < cells; ++row)
        for (int col = 0; col < cells; ++col)
            p.push_back({-extent + (col + 0.5f) * 2 * extent / cells, extent - (row + 0.5f) * 2 * extent / cells});
    return p;
}

// t in [0, 1] -> coolwarm: blue (59, 76, 192), gray (221, 221, 221), red (180, 4, 38), linear between.
inline RGB coolwarm(float t) {
    t = std::clamp(std::isfinite(t) ? t : 0.5f, 0.0f, 1.0f);
    const RGB a = t < 0.5f ? RGB{59, 76, 192} : RGB{221, 221, 221}, b = t < 0.5f ? RGB{221, 221, 221} : RGB{180, 4, 38};
    const float s = t < 0.5f ? 2 * t : 2 * t - 1;
    return {uint8_t(a.r + s * (b.r - a.r)), uint8_t(a.g + s * (b.g - a.g)), uint8_t(a.b + s * (b.b - a.b))};
}

constexpr int plane_pixels = 400, frame_width = 520, frame_height = 480;

inline Image draw_plane_frame(const PlaneFrame& f) {
    const RGB white{255, 255, 255}, black{0, 0, 0}, green{0, 150, 0};
    const int left = 10, top = 34, P = plane_pixels;
    Canvas canvas(frame_width, frame_height, white);
    // 1. The map, each cell a block of pixels.
    float lo = 0, hi = 1;
    if (!f.map_is_probability && !f.map.empty()) {
        lo = *std::min_element(f.map.begin(), f.map.end()), hi = *std::max_element(f.map.begin(), f.map.end());
        if (!(hi > lo)) hi = lo + 1;
    }
    auto level = [&](float v) { return f.map_is_probability ? 1.0f / (1.0f + std::exp(-v)) : (v - lo) / (hi - lo); };
    if (f.map.size() == size_t(f.cells) * f.cells)
        for (int y = 0; y < P; ++y)
            for (int x = 0; x < P; ++x) canvas.set(left + x, top + y, coolwarm(level(f.map[(y * f.cells / P) * f.cells + x * f.cells / P])));
    // plane -> pixel (y flipped: rows grow downwards)
    auto px = [&](float x) { return left + (x + f.extent) / (2 * f.extent) * P; };
    auto py = [&](float y) { return top + (f.extent - y) / (2 * f.extent) * P; };
    canvas.clip(left, top, left + P, top + P);
    // 2. Points: generated green 3x3, real black 2x2 on top (so both stay visible on a mode).
    for (const data::Point& p : f.fake) canvas.fill_rect(int(px(p.x)) - 1, int(py(p.y)) - 1, 3, 3, green);
    for (const data::Point& p : f.real) canvas.fill_rect(int(px(p.x)), int(py(p.y)), 2, 2, black);
    // 3. Arrows, scaled so that the longest is 30 pixels; a head of two short strokes.
    float longest = 0;
    for (const data::Point& g : f.push) longest = std::max(longest, std::hypot(g.x, g.y));
    for (size_t i = 0; i < f.push.size() && i < f.fake.size() && longest > 0; ++i) {
        const double x0 = px(f.fake[i].x), y0 = py(f.fake[i].y);
        const double dx = 30 * f.push[i].x / longest, dy = -30 * f.push[i].y / longest, len = std::hypot(dx, dy);
        if (len < 3) continue;
        const double x1 = x0 + dx, y1 = y0 + dy, ux = dx / len, uy = dy / len;
        canvas.line(int(x0), int(y0), int(x1), int(y1), black, 1);
        canvas.line(int(x1), int(y1), int(x1 - 5 * ux + 3 * uy), int(y1 - 5 * uy - 3 * ux), black, 1);
        canvas.line(int(x1), int(y1), int(x1 - 5 * ux - 3 * uy), int(y1 - 5 * uy + 3 * ux), black, 1);
    }
    canvas.unclip();
    canvas.rect_outline(left - 1, top - 1, P + 2, P + 2, black);
    canvas.text(left, 10, f.title, black, 2);
    // 4. The colour bar: top = 1 ("real") or the highest score, bottom = 0 ("fake") or the lowest.
    const int bar_x = left + P + 14, bar_w = 16;
    for (int y = 0; y < P; ++y) canvas.fill_rect(bar_x, top + y, bar_w, 1, coolwarm(1.0f - float(y) / (P - 1)));
    canvas.rect_outline(bar_x - 1, top - 1, bar_w + 2, P + 2, black);
    const std::string hi_label = f.map_is_probability ? "1" : "high", lo_label = f.map_is_probability ? "0" : "low";
    canvas.text(bar_x + bar_w + 4, top, hi_label, black, 1);
    canvas.text(bar_x + bar_w + 4, top + P - 7, lo_label, black, 1);
    if (f.map_is_probability) canvas.text(bar_x + bar_w + 4, top + P / 2 - 3, "0.5", black, 1);
    canvas.text_up(bar_x + bar_w + 34, top + P / 2 + 40, f.map_is_probability ? "D(x): P(real)" : "D score", black, 1);
    // 5. The legend, under the plane.
    const int ly = top + P + 14;
    canvas.fill_rect(left, ly + 2, 4, 4, black);
    canvas.text(left + 10, ly, "real", black, 1);
    canvas.fill_rect(left + 50, ly + 1, 5, 5, green);
    canvas.text(left + 60, ly, "generated", black, 1);
    canvas.line(left + 130, ly + 3, left + 150, ly + 3, black, 1);
    canvas.line(left + 150, ly + 3, left + 146, ly, black, 1);
    canvas.line(left + 150, ly + 3, left + 146, ly + 6, black, 1);
    canvas.text(left + 156, ly, "where D pushes G (-grad of G's loss)", black, 1);
    canvas.text(left, ly + 14, "colour: D's verdict, blue = fake, red = real", black, 1);
    return canvas.image;
}

}  // namespace minigan::io
