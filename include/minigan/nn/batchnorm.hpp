// nn/batchnorm.hpp - batch normalisation (Ioffe & Szegedy 2015): BatchNorm1d and BatchNorm2d.
//
// Read nn/module.hpp first. Per channel c, over the batch (and every pixel, for 2-d input):
//   training: mu = mean(x), var = mean((x - mu)^2) (biased); y = (x - mu) / sqrt(var + eps) * gamma + beta
//             running_mean = (1 - m) running_mean + m mu;  running_var = (1 - m) running_var + m var * n/(n-1)
//   eval:     y = (x - running_mean) / sqrt(running_var + eps) * gamma + beta
// PyTorch's momentum m = 0.1 is Keras' momentum 0.9 (they name the other side of the average).
#pragma once

#include "../parallel.hpp"
#include "module.hpp"

namespace minigan {

// x: (N, C) or (N, C, H, W). Viewed as (N, C, L) with L = H*W (or 1); statistics per channel c
// over n = N*L numbers. running_mean / running_var: (C), updated in training mode.
// The loops run over a range of channels per thread (parallel.hpp). Inside, the long contiguous
// dimension is the vectorised one: the pixels l of one (b, c) row when L > 1, or the channels c
// of one row b when L = 1 (BatchNorm1d), so both layouts run at vector speed.
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
    const size_t grain = std::max<size_t>(1, 32768 / std::max<size_t>(n, 1));  // channels per thread, at least
    // sums[c - c0] += sum over b, l of f(i, c), i = the offset of element (b, c, l), for c in [c0, c1).
    auto channel_sums = [N, C, L](size_t c0, size_t c1, double* sums, auto f) {
        if (L == 1) {
            for (int b = 0; b < N; ++b) {
                const size_t o = static_cast<size_t>(b) * C;
                MINIGAN_SIMD
                for (size_t c = c0; c < c1; ++c) sums[c - c0] += f(o + c, c);
            }
        } else {
            for (size_t c = c0; c < c1; ++c) {
                double acc = 0.0;
                for (int b = 0; b < N; ++b) {
                    const size_t o = (static_cast<size_t>(b) * C + c) * L;
                    MINIGAN_SIMD_SUM(acc)
                    for (size_t i = o; i < o + L; ++i) acc += f(i, c);
                }
                sums[c - c0] += acc;
            }
        }
    };
    const Tensor& xv = x.value();
    Tensor mean_c({C}), rstd_c({C});  // mean and 1/sqrt(var + eps) per channel: kept for backward
    float* pm = mean_c.ptr();
    float* pr = rstd_c.ptr();
    if (training) {
        parallel_chunks(C, [&](size_t c0, size_t c1) {
            std::vector<double> mu(c1 - c0, 0.0), var(c1 - c0, 0.0);
            const float* px = xv.ptr();
            channel_sums(c0, c1, mu.data(), [px](size_t i, size_t) { return static_cast<double>(px[i]); });
            for (double& m : mu) m /= n;
            const double* pmu = mu.data() - c0;  // pmu[c] for c in [c0, c1)
            channel_sums(c0, c1, var.data(), [px, pmu](size_t i, size_t c) { return (px[i] - pmu[c]) * (px[i] - pmu[c]); });
            for (size_t c = c0; c < c1; ++c) {
                const double m = mu[c - c0], v = var[c - c0] / n;  // biased variance: mean((x - mu)^2)
                running_mean[c] = (1.0f - momentum) * running_mean[c] + momentum * static_cast<float>(m);
                running_var[c] = (1.0f - momentum) * running_var[c] + momentum * static_cast<float>(v * n / (n - 1));
                pm[c] = static_cast<float>(m);
                pr[c] = static_cast<float>(1.0 / std::sqrt(v + eps));
            }
        }, grain);
    } else {
        for (int c = 0; c < C; ++c) {
            pm[c] = running_mean[c];
            pr[c] = static_cast<float>(1.0 / std::sqrt(static_cast<double>(running_var[c]) + eps));
        }
    }
    Tensor y(s);
    // y = (x - mean) * rstd * gamma + beta
    auto normalise = [N, C, L](const float* px, const float* pm, const float* pr, const float* pg, const float* pb,
                               float* py, size_t c0, size_t c1) {
        for (int b = 0; b < N; ++b) {
            if (L == 1) {
                const size_t o = static_cast<size_t>(b) * C;
                MINIGAN_SIMD
                for (size_t c = c0; c < c1; ++c) py[o + c] = (px[o + c] - pm[c]) * pr[c] * pg[c] + pb[c];
            } else {
                for (size_t c = c0; c < c1; ++c) {
                    const size_t o = (static_cast<size_t>(b) * C + c) * L;
                    const float m = pm[c], r = pr[c], g = pg[c], bb = pb[c];
                    MINIGAN_SIMD
                    for (size_t l = 0; l < L; ++l) py[o + l] = (px[o + l] - m) * r * g + bb;
                }
            }
        }
    };
    parallel_chunks(C, [&](size_t c0, size_t c1) {
        normalise(xv.ptr(), pm, pr, gamma.value().ptr(), beta.value().ptr(), y.ptr(), c0, c1);
    }, grain);
    return make_result(std::move(y), {x, gamma, beta}, [=](Node& out) {
        const float* px = out.parents[0]->value.ptr();
        const Tensor& g = out.parents[1]->value;
        const float* dy = out.grad.ptr();
        Tensor* dx = parent_grad(out, 0);
        Tensor* dgamma = parent_grad(out, 1);
        Tensor* dbeta = parent_grad(out, 2);
        const float* pm = mean_c.ptr();
        const float* pr = rstd_c.ptr();
        parallel_chunks(C, [&](size_t c0, size_t c1) {
            // xhat = (x - mu) * rstd. dbeta = sum dy, dgamma = sum dy * xhat.
            std::vector<double> sdy(c1 - c0, 0.0), sdyx(c1 - c0, 0.0);
            channel_sums(c0, c1, sdy.data(), [dy](size_t i, size_t) { return static_cast<double>(dy[i]); });
            channel_sums(c0, c1, sdyx.data(), [dy, px, pm, pr](size_t i, size_t c) {
                const float xhat = (px[i] - pm[c]) * pr[c];
                return static_cast<double>(dy[i] * xhat);
            });
            std::vector<float> mdy(c1 - c0), mdyx(c1 - c0), kk(c1 - c0);
            for (size_t c = c0; c < c1; ++c) {
                const double sum_dy = sdy[c - c0], sum_dy_xhat = sdyx[c - c0];
                if (dbeta) (*dbeta)[c] += static_cast<float>(sum_dy);
                if (dgamma) (*dgamma)[c] += static_cast<float>(sum_dy_xhat);
                mdy[c - c0] = static_cast<float>(sum_dy / n);
                mdyx[c - c0] = static_cast<float>(sum_dy_xhat / n);
                kk[c - c0] = g[c] * pr[c];
            }
            if (!dx) return;
            // Training: mu and var depend on x too, so with dxhat = dy * gamma
            //   dx = rstd / n * (n dxhat - sum(dxhat) - xhat * sum(dxhat * xhat)).
            // Eval: the statistics are constants, dx = dy * gamma * rstd.
            float* pdx = dx->ptr();
            const float *K = kk.data() - c0, *MDY = mdy.data() - c0, *MDYX = mdyx.data() - c0;  // indexed by c
            auto dx_at = [=](size_t i, size_t c) {
                const float k = K[c], mean_dy = MDY[c], mean_dy_xhat = MDYX[c];
                const float xhat = (px[i] - pm[c]) * pr[c];
                return training ? k * (dy[i] - mean_dy - xhat * mean_dy_xhat) : k * dy[i];
            };
            for (int b = 0; b < N; ++b) {
                if (L == 1) {
                    const size_t o = static_cast<size_t>(b) * C;
                    MINIGAN_SIMD
                    for (size_t c = c0; c < c1; ++c) pdx[o + c] += dx_at(o + c, c);
                } else {
                    for (size_t c = c0; c < c1; ++c) {
                        const size_t o = (static_cast<size_t>(b) * C + c) * L;
                        MINIGAN_SIMD
                        for (size_t i = o; i < o + L; ++i) pdx[i] += dx_at(i, c);
                    }
                }
            }
        }, grain);
    });
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
