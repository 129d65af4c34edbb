// anomaly_score_ideas.cpp - which anomaly score works? Every idea of docs/anomaly-detection.md,
// measured on the G, D and E of one finished 03_anogan run.
//
//   ./anomaly_score_ideas --run runs/anogan_mnist_8 --dataset mnist --normal-class 8
//
// Loads <run>/gan/generator.safetensors, discriminator.safetensors and <run>/encoder.safetensors
// (trained by examples/03_anogan.cpp with the same --width and --latent), encodes the test set
// once and prints one JSON line: the test-set AUROC of each way of building the score from the
// same pass of E, G and D. Scores standardized "on normal images" use the normal training images.
#include <cstdio>
#include <nlohmann/json.hpp>

#include <minigan/data/dataset.hpp>
#include <minigan/gan/anogan.hpp>
#include <minigan/gan/code_score.hpp>
#include <minigan/gan/metrics.hpp>
#include <minigan/io/cli.hpp>
#include <minigan/io/safetensors.hpp>
#include <minigan/minigan.hpp>

using namespace minigan;

// Everything one pass tells about each image: the pieces the ideas are built from.
struct Pieces {
    std::vector<float> pixel_mse, pixel_l1, blurred_mse, relative, feature6, feature3, logit, code_norm;
    gan::EncodedQueries encoded;
};

static Pieces pieces_of(nn::Module& G, nn::Sequential& D, nn::Module& E, const Tensor& images) {
    Pieces p;
    p.encoded = gan::encode_queries(G, D, E, 6, images, 1.0f);
    gan::Frozen frozen({&G, &D, &E});
    NoGrad no_grad;
    const int n = images.shape[0], H = images.shape[2], W = images.shape[3], pixels = H * W;
    for (int first = 0; first < n; first += 100) {
        const int count = std::min(100, n - first);
        Tensor x({count, 1, H, W}), g({count, 1, H, W});
        std::copy_n(images.data.begin() + static_cast<std::ptrdiff_t>(first) * pixels, count * pixels, x.data.begin());
        std::copy_n(p.encoded.generated.data.begin() + static_cast<std::ptrdiff_t>(first) * pixels, count * pixels,
                    g.data.begin());
        const Tensor f6x = D.forward_until(Var(x), 6).value(), f6g = D.forward_until(Var(g), 6).value();
        const Tensor f3x = D.forward_until(Var(x), 3).value(), f3g = D.forward_until(Var(g), 3).value();
        const Tensor logits = D(Var(x)).value();
        const size_t n6 = f6x.numel() / count, n3 = f3x.numel() / count;
        for (int q = 0; q < count; ++q) {
            const float* xq = x.ptr() + q * pixels;
            const float* gq = g.ptr() + q * pixels;
            double mse = 0, l1 = 0, blurred = 0, f6 = 0, f3 = 0, norm = 0;
            for (int i = 0; i < pixels; ++i) mse += (xq[i] - gq[i]) * (xq[i] - gq[i]), l1 += std::fabs(xq[i] - gq[i]);
            for (int r = 0; r < H; ++r)  // the residual averaged over 3x3 neighbourhoods: forgives a 1-pixel shift
                for (int c = 0; c < W; ++c) {
                    double sum = 0;
                    int k = 0;
                    for (int dr = -1; dr <= 1; ++dr)
                        for (int dc = -1; dc <= 1; ++dc)
                            if (r + dr >= 0 && r + dr < H && c + dc >= 0 && c + dc < W)
                                sum += xq[(r + dr) * W + c + dc] - gq[(r + dr) * W + c + dc], ++k;
                    blurred += (sum / k) * (sum / k);
                }
            for (size_t i = 0; i < n6; ++i) f6 += std::pow(f6x[q * n6 + i] - f6g[q * n6 + i], 2);
            for (size_t i = 0; i < n3; ++i) f3 += std::pow(f3x[q * n3 + i] - f3g[q * n3 + i], 2);
            const int K = p.encoded.codes.shape[1];
            for (int k = 0; k < K; ++k) norm += std::pow(p.encoded.codes[static_cast<size_t>(first + q) * K + k], 2);
            p.pixel_mse.push_back(static_cast<float>(mse / pixels));
            p.pixel_l1.push_back(static_cast<float>(l1));
            p.blurred_mse.push_back(static_cast<float>(blurred / pixels));
            p.feature6.push_back(static_cast<float>(f6 / n6));
            p.feature3.push_back(static_cast<float>(f3 / n3));
            p.logit.push_back(-logits[q]);  // a low logit = "looks fake" = anomalous?
            p.code_norm.push_back(static_cast<float>(norm));
        }
    }
    p.relative = p.encoded.relative;
    return p;
}

