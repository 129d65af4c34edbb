// nn/linear.hpp - the fully connected layer: y = x W^T + b.
//
// Read nn/module.hpp and blas.hpp first. x: (N, in), W: (out, in) (PyTorch's layout), b: (out).
// Forward is one GEMM; backward is two more (dx and dW) plus a column sum for db.
#pragma once

#include "../blas.hpp"
#include "module.hpp"

namespace minigan {

// y (N, out) = x (N, in) * W^T (in, out) + b
inline Var linear(const Var& x, const Var& weight, const Var& bias) {
    if (x.value().dim() != 2 || weight.value().dim() != 2 || x.shape()[1] != weight.shape()[1])
        throw std::invalid_argument("linear: input " + shape_str(x.shape()) + " does not fit weight " +
                                    shape_str(weight.shape()) + " (need (N, in) and (out, in))");
    const int N = x.shape()[0], in = x.shape()[1], out_f = weight.shape()[0];
    if (bias.defined() && bias.shape() != Shape{out_f})
        throw std::invalid_argument("linear: bias must be (" + std::to_string(out_f) + ",), got " + shape_str(bias.shape()));
    Tensor y({N, out_f});
    if (bias.defined())
        for (int n = 0; n < N; ++n) std::copy(bias.value().data.begin(), bias.value().data.end(), y.ptr() + n * out_f);
    gemm(false, true, N, out_f, in, 1.0f, x.value().ptr(), in, weight.value().ptr(), in, bias.defined() ? 1.0f : 0.0f,
         y.ptr(), out_f);
    std::vector<Var> parents{x, weight};
    if (bias.defined()) parents.push_back(bias);
    return make_result(std::move(y), parents, [N, in, out_f](Node& out) {
        // EXERCISE E04 begin
        const Tensor& x = out.parents[0]->value;
        const Tensor& w = out.parents[1]->value;
        if (Tensor* dx = parent_grad(out, 0))  // dx (N, in) += dy (N, out) * W (out, in)
            gemm(false, false, N, in, out_f, 1.0f, out.grad.ptr(), out_f, w.ptr(), in, 1.0f, dx->ptr(), in);
        if (Tensor* dw = parent_grad(out, 1))  // dW (out, in) += dy^T (out, N) * x (N, in)
            gemm(true, false, out_f, in, N, 1.0f, out.grad.ptr(), out_f, x.ptr(), in, 1.0f, dw->ptr(), in);
        if (out.parents.size() > 2)
            if (Tensor* db = parent_grad(out, 2))  // db[j] += sum_n dy[n, j]
                for (int n = 0; n < N; ++n)
                    for (int j = 0; j < out_f; ++j) (*db)[j] += out.grad[n * out_f + j];
        // EXERCISE E04 end
    });
}

namespace nn {

class Linear : public Module {
public:
    // PyTorch's default init: W and b ~ U(-1/sqrt(in), 1/sqrt(in)).
    Linear(int in_features, int out_features, bool use_bias = true)
        : in_features(in_features), out_features(out_features) {
        if (in_features < 1 || out_features < 1)
            throw std::invalid_argument("Linear(" + std::to_string(in_features) + ", " + std::to_string(out_features) +
                                        "): sizes must be >= 1");
        float bound = 1.0f / std::sqrt(static_cast<float>(in_features));
        weight = Var(rand_uniform({out_features, in_features}, -bound, bound));
        register_parameter("weight", weight);
        if (use_bias) {
            bias = Var(rand_uniform({out_features}, -bound, bound));
            register_parameter("bias", bias);
        }
    }
    Var forward(const Var& x) override { return linear(x, weight, bias); }
    std::string name() const override {
        return "Linear(" + std::to_string(in_features) + ", " + std::to_string(out_features) +
               (bias.defined() ? ")" : ", bias=false)");
    }
    int in_features, out_features;
    Var weight, bias;  // (out, in), (out) or undefined
};

}  // namespace nn
}  // namespace minigan
