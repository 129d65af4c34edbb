// blas.hpp - matrix multiply: the one place in minigan that calls BLAS.
//
// Read tensor.hpp and parallel.hpp first. gemm() computes C = alpha * op(A) * op(B) + beta * C
// for row-major matrices, where op(X) is X or its transpose X^T. Linear layers and convolutions
// (after im2col) are all gemm calls, so nearly all of a training step's time is spent here.
// gemm_naive() is the same contract as three plain loops; the tests hold gemm() to it.
// Compiled with -DMINIGAN_OPENCL, gemm() sends big products to an OpenCL device instead
// (backend/opencl.hpp): this is the seam between the math and the hardware.
//
// Threads (parallel.hpp): with OpenMP, OpenBLAS runs on one thread and a big product is cut
// into one block of C per OpenMP thread (rows if C is taller than wide, else columns), each
// block an independent single-threaded SGEMM. Every element of C is computed by one SGEMM over
// the whole K, so the numbers do not depend on the number of threads.
#pragma once

#include <string>

#include <cblas.h>

#include <algorithm>

#include "backend/opencl.hpp"  // empty unless compiled with -DMINIGAN_OPENCL
#include "dispatch.hpp"
#include "parallel.hpp"
#include "tensor.hpp"
#ifndef MINIGAN_REFERENCE
#include "fast/team.hpp"  // fast path: a training step's team of threads takes the blocks
#endif

namespace minigan {

// Shapes (row-major): op(A) is (M, K), op(B) is (K, N), C is (M, N).
// lda/ldb/ldc are the row lengths of A, B, C as stored: A stored (M, K) has lda = K,
// A stored transposed, i.e. (K, M), has lda = M.
inline void gemm_naive(bool trans_a, bool trans_b, int M, int N, int K, float alpha,
                       const float* A, int lda, const float* B, int ldb, float beta, float* C, int ldc) {
    for (int i = 0; i < M; ++i)
        for (int j = 0; j < N; ++j) {
            double acc = 0.0;  // C[i][j] = sum_k op(A)[i][k] * op(B)[k][j]
            for (int k = 0; k < K; ++k) {
                float a = trans_a ? A[k * lda + i] : A[i * lda + k];
                float b = trans_b ? B[j * ldb + k] : B[k * ldb + j];
                acc += static_cast<double>(a) * b;
            }
            float prev = (beta == 0.0f) ? 0.0f : beta * C[i * ldc + j];  // beta 0 ignores C (may be garbage)
            C[i * ldc + j] = alpha * static_cast<float>(acc) + prev;
        }
}

#ifdef MINIGAN_OPENCL
// Does a product of this size go to the OpenCL device? Only when it is big enough
// (opencl::wants), and never from inside a parallel region: the device serves one caller at a time.
inline bool on_device(int M, int N, int K) { return !in_parallel_region() && opencl::wants(M, N, K); }
#endif

inline void gemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha,
                 const float* A, int lda, const float* B, int ldb, float beta, float* C, int ldc) {
    if (M == 0 || N == 0) return;
    if (K == 0) {  // an empty sum: C = beta * C (BLAS would also do this, some versions complain)
        for (int i = 0; i < M; ++i)
            for (int j = 0; j < N; ++j) C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
        return;
    }
#ifdef MINIGAN_OPENCL
    if (on_device(M, N, K)) {  // a big product, on the device
        opencl::Device::get().gemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
#endif
    static const bool blas_configured = (configure_blas_threads(num_threads()), true);
    (void)blas_configured;
    // Cut C into `blocks` pieces of whole 16-row (or 16-column) tiles, one SGEMM each, one per
    // thread; products under ~4 MFLOP a thread stay in one piece (a fork costs more than it saves).
    const bool split_rows = M >= N;
    const int extent = split_rows ? M : N, tiles = (extent + 15) / 16;
    const double flops = 2.0 * M * N * K;
    const int blocks = in_parallel_region() ? 1 : std::max(1, std::min({num_threads(), tiles, static_cast<int>(flops / 4e6)}));
    auto sgemm_block_of = [&](int b, int count) {  // block b of `count`: C[m0 : m0+m, n0 : n0+n]
        const int first = std::min(extent, tiles * b / count * 16), last = std::min(extent, tiles * (b + 1) / count * 16);
        const int m0 = split_rows ? first : 0, m = split_rows ? last - first : M;
        const int n0 = split_rows ? 0 : first, n = split_rows ? N : last - first;
        const float* a = A + (trans_a ? static_cast<size_t>(m0) : static_cast<size_t>(m0) * lda);
        const float* b_block = B + (trans_b ? static_cast<size_t>(n0) * ldb : static_cast<size_t>(n0));
        if (m > 0 && n > 0)
            cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, m, n, K,
                        alpha, a, lda, b_block, ldb, beta, C + static_cast<size_t>(m0) * ldc + n0, ldc);
    };
    if (blocks == 1) {
#ifndef MINIGAN_REFERENCE
        // Inside a training step's team (fast/team.hpp), the same blocks go to its threads.
        const int team_blocks = std::min({fast::team_size(), tiles, static_cast<int>(flops / 4e6)});
        if (team_blocks > 1 && fast::team_fork(team_blocks, [&](int t, int T) { sgemm_block_of(t, T); })) return;
#endif
        return sgemm_block_of(0, 1);
    }
    MINIGAN_PARALLEL_FOR
    for (int b = 0; b < blocks; ++b) sgemm_block_of(b, blocks);
}

// One line for the top of every program's log: which path and which parallel paths are active.
inline std::string runtime_summary() {
    std::string s = std::string(path_name()) + "; ";
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
#ifndef MINIGAN_REFERENCE
    if (fast::team_wanted()) s += "; training steps and sampling on one team of threads (fast/team.hpp)";
#endif
#ifdef MINIGAN_OPENCL
    s += "; " + opencl::summary();
#endif
    return s;
}

}  // namespace minigan
