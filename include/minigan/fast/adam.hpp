// fast/adam.hpp - Adam's update four floats at a time (SSE), one piece of the parameters per thread.
//
// Replaces: the scalar loop in optim::Adam::step() (optim.hpp; read it first, the formula is
// there). GCC at -O2 will not vectorise std::sqrt (it keeps the scalar call that sets errno for
// a negative input; v is never negative), so the vector loop is written with SSE intrinsics: the
// same operations in the same order as the reference loop, which also finishes the tail here,
// so both paths give identical numbers (tests/test_fast.cpp).
#pragma once

#include <cmath>
#include <cstddef>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "parallel_chunks.hpp"

namespace minigan::fast {

// Elements [begin, end) of one parameter.
inline void adam_update(float* p, const float* g, float* m, float* v, size_t begin, size_t end, float beta1, float beta2,
                        float step_size, float inv_sqrt_bc2, float eps) {
    size_t i = begin;
#if defined(__SSE2__)
    const __m128 b1 = _mm_set1_ps(beta1), b2 = _mm_set1_ps(beta2), one_b1 = _mm_set1_ps(1.0f - beta1),
                 one_b2 = _mm_set1_ps(1.0f - beta2), ss = _mm_set1_ps(step_size), ib = _mm_set1_ps(inv_sqrt_bc2),
                 ep = _mm_set1_ps(eps);
    for (; i + 4 <= end; i += 4) {
        const __m128 gi = _mm_loadu_ps(g + i);
        const __m128 mi = _mm_add_ps(_mm_mul_ps(b1, _mm_loadu_ps(m + i)), _mm_mul_ps(one_b1, gi));
        const __m128 vi = _mm_add_ps(_mm_mul_ps(b2, _mm_loadu_ps(v + i)), _mm_mul_ps(_mm_mul_ps(one_b2, gi), gi));
        _mm_storeu_ps(m + i, mi);
        _mm_storeu_ps(v + i, vi);
        const __m128 denom = _mm_add_ps(_mm_mul_ps(_mm_sqrt_ps(vi), ib), ep);
        _mm_storeu_ps(p + i, _mm_sub_ps(_mm_loadu_ps(p + i), _mm_div_ps(_mm_mul_ps(ss, mi), denom)));
    }
#endif
    for (; i < end; ++i) {
        m[i] = beta1 * m[i] + (1.0f - beta1) * g[i];
        v[i] = beta2 * v[i] + (1.0f - beta2) * g[i] * g[i];
        p[i] -= step_size * m[i] / (std::sqrt(v[i]) * inv_sqrt_bc2 + eps);
    }
}

// The whole parameter, one piece per thread.
inline void adam_update(float* p, const float* g, float* m, float* v, size_t n, float beta1, float beta2, float step_size,
                        float inv_sqrt_bc2, float eps) {
    parallel_chunks(n, [=](size_t begin, size_t end) {
        adam_update(p, g, m, v, begin, end, beta1, beta2, step_size, inv_sqrt_bc2, eps);
    });
}

}  // namespace minigan::fast
