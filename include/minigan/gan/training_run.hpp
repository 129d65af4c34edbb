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
// A folder holds one run: a new run in a folder that holds an older one first moves the older
// one aside (<dir>.old-1, .old-2, ...), and --resume checks that what it reads back belongs
// together (the checkpoint's entries, their values, metrics.csv's rows) before it continues.
// A failed write (a full disk) stops the run with an error, never with a run that looks done.
#pragma once

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <random>
#include <fstream>
#include <sstream>
#include <string>

#include "../io/atomic_file.hpp"
#include "../io/cli.hpp"
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
        if (dir_.empty()) throw std::invalid_argument("TrainingRun: the run folder name is empty");
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
    // Training steps in one epoch, when the caller knows it (batches.batches_per_epoch()):
    // resume() then checks that the checkpoint's step fits its epoch.
    long steps_per_epoch = 0;

    // Load checkpoint.safetensors into G, D and the optimizers, restore the random generator,
    // and cut metrics.csv back to the checkpoint's step (rows written after it are redone).
    // Everything read back is checked first; a problem names the file, the entry and the value.
    // Returns false when the folder has no checkpoint (a fresh run).
    bool resume(nn::Module& G, nn::Module& D, optim::Optimizer& optG, optim::Optimizer& optD) {
        const std::string path = checkpoint_path();
        if (!std::filesystem::exists(path)) return false;
        io::Metadata meta;
        StateDict all = io::load_safetensors(path, &meta);
        io::require_finite(all, path);
        const RunState saved = read_state(meta, path);
        std::mt19937 engine = read_rng(meta, path);
        StateDict extras;
        for (const auto& entry : all)
            if (!is_core_entry(entry.first)) {
                if (entry.first.rfind("avg.", 0) != 0)
                    throw std::runtime_error(path + ": unexpected tensor '" + entry.first +
                                             "' (a checkpoint holds G., D., optG., optD. and avg. entries only)");
                extras.push_back(entry);
            }
        try {
            G.load_state_dict(take_prefix(all, "G."));
            D.load_state_dict(take_prefix(all, "D."));
            optG.load_state_dict(take_prefix(all, "optG."));
            optD.load_state_dict(take_prefix(all, "optD."));
        } catch (const std::exception& e) {
            const std::string changed = changed_flags();
            throw std::runtime_error(path + ": cannot resume from this checkpoint: " + e.what() +
                                     (changed.empty() ? "\n(it does not fit the model these flags build: was it written by another"
                                                        " program or another minigan, or with other flags?)"
                                                      : "\n(the run was made with other flags: " + changed + "; use those flags)"));
        }
        state = saved;
        global_rng().engine = engine;
        extra = extras;
        extra_meta = meta;
        truncate_metrics(state.step, state.epoch);
        resumed_ = true;
        return true;
    }

    // A new run: if the folder holds files of an earlier run, move that run aside to
    // <dir>.old-N first, so nothing of it is lost and nothing of it mixes into this one.
    // log_step() calls this before the first row of a run that did not resume.
    void start_fresh() {
        if (started_) return;
        started_ = true;
        if (resumed_ || !holds_a_run()) return;
        std::string aside;
        for (int n = 1; aside.empty() || std::filesystem::exists(aside); ++n) aside = dir_ + ".old-" + std::to_string(n);
        std::error_code error;
        std::filesystem::rename(dir_, aside, error);
        if (error)
            throw std::runtime_error("cannot move the earlier run in " + dir_ + " aside to " + aside + " (" + error.message() +
                                     "): continue it with --resume, or pick a new --out folder");
        std::filesystem::create_directories(dir_ + "/samples");
        std::printf("%s held an earlier run: moved it to %s (continue that one with --resume --out %s)\n", dir_.c_str(),
                    aside.c_str(), aside.c_str());
    }

    // One row of metrics.csv per step. Throws (naming the step) if a loss is NaN or infinite,
    // and (naming the file) if the row cannot be written.
    void log_step(const StepStats& s) {
        start_fresh();
        ++state.step;
        if (!std::isfinite(s.d_loss) || !std::isfinite(s.g_loss))
            throw std::runtime_error("step " + std::to_string(state.step) + " (epoch " + std::to_string(state.epoch + 1) +
                                     "): loss is not finite (d_loss " + std::to_string(s.d_loss) + ", g_loss " +
                                     std::to_string(s.g_loss) + "); training stopped. " + last_checkpoint_hint());
        if (!metrics_.is_open()) {
            // A resumed run appends to the rows kept by resume(); a new run starts the file afresh.
            metrics_.open(metrics_path(), resumed_ ? std::ios::app : std::ios::trunc);
            if (!metrics_) throw io::file_error(metrics_path(), "open", errno ? errno : EIO);
            if (!resumed_) metrics_ << "step,epoch,d_loss,g_loss,d_real,d_fake,seconds\n";
        }
        char row[200];
        std::snprintf(row, sizeof row, "%ld,%d,%.6f,%.6f,%.6f,%.6f,%.3f\n", state.step, state.epoch + 1, s.d_loss,
                      s.g_loss, s.d_real, s.d_fake, state.seconds);
        errno = 0;
        metrics_ << row;
        metrics_.flush();
        if (!metrics_)  // a full disk: stop now, while every row so far is in the file
            throw io::file_error(metrics_path(), "write the row of step " + std::to_string(state.step), errno ? errno : EIO);
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
    std::string checkpoint_path() const { return dir_ + "/checkpoint.safetensors"; }

    // Any file a run writes: then the folder belongs to a run already.
    bool holds_a_run() const {
        for (const char* name : {"checkpoint.safetensors", "metrics.csv", "run.json", "generator.safetensors", "progress.gif"})
            if (std::filesystem::exists(dir_ + "/" + name)) return true;
        for (const auto& entry : std::filesystem::directory_iterator(dir_ + "/samples"))
            if (entry.path().filename().string().rfind("epoch_", 0) == 0) return true;
        return false;
    }

    // What a NaN stop tells the user about where to go on from.
    std::string last_checkpoint_hint() const {
        if (!std::filesystem::exists(checkpoint_path()))
            return "No checkpoint of this run was written yet (one is written after each epoch): start again with a lower --lr";
        return "The last good checkpoint is " + checkpoint_path() + ": continue with --resume and a lower --lr";
    }

    // The metadata of a checkpoint, read strictly: "step=-5", "epoch=1.5" or "seconds=nan" are errors.
    static long meta_integer(const io::Metadata& meta, const std::string& key, const std::string& path, long low) {
        auto it = meta.find(key);
        if (it == meta.end()) throw std::runtime_error(path + ": metadata entry '" + key + "' is missing");
        long long v = 0;
        if (!io::parse_integer(it->second, v) || v < low || v > (1LL << 40))
            throw std::runtime_error(path + ": metadata '" + key + "' is '" + it->second + "', expected an integer >= " +
                                     std::to_string(low));
        return static_cast<long>(v);
    }
    RunState read_state(const io::Metadata& meta, const std::string& path) const {
        RunState r;
        r.epoch = static_cast<int>(meta_integer(meta, "epoch", path, 0));
        r.step = meta_integer(meta, "step", path, 0);
        auto it = meta.find("seconds");
        if (it == meta.end() || !io::parse_number(it->second, r.seconds) || r.seconds < 0)
            throw std::runtime_error(path + ": metadata 'seconds' is '" + (it == meta.end() ? "" : it->second) +
                                     "', expected a finite number >= 0");
        if (r.epoch > r.step)
            throw std::runtime_error(path + ": metadata says epoch " + std::to_string(r.epoch) + " at step " +
                                     std::to_string(r.step) + ", but every epoch takes at least one step");
        // A checkpoint is written after an epoch, a full one or one cut short (02_dcgan --minutes):
        // after epoch e, the step lies in ((e - 1) * steps_per_epoch, e * steps_per_epoch].
        if (steps_per_epoch > 0 && (r.step > r.epoch * steps_per_epoch || (r.epoch > 0 && r.step <= (r.epoch - 1) * steps_per_epoch)))
            throw std::runtime_error(path + ": metadata says step " + std::to_string(r.step) + " after epoch " +
                                     std::to_string(r.epoch) + ", but an epoch here has " + std::to_string(steps_per_epoch) +
                                     " steps (another --batch or --limit than the run was made with?)");
        return r;
    }
    static std::mt19937 read_rng(const io::Metadata& meta, const std::string& path) {
        auto it = meta.find("rng");
        if (it == meta.end()) throw std::runtime_error(path + ": metadata entry 'rng' is missing");
        std::istringstream in(it->second);
        std::mt19937 engine;
        in >> engine;
        std::string rest;
        if (in.fail() || (in >> rest, !rest.empty()))
            throw std::runtime_error(path + ": metadata 'rng' is not the state of a std::mt19937 (624 + 1 numbers)");
        return engine;
    }

    static bool is_core_entry(const std::string& name) {
        for (const char* prefix : {"G.", "D.", "optG.", "optD."})
            if (name.rfind(prefix, 0) == 0) return true;
        return false;
    }

    // Keep the header and the rows with step <= last_step; reload the loss history from them.
    // The rows must fit the checkpoint: steps 1, 2, ..., last_step, the last of them in the
    // checkpoint's epoch, and any later row (written after it, then cut) in a later epoch.
    void truncate_metrics(long last_step, int last_epoch) {
        std::ifstream in(metrics_path());
        if (!in) throw std::runtime_error(metrics_path() + ": missing, but " + checkpoint_path() + " is at step " +
                                          std::to_string(last_step) + ": the folder does not hold a whole run");
        std::string line, kept;
        d_losses_.clear();
        g_losses_.clear();
        if (std::getline(in, line)) kept = line + "\n";
        long expected = 1;
        while (std::getline(in, line)) {
            long step = 0;
            int epoch = 0;
            float d = 0, g = 0;
            if (std::sscanf(line.c_str(), "%ld,%d,%f,%f", &step, &epoch, &d, &g) != 4) break;
            if (step > last_step) {
                if (epoch <= last_epoch)
                    throw std::runtime_error(metrics_path() + ": row '" + line + "' comes after " + checkpoint_path() +
                                             " (step " + std::to_string(last_step) + ", epoch " + std::to_string(last_epoch) +
                                             ") but belongs to its epoch: the two are not of the same run");
                break;
            }
            if (step == last_step && epoch != last_epoch)
                throw std::runtime_error(metrics_path() + ": row '" + line + "' is in epoch " + std::to_string(epoch) + ", but " +
                                         checkpoint_path() + " says step " + std::to_string(last_step) + " ended epoch " +
                                         std::to_string(last_epoch) + ": the two are not of the same run");
            if (step != expected)
                throw std::runtime_error(metrics_path() + ": row '" + line + "' should be step " + std::to_string(expected) +
                                         ": these rows do not belong to the run of " + checkpoint_path());
            ++expected;
            kept += line + "\n";
            d_losses_.push_back(d);
            g_losses_.push_back(g);
        }
        if (expected != last_step + 1)
            throw std::runtime_error(metrics_path() + ": holds rows up to step " + std::to_string(expected - 1) + ", but " +
                                     checkpoint_path() + " is at step " + std::to_string(last_step) +
                                     ": these rows do not belong to that run");
        io::write_file_atomic(metrics_path(), kept);
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
    bool started_ = false;  // start_fresh() has run
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
    long long updates = 0;
    if (!io::parse_integer(run.extra_meta.at("avg.updates"), updates) || updates < 0)
        throw std::runtime_error(run.dir() + "/checkpoint.safetensors: metadata 'avg.updates' is '" +
                                 run.extra_meta.at("avg.updates") + "', expected an integer >= 0");
    average.load(averaged, static_cast<long>(updates));
    return true;
}

}  // namespace minigan::gan
