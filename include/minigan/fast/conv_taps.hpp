// fast/conv_taps.hpp - the fast road for big convolutions: one GEMM per kernel tap and row, no im2col.
//
// Replaces: the im2col + GEMM bodies of conv2d and conv_transpose2d (conv.hpp), for layers with
// enough channels (use_tap_gemms). Read im2col.hpp and conv.hpp first: they are the definition.
// This computes the same numbers (tests/test_fast.cpp holds both to each other and test_conv
// to the naive loops) without the col matrix and without the products with the zero padding.
#pragma once

#include "../blas.hpp"
#include "../im2col.hpp"
#include "parallel_chunks.hpp"

namespace minigan::fast {

// Big temporary matrices (the phase images, up to tens of MB) are reused from call to call
// instead of being allocated and zeroed each time: a fresh buffer that size costs a page fault
// per 4 KB touched. Each slot is one buffer; an op uses different slots for buffers that are
// alive at the same time. (thread_local: two threads training two models do not collide.)
enum ScratchSlot { kTapInput = 0, kTapOutput = 1, kTapWeightGrad = 2, kSlotCount = 3 };
inline float* scratch(ScratchSlot slot, size_t count) {
    static thread_local std::vector<float> buffers[kSlotCount];
    std::vector<float>& b = buffers[slot];
    if (b.size() < count) b.resize(count);
    return b.data();
}

// Take stride 1 first. Tap (u, v) of the kernel reads the input shifted by a constant (dh, dw):
//     y[o, h, w] += sum_c A_uv[o, c] * x[c, h + dh, w + dw]
// (conv2d: A_uv[o, c] = W[o, c, u, v], shift (u - p, v - p); conv_transpose2d: A_uv[o, c] =
// W[c, o, u, v], shift (p - u, p - v)). Store the images "position-major", (C, H, W, N) with
// the batch innermost: then for one tap and one output row h, the valid columns w0..w1 of every
// image of the batch are one contiguous run of (w1 - w0) * N numbers, in x as in y, and the
// whole tap-row is one GEMM: Y[:, run] += A_uv * X[:, shifted run]. No col matrix is built, and
// the products of the kernel with the zero padding (about a third of a 5x5 kernel on a 7x7
// image) are never computed.
// Stride s: split the big image (conv2d's input, conv_transpose2d's output) into s*s "phases",
// phase (a, b) = the pixels (s*i + a, s*j + b). Tap (u, v) only meets phase
// ((u - p) mod s, (v - p) mod s), and there it is a stride-1 shift by floor((u - p) / s):
// the same GEMMs on the phase images. The backward passes are the same GEMMs transposed.
// conv_algorithm() picks this path or the reference's im2col.
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
#ifdef MINIGAN_OPENCL
    if (a == ConvAlgorithm::automatic && opencl::enabled()) return false;  // im2col: one big GEMM for the device
#endif
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
    parallel_items(C, plane * N, [&](size_t c0, size_t c1) {
        for (size_t c = c0; c < c1; ++c)
            for (size_t q = 0; q < plane; ++q) {
                float* to = dst + map.at[q] + c * map.stride[q];
                const float* from = src + c * plane + q;
                for (int n = 0; n < N; ++n) to[n] = from[n * image];
            }
    });
}
inline void from_phases(const float* src, int N, int C, const Phases& ph, float* dst, bool accumulate) {
    const size_t plane = static_cast<size_t>(ph.H) * ph.W, image = C * plane;
    const PhaseMap map(C, N, ph);
    parallel_items(C, plane * N, [&](size_t c0, size_t c1) {
        for (size_t c = c0; c < c1; ++c)
            for (size_t q = 0; q < plane; ++q) {
                const float* from = src + map.at[q] + c * map.stride[q];
                float* to = dst + c * plane + q;
                if (accumulate)
                    for (int n = 0; n < N; ++n) to[n * image] += from[n];
                else
                    for (int n = 0; n < N; ++n) to[n * image] = from[n];
            }
    });
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
    parallel_items(static_cast<size_t>(O), C * kk, [&](size_t first, size_t last) {
        for (int o0 = static_cast<int>(first); o0 < static_cast<int>(last); o0 += 16)
            for (int c0 = 0; c0 < C; c0 += 16)
                for (int o = o0; o < std::min(static_cast<int>(last), o0 + 16); ++o)
                    for (int c = c0; c < std::min(C, c0 + 16); ++c) {
                        const size_t w_at =
                            (transposed_layout ? static_cast<size_t>(c) * O + o : static_cast<size_t>(o) * C + c) * kk;
                        for (size_t t = 0; t < kk; ++t) copy(w_at + t, (t * O + o) * C + c);
                    }
    });
}
inline void tap_weights(const float* w, int O, int C, int k, bool transposed_layout, float* taps) {
    for_tap_weight_blocks(O, C, k, transposed_layout, [=](size_t w_at, size_t tap_at) { taps[tap_at] = w[w_at]; });
}
inline void tap_weights_add_back(const float* taps, int O, int C, int k, bool transposed_layout, float* w) {
    for_tap_weight_blocks(O, C, k, transposed_layout, [=](size_t w_at, size_t tap_at) { w[w_at] += taps[tap_at]; });
}

