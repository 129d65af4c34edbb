// test_blas.cpp - gemm() (OpenBLAS) held to gemm_naive() (three loops): every transpose
// combination, odd sizes, row strides larger than the rows, alpha/beta, K = 0.
// Run one case: ./test_blas -tc="*transpose*"
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <limits>

#include <minigan/blas.hpp>

using namespace minigan;

TEST_CASE("gemm_naive by hand: C = alpha A B + beta C") {
    // A = [[1, 2], [3, 4]], B = [[5, 6], [7, 8]]: A B = [[1*5+2*7, 1*6+2*8], [3*5+4*7, 3*6+4*8]] = [[19, 22], [43, 50]]
    float A[] = {1, 2, 3, 4}, B[] = {5, 6, 7, 8};
    float C[] = {1, 1, 1, 1};
    gemm_naive(false, false, 2, 2, 2, 1.0f, A, 2, B, 2, 0.0f, C, 2);
    CHECK(std::vector<float>(C, C + 4) == std::vector<float>{19, 22, 43, 50});
    // A^T B = [[1*5+3*7, 1*6+3*8], [2*5+4*7, 2*6+4*8]] = [[26, 30], [38, 44]]; times 2, plus 1 * C
    gemm_naive(true, false, 2, 2, 2, 2.0f, A, 2, B, 2, 1.0f, C, 2);
    CHECK(std::vector<float>(C, C + 4) == std::vector<float>{19 + 52, 22 + 60, 43 + 76, 50 + 88});
    // A B^T = [[1*5+2*6, 1*7+2*8], [3*5+4*6, 3*7+4*8]] = [[17, 23], [39, 53]]
    gemm(false, true, 2, 2, 2, 1.0f, A, 2, B, 2, 0.0f, C, 2);
    CHECK(std::vector<float>(C, C + 4) == std::vector<float>{17, 23, 39, 53});
}

// Fills an (rows, ld) row-major buffer; only the first `cols` of each row are part of the
// matrix, the rest is padding that gemm must neither read into the result nor write.
static std::vector<float> random_matrix(int rows, int cols, int ld, Rng& rng) {
    std::vector<float> m(static_cast<size_t>(std::max(rows, 1)) * ld, 1e30f);  // padding: huge
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c) m[static_cast<size_t>(r) * ld + c] = rng.uniform(-1.0f, 1.0f);
    return m;
}

static void compare_with_naive(bool ta, bool tb, int M, int N, int K, float alpha, float beta, int pad, Rng& rng) {
    INFO("trans_a = ", ta, ", trans_b = ", tb, ", M = ", M, ", N = ", N, ", K = ", K, ", alpha = ", alpha,
         ", beta = ", beta, ", row padding = ", pad);
    // A stored as (M, K), or (K, M) when transposed; lda is its stored row length plus padding.
    const int a_rows = ta ? K : M, a_cols = ta ? M : K, lda = a_cols + pad;
    const int b_rows = tb ? N : K, b_cols = tb ? K : N, ldb = b_cols + pad;
    const int ldc = N + pad;
    std::vector<float> A = random_matrix(a_rows, a_cols, lda, rng), B = random_matrix(b_rows, b_cols, ldb, rng);
    std::vector<float> C0 = random_matrix(M, N, ldc, rng);
    std::vector<float> fast = C0, ref = C0;
    gemm(ta, tb, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, fast.data(), ldc);
    gemm_naive(ta, tb, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, ref.data(), ldc);
    double worst = 0.0;
    for (int i = 0; i < M; ++i)
        for (int j = 0; j < N; ++j) worst = std::max(worst, std::fabs(double(fast[i * ldc + j]) - ref[i * ldc + j]));
    // float32 sums of K products of numbers in [-1, 1]: rounding grows like K * 6e-8.
    CHECK(worst <= 1e-6 * (K + 2));
    for (int i = 0; i < M; ++i)
        for (int j = N; j < ldc; ++j) CHECK(fast[i * ldc + j] == 1e30f);  // padding untouched
}

TEST_CASE("gemm matches gemm_naive for all four transpose combinations and odd sizes") {
    Rng rng(21);
    struct Size { int M, N, K; };
    for (Size s : {Size{1, 1, 1}, Size{3, 5, 7}, Size{7, 1, 3}, Size{1, 9, 4}, Size{5, 6, 1}, Size{17, 13, 11},
                   Size{33, 65, 31}})
        for (bool ta : {false, true})
            for (bool tb : {false, true})
                for (float beta : {0.0f, 1.0f}) compare_with_naive(ta, tb, s.M, s.N, s.K, 1.0f, beta, 0, rng);
}

