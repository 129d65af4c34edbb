// test_anogan.cpp - gan/anogan.hpp and gan/code_score.hpp: the AnoGAN, izi_f and relative
// residual scores against their formulas, the Mahalanobis distance by hand, latent search and
// encoder training lower their losses, queries are searched independently, G and D come back
// unchanged, and on a small synthetic problem (normal = a filled square, anomaly = a bar) a GAN
// trained for seconds lets every method reach AUROC > 0.9.
// Run one case: ./test_anogan -tc="*synthetic*"
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <minigan/gan/anogan.hpp>
#include <minigan/gan/code_score.hpp>
#include <minigan/gan/metrics.hpp>
#include <minigan/gan/train_step.hpp>
#include <minigan/minigan.hpp>

using namespace minigan;

constexpr int kLatent = 8;
constexpr float kWidth = 0.125f;  // G: 32, 16, 8 channels; D: 8, 16: small enough for seconds

// n images of 28x28 on a black (-1) background: a white 10x10 square at a random place near the
// centre (label 0, normal), or a 4x24 white bar at a random height (label 1, anomaly).
static data::Dataset shapes(int n, bool bars, Rng& rng) {
    data::Dataset d;
    d.images = Tensor({n, 1, 28, 28}, -1.0f);
    for (int k = 0; k < n; ++k) {
        float* image = d.images.ptr() + static_cast<size_t>(k) * 784;
        if (!bars) {
            const int x0 = 8 + static_cast<int>(rng.uniform() * 5), y0 = 8 + static_cast<int>(rng.uniform() * 5);
            for (int y = y0; y < y0 + 10; ++y)
                for (int x = x0; x < x0 + 10; ++x) image[y * 28 + x] = 1.0f;
        } else {
            const int y0 = 4 + static_cast<int>(rng.uniform() * 18);
            for (int y = y0; y < y0 + 4; ++y)
                for (int x = 2; x < 26; ++x) image[y * 28 + x] = 1.0f;
        }
        d.labels.push_back(bars ? 1 : 0);
    }
    return d;
}

static double max_abs_diff(const Tensor& a, const Tensor& b) {
    REQUIRE(a.shape == b.shape);
    double m = 0.0;
    for (size_t i = 0; i < a.numel(); ++i) m = std::max(m, static_cast<double>(std::fabs(a[i] - b[i])));
    return m;
}

