// test_fast.cpp - every routine of include/minigan/fast/ against the reference it replaces.
//
// Each fast routine runs beside its reference (ReferencePath switches the fast routines off for
// a scope) on random shapes, odd sizes included, and the two must agree: exactly where the fast
// routine does the same operations in the same order (leaky_relu, dropout, Adam), within
// a stated tolerance where it sums in another order (BatchNorm, the tap convolutions, the
// stacked D pass) or uses another formula (tanh). A program compiled with -DMINIGAN_REFERENCE
// has no fast path, so this file is built only without it (CMakeLists.txt, tests/meson.build).
// Run one case: ./test_fast -tc="*BatchNorm*"
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <stdexcept>
#include <thread>

#include <minigan/core.hpp>
#include <minigan/gan/example_run.hpp>
#include <minigan/gan/models.hpp>
#include <minigan/gan/train_step.hpp>

#include "gradcheck.hpp"

#ifdef MINIGAN_REFERENCE
#error "test_fast.cpp compares the fast path with the reference: build it without -DMINIGAN_REFERENCE"
#endif

using namespace minigan;
using gradcheck_util::gradcheck;
using Vars = std::vector<Var>;

// Largest |a - b| relative to the largest |b| (1 at least).
static double max_rel_diff(const Tensor& a, const Tensor& b) {
    REQUIRE(a.shape == b.shape);
    double worst = 0.0, scale = 1.0;
    for (size_t i = 0; i < a.numel(); ++i) scale = std::max(scale, static_cast<double>(std::fabs(b[i])));
    for (size_t i = 0; i < a.numel(); ++i) worst = std::max(worst, static_cast<double>(std::fabs(a[i] - b[i])));
    return worst / scale;
}

// f() once on the fast path and once on the reference path: {fast, reference}.
template <class F>
static auto both_paths(F f) {
    auto fast_result = f();
    ReferencePath reference;
    return std::make_pair(fast_result, f());
}

// y and the gradients of every input of op(inputs), for a fixed random upstream gradient dy.
template <class Op>
static std::vector<Tensor> value_and_grads(Op op, const std::vector<Tensor>& inputs, const Tensor* dy_in = nullptr) {
    Vars vars;
    for (const Tensor& t : inputs) vars.emplace_back(t, true);
    Var y = op(vars);
    Rng rng(99);
    Tensor dy = dy_in ? *dy_in : randn(y.shape(), rng);
    y.backward(dy);
    std::vector<Tensor> out{y.value()};
    for (Var& v : vars) out.push_back(v.grad());
    return out;
}

TEST_CASE("the switch: fast path by default, ReferencePath turns it off for a scope, runtime_summary names it") {
    CHECK(fast_path());
    CHECK(std::string(path_name()) == "fast path");
    CHECK(runtime_summary().rfind("fast path; ", 0) == 0);
    {
        ReferencePath reference;
        CHECK_FALSE(fast_path());
        CHECK(runtime_summary().rfind("reference path; ", 0) == 0);
    }
    CHECK(fast_path());
}

// ---- fast/activations.hpp ---------------------------------------------------------------------

TEST_CASE("fast::leaky_relu = the reference exactly (forward and backward), odd sizes, big enough to split") {
    Rng rng(2);
    for (int n : {1, 7, 33, 300001})
        for (float slope : {0.0f, 0.2f}) {
            INFO("n = ", n, ", slope = ", slope);
            Tensor x = randn({n}, rng);
            if (n > 3) x[1] = 0.0f, x[2] = -0.0f;
            auto [fast, reference] = both_paths([&] {
                return value_and_grads([&](const Vars& v) { return leaky_relu(v[0], slope); }, {x});
            });
            CHECK(fast[0].data == reference[0].data);
            CHECK(fast[1].data == reference[1].data);
        }
}

TEST_CASE("fast::tanh = std::tanh within 4 float ulps, the same backward") {
    Rng rng(3);
    Tensor x = randn({200003}, rng, 0.0f, 3.0f);
    auto [fast, reference] = both_paths([&] {
        return value_and_grads([](const Vars& v) { return minigan::tanh(v[0]); }, {x});
    });
    CHECK(max_rel_diff(fast[0], reference[0]) < 4 * 6e-8);
    CHECK(max_rel_diff(fast[1], reference[1]) < 1e-6);
}

