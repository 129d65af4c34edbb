// gan/example_run.hpp - the plumbing the example programs share: their common flags, the first
// line they print, the training set, --resume, the weight average they sample from (--ema) and
// the progress line of a step.
//
// Read gan/training_run.hpp and gan/ema.hpp first. Each example keeps its own loop over epochs
// and batches and its own call of the GAN step; what all of them would write out again is here.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "../data/batches.hpp"
#include "../data/dataset.hpp"
#include "../io/cli.hpp"
#include "../io/safetensors.hpp"
#include "../core.hpp"
#include "ema.hpp"
#include "training_run.hpp"

#ifndef MINIGAN_REFERENCE
#include "../fast/team.hpp"  // fast::on_team: the whole forward pass in one parallel region
#endif

namespace minigan::gan {

// ---- flags ------------------------------------------------------------------------------

// --dataset --epochs --batch --latent --lr --beta1: the flags of every GAN example, with the
// example's own defaults for epochs, batch and learning rate.
inline void add_gan_flags(io::Cli& cli, int epochs, int batch, double lr) {
    cli.option("--dataset", "mnist", "training images");
    cli.choices("--dataset", {"mnist", "fashion"});
    cli.option("--epochs", epochs, "passes over the training set");
    cli.option("--batch", batch, "images per step (for D: this many real and this many fake)");
    cli.option("--latent", 100, "size of the random vector z that G turns into an image");
    cli.option("--lr", lr, "Adam learning rate of G, and of D unless --lr-d is given (DCGAN paper: 2e-4)");
    cli.option("--beta1", 0.5, "Adam beta1 (DCGAN paper: 0.5; PyTorch's default 0.9 oscillates)");
    cli.range("--epochs", "[1, 100000]");
    cli.range("--batch", "[1, 4096]");
    cli.range("--latent", "[1, 4096]");
    cli.range("--lr", "(0, 1]");
    cli.range("--beta1", "[0, 1)");
}

// --seed --threads --out --data --limit: the housekeeping flags of every training program.
// `images`: what --limit cuts short.
inline void add_run_flags(io::Cli& cli, const std::string& out, const std::string& out_help = "output folder",
                          const std::string& images = "training images") {
    cli.option("--seed", 1, "random seed: same seed, same run (on one thread)");
    cli.option("--threads", 0, "threads for OpenMP and OpenBLAS (0 = all cores)");
    cli.option("--out", out, out_help);
    cli.option("--data", "data", "folder holding mnist/ and fashion-mnist/ (see data/fetch.sh)");
    cli.option("--limit", 0, "use only the first N " + images + " (0 = all): quick experiments");
    cli.range("--seed", "[0, 2147483647]");
    cli.range("--threads", "[0, 1024]");
    cli.range("--limit", "[0, 100000000]");
}

// --lr-d --d-dropout --ema: the knobs of 02_dcgan's demo recipe (04_conditional_gan has them too).
inline void add_demo_flags(io::Cli& cli, double lr_d) {
    cli.option("--lr-d", lr_d, "Adam learning rate of D alone (0 = the same as --lr)");
    cli.option("--d-dropout", 0.0, "dropout in D after each conv block (the reference: 0.3)");
    cli.option("--ema", 0.995, "sample from an average of G's weights over ~1/(1-EMA) steps (0 = off)");
    cli.range("--lr-d", "[0, 1]");
    cli.range("--d-dropout", "[0, 1)");
    cli.range("--ema", "[0, 1)");
}
// D's learning rate: --lr-d, or --lr where --lr-d is 0.
inline float d_learning_rate(io::Cli& cli) {
    return static_cast<float>(cli.number("--lr-d") > 0 ? cli.number("--lr-d") : cli.number("--lr"));
}
// --d-dropout: the same probability p in every Dropout layer of D.
inline void set_dropout(nn::Sequential& D, float p) {
    for (size_t i = 0; i < D.size(); ++i)
        if (auto* drop = dynamic_cast<nn::Dropout*>(&D[i])) drop->p = p;
}

// Once the flags are checked: --threads and --seed take effect, and the first line names the
// program and what it runs on (OpenMP, BLAS, OpenCL device).
inline void start_program(io::Cli& cli) {
    if (cli.integer("--threads") > 0) set_num_threads(cli.integer("--threads"));
    manual_seed(static_cast<uint32_t>(cli.integer("--seed")));
    std::printf("minigan %s: %s\n", cli.program().c_str(), runtime_summary().c_str());
}

// ---- data and models --------------------------------------------------------------------

// The training images of --dataset in --data, in [-1, 1] (the first --limit of them).
inline data::Dataset load_training_set(io::Cli& cli) {
    data::Dataset train = data::load_dataset(cli.text("--dataset"), "train", cli.text("--data"));
    if (cli.integer("--limit") > 0) train = data::subset(train, cli.integer("--limit"));
    return train;
}
inline void print_data(io::Cli& cli, const data::Dataset& train, const data::Batcher& batches) {
    std::printf("data: %zu %s training images, %d batches of %d per epoch\n", train.size(), cli.text("--dataset").c_str(),
                batches.batches_per_epoch(), batches.batch_size());
}
inline void print_models(const nn::Module& G, const nn::Module& D, const std::string& g_name = "G",
                         const std::string& d_name = "D") {
    std::printf("%s: %zu parameters\n%s%s: %zu parameters\n%s", g_name.c_str(), G.parameter_count(),
                G.summary().c_str(), d_name.c_str(), D.parameter_count(), D.summary().c_str());
}

// ---- the weight average (--ema) ---------------------------------------------------------

// gan/ema.hpp's WeightAverage as the examples use it: G_avg, a second generator built like G,
// receives the averaged weights whenever samples are drawn. The average travels in the
// checkpoint (store_average / restore_average), so --resume goes on averaging exactly, and is
// saved beside G as generator_ema.safetensors. With decay 0 it is off (pass no G_avg then:
// building one would draw from the random generator) and samples come from G itself.
class AveragedGenerator {
public:
    AveragedGenerator(const nn::Module& G, double decay, std::shared_ptr<nn::Sequential> G_avg) : G_avg_(std::move(G_avg)) {
        if (decay > 0) {
            if (!G_avg_) throw std::invalid_argument("AveragedGenerator: --ema needs a second generator built like G");
            average_ = std::make_unique<WeightAverage>(G, static_cast<float>(decay));
        }
    }
    bool on() const { return average_ != nullptr; }
    // After each optimizer step of G.
    void update(const nn::Module& G) {
        if (average_) average_->update(G);
    }
    // The generator to sample from: G_avg holding the average, or G when the average is off.
    nn::Sequential& sampler(nn::Sequential& G) {
        if (!average_) return G;
        average_->copy_to(G, *G_avg_);
        return *G_avg_;
    }
    // Before run.end_epoch(): into the checkpoint that end_epoch writes.
    void store(TrainingRun& run) const {
        if (average_) store_average(run, *average_);
    }
    // After run.end_epoch() (and sampler()): <run>/generator_ema.safetensors.
    void save(const TrainingRun& run) const {
        if (average_) io::save_module(run.dir() + "/generator_ema.safetensors", *G_avg_, {{"step", std::to_string(run.state.step)}});
    }
    // After a successful run.resume(); false: the checkpoint holds no average.
    bool restore(const TrainingRun& run) { return average_ && restore_average(run, *average_); }

private:
    std::shared_ptr<nn::Sequential> G_avg_;
    std::unique_ptr<WeightAverage> average_;
};

// --resume: continue from the checkpoint in the run folder if there is one (and say so),
// the weight average with it. Without --resume (or without a checkpoint) the run is a new one,
// and an earlier run in the folder is moved aside first (TrainingRun::start_fresh).
inline void resume_if_asked(io::Cli& cli, TrainingRun& run, nn::Module& G, nn::Module& D, optim::Optimizer& optG,
                            optim::Optimizer& optD, AveragedGenerator* average = nullptr) {
    if (!cli.is_set("--resume")) {
        run.start_fresh();  // an earlier run in the folder is moved aside, not mixed in
        return;
    }
    if (!run.resume(G, D, optG, optD)) {
        std::printf("no checkpoint in %s: starting a new run\n", run.dir().c_str());
        run.start_fresh();
        return;
    }
    std::printf("resumed %s at epoch %d, step %ld\n", run.dir().c_str(), run.state.epoch, run.state.step);
    // A checkpoint without an average (made with --ema 0): the average starts again from G.
    if (average && average->on() && !average->restore(run))
        std::printf("the checkpoint holds no weight average: --ema starts again from G\n");
}

// ---- inside the loop --------------------------------------------------------------------

// The progress bar's label in epoch `epoch` (counting from 0) of `epochs`: "epoch 3/8".
inline std::string epoch_label(int epoch, int epochs) {
    return "epoch " + std::to_string(epoch + 1) + "/" + std::to_string(epochs);
}

// What the progress bar shows after a step: both losses, D(x) and D(G(z)).
inline std::string step_line(const StepStats& s) {
    char line[160];
    std::snprintf(line, sizeof line, "d_loss %.3f g_loss %.3f D(x) %.2f D(G(z)) %.2f", s.d_loss, s.g_loss, s.d_real,
                  s.d_fake);
    return line;
}

// G's output for `input` in eval mode (BatchNorm's running statistics, no Dropout), without a graph.
inline Tensor sample(nn::Module& G, const Var& input) {
#ifndef MINIGAN_REFERENCE
    // Fast path: this same function, run once more on a team of threads, as a training step is.
    if (fast::team_wanted()) return fast::on_team([&] { return sample(G, input); });
#endif
    G.eval();
    NoGrad no_grad;
    return G(input).value();
}

inline void print_done(const TrainingRun& run) {
    std::printf("done: %d epochs, %ld steps, %.0f s of training. Look at %s/samples/ and %s/progress.gif\n",
                run.state.epoch, run.state.step, run.state.seconds, run.dir().c_str(), run.dir().c_str());
}

}  // namespace minigan::gan
