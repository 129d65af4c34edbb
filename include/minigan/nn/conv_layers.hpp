// nn/conv_layers.hpp - Conv2d and ConvTranspose2d modules around the ops in conv.hpp.
//
// Read conv.hpp first (the math lives there); these classes only own the weights.
// Weights: Conv2d (out, in, k, k); ConvTranspose2d (in, out, k, k), both PyTorch's layouts.
#pragma once

#include "../conv.hpp"
#include "module.hpp"

namespace minigan::nn {

class Conv2d : public Module {
public:
    // PyTorch's default init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in * k * k.
    Conv2d(int in_channels, int out_channels, int kernel_size, int stride = 1, int padding = 0, bool use_bias = true)
        : in_channels(in_channels), out_channels(out_channels), kernel_size(kernel_size), stride(stride), padding(padding) {
        if (in_channels < 1 || out_channels < 1 || kernel_size < 1 || stride < 1 || padding < 0)
            throw std::invalid_argument("Conv2d: invalid arguments in " + name());
        float bound = 1.0f / std::sqrt(static_cast<float>(in_channels * kernel_size * kernel_size));
        weight = Var(rand_uniform({out_channels, in_channels, kernel_size, kernel_size}, -bound, bound));
        register_parameter("weight", weight);
        if (use_bias) {
            bias = Var(rand_uniform({out_channels}, -bound, bound));
            register_parameter("bias", bias);
        }
    }
    Var forward(const Var& x) override { return conv2d(x, weight, bias, stride, padding); }
    std::string name() const override {
        return "Conv2d(" + std::to_string(in_channels) + ", " + std::to_string(out_channels) + ", k=" +
               std::to_string(kernel_size) + ", s=" + std::to_string(stride) + ", p=" + std::to_string(padding) +
               (bias.defined() ? ")" : ", bias=false)");
    }
    int in_channels, out_channels, kernel_size, stride, padding;
    Var weight, bias;
};

class ConvTranspose2d : public Module {
public:
    // PyTorch computes fan_in from weight.size(1) * k * k = out * k * k for this layer.
    ConvTranspose2d(int in_channels, int out_channels, int kernel_size, int stride = 1, int padding = 0,
                    int output_padding = 0, bool use_bias = true)
        : in_channels(in_channels), out_channels(out_channels), kernel_size(kernel_size), stride(stride),
          padding(padding), output_padding(output_padding) {
        if (in_channels < 1 || out_channels < 1 || kernel_size < 1 || stride < 1 || padding < 0 ||
            output_padding < 0 || output_padding >= stride)
            throw std::invalid_argument("ConvTranspose2d: invalid arguments in " + name() +
                                        " (output_padding must be < stride)");
        float bound = 1.0f / std::sqrt(static_cast<float>(out_channels * kernel_size * kernel_size));
        weight = Var(rand_uniform({in_channels, out_channels, kernel_size, kernel_size}, -bound, bound));
        register_parameter("weight", weight);
        if (use_bias) {
            bias = Var(rand_uniform({out_channels}, -bound, bound));
            register_parameter("bias", bias);
        }
    }
    Var forward(const Var& x) override { return conv_transpose2d(x, weight, bias, stride, padding, output_padding); }
    std::string name() const override {
        return "ConvTranspose2d(" + std::to_string(in_channels) + ", " + std::to_string(out_channels) + ", k=" +
               std::to_string(kernel_size) + ", s=" + std::to_string(stride) + ", p=" + std::to_string(padding) +
               ", op=" + std::to_string(output_padding) + (bias.defined() ? ")" : ", bias=false)");
    }
    int in_channels, out_channels, kernel_size, stride, padding, output_padding;
    Var weight, bias;
};

}  // namespace minigan::nn
