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

TEST_CASE("io::Cli's number parsing: the whole token, finite; intervals as in mathematics") {
    double x = 0;
    long long n = 0;
    CHECK(io::parse_number("2e-4", x));
    CHECK(x == doctest::Approx(2e-4));
    for (const char* bad : {"", "nan", "inf", "-inf", "1e400", "12abc", " 1", "0.5 ", "0,5"}) {
        CAPTURE(bad);
        CHECK_FALSE(io::parse_number(bad, x));
    }
    CHECK(io::parse_integer("-12", n));
    CHECK(n == -12);
    for (const char* bad : {"", "1.5", "1e3", "12abc", "99999999999999999999", " 3"}) {
        CAPTURE(bad);
        CHECK_FALSE(io::parse_integer(bad, n));
    }
    const io::Interval lr = io::Interval::parse("(0, 1]");
    CHECK_FALSE(lr.contains(0.0));
    CHECK(lr.contains(1e-9));
    CHECK(lr.contains(1.0));
    CHECK_FALSE(lr.contains(1.0 + 1e-9));
    const io::Interval beta = io::Interval::parse("[0, 1)");
    CHECK(beta.contains(0.0));
    CHECK_FALSE(beta.contains(1.0));
    CHECK(io::Interval::parse("[1, inf)").contains(1e300));
    CHECK_THROWS_AS(io::Interval::parse("0..1"), std::logic_error);
}

TEST_CASE("TrainingRun: a new run moves an older one aside; a NaN stop says whether a checkpoint exists") {
    TempDir tmp;
    manual_seed(1);
    nn::Linear G(2, 16), D(16, 1);
    optim::Adam optG(G.parameters()), optD(D.parameters());
    const std::string dir = tmp.path + "/run";
    gan::StepStats ok;
    ok.d_loss = 1.0f, ok.g_loss = 2.0f, ok.d_real = 0.5f, ok.d_fake = 0.5f;
    {
        gan::TrainingRun first(dir, Json{{"model", "test"}});
        first.log_step(ok);
        gan::StepStats bad = ok;
        bad.g_loss = NAN;
        std::string message;
        try {
            first.log_step(bad);
        } catch (const std::runtime_error& e) {
            message = e.what();
        }
        CHECK_MESSAGE(message.find("step 2") != std::string::npos, message);
        CHECK_MESSAGE(message.find("No checkpoint of this run was written yet") != std::string::npos, message);
        first.end_epoch(G, D, optG, optD, Tensor({4, 1, 4, 4}, 0.5f));
        try {
            first.log_step(bad);
        } catch (const std::runtime_error& e) {
            message = e.what();
        }
        CHECK_MESSAGE(message.find(dir + "/checkpoint.safetensors") != std::string::npos, message);
    }
    gan::TrainingRun second(dir, Json{{"model", "test"}});
    second.log_step(ok);  // a new run: the first one goes to run.old-1, whole
    CHECK(std::filesystem::exists(dir + ".old-1/checkpoint.safetensors"));
    CHECK(std::filesystem::exists(dir + ".old-1/samples/epoch_001.png"));
    CHECK_FALSE(std::filesystem::exists(dir + "/checkpoint.safetensors"));
    CHECK_FALSE(std::filesystem::exists(dir + "/samples/epoch_001.png"));
    std::ifstream rows(dir + "/metrics.csv");
    std::string header, row, none;
    std::getline(rows, header);
    std::getline(rows, row);
    CHECK(row.rfind("1,1,", 0) == 0);
    CHECK_FALSE(std::getline(rows, none));
}
