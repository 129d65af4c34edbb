// conv.hpp - 2-D convolution and transposed convolution as im2col / col2im + one GEMM.
//
// Read ops.hpp and blas.hpp first. A convolution is a matrix multiply in disguise: im2col
// copies every k x k patch of the input into a column, so that
//     y[o, position] = sum_r W[o, r] * col[r, position],   r = (c*k + u)*k + v,
// i.e. Y = W * col, one GEMM. col2im is the reverse (a scatter-add of columns back into the
// image); it gives the input gradient of a convolution, and the forward of a transposed
// convolution. To keep the GEMMs large (fast), the whole batch goes into one col matrix:
// column index = n * positions + position. Loops over the batch run in parallel (OpenMP).
#pragma once

#include "ops.hpp"
#include "parallel.hpp"

namespace minigan {

// Geometry of one convolution, in the direction "image (H, W) -> grid of patches (Ho, Wo)".
struct ConvGeometry {
    int channels, height, width;  // the image side: (C, H, W)
    int kernel, stride, padding;
    int out_h, out_w;             // the patch grid: (Ho, Wo)
    int patch_size() const { return channels * kernel * kernel; }  // rows of col: C*k*k
    int positions() const { return out_h * out_w; }                 // columns per image: Ho*Wo
};

// Ho = floor((H + 2p - k) / s) + 1 for a convolution reading an (H, W) image.
inline ConvGeometry conv_geometry(int C, int H, int W, int k, int s, int p) {
    if (k < 1 || s < 1 || p < 0)
        throw std::invalid_argument("conv: invalid kernel " + std::to_string(k) + ", stride " +
                                    std::to_string(s) + " or padding " + std::to_string(p) +
                                    " (need kernel >= 1, stride >= 1, padding >= 0)");
    if (H + 2 * p < k || W + 2 * p < k)
        throw std::invalid_argument("conv: kernel " + std::to_string(k) + " larger than padded input " +
                                    std::to_string(H + 2 * p) + "x" + std::to_string(W + 2 * p));
    return {C, H, W, k, s, p, (H + 2 * p - k) / s + 1, (W + 2 * p - k) / s + 1};
}

// Output positions j (0 <= j < out_size) whose input index j*s - p + offset lies inside
// [0, size): they form one range [first, last). Computing it once per row keeps the
// bounds test out of the innermost loops of im2col and col2im.
inline void inside_range(int size, int out_size, int stride, int padding, int offset, int& first, int& last) {
    int lo = padding - offset;               // need j*s >= lo
    first = lo > 0 ? (lo + stride - 1) / stride : 0;
    int hi = size - 1 + padding - offset;    // need j*s <= hi
    last = hi < 0 ? 0 : std::min(out_size, hi / stride + 1);
    if (first > last) first = last;
}

// im2col for image n of a batch. image: (C, H, W). Writes col[r, offset + position] for
// r = (c*k + u)*k + v, in a col matrix whose rows are `ld` long: (C*k*k, ld), ld = N * Ho*Wo.
//   col[r, offset + i*Wo + j] = image[c, i*s - p + u, j*s - p + v]   (0 outside the image)
inline void im2col(const float* image, const ConvGeometry& g, float* col, size_t ld, size_t offset) {
    const int s = g.stride;
    for (int c = 0; c < g.channels; ++c)
        for (int u = 0; u < g.kernel; ++u)
            for (int v = 0; v < g.kernel; ++v) {
                float* row = col + static_cast<size_t>((c * g.kernel + u) * g.kernel + v) * ld + offset;
                int j0, j1;  // columns j0..j1-1 read inside the image, the rest read padding
                inside_range(g.width, g.out_w, s, g.padding, v, j0, j1);
                for (int i = 0; i < g.out_h; ++i) {
                    float* dst = row + static_cast<size_t>(i) * g.out_w;
                    int h = i * s - g.padding + u;  // input row read by output row i
                    if (h < 0 || h >= g.height) {
                        std::fill(dst, dst + g.out_w, 0.0f);
                        continue;
                    }
                    const float* src = image + (static_cast<size_t>(c) * g.height + h) * g.width;
                    const int w0 = j0 * s - g.padding + v;  // input column read by j0
                    std::fill(dst, dst + j0, 0.0f);
                    for (int j = j0; j < j1; ++j) dst[j] = src[w0 + (j - j0) * s];
                    std::fill(dst + j1, dst + g.out_w, 0.0f);
                }
            }
}

// col2im: the adjoint of im2col. image (C, H, W) += every column entry added back at the
// pixel it was copied from (pixels read by several patches collect several contributions).
inline void col2im(const float* col, size_t ld, size_t offset, const ConvGeometry& g, float* image) {
    const int s = g.stride;
    for (int c = 0; c < g.channels; ++c)
        for (int u = 0; u < g.kernel; ++u)
            for (int v = 0; v < g.kernel; ++v) {
                const float* row = col + static_cast<size_t>((c * g.kernel + u) * g.kernel + v) * ld + offset;
                int j0, j1;
                inside_range(g.width, g.out_w, s, g.padding, v, j0, j1);
                for (int i = 0; i < g.out_h; ++i) {
                    int h = i * s - g.padding + u;
                    if (h < 0 || h >= g.height) continue;
                    const float* src = row + static_cast<size_t>(i) * g.out_w;
                    float* dst = image + (static_cast<size_t>(c) * g.height + h) * g.width;
                    const int w0 = j0 * s - g.padding + v;
                    for (int j = j0; j < j1; ++j) dst[w0 + (j - j0) * s] += src[j];
                }
            }
}

// Big temporary matrices (the im2col columns, up to tens of MB) are reused from call to call
// instead of being allocated and zeroed each time: a fresh buffer that size costs a page fault
// per 4 KB touched. Each slot is one buffer; an op uses different slots for buffers that are
// alive at the same time. (thread_local: two threads training two models do not collide.)
enum ScratchSlot { kColumns = 0, kChannelMajor = 1, kChannelMajor2 = 2 };
inline float* scratch(ScratchSlot slot, size_t count) {
    static thread_local std::vector<float> buffers[3];
    std::vector<float>& b = buffers[slot];
    if (b.size() < count) b.resize(count);
    return b.data();
}

// The whole batch: x (N, C, H, W) -> col (C*k*k, N*Ho*Wo).
inline void batch_im2col(const float* x, int N, const ConvGeometry& g, float* col) {
    const size_t P = g.positions(), image_size = static_cast<size_t>(g.channels) * g.height * g.width;
    MINIGAN_PARALLEL_FOR
    for (int n = 0; n < N; ++n) im2col(x + n * image_size, g, col, N * P, n * P);
}

// The whole batch: col (C*k*k, N*Ho*Wo) -> image (N, C, H, W), added into `image`.
inline void batch_col2im(const float* col, int N, const ConvGeometry& g, float* image) {
    const size_t P = g.positions(), image_size = static_cast<size_t>(g.channels) * g.height * g.width;
    MINIGAN_PARALLEL_FOR
    for (int n = 0; n < N; ++n) col2im(col, N * P, n * P, g, image + n * image_size);
}

// (A, N, P) <-> (N, A, P): the GEMMs work on "channel-major" matrices (A, N*P) while tensors
// are batch-major (N, A, P). These two copies move between the layouts.
inline void batch_major_to_channel_major(const float* src, int N, int A, size_t P, float* dst) {
    MINIGAN_PARALLEL_FOR
    for (int n = 0; n < N; ++n)
        for (int a = 0; a < A; ++a)
            std::copy(src + (static_cast<size_t>(n) * A + a) * P, src + (static_cast<size_t>(n) * A + a + 1) * P,
                      dst + (static_cast<size_t>(a) * N + n) * P);
}
inline void channel_major_to_batch_major(const float* src, int N, int A, size_t P, float* dst) {
    MINIGAN_PARALLEL_FOR
    for (int n = 0; n < N; ++n)
        for (int a = 0; a < A; ++a)
            std::copy(src + (static_cast<size_t>(a) * N + n) * P, src + (static_cast<size_t>(a) * N + n + 1) * P,
                      dst + (static_cast<size_t>(n) * A + a) * P);
}

// dst (N, A, P) += src (A, N, P): for gradients, which accumulate.
inline void add_channel_major_to_batch_major(const float* src, int N, int A, size_t P, float* dst) {
    MINIGAN_PARALLEL_FOR
    for (int n = 0; n < N; ++n)
        for (int a = 0; a < A; ++a) {
            const float* from = src + (static_cast<size_t>(a) * N + n) * P;
            float* to = dst + (static_cast<size_t>(n) * A + a) * P;
            for (size_t q = 0; q < P; ++q) to[q] += from[q];
        }
}

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

// ---- conv2d ----------------------------------------------------------------------------
// x: (N, C, H, W), weight: (O, C, k, k), bias: (O) or undefined.  y: (N, O, Ho, Wo)
// y[n, o, i, j] = b[o] + sum_{c,u,v} x[n, c, i*s - p + u, j*s - p + v] * w[o, c, u, v]
inline Var conv2d(const Var& x, const Var& weight, const Var& bias, int stride, int padding) {
    check_conv_input("conv2d", x, weight, 1);
    const int N = x.shape()[0], O = weight.shape()[0], k = weight.shape()[2];
    if (bias.defined() && bias.shape() != Shape{O})
        throw std::invalid_argument("conv2d: bias must be (" + std::to_string(O) + ",), got " + shape_str(bias.shape()));
    const ConvGeometry g = conv_geometry(x.shape()[1], x.shape()[2], x.shape()[3], k, stride, padding);
    const int R = g.patch_size(), P = g.positions();
    const size_t NP = static_cast<size_t>(N) * P;
    float* col = scratch(kColumns, R * NP);             // (C*k*k, N*P)
    batch_im2col(x.value().ptr(), N, g, col);
    float* y_cm = scratch(kChannelMajor, O * NP);       // channel-major result (O, N*P)
    gemm(false, false, O, N * P, R, 1.0f, weight.value().ptr(), R, col, N * P, 0.0f, y_cm, N * P);
    Tensor y({N, O, g.out_h, g.out_w});
    channel_major_to_batch_major(y_cm, N, O, P, y.ptr());
    if (bias.defined())
        for (int n = 0; n < N; ++n)
            for (int o = 0; o < O; ++o)
                for (int q = 0; q < P; ++q) y[(static_cast<size_t>(n) * O + o) * P + q] += bias.value()[o];
    // Backward needs x and weight (kept as parents) and the geometry; col is rebuilt from x
    // rather than kept, which saves memory (tens of MB per layer at batch 64).
    std::vector<Var> parents{x, weight};
    if (bias.defined()) parents.push_back(bias);
    return make_result(std::move(y), parents, [g, N, O, R, P, NP](Node& out) {
        const Tensor& x = out.parents[0]->value;
        const Tensor& w = out.parents[1]->value;
        float* dy_cm = scratch(kChannelMajor, O * NP);  // dy in channel-major layout (O, N*P)
        batch_major_to_channel_major(out.grad.ptr(), N, O, P, dy_cm);
        if (Tensor* dw = parent_grad(out, 1)) {        // dW (O, R) += dY (O, N*P) * col^T (N*P, R)
            float* col = scratch(kColumns, R * NP);
            batch_im2col(x.ptr(), N, g, col);
            gemm(false, true, O, R, N * P, 1.0f, dy_cm, N * P, col, N * P, 1.0f, dw->ptr(), R);
        }
        if (out.parents.size() > 2)
            if (Tensor* db = parent_grad(out, 2))      // db[o] += sum over n and positions of dy
                for (int o = 0; o < O; ++o) {
                    double acc = 0.0;
                    for (size_t q = 0; q < NP; ++q) acc += dy_cm[o * NP + q];
                    (*db)[o] += static_cast<float>(acc);
                }
        if (Tensor* dx = parent_grad(out, 0)) {        // dcol (R, N*P) = W^T (R, O) * dY (O, N*P)
            float* dcol = scratch(kColumns, R * NP);
            gemm(true, false, R, N * P, O, 1.0f, w.ptr(), R, dy_cm, N * P, 0.0f, dcol, N * P);
            batch_col2im(dcol, N, g, dx->ptr());       // dx += col2im(dcol)
        }
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
    const int R = g.patch_size(), P = H * W;
    const size_t NP = static_cast<size_t>(N) * P;
    float* x_cm = scratch(kChannelMajor, C * NP);      // x in channel-major layout (C, N*H*W)
    batch_major_to_channel_major(x.value().ptr(), N, C, P, x_cm);
    float* col = scratch(kColumns, R * NP);            // col (O*k*k, N*P) = W^T (R, C) * x (C, N*P)
    gemm(true, false, R, N * P, C, 1.0f, weight.value().ptr(), R, x_cm, N * P, 0.0f, col, N * P);
    Tensor y({N, O, Ho, Wo});
    batch_col2im(col, N, g, y.ptr());
    if (bias.defined()) {
        size_t plane = static_cast<size_t>(Ho) * Wo;
        for (int n = 0; n < N; ++n)
            for (int o = 0; o < O; ++o)
                for (size_t q = 0; q < plane; ++q) y[(static_cast<size_t>(n) * O + o) * plane + q] += bias.value()[o];
    }
    std::vector<Var> parents{x, weight};
    if (bias.defined()) parents.push_back(bias);
    return make_result(std::move(y), parents, [g, N, C, O, R, P, NP](Node& out) {
        const Tensor& w = out.parents[1]->value;
        float* dcol = scratch(kColumns, R * NP);       // dcol (O*k*k, N*P): patches of dy
        batch_im2col(out.grad.ptr(), N, g, dcol);
        if (Tensor* dw = parent_grad(out, 1)) {        // dW (C, R) += x (C, N*P) * dcol^T (N*P, R)
            float* x_cm = scratch(kChannelMajor, C * NP);
            batch_major_to_channel_major(out.parents[0]->value.ptr(), N, C, P, x_cm);
            gemm(false, true, C, R, N * P, 1.0f, x_cm, N * P, dcol, N * P, 1.0f, dw->ptr(), R);
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
        if (Tensor* dx = parent_grad(out, 0)) {        // dx (C, N*P) = W (C, R) * dcol (R, N*P)
            float* dx_cm = scratch(kChannelMajor2, C * NP);
            gemm(false, false, C, N * P, R, 1.0f, w.ptr(), R, dcol, N * P, 0.0f, dx_cm, N * P);
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
