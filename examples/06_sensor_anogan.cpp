// 06_sensor_anogan.cpp - fault detection on a control loop's sensor signals, trained on a healthy plant only.
//
//   g++ -O2 -std=c++17 -fopenmp -Iinclude examples/06_sensor_anogan.cpp -lopenblas -lz -o sensor_anogan
//   ./sensor_anogan                  # about 2 minutes on one core; --quick: seconds, for tests
//
// The plant (data/plant.hpp): a tank level under a discrete PI controller, sampled at 10 Hz;
// three channels, setpoint r, measured level m and valve command u, cut into windows of
// --window samples every --stride samples. The GAN learns windows of the HEALTHY loop only.
// Then one run per fault type (sensor drift, stuck sensor, spikes, actuator saturation, loss
// of actuator gain, noisier sensor, sluggish plant), the fault starting at --onset, is scored
// window by window:
//   f-AnoGAN (gan/anogan.hpp): an encoder E maps a window to z; the izi_f score compares the
//     window with G(E(x)), in values and in D's features. One pass per window.
//   AnoGAN: latent search for z per window (--search-queries windows of each run).
//   PCA (eval/pca.hpp), the baseline a control engineer tries first: the squared prediction
//     error of the window against its projection on the healthy principal components.
// Why an MLP on the flattened window (3 x 64 = 192 values) and not the DCGAN: the three
// channels are not neighbours in space the way pixel rows are, so a 5x5 convolution sliding
// across them has nothing to share; and the signals are short enough for Linear layers.
// AUROC per fault type: the faulty windows of its run against every window of the same run
// (same seed) without the fault. A threshold per method is set on a healthy validation run
// for a false-alarm rate of --false-alarm-rate; the detection delay is the time from the
// onset to the first alarm (gan/fault_detection.hpp). docs/sensor-anomaly.md has the
// results and what the methods miss. Writes to --out:
//   gan/ the GAN's training run; encoder.safetensors; signal_<fault>.png (the signals, each
//   score over its threshold, the GAN's alarms shaded); window_<fault>.png (the most anomalous
//   faulty window, G(E(x)) and the residual); roc.png (ROC per fault type, GAN vs PCA);
//   scores.csv (every window's scores); results.json (AUROC per fault type, delays, settings).
#include <algorithm>
#include <cstdio>

#include <minigan/data/plant.hpp>
#include <minigan/eval/pca.hpp>
#include <minigan/gan/anogan.hpp>
#include <minigan/gan/anomaly_report.hpp>
#include <minigan/gan/example_run.hpp>
#include <minigan/gan/fault_detection.hpp>
#include <minigan/io/progress.hpp>
#include <minigan/minigan.hpp>

using namespace minigan;

// The MLP GAN on a window (N, 1, 3, L) = 3L values. D's first 6 layers end in its second
// hidden layer: the feature map f of the izi_f and AnoGAN scores.
std::shared_ptr<nn::Sequential> window_generator(int latent, int hidden, int values) {
    using namespace nn;
    return make<Sequential>(make<Linear>(latent, hidden), make<LeakyReLU>(0.2f), make<Linear>(hidden, 2 * hidden),
                            make<LeakyReLU>(0.2f), make<Linear>(2 * hidden, values), make<Tanh>(),
                            make<Reshape>(Shape{1, data::kPlantChannels, values / data::kPlantChannels}));
}
std::shared_ptr<nn::Sequential> window_discriminator(int hidden, int values) {
    using namespace nn;
    return make<Sequential>(make<Flatten>(), make<Linear>(values, 2 * hidden), make<LeakyReLU>(0.2f), make<Dropout>(0.3f),
                            make<Linear>(2 * hidden, hidden), make<LeakyReLU>(0.2f), make<Dropout>(0.3f),
                            make<Linear>(hidden, 1));
}
// E: window -> z, D's layout without Dropout. No Tanh at the end (03_anogan's E has one): G
// learned from z ~ N(0, 1), whose entries leave (-1, 1) a third of the time, and a Tanh
// would keep E from reaching those windows (measured: a worse izi_f loss and AUROC).
std::shared_ptr<nn::Sequential> window_encoder(int latent, int hidden, int values) {
    using namespace nn;
    return make<Sequential>(make<Flatten>(), make<Linear>(values, 2 * hidden), make<LeakyReLU>(0.2f),
                            make<Linear>(2 * hidden, hidden), make<LeakyReLU>(0.2f), make<Linear>(hidden, latent));
}
constexpr size_t kFeatureLayers = 6;

