// E13 - mode coverage on a ring of Gaussians (include/minigan/eval/mode_coverage.hpp: mode_coverage).
//   a sample is high quality if it lies within 3 stddev of its nearest centre (d^2 < (3 stddev)^2);
//   a mode is covered if at least one high-quality sample is nearest to it, and at least
//   min_share of all samples are high-quality samples of it.
// Oracles: six samples placed by hand, and a collapsed "generator" that only draws from 5 of 8 modes.
// Alone: g++ -std=c++17 -O1 -fopenmp -DMINIGAN_REFERENCE -Iinclude exercises/tests/E13_mode_coverage.cpp -lopenblas -lz -o e13
#define EXERCISE "E13"
#define EXERCISE_TEST "E13_mode_coverage"
#include "exercise_test.hpp"

#include <random>

#include <minigan/eval/mode_coverage.hpp>

using namespace minigan;
using exercise::Cause;
using V = std::vector<float>;

static Cause gives(const char* pt, const char* en, float modes, float fraction) {
    return {pt, en, [modes, fraction](const V& g, const V&) { return exercise::all_close(g, {modes, fraction}, 1e-5, 1e-6); }};
}

TEST_SUITE("E13 mode coverage") {

TEST_CASE("E13 six samples by hand: 4 modes on a circle of radius 2, stddev 0.1") {
    const auto centers = data::ring_centers(4, 2.0f);  // (2, 0), (0, 2), (-2, 0), (0, -2)
    const std::vector<data::Point> samples = {
        {2.05f, 0.0f}, {1.9f, 0.1f}, {2.0f, -0.15f},  // three good samples of mode 0
        {0.0f, 2.25f},                                // mode 1 at distance 0.25 < 0.3: good
        {-2.35f, 0.0f},                               // mode 2 at distance 0.35 > 3 stddev: not good
        {0.0f, 0.0f}};                                // the centre of the ring: far from every mode
    const eval::ModeCoverage c = eval::mode_coverage(samples, centers, 0.1f);
    exercise::compare("(modes covered, high-quality fraction)", V{float(c.modes_covered), float(c.high_quality_fraction)},
                      {2.0f, 4.0f / 6.0f}, {2},
                      {gives("comparou a distância AO QUADRADO com 3 stddev: compare d^2 com (3 stddev)^2 (ou d com 3 stddev)",
                             "compared the SQUARED distance with 3 stddev: compare d^2 with (3 stddev)^2 (or d with 3 stddev)", 3.0f, 5.0f / 6.0f),
                       gives("um modo foi contado como coberto por uma amostra longe dele: só amostras de alta qualidade (a menos de 3 stddev) cobrem um modo",
                             "a mode was counted as covered by a sample far from it: only high-quality samples (within 3 stddev) cover a mode", 3.0f, 4.0f / 6.0f),
                       {"a fração de alta qualidade é sobre as amostras (6), não sobre os modos (4)",
                        "the high-quality fraction is over the samples (6), not over the modes (4)",
                        [](const V& g, const V&) { return std::fabs(g[1] - 1.0f) < 1e-6f; }}});
    // min_share 0.2: mode 1 holds 1 of the 6 samples (0.17 < 0.2), so only mode 0 (3 of 6) is covered
    const eval::ModeCoverage strict = eval::mode_coverage(samples, centers, 0.1f, 0.2);
    exercise::compare("(modes covered, high-quality fraction) with min_share = 0.2",
                      V{float(strict.modes_covered), float(strict.high_quality_fraction)}, {1.0f, 4.0f / 6.0f}, {2},
                      {gives("min_share foi ignorado: um modo só conta se tem pelo menos min_share de TODAS as amostras",
                             "min_share was ignored: a mode only counts with at least min_share of ALL the samples", 2.0f, 4.0f / 6.0f)});
}

TEST_CASE("E13 a collapsed generator: 2,000 samples from 5 of 8 modes -> 5 modes covered, ~99% high quality") {
    const float stddev = 0.05f;
    const auto centers = data::ring_centers(8, 2.0f);
    std::mt19937 rng(13);
    std::normal_distribution<float> noise(0.0f, stddev);
    std::vector<data::Point> samples;
    for (int i = 0; i < 2000; ++i) {
        const auto& c = centers[(i % 5) * 8 / 5];  // modes 0, 1, 3, 4, 6: three are never drawn
        samples.push_back({c.x + noise(rng), c.y + noise(rng)});
    }
    const eval::ModeCoverage c = eval::mode_coverage(samples, centers, stddev);
    exercise::expect(c.modes_covered == 5, "deveriam ser 5 modos cobertos (a amostragem só usa 5 dos 8)",
                     "5 modes should be covered (the samples come from 5 of the 8)", "got " + std::to_string(c.modes_covered));
    // P(|noise| < 3 stddev) for a 2-d Gaussian is 1 - e^(-9/2) = 0.989
    exercise::expect(c.high_quality_fraction > 0.97 && c.high_quality_fraction <= 1.0,
                     "a fração de alta qualidade deveria ser ~0,989 = 1 - e^(-4,5) para ruído gaussiano em 2D",
                     "the high-quality fraction should be ~0.989 = 1 - e^(-4.5) for 2-d Gaussian noise",
                     "got " + exercise::num(c.high_quality_fraction));
}

}  // TEST_SUITE
