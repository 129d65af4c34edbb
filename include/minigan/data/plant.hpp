// data/plant.hpp - a simulated control loop to learn fault detection on: a tank level under a
// discrete PI controller, with sensor and actuator faults injected, cut into windows.
//
// Read tensor.hpp (Rng, Tensor) first. simulate_plant() runs the loop and records three
// channels per sample: the setpoint r, the measured level m and the control signal u; a list of
// Fault (each with its onset) changes the loop from that sample on. make_windows() cuts the
// channels into fixed windows (N, 1, channels, length), scaled by a ChannelScaler fitted on
// healthy data, with a label per window: 1 if it overlaps a fault. examples/06_sensor_anogan.cpp
// and docs/sensor-anomaly.md use it.
#pragma once

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "../tensor.hpp"

namespace minigan::data {

// The plant: a tank whose level y (in m) follows its inflow valve u (0 = shut, 1 = open) with a
// first-order lag, sampled every dt seconds (zero-order hold on u, so the step is exact):
//   tau dy/dt = -y + K u_a           ->   y[k+1] = a y[k] + (1 - a) K u_a[k] + w[k],  a = exp(-dt / tau)
// u_a is what the actuator delivers (u itself when healthy), w ~ N(0, process_noise^2) a small
// disturbance. The sensor reads m[k] = y[k] + v[k], v ~ N(0, noise^2).
// The controller: a discrete PI on the error e = r - m, its output clamped to the valve's range,
//   I[k+1] = I[k] + e[k] dt          (not while u is clamped and e pushes further: anti-windup)
//   u[k]   = clamp(Kp e[k] + Ki I[k], u_min, u_max)
// With Ki / Kp = 1 / tau the PI zero cancels the plant pole, and the closed loop is first order
// with time constant tau / (K Kp): 1 s for the defaults.
struct PlantConfig {
    double dt = 0.1;                 // sample time, s
    double tau = 2.0;                // plant time constant, s
    double gain = 1.0;               // K: steady-state level per unit of valve opening, m
    double kp = 2.0, ki = 1.0;       // PI gains (Kp, Ki in 1/s)
    double u_min = 0.0, u_max = 1.0; // the valve's range
    double noise = 0.01;             // measurement noise (standard deviation, m)
    double process_noise = 0.002;    // disturbance on the level per sample (standard deviation, m)
    double setpoint_lo = 0.2, setpoint_hi = 0.8;  // setpoints are drawn uniformly in this range, m
    int hold_min = 100, hold_max = 300;           // samples between setpoint steps (drawn uniformly)
};

enum class FaultType {
    drift,       // sensor: m += rate * (t - onset); size = rate in m/s
    stuck,       // sensor: m holds the value it read at onset
    spike,       // sensor: m += size at onset and every `period` samples after (0: one spike)
    saturation,  // actuator: delivers at most `size` (a valve that no longer opens fully)
    gain_loss,   // actuator: delivers size * u (size = the gain left, e.g. 0.5)
    noise,       // sensor: measurement noise times `size`
    sluggish,    // plant: time constant times `size` (a clogged outlet, a heavier motor)
};

inline const char* fault_name(FaultType type) {
    static const char* names[] = {"drift", "stuck", "spike", "saturation", "gain_loss", "noise", "sluggish"};
    return names[static_cast<int>(type)];
}
inline std::vector<FaultType> all_fault_types() {
    return {FaultType::drift, FaultType::stuck, FaultType::spike, FaultType::saturation,
            FaultType::gain_loss, FaultType::noise, FaultType::sluggish};
}

// One fault: active for samples onset <= k < end (end <= 0: to the end of the run). A single
// spike (period 0) is best given end = onset + 1: then only the windows holding it are faulty.
struct Fault {
    FaultType type;
    int onset = 0;
    double size = 0.0;  // what it means depends on the type (see FaultType)
    int period = 0;     // spike only: samples between spikes (0: a single spike)
    int end = 0;
    bool active(int k) const { return k >= onset && (end <= 0 || k < end); }
};

// A typical fault of each type, starting at `onset`: the sizes the example and the docs use.
inline Fault typical_fault(FaultType type, int onset) {
    switch (type) {
        case FaultType::drift: return {type, onset, 0.002};       // 2 mm/s: 0.2 m after 100 s
        case FaultType::stuck: return {type, onset, 0.0};
        case FaultType::spike: return {type, onset, 0.15, 50};    // 0.15 m every 5 s
        case FaultType::saturation: return {type, onset, 0.5};    // the valve opens at most half
        case FaultType::gain_loss: return {type, onset, 0.6};     // 60% of the flow gets through
        case FaultType::noise: return {type, onset, 4.0};         // 4x the sensor noise
        case FaultType::sluggish: return {type, onset, 3.0};      // 3x the time constant
    }
    throw std::invalid_argument("typical_fault: unknown fault type");
}

constexpr int kPlantChannels = 3;  // setpoint, measurement, control
inline const char* channel_name(int c) {
    static const char* names[] = {"setpoint r", "measurement m", "control u"};
    return names[c];
}

// What the loop recorded, one value per sample and channel (level: the true level y, which no
// detector sees; kept for plots and tests).
struct PlantSignals {
    double dt = 0.1;
    std::vector<float> setpoint, measurement, control, level;
    int size() const { return static_cast<int>(setpoint.size()); }
    const std::vector<float>& channel(int c) const {
        if (c == 0) return setpoint;
        if (c == 1) return measurement;
        if (c == 2) return control;
        throw std::invalid_argument("PlantSignals::channel: channel " + std::to_string(c) + " is not 0, 1 or 2");
    }
};

// Run the loop for `samples` samples with `seed` (the setpoint steps and both noises), the
// faults applied where active. The loop starts at rest on its first setpoint. Same config,
// samples, seed and faults: the same signals, bit for bit.
inline PlantSignals simulate_plant(const PlantConfig& c, int samples, uint32_t seed, const std::vector<Fault>& faults = {}) {
    if (samples < 1 || !(c.dt > 0) || !(c.tau > 0) || !(c.u_max > c.u_min) || c.hold_min < 1 || c.hold_max < c.hold_min)
        throw std::invalid_argument("simulate_plant: need samples >= 1, dt > 0, tau > 0, u_max > u_min, 1 <= hold_min <= hold_max");
    for (const Fault& f : faults)
        if (f.onset < 0 || (f.type == FaultType::spike && f.period < 0))
            throw std::invalid_argument(std::string("simulate_plant: fault ") + fault_name(f.type) + " has a negative onset or period");
    Rng rng(seed);
    PlantSignals s;
    s.dt = c.dt;
    double r = rng.uniform(static_cast<float>(c.setpoint_lo), static_cast<float>(c.setpoint_hi));
    int next_step = c.hold_min + static_cast<int>(rng.uniform() * (c.hold_max - c.hold_min + 1));
    double y = r;                            // at rest on the setpoint ...
    double integral = r / (c.gain * c.ki);   // ... with the integrator holding u = r / K
    double stuck_value = 0.0;
    for (int k = 0; k < samples; ++k) {
        if (k == next_step) {  // a new setpoint
            r = rng.uniform(static_cast<float>(c.setpoint_lo), static_cast<float>(c.setpoint_hi));
            next_step += c.hold_min + static_cast<int>(rng.uniform() * (c.hold_max - c.hold_min + 1));
        }
        // The faults in force at sample k.
        double noise = c.noise, tau = c.tau, actuator_gain = 1.0, actuator_max = c.u_max, sensor_offset = 0.0;
        const Fault* stuck = nullptr;
        for (const Fault& f : faults) {
            if (!f.active(k)) continue;
            switch (f.type) {
                case FaultType::drift: sensor_offset += f.size * (k - f.onset) * c.dt; break;
                case FaultType::stuck: stuck = &f; break;
                case FaultType::spike:
                    if (k == f.onset || (f.period > 0 && (k - f.onset) % f.period == 0)) sensor_offset += f.size;
                    break;
                case FaultType::saturation: actuator_max = std::min(actuator_max, f.size); break;
                case FaultType::gain_loss: actuator_gain *= f.size; break;
                case FaultType::noise: noise *= f.size; break;
                case FaultType::sluggish: tau *= f.size; break;
            }
        }
        // The sensor.
        double m = y + noise * rng.normal() + sensor_offset;
        if (stuck) {
            if (k == stuck->onset) stuck_value = m;
            m = stuck_value;
        }
        // The PI controller, with conditional integration (anti-windup).
        const double e = r - m;
        const double unclamped = c.kp * e + c.ki * integral;
        const double u = std::clamp(unclamped, c.u_min, c.u_max);
        const bool pushing_further = (unclamped > c.u_max && e > 0) || (unclamped < c.u_min && e < 0);
        if (!pushing_further) integral += e * c.dt;
        // The actuator and the plant.
        const double delivered = std::clamp(actuator_gain * u, c.u_min, actuator_max);
        s.setpoint.push_back(static_cast<float>(r));
        s.measurement.push_back(static_cast<float>(m));
        s.control.push_back(static_cast<float>(u));
        s.level.push_back(static_cast<float>(y));
        const double a = std::exp(-c.dt / tau);
        y = a * y + (1.0 - a) * c.gain * delivered + c.process_noise * rng.normal();
    }
    return s;
}

// Each channel scaled to [-0.9, 0.9] over its range in healthy data: the generator's tanh then
// never needs its saturated ends for normal values. Faulty values can fall outside.
//   scaled = -0.9 + 1.8 (v - lo_c) / (hi_c - lo_c)
struct ChannelScaler {
    float lo[kPlantChannels], hi[kPlantChannels];
    static ChannelScaler fit(const PlantSignals& healthy) {
        if (healthy.size() < 2) throw std::invalid_argument("ChannelScaler::fit: need at least 2 samples");
        ChannelScaler s;
        for (int c = 0; c < kPlantChannels; ++c) {
            const auto [lo, hi] = std::minmax_element(healthy.channel(c).begin(), healthy.channel(c).end());
            s.lo[c] = *lo, s.hi[c] = std::max(*hi, *lo + 1e-6f);
        }
        return s;
    }
    float operator()(int c, float v) const { return -0.9f + 1.8f * (v - lo[c]) / (hi[c] - lo[c]); }
    float inverse(int c, float scaled) const { return lo[c] + (scaled + 0.9f) / 1.8f * (hi[c] - lo[c]); }
};

// Windows of `length` samples every `stride` samples: x (N, 1, channels, length), window i
// covering samples start[i] .. start[i] + length - 1; faulty[i] = 1 if one of those samples is
// inside an active fault interval. A window is judged when its last sample arrives, so its
// time is end(i) = start[i] + length (the detection delay counts from there).
struct Windows {
    Tensor x;
    std::vector<int> start, faulty;
    int length = 0, stride = 0;
    size_t size() const { return start.size(); }
    int end(size_t i) const { return start[i] + length; }
};

inline Windows make_windows(const PlantSignals& s, const ChannelScaler& scale, int length, int stride,
                            const std::vector<Fault>& faults = {}) {
    if (length < 1 || stride < 1) throw std::invalid_argument("make_windows: need length >= 1 and stride >= 1");
    if (s.size() < length)
        throw std::invalid_argument("make_windows: " + std::to_string(s.size()) + " samples are fewer than one window of " +
                                    std::to_string(length));
    Windows w;
    w.length = length, w.stride = stride;
    for (int first = 0; first + length <= s.size(); first += stride) w.start.push_back(first);
    const int n = static_cast<int>(w.start.size());
    w.x = Tensor({n, 1, kPlantChannels, length});
    for (int i = 0; i < n; ++i) {
        const int first = w.start[static_cast<size_t>(i)];
        for (int c = 0; c < kPlantChannels; ++c)
            for (int t = 0; t < length; ++t)
                w.x.data[(static_cast<size_t>(i) * kPlantChannels + c) * length + t] = scale(c, s.channel(c)[first + t]);
        // Overlap of [first, first + length) with a fault's [onset, end).
        int label = 0;
        for (const Fault& f : faults) {
            const int fault_end = f.end > 0 ? f.end : s.size();
            if (first < fault_end && first + length > f.onset) label = 1;
        }
        w.faulty.push_back(label);
    }
    return w;
}

}  // namespace minigan::data