// a + b with each standardized on normal training values.
static std::vector<float> standardized_sum(const std::vector<std::pair<const std::vector<float>*, const std::vector<float>*>>& parts) {
    std::vector<float> out(parts[0].second->size(), 0.0f);
    for (const auto& [normal, test] : parts) {
        const gan::Standardizer s = gan::Standardizer::fit(*normal);
        for (size_t i = 0; i < out.size(); ++i) out[i] += s((*test)[i]);
    }
    return out;
}

int main(int argc, char** argv) {
    io::Cli cli("anomaly_score_ideas", "AUROC of each way to build an anomaly score, on one 03_anogan run.");
    cli.option("--run", "", "a finished 03_anogan --out folder");
    cli.option("--dataset", "mnist", "its data set");
    cli.choices("--dataset", {"mnist", "fashion"});
    cli.option("--normal-class", 0, "its normal class");
    cli.option("--width", 0.25, "its --width");
    cli.option("--latent", 100, "its --latent");
    cli.option("--data", "data", "folder holding mnist/ and fashion-mnist/");
    cli.option("--threads", 0, "threads (0 = all cores)");
    cli.finish(argc, argv);
    if (cli.text("--run").empty()) cli.fail("--run is required");
    if (cli.integer("--threads") > 0) set_num_threads(cli.integer("--threads"));
    const std::string run = cli.text("--run");
    const int c = cli.integer("--normal-class");
    try {
        const float width = static_cast<float>(cli.number("--width"));
        auto G = gan::dcgan_generator(cli.integer("--latent"), width);
        auto D = gan::dcgan_discriminator(width);
        auto E = gan::dcgan_encoder(cli.integer("--latent"), width);
        io::load_module(run + "/gan/generator.safetensors", *G);
        io::load_module(run + "/gan/discriminator.safetensors", *D);
        io::load_module(run + "/encoder.safetensors", *E);
        const data::Dataset test = data::load_dataset(cli.text("--dataset"), "test", cli.text("--data"));
        const data::Dataset train = data::only_classes(data::load_dataset(cli.text("--dataset"), "train", cli.text("--data")), {c});
        std::vector<int> is_anomaly(test.size());
        for (size_t i = 0; i < test.size(); ++i) is_anomaly[i] = test.labels[i] != c;

        const Pieces tr = pieces_of(*G, *D, *E, train.images), te = pieces_of(*G, *D, *E, test.images);
        const gan::LatentGaussian gauss = gan::LatentGaussian::fit(tr.encoded.codes);
        const std::vector<float> code_tr = gauss.mahalanobis(tr.encoded.codes), code_te = gauss.mahalanobis(te.encoded.codes);
        std::vector<float> izif_layer3(te.pixel_mse.size());
        for (size_t i = 0; i < izif_layer3.size(); ++i) izif_layer3[i] = te.pixel_mse[i] + te.feature3[i];

        nlohmann::ordered_json out{{"run", run}, {"dataset", cli.text("--dataset")}, {"normal_class", c}};
        auto put = [&](const char* name, const std::vector<float>& scores) { out[name] = gan::auroc(scores, is_anomaly); };
        put("izif (kappa 1, layer 6): the paper", te.encoded.izif);
        put("pixels only (kappa 0)", te.pixel_mse);
        put("features only, layer 6", te.feature6);
        put("izif with layer 3 features", izif_layer3);
        put("pixels, L1", te.pixel_l1);
        put("pixels, 3x3-blurred residual", te.blurred_mse);
        put("relative residual", te.relative);
        put("D's logit (negated)", te.logit);
        put("||E(x)||^2", te.code_norm);
        put("pixels + features, standardized", standardized_sum({{&tr.pixel_mse, &te.pixel_mse}, {&tr.feature6, &te.feature6}}));
        put("code: Mahalanobis of E(x)", code_te);
        put("code + pixels", standardized_sum({{&code_tr, &code_te}, {&tr.pixel_mse, &te.pixel_mse}}));
        put("code + izif", standardized_sum({{&code_tr, &code_te}, {&tr.encoded.izif, &te.encoded.izif}}));
        put("code + blurred residual", standardized_sum({{&code_tr, &code_te}, {&tr.blurred_mse, &te.blurred_mse}}));
        put("code + relative residual: minigan's score", standardized_sum({{&code_tr, &code_te}, {&tr.relative, &te.relative}}));
        put("code + relative + blurred residual", standardized_sum({{&code_tr, &code_te}, {&tr.relative, &te.relative},
                                                                     {&tr.blurred_mse, &te.blurred_mse}}));
        put("code + relative + features", standardized_sum({{&code_tr, &code_te}, {&tr.relative, &te.relative},
                                                            {&tr.feature6, &te.feature6}}));
        std::printf("%s\n", out.dump().c_str());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "anomaly_score_ideas: error: %s\n", e.what());
        return 1;
    }
    return 0;
}
