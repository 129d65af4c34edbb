// fast/channel_bias.hpp - a convolution's bias and its gradient: vectorised, split over the threads.
//
// Replaces: add_channel_bias() and channel_bias_grad() of im2col.hpp (read them first: same
// math). y is (N, O, plane): the bias adds b[o] to every pixel of each row (n, o), one range of
// rows per thread, which gives exactly the reference's numbers; the gradient sums each channel's
// N rows, one range of channels per thread, the pixels of a row added four or eight at a time
// (in another order than the reference's one-by-one sum: within a stated tolerance,
// tests/test_fast.cpp).
#pragma once

#include <cstddef>

#include "parallel_chunks.hpp"

namespace minigan::fast {

// y[n, o, q] += b[o]
inline void add_channel_bias(float* y, const float* b, int N, int O, size_t plane) {
    parallel_items(static_cast<size_t>(N) * O, plane, [=](size_t first, size_t last) {
        for (size_t row = first; row < last; ++row) {
            float* pixels = y + row * plane;
            const float bias = b[row % O];
            MINIGAN_SIMD
            for (size_t q = 0; q < plane; ++q) pixels[q] += bias;
        }
    });
}

// db[o] += sum over n and q of dy[n, o, q], summed in double as the reference does
inline void channel_bias_grad(const float* dy, int N, int O, size_t plane, float* db) {
    parallel_items(static_cast<size_t>(O), N * plane, [=](size_t o0, size_t o1) {
        for (size_t o = o0; o < o1; ++o) {
            double acc = 0.0;
            for (int n = 0; n < N; ++n) {
                const float* row = dy + (static_cast<size_t>(n) * O + o) * plane;
                MINIGAN_SIMD_SUM(acc)
                for (size_t q = 0; q < plane; ++q) acc += row[q];
            }
            db[o] += static_cast<float>(acc);
        }
    });
}

}  // namespace minigan::fast
