// eval/mode_coverage.hpp - counting mode collapse: modes covered, high-quality samples and the
// reverse KL of the mode histogram, on a mixture of Gaussians with known centres.
//
// Read data/toy_2d.hpp (the ring of 8 and the grid of 25) first. The definitions are those of the
// papers that measure collapse on these data sets (Metz et al. 2017; Srivastava et al. 2017,
// VEEGAN; Lin et al. 2018, PacGAN). Each generated sample is assigned to its nearest centre.
//   - high quality: the sample lies within 3 standard deviations of that centre,
//     d^2 < (3 stddev)^2; a real sample is high quality with probability 1 - e^(-9/2) = 98.9 %.
//   - a mode is covered when at least `min_share` of all samples are high-quality samples of it.
//     VEEGAN and PacGAN count a mode with a few high-quality samples; our default, 1 % (25 of the
//     2,500 samples the papers draw), asks for a little more, so that the few points a collapsed
//     generator leaves on its way from one mode to the next do not count as covering a mode: a
//     covered mode of the ring then holds at least 1/12 of its fair share of 12.5 %, one of the
//     grid at least 1/4 of 4 %.
//   - reverse KL: p = the histogram of all samples over their nearest modes, u = uniform (1/K);
//     KL(p || u) = sum_k p_k log(p_k K). 0 when G spreads its samples evenly, log K (2.08 for the
//     ring, 3.22 for the grid) when every sample goes to one mode.
// Report all three: covering every mode with bad samples, or making good samples of one mode,
// both fail.
#pragma once

#include <cmath>
#include <stdexcept>
#include <vector>

#include "../data/toy_2d.hpp"

namespace minigan::eval {

using data::Point;

struct ModeCoverage {
    int modes_covered = 0;              // modes holding at least min_share of the samples, all high quality
    double high_quality_fraction = 0;   // share of samples within 3 stddev of their nearest centre
    double reverse_kl = 0;              // KL(mode histogram || uniform), in nats
    std::vector<int> high_quality_per_mode;  // high-quality samples nearest to each centre
};

inline ModeCoverage mode_coverage(const std::vector<Point>& samples, const std::vector<Point>& centers, float stddev,
                                  double min_share = 0.01) {
    if (samples.empty() || centers.empty()) throw std::invalid_argument("mode_coverage: no samples or no centres");
    if (!(stddev > 0) || !(min_share >= 0 && min_share <= 1))
        throw std::invalid_argument("mode_coverage: need stddev > 0 and 0 <= min_share <= 1");
    ModeCoverage r;
    std::vector<int> nearest(centers.size(), 0);  // all samples, for the histogram
    // EXERCISE E13 begin
    // nearest centre by squared distance d2; high quality if d2 < (3 stddev)^2
    std::vector<int> hits(centers.size(), 0);
    size_t good = 0;
    for (const Point& s : samples) {
        size_t best = 0;
        double best_d2 = INFINITY;
        for (size_t c = 0; c < centers.size(); ++c) {
            const double dx = s.x - centers[c].x, dy = s.y - centers[c].y;
            const double d2 = dx * dx + dy * dy;
            if (d2 < best_d2) { best_d2 = d2; best = c; }
        }
        ++nearest[best];
        if (best_d2 < 9.0 * stddev * stddev) { ++good; ++hits[best]; }
    }
    // covered: at least one high-quality sample, and at least min_share of all samples
    for (int h : hits) r.modes_covered += h > 0 && h >= min_share * samples.size() ? 1 : 0;
    r.high_quality_fraction = static_cast<double>(good) / samples.size();
    r.high_quality_per_mode = hits;
    // EXERCISE E13 end
    const double K = static_cast<double>(centers.size());
    for (int n : nearest)
        if (n > 0) {
            const double p = static_cast<double>(n) / samples.size();
            r.reverse_kl += p * std::log(p * K);
        }
    return r;
}

}  // namespace minigan::eval