// [0, count) cut into ranges of whole `unit`s, one range per thread, as long as each thread gets
// a unit: body(first, last) on each. Inside a step's team (team.hpp) the ranges go to its
// threads, else to an OpenMP region's.
template <class Body>
inline void split_units(int count, int unit, Body&& body) {
    const int units = (count + unit - 1) / unit;
    auto piece = [&](int t, int T) {  // whole units for thread t of T
        const int first = std::min(count, units * t / T * unit), last = std::min(count, units * (t + 1) / T * unit);
        if (first < last) body(first, last);
    };
    const int most = std::max(1, count / unit);  // threads that get a whole unit each
    const int team = std::min(team_size(), most);
    if (team > 1 && team_fork(team, piece)) return;
    const int threads = std::min(in_parallel_region() ? 1 : num_threads(), most);
    if (threads <= 1) { body(0, count); return; }
#ifdef _OPENMP
#pragma omp parallel num_threads(threads)
    piece(omp_get_thread_num(), omp_get_num_threads());
#endif
}

// Rows [m0, m1) of the M outputs go to one thread each, in whole 16-row tiles: the threads write
// disjoint rows of Y.
template <class Body>
inline void split_rows(int M, Body&& body) {
    split_units(M, 16, body);
}

// What one tap multiplies: the (rows, hy, wy, N) image y, the (cols, hx, wx, N) image x it reads
// with shift (dh, dw): y[:, h, w] pairs with x[:, h + dh, w + dw] (pixels outside x are zero).
struct TapView {
    const float* x; int hx, wx;
    float* y; int hy, wy;
    int dh, dw;

    size_t x_plane(int N) const { return static_cast<size_t>(hx) * wx * N; }  // one channel of x
    size_t y_plane(int N) const { return static_cast<size_t>(hy) * wy * N; }

    // The pixels where x and the shifted y overlap, as runs that are contiguous in both: one run
    // per row h (columns w0..w1), or a single run of rows h0..h1 when nothing is cut off at the
    // sides. body(x_at, y_at, length): offsets into one channel of x and of y, length in floats.
    template <class Body>
    void for_each_run(int N, Body&& body) const {
        const int h0 = std::max(0, -dh), h1 = std::min(hy, hx - dh);
        const int w0 = std::max(0, -dw), w1 = std::min(wy, wx - dw);
        if (h0 >= h1 || w0 >= w1) return;
        const bool whole_rows = w0 == 0 && w1 == wy && wx == wy && dw == 0;
        for (int h = h0; h < h1; h += whole_rows ? h1 - h0 : 1) {
            const size_t length = (static_cast<size_t>(whole_rows ? h1 - h0 - 1 : 0) * wy + (w1 - w0)) * N;
            body((static_cast<size_t>(h + dh) * wx + w0 + dw) * N, (static_cast<size_t>(h) * wy + w0) * N, length);
        }
    }
};

