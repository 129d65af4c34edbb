// evaluate.cpp - measure a trained generator with the classifier: classifier FID, class histogram,
// mean confidence, next to the same numbers for real images (the floor).
//
//   g++ -O2 -std=c++17 -fopenmp -Iinclude examples/evaluate.cpp -lopenblas -lz -o evaluate
//   ./evaluate --run runs/dcgan       (after examples/mnist_classifier and examples/02_dcgan)
//
// Reads runs/<name>/run.json to rebuild the generator (model, width, latent), loads
// generator.safetensors, draws --samples images and compares the classifier's penultimate
// features with those of the 10,000 test images (eval/quality.hpp). 10,000 real training images
// go through the same measurement: no generator can be expected to beat that "floor".
// Prints a table and writes runs/<name>/evaluate.json and evaluate_samples.png.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <minigan/io/json.hpp>

#include <minigan/data/dataset.hpp>
#include <minigan/eval/quality.hpp>
#include <minigan/gan/conditional.hpp>
#include <minigan/gan/example_run.hpp>
#include <minigan/gan/models.hpp>
#include <minigan/io/image_grid.hpp>
#include <minigan/io/safetensors.hpp>
#include <minigan/minigan.hpp>

using namespace minigan;

// A config value written by io::Cli (a string) or by hand (a number); anything else is an error
// that names the key and the value.
static double config_number(const Json& config, const std::string& key, double fallback) {
    if (!config.contains(key)) return fallback;
    const Json& v = config.at(key);
    double x = 0;
    if (v.is_number()) x = v.get<double>();
    else if (!v.is_string() || !io::parse_number(v.get<std::string>(), x)) x = NAN;
    if (!std::isfinite(x)) throw std::runtime_error("run.json: config \"" + key + "\" is " + v.dump() + ", expected a number");
    return x;
}
static std::string config_text(const Json& config, const std::string& key, const std::string& fallback) {
    if (!config.contains(key)) return fallback;
    if (!config.at(key).is_string())
        throw std::runtime_error("run.json: config \"" + key + "\" is " + config.at(key).dump() + ", expected a string");
    return config.at(key).get<std::string>();
}

// What run.json says about the generator. "model" is "dcgan" (the default: runs written before
// the key existed are DCGAN runs), "vanilla" or "conditional".
struct GeneratorConfig {
    std::string model = "dcgan", dataset = "mnist";
    float width = 1.0f;
    int latent = 100;
    bool averaged = false;  // trained with --ema: the samples come from generator_ema.safetensors
};

// run.json's "epoch" and "step": whole numbers >= 0 (0 when absent).
static long run_integer(const Json& run_json, const std::string& key) {
    if (!run_json.contains(key)) return 0;
    const Json& v = run_json.at(key);
    if (!v.is_number_integer() || v.get<long>() < 0)
        throw std::runtime_error("run.json: \"" + key + "\" is " + v.dump() + ", expected a whole number >= 0");
    return v.get<long>();
}

static GeneratorConfig read_config(const Json& config) {
    GeneratorConfig g;
    g.model = config_text(config, "model", g.model);
    g.dataset = config_text(config, "dataset", g.dataset);
    g.width = static_cast<float>(config_number(config, "width", 1.0));
    g.latent = static_cast<int>(config_number(config, "latent", 100));
    if (!(g.width > 0 && g.width <= 4) || g.latent < 1 || g.latent > 4096)
        throw std::runtime_error("run.json: config width " + std::to_string(g.width) + " or latent " + std::to_string(g.latent) +
                                 " is outside what the training programs accept");
    g.averaged = config_number(config, "ema", 0.0) > 0.0;
    return g;
}

// The one place a generator is built from a run's config: add a model here and it is evaluated.
// A conditional generator (gan/conditional.hpp) is built here too; it also needs the class it
// is asked for, see sample_images() below.
static std::shared_ptr<nn::Sequential> build_generator(const GeneratorConfig& g) {
    if (g.model == "dcgan") return gan::dcgan_generator(g.latent, g.width);
    if (g.model == "vanilla") return gan::vanilla_generator(g.latent, g.width);
    if (g.model == "conditional") return gan::conditional_generator(g.latent, 10, g.width);  // 10 classes
    throw std::runtime_error("run.json: model \"" + g.model + "\" cannot be evaluated yet (known: dcgan, vanilla, conditional)");
}

