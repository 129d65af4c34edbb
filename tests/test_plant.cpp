// test_plant.cpp - data/plant.hpp (the PI-controlled tank, its faults, the windows),
// eval/pca.hpp (the baseline), gan/fault_detection.hpp (alarm threshold, detection delay) and
// the shaded bands of io/plot.hpp,
// on cases worked out by hand.
// Run one case: ./test_plant -tc="*stuck*"
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <cmath>

#include <minigan/data/plant.hpp>
#include <minigan/eval/pca.hpp>
#include <minigan/gan/fault_detection.hpp>

using namespace minigan;
using data::Fault;
using data::FaultType;

namespace {
data::PlantConfig quiet_plant() {  // no noise at all: faults show exactly
    data::PlantConfig c;
    c.noise = 0, c.process_noise = 0;
    return c;
}
}  // namespace

TEST_CASE("the plant is deterministic for a seed, and the seed matters") {
    const data::PlantConfig c;
    const data::PlantSignals a = data::simulate_plant(c, 2000, 7), b = data::simulate_plant(c, 2000, 7);
    const data::PlantSignals other = data::simulate_plant(c, 2000, 8);
    CHECK(a.measurement == b.measurement);
    CHECK(a.control == b.control);
    CHECK(a.setpoint == b.setpoint);
    CHECK(a.measurement != other.measurement);
    // Setpoints step (more than one value), inside the configured range.
    const auto [lo, hi] = std::minmax_element(a.setpoint.begin(), a.setpoint.end());
    CHECK(*lo >= c.setpoint_lo);
    CHECK(*hi <= c.setpoint_hi);
    CHECK(*hi - *lo > 0.05f);
}

TEST_CASE("the healthy PI loop tracks its setpoint, valve within range") {
    const data::PlantConfig c = quiet_plant();
    const data::PlantSignals s = data::simulate_plant(c, 3000, 3);
    // At rest on the first setpoint: u = r / K, m = r.
    CHECK(s.measurement[0] == doctest::Approx(s.setpoint[0]).epsilon(1e-6));
    CHECK(s.control[0] == doctest::Approx(s.setpoint[0] / c.gain).epsilon(1e-6));
    // Just before every setpoint step (>= 100 samples = 10 closed-loop time constants later), it has settled.
    for (int k = 1; k < s.size(); ++k) {
        if (s.setpoint[k] == s.setpoint[k - 1]) continue;
        CHECK(std::fabs(s.measurement[k - 1] - s.setpoint[k - 1]) < 1e-3);
    }
    for (float u : s.control) CHECK((u >= c.u_min && u <= c.u_max));
}

TEST_CASE("a stuck sensor reads one value from its onset on, and the integrator winds the valve open or shut") {
    const data::PlantConfig c = quiet_plant();
    const int onset = 500;
    const data::PlantSignals s = data::simulate_plant(c, 1500, 3, {{FaultType::stuck, onset}});
    const data::PlantSignals healthy = data::simulate_plant(c, 1500, 3);
    for (int k = 0; k < onset; ++k) REQUIRE(s.measurement[k] == healthy.measurement[k]);  // nothing before the onset
    for (int k = onset; k < s.size(); ++k) REQUIRE(s.measurement[k] == s.measurement[onset]);
    // The controller sees a constant error once the setpoint moves: u ends at a limit.
    bool hits_limit = false;
    for (int k = onset; k < s.size(); ++k) hits_limit |= s.control[k] == c.u_max || s.control[k] == c.u_min;
    CHECK(hits_limit);
}

TEST_CASE("a spike appears exactly at the asked samples") {
    const data::PlantConfig c = quiet_plant();
    const data::PlantSignals healthy = data::simulate_plant(c, 400, 5);
    // A single spike at 200 (period 0): identical before it, the height added at 200 itself.
    const data::PlantSignals one = data::simulate_plant(c, 400, 5, {{FaultType::spike, 200, 0.3}});
    for (int k = 0; k < 200; ++k) REQUIRE(one.measurement[k] == healthy.measurement[k]);
    CHECK(one.measurement[200] - healthy.measurement[200] == doctest::Approx(0.3).epsilon(1e-5));
    // Periodic spikes every 50 samples from 100: the height is added at 100, 150, ..., and the
    // sample before each is spike-free (the loop's reaction decays between them but is not zero).
    const data::PlantSignals many = data::simulate_plant(c, 400, 5, {{FaultType::spike, 100, 0.3, 50}});
    for (int k : {100, 150, 200, 250, 300, 350})
        CHECK(many.measurement[k] - many.level[k] == doctest::Approx(0.3).epsilon(1e-4));
    for (int k : {99, 149, 201, 275, 399}) CHECK(std::fabs(many.measurement[k] - many.level[k]) < 1e-6);
}