TEST_CASE("gemm with row strides larger than the rows (lda, ldb, ldc) and alpha, beta != 1") {
    Rng rng(22);
    for (bool ta : {false, true})
        for (bool tb : {false, true}) {
            compare_with_naive(ta, tb, 6, 5, 4, 0.5f, 1.0f, 3, rng);
            compare_with_naive(ta, tb, 6, 5, 4, -2.0f, 0.25f, 1, rng);
        }
}

TEST_CASE("gemm with beta = 0 ignores what C held, even NaN") {
    float A[] = {1, 2}, B[] = {3, 4};  // (1, 2) x (2, 1) = 1*3 + 2*4 = 11
    float nan = std::numeric_limits<float>::quiet_NaN();
    float C[] = {nan}, Cn[] = {nan};
    gemm(false, false, 1, 1, 2, 1.0f, A, 2, B, 1, 0.0f, C, 1);
    gemm_naive(false, false, 1, 1, 2, 1.0f, A, 2, B, 1, 0.0f, Cn, 1);
    CHECK(C[0] == 11.0f);
    CHECK(Cn[0] == 11.0f);
}

TEST_CASE("gemm with K = 0 is an empty sum: C = beta C") {
    float C[] = {1, 2, 3, 4, 5, 6}, Cn[] = {1, 2, 3, 4, 5, 6};
    float dummy = 0.0f;
    gemm(false, false, 2, 3, 0, 1.0f, &dummy, 1, &dummy, 3, 0.5f, C, 3);
    gemm_naive(false, false, 2, 3, 0, 1.0f, &dummy, 1, &dummy, 3, 0.5f, Cn, 3);
    CHECK(std::vector<float>(C, C + 6) == std::vector<float>{0.5f, 1, 1.5f, 2, 2.5f, 3});
    CHECK(std::vector<float>(Cn, Cn + 6) == std::vector<float>(C, C + 6));
    gemm(true, true, 2, 3, 0, 1.0f, &dummy, 2, &dummy, 1, 0.0f, C, 3);
    CHECK(std::vector<float>(C, C + 6) == std::vector<float>(6, 0.0f));
}

TEST_CASE("gemm with M = 0 or N = 0 writes nothing") {
    float A[] = {1}, B[] = {1}, C[] = {7};
    gemm(false, false, 0, 1, 1, 1.0f, A, 1, B, 1, 0.0f, C, 1);
    gemm(false, false, 1, 0, 1, 1.0f, A, 1, B, 1, 0.0f, C, 1);
    CHECK(C[0] == 7.0f);
}

TEST_CASE("gemm split over threads (big products): rows or columns, every transpose, strides, same as one thread") {
    // Products over ~4 MFLOP per thread are cut into one block of C per thread (blas.hpp): tall
    // ones by rows, wide ones by columns, with pieces of 16 and a ragged last piece.
    Rng rng(23);
    const int threads_before = num_threads();
    set_num_threads(std::max(2, threads_before));
    // Telling OpenBLAS to use 1 thread per call must leave OpenMP's count alone (parallel.hpp):
    // OpenBLAS's OpenMP build would otherwise set it to 1, and nothing here would be split.
    CHECK(num_threads() == std::max(2, threads_before));
    struct Size { int M, N, K; };
    for (Size s : {Size{301, 97, 150}, Size{45, 517, 130}, Size{200, 200, 64}})
        for (bool ta : {false, true})
            for (bool tb : {false, true}) compare_with_naive(ta, tb, s.M, s.N, s.K, 0.75f, 0.5f, 3, rng);
    // Split or not, every element of C is the same single-threaded SGEMM sum over K.
    const int M = 160, N = 700, K = 96;
    std::vector<float> A = random_matrix(M, K, K, rng), B = random_matrix(K, N, N, rng);
    std::vector<float> split(static_cast<size_t>(M) * N), one(split.size());
    gemm(false, false, M, N, K, 1.0f, A.data(), K, B.data(), N, 0.0f, split.data(), N);
    set_num_threads(1);
    gemm(false, false, M, N, K, 1.0f, A.data(), K, B.data(), N, 0.0f, one.data(), N);
    double worst = 0.0;
    for (size_t i = 0; i < one.size(); ++i) worst = std::max(worst, std::fabs(double(split[i]) - one[i]));
    CHECK(worst <= 1e-6 * K);
    set_num_threads(threads_before);
}