// `count` of the windows `candidates`, evenly spaced through the run (all if fewer).
std::vector<size_t> evenly_spaced(const std::vector<size_t>& candidates, size_t count) {
    if (count >= candidates.size()) return candidates;
    std::vector<size_t> out;
    for (size_t k = 0; k < count; ++k) out.push_back(candidates[k * candidates.size() / count]);
    return out;
}

// What an AUROC of one fault type compares: the faulty windows of its run (label 1) against
// every window of the same run without the fault (label 0). Same seed, same setpoints and
// noise: only the fault tells the two apart, never a setpoint the other run lacks.
struct Paired {
    std::vector<float> scores;
    std::vector<int> faulty;
    void add(const std::vector<float>& s, const std::vector<int>& labels, int keep_label) {
        for (size_t i = 0; i < s.size(); ++i)
            if (labels[i] == keep_label) scores.push_back(s[i]), faulty.push_back(keep_label);
    }
};

// The windows of one run and every method's score of each.
struct ScoredWindows {
    std::string name;  // "healthy" or the fault type
    data::PlantSignals signals;
    data::Windows windows;
    gan::EncodedQueries encoded;          // izi_f score, G(E(x))
    std::vector<float> pca;               // SPE
    std::vector<size_t> subset;           // the windows searched by AnoGAN
    std::vector<float> anogan;            // their scores
};