TEST_CASE("sensor drift grows linearly from the onset") {
    const data::PlantConfig c = quiet_plant();
    const double rate = 0.002;  // m/s, dt = 0.1 s: 0.0002 m per sample
    const data::PlantSignals s = data::simulate_plant(c, 1200, 9, {{FaultType::drift, 300, rate}});
    // measurement - true level is the sensor error: 0 before, rate * (k - onset) * dt after.
    for (int k = 0; k < 300; ++k) REQUIRE(std::fabs(s.measurement[k] - s.level[k]) < 1e-6);
    for (int k : {300, 301, 500, 1000, 1199})
        CHECK(s.measurement[k] - s.level[k] == doctest::Approx(rate * (k - 300) * c.dt).epsilon(1e-3));
}

TEST_CASE("actuator faults: saturation caps the level, a lost gain asks for more valve, noise and sluggishness show") {
    const data::PlantConfig c = quiet_plant();
    const int onset = 100;
    const data::PlantSignals healthy = data::simulate_plant(c, 3000, 11);
    // The valve delivers at most 0.4: the level settles at no more than K * 0.4 + tracking error.
    const data::PlantSignals sat = data::simulate_plant(c, 3000, 11, {{FaultType::saturation, onset, 0.4}});
    float top = 0;
    for (int k = onset + 200; k < sat.size(); ++k) top = std::max(top, sat.level[k]);
    CHECK(top <= 0.4f * c.gain + 1e-4f);
    CHECK(*std::max_element(healthy.setpoint.begin(), healthy.setpoint.end()) > 0.45f);  // a setpoint it cannot reach
    // Half the gain: at steady state u = r / (K * 0.5), twice the healthy valve opening.
    const data::PlantSignals lost = data::simulate_plant(c, 3000, 11, {{FaultType::gain_loss, 0, 0.5}});
    int compared = 0;
    for (int k = 1; k < lost.size(); ++k)
        if (lost.setpoint[k] != lost.setpoint[k - 1] && lost.setpoint[k - 1] < 0.45f) {  // settled before a step, unsaturated
            CHECK(lost.control[k - 1] == doctest::Approx(2 * healthy.control[k - 1]).epsilon(1e-2));
            ++compared;
        }
    CHECK(compared > 0);
    // Four times the noise: the measurement's error around the true level has 4x the spread.
    data::PlantConfig noisy = c;
    noisy.noise = 0.01;
    auto spread = [](const data::PlantSignals& s, int from) {
        double sum2 = 0;
        for (int k = from; k < s.size(); ++k) sum2 += (s.measurement[k] - s.level[k]) * (s.measurement[k] - s.level[k]);
        return std::sqrt(sum2 / (s.size() - from));
    };
    const double before = spread(data::simulate_plant(noisy, 3000, 11), 0);
    const double after = spread(data::simulate_plant(noisy, 3000, 11, {{FaultType::noise, 0, 4.0}}), 0);
    CHECK(after / before == doctest::Approx(4.0).epsilon(1e-3));  // the same draws, scaled by 4
    // A 3x slower plant: the closed loop needs longer to get 63% of the way after the first setpoint step.
    auto rise_samples = [&](const data::PlantSignals& s) {
        for (int k = 1; k < s.size(); ++k)
            if (s.setpoint[k] != s.setpoint[k - 1]) {
                const float from = s.level[k], to = s.setpoint[k];
                for (int j = k; j < s.size(); ++j)
                    if (std::fabs(s.level[j] - from) >= 0.63f * std::fabs(to - from)) return j - k;
            }
        return -1;
    };
    const int fast = rise_samples(healthy);
    const int slow = rise_samples(data::simulate_plant(c, 3000, 11, {{FaultType::sluggish, 0, 3.0}}));
    CHECK(fast > 0);
    CHECK(slow > fast);
}

