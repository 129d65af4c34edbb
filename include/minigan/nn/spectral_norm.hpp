// nn/spectral_norm.hpp - spectral normalisation of a Linear layer (Miyato et al. 2018): its
// weight divided by its largest singular value, so the layer stretches no input by more than 1.
//
// Read nn/linear.hpp first. A D whose layers all have spectral norm <= 1 (and 1-Lipschitz
// activations such as LeakyReLU) is 1-Lipschitz: its verdict cannot jump between nearby points,
// which keeps G's gradient informative. The largest singular value sigma(W) of W (out, in) is
// found by power iteration, one step per training step, with u (out) kept between steps:
//   v = W^T u / ||W^T u||,   u = W v / ||W v||,   sigma ~ u^T W v.
// Miyato et al. use W / sigma inside the forward pass and back-propagate through sigma; here the
// weight itself is divided after each optimizer step (a projection, as in Gouk et al. 2021):
// the same constraint on D, with no change to the layer or its backward.
#pragma once

#include <cmath>
#include <vector>

#include "linear.hpp"

namespace minigan::nn {

struct SpectralNorm {
    std::vector<float> u;  // the left singular vector estimate, (out); random at first

    // `iterations` power-iteration steps on W (out, in); returns the estimate of sigma(W).
    float estimate(const Tensor& W, int iterations = 1, Rng& rng = global_rng()) {
        const int out = W.shape[0], in = W.shape[1];
        if (u.size() != static_cast<size_t>(out)) {
            u.resize(out);
            for (float& x : u) x = rng.normal();
        }
        std::vector<double> v(in), wv(out);
        double sigma = 0;
        for (int it = 0; it < iterations; ++it) {
            double nv = 0, nu = 0;
            for (int j = 0; j < in; ++j) {
                v[j] = 0;
                for (int i = 0; i < out; ++i) v[j] += W[i * in + j] * u[i];
                nv += v[j] * v[j];
            }
            nv = std::sqrt(nv) + 1e-12;
            for (double& x : v) x /= nv;
            for (int i = 0; i < out; ++i) {
                wv[i] = 0;
                for (int j = 0; j < in; ++j) wv[i] += W[i * in + j] * v[j];
                nu += wv[i] * wv[i];
            }
            sigma = std::sqrt(nu);  // = u^T W v with u = W v / ||W v||
            for (int i = 0; i < out; ++i) u[i] = static_cast<float>(wv[i] / (sigma + 1e-12));
        }
        return static_cast<float>(sigma);
    }

    // W <- W / sigma(W).
    void normalize(Linear& layer, int iterations = 1) {
        const float sigma = estimate(layer.weight.value(), iterations);
        if (sigma > 0)
            for (float& w : layer.weight.value().data) w /= sigma;
    }
};

}  // namespace minigan::nn