TEST_CASE("anogan_loss and izif_score follow their formulas") {
    manual_seed(1);
    auto G = gan::dcgan_generator(kLatent, kWidth);
    auto D = gan::dcgan_discriminator(kWidth);
    auto E = gan::dcgan_encoder(kLatent, kWidth);
    G->eval(), D->eval(), E->eval();
    Rng rng(4);
    Tensor x = rand_uniform({3, 1, 28, 28}, -1.0f, 1.0f, rng);
    Tensor z = randn({3, kLatent}, rng);

    NoGrad no_grad;
    const Tensor gz = (*G)(Var(z)).value(), fx = D->forward_until(Var(x), 6).value(),
                 fg = D->forward_until(Var(gz), 6).value();
    const size_t n = 784, n_f = fx.numel() / 3;
    // AnoGAN, by hand: (1 - l) sum|x - G(z)| + l sum|f(x) - f(G(z))| for each query.
    Var loss = gan::anogan_loss(*G, *D, 6, Var(x), Var(fx), Var(z), 0.1f);
    REQUIRE(loss.shape() == Shape{3});
    for (size_t q = 0; q < 3; ++q) {
        double r = 0.0, dl = 0.0;
        for (size_t i = 0; i < n; ++i) r += std::fabs(x[q * n + i] - gz[q * n + i]);
        for (size_t i = 0; i < n_f; ++i) dl += std::fabs(fx[q * n_f + i] - fg[q * n_f + i]);
        CHECK(loss.value()[q] == doctest::Approx(0.9 * r + 0.1 * dl).epsilon(1e-5));
    }
    // izi_f, by hand: ||x - G(E(x))||^2 / n + kappa ||f(x) - f(G(E(x)))||^2 / n_f.
    const Tensor gex = (*G)((*E)(Var(x))).value(), fgex = D->forward_until(Var(gex), 6).value();
    Var score = gan::izif_score(*G, *D, *E, 6, Var(x), 2.0f);
    REQUIRE(score.shape() == Shape{3});
    for (size_t q = 0; q < 3; ++q) {
        double r = 0.0, f = 0.0;
        for (size_t i = 0; i < n; ++i) r += std::pow(x[q * n + i] - gex[q * n + i], 2);
        for (size_t i = 0; i < n_f; ++i) f += std::pow(fx[q * n_f + i] - fgex[q * n_f + i], 2);
        CHECK(f > 0.0);  // the feature term is really there
        CHECK(score.value()[q] == doctest::Approx(r / n + 2.0 * f / n_f).epsilon(1e-5));
    }
    // The batched scorer gives the same numbers, whatever the batch size, and E's codes with them.
    auto encoded = gan::encode_queries(*G, *D, *E, 6, x, 2.0f, 2);
    const Tensor codes = (*E)(Var(x)).value();
    CHECK(encoded.codes.shape == Shape{3, kLatent});
    CHECK(max_abs_diff(encoded.codes, codes) < 1e-6);
    CHECK(max_abs_diff(encoded.generated, gex) < 1e-6);
    for (size_t q = 0; q < 3; ++q) {
        CHECK(encoded.izif[q] == doctest::Approx(score.value()[q]).epsilon(1e-5));
        // relative residual, by hand: ||x - g||^2 / (||x + 1||^2 + ||g + 1||^2)
        double r = 0.0, ink = 0.0;
        for (size_t i = 0; i < n; ++i)
            r += std::pow(x[q * n + i] - gex[q * n + i], 2), ink += std::pow(x[q * n + i] + 1, 2) + std::pow(gex[q * n + i] + 1, 2);
        CHECK(encoded.relative[q] == doctest::Approx(r / ink).epsilon(1e-5));
    }
    CHECK(gan::izif_scores(*G, *D, *E, 6, x, 2.0f) == encoded.izif);
}

TEST_CASE("latent_search_batches: the searches of its batches, put together") {
    manual_seed(3);
    auto G = gan::dcgan_generator(kLatent, kWidth);
    auto D = gan::dcgan_discriminator(kWidth);
    Rng rng(6);
    const Tensor x = rand_uniform({5, 1, 28, 28}, -1.0f, 1.0f, rng);
    gan::LatentSearchOptions opt;
    opt.steps = 3;
    opt.seed = 10;
    std::vector<size_t> reported;
    const auto all = gan::latent_search_batches(*G, *D, x, kLatent, opt, 2,
                                                [&](size_t done, const gan::LatentSearchResult&) { reported.push_back(done); });
    CHECK(reported == std::vector<size_t>{2, 4, 5});
    REQUIRE(all.scores.size() == 5);
    CHECK(all.z.shape == Shape{5, kLatent});
    CHECK(all.generated.shape == x.shape);
    // The last batch (query 4 alone) is latent_search on that query with seed 10 + 4.
    opt.seed = 14;
    const auto last = gan::latent_search(*G, *D, data::image_range(data::Dataset{x, {0, 0, 0, 0, 0}}, 4, 1), kLatent, opt);
    CHECK(all.scores[4] == last.scores[0]);
    for (int i = 0; i < kLatent; ++i) CHECK(all.z[static_cast<size_t>(4 * kLatent + i)] == last.z[static_cast<size_t>(i)]);
    CHECK(all.generated[4 * 784 + 300] == last.generated[300]);
}

