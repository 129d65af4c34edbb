// test_opencl.cpp - the OpenCL backend (backend/opencl.hpp): built only with -DMINIGAN_OPENCL, and
// run on whatever device is there (PoCL on the CPU in CI). The device's products are held to
// gemm_naive(); a DCGAN step with the backend on is held to the same step on OpenBLAS. The CI
// stage that builds this also runs test_blas, test_conv and test_conformance with
// MINIGAN_OPENCL_MIN_FLOPS=0, so every product in them goes through the device too (test_conv
// holds the device's im2col and col2im to the naive convolution loops).
// Run one case: ./test_opencl -tc="*routing*"
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>

#include <minigan/gan/models.hpp>
#include <minigan/gan/train_step.hpp>
#include <minigan/core.hpp>

using namespace minigan;

#ifndef MINIGAN_OPENCL
#error "test_opencl.cpp tests the OpenCL backend: build it with -DMINIGAN_OPENCL (CMake -DMINIGAN_OPENCL=ON)"
#endif

// Restores the run-time switches after a test changes them.
struct Switches {
    bool on = opencl::enabled();
    double flops = opencl::min_flops();
    ~Switches() {
        opencl::enabled() = on;
        opencl::min_flops() = flops;
    }
};

TEST_CASE("a device is found, its kernel compiles, and runtime_summary names it") {
    Switches keep;
    opencl::enabled() = true;
    const opencl::Device& device = opencl::Device::get();
    std::printf("OpenCL device: %s, tile %d\n", device.name().c_str(), device.tile());  // for the CI log
    CHECK(!device.name().empty());
    CHECK((device.tile() == 16 || device.tile() == 8));
    CHECK(runtime_summary().find("OpenCL: GEMMs of >= ") != std::string::npos);
    CHECK(runtime_summary().find(device.name()) != std::string::npos);
    opencl::enabled() = false;
    CHECK(runtime_summary().find("off (MINIGAN_OPENCL=0)") != std::string::npos);
}

static std::vector<float> random_values(size_t n, Rng& rng) {
    std::vector<float> v(n);
    for (float& x : v) x = rng.uniform(-1.0f, 1.0f);
    return v;
}

TEST_CASE("routing: products of >= min_flops go to the device, smaller ones and MINIGAN_OPENCL=0 stay on the CPU; convolutions too") {
    Switches keep;
    opencl::enabled() = true;
    opencl::min_flops() = 2.0 * 32 * 32 * 32;  // exactly a 32 x 32 x 32 product
    opencl::Device& device = opencl::Device::get();
    Rng rng(1);
    std::vector<float> A = random_values(32 * 32, rng), B = random_values(32 * 32, rng), C(32 * 32), ref(32 * 32);
    const size_t before = device.calls();
    gemm(false, false, 32, 32, 32, 1.0f, A.data(), 32, B.data(), 32, 0.0f, C.data(), 32);
    CHECK(device.calls() == before + 1);  // 2 * 32^3 flops: on the device
    gemm(false, false, 32, 32, 31, 1.0f, A.data(), 32, B.data(), 32, 0.0f, C.data(), 32);
    CHECK(device.calls() == before + 1);  // one less: on the CPU
    opencl::enabled() = false;
    gemm(false, false, 32, 32, 32, 1.0f, A.data(), 32, B.data(), 32, 0.0f, C.data(), 32);
    CHECK(device.calls() == before + 1);  // switched off: on the CPU
    // A convolution is one device call per product, its im2col (or col2im) included:
    // forward 1 (W * im2col(x)); backward 2 (dW and dx; the input is a leaf that wants a gradient).
    opencl::enabled() = true;
    opencl::min_flops() = 0;
    Var x(randn({2, 3, 8, 8}, rng), true), w(randn({4, 3, 3, 3}, rng), true);
    const size_t before_conv = device.calls();
    Var y = conv2d(x, w, Var(), 1, 1);
    CHECK(device.calls() == before_conv + 1);
    sum(y).backward();
    CHECK(device.calls() == before_conv + 3);
}

