// conv.hpp - 2-D convolution and transposed convolution as im2col / col2im + one GEMM.
//
// Read ops.hpp and blas.hpp first. A convolution is a matrix multiply in disguise: im2col
// copies every k x k patch of the input into a column, so that
//     y[o, position] = sum_r W[o, r] * col[r, position],   r = (c*k + u)*k + v,
// i.e. Y = W * col, one GEMM. col2im is the reverse (a scatter-add of columns back into the
// image); it gives the input gradient of a convolution, and the forward of a transposed
// convolution. To keep the GEMMs large (fast), the whole batch goes into one col matrix:
// column index = n * positions + position. Loops over the batch run in parallel (OpenMP).
// Read im2col first: it is the definition. Big layers then take a faster road to the same
// numbers, the "tap path" below (one GEMM per kernel tap and row, no col matrix, no products
// with the padding); conv_algorithm() chooses, and the tests hold both to the naive loops.
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
enum ScratchSlot {
    kColumns = 0, kChannelMajor = 1, kChannelMajor2 = 2,                       // im2col path
    kTapInput = 3, kTapOutput = 4, kTapWeightGrad = 5, kSlotCount = 6                   // tap path (below)
};
inline float* scratch(ScratchSlot slot, size_t count) {
    static thread_local std::vector<float> buffers[kSlotCount];
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

// ---- without im2col: one GEMM per kernel tap and row ------------------------------------------
// Take stride 1 first. Tap (u, v) of the kernel reads the input shifted by a constant (dh, dw):
//     y[o, h, w] += sum_c A_uv[o, c] * x[c, h + dh, w + dw]
// (conv2d: A_uv[o, c] = W[o, c, u, v], shift (u - p, v - p); conv_transpose2d: A_uv[o, c] =
// W[c, o, u, v], shift (p - u, p - v)). Store the images "position-major", (C, H, W, N) with
// the batch innermost: then for one tap and one output row h, the valid columns w0..w1 of every
// image of the batch are one contiguous run of (w1 - w0) * N numbers, in x as in y, and the
// whole tap-row is one GEMM: Y[:, run] += A_uv * X[:, shifted run]. No col matrix is built, and
// the products of the kernel with the zero padding (31 % of a 5x5 kernel on a 7x7 image) are
// never computed.
// Stride s: split the big image (conv2d's input, conv_transpose2d's output) into s*s "phases",
// phase (a, b) = the pixels (s*i + a, s*j + b). Tap (u, v) only meets phase
// ((u - p) mod s, (v - p) mod s), and there it is a stride-1 shift by floor((u - p) / s):
// the same GEMMs on the phase images. The backward passes are the same GEMMs transposed.
// conv_algorithm() picks this path or im2col; test_conv holds both to the naive loops.
enum class ConvAlgorithm { automatic, im2col, tap_gemm };
// automatic: tap GEMMs when a tap-row (a row of the small side, times the batch) is long enough
// (>= 64 numbers) and both channel counts are >= 8, im2col otherwise. With one input or output
// channel (DCGAN's first and last layer) a tap GEMM has an inner dimension of 1: a long stream
// of multiply-adds into memory, while im2col's single GEMM sums over the k*k taps at once.
// Set it to force one path (tests, timing).
inline ConvAlgorithm& conv_algorithm() {
    static ConvAlgorithm algorithm = ConvAlgorithm::automatic;
    return algorithm;
}
inline bool use_tap_gemms(int N, int small_width, int in_channels, int out_channels) {
    ConvAlgorithm a = conv_algorithm();
    return a == ConvAlgorithm::tap_gemm ||
           (a == ConvAlgorithm::automatic && N * small_width >= 64 && std::min(in_channels, out_channels) >= 8);
}

inline int floor_div(int a, int b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// The s*s phases of an (H, W) image: phase (a, b) holds the hp(a) x wp(b) pixels (s*i + a,
// s*j + b), stored as (channels, hp, wp, N); the phases lie one after the other, (a, b) at
// channels * N * offset(a, b) floats. s = 1: one phase, the image itself.
struct Phases {
    int s, H, W;
    int hp(int a) const { return a < H ? (H - a + s - 1) / s : 0; }
    int wp(int b) const { return b < W ? (W - b + s - 1) / s : 0; }
    size_t offset(int a, int b) const {  // pixels in the phases before (a, b)
        size_t rows_before = 0, cols_before = 0;
        for (int i = 0; i < a; ++i) rows_before += hp(i);  // phases (i, *) hold hp(i) x W pixels
        for (int j = 0; j < b; ++j) cols_before += wp(j);
        return rows_before * W + static_cast<size_t>(hp(a)) * cols_before;
    }
};

// (N, C, H, W) batch-major <-> phases, position-major (batch innermost). accumulate: dst +=.
// Each thread takes whole channels and walks a channel's pixels in order, so the N rows of
// src it reads stay in cache. Where pixel q = i*W + j of channel c goes: at[q] + c * stride[q].
struct PhaseMap {
    std::vector<size_t> at, stride;
    PhaseMap(int C, int N, const Phases& ph) : at(static_cast<size_t>(ph.H) * ph.W), stride(at.size()) {
        for (int i = 0; i < ph.H; ++i)
            for (int j = 0; j < ph.W; ++j) {
                const int a = i % ph.s, b = j % ph.s, wp = ph.wp(b);
                const size_t q = static_cast<size_t>(i) * ph.W + j;
                at[q] = (ph.offset(a, b) * C + static_cast<size_t>(i / ph.s) * wp + j / ph.s) * N;
                stride[q] = static_cast<size_t>(ph.hp(a)) * wp * N;
            }
    }
};
inline void to_phases(const float* src, int N, int C, const Phases& ph, float* dst) {
    const size_t plane = static_cast<size_t>(ph.H) * ph.W, image = C * plane;
    const PhaseMap map(C, N, ph);
    parallel_chunks(C, [&](size_t c0, size_t c1) {
        for (size_t c = c0; c < c1; ++c)
            for (size_t q = 0; q < plane; ++q) {
                float* to = dst + map.at[q] + c * map.stride[q];
                const float* from = src + c * plane + q;
                for (int n = 0; n < N; ++n) to[n] = from[n * image];
            }
    }, std::max<size_t>(1, 32768 / std::max<size_t>(1, plane * N)));
}
inline void from_phases(const float* src, int N, int C, const Phases& ph, float* dst, bool accumulate) {
    const size_t plane = static_cast<size_t>(ph.H) * ph.W, image = C * plane;
    const PhaseMap map(C, N, ph);
    parallel_chunks(C, [&](size_t c0, size_t c1) {
        for (size_t c = c0; c < c1; ++c)
            for (size_t q = 0; q < plane; ++q) {
                const float* from = src + map.at[q] + c * map.stride[q];
                float* to = dst + c * plane + q;
                if (accumulate)
                    for (int n = 0; n < N; ++n) to[n * image] += from[n];
                else
                    for (int n = 0; n < N; ++n) to[n * image] = from[n];
            }
    }, std::max<size_t>(1, 32768 / std::max<size_t>(1, plane * N)));
}

// The k*k matrices A_uv (O, C), tap t = u*k + v at taps + t*O*C, from a conv2d weight (O, C, k, k)
// or (transposed_layout) a conv_transpose2d weight (C, O, k, k). tap_weights_add_back is the
// reverse for gradients: w += the taps, in the weight's own layout. Both walk 16 x 16 blocks
// of (o, c), so the k*k rows written and the rows read stay in cache (a plain loop over a
// (C, O, ...) weight strides through megabytes).
// Threads take disjoint ranges of o (whole blocks), so both directions can run in parallel.
template <class Copy>
inline void for_tap_weight_blocks(int O, int C, int k, bool transposed_layout, Copy copy) {
    const size_t kk = static_cast<size_t>(k) * k;
    parallel_chunks(static_cast<size_t>(O), [&](size_t first, size_t last) {
        for (int o0 = static_cast<int>(first); o0 < static_cast<int>(last); o0 += 16)
            for (int c0 = 0; c0 < C; c0 += 16)
                for (int o = o0; o < std::min(static_cast<int>(last), o0 + 16); ++o)
                    for (int c = c0; c < std::min(C, c0 + 16); ++c) {
                        const size_t w_at =
                            (transposed_layout ? static_cast<size_t>(c) * O + o : static_cast<size_t>(o) * C + c) * kk;
                        for (size_t t = 0; t < kk; ++t) copy(w_at + t, (t * O + o) * C + c);
                    }
    }, std::max<size_t>(1, 32768 / std::max<size_t>(1, C * kk)));
}
inline void tap_weights(const float* w, int O, int C, int k, bool transposed_layout, float* taps) {
    for_tap_weight_blocks(O, C, k, transposed_layout, [=](size_t w_at, size_t tap_at) { taps[tap_at] = w[w_at]; });
}
inline void tap_weights_add_back(const float* taps, int O, int C, int k, bool transposed_layout, float* w) {
    for_tap_weight_blocks(O, C, k, transposed_layout, [=](size_t w_at, size_t tap_at) { w[w_at] += taps[tap_at]; });
}

// Rows [m0, m1) of the M outputs go to one thread each: the threads write disjoint rows of Y.
template <class Body>
inline void split_rows(int M, Body&& body) {
    const int threads = std::min(in_parallel_region() ? 1 : num_threads(), std::max(1, M / 16));
    if (threads <= 1) { body(0, M); return; }
#ifdef _OPENMP
#pragma omp parallel num_threads(threads)
    {
        const int t = omp_get_thread_num(), T = omp_get_num_threads(), tiles = (M + 15) / 16;
        const int m0 = std::min(M, tiles * t / T * 16), m1 = std::min(M, tiles * (t + 1) / T * 16);
        if (m0 < m1) body(m0, m1);
    }
#endif
}

// What one tap multiplies: the (rows, hy, wy, N) image y, the (cols, hx, wx, N) image x it reads
// with shift (dh, dw): y[:, h, w] pairs with x[:, h + dh, w + dw] (pixels outside x are zero).
struct TapView {
    const float* x; int hx, wx;
    float* y; int hy, wy;
    int dh, dw;
};

// For every tap t: Y_t[m, h, w, :] += sum_c A_t[m, c] X_t[c, h + dh, w + dw, :], one GEMM per
// row h (per run of whole rows when nothing is cut off at the sides). A_t is (M, K) at
// taps + t*M*K, or with trans the transpose of the (K, M) matrix stored there.
template <class Views>
inline void tap_gemms(const float* taps, bool trans, int M, int K, int T, int N, Views view) {
    split_rows(M, [&](int m0, int m1) {
        for (int t = 0; t < T; ++t) {
            const TapView v = view(t);
            const int h0 = std::max(0, -v.dh), h1 = std::min(v.hy, v.hx - v.dh);
            const int w0 = std::max(0, -v.dw), w1 = std::min(v.wy, v.wx - v.dw);
            if (h0 >= h1 || w0 >= w1) continue;
            const size_t x_plane = static_cast<size_t>(v.hx) * v.wx * N, y_plane = static_cast<size_t>(v.hy) * v.wy * N;
            const float* a = taps + static_cast<size_t>(t) * M * K + (trans ? m0 : static_cast<size_t>(m0) * K);
            const bool merge = w0 == 0 && w1 == v.wy && v.wx == v.wy && v.dw == 0;  // rows h0..h1 contiguous
            for (int h = h0; h < h1; h += merge ? h1 - h0 : 1) {
                const size_t run = (static_cast<size_t>(merge ? h1 - h0 - 1 : 0) * v.wy + (w1 - w0)) * N;
                gemm(trans, false, m1 - m0, static_cast<int>(run), K, 1.0f, a, trans ? M : K,
                     v.x + (static_cast<size_t>(h + v.dh) * v.wx + w0 + v.dw) * N, static_cast<int>(x_plane), 1.0f,
                     v.y + m0 * y_plane + (static_cast<size_t>(h) * v.wy + w0) * N, static_cast<int>(y_plane));
            }
        }
    });
}

// The weight gradient of tap_gemms: G_t (M, K) += sum over h, w, n of dY_t[m, h, w, n] X_t[c, h + dh, w + dw, n]
// (view.y is dY here, read only).
template <class Views>
inline void tap_gemms_weight_grad(float* grads, int M, int K, int T, int N, Views view) {
    split_rows(M, [&](int m0, int m1) {
        for (int t = 0; t < T; ++t) {
            const TapView v = view(t);
            const int h0 = std::max(0, -v.dh), h1 = std::min(v.hy, v.hx - v.dh);
            const int w0 = std::max(0, -v.dw), w1 = std::min(v.wy, v.wx - v.dw);
            if (h0 >= h1 || w0 >= w1) continue;
            const size_t x_plane = static_cast<size_t>(v.hx) * v.wx * N, y_plane = static_cast<size_t>(v.hy) * v.wy * N;
            const bool merge = w0 == 0 && w1 == v.wy && v.wx == v.wy && v.dw == 0;
            for (int h = h0; h < h1; h += merge ? h1 - h0 : 1) {
                const size_t run = (static_cast<size_t>(merge ? h1 - h0 - 1 : 0) * v.wy + (w1 - w0)) * N;
                gemm(false, true, m1 - m0, K, static_cast<int>(run), 1.0f,
                     v.y + m0 * y_plane + (static_cast<size_t>(h) * v.wy + w0) * N, static_cast<int>(y_plane),
                     v.x + (static_cast<size_t>(h + v.dh) * v.wx + w0 + v.dw) * N, static_cast<int>(x_plane), 1.0f,
                     grads + (static_cast<size_t>(t) * M + m0) * K, K);
            }
        }
    });
}

// A convolution on the tap path: conv2d (x = the big image, y = the patch grid) or, transposed,
// conv_transpose2d (x = the grid, y = the image). C = x's channels, O = y's channels.
struct TapConv {
    int N, C, O, k, stride, padding;
    int Hg, Wg;  // the patch grid: conv2d's output, conv_transpose2d's input
    int Hi, Wi;  // the image: conv2d's input, conv_transpose2d's output
    bool transposed;

    Phases image() const { return {stride, Hi, Wi}; }
    Phases grid() const { return {1, Hg, Wg}; }
    size_t taps_size() const { return static_cast<size_t>(k) * k * O * C; }
    // The view of tap t = (u, v) between the grid and the image (of `image_ch` channels), both in
    // phase layout; writes go to the grid (to_grid) or to the image.
    TapView view(int t, const float* grid_data, const float* image_data, int image_ch, bool to_grid) const {
        const int u = t / k, v = t % k, s = stride;
        const int a = (u - padding) - s * floor_div(u - padding, s), b = (v - padding) - s * floor_div(v - padding, s);
        const int di = floor_div(u - padding, s), dj = floor_div(v - padding, s);
        const Phases im = image();
        const float* phase = image_data + im.offset(a, b) * image_ch * N;
        if (to_grid) return {phase, im.hp(a), im.wp(b), const_cast<float*>(grid_data), Hg, Wg, di, dj};
        return {grid_data, Hg, Wg, const_cast<float*>(phase), im.hp(a), im.wp(b), -di, -dj};
    }

    // taps: the k*k matrices A_uv, filled here from w (backward reuses them: the gradient is
    // that of the weights the forward used).
    Tensor forward(const float* x, const float* w, std::vector<float>& taps_out) const {
        const Phases x_ph = transposed ? grid() : image(), y_ph = transposed ? image() : grid();
        float* xs = scratch(kTapInput, static_cast<size_t>(C) * x_ph.H * x_ph.W * N);
        to_phases(x, N, C, x_ph, xs);
        taps_out.resize(taps_size());
        float* taps = taps_out.data();
        tap_weights(w, O, C, k, transposed, taps);
        const size_t y_count = static_cast<size_t>(O) * y_ph.H * y_ph.W * N;
        float* ys = scratch(kTapOutput, y_count);
        std::fill(ys, ys + y_count, 0.0f);
        // conv2d: the grid (y) gathers from the image (x); conv_transpose2d: the image (y) from the grid (x).
        tap_gemms(taps, false, O, C, k * k, N, [&](int t) {
            return transposed ? view(t, xs, ys, O, false) : view(t, ys, xs, C, true);
        });
        Tensor y({N, O, y_ph.H, y_ph.W});
        from_phases(ys, N, O, y_ph, y.ptr(), false);
        return y;
    }
    // dy (N, O, ...) -> dx += ..., dw += ... (either may be null).
    void backward(const float* x, const float* taps, const float* dy, float* dx, float* dw) const {
        const Phases x_ph = transposed ? grid() : image(), y_ph = transposed ? image() : grid();
        float* dys = scratch(kTapOutput, static_cast<size_t>(O) * y_ph.H * y_ph.W * N);
        to_phases(dy, N, O, y_ph, dys);
        if (dw) {  // G_t (O, C) += dy_t * x_t^T
            float* xs = scratch(kTapInput, static_cast<size_t>(C) * x_ph.H * x_ph.W * N);
            to_phases(x, N, C, x_ph, xs);
            float* grads = scratch(kTapWeightGrad, taps_size());
            std::fill(grads, grads + taps_size(), 0.0f);
            tap_gemms_weight_grad(grads, O, C, k * k, N, [&](int t) {
                return transposed ? view(t, xs, dys, O, false) : view(t, dys, xs, C, true);
            });
            tap_weights_add_back(grads, O, C, k, transposed, dw);
        }
        if (dx) {  // dx_t += A_t^T dy_t: the same pairs of pixels, written the other way
            const size_t x_count = static_cast<size_t>(C) * x_ph.H * x_ph.W * N;
            float* dxs = scratch(kTapInput, x_count);
            std::fill(dxs, dxs + x_count, 0.0f);
            tap_gemms(taps, true, C, O, k * k, N, [&](int t) {
                return transposed ? view(t, dxs, dys, O, true) : view(t, dys, dxs, C, false);
            });
            from_phases(dxs, N, C, x_ph, dx, true);
        }
    }
};

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
    if (use_tap_gemms(N, g.out_w, g.channels, O)) {  // the tap path (above)
        const TapConv tc{N, g.channels, O, k, stride, padding, g.out_h, g.out_w, g.height, g.width, false};
        std::vector<float> taps;
        Tensor y = tc.forward(x.value().ptr(), weight.value().ptr(), taps);
        if (bias.defined()) add_bias_planes(y.ptr(), bias.value().ptr(), N, O, g.positions());
        return make_result(std::move(y), parents, [tc, taps = std::move(taps)](Node& out) {
            Tensor* dx = parent_grad(out, 0);
            Tensor* dw = parent_grad(out, 1);
            tc.backward(out.parents[0]->value.ptr(), taps.data(), out.grad.ptr(), dx ? dx->ptr() : nullptr,
                        dw ? dw->ptr() : nullptr);
            if (out.parents.size() > 2)
                if (Tensor* db = parent_grad(out, 2)) bias_grad_planes(out.grad.ptr(), tc.N, tc.O, out.grad.numel() / (static_cast<size_t>(tc.N) * tc.O), db->ptr());
        });
    }
    const int R = g.patch_size(), P = g.positions();
    const size_t NP = static_cast<size_t>(N) * P;
    float* col = scratch(kColumns, R * NP);             // (C*k*k, N*P)
    batch_im2col(x.value().ptr(), N, g, col);
    float* y_cm = scratch(kChannelMajor, O * NP);       // channel-major result (O, N*P)
    gemm(false, false, O, N * P, R, 1.0f, weight.value().ptr(), R, col, N * P, 0.0f, y_cm, N * P);
    Tensor y({N, O, g.out_h, g.out_w});
    channel_major_to_batch_major(y_cm, N, O, P, y.ptr());
    if (bias.defined()) add_bias_planes(y.ptr(), bias.value().ptr(), N, O, P);
    // Backward needs x and weight (kept as parents) and the geometry; col is rebuilt from x
    // rather than kept, which saves memory (tens of MB per layer at batch 64).
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
                    const float* row = dy_cm + o * NP;
                    MINIGAN_SIMD_SUM(acc)
                    for (size_t q = 0; q < NP; ++q) acc += row[q];
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
    std::vector<Var> parents{x, weight};
    if (bias.defined()) parents.push_back(bias);
    if (use_tap_gemms(N, W, C, O)) {  // the tap path (above)
        const TapConv tc{N, C, O, k, stride, padding, H, W, Ho, Wo, true};
        std::vector<float> taps;
        Tensor y = tc.forward(x.value().ptr(), weight.value().ptr(), taps);
        if (bias.defined()) add_bias_planes(y.ptr(), bias.value().ptr(), N, O, static_cast<size_t>(Ho) * Wo);
        return make_result(std::move(y), parents, [tc, taps = std::move(taps)](Node& out) {
            Tensor* dx = parent_grad(out, 0);
            Tensor* dw = parent_grad(out, 1);
            tc.backward(out.parents[0]->value.ptr(), taps.data(), out.grad.ptr(), dx ? dx->ptr() : nullptr,
                        dw ? dw->ptr() : nullptr);
            if (out.parents.size() > 2)
                if (Tensor* db = parent_grad(out, 2)) bias_grad_planes(out.grad.ptr(), tc.N, tc.O, out.grad.numel() / (static_cast<size_t>(tc.N) * tc.O), db->ptr());
        });
    }
    const int R = g.patch_size(), P = H * W;
    const size_t NP = static_cast<size_t>(N) * P;
    float* x_cm = scratch(kChannelMajor, C * NP);      // x in channel-major layout (C, N*H*W)
    batch_major_to_channel_major(x.value().ptr(), N, C, P, x_cm);
    float* col = scratch(kColumns, R * NP);            // col (O*k*k, N*P) = W^T (R, C) * x (C, N*P)
    gemm(true, false, R, N * P, C, 1.0f, weight.value().ptr(), R, x_cm, N * P, 0.0f, col, N * P);
    Tensor y({N, O, Ho, Wo});
    batch_col2im(col, N, g, y.ptr());
    if (bias.defined()) add_bias_planes(y.ptr(), bias.value().ptr(), N, O, static_cast<size_t>(Ho) * Wo);
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
