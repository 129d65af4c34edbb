// loss.hpp - the losses of GAN training: bce, bce_with_logits (stable), mse; and cross_entropy
// for the classifier that measures GAN quality (eval/). All take the mean.
//
// Read ops.hpp and activations.hpp first. Each loss is one fused op (value + backward) rather
// than a chain of log/exp ops, so it can be written in the numerically safe form and its
// gradient is one line. The target may be a constant (labels) or a Var that needs gradients.
#pragma once

#include "activations.hpp"

namespace minigan {

inline void check_loss_shapes(const char* op, const Var& input, const Var& target) {
    if (input.shape() != target.shape())
        throw std::invalid_argument(std::string(op) + ": input " + shape_str(input.shape()) +
                                    " and target " + shape_str(target.shape()) + " must have the same shape");
    if (input.numel() == 0) throw std::invalid_argument(std::string(op) + ": empty input");
}

// Binary cross-entropy on probabilities p in (0, 1):
//   loss = mean( -(t log p + (1 - t) log(1 - p)) )
//   dloss/dp = (p - t) / (p (1 - p)) / n,   dloss/dt = (log(1 - p) - log p) / n
// log is clamped at -100 as in PyTorch, so p = 0 or 1 gives a large finite loss, not inf.
inline Var bce(const Var& prob, const Var& target) {
    check_loss_shapes("bce", prob, target);
    const Tensor& p = prob.value();
    const Tensor& t = target.value();
    const size_t n = p.numel();
    auto clamped_log = [](float v) { return std::max(std::log(v), -100.0f); };
    double acc = 0.0;
    for (size_t i = 0; i < n; ++i) {
        if (!(p[i] >= 0.0f && p[i] <= 1.0f))
            throw std::domain_error("bce: input must be probabilities in [0, 1], got " + std::to_string(p[i]) +
                                    " (use bce_with_logits for raw scores)");
        acc += -(t[i] * clamped_log(p[i]) + (1.0f - t[i]) * clamped_log(1.0f - p[i]));
    }
    return make_result(Tensor({}, static_cast<float>(acc / n)), {prob, target}, [n](Node& out) {
        const Tensor& p = out.parents[0]->value;
        const Tensor& t = out.parents[1]->value;
        const float g = out.grad[0] / static_cast<float>(n);
        if (Tensor* dp = parent_grad(out, 0))
            for (size_t i = 0; i < n; ++i) {
                float denom = std::max(p[i] * (1.0f - p[i]), 1e-12f);  // avoid 0/0 at p = 0 or 1
                (*dp)[i] += g * (p[i] - t[i]) / denom;
            }
        if (Tensor* dt = parent_grad(out, 1))
            for (size_t i = 0; i < n; ++i)
                (*dt)[i] += g * (std::max(std::log(1.0f - p[i]), -100.0f) - std::max(std::log(p[i]), -100.0f));
    });
}

// Binary cross-entropy on logits x (the discriminator's raw score), with p = sigmoid(x):
//   -(t log p + (1-t) log(1-p)) = max(x, 0) - x t + log(1 + e^-|x|)
// The right side never exponentiates a positive number, so logits of +-100 give the exact
// loss of 100 instead of inf/NaN. dloss/dx = (sigmoid(x) - t) / n, dloss/dt = -x / n.
inline Var bce_with_logits(const Var& logits, const Var& target) {
    // EXERCISE E09 begin
    check_loss_shapes("bce_with_logits", logits, target);
    const Tensor& x = logits.value();
    const Tensor& t = target.value();
    const size_t n = x.numel();
    double acc = 0.0;
    for (size_t i = 0; i < n; ++i)
        acc += std::max(x[i], 0.0f) - x[i] * t[i] + std::log1p(std::exp(-std::fabs(x[i])));
    return make_result(Tensor({}, static_cast<float>(acc / n)), {logits, target}, [n](Node& out) {
        const Tensor& x = out.parents[0]->value;
        const Tensor& t = out.parents[1]->value;
        const float g = out.grad[0] / static_cast<float>(n);
        if (Tensor* dx = parent_grad(out, 0))
            for (size_t i = 0; i < n; ++i) (*dx)[i] += g * (stable_sigmoid(x[i]) - t[i]);
        if (Tensor* dt = parent_grad(out, 1))
            for (size_t i = 0; i < n; ++i) (*dt)[i] += -g * x[i];
    });
    // EXERCISE E09 end
}

// Mean squared error: loss = mean((x - t)^2); dloss/dx = 2 (x - t) / n = -dloss/dt.
inline Var mse(const Var& input, const Var& target) {
    check_loss_shapes("mse", input, target);
    const Tensor& x = input.value();
    const Tensor& t = target.value();
    const size_t n = x.numel();
    double acc = 0.0;
    for (size_t i = 0; i < n; ++i) acc += static_cast<double>(x[i] - t[i]) * (x[i] - t[i]);
    return make_result(Tensor({}, static_cast<float>(acc / n)), {input, target}, [n](Node& out) {
        const Tensor& x = out.parents[0]->value;
        const Tensor& t = out.parents[1]->value;
        const float g = 2.0f * out.grad[0] / static_cast<float>(n);
        if (Tensor* dx = parent_grad(out, 0))
            for (size_t i = 0; i < n; ++i) (*dx)[i] += g * (x[i] - t[i]);
        if (Tensor* dt = parent_grad(out, 1))
            for (size_t i = 0; i < n; ++i) (*dt)[i] -= g * (x[i] - t[i]);
    });
}

// Cross-entropy of class scores (logits) against class indices, the classifier's loss:
//   p = softmax(x_n) with p_k = e^(x_nk - m) / sum_j e^(x_nj - m), m = max_j x_nj (so no e^x overflows)
//   loss = mean_n( -log p_{n, label_n} ) = mean_n( m + log sum_j e^(x_nj - m) - x_{n, label_n} )
//   dloss/dx_nk = (p_nk - [k == label_n]) / N
// logits: (N, K); labels: N class indices in 0..K-1. PyTorch: F.cross_entropy(logits, labels).
inline Var cross_entropy(const Var& logits, const std::vector<int>& labels) {
    const Shape& s = logits.shape();
    if (s.size() != 2 || s[0] < 1 || s[1] < 1)
        throw std::invalid_argument("cross_entropy: logits must be (N, K) with N, K >= 1, got " + shape_str(s));
    const int N = s[0], K = s[1];
    if (static_cast<int>(labels.size()) != N)
        throw std::invalid_argument("cross_entropy: " + std::to_string(labels.size()) + " labels for " +
                                    std::to_string(N) + " rows of logits");
    for (int label : labels)
        if (label < 0 || label >= K)
            throw std::invalid_argument("cross_entropy: label " + std::to_string(label) + " is outside 0.." +
                                        std::to_string(K - 1));
    const Tensor& x = logits.value();
    Tensor prob(s);  // softmax of every row: kept for backward
    double acc = 0.0;
    for (int n = 0; n < N; ++n) {
        const float* row = x.ptr() + static_cast<size_t>(n) * K;
        float* p = prob.ptr() + static_cast<size_t>(n) * K;
        const float m = *std::max_element(row, row + K);
        double total = 0.0;
        for (int k = 0; k < K; ++k) total += std::exp(static_cast<double>(row[k]) - m);
        for (int k = 0; k < K; ++k) p[k] = static_cast<float>(std::exp(static_cast<double>(row[k]) - m) / total);
        acc += m + std::log(total) - row[labels[n]];
    }
    return make_result(Tensor({}, static_cast<float>(acc / N)), {logits}, [prob = std::move(prob), labels, N, K](Node& out) {
        if (Tensor* dx = parent_grad(out, 0)) {
            const float g = out.grad[0] / static_cast<float>(N);
            for (int n = 0; n < N; ++n)
                for (int k = 0; k < K; ++k) {
                    const size_t i = static_cast<size_t>(n) * K + k;
                    (*dx)[i] += g * (prob[i] - (k == labels[n] ? 1.0f : 0.0f));
                }
        }
    });
}

// Label tensors for the GAN losses: a (N, 1) batch of ones ("real") or zeros ("fake").
inline Var constant_like(const Var& x, float value) { return Var(full(x.shape(), value)); }

// The mean of sigmoid(logits): how sure, on average, a discriminator is that its inputs are real.
inline float mean_probability(const Tensor& logits) {
    double acc = 0.0;
    for (float v : logits.data) acc += stable_sigmoid(v);
    return static_cast<float>(acc / logits.numel());
}

}  // namespace minigan
