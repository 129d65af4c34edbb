// nn/init.hpp - weight initialisation: DCGAN's N(0, 0.02) recipe.
//
// Read the layer headers first. Layers start with PyTorch's defaults (uniform in
// +-1/sqrt(fan_in), set in their constructors). The DCGAN paper (Radford et al. 2016) instead
// draws every conv / linear weight from N(0, 0.02); PyTorch's DCGAN example adds BatchNorm's
// gamma from N(1, 0.02), with biases and beta at 0. dcgan_init(model) applies that to a network.
#pragma once

#include "batchnorm.hpp"
#include "conv_layers.hpp"
#include "linear.hpp"

namespace minigan::nn {

inline void normal_(Var& v, float mean, float stddev, Rng& rng) {
    for (float& x : v.value().data) x = rng.normal(mean, stddev);
}
inline void zero_(Var& v) {
    if (v.defined()) v.value().fill(0.0f);
}

inline void dcgan_init(Module& m, Rng& rng = global_rng()) {
    // EXERCISE E14 begin
    if (auto* l = dynamic_cast<Linear*>(&m)) { normal_(l->weight, 0.0f, 0.02f, rng); zero_(l->bias); }
    if (auto* c = dynamic_cast<Conv2d*>(&m)) { normal_(c->weight, 0.0f, 0.02f, rng); zero_(c->bias); }
    if (auto* c = dynamic_cast<ConvTranspose2d*>(&m)) { normal_(c->weight, 0.0f, 0.02f, rng); zero_(c->bias); }
    if (auto* b = dynamic_cast<BatchNorm*>(&m)) { normal_(b->weight, 1.0f, 0.02f, rng); zero_(b->bias); }
    for (auto& [name, child] : m.children()) dcgan_init(*child, rng);
    // EXERCISE E14 end
}

}  // namespace minigan::nn
