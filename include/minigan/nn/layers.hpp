// nn/layers.hpp - the small modules: activations, Dropout, Flatten, Reshape.
//
// Read activations.hpp first; these wrap its functions as Modules so they can sit in a
// Sequential. Dropout's math is here: in training, each value is zeroed with probability p and
// the survivors are scaled by 1/(1-p) ("inverted dropout"), so evaluation needs no rescaling.
#pragma once

#include "../activations.hpp"
#include "../dispatch.hpp"
#include "module.hpp"

#ifndef MINIGAN_REFERENCE
#include "../fast/dropout.hpp"  // fast::dropout: the same mask, one vectorised piece per thread
#endif

namespace minigan {

// y = x * mask / (1 - p), mask[i] ~ Bernoulli(1 - p). dy/dx = mask / (1 - p), the same mask.
// The mask is never stored: mask[i] = (bits(i) >= p * 2^32) for the counter-based bits of
// tensor.hpp, whose two keys are drawn from rng. Backward recomputes the same bits from the
// keys, so a dropout layer keeps no mask in memory and a run stays reproducible from its seed.
inline Var dropout(const Var& x, float p, bool training, Rng& rng = global_rng()) {
    if (!(p >= 0.0f && p < 1.0f)) throw std::invalid_argument("dropout: p must be in [0, 1), got " + std::to_string(p));
    if (!training || p == 0.0f) return x;
    const CounterBits bits(rng);
    const uint32_t threshold = static_cast<uint32_t>(std::llround(static_cast<double>(p) * 4294967296.0));
    const float keep_scale = 1.0f / (1.0f - p);
#ifndef MINIGAN_REFERENCE
    if (fast_path()) return fast::dropout(x, bits, threshold, keep_scale);
#endif
    // mask(i) / (1 - p): keep_scale for a kept value, 0 for a dropped one
    auto scale = [bits, threshold, keep_scale](size_t i) {
        return bits.bits(static_cast<uint32_t>(i)) >= threshold ? keep_scale : 0.0f;
    };
    Tensor y = x.value();
    for (size_t i = 0; i < y.numel(); ++i) y[i] *= scale(i);
    return make_result(std::move(y), {x}, [scale](Node& out) {
        if (Tensor* dx = parent_grad(out, 0))
            for (size_t i = 0; i < dx->numel(); ++i) (*dx)[i] += out.grad[i] * scale(i);
    });
}

namespace nn {

struct LeakyReLU : Module {
    explicit LeakyReLU(float negative_slope = 0.01f) : negative_slope(negative_slope) {}
    Var forward(const Var& x) override { return leaky_relu(x, negative_slope); }
    std::string name() const override { return "LeakyReLU(" + std::to_string(negative_slope).substr(0, 4) + ")"; }
    float negative_slope;
};
struct ReLU : Module {
    Var forward(const Var& x) override { return relu(x); }
    std::string name() const override { return "ReLU"; }
};
struct Tanh : Module {
    Var forward(const Var& x) override { return minigan::tanh(x); }
    std::string name() const override { return "Tanh"; }
};
struct Sigmoid : Module {
    Var forward(const Var& x) override { return sigmoid(x); }
    std::string name() const override { return "Sigmoid"; }
};
struct Dropout : Module {
    explicit Dropout(float p = 0.5f) : p(p) {
        if (!(p >= 0.0f && p < 1.0f)) throw std::invalid_argument("Dropout: p must be in [0, 1), got " + std::to_string(p));
    }
    Var forward(const Var& x) override { return dropout(x, p, is_training()); }
    std::string name() const override { return "Dropout(" + std::to_string(p).substr(0, 4) + ")"; }
    float p;
};
// (N, C, H, W) -> (N, C*H*W)
struct Flatten : Module {
    Var forward(const Var& x) override { return flatten(x, 1, -1); }
    std::string name() const override { return "Flatten"; }
};
// (N, ...) -> (N, shape...): the batch dimension is kept, e.g. Reshape({256, 7, 7}).
struct Reshape : Module {
    explicit Reshape(Shape shape) : shape(std::move(shape)) {}
    Var forward(const Var& x) override {
        Shape s{x.shape().at(0)};
        s.insert(s.end(), shape.begin(), shape.end());
        return reshape(x, s);
    }
    std::string name() const override { return "Reshape" + shape_str(shape); }
    Shape shape;
};

}  // namespace nn
}  // namespace minigan
