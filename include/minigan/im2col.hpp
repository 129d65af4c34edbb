// im2col.hpp - a convolution as one matrix multiply: im2col, col2im and their bookkeeping.
//
// Read ops.hpp and blas.hpp first. A convolution is a matrix multiply in disguise: im2col
// copies every k x k patch of the input into a column, so that
//     y[o, position] = sum_r W[o, r] * col[r, position],   r = (c*k + u)*k + v,
// i.e. Y = W * col, one GEMM. col2im is the reverse (a scatter-add of columns back into the
// image); it gives the input gradient of a convolution, and the forward of a transposed
// convolution. To keep the GEMMs large (fast), the whole batch goes into one col matrix:
// column index = n * positions + position. Loops over the batch run in parallel (for_each_image).
// conv.hpp builds conv2d and conv_transpose2d from these pieces.
#pragma once

#include "autograd.hpp"
#include "dispatch.hpp"
#include "parallel.hpp"

#ifndef MINIGAN_REFERENCE
#include "fast/channel_bias.hpp"     // fast::add_channel_bias, fast::channel_bias_grad: vectorised, split
#include "fast/parallel_chunks.hpp"  // fast::parallel_items: the batch's images on a step's team
#endif

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
    // EXERCISE E05 begin
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
    // EXERCISE E05 end
}

// col2im: the adjoint of im2col. image (C, H, W) += every column entry added back at the
// pixel it was copied from (pixels read by several patches collect several contributions).
inline void col2im(const float* col, size_t ld, size_t offset, const ConvGeometry& g, float* image) {
    // EXERCISE E06 begin
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
    // EXERCISE E06 end
}

// body(n) for every image n of a batch, the images split over the threads: OpenMP's, or on the
// fast path the pieces of a training step's team when one runs (fast/team.hpp), at least
// `floats_per_image` floats of work an image deciding how many images a thread must get.
template <class Body>
inline void for_each_image(int N, size_t floats_per_image, Body&& body) {
#ifndef MINIGAN_REFERENCE
    if (fast_path())
        return fast::parallel_items(N, floats_per_image, [&](size_t first, size_t last) {
            for (size_t n = first; n < last; ++n) body(static_cast<int>(n));
        });
#endif
    (void)floats_per_image;
    MINIGAN_PARALLEL_FOR
    for (int n = 0; n < N; ++n) body(n);
}

// The whole batch: x (N, C, H, W) -> col (C*k*k, N*Ho*Wo).
inline void batch_im2col(const float* x, int N, const ConvGeometry& g, float* col) {
    const size_t P = g.positions(), image_size = static_cast<size_t>(g.channels) * g.height * g.width;
    for_each_image(N, g.patch_size() * P, [&](int n) { im2col(x + n * image_size, g, col, N * P, n * P); });
}

// The whole batch: col (C*k*k, N*Ho*Wo) -> image (N, C, H, W), added into `image`.
inline void batch_col2im(const float* col, int N, const ConvGeometry& g, float* image) {
    const size_t P = g.positions(), image_size = static_cast<size_t>(g.channels) * g.height * g.width;
    for_each_image(N, g.patch_size() * P, [&](int n) { col2im(col, N * P, n * P, g, image + n * image_size); });
}

// (A, N, P) <-> (N, A, P): the GEMMs work on "channel-major" matrices (A, N*P) while tensors
// are batch-major (N, A, P). These two copies move between the layouts.
inline void batch_major_to_channel_major(const float* src, int N, int A, size_t P, float* dst) {
    for_each_image(N, A * P, [&](int n) {
        for (int a = 0; a < A; ++a)
            std::copy(src + (static_cast<size_t>(n) * A + a) * P, src + (static_cast<size_t>(n) * A + a + 1) * P,
                      dst + (static_cast<size_t>(a) * N + n) * P);
    });
}
inline void channel_major_to_batch_major(const float* src, int N, int A, size_t P, float* dst) {
    for_each_image(N, A * P, [&](int n) {
        for (int a = 0; a < A; ++a)
            std::copy(src + (static_cast<size_t>(a) * N + n) * P, src + (static_cast<size_t>(a) * N + n + 1) * P,
                      dst + (static_cast<size_t>(n) * A + a) * P);
    });
}

// dst (N, A, P) += src (A, N, P): for gradients, which accumulate.
inline void add_channel_major_to_batch_major(const float* src, int N, int A, size_t P, float* dst) {
    for_each_image(N, A * P, [&](int n) {
        for (int a = 0; a < A; ++a) {
            const float* from = src + (static_cast<size_t>(a) * N + n) * P;
            float* to = dst + (static_cast<size_t>(n) * A + a) * P;
            for (size_t q = 0; q < P; ++q) to[q] += from[q];
        }
    });
}

// ---- shared by conv2d and conv_transpose2d -----------------------------------------------

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

// The bias of a convolution, one number per output channel, and its gradient.
// y: (N, O, plane):  y[n, o, q] += b[o]          db[o] += sum over n and q of dy[n, o, q]
inline void add_channel_bias(float* y, const float* b, int N, int O, size_t plane) {
#ifndef MINIGAN_REFERENCE
    if (fast_path()) return fast::add_channel_bias(y, b, N, O, plane);
#endif
    for (int n = 0; n < N; ++n)
        for (int o = 0; o < O; ++o) {
            float* row = y + (static_cast<size_t>(n) * O + o) * plane;
            const float bias = b[o];
            for (size_t q = 0; q < plane; ++q) row[q] += bias;
        }
}
inline void channel_bias_grad(const float* dy, int N, int O, size_t plane, float* db) {
#ifndef MINIGAN_REFERENCE
    if (fast_path()) return fast::channel_bias_grad(dy, N, O, plane, db);
#endif
    // EXERCISE E03 begin
    for (int o = 0; o < O; ++o) {
        double acc = 0.0;
        for (int n = 0; n < N; ++n) {
            const float* row = dy + (static_cast<size_t>(n) * O + o) * plane;
            for (size_t q = 0; q < plane; ++q) acc += row[q];
        }
        db[o] += static_cast<float>(acc);
    }
    // EXERCISE E03 end
}

}  // namespace minigan