TEST_CASE("relative residual by hand") {
    const float x[4] = {1, 1, -1, -1}, same[4] = {1, 1, -1, -1}, disjoint[4] = {-1, -1, 1, 1}, half[4] = {0, 0, -1, -1};
    CHECK(gan::relative_residual(x, same, 4) == 0.0f);
    CHECK(gan::relative_residual(x, disjoint, 4) == doctest::Approx(1.0));  // 4*4 / (8 + 8)
    CHECK(gan::relative_residual(x, half, 4) == doctest::Approx(0.2));      // (1 + 1) / (8 + 2)
}

TEST_CASE("LatentGaussian: Mahalanobis distance by hand") {
    // Codes (1, 1), (-1, -1), (0.5, -0.5), (-0.5, 0.5): mean 0; the sum of the outer products is
    //   [[2.5, 1.5], [1.5, 2.5]], the unbiased covariance (divided by N - 1 = 3)
    //   [[5/6, 1/2], [1/2, 5/6]], determinant 4/9, inverse [[1.875, -1.125], [-1.125, 1.875]].
    const Tensor codes({4, 2}, std::vector<float>{1, 1, -1, -1, 0.5f, -0.5f, -0.5f, 0.5f});
    auto g = gan::LatentGaussian::fit(codes, 0.0);
    const float a[2] = {1, 0}, b[2] = {1, 1}, c[2] = {1, -1};
    CHECK(g.mahalanobis(a) == doctest::Approx(1.875));  // 1.875
    CHECK(g.mahalanobis(b) == doctest::Approx(1.5));    // 1.875 - 1.125 - 1.125 + 1.875: along the spread, near
    CHECK(g.mahalanobis(c) == doctest::Approx(6.0));    // 1.875 + 1.125 + 1.125 + 1.875: across it, far
    CHECK(g.mahalanobis(Tensor({2, 2}, std::vector<float>{1, 1, 1, -1})) == std::vector<float>{1.5f, 6.0f});
    // A ridge keeps a direction without spread invertible: all codes on the line y = 0
    // (x: 1, -1, 0, variance 2 / (3 - 1) = 1).
    const Tensor flat({3, 2}, std::vector<float>{1, 0, -1, 0, 0, 0});
    CHECK_THROWS_AS(gan::LatentGaussian::fit(flat, 0.0), std::runtime_error);
    CHECK(gan::LatentGaussian::fit(flat, 1e-3).mahalanobis(a) == doctest::Approx(1.0 / (1.0 + 1e-3)));
    CHECK_THROWS_AS(g.mahalanobis(Tensor({1, 3})), std::invalid_argument);

    auto s = gan::Standardizer::fit({1, 3});  // mean 2, sd 1
    CHECK(s(4.0f) == doctest::Approx(2.0));
}

TEST_CASE("LatentGaussian is eval::fit_gaussian's Gaussian: L L^T = its covariance + ridge I") {
    Rng rng(5);
    Tensor codes = randn({50, 4}, rng);
    for (size_t i = 0; i < codes.numel(); i += 4) codes[i + 1] += 0.7f * codes[i];  // correlated columns
    const double ridge = 1e-3;
    const auto g = gan::LatentGaussian::fit(codes, ridge);
    const eval::Gaussian fitted = eval::fit_gaussian(codes);
    for (int i = 0; i < 4; ++i) {
        CHECK(g.mean[static_cast<size_t>(i)] == doctest::Approx(fitted.mean[static_cast<size_t>(i)]));
        for (int j = 0; j < 4; ++j) {
            double llt = 0.0;
            for (int k = 0; k < 4; ++k) llt += g.L[static_cast<size_t>(i * 4 + k)] * g.L[static_cast<size_t>(j * 4 + k)];
            CHECK(llt == doctest::Approx(fitted.cov(i, j) + (i == j ? ridge : 0.0)).epsilon(1e-9));
        }
    }
}

