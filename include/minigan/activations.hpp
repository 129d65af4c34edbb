// activations.hpp - elementwise nonlinearities: relu, leaky_relu, tanh, sigmoid.
//
// Read ops.hpp first (same pattern: value, then backward right below). Each backward uses the
// derivative written in terms of what the forward already computed: tanh' = 1 - y^2 and
// sigmoid' = y (1 - y) reuse the output y, so nothing is recomputed.
#pragma once

#include "ops.hpp"

namespace minigan {

// Numerically stable logistic function: for x >= 0, 1 / (1 + e^-x); for x < 0, e^x / (1 + e^x).
// Either way exp() only sees -|x| <= 0 and cannot overflow (sigmoid(-100) is 3.7e-44, not NaN).
inline float stable_sigmoid(float x) {
    float e = std::exp(-std::fabs(x));
    return x >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
}

// leaky_relu(x) = x if x > 0 else slope * x.  Derivative: 1 or slope.  relu = slope 0.
// The loops are kernels on raw pointers (MINIGAN_SIMD and MINIGAN_VECTORIZABLE let -O2 vectorise
// them, parallel.hpp), run over big tensors in one piece per thread.
MINIGAN_VECTORIZABLE inline void leaky_relu_forward(float* y, size_t begin, size_t end, float negative_slope) {
    MINIGAN_SIMD
    for (size_t i = begin; i < end; ++i) y[i] = y[i] * (y[i] > 0.0f ? 1.0f : negative_slope);
}
MINIGAN_VECTORIZABLE inline void leaky_relu_backward(float* dx, const float* dy, const float* px, size_t begin, size_t end,
                                                     float negative_slope) {
    MINIGAN_SIMD
    for (size_t i = begin; i < end; ++i) dx[i] += dy[i] * (px[i] > 0.0f ? 1.0f : negative_slope);
}

inline Var leaky_relu(const Var& x, float negative_slope = 0.01f) {
    Tensor y = x.value();  // a copy, transformed in place
    float* py = y.ptr();
    parallel_chunks(y.numel(), [=](size_t begin, size_t end) { leaky_relu_forward(py, begin, end, negative_slope); });
    return make_result(std::move(y), {x}, [negative_slope](Node& out) {
        if (Tensor* dx = parent_grad(out, 0)) {
            const float* px = out.parents[0]->value.ptr();
            const float* dy = out.grad.ptr();
            float* pdx = dx->ptr();
            parallel_chunks(dx->numel(), [=](size_t begin, size_t end) {
                leaky_relu_backward(pdx, dy, px, begin, end, negative_slope);
            });
        }
    });
}

inline Var relu(const Var& x) { return leaky_relu(x, 0.0f); }

// tanh(x); d tanh/dx = 1 - tanh(x)^2 = 1 - y^2.
inline Var tanh(const Var& x) {
    Tensor y = x.value();
    for (float& v : y.data) v = std::tanh(v);
    return make_result(std::move(y), {x}, [](Node& out) {
        const Tensor& y = out.value;
        if (Tensor* dx = parent_grad(out, 0))
            for (size_t i = 0; i < dx->numel(); ++i) (*dx)[i] += out.grad[i] * (1.0f - y[i] * y[i]);
    });
}

// sigmoid(x) = 1 / (1 + e^-x); d sigmoid/dx = y (1 - y).
inline Var sigmoid(const Var& x) {
    Tensor y = x.value();
    for (float& v : y.data) v = stable_sigmoid(v);
    return make_result(std::move(y), {x}, [](Node& out) {
        const Tensor& y = out.value;
        if (Tensor* dx = parent_grad(out, 0))
            for (size_t i = 0; i < dx->numel(); ++i) (*dx)[i] += out.grad[i] * y[i] * (1.0f - y[i]);
    });
}

}  // namespace minigan
