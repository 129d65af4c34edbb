// exercises/lab/ring.hpp - the ring of Gaussians and a mode-coverage metric (Metz et al. 2017, Unrolled GANs;
// Srivastava et al. 2017, VEEGAN).
//
// Nothing to read first. The toy data: k Gaussians of standard deviation `stddev` whose centres sit
// evenly on a circle of radius r. A GAN that collapses (colapso de modo / mode collapse) puts its
// samples on a few of them. The metric: a sample is "high quality" if it lies within 3 stddev of
// its nearest centre; a mode is "covered" if at least one high-quality sample is nearest to it.
// Report both: covering every mode with bad samples, or making good samples of one mode, both fail.
#pragma once

#include <cmath>
#include <stdexcept>
#include <utility>
#include <vector>

namespace minigan::lab {

using Point = std::pair<float, float>;

// k centres on a circle of radius r: (r cos(2 pi i / k), r sin(2 pi i / k)).
inline std::vector<Point> ring_centers(int k, float r) {
    std::vector<Point> c;
    for (int i = 0; i < k; ++i) {
        const double t = 2.0 * M_PI * i / k;
        c.push_back({static_cast<float>(r * std::cos(t)), static_cast<float>(r * std::sin(t))});
    }
    return c;
}

struct Coverage {
    int modes_covered;            // modes with at least one high-quality sample
    double high_quality_fraction; // share of samples within 3 stddev of their nearest centre
};

inline Coverage mode_coverage(const std::vector<Point>& samples, const std::vector<Point>& centers, float stddev) {
    if (samples.empty() || centers.empty()) throw std::invalid_argument("mode_coverage: no samples or no centres");
    // EXERCISE E13 begin
    // nearest centre by squared distance d2; high quality if d2 < (3 stddev)^2
    std::vector<int> hits(centers.size(), 0);
    size_t good = 0;
    for (const Point& s : samples) {
        size_t best = 0;
        double best_d2 = INFINITY;
        for (size_t c = 0; c < centers.size(); ++c) {
            const double dx = s.first - centers[c].first, dy = s.second - centers[c].second;
            const double d2 = dx * dx + dy * dy;
            if (d2 < best_d2) { best_d2 = d2; best = c; }
        }
        if (best_d2 < 9.0 * stddev * stddev) { ++good; ++hits[best]; }
    }
    int covered = 0;
    for (int h : hits) covered += h > 0 ? 1 : 0;
    return {covered, static_cast<double>(good) / samples.size()};
    // EXERCISE E13 end
}

}  // namespace minigan::lab
