// gan/training_run.hpp - what a training run leaves behind in runs/<name>/, and --resume.
//
// Read gan/train_step.hpp and io/ first. A TrainingRun owns the run folder:
//   samples/epoch_NNN.png   an 8x8 grid from a fixed latent batch, after every epoch
//   progress.gif            those grids as an animation;  losses.png: D and G loss curves
//   metrics.csv             step, epoch, d_loss, g_loss, D(x), D(G(z)), seconds (one row per step)
//   generator.safetensors, discriminator.safetensors   PyTorch state_dicts, loadable by load_state_dict
//   checkpoint.safetensors  G, D, both optimizers, the random generator: everything --resume needs
//   run.json                the configuration, epoch, step, seed
// Every file is written to a temporary name and renamed, so a run killed at any moment
// leaves the previous checkpoint whole. A NaN or infinite loss stops training with the step.
#pragma once

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "../io/gif.hpp"
#include "../io/image_grid.hpp"
#include "../io/json.hpp"
#include "../io/plot.hpp"
#include "../io/safetensors.hpp"
#include "ema.hpp"
#include "train_step.hpp"

namespace minigan::gan {

// The file name of the sample grid written after epoch `epoch` (counting from 1): epoch_007.png,
// epoch_100.png. The writer (end_epoch), the GIF and the examples' messages all take it from here.
inline std::string sample_file_name(int epoch) {
    char name[32];
    std::snprintf(name, sizeof name, "epoch_%03d.png", epoch);
    return name;
}

struct RunState {
    int epoch = 0;       // epochs completed
    long step = 0;       // training steps completed
    double seconds = 0;  // training time so far (excludes time spent writing files)
};

class TrainingRun {
public:
    TrainingRun(std::string dir, Json config) : dir_(std::move(dir)), config_(std::move(config)) {
        std::filesystem::create_directories(dir_ + "/samples");
    }
    const std::string& dir() const { return dir_; }
    // <dir>/samples/epoch_NNN.png, the grid of epoch `epoch` (counting from 1).
    std::string sample_path(int epoch) const { return dir_ + "/samples/" + sample_file_name(epoch); }
    RunState state;
    // Whatever else a run must resume exactly, kept inside the same checkpoint file (one atomic
    // write, so it always belongs to the same step as G, D and the optimizers): tensors with
    // their own name prefix (02_dcgan: "avg." + G's averaged weights) and text entries.
    // Set them before end_epoch(); resume() fills them from the checkpoint.
    StateDict extra;
    io::Metadata extra_meta;

    // Load checkpoint.safetensors into G, D and the optimizers, restore the random generator,
    // and cut metrics.csv back to the checkpoint's step (rows written after it are redone).
    // Returns false when the folder has no checkpoint (a fresh run).
    bool resume(nn::Module& G, nn::Module& D, optim::Optimizer& optG, optim::Optimizer& optD) {
        const std::string path = dir_ + "/checkpoint.safetensors";
        if (!std::filesystem::exists(path)) return false;
        io::Metadata meta;
        StateDict all = io::load_safetensors(path, &meta);
        try {
            G.load_state_dict(take_prefix(all, "G."));
            D.load_state_dict(take_prefix(all, "D."));
            optG.load_state_dict(take_prefix(all, "optG."));
            optD.load_state_dict(take_prefix(all, "optD."));
            state.epoch = std::stoi(meta.at("epoch"));
            state.step = std::stol(meta.at("step"));
            state.seconds = std::stod(meta.at("seconds"));
            std::istringstream(meta.at("rng")) >> global_rng().engine;
            extra.clear();
            for (const auto& entry : all)
                if (!is_core_entry(entry.first)) extra.push_back(entry);
            extra_meta = meta;
        } catch (const std::exception& e) {
            const std::string changed = changed_flags();
            throw std::runtime_error(path + ": cannot resume from this checkpoint: " + e.what() +
                                     (changed.empty() ? "\n(was it written with other flags, e.g. another --width?"
                                                      : "\n(the run was made with other flags: " + changed + ";") +
                                     " use those flags, or a new --out folder)");
        }
        truncate_metrics(state.step);
        resumed_ = true;
        return true;
    }

