// activations.hpp - elementwise nonlinearities: relu, leaky_relu, tanh, sigmoid.
//
// Read ops.hpp first (same pattern: value, then backward right below). Each backward uses the
// derivative written in terms of what the forward already computed: tanh' = 1 - y^2 and
// sigmoid' = y (1 - y) reuse the output y, so nothing is recomputed.
#pragma once

#include <cmath>

#include "dispatch.hpp"
#include "ops.hpp"

#ifndef MINIGAN_REFERENCE
#include "fast/activations.hpp"  // fast::leaky_relu, fast::tanh: vectorised, one piece per thread
#endif

namespace minigan {

// Numerically stable logistic function: for x >= 0, 1 / (1 + e^-x); for x < 0, e^x / (1 + e^x).
// Either way exp() only sees -|x| <= 0 and cannot overflow (e^x / (1 + e^x) alone is inf/inf = NaN at x = 100).
inline float stable_sigmoid(float x) {
    float e = std::exp(-std::fabs(x));
    return x >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
}

// leaky_relu(x) = x if x > 0 else slope * x.  Derivative: 1 or slope.  relu = slope 0.
inline Var leaky_relu(const Var& x, float negative_slope = 0.01f) {
#ifndef MINIGAN_REFERENCE
    if (fast_path()) return fast::leaky_relu(x, negative_slope);
#endif
    Tensor y = x.value();
    for (float& v : y.data) v = v > 0.0f ? v : negative_slope * v;
    return make_result(std::move(y), {x}, [negative_slope](Node& out) {
        // EXERCISE E01 begin
        const Tensor& x = out.parents[0]->value;
        if (Tensor* dx = parent_grad(out, 0))
            for (size_t i = 0; i < dx->numel(); ++i) (*dx)[i] += out.grad[i] * (x[i] > 0.0f ? 1.0f : negative_slope);
        // EXERCISE E01 end
    });
}

inline Var relu(const Var& x) { return leaky_relu(x, 0.0f); }

// tanh(x) = (e^x - e^-x) / (e^x + e^-x);  d tanh/dx = 1 - tanh(x)^2 = 1 - y^2.
inline Var tanh(const Var& x) {
#ifndef MINIGAN_REFERENCE
    if (fast_path()) return fast::tanh(x);
#endif
    Tensor y = x.value();
    for (float& v : y.data) v = std::tanh(v);
    return make_result(std::move(y), {x}, [](Node& out) {
        // EXERCISE E01 begin
        const Tensor& y = out.value;
        if (Tensor* dx = parent_grad(out, 0))
            for (size_t i = 0; i < dx->numel(); ++i) (*dx)[i] += out.grad[i] * (1.0f - y[i] * y[i]);
        // EXERCISE E01 end
    });
}

// sigmoid(x) = 1 / (1 + e^-x); d sigmoid/dx = y (1 - y).
inline Var sigmoid(const Var& x) {
    Tensor y = x.value();
    for (float& v : y.data) v = stable_sigmoid(v);
    return make_result(std::move(y), {x}, [](Node& out) {
        // EXERCISE E01 begin
        const Tensor& y = out.value;
        if (Tensor* dx = parent_grad(out, 0))
            for (size_t i = 0; i < dx->numel(); ++i) (*dx)[i] += out.grad[i] * y[i] * (1.0f - y[i]);
        // EXERCISE E01 end
    });
}

}  // namespace minigan
