// fast/batchnorm.hpp - batch normalisation with its loops split over channels and vectorised.
//
// Replaces: batch_norm() of nn/batchnorm.hpp (read it first: the formulas are there). Same
// statistics and gradients, written for speed: each thread takes a range of channels, and
// sums go over the long contiguous dimension of the memory layout (tests/test_fast.cpp holds
// it to the reference).
#pragma once

#include <vector>

#include "../autograd.hpp"
#include "parallel_chunks.hpp"

namespace minigan::fast {

// The contract of minigan::batch_norm. The loops run over a range of channels per thread. Inside, the long contiguous
// dimension is the vectorised one: the pixels l of one (b, c) row when L > 1, or the channels c
// of one row b when L = 1 (BatchNorm1d), so both layouts run at vector speed.
inline Var batch_norm(const Var& x, const Var& gamma, const Var& beta, Tensor& running_mean, Tensor& running_var,
                      bool training, float momentum = 0.1f, float eps = 1e-5f) {
    const Shape& s = x.shape();  // checked by the reference before it calls this
    const int N = s[0], C = s[1];
    const size_t L = s.size() == 4 ? static_cast<size_t>(s[2]) * s[3] : 1, n = N * L;
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
        parallel_items(C, n, [&](size_t c0, size_t c1) {
            std::vector<double> mu(c1 - c0, 0.0), var(c1 - c0, 0.0);
            const float* px = xv.ptr();
            channel_sums(c0, c1, mu.data(), [px](size_t i, size_t) { return static_cast<double>(px[i]); });
            for (double& m : mu) m /= n;
            const double* pmu = mu.data();  // pmu[c - c0] for c in [c0, c1)
            channel_sums(c0, c1, var.data(), [px, pmu, c0](size_t i, size_t c) {
                return (px[i] - pmu[c - c0]) * (px[i] - pmu[c - c0]);
            });
            for (size_t c = c0; c < c1; ++c) {
                const double m = mu[c - c0], v = var[c - c0] / n;  // biased variance: mean((x - mu)^2)
                running_mean[c] = (1.0f - momentum) * running_mean[c] + momentum * static_cast<float>(m);
                running_var[c] = (1.0f - momentum) * running_var[c] + momentum * static_cast<float>(v * n / (n - 1));
                pm[c] = static_cast<float>(m);
                pr[c] = static_cast<float>(1.0 / std::sqrt(v + eps));
            }
        });
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
    parallel_items(C, n, [&](size_t c0, size_t c1) {
        normalise(xv.ptr(), pm, pr, gamma.value().ptr(), beta.value().ptr(), y.ptr(), c0, c1);
    });
    return make_result(std::move(y), {x, gamma, beta}, [=](Node& out) {
        const float* px = out.parents[0]->value.ptr();
        const Tensor& g = out.parents[1]->value;
        const float* dy = out.grad.ptr();
        Tensor* dx = parent_grad(out, 0);
        Tensor* dgamma = parent_grad(out, 1);
        Tensor* dbeta = parent_grad(out, 2);
        const float* pm = mean_c.ptr();
        const float* pr = rstd_c.ptr();
        parallel_items(C, n, [&](size_t c0, size_t c1) {
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
            const float *K = kk.data(), *MDY = mdy.data(), *MDYX = mdyx.data();  // indexed by c - c0
            auto dx_at = [=](size_t i, size_t c) {
                const float k = K[c - c0], mean_dy = MDY[c - c0], mean_dy_xhat = MDYX[c - c0];
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
        });
    });
}

}  // namespace minigan::fast
