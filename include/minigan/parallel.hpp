// parallel.hpp - OpenMP switches and thread settings, with a working one-thread fallback.
//
// Read this before blas.hpp and conv.hpp. minigan's loops over the batch run in parallel with
// OpenMP when the compiler has it (-fopenmp); without it the same code runs on one thread, and
// runtime_summary() says so, so a missing flag never silently costs you half the machine.
//
// The thread plan (docs/performance.md measures it): ONE pool of threads, OpenMP's.
//   - OpenBLAS is told to use 1 thread; gemm() (blas.hpp) splits a big matrix product into one
//     block of rows or columns per OpenMP thread, each an ordinary single-threaded SGEMM.
//   - Elementwise loops (activations, BatchNorm, Adam, ...) split their range the same way
//     (parallel_chunks below), and only when the range is big enough to pay for the fork.
// Two pools (OpenMP's for our loops, OpenBLAS's pthreads for the GEMMs) on a 2-core machine fight:
// OpenMP's idle workers spin on the core an OpenBLAS worker needs, and a 2-thread step can run
// slower than a 1-thread one (../shared/peers/README.md, "Oversubscription trap").
// Without OpenMP, OpenBLAS keeps its own threads (set_num_threads sets them).
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>

#include <cblas.h>

#include "backend/opencl.hpp"  // empty unless compiled with -DMINIGAN_OPENCL
#ifdef _OPENMP
#include <omp.h>
#endif

// MINIGAN_PARALLEL_FOR: put it before a `for` loop whose iterations are independent.
// MINIGAN_SIMD: before an innermost loop whose iterations are independent (no reduction, no
// aliasing between what it reads and writes): the compiler then vectorises it even at -O2.
// MINIGAN_SIMD_SUM(acc): the same for a loop that adds into acc (the vector lanes keep partial
// sums, so the order of the additions differs from the plain loop, identically on every run).
#ifdef _OPENMP
#define MINIGAN_PRAGMA(x) _Pragma(#x)
#define MINIGAN_PARALLEL_FOR _Pragma("omp parallel for schedule(static)")
#define MINIGAN_SIMD _Pragma("omp simd")
#define MINIGAN_SIMD_SUM(acc) MINIGAN_PRAGMA(omp simd reduction(+ : acc))
#else
#define MINIGAN_PARALLEL_FOR
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

// OpenBLAS declares its control functions in cblas.h: openblas_set_num_threads(),
// openblas_get_config(), openblas_get_parallel() (0 sequential, 1 pthreads, 2 OpenMP).

namespace minigan {

inline int num_threads() {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

// True inside a parallel region: nested work then runs on the calling thread only.
inline bool in_parallel_region() {
#ifdef _OPENMP
    return omp_in_parallel() != 0;
#else
    return false;
#endif
}

// With OpenMP, OpenBLAS runs single-threaded and gemm() does the splitting (see the top).
// Called by set_num_threads() and, once, by the first gemm().
inline void configure_blas_threads(int n) {
#ifdef _OPENMP
    (void)n;
    openblas_set_num_threads(1);
#else
    openblas_set_num_threads(n < 1 ? 1 : n);
#endif
}

// Use n threads for both our loops (OpenMP) and the matrix multiplies.
inline void set_num_threads(int n) {
    if (n < 1) n = 1;
#ifdef _OPENMP
    omp_set_num_threads(n);
#endif
    configure_blas_threads(n);
}

// Run body(begin, end) over [0, n): one contiguous piece per thread when every thread gets at
// least `grain` items, else all of it on the calling thread. Piece boundaries are multiples of
// 16 (one cache line of floats), so two threads never write the same line. The result never
// depends on the number of threads as long as body treats every index on its own.
// The default grain (128 K floats, 512 KB) keeps small tensors on one thread: an elementwise
// pass over 64 x 1024 floats takes ~10 us, less than waking a sleeping thread and waiting for it.
template <class Body>
inline void parallel_chunks(size_t n, Body&& body, size_t grain = 131072) {
#ifdef _OPENMP
    const size_t want = grain ? n / grain : n;
    const int threads = in_parallel_region() ? 1 : static_cast<int>(std::min<size_t>(num_threads(), want));
    if (threads > 1) {
#pragma omp parallel num_threads(threads)
        {
            const size_t t = static_cast<size_t>(omp_get_thread_num()), T = static_cast<size_t>(omp_get_num_threads());
            const size_t begin = t == 0 ? 0 : (n * t / T) & ~size_t(15);
            const size_t end = t + 1 == T ? n : (n * (t + 1) / T) & ~size_t(15);
            if (begin < end) body(begin, end);
        }
        return;
    }
#else
    (void)grain;
#endif
    if (n) body(size_t(0), n);
}

// One line for the top of every program's log: which parallel paths are really active.
inline std::string runtime_summary() {
    std::string s;
#ifdef _OPENMP
    s += "OpenMP on, " + std::to_string(num_threads()) + " threads";
#else
    s += "OpenMP OFF (compiled without -fopenmp): loops run on 1 thread";
#endif
    const char* kinds[] = {"sequential", "pthreads", "OpenMP"};
    int p = openblas_get_parallel();
    s += "; BLAS: " + std::string(openblas_get_config()) + " (" + (p >= 0 && p <= 2 ? kinds[p] : "?") + " build";
#ifdef _OPENMP
    s += ", 1 thread per call, big GEMMs split over the OpenMP threads)";
#else
    s += ", " + std::to_string(openblas_get_num_threads()) + " threads)";
#endif
#ifdef MINIGAN_OPENCL
    s += "; " + opencl::summary();
#endif
    return s;
}

}  // namespace minigan
