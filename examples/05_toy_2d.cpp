// 05_toy_2d.cpp - a GAN on points in the plane: mode collapse and unstable training, made visible
// and measured. Trains in seconds.
//
//   g++ -O2 -std=c++17 -fopenmp -Iinclude examples/05_toy_2d.cpp -lopenblas -lz -o toy_2d
//   ./toy_2d --loss ns --steps 2000                                          # a plain GAN: it collapses
//   ./toy_2d --loss ns --pack 2 --d-steps 2 --lr 3e-3 --decay --steps 8000   # the recipe: all 8 modes
//
// The data (--data): a ring of 8 Gaussians, a grid of 25, a spiral, two moons (data/toy_2d.hpp).
// On the ring and the grid every mode has a known centre, so the collapse can be counted
// (eval/mode_coverage.hpp): how many modes G covers, the share of its samples that are "high
// quality" (within 3 standard deviations of a centre), and the reverse KL between G's mode
// histogram and the uniform one. Those are the measurements of the papers that fixed mode collapse
// on these data sets (Metz et al. 2017, unrolled GANs; Srivastava et al. 2017, VEEGAN; Lin et al.
// 2018, PacGAN).
//
// What a frame shows. Every --frame-every steps, frames/step_NNNNN.png: D's verdict over the plane
// as a colour map (red: "real", blue: "fake"), the real points (black), G's points (green) and an
// arrow on some of G's points along minus the gradient of G's loss: where D pushes them. A
// collapsing G is a green clump chasing the red region; D, beaten there, turns it blue, and the
// clump moves to the next mode: the oscillation of the minimax game. progress.gif holds all frames,
// losses.png the two losses, results.json (written atomically) the flags, the measurements at
// every frame and at the end, and the log prints the same.
//
// The choices (gan/toy_2d.hpp says what each one does): --loss, --d-steps, --lr, --lr-d, --beta1,
// and the remedies --pack N (PacGAN), --mbstd (minibatch standard deviation), --spectral
// (spectral normalisation of D). benchmarks/toy_2d_table.py runs them over 10 seeds;
// docs/lessons/11-mode-collapse.md shows and discusses the results.
//
// Same seed and flags, same run (on one thread). Measuring uses a fixed noise z_eval drawn once from
// a random generator of its own: --log-every and --frame-every change what is measured and drawn,
// never the training, and the same points of G are shown moving from frame to frame.
#include <cstdio>
#include <filesystem>

#include <minigan/data/toy_2d.hpp>
#include <minigan/eval/mode_coverage.hpp>
#include <minigan/gan/example_run.hpp>
#include <minigan/gan/toy_2d.hpp>
#include <minigan/io/plane_frame.hpp>
#include <minigan/io/progress.hpp>
#include <minigan/minigan.hpp>

using namespace minigan;

