// gan/toy_2d.hpp - the 2D toy GAN: small MLPs on points in the plane, where mode collapse can be
// counted (eval/mode_coverage.hpp) and seen (io/plane_frame.hpp). examples/05_toy_2d.cpp drives it.
//
// Read gan/train_step.hpp, gan/adversarial_losses.hpp, nn/minibatch_stddev.hpp and
// nn/spectral_norm.hpp first. G: z (N, latent) -> 3 hidden ReLU layers -> a point (N, 2), no tanh
// (the grid reaches +-4). D: a point -> 2 hidden LeakyReLU(0.2) layers -> one raw output.
// The choices that make or break training are the fields of Toy2dConfig:
//   loss      one of the five of gan/adversarial_losses.hpp
//   d_steps   D updates per G update (WGAN's paper uses 5)
//   pack      PacGAN (Lin et al. 2018): D judges `pack` samples at once, all real or all fake,
//             concatenated into one input of 2 * pack numbers. A collapsed G makes packs of
//             near-identical points, which real packs never are: D can punish the collapse itself.
//   mbstd     a minibatch-stddev column after D's first hidden layer (nn/minibatch_stddev.hpp)
//   spectral  each of D's Linear weights divided by its largest singular value after every step
//   clip      WGAN's weight clipping to [-clip, clip] (used with loss = wasserstein only)
// A schedule of the learning rates (scale_learning_rates) is the caller's: 05_toy_2d's --decay
// lowers them linearly to 0 over the run, which lets G's points settle on the modes' centres.
#pragma once

#include <algorithm>
#include <functional>
#include <memory>
#include <vector>

#include "../activations.hpp"
#include "../nn/layers.hpp"
#include "../nn/linear.hpp"
#include "../nn/minibatch_stddev.hpp"
#include "../nn/spectral_norm.hpp"
#include "../optim.hpp"
#include "adversarial_losses.hpp"

namespace minigan::gan {

struct Toy2dConfig {
    AdversarialLoss loss = AdversarialLoss::non_saturating;
    int latent = 2, hidden = 64, batch = 256, d_steps = 1, pack = 1;
    float lr = 1e-3f, lr_d = 1e-3f, beta1 = 0.5f, beta2 = 0.999f, clip = 0.01f;
    bool mbstd = false, spectral = false;
};

struct Toy2dStats {
    float d_loss, g_loss;
};

class Toy2dGan {
public:
    explicit Toy2dGan(const Toy2dConfig& c) : config(c) {
        if (c.pack < 1 || c.batch % c.pack != 0) throw std::invalid_argument("Toy2dGan: --batch must be a multiple of --pack");
        if (c.latent < 1 || c.hidden < 1 || c.d_steps < 1) throw std::invalid_argument("Toy2dGan: latent, hidden, d_steps >= 1");
        const int H = c.hidden;
        G = std::make_shared<nn::Sequential>(nn::make<nn::Linear>(c.latent, H), nn::make<nn::ReLU>(),
                                             nn::make<nn::Linear>(H, H), nn::make<nn::ReLU>(),
                                             nn::make<nn::Linear>(H, H), nn::make<nn::ReLU>(), nn::make<nn::Linear>(H, 2));
        D = std::make_shared<nn::Sequential>();
        D->add(nn::make<nn::Linear>(2 * c.pack, H)).add(nn::make<nn::LeakyReLU>(0.2f));
        if (c.mbstd) D->add(stddev_layer = nn::make<nn::MinibatchStddev>());
        D->add(nn::make<nn::Linear>(H + (c.mbstd ? 1 : 0), H)).add(nn::make<nn::LeakyReLU>(0.2f)).add(nn::make<nn::Linear>(H, 1));
        optG = std::make_unique<optim::Adam>(G->parameters(), c.lr, c.beta1, c.beta2);
        optD = std::make_unique<optim::Adam>(D->parameters(), c.lr_d, c.beta1, c.beta2);
        for (size_t i = 0; i < D->size(); ++i)
            if (auto* l = dynamic_cast<nn::Linear*>(&(*D)[i])) d_linears.push_back({l, nn::SpectralNorm{}});
        constrain_d();
    }

    // D's output for points (N, 2): N / pack outputs, each pack of consecutive rows judged together.
    Var discriminate(const Var& points) { return (*D)(reshape(points, {points.shape()[0] / config.pack, 2 * config.pack})); }

