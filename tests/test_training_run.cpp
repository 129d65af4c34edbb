// test_training_run.cpp - the run folder's file names and the plumbing the examples share
// (gan/training_run.hpp, gan/example_run.hpp), on tiny modules in a fresh temporary folder.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>

#include <minigan/gan/example_run.hpp>
#include <minigan/gan/training_run.hpp>
#include <minigan/minigan.hpp>

using namespace minigan;

// A fresh folder under the system's temporary directory, removed at the end of the test.
struct TempDir {
    std::string path;
    TempDir() {
        path = (std::filesystem::temp_directory_path() / ("minigan-run-" + std::to_string(getpid()))).string();
        std::filesystem::remove_all(path);
        std::filesystem::create_directories(path);
    }
    ~TempDir() { std::filesystem::remove_all(path); }
};

TEST_CASE("sample_file_name: three digits at least, as many as the epoch needs") {
    CHECK(gan::sample_file_name(1) == "epoch_001.png");
    CHECK(gan::sample_file_name(99) == "epoch_099.png");
    CHECK(gan::sample_file_name(100) == "epoch_100.png");  // not epoch_0100.png
    CHECK(gan::sample_file_name(1234) == "epoch_1234.png");
}

TEST_CASE("end_epoch writes the grid under the name sample_path gives, past epoch 99 too") {
    TempDir tmp;
    manual_seed(1);
    nn::Linear G(2, 16), D(16, 1);
    optim::Adam optG(G.parameters()), optD(D.parameters());
    gan::TrainingRun run(tmp.path + "/run", Json{{"model", "test"}});
    CHECK(run.sample_path(7) == tmp.path + "/run/samples/epoch_007.png");
    run.state.epoch = 99;  // as if resumed after epoch 99
    const Tensor samples({4, 1, 4, 4}, 0.5f);
    run.end_epoch(G, D, optG, optD, samples);
    CHECK(run.state.epoch == 100);
    CHECK(run.sample_path(run.state.epoch) == tmp.path + "/run/samples/epoch_100.png");
    CHECK(std::filesystem::exists(tmp.path + "/run/samples/epoch_100.png"));
    CHECK_FALSE(std::filesystem::exists(tmp.path + "/run/samples/epoch_0100.png"));
    CHECK(std::filesystem::exists(tmp.path + "/run/progress.gif"));  // the GIF found the grid by the same name
}

TEST_CASE("step_line: both losses with 3 decimals, D(x) and D(G(z)) with 2") {
    gan::StepStats s{};
    s.d_loss = 0.5f, s.g_loss = 1.25f, s.d_real = 0.75f, s.d_fake = 0.25f;
    CHECK(gan::step_line(s) == "d_loss 0.500 g_loss 1.250 D(x) 0.75 D(G(z)) 0.25");
}

TEST_CASE("AveragedGenerator: off samples from G; on, from G_avg holding the average") {
    manual_seed(2);
    auto make = [] { return std::make_shared<nn::Sequential>(nn::make<nn::Linear>(3, 2)); };
    auto G = make();
    gan::AveragedGenerator off(*G, 0.0, nullptr);
    CHECK_FALSE(off.on());
    CHECK(&off.sampler(*G) == G.get());
    CHECK_THROWS_AS(gan::AveragedGenerator(*G, 0.9, nullptr), std::invalid_argument);

    gan::AveragedGenerator on(*G, 0.9, make());
    gan::WeightAverage reference(*G, 0.9f);
    for (auto& [name, p] : G->named_parameters()) p.value()[0] += 1.0f;  // G moves; the averages follow it
    on.update(*G);
    reference.update(*G);
    nn::Sequential& sampler = on.sampler(*G);
    CHECK(&sampler != G.get());
    const StateDict averaged = sampler.state_dict();
    REQUIRE(averaged.size() == reference.state().size());
    for (size_t i = 0; i < averaged.size(); ++i) CHECK(averaged[i].second.data == reference.state()[i].second.data);
}
