// fast/parallel_chunks.hpp - splitting an elementwise loop over the threads, and vectorising it.
//
// Read parallel.hpp first. The reference writes an elementwise op as one plain loop; the fast
// routines of fast/ run the same loop as one contiguous piece per thread (parallel_chunks), and
// mark their innermost loops so that -O2 vectorises them (MINIGAN_SIMD, MINIGAN_VECTORIZABLE).
#pragma once

#include <algorithm>
#include <cstddef>

#include "../parallel.hpp"
#include "team.hpp"

// MINIGAN_SIMD: before an innermost loop whose iterations are independent (no reduction, no
// aliasing between what it reads and writes): the compiler then vectorises it even at -O2.
// MINIGAN_SIMD_SUM(acc): the same for a loop that adds into acc (the vector lanes keep partial
// sums, so the order of the additions differs from the plain loop, identically on every run).
#ifdef _OPENMP
#define MINIGAN_PRAGMA(x) _Pragma(#x)
#define MINIGAN_SIMD _Pragma("omp simd")
#define MINIGAN_SIMD_SUM(acc) MINIGAN_PRAGMA(omp simd reduction(+ : acc))
#else
#define MINIGAN_SIMD
#define MINIGAN_SIMD_SUM(acc)
#endif

// MINIGAN_VECTORIZABLE: on a small kernel function whose loop selects with a float comparison
// (x > 0 ? 1 : slope). GCC keeps such a comparison as a branch (under its default
// -ftrapping-math the comparison may raise an FP exception flag), and a loop with a branch is
// not vectorised; -fno-trapping-math for that one function lets it compare and blend four
// floats at once instead. The numbers computed are the same.
#if defined(__GNUC__) && !defined(__clang__)
#define MINIGAN_VECTORIZABLE __attribute__((optimize("no-trapping-math")))
#else
#define MINIGAN_VECTORIZABLE
#endif

namespace minigan::fast {

// The grain for a pass over many small items (the channels of a layout copy or of BatchNorm),
// each touching `floats_per_item` floats: the items a thread must get at least, so that every
// piece moves at least MINIGAN_PASS_GRAIN floats (below that, waking a second thread costs about
// what it saves; -DMINIGAN_PASS_GRAIN=N to measure another).
#ifndef MINIGAN_PASS_GRAIN
#define MINIGAN_PASS_GRAIN 32768
#endif
inline size_t items_per_thread(size_t floats_per_item) {
    return std::max<size_t>(1, size_t(MINIGAN_PASS_GRAIN) / std::max<size_t>(1, floats_per_item));
}

// Run body(begin, end) over [0, n), in one contiguous piece per thread, piece boundaries at
// multiples of `align`; `grain` is the least a thread must get, else all of it runs on the
// calling thread. parallel_chunks and parallel_items below are the two ways to call it.
template <class Body>
inline void split_into_pieces(size_t n, size_t grain, size_t align, Body& body) {
#ifdef _OPENMP
    const size_t want = grain ? n / grain : n;
    auto piece = [&](int t, int T) {  // piece t of T
        const size_t begin = t == 0 ? 0 : n * t / T / align * align;
        const size_t end = t + 1 == T ? n : n * (t + 1) / T / align * align;
        if (begin < end) body(begin, end);
    };
    // Inside a step's team (team.hpp) the pieces are handed to its threads; where that costs
    // little, passes split from a smaller grain (team_grain_divisor).
    if (const size_t team = team_size(); team > 1 && grain) {
        const size_t pieces = std::min(team, n / std::max<size_t>(1, grain / team_grain_divisor()));
        if (pieces > 1 && team_fork(static_cast<int>(pieces), piece)) return;
    }
    const int threads = in_parallel_region() ? 1 : static_cast<int>(std::min<size_t>(num_threads(), want));
    if (threads > 1) {
#pragma omp parallel num_threads(threads)
        piece(omp_get_thread_num(), omp_get_num_threads());
        return;
    }
#else
    (void)grain;
    (void)align;
#endif
    if (n) body(size_t(0), n);
}

// An elementwise loop over n floats: body(begin, end) on one piece per thread. Piece boundaries
// are multiples of 16 (one cache line of floats), so two threads never write the same line. The
// result never depends on the number of threads as long as body treats every index on its own.
// The default grain (128 K floats) keeps small tensors on one thread, where waking a sleeping
// thread would cost more than the pass itself.
template <class Body>
inline void parallel_chunks(size_t n, Body&& body, size_t grain = 131072) {
    split_into_pieces(n, grain, 16, body);
}

// A loop over n items of `floats_per_item` floats each (the channels of a layout copy or of
// BatchNorm, the images of a batch): body(first, last) on one range of whole items per thread,
// at least items_per_thread(floats_per_item) of them. The ranges split anywhere: an item is many
// cache lines, and 16 channels must split 8 + 8, not 0 + 16.
template <class Body>
inline void parallel_items(size_t n, size_t floats_per_item, Body&& body) {
    split_into_pieces(n, items_per_thread(floats_per_item), 1, body);
}

}  // namespace minigan::fast
