// mnist_classifier.cpp - train the CNN that measures GAN quality, on MNIST or Fashion-MNIST.
//
//   g++ -O2 -std=c++17 -fopenmp -Iinclude examples/mnist_classifier.cpp -lopenblas -lz -o classifier && ./classifier
//
// An ordinary supervised network, built with the same layers as the GANs: two stride-2
// convolutions with BatchNorm, a 128-feature layer, 10 class scores, cross-entropy, Adam.
// It reaches ~99% test accuracy on MNIST (~91% on Fashion-MNIST) in a few epochs and saves
// itself to runs/classifier-<dataset>/classifier.safetensors; examples/evaluate.cpp then uses it
// to score a generator (classifier FID, class histogram, confidence: see eval/quality.hpp).
#include <cstdio>
#include <filesystem>
#include <minigan/io/json.hpp>

#include <minigan/data/dataset.hpp>
#include <minigan/eval/classifier.hpp>
#include <minigan/gan/example_run.hpp>
#include <minigan/io/progress.hpp>
#include <minigan/io/safetensors.hpp>
#include <minigan/minigan.hpp>

using namespace minigan;

int main(int argc, char** argv) {
    io::Cli cli("mnist_classifier", "Train the CNN classifier that examples/evaluate uses to measure generated images.");
    cli.option("--dataset", "mnist", "training images");
    cli.choices("--dataset", {"mnist", "fashion"});
    cli.option("--epochs", 4, "passes over the training set");
    cli.option("--batch", 128, "images per step");
    cli.option("--lr", 2e-3, "Adam learning rate of the first epoch; it halves every epoch after");
    // --seed --threads --out --data --limit
    gan::add_run_flags(cli, "", "output folder (default: runs/classifier-<dataset>)");
    cli.range("--epochs", "[1, 100000]");
    cli.range("--batch", "[2, 4096]");  // BatchNorm needs two images to take a variance
    cli.range("--lr", "(0, 1]");
    cli.finish(argc, argv);

    const int epochs = cli.integer("--epochs"), batch = cli.integer("--batch");
    const std::string dataset = cli.text("--dataset");
    const std::string out = cli.text("--out").empty() ? "runs/classifier-" + dataset : cli.text("--out");
    gan::start_program(cli);  // --threads, --seed, and the first line

    try {
        // ---- data: the same [-1, 1] scaling as the GANs' images, so generated samples fit ------
        data::Dataset train = gan::load_training_set(cli);
        const data::Dataset test = data::load_dataset(dataset, "test", cli.text("--data"));
        data::Batcher batches(train, batch, static_cast<uint32_t>(cli.integer("--seed")));
        std::printf("data: %zu %s training images (%d batches of %d), %zu test images\n", train.size(),
                    dataset.c_str(), batches.batches_per_epoch(), batch, test.size());

        auto net = eval::classifier_cnn();
        std::printf("classifier: %zu parameters\n%s", net->parameter_count(), net->summary().c_str());
        optim::Adam opt(net->parameters(), static_cast<float>(cli.number("--lr")));
        std::filesystem::create_directories(out);

        Json history = Json::array();
        double seconds = 0.0, test_accuracy = 0.0;
        for (int epoch = 0; epoch < epochs; ++epoch) {
            batches.start_epoch(epoch);
            io::ProgressBar bar(gan::epoch_label(epoch, epochs), batches.batches_per_epoch(), batch);
            net->train();
            Tensor images;
            std::vector<int> labels;
            double loss_sum = 0.0;
            size_t right = 0, seen = 0;
            for (int b = 0; b < batches.batches_per_epoch(); ++b) {
                batches.next(images, labels);
                Var logits = (*net)(Var(images));          // (B, 10)
                Var loss = cross_entropy(logits, labels);
                opt.zero_grad();
                loss.backward();
                opt.step();
                if (!std::isfinite(loss.item()))
                    throw std::runtime_error("epoch " + std::to_string(epoch + 1) + ", step " + std::to_string(b + 1) +
                                             ": the loss is not finite; training stopped, nothing saved (try a lower --lr)");
                loss_sum += loss.item();
                right += static_cast<size_t>(eval::accuracy(eval::predicted_classes(logits.value()), labels) * labels.size() + 0.5);
                seen += labels.size();
                char line[96];
                std::snprintf(line, sizeof line, "loss %.4f train acc %.2f%%", loss_sum / (b + 1), 100.0 * right / seen);
                bar.update(b + 1, line);
            }
            seconds += bar.seconds();
            // Test accuracy in eval mode: no dropout, BatchNorm's running statistics.
            const eval::ClassifierOutput result = eval::classify(*net, test.images);
            test_accuracy = eval::accuracy(eval::predicted_classes(result.logits), test.labels);
            char line[96];
            std::snprintf(line, sizeof line, "test accuracy %.2f%% (lr %.2g)", 100.0 * test_accuracy, opt.lr);
            bar.finish(line);
            history.push_back({{"epoch", epoch + 1}, {"train_loss", loss_sum / batches.batches_per_epoch()},
                               {"test_accuracy", test_accuracy}, {"seconds", seconds}});
            opt.lr *= 0.5f;  // a step decay: big steps first, then settle into a minimum
        }

        // ---- save: the weights (PyTorch state_dict names) and what they achieved ---------------
        const std::string weights = out + "/classifier.safetensors";
        io::save_module(weights, *net, {{"dataset", dataset}, {"test_accuracy", std::to_string(test_accuracy)}});
        Json report{{"dataset", dataset},         {"test_accuracy", test_accuracy},
                                      {"epochs", epochs},           {"train_images", train.size()},
                                      {"train_seconds", seconds},   {"config", cli.values()},
                                      {"history", history},         {"weights", "classifier.safetensors"}};
        io::write_file_atomic(out + "/classifier.json", report.dump(2) + "\n");
        std::printf("done: test accuracy %.2f%% after %d epochs, %.0f s of training -> %s\n", 100.0 * test_accuracy,
                    epochs, seconds, weights.c_str());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "mnist_classifier: error: %s\n", e.what());
        return 1;
    }
    return 0;
}
