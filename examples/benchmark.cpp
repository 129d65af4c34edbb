// benchmark.cpp - images/s of one GAN training step and of generator sampling, as JSON lines.
//
//   ./benchmark --model all --batch 64 --threads 2 --steps 20 --warmup 3
//   ./benchmark --model demo --threads 2      # 02_dcgan's own models and step, at its batch of 32
//
// Same models, same step and the same JSON fields as ../shared/peers/torch_bench.py (PyTorch),
// so docs/performance.md can put the two side by side (benchmarks/compare.sh runs both). Random inputs in
// [-1, 1]: no data set needed. images_per_s = batch / median step time.
// For vanilla, one more line, mode g_forward_gemms: the generator's GEMMs alone, the ceiling of its
// sampling, timed in alternation with it (bench_vanilla_sampling below).
// "demo" is the README's first command: 02_dcgan with its defaults (DemoRecipe below), timed as its
// loop runs a step (train_step, then the weight average's update); its PyTorch twin is
// benchmarks/torch_demo_bench.py.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <minigan/gan/example_run.hpp>
#include <minigan/gan/models.hpp>
#include <minigan/gan/train_step.hpp>
#include <minigan/minigan.hpp>

using namespace minigan;
using Clock = std::chrono::steady_clock;

struct Options {
    std::string model = "all";
    int batch = 64, threads = 0, steps = 20, warmup = 3;
    float width = 1.0f;  // channel multiplier (02_dcgan's --width); FLOPs are reported for width 1
    bool sampling = true;
};

// 02_dcgan's defaults: its --width, --d-width, --pack, --lr (and --lr-d), --beta1, --d-dropout,
// --ema and --batch. The demo row times exactly this recipe.
struct DemoRecipe {
    float g_width = 0.25f, d_width = 0.75f;
    int pack = 2;  // D judges pairs of images (gan::Pack)
    float lr = 5e-4f, beta1 = 0.5f, d_dropout = 0.0f;
    double ema = 0.995;
    int batch = 32;
};

