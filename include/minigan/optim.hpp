// optim.hpp - optimizers: SGD (with momentum) and Adam, with PyTorch's exact update rules.
//
// Read autograd.hpp first (parameters are leaf Vars whose .grad() backward() fills).
// An optimizer holds the list of parameters it owns: a GAN has two, one for G and one for D,
// so that D's step never moves G and the other way round. Loop: zero_grad(); loss.backward();
// step(). state_dict() / load_state_dict() save the moments so a resumed run continues exactly.
#pragma once

#include <algorithm>
#include <cmath>

#include "autograd.hpp"
#include "dispatch.hpp"

#ifndef MINIGAN_REFERENCE
#include "fast/adam.hpp"  // fast::adam_update: four floats at a time, one piece per thread
#endif

namespace minigan::optim {

class Optimizer {
public:
    explicit Optimizer(std::vector<Var> params) : params_(std::move(params)) {
        for (const Var& p : params_)
            if (!p.defined()) throw std::invalid_argument("optimizer: undefined parameter");
    }
    virtual ~Optimizer() = default;
    // Set every gradient to zero (backward() adds into them).
    void zero_grad() {
        for (Var& p : params_) p.grad().fill(0.0f);
    }
    virtual void step() = 0;
    virtual StateDict state_dict() const = 0;
    virtual void load_state_dict(const StateDict& state) = 0;
    const std::vector<Var>& params() const { return params_; }

protected:
    std::vector<Var> params_;
};

// Shared by both optimizers' load_state_dict: find `name`, check its shape, or say what is wrong.
inline const Tensor& find_state(const StateDict& state, const std::string& name, const Shape& shape) {
    for (const auto& [key, t] : state)
        if (key == name) {
            if (t.shape != shape)
                throw std::invalid_argument("optimizer state '" + name + "' has shape " + shape_str(t.shape) +
                                            ", expected " + shape_str(shape));
            return t;
        }
    throw std::invalid_argument("optimizer state has no entry '" + name + "' (different model or optimizer?)");
}

// SGD with momentum (PyTorch): buf = momentum * buf + g  (buf = g at the first step);  p -= lr * buf.
class SGD : public Optimizer {
public:
    SGD(std::vector<Var> params, float lr, float momentum = 0.0f)
        : Optimizer(std::move(params)), lr(lr), momentum(momentum) {
        for (const Var& p : params_) buf_.push_back(zeros(p.shape()));
    }
    void step() override {
        for (size_t k = 0; k < params_.size(); ++k) {
            Tensor& p = params_[k].value();
            const Tensor& g = params_[k].grad();
            Tensor& buf = buf_[k];
            for (size_t i = 0; i < p.numel(); ++i) {
                buf[i] = (steps_ == 0) ? g[i] : momentum * buf[i] + g[i];
                p[i] -= lr * (momentum != 0.0f ? buf[i] : g[i]);
            }
        }
        ++steps_;
    }
    StateDict state_dict() const override {
        StateDict s{{"step", Tensor({}, static_cast<float>(steps_))}};
        for (size_t k = 0; k < buf_.size(); ++k) s.push_back({std::to_string(k) + ".momentum_buffer", buf_[k]});
        return s;
    }
    void load_state_dict(const StateDict& s) override {
        steps_ = static_cast<long>(find_state(s, "step", {}).item());
        for (size_t k = 0; k < buf_.size(); ++k) buf_[k] = find_state(s, std::to_string(k) + ".momentum_buffer", buf_[k].shape);
    }
    float lr, momentum;

private:
    std::vector<Tensor> buf_;
    long steps_ = 0;
};

// Adam (Kingma & Ba 2015), as torch.optim.Adam, step t = 1, 2, ...:
//   m = b1 m + (1 - b1) g          v = b2 v + (1 - b2) g^2
//   p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
// eps is added after bias-correcting v (TensorFlow adds it before: a different "eps-hat").
class Adam : public Optimizer {
public:
    Adam(std::vector<Var> params, float lr = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f)
        : Optimizer(std::move(params)), lr(lr), beta1(beta1), beta2(beta2), eps(eps) {
        for (const Var& p : params_) {
            m_.push_back(zeros(p.shape()));
            v_.push_back(zeros(p.shape()));
        }
    }
    void step() override {
        // EXERCISE E10 begin
        ++t_;
        // Bias corrections in double: 1 - 0.999^t is tiny for small t, and we want torch's value.
        const double bc1 = 1.0 - std::pow(static_cast<double>(beta1), t_);
        const double bc2 = 1.0 - std::pow(static_cast<double>(beta2), t_);
        const float step_size = static_cast<float>(lr / bc1);
        const float inv_sqrt_bc2 = static_cast<float>(1.0 / std::sqrt(bc2));
        for (size_t k = 0; k < params_.size(); ++k) {
            float* p = params_[k].value().ptr();
            const float* g = params_[k].grad().ptr();
            float* m = m_[k].ptr();
            float* v = v_[k].ptr();
            const size_t n = m_[k].numel();
#ifndef MINIGAN_REFERENCE
            if (fast_path()) {
                fast::adam_update(p, g, m, v, n, beta1, beta2, step_size, inv_sqrt_bc2, eps);
                continue;
            }
#endif
            // p -= lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps), i.e. the formula above
            for (size_t i = 0; i < n; ++i) {
                m[i] = beta1 * m[i] + (1.0f - beta1) * g[i];
                v[i] = beta2 * v[i] + (1.0f - beta2) * g[i] * g[i];
                p[i] -= step_size * m[i] / (std::sqrt(v[i]) * inv_sqrt_bc2 + eps);
            }
        }
        // EXERCISE E10 end
    }
    StateDict state_dict() const override {
        StateDict s{{"step", Tensor({}, static_cast<float>(t_))}};
        for (size_t k = 0; k < m_.size(); ++k) {
            s.push_back({std::to_string(k) + ".exp_avg", m_[k]});
            s.push_back({std::to_string(k) + ".exp_avg_sq", v_[k]});
        }
        return s;
    }
    void load_state_dict(const StateDict& s) override {
        t_ = static_cast<long>(find_state(s, "step", {}).item());
        for (size_t k = 0; k < m_.size(); ++k) {
            m_[k] = find_state(s, std::to_string(k) + ".exp_avg", m_[k].shape);
            v_[k] = find_state(s, std::to_string(k) + ".exp_avg_sq", v_[k].shape);
        }
    }
    long steps_taken() const { return t_; }
    float lr, beta1, beta2, eps;

private:
    std::vector<Tensor> m_, v_;  // first and second moment estimates, one per parameter
    long t_ = 0;
};

}  // namespace minigan::optim