// Each build of the vectorised tanh kernel: the baseline one, and (x86-64) the AVX2 one where this
// CPU can run it; tanh_forward itself is whichever of the two this CPU gets.
using TanhKernel = void (*)(const float*, float*, size_t, size_t);
std::vector<std::pair<std::string, TanhKernel>> tanh_kernels() {
    std::vector<std::pair<std::string, TanhKernel>> kernels{
        {"tanh_forward", fast::tanh_forward}, {"tanh_forward_baseline", fast::tanh_forward_baseline}};
#if MINIGAN_X86_DISPATCH
    if (fast::cpu_has_avx2_fma())
        kernels.push_back({"tanh_forward_avx2", fast::tanh_forward_avx2});
    else
        MESSAGE("this CPU has no AVX2 + FMA: tanh_forward_avx2 is not tested here (tanh_forward runs the baseline)");
#endif
    return kernels;
}

TEST_CASE("fast::tanh_forward (the vectorised kernel, each build) agrees with std::tanh to a few float ulps everywhere") {
    // Both of its formulas and the switch between them at |x| = 0.625, tiny and huge inputs.
    std::vector<float> xs;
    for (float x = -12.0f; x <= 12.0f; x += 0.001f) xs.push_back(x);
    for (float x : {0.0f, -0.0f, 1e-30f, -1e-38f, 0.625f, -0.625f, 0.62499994f, 44.0f, 1e30f, -1e30f}) xs.push_back(x);
    for (const auto& named : tanh_kernels()) {
        const TanhKernel kernel = named.second;
        INFO(named.first);
        std::vector<float> ys(xs.size(), 7.0f);
        kernel(xs.data(), ys.data(), 0, ys.size());
        // The input of the largest error, and the first input whose sign the kernel changed: a
        // failure names them (one CHECK each, not one per input).
        double worst_ulps = 0.0;
        float worst_x = 0.0f;
        std::vector<float> sign_changed;
        for (size_t i = 0; i < xs.size(); ++i) {
            const double exact = std::tanh(static_cast<double>(xs[i]));
            const double ulp = std::max(std::fabs(exact), 1e-30) * 5.96e-8;  // float ulp ~ |value| * 2^-24
            const double ulps = std::fabs(ys[i] - exact) / ulp;
            if (ulps > worst_ulps) {
                worst_ulps = ulps;
                worst_x = xs[i];
            }
            if (std::signbit(ys[i]) != std::signbit(xs[i])) sign_changed.push_back(xs[i]);  // odd function, -0 stays -0
        }
        INFO(sign_changed.size(), " inputs whose sign changed, the first at x = ",
             sign_changed.empty() ? 0.0f : sign_changed[0]);
        CHECK(sign_changed.empty());
        INFO("the largest error, at x = ", worst_x);
        CHECK(worst_ulps < 4.0);
        float special[] = {INFINITY, -INFINITY, NAN};
        kernel(special, special, 0, 3);  // in place, too
        CHECK(special[0] == 1.0f);
        CHECK(special[1] == -1.0f);
        CHECK(std::isnan(special[2]));  // NaN stays NaN: training's NaN check depends on it
    }
}

// ---- fast/conv_taps.hpp: the tap path (one GEMM per kernel tap and row) = the im2col reference ----

// Runs its scope with fast::conv_algorithm() set to `a`, then puts back what was there.
struct UseConvAlgorithm {
    fast::ConvAlgorithm saved = fast::conv_algorithm();
    explicit UseConvAlgorithm(fast::ConvAlgorithm a) { fast::conv_algorithm() = a; }
    ~UseConvAlgorithm() { fast::conv_algorithm() = saved; }
};

