// conv.hpp - 2-D convolution and transposed convolution, forward and backward.
//
// Read im2col.hpp first: it is the definition (a convolution is one GEMM on the im2col matrix).
// conv2d and conv_transpose2d below run on that path, or, for big layers, on the tap path of
// conv_taps.hpp (one GEMM per kernel tap and row, no col matrix, no products with the padding):
// conv_algorithm() chooses, and test_conv holds both to the naive loops at the end of this file.
#pragma once

#include "blas.hpp"
#include "conv_taps.hpp"
#include "im2col.hpp"

namespace minigan {

inline void check_conv_input(const char* op, const Var& x, const Var& weight, int weight_channels_dim) {
    const Shape& xs = x.shape();
    const Shape& ws = weight.shape();
    if (xs.size() != 4) throw std::invalid_argument(std::string(op) + ": input must be (N, C, H, W), got " + shape_str(xs));
    if (ws.size() != 4 || ws[2] != ws[3])
        throw std::invalid_argument(std::string(op) + ": weight must be 4-D with a square kernel, got " + shape_str(ws));
    if (ws[weight_channels_dim] != xs[1])
        throw std::invalid_argument(std::string(op) + ": input has " + std::to_string(xs[1]) +
                                    " channels but weight " + shape_str(ws) + " expects " +
                                    std::to_string(ws[weight_channels_dim]));
}

// y (N, O, plane) += b[o];  db[o] += sum over n and the plane of dy (N, O, plane).
inline void add_bias_planes(float* y, const float* b, int N, int O, size_t plane) {
    for (int n = 0; n < N; ++n)
        for (int o = 0; o < O; ++o) {
            float* row = y + (static_cast<size_t>(n) * O + o) * plane;
            const float bo = b[o];
            MINIGAN_SIMD
            for (size_t q = 0; q < plane; ++q) row[q] += bo;
        }
}
inline void bias_grad_planes(const float* dy, int N, int O, size_t plane, float* db) {
    for (int o = 0; o < O; ++o) {
        double acc = 0.0;
        for (int n = 0; n < N; ++n) {
            const float* row = dy + (static_cast<size_t>(n) * O + o) * plane;
            MINIGAN_SIMD_SUM(acc)
            for (size_t q = 0; q < plane; ++q) acc += row[q];
        }
        db[o] += static_cast<float>(acc);
    }
}

// conv2d or conv_transpose2d on the tap path (conv_taps.hpp): y = the taps' GEMMs (+ bias), and
// a backward that runs the same GEMMs transposed. parents: x, weight (and bias, if defined).
inline Var tap_path_conv(const TapConv& tc, const Var& x, const Var& weight, const Var& bias, const std::vector<Var>& parents) {
    std::vector<float> taps;
    Tensor y = tc.forward(x.value().ptr(), weight.value().ptr(), taps);
    const size_t plane = y.numel() / (static_cast<size_t>(tc.N) * tc.O);  // output pixels per channel
    if (bias.defined()) add_bias_planes(y.ptr(), bias.value().ptr(), tc.N, tc.O, plane);
    return make_result(std::move(y), parents, [tc, plane, taps = std::move(taps)](Node& out) {
        Tensor* dx = parent_grad(out, 0);
        Tensor* dw = parent_grad(out, 1);
        tc.backward(out.parents[0]->value.ptr(), taps.data(), out.grad.ptr(), dx ? dx->ptr() : nullptr,
                    dw ? dw->ptr() : nullptr);
        if (out.parents.size() > 2)
            if (Tensor* db = parent_grad(out, 2)) bias_grad_planes(out.grad.ptr(), tc.N, tc.O, plane, db->ptr());
    });
}

// ---- the two products of the im2col path ----------------------------------------------------
// Every im2col-path product below has one of two shapes. Naming them keeps conv2d and
// conv_transpose2d short, and gives the OpenCL backend (backend/opencl.hpp) one place to build
// the columns on the device instead of sending them there.
//   gemm_im2col:  C = op(A) * op(im2col(x)) + beta * C
//     trans_col false: A (M, R),   C (M, N*P)   e.g. y = W * im2col(x)
//     trans_col true:  A (M, N*P), C (M, R)     e.g. dW += dY * im2col(x)^T
//   col2im_gemm:  image += col2im(A^T * B), A (K, R), B (K, N*P)   e.g. dx += col2im(W^T * dY)
// with R = C*k*k rows and N*P columns in the column matrix of the N images (im2col.hpp).
#ifdef MINIGAN_OPENCL
// The device's copy of the geometry (backend/opencl.hpp cannot see ConvGeometry: it is included
// before im2col.hpp), with the batch size.
inline opencl::Patches device_patches(const ConvGeometry& g, int N) {
    return {N, g.channels, g.height, g.width, g.kernel, g.stride, g.padding, g.out_h, g.out_w};
}
#endif

inline void gemm_im2col(bool trans_col, int M, const float* A, const float* x, int N, const ConvGeometry& g, float beta,
                        float* C) {
    const int R = g.patch_size(), NP = N * g.positions();
#ifdef MINIGAN_OPENCL
    if (trans_col ? on_device(M, R, NP) : on_device(M, NP, R)) {
        opencl::Device::get().gemm_im2col(trans_col, M, A, x, device_patches(g, N), beta, C);
        return;
    }
#endif
    float* col = scratch(kColumns, static_cast<size_t>(R) * NP);  // (R, N*P)
    batch_im2col(x, N, g, col);
    if (trans_col) gemm(false, true, M, R, NP, 1.0f, A, NP, col, NP, beta, C, R);
    else gemm(false, false, M, NP, R, 1.0f, A, R, col, NP, beta, C, NP);
}

inline void col2im_gemm(int K, const float* A, const float* B, int N, const ConvGeometry& g, float* image) {
    const int R = g.patch_size(), NP = N * g.positions();
#ifdef MINIGAN_OPENCL
    if (on_device(R, NP, K)) {
        opencl::Device::get().col2im_gemm(K, A, B, device_patches(g, N), image);
        return;
    }
#endif
    float* col = scratch(kColumns, static_cast<size_t>(R) * NP);  // (R, N*P) = A^T (R, K) * B (K, N*P)
    gemm(true, false, R, NP, K, 1.0f, A, R, B, NP, 0.0f, col, NP);
    batch_col2im(col, N, g, image);
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
    if (use_tap_gemms(N, g.out_w, g.channels, O)) {  // the tap path (conv_taps.hpp)
        const TapConv tc{N, g.channels, O, k, stride, padding, g.out_h, g.out_w, g.height, g.width, false};
        return tap_path_conv(tc, x, weight, bias, parents);
    }
    const int P = g.positions();  // R = g.patch_size() rows of im2col(x)
    const size_t NP = static_cast<size_t>(N) * P;
    float* y_cm = scratch(kChannelMajor, O * NP);       // channel-major result (O, N*P) = W (O, R) * im2col(x)
    gemm_im2col(false, O, weight.value().ptr(), x.value().ptr(), N, g, 0.0f, y_cm);
    Tensor y({N, O, g.out_h, g.out_w});
    channel_major_to_batch_major(y_cm, N, O, P, y.ptr());
    if (bias.defined()) add_bias_planes(y.ptr(), bias.value().ptr(), N, O, P);
    // Backward needs x and weight (kept as parents) and the geometry; col is rebuilt from x
    // rather than kept, which saves memory (tens of MB per layer at batch 64).
    return make_result(std::move(y), parents, [g, N, O, P, NP](Node& out) {
        const Tensor& x = out.parents[0]->value;
        const Tensor& w = out.parents[1]->value;
        float* dy_cm = scratch(kChannelMajor, O * NP);  // dy in channel-major layout (O, N*P)
        batch_major_to_channel_major(out.grad.ptr(), N, O, P, dy_cm);
        if (Tensor* dw = parent_grad(out, 1))          // dW (O, R) += dY (O, N*P) * im2col(x)^T (N*P, R)
            gemm_im2col(true, O, dy_cm, x.ptr(), N, g, 1.0f, dw->ptr());
        if (out.parents.size() > 2)
            if (Tensor* db = parent_grad(out, 2))      // db[o] += sum over n and positions of dy
                for (int o = 0; o < O; ++o) {
                    double acc = 0.0;
                    const float* row = dy_cm + o * NP;
                    MINIGAN_SIMD_SUM(acc)
                    for (size_t q = 0; q < NP; ++q) acc += row[q];
                    (*db)[o] += static_cast<float>(acc);
                }
        if (Tensor* dx = parent_grad(out, 0))          // dx += col2im(W^T (R, O) * dY (O, N*P))
            col2im_gemm(O, w.ptr(), dy_cm, N, g, dx->ptr());
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
    const int Ho = (H - 1) * stride - 2 * padding + k + output_padding;
    const int Wo = (W - 1) * stride - 2 * padding + k + output_padding;
    if (Ho < 1 || Wo < 1)
        throw std::invalid_argument("conv_transpose2d: output would be " + std::to_string(Ho) + "x" + std::to_string(Wo));
    // The geometry of the convolution this is the transpose of: image = our output (O, Ho, Wo),
    // patch grid = our input (H, W).
    const ConvGeometry g{O, Ho, Wo, k, stride, padding, H, W};
    std::vector<Var> parents{x, weight};
    if (bias.defined()) parents.push_back(bias);
    if (use_tap_gemms(N, W, C, O)) {  // the tap path (conv_taps.hpp)
        const TapConv tc{N, C, O, k, stride, padding, H, W, Ho, Wo, true};
        return tap_path_conv(tc, x, weight, bias, parents);
    }
    const int P = H * W;  // R = g.patch_size() = O*k*k rows of the columns
    const size_t NP = static_cast<size_t>(N) * P;
    float* x_cm = scratch(kChannelMajor, C * NP);      // x in channel-major layout (C, N*H*W)
    batch_major_to_channel_major(x.value().ptr(), N, C, P, x_cm);
    Tensor y({N, O, Ho, Wo});                          // y = col2im(W^T (R, C) * x (C, N*P))
    col2im_gemm(C, weight.value().ptr(), x_cm, N, g, y.ptr());
    if (bias.defined()) add_bias_planes(y.ptr(), bias.value().ptr(), N, O, static_cast<size_t>(Ho) * Wo);
    return make_result(std::move(y), parents, [g, N, C, O, P, NP](Node& out) {
        const Tensor& w = out.parents[1]->value;       // below, im2col(dy): the (O*k*k, N*P) patches of dy
        if (Tensor* dw = parent_grad(out, 1)) {        // dW (C, R) += x (C, N*P) * im2col(dy)^T (N*P, R)
            float* x_cm = scratch(kChannelMajor, C * NP);
            batch_major_to_channel_major(out.parents[0]->value.ptr(), N, C, P, x_cm);
            gemm_im2col(true, C, x_cm, out.grad.ptr(), N, g, 1.0f, dw->ptr());
        }
        if (out.parents.size() > 2)
            if (Tensor* db = parent_grad(out, 2)) {    // db[o] += sum over n, y-pixels of dy
                size_t plane = static_cast<size_t>(g.height) * g.width;
                for (int o = 0; o < O; ++o) {
                    double acc = 0.0;
                    for (int n = 0; n < N; ++n)
                        for (size_t q = 0; q < plane; ++q) acc += out.grad[(static_cast<size_t>(n) * O + o) * plane + q];
                    (*db)[o] += static_cast<float>(acc);
                }
            }
        if (Tensor* dx = parent_grad(out, 0)) {        // dx (C, N*P) = W (C, R) * im2col(dy) (R, N*P)
            float* dx_cm = scratch(kChannelMajor2, C * NP);
            gemm_im2col(false, C, w.ptr(), out.grad.ptr(), N, g, 0.0f, dx_cm);
            add_channel_major_to_batch_major(dx_cm, N, C, P, dx->ptr());
        }
    });
}

// ---- naive references (tests hold the fast paths above to these) -------------------------
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