TEST_CASE("latent search lowers its loss and finds a z that G can reproduce") {
    manual_seed(2);
    auto G = gan::dcgan_generator(kLatent, kWidth);
    auto D = gan::dcgan_discriminator(kWidth);
    // Queries G can draw exactly: x = G(z*) for random z*. The search starts elsewhere.
    G->eval();
    Rng rng(5);
    Tensor x;
    {
        NoGrad no_grad;
        x = (*G)(Var(randn({4, kLatent}, rng))).value();
    }
    G->train();
    const Tensor weights_before = G->parameters()[0].value();

    gan::LatentSearchOptions opt;
    opt.steps = 40;
    opt.lr = 0.1f;
    auto result = gan::latent_search(*G, *D, x, kLatent, opt);
    REQUIRE(result.loss_curve.size() == 41);
    REQUIRE(result.scores.size() == 4);
    CHECK(result.loss_curve.back() < 0.5f * result.loss_curve.front());
    // The scores are the final losses: their mean is the last point of the curve.
    double mean = 0.0;
    for (float s : result.scores) mean += s / 4.0;
    CHECK(mean == doctest::Approx(result.loss_curve.back()).epsilon(1e-4));
    CHECK(result.generated.shape == x.shape);
    CHECK(result.z.shape == Shape{4, kLatent});
    // G and D are put back as they were: same weights, training mode, trainable.
    CHECK(max_abs_diff(G->parameters()[0].value(), weights_before) == 0.0);
    CHECK(G->is_training());
    CHECK(D->is_training());
    for (const Var& p : G->parameters()) CHECK(p.requires_grad());
    for (const Var& p : D->parameters()) CHECK(p.requires_grad());
}

TEST_CASE("latent search: each query's z is searched as if alone") {
    manual_seed(3);
    auto G = gan::dcgan_generator(kLatent, kWidth);
    auto D = gan::dcgan_discriminator(kWidth);
    Rng rng(6);
    Tensor a = rand_uniform({3, 1, 28, 28}, -1.0f, 1.0f, rng);
    Tensor b = a;
    for (size_t i = 784; i < 2 * 784; ++i) b[i] = 1.0f;  // change query 1 only: all white
    gan::LatentSearchOptions opt;
    opt.steps = 5;
    auto ra = gan::latent_search(*G, *D, a, kLatent, opt), rb = gan::latent_search(*G, *D, b, kLatent, opt);
    // BatchNorm in eval mode and a summed loss: queries 0 and 2 do not see query 1 at all.
    CHECK(ra.scores[0] == doctest::Approx(rb.scores[0]).epsilon(1e-5));
    CHECK(ra.scores[2] == doctest::Approx(rb.scores[2]).epsilon(1e-5));
    CHECK(ra.scores[1] != doctest::Approx(rb.scores[1]).epsilon(1e-3));
}

TEST_CASE("encoder training lowers its loss") {
    manual_seed(4);
    Rng rng(7);
    // A one-layer G whose images clearly depend on z (a fresh DCGAN G draws nearly the same
    // image for every z), and training images it can draw exactly: G(z) for z in (-1, 1), the
    // range of E's tanh. E must learn to find z back.
    using nn::make;
    auto G = make<nn::Sequential>(make<nn::Linear>(kLatent, 784), make<nn::Tanh>(), make<nn::Reshape>(Shape{1, 28, 28}));
    auto D = gan::dcgan_discriminator(kWidth);
    auto E = gan::dcgan_encoder(kLatent, kWidth);
    data::Dataset normal;
    {
        NoGrad no_grad;
        normal.images = (*G)(Var(rand_uniform({256, kLatent}, -1.0f, 1.0f, rng))).value();
    }
    normal.labels.assign(256, 0);
    gan::EncoderOptions opt;
    opt.epochs = 3;
    opt.batch = 32;
    opt.lr = 3e-3f;
    int calls = 0;
    auto losses = gan::train_encoder(*E, *G, *D, normal, opt, [&](int step, int total, float) {
        ++calls;
        CHECK(step <= total);
    });
    REQUIRE(losses.size() == 24);  // 3 epochs of 256 / 32 batches
    CHECK(calls == 24);
    auto mean_of = [&](size_t from, size_t to) {
        double s = 0.0;
        for (size_t i = from; i < to; ++i) s += losses[i];
        return s / static_cast<double>(to - from);
    };
    CHECK(mean_of(19, 24) < 0.8 * mean_of(0, 5));
    CHECK(G->is_training());  // G and D come back in training mode
    for (const Var& p : D->parameters()) CHECK(p.requires_grad());
}