// For every tap t: Y_t[m, h, w, :] += sum_c A_t[m, c] X_t[c, h + dh, w + dw, :], one GEMM per
// run of TapView::for_each_run. A_t is (M, K) at taps + t*M*K, or with trans the transpose of
// the (K, M) matrix stored there.
// The threads write disjoint parts of Y. With enough work each thread takes every row but a part
// of each tap's plane: sixteenths [f, l) of it, cut at multiples of 16 floats, so each pixel of Y
// is always summed by the same thread, tap after tap in the same order, and no two threads pack
// the same columns of X. Small products are split by whole 16-row tiles (split_rows).
template <class Views>
inline void tap_gemms(const float* taps, bool trans, int M, int K, int T, int N, Views view) {
    auto products = [&](int m0, int m1, int f, int l) {
        for (int t = 0; t < T; ++t) {
            const TapView v = view(t);
            const size_t plane = v.y_plane(N);
            const size_t q0 = plane * f / 16 / 16 * 16, q1 = l == 16 ? plane : plane * l / 16 / 16 * 16;
            const int ldx = static_cast<int>(v.x_plane(N)), ldy = static_cast<int>(plane);
            const float* a = taps + static_cast<size_t>(t) * M * K + (trans ? m0 : static_cast<size_t>(m0) * K);
            v.for_each_run(N, [&](size_t x_at, size_t y_at, size_t length) {
                const size_t first = std::max(y_at, q0), last = std::min(y_at + length, q1);  // the run, within [q0, q1)
                if (first >= last) return;
                gemm(trans, false, m1 - m0, static_cast<int>(last - first), K, 1.0f, a, trans ? M : K,
                     v.x + x_at + (first - y_at), ldx, 1.0f, v.y + m0 * plane + first, ldy);
            });
        }
    };
    const double flops = 2.0 * M * K * T * view(0).y_plane(N);  // about: every tap over a whole plane
    if (flops >= 8e6) split_units(16, 1, [&](int f, int l) { products(0, M, f, l); });
    else split_rows(M, [&](int m0, int m1) { products(m0, m1, 0, 16); });
}

// The weight gradient of tap_gemms: G_t (M, K) += sum over h, w, n of dY_t[m, h, w, n] X_t[c, h + dh, w + dw, n]
// (view.y is dY here, read only). Each tap writes its own G_t, so the threads take whole taps:
// each tap's products are then the same calls as on one thread, and no two threads pack the same
// dY and X. A single tap is split by whole 16-row tiles (split_rows).
template <class Views>
inline void tap_gemms_weight_grad(float* grads, int M, int K, int T, int N, Views view) {
    auto taps_and_rows = [&](int t0, int t1, int m0, int m1) {
        for (int t = t0; t < t1; ++t) {
            const TapView v = view(t);
            const int ldx = static_cast<int>(v.x_plane(N)), ldy = static_cast<int>(v.y_plane(N));
            v.for_each_run(N, [&](size_t x_at, size_t y_at, size_t length) {
                gemm(false, true, m1 - m0, K, static_cast<int>(length), 1.0f, v.y + m0 * v.y_plane(N) + y_at, ldy,
                     v.x + x_at, ldx, 1.0f, grads + (static_cast<size_t>(t) * M + m0) * K, K);
            });
        }
    };
    if (T >= 2) split_units(T, 1, [&](int t0, int t1) { taps_and_rows(t0, t1, 0, M); });
    else split_rows(M, [&](int m0, int m1) { taps_and_rows(0, T, m0, m1); });
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

// conv2d or conv_transpose2d on the tap path: y = the taps' GEMMs (+ bias), and a backward that
// runs the same GEMMs transposed. parents: x, weight (and bias, if defined). The bias and its
// gradient are the reference's (im2col.hpp).
inline Var tap_conv(const TapConv& tc, const Var& x, const Var& weight, const Var& bias, const std::vector<Var>& parents) {
    std::vector<float> taps;
    Tensor y = tc.forward(x.value().ptr(), weight.value().ptr(), taps);
    const size_t plane = y.numel() / (static_cast<size_t>(tc.N) * tc.O);  // output pixels per channel
    if (bias.defined()) add_channel_bias(y.ptr(), bias.value().ptr(), tc.N, tc.O, plane);
    return make_result(std::move(y), parents, [tc, plane, taps = std::move(taps)](Node& out) {
        Tensor* dx = parent_grad(out, 0);
        Tensor* dw = parent_grad(out, 1);
        tc.backward(out.parents[0]->value.ptr(), taps.data(), out.grad.ptr(), dx ? dx->ptr() : nullptr,
                    dw ? dw->ptr() : nullptr);
        if (out.parents.size() > 2)
            if (Tensor* db = parent_grad(out, 2)) channel_bias_grad(out.grad.ptr(), tc.N, tc.O, plane, db->ptr());
    });
}

}  // namespace minigan::fast