    // d_steps updates of D, each on a fresh real batch from `real_batch` and a fresh fake one, then
    // one of G on the fake batch of D's last update (as gan/train_step.hpp does: one pass of G).
    Toy2dStats step(const std::function<Tensor(int)>& real_batch) {
        float d_loss = 0;
        Var fake;
        for (int k = 0; k < config.d_steps; ++k) {
            Var real(real_batch(config.batch));
            fake = (*G)(Var(randn({config.batch, config.latent})));
            Var loss = discriminator_loss(config.loss, discriminate(real), discriminate(fake.detach()));
            optD->zero_grad();
            loss.backward();
            optD->step();
            constrain_d();
            d_loss = loss.item();
        }
        D->set_requires_grad(false);  // the gradient flows through D into G; D's weights stay put
        Var g_loss = generator_loss(config.loss, discriminate(fake));
        optG->zero_grad();
        g_loss.backward();
        optG->step();
        D->set_requires_grad(true);
        return {d_loss, g_loss.item()};
    }

    // Both learning rates times `factor` (1 = as configured): a schedule that anneals them.
    void scale_learning_rates(float factor) {
        optG->lr = config.lr * factor;
        optD->lr = config.lr_d * factor;
    }

    // G's points for the noise z (N, latent), no graph kept. Measuring with a fixed z of its own
    // leaves training's random numbers alone and shows the same points of G moving from frame to frame.
    Tensor generate(const Tensor& z) {
        NoGrad no_grad;
        return (*G)(Var(z)).value();
    }
    // n points from G, its noise drawn from `rng`.
    Tensor sample(int n, Rng& rng = global_rng()) { return generate(randn({n, config.latent}, rng)); }

    // The gradient of G's loss with respect to each point of `fake` (N, 2), N a multiple of pack:
    // minus it is the way D pushes each generated point.
    Tensor point_gradients(const Tensor& fake) {
        Var x(fake, true);
        D->set_requires_grad(false);
        generator_loss(config.loss, discriminate(x)).backward();
        D->set_requires_grad(true);
        return x.grad();
    }

    // D's raw output at each point of `plane` (M, 2), judged alone: the point is repeated `pack`
    // times, and a minibatch-stddev layer gets the spread of `fake` (G's points, as in training).
    std::vector<float> output_map(const Tensor& plane, const Tensor& fake) {
        NoGrad no_grad;
        const int M = plane.shape[0];
        Tensor packed({M, 2 * config.pack});
        for (int m = 0; m < M; ++m)
            for (int p = 0; p < config.pack; ++p) packed[m * 2 * config.pack + 2 * p] = plane[2 * m], packed[m * 2 * config.pack + 2 * p + 1] = plane[2 * m + 1];
        if (stddev_layer) stddev_layer->fixed = spread_of(fake);
        Tensor out = (*D)(Var(packed)).value();
        if (stddev_layer) stddev_layer->fixed = -1.0f;
        return out.data;
    }

    Toy2dConfig config;
    std::shared_ptr<nn::Sequential> G, D;
    std::unique_ptr<optim::Adam> optG, optD;

private:
    // WGAN's clipping or spectral normalisation, after every update of D (and once at the start).
    void constrain_d() {
        if (config.loss == AdversarialLoss::wasserstein) clip_weights(*D, config.clip);
        if (config.spectral)
            for (auto& [layer, sn] : d_linears) sn.normalize(*layer);
    }
    // The minibatch-stddev value s of up to one batch of G's points: D's first layers on them, then s.
    float spread_of(const Tensor& fake) {
        const int rows = std::min(config.batch, fake.shape[0]) / config.pack * config.pack;
        if (rows < 2 * config.pack) throw std::invalid_argument("Toy2dGan::output_map: need two packs of G's points for minibatch stddev");
        NoGrad no_grad;
        Tensor first({rows, 2}, std::vector<float>(fake.data.begin(), fake.data.begin() + 2 * rows));
        Var h = reshape(Var(first), {rows / config.pack, 2 * config.pack});
        for (size_t i = 0; i < D->size(); ++i) {
            if (&(*D)[i] == stddev_layer.get()) {
                const Tensor with_s = minibatch_stddev(h).value();
                return with_s[h.shape()[1]];  // row 0, the extra column
            }
            h = (*D)[i](h);
        }
        return 0.0f;
    }
    std::shared_ptr<nn::MinibatchStddev> stddev_layer;
    std::vector<std::pair<nn::Linear*, nn::SpectralNorm>> d_linears;
};

}  // namespace minigan::gan