    // One row of metrics.csv per step. Throws (naming the step) if a loss is NaN or infinite.
    void log_step(const StepStats& s) {
        ++state.step;
        if (!std::isfinite(s.d_loss) || !std::isfinite(s.g_loss))
            throw std::runtime_error("step " + std::to_string(state.step) + " (epoch " + std::to_string(state.epoch + 1) +
                                     "): loss is not finite (d_loss " + std::to_string(s.d_loss) + ", g_loss " +
                                     std::to_string(s.g_loss) + "); training stopped. The last good checkpoint is in " +
                                     dir_ + " (try a lower learning rate)");
        if (!metrics_.is_open()) {
            // A resumed run appends to the rows kept by resume(); a new run starts the file afresh
            // (and forgets the sample grids of an older run that used the same folder).
            if (!resumed_) remove_old_samples();
            metrics_.open(metrics_path(), resumed_ ? std::ios::app : std::ios::trunc);
            if (!metrics_) throw std::runtime_error(metrics_path() + ": cannot open for writing");
            if (!resumed_) metrics_ << "step,epoch,d_loss,g_loss,d_real,d_fake,seconds\n";
        }
        char row[200];
        std::snprintf(row, sizeof row, "%ld,%d,%.6f,%.6f,%.6f,%.6f,%.3f\n", state.step, state.epoch + 1, s.d_loss,
                      s.g_loss, s.d_real, s.d_fake, state.seconds);
        metrics_ << row;
        metrics_.flush();
        d_losses_.push_back(s.d_loss);
        g_losses_.push_back(s.g_loss);
    }

    // End of an epoch: sample grid, GIF of all grids so far, loss plot, checkpoint, run.json.
    void end_epoch(nn::Module& G, nn::Module& D, optim::Optimizer& optG, optim::Optimizer& optD, const Tensor& samples) {
        ++state.epoch;
        io::save_image_grid(sample_path(state.epoch), samples, 8);
        write_gif();
        plot_losses();
        save_checkpoint(G, D, optG, optD);
    }

    void save_checkpoint(nn::Module& G, nn::Module& D, optim::Optimizer& optG, optim::Optimizer& optD) {
        StateDict all;
        append_prefixed(all, "G.", G.state_dict());
        append_prefixed(all, "D.", D.state_dict());
        append_prefixed(all, "optG.", optG.state_dict());
        append_prefixed(all, "optD.", optD.state_dict());
        std::ostringstream rng;
        rng << global_rng().engine;
        io::Metadata meta{{"epoch", std::to_string(state.epoch)}, {"step", std::to_string(state.step)},
                          {"seconds", std::to_string(state.seconds)}, {"rng", rng.str()}};
        for (const auto& entry : extra) {
            if (is_core_entry(entry.first))
                throw std::invalid_argument("TrainingRun::extra: '" + entry.first + "' clashes with G., D., optG., optD.");
            all.push_back(entry);
        }
        meta.insert(extra_meta.begin(), extra_meta.end());  // (keeps the four entries above)
        io::save_safetensors(dir_ + "/checkpoint.safetensors", all, meta);
        io::save_module(dir_ + "/generator.safetensors", G, {{"step", std::to_string(state.step)}});
        io::save_module(dir_ + "/discriminator.safetensors", D, {{"step", std::to_string(state.step)}});
        Json run{{"config", config_}, {"epoch", state.epoch}, {"step", state.step},
                 {"train_seconds", state.seconds}, {"checkpoint", "checkpoint.safetensors"},
                 {"generator", "generator.safetensors"}, {"discriminator", "discriminator.safetensors"}};
        io::write_file_atomic(dir_ + "/run.json", run.dump(2) + "\n");
    }

    void plot_losses() {
        std::vector<float> x(d_losses_.size());
        for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i + 1);
        io::PlotOptions opt;
        opt.title = "GAN losses";
        opt.x_label = "step";
        opt.y_label = "loss";
        opt.smooth = std::max<int>(1, static_cast<int>(x.size() / 100));
        io::plot_lines(dir_ + "/losses.png", {{"D loss", x, d_losses_, {200, 40, 40}}, {"G loss", x, g_losses_, {40, 80, 200}}}, opt);
    }