// y, dx, dW, db of conv2d (or conv_transpose2d) on the given path, for a fixed upstream gradient.
static std::vector<Tensor> conv_with_grads(fast::ConvAlgorithm a, bool transposed, const Tensor& x, const Tensor& w,
                                           const Tensor& b, int s, int p, int op, const Tensor* dy) {
    UseConvAlgorithm use(a);
    Var vx(x, true), vw(w, true), vb(b, true);
    Var y = transposed ? conv_transpose2d(vx, vw, vb, s, p, op) : conv2d(vx, vw, vb, s, p);
    if (!dy) return {y.value()};
    y.backward(*dy);
    return {y.value(), vx.grad(), vw.grad(), vb.grad()};
}

TEST_CASE("tap GEMMs match the naive loops (forward) and the im2col path (every gradient): kernel 1..5, "
          "stride 1..3, padding 0..2") {
    Rng rng(39);
    int cases = 0;
    for (bool transposed : {false, true})
        for (int k = 1; k <= 5; ++k)
            for (int s = 1; s <= 3; ++s)
                for (int p = 0; p <= 2; ++p) {
                    const int op = transposed ? cases % s : 0;
                    const int N = 1 + cases % 5, C = 1 + cases % 3, O = 1 + (cases / 2) % 4;
                    const int H = std::max(1, k - 2 * p) + cases % 5, W = std::max(1, k - 2 * p) + (cases * 3 + 1) % 6;
                    if (transposed && ((H - 1) * s - 2 * p + k + op < 1 || (W - 1) * s - 2 * p + k + op < 1)) continue;
                    INFO((transposed ? "conv_transpose2d" : "conv2d"), " k = ", k, ", s = ", s, ", p = ", p, ", op = ", op,
                         ", x (", N, ", ", C, ", ", H, ", ", W, "), O = ", O);
                    Tensor x = randn({N, C, H, W}, rng), b = randn({O}, rng);
                    Tensor w = transposed ? randn({C, O, k, k}, rng) : randn({O, C, k, k}, rng);
                    Tensor ref = transposed ? conv_transpose2d_naive(x, w, &b, s, p, op) : conv2d_naive(x, w, &b, s, p);
                    Tensor dy = randn(ref.shape, rng);
                    std::vector<Tensor> tap = conv_with_grads(fast::ConvAlgorithm::tap_gemm, transposed, x, w, b, s, p, op, &dy);
                    std::vector<Tensor> col = conv_with_grads(fast::ConvAlgorithm::im2col, transposed, x, w, b, s, p, op, &dy);
                    CHECK(max_rel_diff(tap[0], ref) < 1e-5);
                    for (size_t i = 1; i < 4; ++i) CHECK(max_rel_diff(tap[i], col[i]) < 1e-5);
                    ++cases;
                }
    CHECK(cases > 80);
    // The automatic choice takes the tap path for a long enough row (N * width >= 64) and 8 or more
    // channels in and out: same numbers.
    Tensor x = randn({16, 8, 9, 8}, rng), w = randn({8, 8, 3, 3}, rng), b = randn({8}, rng);
    for (int s : {1, 2})
        CHECK(max_rel_diff(conv_with_grads(fast::ConvAlgorithm::automatic, false, x, w, b, s, 1, 0, nullptr)[0],
                           conv2d_naive(x, w, &b, s, 1)) < 1e-5);
}

