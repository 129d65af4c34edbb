// gan/anogan.hpp - anomaly detection with a GAN trained on normal data only: AnoGAN and f-AnoGAN.
//
// Read gan/models.hpp, gan/train_step.hpp and gan/metrics.hpp first. A GAN trained only on
// normal images (one digit, one kind of clothing) can draw normal images and nothing else. To
// score a query x, find the generated image G(z) closest to it: a normal x is reproduced well,
// an anomaly is not, and what is left over (the residual |x - G(z)|) shows where it differs.
//   AnoGAN (Schlegl et al. 2017, arXiv:1703.05921): search z by gradient descent, G and D frozen
//     (latent_search). Hundreds of G and D passes per query.
//   f-AnoGAN (Schlegl et al. 2019, doi:10.1016/j.media.2019.01.010): train an encoder E so that
//     G(E(x)) reproduces x ("izi_f" training), then a query costs one pass (izif_score).
// Both compare x and G(z) twice: in pixels, and in an intermediate feature map f of the
// discriminator (D has learned which features make an image look normal).
// gan/code_score.hpp builds a better score from the same pass of E and G (measured in
// docs/anomaly-detection.md).
#pragma once

#include <cmath>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "../data/dataset.hpp"
#include "../nn/module.hpp"
#include "../ops.hpp"
#include "../optim.hpp"
#include "models.hpp"