TEST_CASE("clear errors: a feature layer D does not have, images G cannot make") {
    auto G = gan::dcgan_generator(kLatent, kWidth);
    auto D = gan::dcgan_discriminator(kWidth);
    Var x(Tensor({2, 1, 28, 28}));
    CHECK_THROWS_AS(gan::discriminator_features(*D, x, 0), std::invalid_argument);
    CHECK_THROWS_AS(gan::discriminator_features(*D, x, D->size()), std::invalid_argument);
    gan::LatentSearchOptions opt;
    opt.steps = 1;
    CHECK_THROWS_AS(gan::latent_search(*G, *D, Tensor({2, 1, 14, 14}), kLatent, opt), std::invalid_argument);
    opt.lambda = 2.0f;
    CHECK_THROWS_AS(gan::latent_search(*G, *D, Tensor({2, 1, 28, 28}), kLatent, opt), std::invalid_argument);
}

TEST_CASE("synthetic problem: squares are normal, bars are anomalies; both methods find the bars") {
    manual_seed(5);
    Rng rng(8);
    data::Dataset normal = shapes(256, false, rng);
    auto G = gan::dcgan_generator(kLatent, kWidth);
    auto D = gan::dcgan_discriminator(kWidth);
    optim::Adam optG(G->parameters(), 1e-3f, 0.5f, 0.999f), optD(D->parameters(), 1e-3f, 0.5f, 0.999f);
    data::Batcher batches(normal, 32, 1);
    Tensor images;
    std::vector<int> labels;
    for (int step = 0; step < 60; ++step) {  // 60 GAN steps on squares only
        if (!batches.next(images, labels)) {
            batches.start_epoch(step);
            batches.next(images, labels);
        }
        gan::train_step(*G, *D, optG, optD, Var(images), Var(randn({32, kLatent})));
    }
    auto E = gan::dcgan_encoder(kLatent, kWidth);
    gan::EncoderOptions eopt;
    eopt.epochs = 2;
    eopt.batch = 32;
    gan::train_encoder(*E, *G, *D, normal, eopt);

    // 40 test images: 20 new squares, 20 bars.
    data::Dataset squares = shapes(20, false, rng), bars = shapes(20, true, rng);
    Tensor test({40, 1, 28, 28});
    std::copy(squares.images.data.begin(), squares.images.data.end(), test.data.begin());
    std::copy(bars.images.data.begin(), bars.images.data.end(), test.data.begin() + 20 * 784);
    std::vector<int> is_anomaly(40, 0);
    for (int i = 20; i < 40; ++i) is_anomaly[i] = 1;

    const gan::EncodedQueries encoded = gan::encode_queries(*G, *D, *E, 6, test);
    const double f_anogan = gan::auroc(encoded.izif, is_anomaly);
    auto scorer = gan::CodeResidualScorer::fit(gan::encode_queries(*G, *D, *E, 6, normal.images));
    const double code = gan::auroc(scorer.score(encoded), is_anomaly);
    gan::LatentSearchOptions opt;
    opt.steps = 20;
    opt.lr = 0.1f;
    const double anogan = gan::auroc(gan::latent_search(*G, *D, test, kLatent, opt).scores, is_anomaly);
    MESSAGE("AUROC f-AnoGAN " << f_anogan << ", f-AnoGAN + code " << code << ", AnoGAN " << anogan);
    CHECK(f_anogan > 0.9);
    CHECK(code > 0.9);
    CHECK(anogan > 0.9);
}