// `count` generated images (count, 1, 28, 28) in [-1, 1], drawn in eval mode from a seeded z.
// requested[i] is the class image i was asked to be (i % 10); an unconditional generator ignores it.
// A conditional generator gets (z, the requested labels of the chunk) instead of z, and main()
// then also reports eval::requested_class_accuracy(classifier, images, requested).
static Tensor sample_images(nn::Sequential& G, const GeneratorConfig& g, int count, uint32_t seed,
                            std::vector<int>& requested) {
    G.eval();
    NoGrad no_grad;
    Rng rng(seed);
    Tensor images({count, 1, 28, 28});
    requested.resize(static_cast<size_t>(count));
    for (int i = 0; i < count; ++i) requested[static_cast<size_t>(i)] = i % 10;
    const int chunk = 500;
    for (int first = 0; first < count; first += chunk) {
        const int n = std::min(chunk, count - first);
        Var z(randn({n, g.latent}, rng));
        if (g.model == "conditional")  // G(z, y): image i is asked for class requested[i]
            z = gan::generator_input(z, std::vector<int>(requested.begin() + first, requested.begin() + first + n), 10);
        Tensor fake = G(z).value();  // (n, 1, 28, 28) or (n, 784)
        if (fake.numel() != static_cast<size_t>(n) * 784)
            throw std::runtime_error("the generator makes " + shape_str(fake.shape) + ", not 28x28 images");
        std::copy(fake.data.begin(), fake.data.end(), images.data.begin() + static_cast<std::ptrdiff_t>(first) * 784);
    }
    return images;
}

static std::string histogram_text(const std::vector<double>& fraction) {
    std::string s;
    for (size_t k = 0; k < fraction.size(); ++k) {
        char cell[64];
        std::snprintf(cell, sizeof cell, "%s%zu:%.1f%%", k ? " " : "", k, 100.0 * fraction[k]);
        s += cell;
    }
    return s;
}

static Json report_json(const eval::QualityReport& r) {
    return {{"classifier_fid", r.fid}, {"mean_confidence", r.mean_confidence}, {"class_fraction", r.class_fraction}};
}

// What depends only on the classifier and the data set: the test images' Gaussian and the floor.
struct Reference {
    eval::Gaussian test;          // fitted to the classifier features of the 10,000 test images
    eval::QualityReport floor;    // 10,000 real training images measured against it
    double test_accuracy = 0.0, test_confidence = 0.0;
};

static Reference compute_reference(nn::Sequential& classifier, const std::string& dataset, const std::string& data_root) {
    const data::Dataset test = data::load_dataset(dataset, "test", data_root);
    const data::Dataset train = data::load_dataset(dataset, "train", data_root);
    Reference r;
    const eval::ClassifierOutput test_out = eval::classify(classifier, test.images);
    r.test = eval::fit_gaussian(test_out.features);
    r.test_accuracy = eval::accuracy(eval::predicted_classes(test_out.logits), test.labels);
    r.test_confidence = eval::mean_confidence(test_out.logits);
    r.floor = eval::quality_report(classifier, data::image_range(train, 0, std::min<size_t>(10000, train.size())), r.test);
    return r;
}

// 64-bit FNV-1a hash of a file's bytes: the cache below is only used with the classifier it was made with.
static std::string file_fingerprint(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw std::runtime_error(path + ": cannot open");
    uint64_t h = 14695981039346656037ull;
    for (char c; f.get(c);) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    return std::to_string(h);
}