namespace minigan::gan {

// ---------------------------------------------------------------------------------------
// Shared pieces.

// f(x): the output of D's first `layers` layers. For gan::dcgan_discriminator, 3 is the map
// after the first conv block (N, c1, 14, 14) and 6 the map after the second (N, c2, 7, 7),
// the last one before D's final Linear (what f-AnoGAN uses).
inline Var discriminator_features(nn::Sequential& D, const Var& x, size_t layers) {
    if (layers < 1 || layers >= D.size())
        throw std::invalid_argument("discriminator_features: feature layer " + std::to_string(layers) +
                                    " must be in 1.." + std::to_string(D.size() - 1) + " (D has " +
                                    std::to_string(D.size()) + " layers; the last gives the logit, not features)");
    return D.forward_until(x, layers);
}

// x: (N, ...) -> (N,): each query's sum over all its values.
inline Var sum_per_query(const Var& x) { return sum(flatten(x, 1, -1), 1); }

// While it lives, G and D (and E) are frozen for scoring: eval mode, so that BatchNorm uses its
// running statistics and Dropout is off (a query's score then depends on that query alone,
// whatever else is in its batch), and no weight gradients (only z, or E, learns). The previous
// mode and requires_grad flags come back when it goes out of scope.
class Frozen {
public:
    explicit Frozen(std::vector<nn::Module*> modules) : modules_(std::move(modules)) {
        for (nn::Module* m : modules_) {
            was_training_.push_back(m->is_training());
            for (auto& [name, p] : m->named_parameters()) flags_.push_back({p, p.requires_grad()});
            m->eval();
            m->set_requires_grad(false);
        }
    }
    ~Frozen() {
        for (size_t i = 0; i < modules_.size(); ++i) modules_[i]->train(was_training_[i]);
        for (auto& [p, on] : flags_) p.set_requires_grad(on);
    }
    Frozen(const Frozen&) = delete;
    Frozen& operator=(const Frozen&) = delete;

private:
    std::vector<nn::Module*> modules_;
    std::vector<bool> was_training_;
    std::vector<std::pair<Var, bool>> flags_;
};

// ---------------------------------------------------------------------------------------
// AnoGAN: latent search.

// The AnoGAN loss of each query, for x: (N, 1, H, W), f(x) precomputed, z: (N, latent):
//   loss_i = (1 - lambda) * R_i + lambda * Dl_i
//   R_i  = sum |x_i - G(z_i)|                (residual loss, in pixels)
//   Dl_i = sum |f(x_i) - f(G(z_i))|          (discrimination loss, in D's features)
// Returns (N,); `generated` receives G(z).
inline Var anogan_loss(nn::Module& G, nn::Sequential& D, size_t feature_layers, const Var& x, const Var& fx,
                       const Var& z, float lambda, Var* generated = nullptr) {
    Var gz = G(z);
    if (gz.shape() != x.shape())
        throw std::invalid_argument("anogan_loss: G makes images of shape " + shape_str(gz.shape()) +
                                    " but the queries have shape " + shape_str(x.shape()));
    Var residual = sum_per_query(abs(x - gz));
    Var discrimination = sum_per_query(abs(fx - discriminator_features(D, gz, feature_layers)));
    if (generated) *generated = gz;
    return (1.0f - lambda) * residual + lambda * discrimination;
}

struct LatentSearchOptions {
    int steps = 500;            // Adam steps on z (Schlegl et al. 2017: 500)
    float lambda = 0.1f;        // weight of the discrimination loss (Schlegl et al.: 0.1)
    size_t feature_layers = 6;  // f = D's first 6 layers (see discriminator_features)
    float lr = 0.05f;           // Adam's step on z, whose entries are ~N(0, 1)
    uint32_t seed = 0;          // the random starting points z ~ N(0, 1)
};

struct LatentSearchResult {
    Tensor z;                       // (N, latent): where the search ended
    Tensor generated;               // G(z): (N, 1, H, W), the closest normal image found
    std::vector<float> scores;      // the final loss of each query: its anomaly score
    std::vector<float> loss_curve;  // mean loss over the queries before each step, then the final one
};

// Search one z per query, all queries at once: the total loss is the SUM of the per-query
// losses, so query i's gradient reaches only z_i, and Adam (elementwise) moves each z_i as if
// it were searched alone. G and D are frozen (and put back as they were afterwards).
// x: (N, 1, H, W) in [-1, 1]; `latent` is G's input size.
inline LatentSearchResult latent_search(nn::Module& G, nn::Sequential& D, const Tensor& x, int latent,
                                        const LatentSearchOptions& opt = {}) {
    if (opt.steps < 0 || !(opt.lambda >= 0.0f && opt.lambda <= 1.0f) || !(opt.lr > 0.0f))
        throw std::invalid_argument("latent_search: need steps >= 0, 0 <= lambda <= 1, lr > 0");
    if (x.dim() != 4 || x.shape[0] < 1) throw std::invalid_argument("latent_search: queries must be (N, C, H, W), got " + shape_str(x.shape));
    Frozen frozen({&G, &D});
    const int n = x.shape[0];
    Var query(x);
    Var fx;
    {
        NoGrad no_grad;  // f(x) never changes: computed once
        fx = discriminator_features(D, query, opt.feature_layers);
    }
    Rng rng(opt.seed);
    Var z(randn({n, latent}, rng), true);
    optim::Adam adam({z}, opt.lr);

    LatentSearchResult result;
    for (int step = 0; step < opt.steps; ++step) {
        Var loss = sum(anogan_loss(G, D, opt.feature_layers, query, fx, z, opt.lambda));
        result.loss_curve.push_back(loss.item() / static_cast<float>(n));
        adam.zero_grad();
        loss.backward();
        adam.step();
    }
    NoGrad no_grad;  // the score: the loss where the search ended
    Var generated;
    Var final_loss = anogan_loss(G, D, opt.feature_layers, query, fx, z, opt.lambda, &generated);
    result.scores = final_loss.value().data;
    double mean = 0.0;
    for (float s : result.scores) mean += s;
    result.loss_curve.push_back(static_cast<float>(mean / n));
    result.z = z.value();
    result.generated = generated.value();
    return result;
}

// latent_search over many queries x: (N, 1, H, W), `batch` of them at a time (the search of
// the batch starting at query `first` draws its starting points from seed opt.seed + first).
// The result holds z, G(z) and the score of every query (its loss_curve stays empty);
// on_batch(done, result of that batch) reports progress.
inline LatentSearchResult latent_search_batches(
    nn::Module& G, nn::Sequential& D, const Tensor& x, int latent, LatentSearchOptions opt, size_t batch,
    const std::function<void(size_t, const LatentSearchResult&)>& on_batch = nullptr) {
    if (x.dim() != 4 || batch < 1) throw std::invalid_argument("latent_search_batches: need (N, C, H, W) queries and batch >= 1");
    const size_t n = static_cast<size_t>(x.shape[0]), per_image = x.numel() / std::max<size_t>(n, 1);
    const uint32_t seed = opt.seed;
    LatentSearchResult all;
    all.generated = Tensor(x.shape);
    for (size_t first = 0; first < n; first += batch) {
        const size_t count = std::min(batch, n - first);
        Tensor part({static_cast<int>(count), x.shape[1], x.shape[2], x.shape[3]});
        std::copy_n(x.data.begin() + static_cast<std::ptrdiff_t>(first * per_image), count * per_image, part.data.begin());
        opt.seed = seed + static_cast<uint32_t>(first);
        const LatentSearchResult r = latent_search(G, D, part, latent, opt);
        all.scores.insert(all.scores.end(), r.scores.begin(), r.scores.end());
        all.z.data.insert(all.z.data.end(), r.z.data.begin(), r.z.data.end());
        std::copy(r.generated.data.begin(), r.generated.data.end(),
                  all.generated.data.begin() + static_cast<std::ptrdiff_t>(first * per_image));
        if (on_batch) on_batch(first + count, r);
    }
    all.z.shape = {static_cast<int>(n), latent};
    return all;
}

// ---------------------------------------------------------------------------------------
// f-AnoGAN: an encoder E, trained so that G(E(x)) reproduces x.

// E: image (N, 1, 28, 28) -> z (N, latent) in (-1, 1). D's conv stack (without Dropout: E is
// not fighting anyone), then Linear + Tanh, as in Schlegl et al. 2019.
inline std::shared_ptr<nn::Sequential> dcgan_encoder(int latent = 100, float width = 1.0f, int in_channels = 1) {
    using namespace nn;
    const int c1 = scaled(64, width), c2 = scaled(128, width);
    auto E = make<Sequential>(make<Conv2d>(in_channels, c1, 5, 2, 2), make<LeakyReLU>(0.2f),  // 14x14
                              make<Conv2d>(c1, c2, 5, 2, 2), make<LeakyReLU>(0.2f),           // 7x7
                              make<Flatten>(), make<Linear>(c2 * 7 * 7, latent), make<Tanh>());
    dcgan_init(*E);
    return E;
}

// The izi_f score of each query, x: (N, 1, H, W):
//   A(x) = ||x - G(E(x))||^2 / n  +  kappa * ||f(x) - f(G(E(x)))||^2 / n_f
// n = pixels per image, n_f = features per image. Returns (N,); `generated` receives G(E(x)),
// `code` E(x). The same expression, averaged over a batch, is the loss E is trained on, and
// encode_queries() scores with it too: this is the one place the formula is written.
inline Var izif_score(nn::Module& G, nn::Sequential& D, nn::Module& E, size_t feature_layers, const Var& x,
                      float kappa, Var* generated = nullptr, Var* code = nullptr) {
    Var ex = E(x);
    Var gz = G(ex);
    if (gz.shape() != x.shape())
        throw std::invalid_argument("izif_score: G makes images of shape " + shape_str(gz.shape()) +
                                    " but the queries have shape " + shape_str(x.shape()));
    Var fx = discriminator_features(D, x, feature_layers);
    Var fg = discriminator_features(D, gz, feature_layers);
    if (generated) *generated = gz;
    if (code) *code = ex;
    // EXERCISE E15 begin
    // the mean squared residual of the image plus kappa times the mean squared residual of the
    // features, per query (sum_per_query sums all but the batch axis)
    const float n = static_cast<float>(x.numel() / x.shape()[0]), n_f = static_cast<float>(fx.numel() / fx.shape()[0]);
    return sum_per_query(square(x - gz)) * (1.0f / n) + sum_per_query(square(fx - fg)) * (kappa / n_f);
    // EXERCISE E15 end
}

struct EncoderOptions {
    int epochs = 10;            // passes over the normal training images
    int batch = 64;
    float lr = 1e-3f;           // Adam
    float kappa = 1.0f;         // weight of the feature term (Schlegl et al. 2019: 1)
    size_t feature_layers = 6;  // f = D's first 6 layers
    uint32_t seed = 1;          // the order of the batches
};

// Train E on `normal` images with G and D frozen, minimising the batch mean of izif_score.
// Returns the loss of every step; on_step(step, total_steps, loss) reports progress.
inline std::vector<float> train_encoder(nn::Module& E, nn::Module& G, nn::Sequential& D, const data::Dataset& normal,
                                        const EncoderOptions& opt = {},
                                        const std::function<void(int, int, float)>& on_step = nullptr) {
    if (opt.epochs < 0 || opt.batch < 1 || !(opt.lr > 0.0f) || !(opt.kappa >= 0.0f))
        throw std::invalid_argument("train_encoder: need epochs >= 0, batch >= 1, lr > 0, kappa >= 0");
    Frozen frozen({&G, &D});
    E.train();
    optim::Adam adam(E.parameters(), opt.lr);
    data::Batcher batches(normal, opt.batch, opt.seed);
    const int total = opt.epochs * batches.batches_per_epoch();
    std::vector<float> losses;
    Tensor images;
    std::vector<int> labels;
    for (int epoch = 0; epoch < opt.epochs; ++epoch) {
        batches.start_epoch(epoch);
        while (batches.next(images, labels)) {
            Var loss = mean(izif_score(G, D, E, opt.feature_layers, Var(images), opt.kappa));
            adam.zero_grad();
            loss.backward();
            adam.step();
            losses.push_back(loss.item());
            if (!std::isfinite(losses.back()))
                throw std::runtime_error("train_encoder: the loss is not finite at step " + std::to_string(losses.size()) +
                                         " (try a lower learning rate)");
            if (on_step) on_step(static_cast<int>(losses.size()), total, losses.back());
        }
    }
    E.eval();
    return losses;
}

// What one pass of E and G tells about each query of a batch.
struct EncodedQueries {
    std::vector<float> izif;      // the f-AnoGAN score (izif_score)
    std::vector<float> relative;  // relative_residual: the pixel residual as a share of the ink
    Tensor codes;                 // E(x): (N, latent)
    Tensor generated;             // G(E(x)): (N, 1, H, W)
};

// relative(x) = ||x - G(E(x))||^2 / (||x + 1||^2 + ||G(E(x)) + 1||^2), for one image of n pixels.
// Background pixels are -1, so ||x + 1||^2 measures the ink of x. The absolute residual is
// small for an anomaly with little ink (a thin "1" against a generator of 8s); as a share of
// the ink in both images it is not. 0 = the same image; 1 = no ink in common at all.
inline float relative_residual(const float* x, const float* g, size_t n) {
    double residual = 0.0, ink = 0.0;
    for (size_t i = 0; i < n; ++i) {
        residual += (x[i] - g[i]) * (x[i] - g[i]);
        ink += (x[i] + 1.0f) * (x[i] + 1.0f) + (g[i] + 1.0f) * (g[i] + 1.0f);
    }
    return static_cast<float>(residual / std::max(ink, 1e-12));
}

// Encode, redraw and score every image of `images` (N, 1, H, W), `batch` at a time, without a
// graph. A batch of ~100 keeps each layer's activations small enough for the caches
// (docs/anomaly-detection.md, "Speed").
inline EncodedQueries encode_queries(nn::Module& G, nn::Sequential& D, nn::Module& E, size_t feature_layers,
                                     const Tensor& images, float kappa = 1.0f, int batch = 100) {
    if (images.dim() != 4 || images.shape[0] < 1)
        throw std::invalid_argument("encode_queries: images must be (N, C, H, W), got " + shape_str(images.shape));
    if (batch < 1) throw std::invalid_argument("encode_queries: batch must be >= 1");
    Frozen frozen({&G, &D, &E});
    NoGrad no_grad;
    const int n = images.shape[0];
    const size_t per_image = images.numel() / static_cast<size_t>(n);
    EncodedQueries out;
    out.generated = Tensor(images.shape);
    for (int first = 0; first < n; first += batch) {
        const int count = std::min(batch, n - first);
        Tensor x({count, images.shape[1], images.shape[2], images.shape[3]});
        std::copy_n(images.data.begin() + static_cast<std::ptrdiff_t>(first * per_image), count * per_image, x.data.begin());
        Var gz, code;
        Var s = izif_score(G, D, E, feature_layers, Var(x), kappa, &gz, &code);
        out.izif.insert(out.izif.end(), s.value().data.begin(), s.value().data.end());
        for (int q = 0; q < count; ++q)
            out.relative.push_back(relative_residual(x.ptr() + q * per_image, gz.value().ptr() + q * per_image, per_image));
        out.codes.data.insert(out.codes.data.end(), code.value().data.begin(), code.value().data.end());
        std::copy(gz.value().data.begin(), gz.value().data.end(),
                  out.generated.data.begin() + static_cast<std::ptrdiff_t>(first * per_image));
    }
    out.codes.shape = {n, static_cast<int>(out.codes.data.size() / static_cast<size_t>(n))};
    return out;
}

// The f-AnoGAN score of every image: izif_score in batches, without a graph.
inline std::vector<float> izif_scores(nn::Module& G, nn::Sequential& D, nn::Module& E, size_t feature_layers,
                                      const Tensor& images, float kappa = 1.0f, int batch = 100) {
    return encode_queries(G, D, E, feature_layers, images, kappa, batch).izif;
}

}  // namespace minigan::gan