TEST_CASE("the device's products equal gemm_naive: every transpose, sizes off the tile, strides, alpha and beta") {
    Switches keep;
    opencl::enabled() = true;
    opencl::min_flops() = 0;  // everything on the device
    opencl::Device& device = opencl::Device::get();
    Rng rng(2);
    for (bool ta : {false, true})
        for (bool tb : {false, true})
            for (const std::array<int, 3>& mnk : {std::array<int, 3>{1, 1, 1}, {17, 5, 33}, {40, 70, 9}, {16, 16, 16}, {3, 100, 64}})
                for (int pad : {0, 3})
                    for (float beta : {0.0f, 0.5f}) {
                        const int M = mnk[0], N = mnk[1], K = mnk[2];  // (not a structured binding: C++17 lambdas, as INFO's, cannot capture one)
                        INFO("trans_a ", ta, " trans_b ", tb, " M ", M, " N ", N, " K ", K, " pad ", pad, " beta ", beta);
                        const int lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad, ldc = N + pad;
                        std::vector<float> A = random_values(size_t(ta ? K : M) * lda, rng);
                        std::vector<float> B = random_values(size_t(tb ? N : K) * ldb, rng);
                        std::vector<float> C = random_values(size_t(M) * ldc, rng), ref = C;
                        const size_t before = device.calls();
                        gemm(ta, tb, M, N, K, 1.5f, A.data(), lda, B.data(), ldb, beta, C.data(), ldc);
                        REQUIRE(device.calls() == before + 1);
                        gemm_naive(ta, tb, M, N, K, 1.5f, A.data(), lda, B.data(), ldb, beta, ref.data(), ldc);
                        for (size_t i = 0; i < C.size(); ++i) {
                            const bool gap = static_cast<int>(i % ldc) >= N;  // between rows: untouched
                            if (gap) REQUIRE(C[i] == ref[i]);
                            else REQUIRE(C[i] == doctest::Approx(ref[i]).epsilon(1e-4));
                        }
                    }
}

TEST_CASE("a DCGAN step with the backend on = the same step on OpenBLAS") {
    Switches keep;
    auto run_steps = [](bool on) {
        opencl::enabled() = on;
        opencl::min_flops() = 0;
        manual_seed(3);
        auto G = gan::dcgan_generator(16, 0.125f);
        auto D = gan::dcgan_discriminator(0.125f);
        // SGD: its update is linear in the gradient, so float rounding stays rounding-sized
        // (Adam's first step is lr * sign(g), which flips for gradients that round to ~0).
        optim::SGD optG(G->parameters(), 0.05f), optD(D->parameters(), 0.05f);
        Rng rng(4);
        std::vector<float> losses;
        for (int step = 0; step < 2; ++step) {
            Var real(rand_uniform({8, 1, 28, 28}, -1.0f, 1.0f, rng)), z(randn({8, 16}, rng));
            gan::StepStats s = gan::train_step(*G, *D, optG, optD, real, z);
            losses.push_back(s.d_loss);
            losses.push_back(s.g_loss);
        }
        return std::make_pair(losses, G->state_dict());
    };
    const size_t before = opencl::Device::get().calls();
    auto [device_losses, device_weights] = run_steps(true);
    CHECK(opencl::Device::get().calls() > before + 20);  // every Linear and convolution product
    auto [cpu_losses, cpu_weights] = run_steps(false);
    for (size_t i = 0; i < cpu_losses.size(); ++i) CHECK(device_losses[i] == doctest::Approx(cpu_losses[i]).epsilon(1e-3));
    for (size_t t = 0; t < cpu_weights.size(); ++t)
        for (size_t i = 0; i < cpu_weights[t].second.numel(); ++i)
            REQUIRE(device_weights[t].second[i] == doctest::Approx(cpu_weights[t].second[i]).epsilon(1e-3).scale(1e-2));
}

TEST_CASE("the environment switches: a number >= 0, or a clear error naming the variable") {
    ::unsetenv("MINIGAN_TEST_SWITCH");
    CHECK(opencl::environment_number("MINIGAN_TEST_SWITCH", 7.0) == 7.0);  // not set: the default
    ::setenv("MINIGAN_TEST_SWITCH", "2.5e6", 1);
    CHECK(opencl::environment_number("MINIGAN_TEST_SWITCH", 7.0) == 2.5e6);
    for (const char* bad : {"abc", "", "12x", "-1", "nan"}) {
        INFO("value: \"", bad, "\"");
        ::setenv("MINIGAN_TEST_SWITCH", bad, 1);
        CHECK_THROWS_WITH_AS(opencl::environment_number("MINIGAN_TEST_SWITCH", 7.0),
                             (std::string("MINIGAN_TEST_SWITCH must be a number >= 0, got \"") + bad + "\"").c_str(),
                             std::invalid_argument);
    }
    ::unsetenv("MINIGAN_TEST_SWITCH");
}