int main(int argc, char** argv) {
    io::Cli cli("05_toy_2d", "Train a small GAN on 2D points; draw D's verdict and G's points; count the modes it covers.");
    cli.option("--data", "ring", "the points: ring (8 Gaussians), grid (25), spiral, moons");
    cli.choices("--data", {"ring", "grid", "spiral", "moons"});
    cli.option("--loss", "ns", "minimax, ns (non-saturating), ls (least squares), hinge, wgan (weight clipping)");
    cli.choices("--loss", {"minimax", "ns", "ls", "hinge", "wgan"});
    cli.option("--steps", 3000, "G updates");
    cli.option("--batch", 256, "points per batch, real and fake alike");
    cli.option("--d-steps", 1, "D updates per G update");
    cli.option("--lr", 1e-3, "Adam learning rate of G, and of D unless --lr-d is given");
    cli.option("--lr-d", 0.0, "Adam learning rate of D alone (0 = the same as --lr)");
    cli.option("--beta1", 0.5, "Adam beta1");
    cli.flag("--decay", "learning rates fall linearly from --lr / --lr-d to 0 over the run");
    cli.option("--latent", 2, "size of G's input noise z");
    cli.option("--hidden", 64, "units in each hidden layer of G and D");
    cli.option("--pack", 1, "PacGAN: D judges this many points at once (1 = a plain D)");
    cli.flag("--mbstd", "minibatch standard deviation after D's first hidden layer");
    cli.flag("--spectral", "spectral normalisation of D's Linear weights");
    cli.option("--clip", 0.01, "WGAN weight clipping: D's weights stay in [-clip, clip] (--loss wgan only)");
    cli.option("--frame-every", 100, "steps between frames (0 = no frames)");
    cli.option("--log-every", 100, "steps between measurements (log line, results.json history); 0 = at the end only");
    cli.option("--eval-samples", 2500, "G's points measured (the papers: 2,500)");
    cli.option("--seed", 1, "random seed: same seed, same run (on one thread)");
    cli.option("--threads", 1, "threads for OpenMP and OpenBLAS (0 = all cores; 1 is fastest for these small layers)");
    cli.option("--out", "runs/toy_2d", "output folder");
    cli.range("--steps", "[1, 10000000]");
    cli.range("--batch", "[2, 65536]");
    cli.range("--d-steps", "[1, 100]");
    cli.range("--lr", "(0, 1]");
    cli.range("--lr-d", "[0, 1]");
    cli.range("--beta1", "[0, 1)");
    cli.range("--latent", "[1, 1024]");
    cli.range("--hidden", "[1, 4096]");
    cli.range("--pack", "[1, 64]");
    cli.range("--clip", "(0, 100]");
    cli.range("--frame-every", "[0, 10000000]");
    cli.range("--log-every", "[0, 10000000]");
    cli.range("--eval-samples", "[2, 1000000]");
    cli.finish(argc, argv);

    gan::Toy2dConfig config;
    config.loss = gan::adversarial_loss_from_name(cli.text("--loss"));
    config.batch = cli.integer("--batch"), config.d_steps = cli.integer("--d-steps"), config.pack = cli.integer("--pack");
    config.latent = cli.integer("--latent"), config.hidden = cli.integer("--hidden");
    config.lr = static_cast<float>(cli.number("--lr"));
    config.lr_d = static_cast<float>(cli.number("--lr-d") > 0 ? cli.number("--lr-d") : cli.number("--lr"));
    config.beta1 = static_cast<float>(cli.number("--beta1")), config.clip = static_cast<float>(cli.number("--clip"));
    config.mbstd = cli.is_set("--mbstd"), config.spectral = cli.is_set("--spectral");
    const int steps = cli.integer("--steps"), every = cli.integer("--frame-every"), log_every = cli.integer("--log-every");
    const int eval_n = cli.integer("--eval-samples");
    if (config.batch % config.pack != 0) cli.fail("--batch must be a multiple of --pack");
    if (config.batch / config.pack < 2) cli.fail("--batch must hold at least two packs of --pack points");
    if (config.mbstd && every > 0 && eval_n < 2 * config.pack)
        cli.fail("--mbstd frames need --eval-samples of at least two packs (2 x --pack)");
    gan::start_program(cli);

    try {
        // ---- the data: a sampler of real points; the modes, where there are modes -------------------
        const std::string which = cli.text("--data");
        const bool has_modes = which == "ring" || which == "grid";
        const data::GaussianMixture2D modes = which == "grid" ? data::grid_of_25() : data::ring_of_8();
        Rng data_rng(static_cast<uint32_t>(cli.integer("--seed")) + 1000);
        auto real_points = [&](int n) {
            if (which == "spiral") return data::sample_spiral(n, data_rng);
            if (which == "moons") return data::sample_moons(n, data_rng);
            return data::sample_mixture(modes, n, data_rng);
        };
        auto real_batch = [&](int n) { return data::points_to_tensor(real_points(n)); };
        const float extent = which == "grid" ? 6.0f : which == "spiral" ? 5.0f : 3.0f;

        gan::Toy2dGan gan(config);
        std::printf("data: %s; loss %s, d-steps %d, lr G %g D %g, beta1 %g, pack %d%s%s\n", which.c_str(),
                    cli.text("--loss").c_str(), config.d_steps, config.lr, config.lr_d, config.beta1, config.pack,
                    config.mbstd ? ", minibatch stddev" : "", config.spectral ? ", spectral norm" : "");

        const std::string out = cli.text("--out");
        std::filesystem::create_directories(out + (every > 0 ? "/frames" : ""));
        Json results;
        results["config"] = cli.values();
        results["history"] = Json::array();
        std::vector<float> d_losses, g_losses;
        std::vector<io::Image> frames;
        const std::vector<data::Point> plane = io::plane_cell_centers(extent, 100);
        const std::vector<data::Point> shown_real = real_points(500);
        Rng eval_rng(static_cast<uint32_t>(cli.integer("--seed")) + 2000);
        const Tensor z_eval = randn({eval_n, config.latent}, eval_rng);
        io::Stopwatch timer;
        double train_seconds = 0;

        // Measure G now: the log line, a row of history, and (with frames) a picture.
        auto measure = [&](int step, bool draw) {
            const Tensor fake_tensor = gan.generate(z_eval);
            const std::vector<data::Point> fake = data::tensor_to_points(fake_tensor);
            Json row = {{"step", step}, {"d_loss", d_losses.empty() ? 0.0f : d_losses.back()},
                        {"g_loss", g_losses.empty() ? 0.0f : g_losses.back()}};
            char line[160];
            std::snprintf(line, sizeof line, "step %5d/%d  d_loss %7.4f  g_loss %7.4f", step, steps, float(row["d_loss"]),
                          float(row["g_loss"]));
            std::string text = line, title = "step " + std::to_string(step);
            if (has_modes) {
                const eval::ModeCoverage c = eval::mode_coverage(fake, modes.centers, modes.stddev);
                row["modes_covered"] = c.modes_covered, row["high_quality"] = c.high_quality_fraction;
                row["reverse_kl"] = c.reverse_kl;
                std::snprintf(line, sizeof line, "  modes %2d/%zu  high quality %5.1f%%  reverse KL %.3f", c.modes_covered,
                              modes.centers.size(), 100 * c.high_quality_fraction, c.reverse_kl);
                text += line;
                std::snprintf(line, sizeof line, "  modes %d/%zu  hq %.0f%%  KL %.2f", c.modes_covered, modes.centers.size(),
                              100 * c.high_quality_fraction, c.reverse_kl);
                title += line;
            }
            std::printf("%s\n", text.c_str());
            std::fflush(stdout);
            results["history"].push_back(row);
            if (!draw) return row;
            io::PlaneFrame f;
            f.extent = extent, f.cells = 100, f.title = title, f.real = shown_real;
            f.map = gan.output_map(data::points_to_tensor(plane), fake_tensor);
            f.map_is_probability = gan::has_probability(config.loss);
            const int arrows = std::min(64, eval_n) / config.pack * config.pack;  // whole packs
            f.fake = {fake.begin(), fake.begin() + std::min<int>(eval_n, 1000)};
            if (arrows > 0) {
                const Tensor pushed = gan.point_gradients(data::points_to_tensor({fake.begin(), fake.begin() + arrows}));
                for (int i = 0; i < arrows; ++i) f.push.push_back({-pushed[2 * i], -pushed[2 * i + 1]});
            }
            frames.push_back(io::draw_plane_frame(f));
            char name[32];
            std::snprintf(name, sizeof name, "/frames/step_%05d.png", step);
            io::write_png(out + name, frames.back());
            return row;
        };

        // ---- training --------------------------------------------------------------------------------
        measure(0, every > 0);
        for (int step = 1; step <= steps; ++step) {
            const double t0 = timer.seconds();
            if (cli.is_set("--decay")) gan.scale_learning_rates(1.0f - float(step - 1) / steps);
            const gan::Toy2dStats s = gan.step(real_batch);
            train_seconds += timer.seconds() - t0;
            if (!std::isfinite(s.d_loss) || !std::isfinite(s.g_loss)) throw std::runtime_error("a loss is NaN or infinite at step " + std::to_string(step));
            d_losses.push_back(s.d_loss), g_losses.push_back(s.g_loss);
            const bool frame = every > 0 && step % every == 0, log = log_every > 0 && step % log_every == 0;
            if (frame || log || step == steps) measure(step, frame);
        }

        // ---- what the run leaves behind ---------------------------------------------------------------
        results["final"] = results["history"].back();
        results["train_seconds"] = train_seconds;
        io::write_file_atomic(out + "/results.json", results.dump(2) + "\n");
        io::PlotOptions po;
        po.title = "05_toy_2d losses (" + cli.text("--loss") + ")";
        po.smooth = 50;
        io::plot_lines(out + "/losses.png", {{"D loss", {}, d_losses, {200, 40, 40}}, {"G loss", {}, g_losses, {40, 80, 200}}}, po);
        if (!frames.empty()) io::write_gif(out + "/progress.gif", frames, 20);
        std::printf("trained %d steps in %.1f s; wrote %s/{results.json, losses.png%s}\n", steps, train_seconds, out.c_str(),
                    frames.empty() ? "" : ", progress.gif, frames/");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "05_toy_2d: error: %s\n", e.what());
        return 1;
    }
    return 0;
}