TEST_CASE("gradcheck: conv2d and conv_transpose2d on the tap path, stride 1 and 2") {
    UseConvAlgorithm use(fast::ConvAlgorithm::tap_gemm);
    Rng rng(40);
    gradcheck([](const Vars& v) { return conv2d(v[0], v[1], v[2], 1, 1); },
              {randn({2, 2, 4, 5}, rng), randn({3, 2, 3, 3}, rng), randn({3}, rng)}, {}, "conv2d s1 (taps)");
    gradcheck([](const Vars& v) { return conv2d(v[0], v[1], v[2], 2, 2); },
              {randn({2, 2, 6, 5}, rng), randn({3, 2, 5, 5}, rng), randn({3}, rng)}, {}, "conv2d s2 (taps)");
    gradcheck([](const Vars& v) { return conv_transpose2d(v[0], v[1], v[2], 1, 2, 0); },
              {randn({2, 3, 4, 3}, rng), randn({3, 2, 5, 5}, rng), randn({2}, rng)}, {}, "conv_transpose2d s1 (taps)");
    gradcheck([](const Vars& v) { return conv_transpose2d(v[0], v[1], v[2], 2, 2, 1); },
              {randn({2, 3, 3, 4}, rng), randn({3, 2, 5, 5}, rng), randn({2}, rng)}, {}, "conv_transpose2d s2 (taps)");
    gradcheck([](const Vars& v) { return conv2d(conv_transpose2d(v[0], v[1], Var(), 2, 1, 1), v[2], Var(), 2, 1); },
              {randn({2, 2, 3, 3}, rng), randn({2, 3, 3, 3}, rng), randn({2, 3, 3, 3}, rng)}, {}, "conv(convT(x)) (taps)");
    // x used twice: the second backward must add to dx, not overwrite it.
    gradcheck([](const Vars& v) { return conv2d(v[0], v[1], Var(), 2, 1) + conv2d(v[0], v[2], Var(), 2, 1); },
              {randn({1, 2, 5, 4}, rng), randn({3, 2, 3, 3}, rng), randn({3, 2, 3, 3}, rng)}, {}, "conv(x) + conv(x) (taps)");
}


// ---- fast/channel_bias.hpp ----------------------------------------------------------------------

TEST_CASE("fast::add_channel_bias = the reference exactly; fast::channel_bias_grad within 1e-6, odd sizes, "
          "big enough to split") {
    Rng rng(42);
    struct Size { int N, O; size_t plane; };
    for (const Size sz : {Size{1, 1, 1}, Size{3, 5, 7}, Size{32, 1, 784}, Size{16, 48, 196}, Size{5, 3, 1001}}) {
        INFO("N = ", sz.N, ", O = ", sz.O, ", plane = ", sz.plane);
        const Tensor y0 = randn({sz.N, sz.O, static_cast<int>(sz.plane)}, rng), b = randn({sz.O}, rng);
        const Tensor db0 = randn({sz.O}, rng);  // gradients accumulate: start from something
        Tensor y_fast = y0, y_ref = y0, db_fast = db0, db_ref = db0;
        fast::add_channel_bias(y_fast.ptr(), b.ptr(), sz.N, sz.O, sz.plane);
        fast::channel_bias_grad(y0.ptr(), sz.N, sz.O, sz.plane, db_fast.ptr());
        {
            ReferencePath reference;
            add_channel_bias(y_ref.ptr(), b.ptr(), sz.N, sz.O, sz.plane);
            channel_bias_grad(y0.ptr(), sz.N, sz.O, sz.plane, db_ref.ptr());
        }
        CHECK(max_rel_diff(y_fast, y_ref) == 0.0);
        CHECK(max_rel_diff(db_fast, db_ref) < 1e-6);
        CHECK(max_rel_diff(y_ref, y0) > 0.0);  // the reference did add the bias
    }
}

// ---- fast/dropout.hpp ----------------------------------------------------------------------------

TEST_CASE("fast::dropout = the reference exactly: the same mask from the same seed, forward and backward") {
    Rng rng(8);
    for (int n : {1, 5, 1000, 300007})
        for (float p : {0.1f, 0.5f}) {
            INFO("n = ", n, ", p = ", p);
            const Tensor x = randn({n}, rng);
            auto [fast, reference] = both_paths([&] {
                Rng mask_rng(77);
                return value_and_grads([&](const Vars& v) { return dropout(v[0], p, true, mask_rng); }, {x});
            });
            CHECK(fast[0].data == reference[0].data);
            CHECK(fast[1].data == reference[1].data);
            size_t dropped = 0;
            for (float v : fast[0].data) dropped += v == 0.0f;
            if (n >= 1000) CHECK(std::fabs(static_cast<double>(dropped) / n - p) < 0.05);  // a mask, not all kept
        }
}

// ---- fast/adam.hpp ----------------------------------------------------------------------------

