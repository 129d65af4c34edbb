// data/toy_2d.hpp - points in the plane for the 2D toy GAN: a ring of 8 Gaussians, a grid of 25,
// a spiral and two moons.
//
// Read tensor.hpp (Rng) first. The ring and the grid are the benchmarks of the mode-collapse
// papers (Metz et al. 2017, Unrolled GANs; Srivastava et al. 2017, VEEGAN; Lin et al. 2018,
// PacGAN): k small Gaussians ("modes") with known centres, so eval/mode_coverage.hpp can count
// which ones a generator reaches. Their sizes are the papers':
//   ring: 8 centres on a circle of radius 2, standard deviation 0.02 (Metz, VEEGAN, PacGAN);
//   grid: 25 centres at (i, j) for i, j in {-4, -2, 0, 2, 4}, standard deviation 0.05 (VEEGAN, PacGAN).
// The spiral and the moons have no modes to count: they show whether G can bend its output.
// Every sampler draws a mode uniformly, then Gaussian noise around its centre.
#pragma once

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "../tensor.hpp"

namespace minigan::data {

struct Point {
    float x, y;
};

// A data set of modes: the centres and the standard deviation of each Gaussian around them.
struct GaussianMixture2D {
    std::vector<Point> centers;
    float stddev;
};

// k centres on a circle of radius r: (r cos(2 pi i / k), r sin(2 pi i / k)).
inline std::vector<Point> ring_centers(int k, float radius) {
    if (k < 1) throw std::invalid_argument("ring_centers: need k >= 1, got " + std::to_string(k));
    std::vector<Point> c;
    for (int i = 0; i < k; ++i) {
        const double t = 2.0 * M_PI * i / k;
        c.push_back({static_cast<float>(radius * std::cos(t)), static_cast<float>(radius * std::sin(t))});
    }
    return c;
}

// side x side centres spaced `spacing` apart, centred on the origin (5, 2: -4, -2, 0, 2, 4).
inline std::vector<Point> grid_centers(int side, float spacing) {
    if (side < 1) throw std::invalid_argument("grid_centers: need side >= 1, got " + std::to_string(side));
    std::vector<Point> c;
    const float offset = 0.5f * (side - 1) * spacing;
    for (int i = 0; i < side; ++i)
        for (int j = 0; j < side; ++j) c.push_back({i * spacing - offset, j * spacing - offset});
    return c;
}

inline GaussianMixture2D ring_of_8() { return {ring_centers(8, 2.0f), 0.02f}; }
inline GaussianMixture2D grid_of_25() { return {grid_centers(5, 2.0f), 0.05f}; }

// n points of a mixture: a centre drawn uniformly, plus N(0, stddev^2) in x and in y.
inline std::vector<Point> sample_mixture(const GaussianMixture2D& m, int n, Rng& rng) {
    std::vector<Point> p(n);
    for (Point& q : p) {
        const Point& c = m.centers[rng.engine() % m.centers.size()];
        q = {c.x + rng.normal(0.0f, m.stddev), c.y + rng.normal(0.0f, m.stddev)};
    }
    return p;
}

// Two arms of a spiral, r = t for t in [0.5, 4] (about 1.7 turns), noise 0.05: (r cos t', r sin t')
// with t' = 2.5 t, the second arm turned by pi.
inline std::vector<Point> sample_spiral(int n, Rng& rng) {
    std::vector<Point> p(n);
    for (Point& q : p) {
        const float t = rng.uniform(0.5f, 4.0f), turn = (rng.engine() & 1) ? float(M_PI) : 0.0f;
        q = {t * std::cos(2.5f * t + turn) + rng.normal(0.0f, 0.05f), t * std::sin(2.5f * t + turn) + rng.normal(0.0f, 0.05f)};
    }
    return p;
}

// scikit-learn's two moons, scaled by 2 and centred: the upper half circle (cos t, sin t) and the
// lower one (1 - cos t, 0.5 - sin t), t in [0, pi], noise 0.05 (before scaling).
inline std::vector<Point> sample_moons(int n, Rng& rng) {
    std::vector<Point> p(n);
    for (Point& q : p) {
        const float t = rng.uniform(0.0f, float(M_PI));
        const bool upper = rng.engine() & 1;
        const float x = upper ? std::cos(t) : 1.0f - std::cos(t), y = upper ? std::sin(t) : 0.5f - std::sin(t);
        q = {2.0f * (x - 0.5f + rng.normal(0.0f, 0.05f)), 2.0f * (y - 0.25f + rng.normal(0.0f, 0.05f))};
    }
    return p;
}

// Points -> a (N, 2) tensor (rows x, y), and back.
inline Tensor points_to_tensor(const std::vector<Point>& p) {
    Tensor t({static_cast<int>(p.size()), 2});
    for (size_t i = 0; i < p.size(); ++i) t[2 * i] = p[i].x, t[2 * i + 1] = p[i].y;
    return t;
}
inline std::vector<Point> tensor_to_points(const Tensor& t) {
    if (t.dim() != 2 || t.shape[1] != 2) throw std::invalid_argument("tensor_to_points: need (N, 2), got " + shape_str(t.shape));
    std::vector<Point> p(t.shape[0]);
    for (size_t i = 0; i < p.size(); ++i) p[i] = {t[2 * i], t[2 * i + 1]};
    return p;
}

}  // namespace minigan::data