// The reference takes ~20,000 classifier passes; it is kept in <classifier folder>/reference-<dataset>.json
// (JSON keeps the doubles exact) and recomputed when the classifier file changes.
static Reference load_or_compute_reference(nn::Sequential& classifier, const std::string& classifier_path,
                                           const std::string& dataset, const std::string& data_root) {
    const std::string cache = (std::filesystem::path(classifier_path).parent_path() / ("reference-" + dataset + ".json")).string();
    const std::string fingerprint = file_fingerprint(classifier_path);
    std::ifstream in(cache);
    if (in) try {
        Json j = Json::parse(in, nullptr, false);
        if (!j.is_discarded() && j.value("classifier_fnv1a", std::string()) == fingerprint) {
            Reference r;
            r.test.mean = j.at("test_mean").get<std::vector<double>>();
            r.test.cov = eval::Matrix(static_cast<int>(r.test.mean.size()));
            r.test.cov.a = j.at("test_cov").get<std::vector<double>>();
            r.floor = {j.at("floor").at("classifier_fid").get<double>(), j.at("floor").at("class_fraction").get<std::vector<double>>(),
                       j.at("floor").at("mean_confidence").get<double>()};
            r.test_accuracy = j.at("test_accuracy").get<double>();
            r.test_confidence = j.at("test_confidence").get<double>();
            if (r.test.cov.a.size() != r.test.mean.size() * r.test.mean.size())
                throw std::runtime_error("test_cov does not match test_mean");
            std::printf("reference statistics: %s\n", cache.c_str());
            return r;
        }
    } catch (const std::exception& e) {  // a damaged cache is only a cache: say so and compute it again
        std::printf("%s is damaged (%s): computing it again\n", cache.c_str(), e.what());
    }
    std::printf("computing the reference statistics (10,000 test and 10,000 training images) -> %s\n", cache.c_str());
    Reference r = compute_reference(classifier, dataset, data_root);
    Json j{{"classifier_fnv1a", fingerprint}, {"dataset", dataset},
                             {"test_accuracy", r.test_accuracy}, {"test_confidence", r.test_confidence},
                             {"floor", report_json(r.floor)}, {"test_mean", r.test.mean}, {"test_cov", r.test.cov.a}};
    io::write_file_atomic(cache, j.dump() + "\n");
    return r;
}

