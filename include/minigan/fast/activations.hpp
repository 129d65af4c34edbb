// fast/activations.hpp - leaky_relu and tanh as vectorised kernels, one piece per thread.
//
// Replaces: leaky_relu() and tanh() of activations.hpp (read them first: same math). The loops
// are kernels on raw pointers that -O2 vectorises (MINIGAN_SIMD, MINIGAN_VECTORIZABLE), run
// over big tensors in one piece per thread (parallel_chunks). leaky_relu gives exactly the
// reference's numbers; tanh agrees with std::tanh to ~2 float ulps (tests/test_fast.cpp), and runs
// on AVX2 where the CPU has it.
#pragma once

#include <cstdint>
#include <cstring>

#include "../autograd.hpp"
#include "parallel_chunks.hpp"

// MINIGAN_X86_DISPATCH: GCC or Clang on x86-64, where a function can be compiled for AVX2 next
// to the baseline and the CPU asked at run time which one it can run (tanh_forward below).
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define MINIGAN_X86_DISPATCH 1
#define MINIGAN_ALWAYS_INLINE __attribute__((always_inline))
#else
#define MINIGAN_X86_DISPATCH 0
#define MINIGAN_ALWAYS_INLINE
#endif

namespace minigan::fast {

MINIGAN_VECTORIZABLE inline void leaky_relu_forward(const float* x, float* y, size_t begin, size_t end, float negative_slope) {
    MINIGAN_SIMD
    for (size_t i = begin; i < end; ++i) y[i] = x[i] * (x[i] > 0.0f ? 1.0f : negative_slope);
}
MINIGAN_VECTORIZABLE inline void leaky_relu_backward(float* dx, const float* dy, const float* px, size_t begin, size_t end,
                                                     float negative_slope) {
    MINIGAN_SIMD
    for (size_t i = begin; i < end; ++i) dx[i] += dy[i] * (px[i] > 0.0f ? 1.0f : negative_slope);
}

inline Var leaky_relu(const Var& x, float negative_slope) {
    Tensor y(x.value().shape);
    const float* px = x.value().ptr();
    float* py = y.ptr();
    parallel_chunks(y.numel(), [=](size_t begin, size_t end) { leaky_relu_forward(px, py, begin, end, negative_slope); });
    return make_result(std::move(y), {x}, [negative_slope](Node& out) {
        if (Tensor* dx = parent_grad(out, 0)) {
            const float* px = out.parents[0]->value.ptr();
            const float* dy = out.grad.ptr();
            float* pdx = dx->ptr();
            parallel_chunks(dx->numel(), [=](size_t begin, size_t end) {
                leaky_relu_backward(pdx, dy, px, begin, end, negative_slope);
            });
        }
    });
}

// tanh(x) without calling std::tanh per element: libm's tanhf is a function call with a branch
// per value, while this loop vectorises.
// Two formulas, both computed and one picked per element (no branch, so 4 or 8 lanes at once):
//   |x| <  0.625:  tanh x = x (1 + x^2 P(x^2))    (odd polynomial, Cephes' tanhf; full relative
//                                                  precision near 0, where 1 - 2/(e^2x + 1) cancels)
//   |x| >= 0.625:  tanh x = sign(x) (1 - 2 / (e^{2|x|} + 1))
// e^t (t = 2|x| clamped to 88, where tanh is 1 in float) = 2^n e^r with n = round(t / ln 2),
// r = t - n ln 2 in [-ln2/2, ln2/2]: e^r by a degree-6 polynomial (Cephes' expf), 2^n by writing
// n + 127 into a float's exponent bits. Both agree with std::tanh to ~2 float ulps (tests/test_fast.cpp).
// y[i] = tanh(xs[i]) for i in [begin, end); xs and y may be the same buffer (each i is read, then
// written). The kernel's body is written once: tanh_forward below compiles it for two instruction sets.
MINIGAN_VECTORIZABLE MINIGAN_ALWAYS_INLINE inline void tanh_kernel(const float* xs, float* y, size_t begin, size_t end) {
    MINIGAN_SIMD
    for (size_t i = begin; i < end; ++i) {
        const float x = xs[i], ax = x < 0.0f ? -x : x;  // (no std:: calls: they are not inlined here)
        // small |x|: x (1 + x^2 P(x^2))
        const float z = x * x;
        const float small = x * (1.0f + ((((-5.70498872745e-3f * z + 2.06390887954e-2f) * z - 5.37397155531e-2f) * z +
                                          1.33314422036e-1f) * z - 3.33332819422e-1f) * z);  // x (1 + ...): -0 stays -0
        // large |x|: e^t, t = 2|x|
        const float t = ax < 44.0f ? 2.0f * ax : 88.0f;
        const float n = (t * 1.44269504089f + 12582912.0f) - 12582912.0f;  // round(t / ln 2): 1.5 * 2^23 trick
        const float r = (t - n * 0.693359375f) + n * 2.12194440e-4f;        // t - n ln 2 in two parts (exact first)
        const float er = ((((((1.9875691500e-4f * r + 1.3981999507e-3f) * r + 8.3334519073e-3f) * r +
                              4.1665795894e-2f) * r + 1.6666665459e-1f) * r + 5.0000001201e-1f) * r * r) + r + 1.0f;
        const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;  // the float 2^n
        float two_n;
        std::memcpy(&two_n, &bits, sizeof two_n);
        const float large_abs = 1.0f - 2.0f / (er * two_n + 1.0f);
        const float large = x < 0.0f ? -large_abs : large_abs;
        y[i] = ax >= 0.625f ? large : small;  // NaN fails the test and stays NaN (small is NaN)
    }
}

// The kernel is long (about 70 instructions for 4 floats in SSE, x86-64's baseline), so wider
// vectors pay here as nowhere else in fast/: the same loop compiled for AVX2 and FMA does 8 floats
// at a time. tanh_forward uses that build where the CPU has both (checked once at run time),
// the baseline one elsewhere; tests/test_fast.cpp holds each of them to std::tanh.
MINIGAN_VECTORIZABLE inline void tanh_forward_baseline(const float* x, float* y, size_t begin, size_t end) {
    tanh_kernel(x, y, begin, end);
}
#if MINIGAN_X86_DISPATCH
MINIGAN_VECTORIZABLE __attribute__((target("avx2,fma"))) inline void tanh_forward_avx2(const float* x, float* y, size_t begin, size_t end) {
    tanh_kernel(x, y, begin, end);
}
inline bool cpu_has_avx2_fma() {
    static const bool has = [] {
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }();
    return has;
}
#endif
inline void tanh_forward(const float* x, float* y, size_t begin, size_t end) {
#if MINIGAN_X86_DISPATCH
    if (cpu_has_avx2_fma()) return tanh_forward_avx2(x, y, begin, end);
#endif
    tanh_forward_baseline(x, y, begin, end);
}

// The backward is the reference's: 1 - y^2.
inline Var tanh(const Var& x) {
    Tensor y(x.value().shape);
    const float* px = x.value().ptr();
    float* py = y.ptr();
    parallel_chunks(y.numel(), [=](size_t begin, size_t end) { tanh_forward(px, py, begin, end); });
    return make_result(std::move(y), {x}, [](Node& out) {
        const Tensor& y = out.value;
        if (Tensor* dx = parent_grad(out, 0))
            for (size_t i = 0; i < dx->numel(); ++i) (*dx)[i] += out.grad[i] * (1.0f - y[i] * y[i]);
    });
}

}  // namespace minigan::fast
