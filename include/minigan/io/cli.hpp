// io/cli.hpp - a tiny command-line flag parser for the examples: --name value, --flag, --help.
//
// Nothing to read first. Each example declares its flags with a default and a one-line help;
// a bad flag or value prints a clear message and the usage, and exits with status 2.
//   Cli cli("02_dcgan", "Train a DCGAN on MNIST");
//   cli.option("--epochs", 5, "passes over the training set");
//   cli.finish(argc, argv);            // parses; --help prints the usage and exits
//   int epochs = cli.integer("--epochs");
#pragma once

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace minigan::io {

class Cli {
public:
    Cli(std::string program, std::string description) : program_(std::move(program)), description_(std::move(description)) {}

    // Declare an option with its default (the type of the default is the type of the option).
    void option(const std::string& name, const std::string& def, const std::string& help) { add(name, def, help, "TEXT"); }
    void option(const std::string& name, const char* def, const std::string& help) { add(name, def, help, "TEXT"); }
    void option(const std::string& name, int def, const std::string& help) { add(name, std::to_string(def), help, "INT"); }
    void option(const std::string& name, double def, const std::string& help) { add(name, trim(std::to_string(def)), help, "NUM"); }
    void flag(const std::string& name, const std::string& help) { add(name, "0", help, "FLAG"); }
    // Restrict a TEXT option to a set of values.
    void choices(const std::string& name, std::vector<std::string> allowed) { find(name).choices = std::move(allowed); }

    void finish(int argc, char** argv) {
        for (int i = 1; i < argc; ++i) {
            std::string a = argv[i];
            if (a == "--help" || a == "-h") { std::printf("%s", usage().c_str()); std::exit(0); }
            auto eq = a.find('=');
            std::string name = a.substr(0, eq);
            auto it = options_.find(name);
            if (it == options_.end()) fail("unknown option '" + a + "'");
            Opt& o = it->second;
            if (o.kind == "FLAG") { o.value = "1"; continue; }
            if (eq != std::string::npos) o.value = a.substr(eq + 1);
            else if (i + 1 < argc) o.value = argv[++i];
            else fail(name + " needs a value (" + o.kind + ")");
            validate(name, o);
        }
    }

    const std::string& program() const { return program_; }
    std::string text(const std::string& name) { return find(name).value; }
    int integer(const std::string& name) { return std::stoi(find(name).value); }
    double number(const std::string& name) { return std::stod(find(name).value); }
    bool is_set(const std::string& name) { return find(name).value == "1"; }

    // Every option and its value, for run.json (a run records exactly how it was made).
    std::map<std::string, std::string> values() const {
        std::map<std::string, std::string> out;
        for (const auto& [n, o] : options_) out[n.substr(2)] = o.value;
        return out;
    }

    std::string usage() const {
        std::string s = "usage: " + program_ + " [options]\n" + description_ + "\n\noptions:\n";
        for (const std::string& n : order_) {
            const Opt& o = options_.at(n);
            std::string left = "  " + n + (o.kind == "FLAG" ? "" : " " + o.kind);
            left.resize(std::max<size_t>(left.size() + 1, 26), ' ');
            s += left + o.help;
            if (!o.choices.empty()) {
                s += " (";
                for (size_t i = 0; i < o.choices.size(); ++i) s += (i ? "|" : "") + o.choices[i];
                s += ")";
            }
            if (o.kind != "FLAG") s += " [default: " + o.def + "]";
            s += "\n";
        }
        return s + "  --help                  show this message\n";
    }

    [[noreturn]] void fail(const std::string& msg) const {
        std::fprintf(stderr, "%s: %s\n\n%s", program_.c_str(), msg.c_str(), usage().c_str());
        std::exit(2);
    }

private:
    struct Opt {
        std::string value, def, help, kind;
        std::vector<std::string> choices;
    };
    static std::string trim(std::string s) {  // "0.000200" -> "0.0002"
        if (s.find('.') == std::string::npos) return s;
        while (s.back() == '0') s.pop_back();
        if (s.back() == '.') s.pop_back();
        return s;
    }
    void add(const std::string& name, const std::string& def, const std::string& help, const std::string& kind) {
        options_[name] = {def, def, help, kind, {}};
        order_.push_back(name);
    }
    Opt& find(const std::string& name) {
        auto it = options_.find(name);
        if (it == options_.end()) throw std::logic_error("Cli: option " + name + " was never declared");
        return it->second;
    }
    void validate(const std::string& name, const Opt& o) const {
        try {
            size_t used = 0;
            if (o.kind == "INT") (void)std::stoi(o.value, &used);
            if (o.kind == "NUM") (void)std::stod(o.value, &used);
            if (o.kind != "TEXT" && used != o.value.size()) throw std::invalid_argument("trailing text");
        } catch (const std::exception&) {
            fail("'" + o.value + "' is not a valid " + (o.kind == "INT" ? "integer" : "number") + " for " + name);
        }
        if (!o.choices.empty() && std::find(o.choices.begin(), o.choices.end(), o.value) == o.choices.end())
            fail("'" + o.value + "' is not a valid value for " + name);
    }
    std::string program_, description_;
    std::map<std::string, Opt> options_;
    std::vector<std::string> order_;
};

}  // namespace minigan::io
