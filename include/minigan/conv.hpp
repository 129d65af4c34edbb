// conv.hpp - 2-D convolution and transposed convolution, forward and backward.
//
// Read im2col.hpp first. A convolution is one GEMM on the im2col matrix of the whole batch
// (R = C*k*k rows, N*P columns, P = positions per image):
//   conv2d:            Y (O, N*P) = W (O, R) * im2col(x) (R, N*P)
//     backward:        dW += dY * im2col(x)^T        dx += col2im(W^T * dY)
//   conv_transpose2d:  y = col2im(W^T * x)           (conv2d's input gradient, used as a forward)
//     backward:        dW += x * im2col(dy)^T        dx += W * im2col(dy)
// The naive loops at the end are the same definitions as plain sums; test_conv holds the GEMM
// forms to them. On the fast path big layers take fast/conv_taps.hpp instead (the dispatch
// point at the top of each op). The work matrices are allocated per call (work_buffer() below).
#pragma once

#include <memory>

#include "blas.hpp"
#include "dispatch.hpp"
#include "im2col.hpp"

#ifndef MINIGAN_REFERENCE
#include "fast/conv_taps.hpp"  // fast::tap_conv: one GEMM per kernel tap, for big layers
#endif

namespace minigan {

// ---- the two products of the im2col path ----------------------------------------------------
// Every product below has one of two shapes. Naming them keeps conv2d and conv_transpose2d
// short, and gives the OpenCL backend (backend/opencl.hpp) one place to build the columns on
// the device instead of sending them there.
//   gemm_im2col:  C = op(A) * op(im2col(x)) + beta * C
//     trans_col false: A (M, R),   C (M, N*P)   e.g. Y = W * im2col(x)
//     trans_col true:  A (M, N*P), C (M, R)     e.g. dW += dY * im2col(x)^T
//   col2im_gemm:  image += col2im(A^T * B), A (K, R), B (K, N*P)   e.g. dx += col2im(W^T * dY)
#ifdef MINIGAN_OPENCL
// The device's copy of the geometry (backend/opencl.hpp cannot see ConvGeometry: it is included
// before im2col.hpp), with the batch size.
inline opencl::Patches device_patches(const ConvGeometry& g, int N) {
    return {N, g.channels, g.height, g.width, g.kernel, g.stride, g.padding, g.out_h, g.out_w};
}
#endif

// A work matrix of n floats, not initialised: each one below is entirely written (by im2col, or by
// a GEMM with beta = 0) before it is read, so zeroing it first would be wasted work.
inline std::unique_ptr<float[]> work_buffer(size_t n) { return std::unique_ptr<float[]>(new float[n]); }

inline void gemm_im2col(bool trans_col, int M, const float* A, const float* x, int N, const ConvGeometry& g, float beta,
                        float* C) {
    const int R = g.patch_size(), NP = N * g.positions();
#ifdef MINIGAN_OPENCL
    if (trans_col ? on_device(M, R, NP) : on_device(M, NP, R)) {
        opencl::Device::get().gemm_im2col(trans_col, M, A, x, device_patches(g, N), beta, C);
        return;
    }
#endif
    auto col = work_buffer(static_cast<size_t>(R) * NP);  // im2col(x): (R, N*P)
    batch_im2col(x, N, g, col.get());
    if (trans_col) gemm(false, true, M, R, NP, 1.0f, A, NP, col.get(), NP, beta, C, R);
    else gemm(false, false, M, NP, R, 1.0f, A, R, col.get(), NP, beta, C, NP);
}

inline void col2im_gemm(int K, const float* A, const float* B, int N, const ConvGeometry& g, float* image) {
    const int R = g.patch_size(), NP = N * g.positions();
#ifdef MINIGAN_OPENCL
    if (on_device(R, NP, K)) {
        opencl::Device::get().col2im_gemm(K, A, B, device_patches(g, N), image);
        return;
    }
#endif
    auto col = work_buffer(static_cast<size_t>(R) * NP);  // (R, N*P) = A^T (R, K) * B (K, N*P)
    gemm(true, false, R, NP, K, 1.0f, A, R, B, NP, 0.0f, col.get(), NP);
    batch_col2im(col.get(), N, g, image);
}

// ---- conv2d ----------------------------------------------------------------------------
// x: (N, C, H, W), weight: (O, C, k, k), bias: (O) or undefined.  y: (N, O, Ho, Wo)
// y[n, o, i, j] = b[o] + sum_{c,u,v} x[n, c, i*s - p + u, j*s - p + v] * w[o, c, u, v]
inline Var conv2d(const Var& x, const Var& weight, const Var& bias, int stride, int padding) {
    check_conv_input("conv2d", x, weight, 1);
    const int N = x.shape()[0], O = weight.shape()[0], k = weight.shape()[2];
    if (bias.defined() && bias.shape() != Shape{O})
        throw std::invalid_argument("conv2d: bias must be (" + std::to_string(O) + ",), got " + shape_str(bias.shape()));
    const ConvGeometry g = conv_geometry(x.shape()[1], x.shape()[2], x.shape()[3], k, stride, padding);
    std::vector<Var> parents{x, weight};
    if (bias.defined()) parents.push_back(bias);
#ifndef MINIGAN_REFERENCE
    if (fast_path() && fast::use_tap_gemms(N, g.out_w, g.channels, O))
        return fast::tap_conv({N, g.channels, O, k, stride, padding, g.out_h, g.out_w, g.height, g.width, false}, x,
                              weight, bias, parents);
#endif
    const int P = g.positions();  // R = g.patch_size() rows of im2col(x)
    const size_t NP = static_cast<size_t>(N) * P;
    auto y_cm = work_buffer(O * NP);                   // Y (O, N*P) = W (O, R) * im2col(x) (R, N*P)
    gemm_im2col(false, O, weight.value().ptr(), x.value().ptr(), N, g, 0.0f, y_cm.get());
    Tensor y({N, O, g.out_h, g.out_w});                // (O, N, P) -> (N, O, P)
    channel_major_to_batch_major(y_cm.get(), N, O, P, y.ptr());
    if (bias.defined()) add_channel_bias(y.ptr(), bias.value().ptr(), N, O, P);
    // Backward needs x and weight (kept as parents) and the geometry; im2col(x) is rebuilt from
    // x rather than kept, which saves memory (tens of MB per layer at batch 64).
    return make_result(std::move(y), parents, [g, N, O, P, NP](Node& out) {
        // EXERCISE E06 begin
        const Tensor& x = out.parents[0]->value;
        const Tensor& w = out.parents[1]->value;
        auto dy_cm = work_buffer(O * NP);              // dY (O, N*P): dy in channel-major layout
        batch_major_to_channel_major(out.grad.ptr(), N, O, P, dy_cm.get());
        if (Tensor* dw = parent_grad(out, 1))          // dW (O, R) += dY (O, N*P) * im2col(x)^T (N*P, R)
            gemm_im2col(true, O, dy_cm.get(), x.ptr(), N, g, 1.0f, dw->ptr());
        if (out.parents.size() > 2)
            if (Tensor* db = parent_grad(out, 2))      // db[o] += sum over n and positions of dy
                channel_bias_grad(out.grad.ptr(), N, O, P, db->ptr());
        if (Tensor* dx = parent_grad(out, 0))          // dx += col2im(W^T (R, O) * dY (O, N*P))
            col2im_gemm(O, w.ptr(), dy_cm.get(), N, g, dx->ptr());
        // EXERCISE E06 end
    });
}

// ---- conv_transpose2d --------------------------------------------------------------------
// x: (N, C, H, W), weight: (C, O, k, k) (PyTorch's layout), bias: (O) or undefined.
// Scatter form: y[n, o, i*s - p + u, j*s - p + v] += x[n, c, i, j] * w[c, o, u, v], then + b[o].
// Ho = (H - 1)*s - 2p + k + output_padding.  It is exactly the input-gradient of conv2d:
// col (O*k*k, N*H*W) = W^T * x, then col2im onto the (O, Ho, Wo) output.
inline Var conv_transpose2d(const Var& x, const Var& weight, const Var& bias, int stride, int padding,
                            int output_padding = 0) {
    check_conv_input("conv_transpose2d", x, weight, 0);
    if (stride < 1 || padding < 0 || output_padding < 0 || output_padding >= stride)
        throw std::invalid_argument("conv_transpose2d: invalid stride " + std::to_string(stride) + ", padding " +
                                    std::to_string(padding) + " or output_padding " + std::to_string(output_padding) +
                                    " (need stride >= 1, padding >= 0, 0 <= output_padding < stride)");
    const int N = x.shape()[0], C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
    const int O = weight.shape()[1], k = weight.shape()[2];
    if (bias.defined() && bias.shape() != Shape{O})
        throw std::invalid_argument("conv_transpose2d: bias must be (" + std::to_string(O) + ",), got " +
                                    shape_str(bias.shape()));
    // EXERCISE E07 begin
    const int Ho = (H - 1) * stride - 2 * padding + k + output_padding;
    const int Wo = (W - 1) * stride - 2 * padding + k + output_padding;
    if (Ho < 1 || Wo < 1)
        throw std::invalid_argument("conv_transpose2d: output would be " + std::to_string(Ho) + "x" + std::to_string(Wo));
    // The geometry of the convolution this is the transpose of: image = our output (O, Ho, Wo),
    // patch grid = our input (H, W).
    const ConvGeometry g{O, Ho, Wo, k, stride, padding, H, W};
    std::vector<Var> parents{x, weight};
    if (bias.defined()) parents.push_back(bias);
#ifndef MINIGAN_REFERENCE
    if (fast_path() && fast::use_tap_gemms(N, W, C, O))
        return fast::tap_conv({N, C, O, k, stride, padding, H, W, Ho, Wo, true}, x, weight, bias, parents);
#endif
    const int P = H * W;  // R = g.patch_size() = O*k*k rows of the columns
    const size_t NP = static_cast<size_t>(N) * P;
    auto x_cm = work_buffer(C * NP);                   // x in channel-major layout (C, N*H*W)
    batch_major_to_channel_major(x.value().ptr(), N, C, P, x_cm.get());
    Tensor y({N, O, Ho, Wo});                          // y = col2im(W^T (R, C) * x (C, N*P))
    col2im_gemm(C, weight.value().ptr(), x_cm.get(), N, g, y.ptr());
    if (bias.defined()) add_channel_bias(y.ptr(), bias.value().ptr(), N, O, static_cast<size_t>(Ho) * Wo);
    return make_result(std::move(y), parents, [g, N, C, O, P, NP](Node& out) {
        const Tensor& w = out.parents[1]->value;       // below, im2col(dy): the (O*k*k, N*P) patches of dy
        if (Tensor* dw = parent_grad(out, 1)) {        // dW (C, R) += x (C, N*P) * im2col(dy)^T (N*P, R)
            auto x_cm = work_buffer(C * NP);
            batch_major_to_channel_major(out.parents[0]->value.ptr(), N, C, P, x_cm.get());
            gemm_im2col(true, C, x_cm.get(), out.grad.ptr(), N, g, 1.0f, dw->ptr());
        }
        if (out.parents.size() > 2)
            if (Tensor* db = parent_grad(out, 2))      // db[o] += sum over n and y's pixels of dy
                channel_bias_grad(out.grad.ptr(), N, O, static_cast<size_t>(g.height) * g.width, db->ptr());
        if (Tensor* dx = parent_grad(out, 0)) {        // dx (C, N*P) = W (C, R) * im2col(dy) (R, N*P)
            auto dx_cm = work_buffer(C * NP);
            gemm_im2col(false, C, w.ptr(), out.grad.ptr(), N, g, 0.0f, dx_cm.get());
            add_channel_major_to_batch_major(dx_cm.get(), N, C, P, dx->ptr());
        }
    });
    // EXERCISE E07 end
}

// ---- naive loops: the definitions written out (test_conv holds the GEMM forms above to them) ----
// Direct loops over the definitions: y[n,o,i,j] = b[o] + sum x[n,c,i*s-p+u, j*s-p+v] w[o,c,u,v].
inline Tensor conv2d_naive(const Tensor& x, const Tensor& w, const Tensor* b, int s, int p) {
    int N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3], O = w.shape[0], k = w.shape[2];
    ConvGeometry g = conv_geometry(C, H, W, k, s, p);
    Tensor y({N, O, g.out_h, g.out_w});
    for (int n = 0; n < N; ++n)
        for (int o = 0; o < O; ++o)
            for (int i = 0; i < g.out_h; ++i)
                for (int j = 0; j < g.out_w; ++j) {
                    double acc = b ? (*b)[o] : 0.0;
                    for (int c = 0; c < C; ++c)
                        for (int u = 0; u < k; ++u)
                            for (int v = 0; v < k; ++v) {
                                int h = i * s - p + u, ww = j * s - p + v;
                                if (h >= 0 && h < H && ww >= 0 && ww < W)
                                    acc += x[((n * C + c) * H + h) * W + ww] * w[((o * C + c) * k + u) * k + v];
                            }
                    y[((n * O + o) * g.out_h + i) * g.out_w + j] = static_cast<float>(acc);
                }
    return y;
}