TEST_CASE("windows: where they start, their values, their labels") {
    data::PlantSignals s;
    s.dt = 0.1;
    for (int k = 0; k < 20; ++k) s.setpoint.push_back(k), s.measurement.push_back(2 * k), s.control.push_back(-k), s.level.push_back(0);
    data::ChannelScaler scale;
    for (int c = 0; c < 3; ++c) scale.lo[c] = -0.9f, scale.hi[c] = 0.9f;  // scaled = v: -0.9 + 1.8 (v + 0.9) / 1.8
    // 20 samples, windows of 8 every 4: starts 0, 4, 8, 12 (16 would need samples to 23).
    const data::Fault fault{FaultType::stuck, 11};
    const data::Windows w = data::make_windows(s, scale, 8, 4, {fault});
    REQUIRE(w.size() == 4);
    CHECK(w.start == std::vector<int>{0, 4, 8, 12});
    CHECK(w.x.shape == Shape{4, 1, 3, 8});
    // Window 2 (samples 8..15): channel 1 at t = 3 is sample 11's measurement, 22.
    CHECK(w.x.data[(2 * 3 + 1) * 8 + 3] == doctest::Approx(22.0f));
    CHECK(w.x.data[(2 * 3 + 2) * 8 + 0] == doctest::Approx(-8.0f));
    // The fault from sample 11: windows 0..7 and 4..11 end before it... 4..11 holds sample 11.
    CHECK(w.faulty == std::vector<int>{0, 1, 1, 1});
    CHECK(w.end(0) == 8);
    // A fault over samples 5..6 only (end 7): windows 0..7 and 4..11 overlap it.
    const data::Windows brief = data::make_windows(s, scale, 8, 4, {{FaultType::spike, 5, 1.0, 0, 7}});
    CHECK(brief.faulty == std::vector<int>{1, 1, 0, 0});
    CHECK_THROWS_AS(data::make_windows(s, scale, 21, 4), std::invalid_argument);
    // The scaler maps the healthy range of each channel to [-0.9, 0.9].
    const data::ChannelScaler fitted = data::ChannelScaler::fit(s);
    CHECK(fitted(1, 0.0f) == doctest::Approx(-0.9f));
    CHECK(fitted(1, 38.0f) == doctest::Approx(0.9f));
    CHECK(fitted.inverse(2, fitted(2, -7.0f)) == doctest::Approx(-7.0f));
}

TEST_CASE("alarm threshold: at most the asked share of healthy scores above it") {
    std::vector<float> healthy;
    for (int i = 1; i <= 200; ++i) healthy.push_back(static_cast<float>(i));  // 1..200, given in reverse: order does not matter
    std::reverse(healthy.begin(), healthy.end());
    // rate 0.01 of 200 = 2 scores may lie above: t = the 198th smallest = 198 (199 and 200 above).
    CHECK(gan::alarm_threshold(healthy, 0.01) == 198.0f);
    CHECK(gan::alarm_rate(healthy, 198.0f) == doctest::Approx(0.01));
    CHECK(gan::alarm_threshold(healthy, 0.0) == 200.0f);  // no false alarm at all: the largest
    CHECK(gan::alarm_threshold(healthy, 0.1) == 180.0f);
    CHECK_THROWS_AS(gan::alarm_threshold({}, 0.01), std::invalid_argument);
    CHECK_THROWS_AS(gan::alarm_threshold(healthy, 1.0), std::invalid_argument);
}

TEST_CASE("detection delay on a hand-made score sequence") {
    data::Windows w;
    w.length = 10, w.stride = 5;
    w.start = {0, 5, 10, 15, 20, 25, 30};  // ends 10, 15, ..., 40
    const int onset = 17;                  // windows ending at 10 and 15 are healthy (end <= onset)
    //                        ends:  10    15    20    25    30    35    40
    const std::vector<float> scores{0.1f, 0.9f, 0.2f, 0.3f, 0.8f, 0.9f, 0.1f};
    const gan::Detection d = gan::detect(w, scores, 0.5f, onset);
    CHECK(d.detected);
    CHECK(d.first_window == 4);      // end 30: the first flagged window after the onset
    CHECK(d.delay_samples == 13);    // 30 - 17
    CHECK(d.false_alarm_rate == doctest::Approx(0.5));  // the window ending at 15 rang: 1 of 2 healthy
    // A window ending one sample after the onset already counts: delay 1.
    const gan::Detection quick = gan::detect(w, {0, 0, 0.7f, 0, 0, 0, 0}, 0.5f, 19);
    CHECK(quick.delay_samples == 1);
    // Never above the threshold: missed.
    const gan::Detection missed = gan::detect(w, std::vector<float>(7, 0.4f), 0.5f, onset);
    CHECK_FALSE(missed.detected);
    CHECK(missed.delay_samples == -1);
    CHECK_THROWS_AS(gan::detect(w, {1, 2}, 0.5f, onset), std::invalid_argument);
}

