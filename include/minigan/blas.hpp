// blas.hpp - matrix multiply: the one place in minigan that calls BLAS.
//
// Read tensor.hpp first. gemm() computes C = alpha * op(A) * op(B) + beta * C for row-major
// matrices, where op(X) is X or its transpose X^T. Linear layers and convolutions (after
// im2col) are all gemm calls, so nearly all of a training step's time is spent here.
// gemm_naive() is the same contract as three plain loops; the tests hold gemm() to it.
// (An OpenCL backend plugs in here: this is the seam between the math and the hardware.)
#pragma once

#include <cblas.h>

#include "tensor.hpp"

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

inline void gemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha,
                 const float* A, int lda, const float* B, int ldb, float beta, float* C, int ldc) {
    if (M == 0 || N == 0) return;
    if (K == 0) {  // an empty sum: C = beta * C (BLAS would also do this, some versions complain)
        for (int i = 0; i < M; ++i)
            for (int j = 0; j < N; ++j) C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
        return;
    }
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
                M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

}  // namespace minigan