TEST_CASE("fast::adam_update = the reference Adam step exactly, three steps, odd sizes") {
    Rng rng(4);
    for (int n : {1, 3, 5, 17, 262147}) {
        INFO("n = ", n);
        const Tensor p0 = randn({n}, rng);
        std::vector<Tensor> grads;
        for (int s = 0; s < 3; ++s) grads.push_back(randn({n}, rng));
        auto [fast, reference] = both_paths([&] {
            Var p(p0, true);
            optim::Adam adam({p}, 1e-2f, 0.5f, 0.999f);
            for (const Tensor& g : grads) {
                p.grad() = g;
                adam.step();
            }
            StateDict state = adam.state_dict();
            return std::vector<Tensor>{p.value(), state[1].second, state[2].second};
        });
        for (size_t i = 0; i < 3; ++i) CHECK(fast[i].data == reference[i].data);
        CHECK(fast[0].data != p0.data);  // the step moved p
    }
}

// ---- fast/batchnorm.hpp -----------------------------------------------------------------------

TEST_CASE("fast::batch_norm = the reference: outputs, running statistics and every gradient, 1d and 2d, "
          "training and eval, odd sizes") {
    Rng rng(5);
    struct Case { Shape shape; };
    for (const Shape& shape : {Shape{2, 3}, Shape{37, 5}, Shape{64, 130}, Shape{2, 3, 1, 1}, Shape{3, 5, 7, 9},
                               Shape{16, 40, 7, 7}, Shape{5, 1, 3, 2}}) {
        const int C = shape[1];
        for (bool training : {true, false}) {
            INFO("x ", shape_str(shape), training ? ", training" : ", eval");
            const Tensor x = randn(shape, rng, 0.5f, 2.0f), gamma = randn({C}, rng, 1.0f, 0.3f), beta = randn({C}, rng);
            const Tensor mean0 = randn({C}, rng), var0 = rand_uniform({C}, 0.5f, 2.0f, rng);
            auto [fast, reference] = both_paths([&] {
                Tensor mean = mean0, var = var0;
                std::vector<Tensor> r = value_and_grads(
                    [&](const Vars& v) { return batch_norm(v[0], v[1], v[2], mean, var, training, 0.1f, 1e-5f); },
                    {x, gamma, beta});
                r.push_back(mean);
                r.push_back(var);
                return r;
            });
            const char* names[] = {"y", "dx", "dgamma", "dbeta", "running_mean", "running_var"};
            for (size_t i = 0; i < fast.size(); ++i) {
                INFO(names[i]);
                CHECK(max_rel_diff(fast[i], reference[i]) < 2e-5);
            }
        }
    }
}

// ---- fast/stacked_d.hpp: D on [real; fake] in one pass = two passes ----------------------------

TEST_CASE("fast::stacked_discriminator_loss = the two passes of gan::discriminator_loss: loss, D(x), D(G(z)), "
          "every gradient of D; packs of images; an error for a pack that would mix real and fake") {
    Rng rng(6);
    for (int pack : {1, 2}) {
        INFO("pack ", pack);
        manual_seed(8);
        auto D = gan::dcgan_discriminator(0.25f, 1, pack);
        D->train();
        for (size_t i = 0; i < D->size(); ++i)  // no Dropout: one mask over 2N rows is not two over N
            if (auto* drop = dynamic_cast<nn::Dropout*>(&(*D)[i])) drop->p = 0.0f;
        const Tensor real = rand_uniform({6, 1, 28, 28}, -1.0f, 1.0f, rng), fake = rand_uniform({4, 1, 28, 28}, -1.0f, 1.0f, rng);
        auto run = [&] {
            for (Var& p : D->parameters()) p.grad().fill(0.0f);
            float d_real = 0, d_fake = 0;
            Var loss = gan::discriminator_loss(*D, Var(real), Var(fake), 0.9f, d_real, d_fake);
            loss.backward();
            std::vector<Tensor> r{Tensor({3}, {loss.item(), d_real, d_fake})};
            for (Var& p : D->parameters()) r.push_back(p.grad());
            return r;
        };
        auto [fast, reference] = both_paths(run);
        CHECK(max_rel_diff(fast[0], reference[0]) < 1e-5);
        for (size_t i = 1; i < fast.size(); ++i) {
            INFO("parameter ", i - 1);
            CHECK(max_rel_diff(fast[i], reference[i]) < 1e-4);
        }
        double total = 0;
        for (size_t i = 1; i < fast.size(); ++i)
            for (float g : fast[i].data) total += std::fabs(g);
        CHECK(total > 0.0);  // gradients reached D
    }
    manual_seed(9);
    auto D = gan::dcgan_discriminator(0.25f, 1, 2);
    float d_real = 0, d_fake = 0;
    CHECK_THROWS_WITH_AS(fast::stacked_discriminator_loss(*D, Var(Tensor({3, 1, 28, 28})), Var(Tensor({3, 1, 28, 28})),
                                                          1.0f, d_real, d_fake),
                         doctest::Contains("a pack of images would mix the two"), std::invalid_argument);
}

