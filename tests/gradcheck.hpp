// tests/gradcheck.hpp - the central-difference gradient check every test file uses.
//
// Read autograd.hpp first. gradcheck(f, inputs) compares the gradients backward() computes
// with numeric ones, for a scalar loss that every output element feeds:
//     L = sum_i f(inputs)_i * R_i,      R fixed random N(0, 1), so dL/dout = R
//     analytic:  f(inputs).backward(R)
//     numeric:   dL/dx_j ~ (L(x_j + eps) - L(x_j - eps)) / (2 eps)     (central difference)
// and per input: relative error = ||a - n|| / max(||a|| + ||n||, tiny), CHECKed below
// `tolerance`; it also CHECKs that the analytic gradient is not all zero (0 against 0 would
// pass for the wrong reason). Like mlpack's CheckGradient, tiny-dnn's gradient tests.
//
// Why eps = 1e-2 and a tolerance of 1e-3. The ops run in float32 (relative rounding
// u = 6e-8), L is accumulated in double. The numeric gradient then has two errors:
//   rounding:    about u * sum_i |out_i R_i| / (2 eps); the tests use tens of outputs of size
//                O(1), so ~1e-6 / 2e-2 = 5e-5 or less;
//   truncation:  eps^2 / 6 * |f'''|, ~2e-5 for the smooth functions here (tanh, sigmoid, BN).
// Both are well below 1e-3 (the worst error measured over all tests is 6e-5), while a wrong
// gradient (a flipped sign, a dropped term, a missing factor) gives a relative error of 0.1 to 1:
// tests/mutation_check.sh breaks each backward formula and sees these checks fail.
// Strongly curved functions (bce's log p near p = 0.1, a BatchNorm-tanh chain) pass a smaller
// eps in Options, with the reason next to it. With eps = 1e-3 the rounding term grows to
// ~5e-4, too close to the threshold; eps = 1e-1 makes truncation ~2e-3. The steps are taken as
// they are really stored: (float(x + eps) - float(x - eps)), not 2 eps, which removes the
// representation error of x +- eps.
// Kinks (relu, leaky_relu, abs at 0) must be further than eps from every input: use
// away_from_zero() for such inputs. GRADCHECK_VERBOSE=1 prints every error measured.
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include <minigan/minigan.hpp>