// Scatter form: y[n, o, i*s-p+u, j*s-p+v] += x[n,c,i,j] * w[c,o,u,v] (outside pixels dropped).
inline Tensor conv_transpose2d_naive(const Tensor& x, const Tensor& w, const Tensor* b, int s, int p, int op) {
    int N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3], O = w.shape[1], k = w.shape[2];
    int Ho = (H - 1) * s - 2 * p + k + op, Wo = (W - 1) * s - 2 * p + k + op;
    Tensor y({N, O, Ho, Wo});
    for (int n = 0; n < N; ++n)
        for (int o = 0; o < O; ++o) {
            for (int q = 0; q < Ho * Wo; ++q) y[(n * O + o) * Ho * Wo + q] = b ? (*b)[o] : 0.0f;
            for (int c = 0; c < C; ++c)
                for (int i = 0; i < H; ++i)
                    for (int j = 0; j < W; ++j)
                        for (int u = 0; u < k; ++u)
                            for (int v = 0; v < k; ++v) {
                                int h = i * s - p + u, ww = j * s - p + v;
                                if (h >= 0 && h < Ho && ww >= 0 && ww < Wo)
                                    y[((n * O + o) * Ho + h) * Wo + ww] += x[((n * C + c) * H + i) * W + j] * w[((c * O + o) * k + u) * k + v];
                            }
        }
    return y;
}

}  // namespace minigan
