// parallel.hpp - OpenMP switches and thread settings, with a working one-thread fallback.
//
// Read this before conv.hpp. minigan's loops over the batch run in parallel with OpenMP
// when the compiler has it (-fopenmp); without it the same code runs on one thread, and
// runtime_summary() says so, so a missing flag never silently costs you half the machine.
#pragma once

#include <string>

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

// Use n threads for both our loops (OpenMP) and the matrix multiplies (OpenBLAS).
inline void set_num_threads(int n) {
    if (n < 1) n = 1;
#ifdef _OPENMP
    omp_set_num_threads(n);
#endif
    openblas_set_num_threads(n);
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
    s += "; BLAS: " + std::string(openblas_get_config()) + " (" + (p >= 0 && p <= 2 ? kinds[p] : "?") +
         ", " + std::to_string(openblas_get_num_threads()) + " threads)";
#ifdef MINIGAN_OPENCL
    s += "; OpenCL backend compiled in";
#endif
    return s;
}

}  // namespace minigan