TEST_CASE("PCA: the directions of a line and a plane, and the SPE of points off them") {
    // Points on the line t * (3, 4) / 5 in 2D (plus the mean (1, 1)): one component explains all.
    Tensor x({5, 2});
    for (int i = 0; i < 5; ++i) x.data[2 * i] = 1 + 0.6f * (i - 2), x.data[2 * i + 1] = 1 + 0.8f * (i - 2);
    const eval::Pca line = eval::Pca::fit(x, 1);
    CHECK(std::fabs(line.components[0][0]) == doctest::Approx(0.6).epsilon(1e-6));
    CHECK(std::fabs(line.components[0][1]) == doctest::Approx(0.8).epsilon(1e-6));
    CHECK(line.explained() == doctest::Approx(1.0));
    // var of t = -2..2 (unbiased): 10 / 4 = 2.5.
    CHECK(line.variances[0] == doctest::Approx(2.5).epsilon(1e-6));
    // A query off the line by 1 along the normal (0.8, -0.6): SPE = 1; one on it: 0.
    Tensor q({2, 2});
    q.data = {1 + 0.8f, 1 - 0.6f, 1 + 0.6f * 5, 1 + 0.8f * 5};
    const std::vector<float> spe = line.spe(q);
    CHECK(spe[0] == doctest::Approx(1.0).epsilon(1e-5));
    CHECK(spe[1] == doctest::Approx(0.0).epsilon(1e-5));
    // 3D: (+-3, 0, 0) and +-(0, 2, 1): covariance diag(6, 8/3, 2/3) with 4/3 between y and z, whose
    // eigenvalues are 6 along x and 10/3 along (0, 2, 1)/sqrt(5) (0 along (0, 1, -2)/sqrt(5)).
    Tensor y({4, 3});
    y.data = {3, 0, 0, -3, 0, 0, 0, 2, 1, 0, -2, -1};
    const eval::Pca axes = eval::Pca::fit(y, 2);
    CHECK(std::fabs(axes.components[0][0]) == doctest::Approx(1.0).epsilon(1e-6));
    CHECK(axes.variances[0] == doctest::Approx(6.0).epsilon(1e-6));
    CHECK(axes.variances[1] == doctest::Approx(10.0 / 3).epsilon(1e-6));
    CHECK(std::fabs(axes.components[1][1]) == doctest::Approx(2 / std::sqrt(5.0)).epsilon(1e-6));
    CHECK(std::fabs(axes.components[1][2]) == doctest::Approx(1 / std::sqrt(5.0)).epsilon(1e-6));
    CHECK(axes.explained() == doctest::Approx(1.0));
    const eval::Pca first = eval::Pca::fit(y, 1);
    CHECK(first.explained() == doctest::Approx(6.0 / (6.0 + 10.0 / 3)));
    CHECK_THROWS_AS(eval::Pca::fit(y, 4), std::invalid_argument);
}

TEST_CASE("io::PlotOptions::bands shade an x range behind the curves, and only that range") {
    const io::Series line{"y", {0, 10}, {0, 1}, {0, 0, 0}};
    io::PlotOptions opt;
    opt.legend = false;
    auto band_pixels = [&](const io::Image& image, int& left, int& right) {
        long count = 0;
        left = image.width, right = -1;
        for (int y = 0; y < image.height; ++y)
            for (int x = 0; x < image.width; ++x) {
                const uint8_t* p = image.at(x, y);
                if (p[0] == opt.band_colour.r && p[1] == opt.band_colour.g && p[2] == opt.band_colour.b)
                    ++count, left = std::min(left, x), right = std::max(right, x);
            }
        return count;
    };
    int left, right;
    CHECK(band_pixels(io::draw_plot({line}, opt), left, right) == 0);
    opt.bands = {{2.0f, 4.0f}};
    const long shaded = band_pixels(io::draw_plot({line}, opt), left, right);
    CHECK(shaded > 1000);
    // x from 0 to 10 spans the plot area; the band covers a fifth of it, starting a fifth in.
    int l2, r2;
    opt.bands = {{0.0f, 10.0f}};
    band_pixels(io::draw_plot({line}, opt), l2, r2);
    const double width = r2 - l2;
    CHECK((left - l2) / width == doctest::Approx(0.2).epsilon(0.02));
    CHECK((right - left) / width == doctest::Approx(0.2).epsilon(0.02));
}
