// tensor.hpp - the Tensor: a contiguous, row-major block of float32 numbers with a shape.
//
// Read this first. Images are stored NCHW (batch, channels, height, width), so element
// (n, c, h, w) lives at data[((n*C + c)*H + h)*W + w]. A Tensor owns its numbers (value
// semantics: copying a Tensor copies the data). The seeded random generator used for
// initialisation, latent vectors and dropout lives here too, so a run is reproducible.
#pragma once

#include "version.hpp"  // MINIGAN_VERSION_*; stops a program that mixes two minigan copies

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <algorithm>
#include <vector>

#ifndef MINIGAN_REFERENCE
#include "fast/malloc_tuning.hpp"  // fast path: freed big blocks stay in the heap for the next step
#endif

namespace minigan {

using Shape = std::vector<int>;

// "(2, 3, 4)": used in every error message that talks about shapes.
inline std::string shape_str(const Shape& shape) {
    std::ostringstream s;
    s << "(";
    for (size_t i = 0; i < shape.size(); ++i) s << (i ? ", " : "") << shape[i];
    if (shape.size() == 1) s << ",";
    s << ")";
    return s.str();
}

// Number of elements of a shape; the empty shape () is a scalar with one element.
inline size_t shape_numel(const Shape& shape) {
    size_t n = 1;
    for (int d : shape) {
        if (d < 0) throw std::invalid_argument("negative dimension in shape " + shape_str(shape));
        n *= static_cast<size_t>(d);
    }
    return n;
}

struct Tensor {
    Shape shape;
    std::vector<float> data;

    Tensor() = default;  // an empty tensor: shape (0,) in spirit, numel() == 0
    // Every element `fill`. The zeros come from value-initialising the vector (one memset, the
    // common case: outputs and gradients start at zero); any other value is written after.
    explicit Tensor(Shape s, float fill = 0.0f) : shape(std::move(s)), data(shape_numel(shape)) {
        if (fill != 0.0f) std::fill(data.begin(), data.end(), fill);
    }
    Tensor(Shape s, std::vector<float> values) : shape(std::move(s)), data(std::move(values)) {
        if (data.size() != shape_numel(shape))
            throw std::invalid_argument("Tensor: " + std::to_string(data.size()) +
                                        " values do not fill shape " + shape_str(shape));
    }
    // Tensor({3}, {2.0f}) is the list of values {2.0f} (and so an error: one value for three
    // elements), not a fill: without this constructor C++ would pick Tensor(Shape, float fill).
    Tensor(Shape s, std::initializer_list<float> values) : Tensor(std::move(s), std::vector<float>(values)) {}

    size_t numel() const { return data.size(); }
    int dim() const { return static_cast<int>(shape.size()); }
    // size(-1) is the last dimension, as in PyTorch.
    int size(int d) const {
        int nd = dim();
        if (d < 0) d += nd;
        if (d < 0 || d >= nd)
            throw std::out_of_range("size(" + std::to_string(d) + ") of a tensor of shape " + shape_str(shape));
        return shape[d];
    }
    float* ptr() { return data.data(); }
    const float* ptr() const { return data.data(); }
    float& operator[](size_t i) { return data[i]; }
    float operator[](size_t i) const { return data[i]; }
    float item() const {
        if (numel() != 1) throw std::invalid_argument("item() on a tensor of shape " + shape_str(shape));
        return data[0];
    }
    void fill(float v) { std::fill(data.begin(), data.end(), v); }
    // Same numbers, new shape (row-major order is unchanged).
    Tensor reshaped(Shape s) const {
        if (shape_numel(s) != numel())
            throw std::invalid_argument("cannot reshape " + shape_str(shape) + " to " + shape_str(s));
        return Tensor(std::move(s), data);
    }
};

// A named list of tensors in a fixed order: a module's parameters and buffers under their
// PyTorch state_dict names ("0.weight", "1.running_mean"), or an optimizer's state.
using StateDict = std::vector<std::pair<std::string, Tensor>>;

inline Tensor zeros(Shape s) { return Tensor(std::move(s), 0.0f); }
inline Tensor ones(Shape s) { return Tensor(std::move(s), 1.0f); }
inline Tensor full(Shape s, float v) { return Tensor(std::move(s), v); }

// ---------------------------------------------------------------------------------------
// Random numbers. One generator, seeded once: manual_seed(42) makes a whole run repeatable
// (on one thread; see docs on OpenMP). mt19937 gives the same stream on every platform;
// the normal and uniform transforms below are our own, so they do too.
struct Rng {
    std::mt19937 engine;
    explicit Rng(uint32_t seed = 0) : engine(seed) {}
    // uniform in [0, 1): 24 random bits, exactly representable in float32.
    float uniform() { return static_cast<float>(engine() >> 8) * (1.0f / 16777216.0f); }
    float uniform(float lo, float hi) { return lo + (hi - lo) * uniform(); }
    // Box-Muller: two uniforms u1, u2 -> sqrt(-2 ln u1) * cos(2 pi u2) is N(0, 1).
    float normal(float mean = 0.0f, float stddev = 1.0f) {
        double u1 = (static_cast<double>(engine()) + 1.0) / 4294967297.0;  // in (0, 1]
        double u2 = static_cast<double>(engine()) / 4294967296.0;
        double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
        return mean + stddev * static_cast<float>(z);
    }
};

// Counter-based random bits for bulk use (dropout masks): bits(i) is a keyed hash of the index
// i, so a whole mask costs two draws from an Rng (the keys), can be filled by any number of
// threads in any order with the same result, and can be recomputed in backward instead of
// stored. The hash is "lowbias32" (C. Wellons), a bijection of 32-bit words with good
// avalanche, applied twice with the two keys; it vectorises (no tables, no state).
struct CounterBits {
    uint32_t key1, key2;
    explicit CounterBits(Rng& rng) : key1(static_cast<uint32_t>(rng.engine())), key2(static_cast<uint32_t>(rng.engine())) {}
    static uint32_t mix(uint32_t x) {
        x ^= x >> 16;
        x *= 0x7feb352dU;
        x ^= x >> 15;
        x *= 0x846ca68bU;
        x ^= x >> 16;
        return x;
    }
    uint32_t bits(uint32_t i) const { return mix(mix(i ^ key1) + key2); }
};

// The global generator used by layers (init, dropout) unless you pass your own.
inline Rng& global_rng() {
    static Rng rng(0);
    return rng;
}
inline void manual_seed(uint32_t seed) { global_rng() = Rng(seed); }

inline Tensor randn(Shape s, Rng& rng = global_rng(), float mean = 0.0f, float stddev = 1.0f) {
    Tensor t(std::move(s));
    for (float& v : t.data) v = rng.normal(mean, stddev);
    return t;
}
inline Tensor rand_uniform(Shape s, float lo, float hi, Rng& rng = global_rng()) {
    Tensor t(std::move(s));
    for (float& v : t.data) v = rng.uniform(lo, hi);
    return t;
}

}  // namespace minigan