TEST_CASE("fast::mixes_batch: BatchNorm in training mode keeps D on two passes") {
    auto D = nn::make<nn::Sequential>(nn::make<nn::Linear>(5, 6));
    CHECK_FALSE(fast::mixes_batch(*D));
    D->add(nn::make<nn::BatchNorm1d>(6));
    CHECK(fast::mixes_batch(*D));
    D->eval();
    CHECK_FALSE(fast::mixes_batch(*D));
}

// ---- a whole training step ----------------------------------------------------------------------

// gan::train_step over the batches (real, z) with Adam(lr, beta1 0.5) for both: the losses and
// D's outputs of every step, then every tensor of G's and D's state after them.
static std::vector<Tensor> train_steps(nn::Module& G, nn::Module& D, float lr,
                                       const std::vector<std::pair<Tensor, Tensor>>& batches) {
    optim::Adam oG(G.parameters(), lr, 0.5f), oD(D.parameters(), lr, 0.5f);
    std::vector<float> stats;
    for (auto& [real, z] : batches) {
        gan::StepStats s = gan::train_step(G, D, oG, oD, Var(real), Var(z));
        stats.insert(stats.end(), {s.d_loss, s.g_loss, s.d_real, s.d_fake});
    }
    std::vector<Tensor> r{Tensor({static_cast<int>(stats.size())}, stats)};
    for (nn::Module* M : {&G, &D})
        for (auto& [name, t] : M->state_dict()) r.push_back(t);
    return r;
}

TEST_CASE("gan::train_step on the fast path = on the reference path: three DCGAN steps, the weights after them") {
    Rng rng(7);
    auto make = [] {
        manual_seed(11);
        auto G = gan::dcgan_generator(16, 0.125f);
        auto D = gan::dcgan_discriminator(0.125f, 1, 1);
        for (size_t i = 0; i < D->size(); ++i)
            if (auto* drop = dynamic_cast<nn::Dropout*>(&(*D)[i])) drop->p = 0.0f;
        return std::make_pair(G, D);
    };
    std::vector<std::pair<Tensor, Tensor>> batches;
    for (int s = 0; s < 3; ++s) batches.emplace_back(rand_uniform({8, 1, 28, 28}, -1.0f, 1.0f, rng), randn({8, 16}, rng));
    auto run = [&] {
        auto [G, D] = make();
        return train_steps(*G, *D, 2e-4f, batches);
    };
    auto [fast, reference] = both_paths(run);
    REQUIRE(fast.size() == reference.size());
    CHECK(max_rel_diff(fast[0], reference[0]) < 1e-4);
    for (size_t i = 1; i < fast.size(); ++i) CHECK(max_rel_diff(fast[i], reference[i]) < 1e-4);
}

// The step team (fast/team.hpp), at 2 threads whatever the machine has; restores what it changes.
struct TwoThreadTeam {
    int threads_before = num_threads();
    bool team_before = fast::step_team_enabled();
    TwoThreadTeam() { set_num_threads(2); fast::step_team_enabled() = true; }
    ~TwoThreadTeam() { set_num_threads(threads_before); fast::step_team_enabled() = team_before; }
};

