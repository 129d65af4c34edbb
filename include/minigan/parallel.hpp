// parallel.hpp - OpenMP switches and thread settings, with a working one-thread fallback.
//
// Read this before blas.hpp and conv.hpp. minigan's loops over the batch run in parallel with
// OpenMP when the compiler has it (-fopenmp); without it the same code runs on one thread, and
// runtime_summary() (blas.hpp) says so, so a missing flag never silently costs you half the machine.
//
// The thread plan: ONE pool of threads, OpenMP's. OpenBLAS is told to use 1 thread per call;
// our loops over the batch (and, on the fast path, big matrix products cut into blocks) are
// what runs on the OpenMP threads. Two pools (OpenMP's for our loops, OpenBLAS's pthreads for
// the GEMMs) on a 2-core machine fight: OpenMP's idle workers spin on the core an OpenBLAS
// worker needs (../shared/peers/README.md, "Oversubscription trap"; docs/performance.md).
// Without OpenMP, OpenBLAS keeps its own threads (set_num_threads sets them).
// On the fast path a whole training step (or a batch of samples) runs in one parallel region,
// and those pieces are handed to its threads instead (fast/team.hpp).
#pragma once

#include <cblas.h>

#ifdef _OPENMP
#include <omp.h>
#endif

// MINIGAN_PARALLEL_FOR: put it before a `for` loop whose iterations are independent.
#ifdef _OPENMP
#define MINIGAN_PARALLEL_FOR _Pragma("omp parallel for schedule(static)")
#else
#define MINIGAN_PARALLEL_FOR
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

// With OpenMP, OpenBLAS runs single-threaded (see the top).
// Called by set_num_threads() and, once, by the first gemm().
inline void configure_blas_threads(int n) {
#ifdef _OPENMP
    (void)n;
    // OpenBLAS's OpenMP build (libopenblas0-openmp) shares OpenMP's threads, and its
    // openblas_set_num_threads(1) also calls omp_set_num_threads(1): our loops would then run on
    // one thread. Give OpenMP back the count it had; OpenBLAS stays at 1 thread per call.
    const int ours = omp_get_max_threads();
    openblas_set_num_threads(1);
    omp_set_num_threads(ours);
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

}  // namespace minigan