namespace gradcheck_util {

using minigan::Tensor;
using minigan::Var;

using Function = std::function<Var(const std::vector<Var>&)>;

struct Options {
    double eps = 1e-2;                // central-difference step (see above)
    double tolerance = 1e-3;          // largest relative error accepted
    uint32_t seed = 12345;            // seed of R
    std::vector<bool> check;          // which inputs to check (empty: all); unchecked inputs keep
                                      // requires_grad false, e.g. a constant label tensor
};

// One result per input (0 for unchecked inputs), for tests that want to look further.
struct Report {
    std::vector<double> relative_error;
    std::vector<double> analytic_norm;
};

// L = sum_i out_i R_i, in double.
inline double weighted_sum(const Tensor& out, const Tensor& R) {
    double acc = 0.0;
    for (size_t i = 0; i < out.numel(); ++i) acc += static_cast<double>(out[i]) * R[i];
    return acc;
}

// The check on existing leaf Vars, whose values are perturbed in place and restored: pass a
// layer's own parameters (layer.weight, layer.bias) together with the input, and let f call
// the layer. Gradients of the inputs are zero again afterwards.
inline Report gradcheck_vars(const Function& f, const std::vector<Var>& inputs, const Options& opt = {},
                             const std::string& what = "") {
    const size_t count = inputs.size();
    auto checked = [&](size_t k) { return opt.check.empty() || opt.check.at(k); };
    std::vector<bool> had_grad(count);
    for (size_t k = 0; k < count; ++k) {
        Var v = inputs[k];
        had_grad[k] = v.requires_grad();
        v.set_requires_grad(checked(k));
        if (checked(k)) v.grad().fill(0.0f);
    }

    // Analytic gradients: dL/dout = R.
    Var out = f(inputs);
    minigan::Rng rng(opt.seed);
    Tensor R = minigan::randn(out.shape(), rng);
    out.backward(R);
    std::vector<Tensor> analytic(count);
    for (size_t k = 0; k < count; ++k)
        if (checked(k)) analytic[k] = Var(inputs[k]).grad();

    Report report{std::vector<double>(count, 0.0), std::vector<double>(count, 0.0)};
    const bool verbose = std::getenv("GRADCHECK_VERBOSE") != nullptr;
    minigan::NoGrad no_grad;  // the numeric evaluations need no graph
    for (size_t k = 0; k < count; ++k) {
        if (!checked(k)) continue;
        Var v = inputs[k];
        Tensor& x = v.value();
        Tensor numeric(x.shape);
        for (size_t j = 0; j < x.numel(); ++j) {
            const float original = x[j];
            const float plus = static_cast<float>(original + opt.eps);
            const float minus = static_cast<float>(original - opt.eps);
            x[j] = plus;
            double L_plus = weighted_sum(f(inputs).value(), R);
            x[j] = minus;
            double L_minus = weighted_sum(f(inputs).value(), R);
            x[j] = original;
            numeric[j] = static_cast<float>((L_plus - L_minus) / (static_cast<double>(plus) - minus));
        }
        const Tensor& a = analytic[k];
        double diff2 = 0.0, a2 = 0.0, n2 = 0.0, worst = -1.0;
        size_t worst_j = 0;
        for (size_t j = 0; j < x.numel(); ++j) {
            double d = static_cast<double>(a[j]) - numeric[j];
            diff2 += d * d;
            a2 += static_cast<double>(a[j]) * a[j];
            n2 += static_cast<double>(numeric[j]) * numeric[j];
            if (std::fabs(d) > worst) { worst = std::fabs(d); worst_j = j; }
        }
        const double a_norm = std::sqrt(a2), n_norm = std::sqrt(n2);
        const double rel = std::sqrt(diff2) / std::max(a_norm + n_norm, 1e-30);
        report.relative_error[k] = rel;
        report.analytic_norm[k] = a_norm;
        const std::string name = (what.empty() ? std::string("input ") : what + ", input ") + std::to_string(k) +
                                 " " + minigan::shape_str(x.shape);
        if (verbose) MESSAGE(name << ": relative error " << rel << ", |analytic| " << a_norm);
        CHECK_MESSAGE(rel < opt.tolerance, name << ": gradient relative error " << rel << " >= tolerance "
                                                << opt.tolerance << "; worst element [" << worst_j << "]: analytic "
                                                << a[worst_j] << ", numeric " << numeric[worst_j]);
        CHECK_MESSAGE(a_norm > 0.0, name << ": the analytic gradient is all zero (numeric norm " << n_norm
                                         << "): a check of 0 against 0 proves nothing");
    }
    for (size_t k = 0; k < count; ++k) {
        Var v = inputs[k];
        if (checked(k)) v.grad().fill(0.0f);
        v.set_requires_grad(had_grad[k]);
    }
    return report;
}

// The same on fresh leaves made from plain tensors.
inline Report gradcheck(const Function& f, const std::vector<Tensor>& inputs, const Options& opt = {},
                        const std::string& what = "") {
    std::vector<Var> vars;
    for (const Tensor& t : inputs) vars.emplace_back(t, false);
    return gradcheck_vars(f, vars, opt, what);
}

// Test data for kinked functions: values with |v| in [margin, 1] and random sign, so no input
// lies within eps (1e-2) of the kink at 0 when margin is 0.1.
inline Tensor away_from_zero(minigan::Shape shape, minigan::Rng& rng, float margin = 0.1f) {
    Tensor t(std::move(shape));
    for (float& v : t.data) v = (rng.uniform() < 0.5f ? -1.0f : 1.0f) * rng.uniform(margin, 1.0f);
    return t;
}

// The message of the exception of type E that f throws, or a marker string if it throws
// nothing (doctest then shows it in the failed CHECK). Another exception type propagates.
template <class E = std::exception>
std::string thrown_message(const std::function<void()>& f) {
    try {
        f();
    } catch (const E& e) {
        return e.what();
    }
    return "<no exception thrown>";
}

inline bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace gradcheck_util
