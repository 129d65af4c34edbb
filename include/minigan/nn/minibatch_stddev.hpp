// nn/minibatch_stddev.hpp - minibatch standard deviation (Karras et al. 2018, ProGAN): D sees how
// varied its whole batch is, so a generator that puts every sample in one place is caught.
//
// Read nn/module.hpp and autograd.hpp first. For a batch x (N, F):
//   sigma_f = sqrt(mean_n (x[n, f] - mu_f)^2 + eps),  s = mean_f sigma_f,
// and the output is x with one more column holding s in every row: (N, F + 1). A collapsed batch
// has s ~ 0, a real one does not, and D can learn that difference. Backward (mu's own gradient
// sums to zero over n, so it drops out):
//   ds / dx[n, f] = (x[n, f] - mu_f) / (N F sigma_f).
// Drawing D over the plane (one point per row) would measure the spread of the plane instead of a
// batch of samples: `fixed` >= 0 replaces s by that value for such calls.
#pragma once

#include <cmath>

#include "module.hpp"

namespace minigan {

inline Var minibatch_stddev(const Var& x, float fixed = -1.0f, float eps = 1e-8f) {
    if (x.value().dim() != 2) throw std::invalid_argument("minibatch_stddev: need (N, F), got " + shape_str(x.shape()));
    const int N = x.shape()[0], F = x.shape()[1];
    const Tensor& v = x.value();
    std::vector<double> mu(F, 0.0), sigma(F, 0.0);
    for (int n = 0; n < N; ++n)
        for (int f = 0; f < F; ++f) mu[f] += v[n * F + f] / N;
    for (int n = 0; n < N; ++n)
        for (int f = 0; f < F; ++f) sigma[f] += (v[n * F + f] - mu[f]) * (v[n * F + f] - mu[f]) / N;
    double s = 0;
    for (int f = 0; f < F; ++f) sigma[f] = std::sqrt(sigma[f] + eps), s += sigma[f] / F;
    if (fixed >= 0) s = fixed;
    Tensor y({N, F + 1});
    for (int n = 0; n < N; ++n) {
        for (int f = 0; f < F; ++f) y[n * (F + 1) + f] = v[n * F + f];
        y[n * (F + 1) + F] = static_cast<float>(s);
    }
    const bool through_s = fixed < 0;
    return make_result(std::move(y), {x}, [N, F, mu, sigma, through_s](Node& out) {
        Tensor* dx = parent_grad(out, 0);
        if (!dx) return;
        const Tensor& xv = out.parents[0]->value;
        double ds = 0;  // d loss / d s: the extra column's gradients, summed over the rows
        for (int n = 0; n < N; ++n) ds += out.grad[n * (F + 1) + F];
        for (int n = 0; n < N; ++n)
            for (int f = 0; f < F; ++f) {
                double g = out.grad[n * (F + 1) + f];
                if (through_s) g += ds * (xv[n * F + f] - mu[f]) / (double(N) * F * sigma[f]);
                (*dx)[n * F + f] += static_cast<float>(g);
            }
    });
}

namespace nn {

struct MinibatchStddev : Module {
    float fixed = -1.0f;  // >= 0: use this instead of the batch's own spread (drawing D over a plane)
    Var forward(const Var& x) override { return minibatch_stddev(x, fixed); }
    std::string name() const override { return "MinibatchStddev"; }
};

}  // namespace nn
}  // namespace minigan
