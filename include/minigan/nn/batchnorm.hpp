// nn/batchnorm.hpp - batch normalisation (Ioffe & Szegedy 2015): BatchNorm1d and BatchNorm2d.
//
// Read nn/module.hpp first. Per channel c, over the batch (and every pixel, for 2-d input):
//   training: mu = mean(x), var = mean((x - mu)^2) (biased); y = (x - mu) / sqrt(var + eps) * gamma + beta
//             running_mean = (1 - m) running_mean + m mu;  running_var = (1 - m) running_var + m var * n/(n-1)
//   eval:     y = (x - running_mean) / sqrt(running_var + eps) * gamma + beta
// PyTorch's momentum m = 0.1 is Keras' momentum 0.9 (they name the other side of the average).
#pragma once

#include <cmath>
#include <vector>

#include "../dispatch.hpp"
#include "module.hpp"

#ifndef MINIGAN_REFERENCE
#include "../fast/batchnorm.hpp"  // fast::batch_norm: channels split over threads, vectorised
#endif

namespace minigan {

// x: (N, C) or (N, C, H, W), viewed as (N, C, L) with L = H*W (or 1): statistics per channel c
// over its n = N*L numbers. gamma, beta, running_mean, running_var: (C).
// Backward, with xhat = (x - mu) * rstd and dxhat = dy * gamma:
//   dbeta = sum dy      dgamma = sum dy * xhat      (sums over the n numbers of a channel)
//   training: mu and var depend on x too,  dx = rstd / n * (n dxhat - sum(dxhat) - xhat * sum(dxhat * xhat))
//   eval:     the statistics are constants, dx = dxhat * rstd
inline Var batch_norm(const Var& x, const Var& gamma, const Var& beta, Tensor& running_mean, Tensor& running_var,
                      bool training, float momentum = 0.1f, float eps = 1e-5f) {
    const Shape& s = x.shape();
    if (s.size() != 2 && s.size() != 4)
        throw std::invalid_argument("batch_norm: input must be (N, C) or (N, C, H, W), got " + shape_str(s));
    const int N = s[0], C = s[1];
    const size_t L = s.size() == 4 ? static_cast<size_t>(s[2]) * s[3] : 1, n = N * L;
    if (gamma.shape() != Shape{C} || running_mean.shape != Shape{C})
        throw std::invalid_argument("batch_norm: input " + shape_str(s) + " has " + std::to_string(C) +
                                    " channels, the layer has " + shape_str(gamma.shape()));
    if (training && n < 2)
        throw std::invalid_argument("batch_norm: training needs more than one value per channel, got input " + shape_str(s));
    // EXERCISE E08 begin
#ifndef MINIGAN_REFERENCE
    if (fast_path()) return fast::batch_norm(x, gamma, beta, running_mean, running_var, training, momentum, eps);
#endif
    // Element l of channel c in image b sits at x[(b*C + c)*L + l].
    auto at = [C, L](int b, int c, size_t l) { return (static_cast<size_t>(b) * C + c) * L + l; };
    const Tensor& xv = x.value();
    Tensor mean({C}), rstd({C});  // per channel: mu and 1/sqrt(var + eps), kept for backward
    for (int c = 0; c < C; ++c) {
        if (training) {
            double sum = 0.0, sum_sq = 0.0;
            for (int b = 0; b < N; ++b)
                for (size_t l = 0; l < L; ++l) sum += xv[at(b, c, l)];
            const double mu = sum / n;
            for (int b = 0; b < N; ++b)
                for (size_t l = 0; l < L; ++l) sum_sq += (xv[at(b, c, l)] - mu) * (xv[at(b, c, l)] - mu);
            const double var = sum_sq / n;  // biased: the variance used to normalise
            running_mean[c] = (1.0f - momentum) * running_mean[c] + momentum * static_cast<float>(mu);
            running_var[c] = (1.0f - momentum) * running_var[c] + momentum * static_cast<float>(var * n / (n - 1));
            mean[c] = static_cast<float>(mu);
            rstd[c] = static_cast<float>(1.0 / std::sqrt(var + eps));
        } else {
            mean[c] = running_mean[c];
            rstd[c] = static_cast<float>(1.0 / std::sqrt(static_cast<double>(running_var[c]) + eps));
        }
    }
    Tensor y(s);  // y = (x - mean) * rstd * gamma + beta
    for (int b = 0; b < N; ++b)
        for (int c = 0; c < C; ++c)
            for (size_t l = 0; l < L; ++l)
                y[at(b, c, l)] = (xv[at(b, c, l)] - mean[c]) * rstd[c] * gamma.value()[c] + beta.value()[c];
    return make_result(std::move(y), {x, gamma, beta}, [=](Node& out) {
        const Tensor& xv = out.parents[0]->value;
        const Tensor& g = out.parents[1]->value;
        const Tensor& dy = out.grad;
        Tensor* dx = parent_grad(out, 0);
        Tensor* dgamma = parent_grad(out, 1);
        Tensor* dbeta = parent_grad(out, 2);
        for (int c = 0; c < C; ++c) {
            double sum_dy = 0.0, sum_dy_xhat = 0.0;
            for (int b = 0; b < N; ++b)
                for (size_t l = 0; l < L; ++l) {
                    const size_t i = at(b, c, l);
                    sum_dy += dy[i];
                    sum_dy_xhat += dy[i] * ((xv[i] - mean[c]) * rstd[c]);
                }
            if (dbeta) (*dbeta)[c] += static_cast<float>(sum_dy);
            if (dgamma) (*dgamma)[c] += static_cast<float>(sum_dy_xhat);
            if (!dx) continue;
            // gamma * rstd * (dy - mean(dy) - xhat * mean(dy * xhat)): the formula above, divided through by n
            const float k = g[c] * rstd[c], mean_dy = static_cast<float>(sum_dy / n),
                        mean_dy_xhat = static_cast<float>(sum_dy_xhat / n);
            for (int b = 0; b < N; ++b)
                for (size_t l = 0; l < L; ++l) {
                    const size_t i = at(b, c, l);
                    const float xhat = (xv[i] - mean[c]) * rstd[c];
                    (*dx)[i] += training ? k * (dy[i] - mean_dy - xhat * mean_dy_xhat) : k * dy[i];
                }
        }
    });
    // EXERCISE E08 end
}

namespace nn {

// One class for both: BatchNorm1d takes (N, C), BatchNorm2d takes (N, C, H, W).
class BatchNorm : public Module {
public:
    BatchNorm(int num_features, int spatial_dims, float momentum = 0.1f, float eps = 1e-5f)
        : num_features(num_features), spatial_dims(spatial_dims), momentum(momentum), eps(eps),
          weight(ones({num_features})), bias(zeros({num_features})),
          running_mean(zeros({num_features})), running_var(ones({num_features})), num_batches_tracked(Shape{}, 0.0f) {
        register_parameter("weight", weight);  // gamma
        register_parameter("bias", bias);      // beta
        register_buffer("running_mean", running_mean);
        register_buffer("running_var", running_var);
        register_buffer("num_batches_tracked", num_batches_tracked);  // PyTorch keeps this count too
    }
    Var forward(const Var& x) override {
        size_t want = spatial_dims == 0 ? 2 : 4;
        if (x.shape().size() != want)
            throw std::invalid_argument(name() + ": expected a " + std::to_string(want) + "-d input, got " +
                                        shape_str(x.shape()));
        if (is_training()) num_batches_tracked[0] += 1.0f;
        return batch_norm(x, weight, bias, running_mean, running_var, is_training(), momentum, eps);
    }
    std::string name() const override {
        return std::string(spatial_dims == 0 ? "BatchNorm1d(" : "BatchNorm2d(") + std::to_string(num_features) + ")";
    }
    int num_features, spatial_dims;
    float momentum, eps;
    Var weight, bias;
    Tensor running_mean, running_var, num_batches_tracked;
};

struct BatchNorm1d : BatchNorm {
    explicit BatchNorm1d(int f, float momentum = 0.1f, float eps = 1e-5f) : BatchNorm(f, 0, momentum, eps) {}
};
struct BatchNorm2d : BatchNorm {
    explicit BatchNorm2d(int c, float momentum = 0.1f, float eps = 1e-5f) : BatchNorm(c, 2, momentum, eps) {}
};

}  // namespace nn
}  // namespace minigan