    // The entries of `all` whose names start with prefix, the prefix cut off (and the reverse).
    static StateDict take_prefix(const StateDict& all, const std::string& prefix) {
        StateDict out;
        for (const auto& [n, t] : all)
            if (n.rfind(prefix, 0) == 0) out.push_back({n.substr(prefix.size()), t});
        return out;
    }
    static void append_prefixed(StateDict& all, const std::string& prefix, const StateDict& part) {
        for (const auto& [n, t] : part) all.push_back({prefix + n, t});
    }

private:
    std::string metrics_path() const { return dir_ + "/metrics.csv"; }

    static bool is_core_entry(const std::string& name) {
        for (const char* prefix : {"G.", "D.", "optG.", "optD."})
            if (name.rfind(prefix, 0) == 0) return true;
        return false;
    }

    // Keep the header and the rows with step <= last_step; reload the loss history from them.
    void truncate_metrics(long last_step) {
        std::ifstream in(metrics_path());
        std::string line, kept;
        d_losses_.clear();
        g_losses_.clear();
        if (in && std::getline(in, line)) kept = line + "\n";
        while (std::getline(in, line)) {
            long step = 0;
            int epoch = 0;
            float d = 0, g = 0;
            if (std::sscanf(line.c_str(), "%ld,%d,%f,%f", &step, &epoch, &d, &g) != 4 || step > last_step) break;
            kept += line + "\n";
            d_losses_.push_back(d);
            g_losses_.push_back(g);
        }
        io::write_file_atomic(metrics_path(), kept);
    }

    void remove_old_samples() {
        for (const auto& entry : std::filesystem::directory_iterator(dir_ + "/samples"))
            if (entry.path().filename().string().rfind("epoch_", 0) == 0) std::filesystem::remove(entry.path());
    }

    // progress.gif: every samples/epoch_NNN.png so far (also those from before a --resume).
    void write_gif() {
        std::vector<io::Image> frames;
        for (int e = 1; e <= state.epoch; ++e)
            if (std::filesystem::exists(sample_path(e))) frames.push_back(io::read_png(sample_path(e)));
        if (!frames.empty()) io::write_gif(dir_ + "/progress.gif", frames, 50);
    }

    std::string dir_;
    Json config_;

    // The flags whose values differ from the ones in run.json, as "--width 0.5 (now 1)", or "":
    // a hint for a checkpoint that does not fit. Flags a resumed run may change are left out.
    std::string changed_flags() const {
        std::string changed;
        try {
            std::ifstream in(dir_ + "/run.json");
            const Json saved = Json::parse(in).at("config");
            for (const auto& [key, value] : saved.items()) {
                if (key == "epochs" || key == "resume" || key == "threads" || key == "digit") continue;
                if (!config_.contains(key) || config_.at(key) == value) continue;
                auto text = [](const Json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); };
                changed += (changed.empty() ? "" : ", ") + ("--" + key) + " " + text(value) + " (now " + text(config_.at(key)) + ")";
            }
        } catch (const std::exception&) {  // no run.json, or not ours: no hint
        }
        return changed;
    }
    std::ofstream metrics_;
    bool resumed_ = false;  // resume() found a checkpoint: keep what the folder holds
    std::vector<float> d_losses_, g_losses_;
};

// --ema (gan/ema.hpp): G's weight average travels in the checkpoint, under "avg." names, so a
// resumed run goes on averaging exactly where it stopped. Call store_average() before
// end_epoch(); restore_average() after a successful resume() (false: a checkpoint without
// an average, made with --ema 0; the average then starts again from G).
inline void store_average(TrainingRun& run, const WeightAverage& average) {
    run.extra.clear();
    TrainingRun::append_prefixed(run.extra, "avg.", average.state());
    run.extra_meta["avg.updates"] = std::to_string(average.updates());
}
inline bool restore_average(const TrainingRun& run, WeightAverage& average) {
    StateDict averaged = TrainingRun::take_prefix(run.extra, "avg.");
    if (averaged.empty() || !run.extra_meta.count("avg.updates")) return false;
    average.load(averaged, std::stol(run.extra_meta.at("avg.updates")));
    return true;
}

}  // namespace minigan::gan