TEST_CASE("fast::on_team: every piece runs once, piece 1 on the other thread; no nested forks; exceptions reach the caller") {
#ifndef _OPENMP
    MESSAGE("compiled without OpenMP: there is no team to test");
#else
    TwoThreadTeam two;
    REQUIRE(fast::team_wanted());
    constexpr int kForks = 20000;
    std::vector<int> runs(2, 0), nested_forks(2, 0);
    std::vector<std::thread::id> ran_on(2);
    const long forks_before = fast::team_forks().load();
    const int result = fast::on_team([&] {
        for (int i = 0; i < kForks; ++i)
            fast::team_fork(2, [&](int t, int T) {
                if (T != 2) return;  // counted as missing below
                ++runs[t];
                ran_on[t] = std::this_thread::get_id();
                nested_forks[t] += fast::team_fork(2, [](int, int) {});  // false inside a piece
            });
        return 42;
    });
    CHECK(result == 42);
    CHECK(runs[0] == kForks);
    CHECK(runs[1] == kForks);
    CHECK(ran_on[0] == std::this_thread::get_id());  // the leader is the calling thread
    CHECK(ran_on[1] != ran_on[0]);
    CHECK(nested_forks[0] == 0);
    CHECK(nested_forks[1] == 0);
    CHECK(fast::team_forks().load() - forks_before == kForks);
    CHECK_FALSE(fast::team_fork(2, [](int, int) {}));  // no team outside on_team
    CHECK_THROWS_WITH_AS(fast::on_team([]() -> int { throw std::runtime_error("inside the step"); }), "inside the step",
                         std::runtime_error);
    CHECK_THROWS_WITH_AS(fast::on_team([]() -> int {  // thrown by the leader's own piece of a fork
                             fast::team_fork(2, [](int t, int) {
                                 if (t == 0) throw std::runtime_error("inside a piece");
                             });
                             return 0;
                         }),
                         "inside a piece", std::runtime_error);
    CHECK(fast::on_team([] { return 7; }) == 7);  // and the next team works
#endif
}

TEST_CASE("fast::on_team from two threads at once: each leads its own team and gets all its pieces done") {
#ifndef _OPENMP
    MESSAGE("compiled without OpenMP: there is no team to test");
#else
    TwoThreadTeam two;
    constexpr int kForks = 2000;
    std::vector<std::vector<int>> runs(2, std::vector<int>(2, 0));
    std::vector<int> wanted(2, 0);
    auto lead = [&](int who) {
        set_num_threads(2);  // OpenMP's thread count is per thread: this one's
        wanted[who] = fast::team_wanted();
        fast::on_team([&] {
            for (int i = 0; i < kForks; ++i) fast::team_fork(2, [&](int t, int) { ++runs[who][t]; });
            return 0;
        });
    };
    std::thread a(lead, 0), b(lead, 1);
    a.join();
    b.join();
    for (int who = 0; who < 2; ++who) {
        CHECK(wanted[who] == 1);
        CHECK(runs[who][0] == kForks);
        CHECK(runs[who][1] == kForks);
    }
#endif
}

TEST_CASE("gan::train_step on a step team = without one, bit for bit: three steps of the demo's models at 2 threads") {
#ifndef _OPENMP
    MESSAGE("compiled without OpenMP: there is no team to test");
#else
    TwoThreadTeam two;
    Rng rng(5);
    std::vector<std::pair<Tensor, Tensor>> batches;
    for (int s = 0; s < 3; ++s) batches.emplace_back(rand_uniform({32, 1, 28, 28}, -1.0f, 1.0f, rng), randn({32, 100}, rng));
    auto run = [&] {
        manual_seed(3);
        auto G = gan::dcgan_generator(100, 0.25f);
        auto D = gan::dcgan_discriminator(0.75f, 1, 2);
        gan::set_dropout(*D, 0.0f);
        return train_steps(*G, *D, 5e-4f, batches);
    };
    const long forks_before = fast::team_forks().load();
    const std::vector<Tensor> on_team = run();
    const long forks = fast::team_forks().load() - forks_before;
    fast::step_team_enabled() = false;
    const std::vector<Tensor> without = run();
    CHECK(forks >= 3 * 20);  // the team really took the step's pieces (~55 a step)
    CHECK(fast::team_forks().load() - forks_before == forks);  // and none without it
    REQUIRE(on_team.size() == without.size());
    for (size_t i = 0; i < on_team.size(); ++i) CHECK(max_rel_diff(on_team[i], without[i]) == 0.0);
#endif
}