// Nominal FLOPs of the peer script: 2 * 3 * (MAC_G + 3 * MAC_D); G-forward = 2 * MAC_G.
struct Flops { double step, g_forward; };
// MACs of one forward of the DCGAN pair at these widths (gan/models.hpp), B images, D on B / pack inputs.
// A transposed conv costs H_in * W_in * C_in * C_out * k * k MACs (every input pixel scatters once).
Flops dcgan_flops(int B, float g_width, float d_width, int pack) {
    const double g1 = gan::scaled(256, g_width), g2 = gan::scaled(128, g_width), g3 = gan::scaled(64, g_width);
    const double d1 = gan::scaled(64, d_width), d2 = gan::scaled(128, d_width);
    const double mac_g = B * (100.0 * g1 * 49 + 49.0 * g1 * g2 * 25 + 49.0 * g2 * g3 * 25 + 196.0 * g3 * 1 * 25);
    const double mac_d = (B / pack) * (196.0 * d1 * pack * 25 + 49.0 * d2 * d1 * 25 + d2 * 49);
    return {6.0 * (mac_g + 3.0 * mac_d), 2.0 * mac_g};
}
Flops flop_model(const std::string& model, int B) {
    if (model == "demo") {
        const DemoRecipe demo;
        return dcgan_flops(B, demo.g_width, demo.d_width, demo.pack);
    }
    if (model == "dcgan") return dcgan_flops(B, 1.0f, 1.0f, 1);
    const double mac_g = B * (100.0 * 256 + 256.0 * 512 + 512.0 * 1024 + 1024.0 * 784);
    const double mac_d = B * (784.0 * 1024 + 1024.0 * 512 + 512.0 * 256 + 256.0 * 1);
    return {6.0 * (mac_g + 3.0 * mac_d), 2.0 * mac_g};
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

const char* env_or_unset(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "(unset)";
}

// The fields of torch_bench.py's lines (its torch-only ones, mkldnn and torch, aside), plus framework
// and the environment that decides OpenBLAS's kernel.
void report(const std::string& model, const char* mode, const Options& o, float width, const std::vector<double>& ms,
            double flops) {
    double med = median(ms), mn = *std::min_element(ms.begin(), ms.end());
    double mean = 0;
    for (double t : ms) mean += t / ms.size();
#ifdef _OPENMP
    const int blas_threads = 1;  // per call: big GEMMs are split over the OpenMP threads (parallel.hpp)
#else
    const int blas_threads = openblas_get_num_threads();
#endif
#ifndef MINIGAN_REFERENCE
    const bool step_team = fast::team_wanted();  // training steps and sampling run on one team (fast/team.hpp)
#else
    const bool step_team = false;
#endif
    std::printf("{\"model\": \"%s\", \"mode\": \"%s\", \"batch\": %d, \"threads\": %d, \"images_per_s\": %.2f, "
                "\"step_ms_median\": %.3f, \"step_ms_min\": %.3f, \"step_ms_mean\": %.3f, \"steps\": %d, \"warmup\": %d, "
                "\"flops_per_step\": %.0f, \"gflops_per_s\": %.2f, \"blas_threads\": %d, \"omp_wait_policy\": \"%s\", "
                "\"openblas_coretype\": \"%s\", \"width\": %g, \"step_team\": %s, \"framework\": \"minigan\"}\n",
                model.c_str(), mode, o.batch, num_threads(), o.batch / (med / 1000.0), med, mn, mean, o.steps, o.warmup,
                flops, flops / (med / 1000.0) / 1e9, blas_threads, env_or_unset("OMP_WAIT_POLICY"),
                env_or_unset("OPENBLAS_CORETYPE"), width, step_team ? "true" : "false");
    std::fflush(stdout);
}

// before(i) runs untimed before step i (torch_bench.py draws the sampling z outside the clock).
template <class F, class Before>
std::vector<double> time_steps(const Options& o, F&& step, Before&& before) {
    std::vector<double> ms;
    for (int i = 0; i < o.warmup + o.steps; ++i) {
        before();
        auto t0 = Clock::now();
        step();
        double dt = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        if (i >= o.warmup) ms.push_back(dt);
    }
    return ms;
}

// G-only sampling in eval mode (BatchNorm on running statistics), z drawn outside the clock:
// gan::sample, as the examples draw their sample grids.
void bench_sampling(const std::string& model, const Options& o, float width, nn::Module& G, int latent, double flops) {
    Var z;
    auto sample = time_steps(o, [&] { Tensor images = gan::sample(G, z); }, [&] { z = Var(randn({o.batch, latent})); });
    report(model, "g_forward", o, width, sample, flops);
}

// Vanilla sampling beside its generator's Linear products alone: the same shapes, through the same
// gemm() (blas.hpp, split over the threads as in training, on a team where gan::sample uses one), on
// buffers allocated once, with nothing between them. The two are timed in alternation, one batch
// of each per step, so that a slower minute of the machine slows both alike. g_forward's images/s
// over g_forward_gemms's is the share of sampling's time that is GEMM; the rest is the bias
// copies, the activations and allocating the outputs.
void bench_vanilla_sampling(const Options& o, nn::Module& G, int latent, double flops) {
    std::vector<Tensor> weights;  // each Linear's W (out, in), in layer order
    for (const Var& p : G.parameters())
        if (p.value().dim() == 2) weights.push_back(p.value());
    std::vector<Tensor> activations{randn({o.batch, weights.at(0).shape[1]})};
    for (const Tensor& w : weights) activations.push_back(Tensor({o.batch, w.shape[0]}));
    auto products = [&] {
        for (size_t l = 0; l < weights.size(); ++l) {  // activations[l + 1] = activations[l] W_l^T
            const int in = weights[l].shape[1], out = weights[l].shape[0];
            gemm(false, true, o.batch, out, in, 1.0f, activations[l].ptr(), in, weights[l].ptr(), in, 0.0f,
                 activations[l + 1].ptr(), out);
        }
        return 0;  // on_team hands back the step's result
    };
    auto products_as_sampling_runs_them = [&] {
#ifndef MINIGAN_REFERENCE
        if (fast::team_wanted()) {
            fast::on_team(products);
            return;
        }
#endif
        products();
    };
    Var z;
    std::vector<double> sample_ms, gemm_ms;
    for (int i = 0; i < o.warmup + o.steps; ++i) {
        z = Var(randn({o.batch, latent}));
        auto t0 = Clock::now();
        Tensor images = gan::sample(G, z);
        auto t1 = Clock::now();
        products_as_sampling_runs_them();
        auto t2 = Clock::now();
        if (i < o.warmup) continue;
        sample_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
        gemm_ms.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
    }
    report("vanilla", "g_forward", o, o.width, sample_ms, flops);
    report("vanilla", "g_forward_gemms", o, o.width, gemm_ms, flops);
}

void bench(const std::string& model, const Options& o) {
    const int B = o.batch, latent = 100;
    bool dc = model == "dcgan";
    auto G = dc ? gan::dcgan_generator(latent, o.width) : gan::vanilla_generator(latent, o.width);
    auto D = dc ? gan::dcgan_discriminator(o.width) : gan::vanilla_discriminator(o.width);
    optim::Adam optG(G->parameters(), 2e-4f, 0.5f, 0.999f), optD(D->parameters(), 2e-4f, 0.5f, 0.999f);
    Shape image_shape = dc ? Shape{B, 1, 28, 28} : Shape{B, 784};
    Var real(rand_uniform(image_shape, -1.0f, 1.0f));
    Flops f = flop_model(model, B);
    auto train = time_steps(o, [&] {
        Var z(randn({B, latent}));  // inside the clock, as in torch_bench.py
        gan::train_step(*G, *D, optG, optD, real, z);
    }, [] {});
    report(model, "train_step", o, o.width, train, f.step);
    if (o.sampling && dc) bench_sampling(model, o, o.width, *G, latent, f.g_forward);
    if (o.sampling && !dc) bench_vanilla_sampling(o, *G, latent, f.g_forward);
}

// 02_dcgan's models, optimizers and step with its defaults, built as 02_dcgan builds them.
// "width" in its JSON lines is G's width (D's is DemoRecipe::d_width).
void bench_demo(const Options& o) {
    const DemoRecipe demo;
    const int B = o.batch, latent = 100;
    if (B % demo.pack != 0) throw std::invalid_argument("--model demo: --batch must be a multiple of the pack, 2");
    auto G = gan::dcgan_generator(latent, demo.g_width);
    auto D = gan::dcgan_discriminator(demo.d_width, 1, demo.pack);
    gan::set_dropout(*D, demo.d_dropout);
    optim::Adam optG(G->parameters(), demo.lr, demo.beta1, 0.999f), optD(D->parameters(), demo.lr, demo.beta1, 0.999f);
    gan::AveragedGenerator average(*G, demo.ema, gan::dcgan_generator(latent, demo.g_width));
    // As 02_dcgan's flags, so a test can hold this recipe to 02_dcgan's --help defaults.
    std::fprintf(stderr, "demo recipe: --width %g --d-width %g --pack %d --batch %d --lr %g --lr-d %g --beta1 %g --d-dropout %g --ema %g\n",
                 demo.g_width, demo.d_width, demo.pack, demo.batch, demo.lr, demo.lr, demo.beta1, demo.d_dropout, demo.ema);
    Var real(rand_uniform({B, 1, 28, 28}, -1.0f, 1.0f));
    Flops f = flop_model("demo", B);
    auto train = time_steps(o, [&] {
        Var z(randn({B, latent}));
        gan::train_step(*G, *D, optG, optD, real, z);
        average.update(*G);
    }, [] {});
    report("demo", "train_step", o, demo.g_width, train, f.step);
    if (o.sampling) bench_sampling("demo", o, demo.g_width, *G, latent, f.g_forward);
}

int main(int argc, char** argv) {
    io::Cli cli("benchmark", "images/s of one GAN training step and of sampling, as JSON lines (docs/performance.md).");
    cli.option("--model", "all", "which models to time (all = vanilla and dcgan; demo = 02_dcgan's defaults)");
    cli.choices("--model", {"vanilla", "dcgan", "demo", "all"});
    cli.option("--batch", 64, "images per step (--model demo: 02_dcgan's 32 unless given)");
    cli.option("--threads", 0, "threads for OpenMP and OpenBLAS (0 = all cores)");
    cli.option("--steps", 20, "timed steps (the median is reported)");
    cli.option("--warmup", 3, "untimed steps first");
    cli.option("--width", 1.0, "scales every layer's channels (as 02_dcgan's --width; not for demo); gflops_per_s assumes width 1");
    cli.flag("--no-sampling", "time the training step only");
    cli.range("--batch", "[2, 4096]");
    cli.range("--threads", "[0, 1024]");
    cli.range("--steps", "[1, 100000]");
    cli.range("--warmup", "[0, 10000]");
    cli.range("--width", "(0, 4]");
    cli.finish(argc, argv);
    Options o;
    o.model = cli.text("--model");
    o.batch = o.model == "demo" && !cli.given("--batch") ? DemoRecipe().batch : cli.integer("--batch");
    o.threads = cli.integer("--threads");
    o.steps = cli.integer("--steps");
    o.warmup = cli.integer("--warmup");
    o.width = static_cast<float>(cli.number("--width"));
    o.sampling = !cli.is_set("--no-sampling");
    if (o.threads > 0) set_num_threads(o.threads);
    std::fprintf(stderr, "minigan benchmark: %s\n", runtime_summary().c_str());
    manual_seed(0);
    try {
        if (o.model == "demo") bench_demo(o);
        for (const char* m : {"vanilla", "dcgan"})
            if (o.model == "all" || o.model == m) bench(m, o);
    } catch (const std::bad_alloc&) {
        std::fprintf(stderr, "benchmark: error: out of memory for --batch %d at --width %g\n", o.batch, o.width);
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "benchmark: error: %s\n", e.what());
        return 1;
    }
    return 0;
}
