// fast/gemm.hpp - one big matrix product cut into one block per OpenMP thread.
//
// Replaces: the single cblas_sgemm call of gemm() (blas.hpp), for products big enough to pay for
// a fork. With OpenMP, OpenBLAS runs on one thread (parallel.hpp); here a big product is cut
// into one block of C per thread (rows if C is taller than wide, else columns), each block an
// independent single-threaded SGEMM over the whole K, so every element of C is computed exactly
// as the reference computes it: a one-thread run gives the same numbers on both paths.
#pragma once

#include <algorithm>

#include <cblas.h>

#include "../parallel.hpp"

namespace minigan::fast {

// The contract of gemm() (blas.hpp); returns false, doing nothing, when the product is too
// small to split (the caller then makes the one SGEMM call itself).
inline bool gemm_split(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda,
                       const float* B, int ldb, float beta, float* C, int ldc) {
#ifdef _OPENMP
    // Below ~4 MFLOP per thread a fork costs more than it saves.
    const double flops = 2.0 * M * N * K;
    int threads = in_parallel_region() ? 1 : num_threads();
    const bool split_rows = M >= N;
    const int extent = split_rows ? M : N;
    threads = static_cast<int>(std::min<double>(threads, std::min(flops / 4e6, extent / 16.0)));
    if (threads <= 1) return false;
    auto sgemm = [&](int m0, int m, int n0, int n) {  // the block C[m0 : m0+m, n0 : n0+n]
        const float* a = A + (trans_a ? static_cast<size_t>(m0) : static_cast<size_t>(m0) * lda);
        const float* b = B + (trans_b ? static_cast<size_t>(n0) * ldb : static_cast<size_t>(n0));
        cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, m, n, K,
                    alpha, a, lda, b, ldb, beta, C + static_cast<size_t>(m0) * ldc + n0, ldc);
    };
#pragma omp parallel num_threads(threads)
    {
        // Pieces of a multiple of 16 rows/columns: whole register tiles of the SGEMM kernel.
        const int t = omp_get_thread_num(), T = omp_get_num_threads();
        const int tiles = (extent + 15) / 16;
        const int first = std::min(extent, tiles * t / T * 16), last = std::min(extent, tiles * (t + 1) / T * 16);
        if (first < last) {
            if (split_rows) sgemm(first, last - first, 0, N);
            else sgemm(0, M, first, last - first);
        }
    }
    return true;
#else
    (void)trans_a, (void)trans_b, (void)M, (void)N, (void)K, (void)alpha, (void)A, (void)lda, (void)B, (void)ldb,
        (void)beta, (void)C, (void)ldc;
    return false;
#endif
}

}  // namespace minigan::fast