int main(int argc, char** argv) {
    io::Cli cli("06_sensor_anogan", "Detect faults of a simulated PI-controlled tank from healthy windows only: f-AnoGAN, AnoGAN and PCA.");
    cli.option("--train-samples", 20000, "samples of the healthy run the GAN, E and PCA learn from (10 per second)");
    cli.option("--val-samples", 6000, "samples of the healthy validation run that sets the thresholds");
    cli.option("--test-samples", 3000, "samples of each fault run");
    cli.option("--onset", 1000, "sample at which the fault starts in each fault run");
    cli.option("--window", 64, "samples per window");
    cli.option("--stride", 8, "samples between the starts of consecutive windows");
    cli.option("--false-alarm-rate", 0.01, "share of healthy validation windows allowed above the alarm threshold");
    cli.option("--epochs", 300, "passes of GAN training over the healthy windows");
    cli.option("--batch", 64, "windows per step");
    cli.option("--latent", 16, "size of z");
    cli.option("--hidden", 128, "width of the MLPs (G: latent -> hidden -> 2 hidden -> window)");
    cli.option("--lr", 2e-4, "Adam learning rate of G and D");
    cli.option("--beta1", 0.5, "Adam beta1");
    cli.option("--encoder-epochs", 100, "passes of izi_f encoder training over the healthy windows");
    cli.option("--encoder-lr", 1e-3, "Adam learning rate of the encoder");
    cli.option("--kappa", 1.0, "weight of the feature term in the izi_f score (Schlegl et al. 2019: 1)");
    cli.option("--pca-components", 12, "principal components the PCA baseline keeps");
    cli.option("--search-queries", 48, "windows of each run scored by AnoGAN's latent search (spread over the run; of a fault run, faulty ones; 0 = none)");
    cli.option("--search-steps", 300, "Adam steps on z per searched window");
    cli.option("--search-lr", 0.05, "Adam learning rate on z");
    cli.option("--lambda", 0.1, "weight of the discrimination loss in latent search (Schlegl et al.: 0.1)");
    cli.flag("--quick", "a tiny run for tests, in seconds: small run lengths, --onset, epochs and search sizes, where not given");
    cli.option("--seed", 1, "random seed of the plant runs and the training (same seed, same run on one thread)");
    cli.option("--threads", 0, "threads for OpenMP and OpenBLAS (0 = all cores)");
    cli.option("--out", "", "output folder (empty: runs/sensor_anogan, or runs/sensor_anogan_quick with --quick)");
    cli.range("--train-samples", "[256, 10000000]");
    cli.range("--val-samples", "[256, 10000000]");
    cli.range("--test-samples", "[2, 10000000]");
    cli.range("--onset", "[1, 10000000]");
    cli.range("--window", "[4, 4096]");
    cli.range("--stride", "[1, 4096]");
    cli.range("--false-alarm-rate", "(0, 0.5)");
    cli.range("--epochs", "[1, 100000]");
    cli.range("--batch", "[2, 4096]");
    cli.range("--latent", "[1, 4096]");
    cli.range("--hidden", "[1, 65536]");
    cli.range("--lr", "(0, 1]");
    cli.range("--beta1", "[0, 1)");
    cli.range("--encoder-epochs", "[1, 100000]");
    cli.range("--encoder-lr", "(0, 1]");
    cli.range("--kappa", "[0, 1000]");
    cli.range("--pca-components", "[1, 12288]");
    cli.range("--search-queries", "[0, 100000]");
    cli.range("--search-steps", "[1, 100000]");
    cli.range("--search-lr", "(0, 1]");
    cli.range("--lambda", "[0, 1]");
    cli.range("--threads", "[0, 1024]");
    cli.finish(argc, argv);

    const bool quick = cli.is_set("--quick");
    // --quick: tiny sizes for the flags not given on the command line.
    auto sized = [&](const char* flag, int quick_value) { return quick && !cli.given(flag) ? quick_value : cli.integer(flag); };
    const int train_samples = sized("--train-samples", 1500), val_samples = sized("--val-samples", 800);
    const int test_samples = sized("--test-samples", 600), onset = sized("--onset", 300);
    const int epochs = sized("--epochs", 2), encoder_epochs = sized("--encoder-epochs", 1);
    const int search_queries = sized("--search-queries", 4), search_steps = sized("--search-steps", 5);
    const int window = cli.integer("--window"), stride = cli.integer("--stride"), batch = cli.integer("--batch");
    const int latent = cli.integer("--latent"), hidden = cli.integer("--hidden"), components = cli.integer("--pca-components");
    const double far = cli.number("--false-alarm-rate");
    const float kappa = static_cast<float>(cli.number("--kappa")), lambda = static_cast<float>(cli.number("--lambda"));
    const uint32_t seed = static_cast<uint32_t>(cli.integer("--seed"));
    const std::string out = !cli.text("--out").empty() ? cli.text("--out") : quick ? "runs/sensor_anogan_quick" : "runs/sensor_anogan";
    if (window < 4 || stride < 1 || onset < window || test_samples < onset + window || train_samples < 4 * window ||
        val_samples < 4 * window)
        cli.fail("need --window >= 4, --stride >= 1, --onset >= --window, --test-samples >= --onset + --window, "
                 "--train-samples and --val-samples >= 4 windows");
    if (epochs < 1 || encoder_epochs < 1 || batch < 2 || latent < 1 || hidden < 1 || components < 1 ||
        components > window * data::kPlantChannels)
        cli.fail("need --epochs, --encoder-epochs >= 1, --batch >= 2, --latent, --hidden >= 1, 1 <= --pca-components <= 3 x --window");
    if (!(far > 0 && far < 0.5) || search_queries < 0 || search_steps < 1 || !(lambda >= 0 && lambda <= 1) || !(kappa >= 0))
        cli.fail("need 0 < --false-alarm-rate < 0.5, --search-queries >= 0, --search-steps >= 1, 0 <= --lambda <= 1, --kappa >= 0");
    gan::start_program(cli);

    try {
        // ---- data: a healthy run to learn from, a healthy run for thresholds, one run per fault --
        const data::PlantConfig plant;
        const data::PlantSignals healthy = data::simulate_plant(plant, train_samples, seed);
        const data::ChannelScaler scale = data::ChannelScaler::fit(healthy);
        const data::Windows train_windows = data::make_windows(healthy, scale, window, stride);
        const data::Dataset train{train_windows.x, std::vector<int>(train_windows.size(), 0)};
        // runs[0]: healthy validation (thresholds); runs[1]: the fault runs' healthy twin; then one per fault.
        std::vector<ScoredWindows> runs;
        runs.push_back({"validation", data::simulate_plant(plant, val_samples, seed + 1), {}, {}, {}, {}, {}});
        runs.push_back({"healthy", data::simulate_plant(plant, test_samples, seed + 2), {}, {}, {}, {}, {}});
        for (int k = 0; k < 2; ++k) runs[k].windows = data::make_windows(runs[k].signals, scale, window, stride);
        for (data::FaultType type : data::all_fault_types()) {
            const std::vector<data::Fault> faults{data::typical_fault(type, onset)};
            // The same seed for every fault run: the same setpoints and noise, only the fault differs.
            runs.push_back({data::fault_name(type), data::simulate_plant(plant, test_samples, seed + 2, faults), {}, {}, {}, {}, {}});
            runs.back().windows = data::make_windows(runs.back().signals, scale, window, stride, faults);
        }
        std::printf("data: %zu healthy training windows of %d samples x %d channels (stride %d), %zu validation windows, "
                    "%zu windows per fault run (fault from sample %d)\n", train_windows.size(), window, data::kPlantChannels,
                    stride, runs[0].windows.size(), runs[2].windows.size(), onset);
        if (train.size() < static_cast<size_t>(batch)) throw std::runtime_error("fewer healthy training windows than --batch");

        // ---- 1. the GAN, on healthy windows only ----------------------------------------------
        const int values = data::kPlantChannels * window;
        auto G = window_generator(latent, hidden, values);
        auto D = window_discriminator(hidden, values);
        const float lr = static_cast<float>(cli.number("--lr")), beta1 = static_cast<float>(cli.number("--beta1"));
        optim::Adam optG(G->parameters(), lr, beta1, 0.999f), optD(D->parameters(), lr, beta1, 0.999f);
        gan::TrainingRun run(out + "/gan", cli.values());
        const bool gan_trained_now = gan::train_or_load_gan(run, *G, *D, optG, optD, train, batch, latent, epochs, seed);

        // ---- 2. the f-AnoGAN encoder, G and D frozen ------------------------------------------
        auto E = window_encoder(latent, hidden, values);
        gan::EncoderOptions eopt;
        eopt.epochs = encoder_epochs, eopt.batch = batch, eopt.lr = static_cast<float>(cli.number("--encoder-lr"));
        eopt.kappa = kappa, eopt.feature_layers = kFeatureLayers, eopt.seed = seed;
        const std::string recipe = "gan_step=" + std::to_string(run.state.step) + " epochs=" + std::to_string(encoder_epochs) +
                                   " lr=" + cli.text("--encoder-lr") + " kappa=" + cli.text("--kappa");
        const double encoder_seconds = gan::train_or_load_encoder(*E, *G, *D, train, eopt, out + "/encoder.safetensors",
                                                                  recipe, !gan_trained_now);

        // ---- 3. the PCA baseline, on the same healthy windows ---------------------------------
        const eval::Pca pca = eval::Pca::fit(train_windows.x, components);
        std::printf("PCA: %d components explain %.1f%% of the healthy windows' variance\n", components, 100 * pca.explained());

        // ---- 4. every window of every run scored: f-AnoGAN and PCA on all, AnoGAN on a subset --
        gan::LatentSearchOptions sopt;
        sopt.steps = search_steps, sopt.lambda = lambda, sopt.feature_layers = kFeatureLayers;
        sopt.lr = static_cast<float>(cli.number("--search-lr")), sopt.seed = seed;
        io::Stopwatch clock;
        double izif_seconds = 0, search_seconds = 0;
        size_t scored = 0, searched = 0;
        for (ScoredWindows& r : runs) {
            clock.restart();
            r.encoded = gan::encode_queries(*G, *D, *E, kFeatureLayers, r.windows.x, kappa);
            izif_seconds += clock.restart();
            scored += r.windows.size();
            r.pca = pca.spe(r.windows.x);
            if (search_queries == 0) continue;
            // Searched: windows spread over the run; of a fault run, only faulty ones (see Paired).
            std::vector<size_t> candidates;
            for (size_t i = 0; i < r.windows.size(); ++i)
                if (r.name == "validation" || r.name == "healthy" || r.windows.faulty[i]) candidates.push_back(i);
            r.subset = evenly_spaced(candidates, static_cast<size_t>(search_queries));
            clock.restart();
            const data::Dataset windows{r.windows.x, r.windows.faulty};
            const gan::LatentSearchResult found =
                gan::latent_search_batches(*G, *D, data::select(windows, r.subset).images, latent, sopt, 100);
            search_seconds += clock.restart();
            searched += r.subset.size();
            r.anogan = found.scores;
        }
        std::printf("scored %zu windows with f-AnoGAN (%.0f windows/s) and PCA; AnoGAN searched %zu (%.1f windows/s)\n",
                    scored, scored / std::max(izif_seconds, 1e-9), searched, searched / std::max(search_seconds, 1e-9));

        // ---- 5. thresholds on the healthy validation run, then AUROC and delay per fault ------
        const ScoredWindows& validation = runs[0];
        const float t_gan = gan::alarm_threshold(validation.encoded.izif, far), t_pca = gan::alarm_threshold(validation.pca, far);
        const float t_anogan = validation.anogan.empty() ? 0.0f : gan::alarm_threshold(validation.anogan, far);
        std::printf("alarm thresholds for %.1f%% false alarms on healthy validation windows: f-AnoGAN %.4g, PCA %.4g\n",
                    100 * far, t_gan, t_pca);
        const double dt = plant.dt;
        auto delay_json = [&](const gan::Detection& d) {
            return Json{{"detected", d.detected},
                        {"delay_seconds", d.detected ? Json(d.delay_samples * dt) : Json(nullptr)},
                        {"false_alarm_rate_before_onset", d.false_alarm_rate}};
        };
        Json per_fault = Json::object();
        double sum_gan = 0, sum_pca = 0, sum_anogan = 0;
        int anogan_faults = 0;
        std::vector<io::Image> rocs;
        std::string csv = "run,window_start,faulty,f_anogan,pca_spe,anogan\n";
        std::printf("\n%-11s %9s %9s %9s   %s\n", "fault", "f-AnoGAN", "PCA", "AnoGAN", "delay (s): f-AnoGAN / PCA");
        for (size_t k = 0; k < runs.size(); ++k) {
            const ScoredWindows& r = runs[k];
            std::vector<float> anogan_of(r.windows.size(), NAN);
            for (size_t q = 0; q < r.subset.size(); ++q) anogan_of[r.subset[q]] = r.anogan[q];
            for (size_t i = 0; i < r.windows.size(); ++i) {
                char row[160];
                std::snprintf(row, sizeof row, "%s,%d,%d,%.6g,%.6g,%.6g\n", r.name.c_str(), r.windows.start[i],
                              r.windows.faulty[i], r.encoded.izif[i], r.pca[i], anogan_of[i]);
                csv += row;
            }
            if (k < 2) continue;  // the healthy runs
            const ScoredWindows& twin = runs[1];
            Paired gan_pair, pca_pair, anogan_pair;
            gan_pair.add(r.encoded.izif, r.windows.faulty, 1), gan_pair.add(twin.encoded.izif, twin.windows.faulty, 0);
            pca_pair.add(r.pca, r.windows.faulty, 1), pca_pair.add(twin.pca, twin.windows.faulty, 0);
            anogan_pair.add(r.anogan, std::vector<int>(r.anogan.size(), 1), 1);
            anogan_pair.add(twin.anogan, std::vector<int>(twin.anogan.size(), 0), 0);
            const bool both = !r.anogan.empty() && !twin.anogan.empty();
            const double a_gan = gan::auroc(gan_pair.scores, gan_pair.faulty), a_pca = gan::auroc(pca_pair.scores, pca_pair.faulty);
            const double a_anogan = both ? gan::auroc(anogan_pair.scores, anogan_pair.faulty) : NAN;
            const gan::Detection d_gan = gan::detect(r.windows, r.encoded.izif, t_gan, onset);
            const gan::Detection d_pca = gan::detect(r.windows, r.pca, t_pca, onset);
            sum_gan += a_gan, sum_pca += a_pca;
            if (both) sum_anogan += a_anogan, ++anogan_faults;
            per_fault[r.name] = {
                {"f_anogan", {{"auroc", a_gan}, {"detection", delay_json(d_gan)}}},
                {"pca", {{"auroc", a_pca}, {"detection", delay_json(d_pca)}}},
                {"anogan", {{"auroc", both ? Json(a_anogan) : Json(nullptr)}, {"windows", r.subset.size()}}}};
            auto delay_text = [&](const gan::Detection& d) { return d.detected ? io::fixed(d.delay_samples * dt, 1) : std::string("missed"); };
            std::printf("%-11s %9.3f %9.3f %9.3f   %s / %s\n", r.name.c_str(), a_gan, a_pca, a_anogan,
                        delay_text(d_gan).c_str(), delay_text(d_pca).c_str());

            // Pictures: the run with its scores; the most anomalous faulty window; the ROC curves.
            const std::vector<gan::ScoredRun> methods{{"f-AnoGAN", r.encoded.izif, t_gan, io::plot_colour(4)},
                                                      {"PCA (SPE)", r.pca, t_pca, io::plot_colour(1)}};
            const std::vector<gan::ScoredRun> paired{{"f-AnoGAN", gan_pair.scores, t_gan, io::plot_colour(4)},
                                                     {"PCA (SPE)", pca_pair.scores, t_pca, io::plot_colour(1)}};
            gan::write_signal_plot(out + "/signal_" + r.name + ".png", "fault: " + r.name + " (shaded: f-AnoGAN alarm)",
                                   r.signals, r.windows, methods, onset);
            size_t worst = 0;
            for (size_t i = 0; i < r.windows.size(); ++i)
                if (r.windows.faulty[i] && (!r.windows.faulty[worst] || r.encoded.izif[i] > r.encoded.izif[worst])) worst = i;
            const size_t per_window = static_cast<size_t>(values);
            gan::write_window_panel(out + "/window_" + r.name + ".png",
                                    r.name + ": top f-AnoGAN window, " + io::fixed(r.windows.start[worst] * dt, 1) + " s",
                                    r.windows.x.ptr() + worst * per_window, r.encoded.generated.ptr() + worst * per_window, window);
            rocs.push_back(gan::roc_plot(r.name, paired, gan_pair.faulty));
        }
        const double faults = static_cast<double>(runs.size() - 2);
        std::printf("%-11s %9.3f %9.3f %9.3f\n\n", "mean", sum_gan / faults, sum_pca / faults,
                    anogan_faults ? sum_anogan / anogan_faults : NAN);
        io::write_png(out + "/roc.png", gan::grid_images(rocs, 4));
        io::write_file_atomic(out + "/scores.csv", csv);
        const Json results{
            {"auroc_compares", "per fault type: its run's faulty windows against every window of the same run without the fault"},
            {"faults", per_fault},
            {"mean_auroc", {{"f_anogan", sum_gan / faults}, {"pca", sum_pca / faults},
                            {"anogan", anogan_faults ? Json(sum_anogan / anogan_faults) : Json(nullptr)}}},
            {"thresholds", {{"false_alarm_rate", far}, {"f_anogan", t_gan}, {"pca", t_pca}, {"anogan", t_anogan},
                            {"validation_windows", validation.windows.size()}}},
            {"windows", {{"length", window}, {"stride", stride}, {"train", train_windows.size()},
                         {"per_fault_run", runs[2].windows.size()}, {"onset_sample", onset}, {"dt_seconds", dt}}},
            {"gan", {{"epochs", run.state.epoch}, {"steps", run.state.step}, {"seconds", run.state.seconds},
                     {"encoder_seconds", encoder_seconds}, {"latent", latent}, {"hidden", hidden}}},
            {"pca", {{"components", components}, {"explained_variance", pca.explained()}}},
            {"speed", {{"f_anogan_windows_per_second", scored / std::max(izif_seconds, 1e-9)},
                       {"anogan_windows_per_second", searched ? Json(searched / std::max(search_seconds, 1e-9)) : Json(nullptr)},
                       {"anogan_steps", search_steps}}},
            {"threads", num_threads()},
            {"config", cli.values()}};
        io::write_file_atomic(out + "/results.json", results.dump(2) + "\n");
        std::printf("wrote %s/{signal_*.png, window_*.png, roc.png, scores.csv, results.json}\n", out.c_str());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "06_sensor_anogan: error: %s\n", e.what());
        return 1;
    }
    return 0;
}