TEST_CASE("gan::sample on a team = without one, bit for bit: the demo's generator, 64 images at 2 threads") {
#ifndef _OPENMP
    MESSAGE("compiled without OpenMP: there is no team to test");
#else
    TwoThreadTeam two;
    manual_seed(4);
    auto G = gan::dcgan_generator(100, 0.25f);
    const Var z(randn({64, 100}));
    const long forks_before = fast::team_forks().load();
    const Tensor on_team = gan::sample(*G, z);
    const long forks = fast::team_forks().load() - forks_before;
    fast::step_team_enabled() = false;
    const Tensor without = gan::sample(*G, z);
    CHECK(forks >= 5);  // the team took the forward pass's pieces
    CHECK(fast::team_forks().load() - forks_before == forks);  // and none without it
    REQUIRE(on_team.shape == without.shape);
    CHECK(max_rel_diff(on_team, without) == 0.0);
#endif
}

TEST_CASE("tap GEMMs on two threads (forward and dx by parts of each plane or, when small, by rows; dW by "
          "taps) = on one thread, and = the im2col path") {
#ifndef _OPENMP
    MESSAGE("compiled without OpenMP: there is no second thread to test");
#else
    Rng rng(41);
    struct Layer { bool transposed; Shape x, w; int s, p, op; };
    // The demo generator's second transposed convolution (32 -> 16 channels, 7x7 -> 14x14), a
    // 16 -> 16 channel conv2d (16 rows in y and dx), a 32 -> 48 one (48 rows, three tiles for two
    // threads) and a small 3x3 one whose products are split by rows.
    for (const Layer& l : {Layer{true, {32, 32, 7, 7}, {32, 16, 5, 5}, 2, 2, 1}, Layer{false, {16, 16, 14, 14}, {16, 16, 5, 5}, 2, 2, 0},
                           Layer{false, {16, 32, 14, 14}, {48, 32, 5, 5}, 2, 2, 0}, Layer{false, {4, 32, 8, 8}, {32, 32, 3, 3}, 1, 1, 0}}) {
        INFO((l.transposed ? "conv_transpose2d" : "conv2d"), " x ", shape_str(l.x));
        const Tensor x = randn(l.x, rng), w = randn(l.w, rng), b = randn({l.w[l.transposed ? 1 : 0]}, rng);
        const Tensor ref = l.transposed ? conv_transpose2d_naive(x, w, &b, l.s, l.p, l.op) : conv2d_naive(x, w, &b, l.s, l.p);
        const Tensor dy = randn(ref.shape, rng);
        auto taps = [&] { return conv_with_grads(fast::ConvAlgorithm::tap_gemm, l.transposed, x, w, b, l.s, l.p, l.op, &dy); };
        TwoThreadTeam two;
        const std::vector<Tensor> col = conv_with_grads(fast::ConvAlgorithm::im2col, l.transposed, x, w, b, l.s, l.p, l.op, &dy);
        const long forks_before = fast::team_forks().load();
        const std::vector<Tensor> on_team = fast::on_team(taps);
        CHECK(fast::team_forks().load() - forks_before >= 3);
        fast::step_team_enabled() = false;
        const std::vector<Tensor> two_threads = taps();
        set_num_threads(1);
        const std::vector<Tensor> one_thread = taps();
        CHECK(max_rel_diff(one_thread[0], ref) < 1e-5);
        for (size_t i = 0; i < 4; ++i) {
            INFO("output ", i, " (y, dx, dW, db)");
            CHECK(max_rel_diff(one_thread[i], col[i]) < 1e-5);
            CHECK(max_rel_diff(two_threads[i], one_thread[i]) < 1e-6);
            CHECK(max_rel_diff(on_team[i], two_threads[i]) == 0.0);  // the same cut, team or not
        }
        CHECK(max_rel_diff(two_threads[2], one_thread[2]) == 0.0);  // dW: the same products, taps shared out
    }
#endif
}