int main(int argc, char** argv) {
    io::Cli cli("evaluate", "Score a generator: classifier FID, class histogram and confidence, against real images.");
    cli.option("--run", "runs/dcgan", "run folder with run.json and generator.safetensors");
    cli.option("--classifier", "", "classifier weights (default: runs/classifier-<dataset of the run>/classifier.safetensors)");
    cli.option("--weights", "", "generator file in the run folder (default: generator_ema.safetensors for a run with --ema, else generator.safetensors)");
    cli.option("--samples", 10000, "generated images to score (the test set has 10,000)");
    cli.option("--seed", 1, "seed of the latent vectors");
    cli.option("--threads", 0, "threads for OpenMP and OpenBLAS (0 = all cores)");
    cli.option("--data", "data", "folder holding mnist/ and fashion-mnist/ (see data/fetch.sh)");
    cli.option("--out", "", "report file (default: <run>/evaluate.json)");
    cli.range("--samples", "[2, 1000000]");  // 2: a covariance needs two images
    cli.range("--seed", "[0, 2147483647]");
    cli.range("--threads", "[0, 1024]");
    cli.finish(argc, argv);
    const int samples = cli.integer("--samples");
    gan::start_program(cli);  // --threads (and --seed, which only the latent vectors use), the first line

    try {
        // ---- the run: its config rebuilds the generator, then its weights are loaded --------------
        const std::string run = cli.text("--run");
        std::ifstream run_file(run + "/run.json");
        if (!run_file) throw std::runtime_error(run + "/run.json: cannot open (is --run a training run folder?)");
        const Json run_json = Json::parse(run_file, nullptr, false);
        if (run_json.is_discarded() || !run_json.contains("config"))
            throw std::runtime_error(run + "/run.json: not a run description (no \"config\")");
        GeneratorConfig g;
        try {
            g = read_config(run_json.at("config"));
            (void)run_integer(run_json, "epoch"), (void)run_integer(run_json, "step");
        } catch (const std::runtime_error& e) {
            throw std::runtime_error(run + "/" + e.what());  // "runs/x/run.json: config ..."
        }
        auto G = build_generator(g);
        // A run with --ema draws its sample grids from the averaged weights: score those.
        std::string weights = g.averaged ? "generator_ema.safetensors" : config_text(run_json, "generator", "generator.safetensors");
        if (!cli.text("--weights").empty()) weights = cli.text("--weights");
        io::load_module(run + "/" + weights, *G);
        std::printf("generator: %s, width %g, latent %d, trained on %s for %ld epochs (%ld steps), %s\n", g.model.c_str(),
                    g.width, g.latent, g.dataset.c_str(), run_integer(run_json, "epoch"), run_integer(run_json, "step"),
                    weights.c_str());

        const std::string classifier_path = cli.text("--classifier").empty()
            ? "runs/classifier-" + g.dataset + "/classifier.safetensors" : cli.text("--classifier");
        auto classifier = eval::classifier_cnn();
        io::load_module(classifier_path, *classifier);

        // ---- the reference: test images; the floor: 10,000 real training images ------------------
        const Reference ref = load_or_compute_reference(*classifier, classifier_path, g.dataset, cli.text("--data"));
        const eval::QualityReport& floor = ref.floor;

        // ---- the generator's samples -------------------------------------------------------------
        std::vector<int> requested;
        const Tensor fake = sample_images(*G, g, samples, static_cast<uint32_t>(cli.integer("--seed")), requested);
        const eval::QualityReport gen = eval::quality_report(*classifier, fake, ref.test);
        const bool conditional = g.model == "conditional";  // then: how often is the class the one asked for?
        const eval::RequestedClassReport asked =
            conditional ? eval::requested_class_accuracy(*classifier, fake, requested) : eval::RequestedClassReport{};
        Tensor first64({std::min(64, samples), 1, 28, 28});
        std::copy(fake.data.begin(), fake.data.begin() + static_cast<std::ptrdiff_t>(first64.numel()), first64.data.begin());
        io::save_image_grid(run + "/evaluate_samples.png", first64, 8);

        const double ratio = gen.fid / std::max(floor.fid, 1e-12);
        if (!std::isfinite(gen.fid) || !std::isfinite(gen.mean_confidence) || !std::isfinite(ratio))
            throw std::runtime_error("the samples of " + run + "/" + weights + " give FID " + std::to_string(gen.fid) +
                                     ": the generator is broken (its output is not finite)");
        std::printf("classifier: %s, %.2f%% test accuracy, test-set confidence %.3f\n", classifier_path.c_str(),
                    100.0 * ref.test_accuracy, ref.test_confidence);
        std::printf("%-28s %10s %10s\n", "", "FID", "confidence");
        std::printf("%-28s %10.3f %10.3f   %s\n", "real (10000 train images)", floor.fid, floor.mean_confidence,
                    histogram_text(floor.class_fraction).c_str());
        char label[64];
        std::snprintf(label, sizeof label, "generated (%d samples)", samples);
        std::printf("%-28s %10.3f %10.3f   %s\n", label, gen.fid, gen.mean_confidence,
                    histogram_text(gen.class_fraction).c_str());
        std::printf("FID / floor = %.1f\n", ratio);
        if (conditional)
            std::printf("classified as the requested class: %.2f%%   per class: %s\n", 100.0 * asked.accuracy,
                        histogram_text(asked.per_class).c_str());

        Json out{{"run", run},
                                   {"model", g.model},
                                   {"dataset", g.dataset},
                                   {"epoch", run_integer(run_json, "epoch")},
                                   {"step", run_integer(run_json, "step")},
                                   {"train_seconds", config_number(run_json, "train_seconds", 0.0)},
                                   {"weights", weights},
                                   {"samples", samples},
                                   {"generated", report_json(gen)},
                                   {"fid_over_floor", ratio},
                                   {"floor", report_json(floor)},
                                   {"classifier", classifier_path},
                                   {"classifier_test_accuracy", ref.test_accuracy}};
        if (conditional) {
            out["requested_class_accuracy"] = asked.accuracy;
            out["requested_class_accuracy_per_class"] = asked.per_class;
        }
        const std::string out_path = cli.text("--out").empty() ? run + "/evaluate.json" : cli.text("--out");
        io::write_file_atomic(out_path, out.dump(2) + "\n");
        std::printf("-> %s, %s/evaluate_samples.png\n", out_path.c_str(), run.c_str());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "evaluate: error: %s\n", e.what());
        return 1;
    }
    return 0;
}
