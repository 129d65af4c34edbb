// io/cli.hpp - a tiny, strict command-line flag parser for the examples: --name value, --flag, --help.
//
// Nothing to read first. Each example declares its flags with a default, a one-line help and,
// for numbers, the interval they must lie in; a bad flag or value prints a clear message and the
// usage, and exits with status 2. Nothing is accepted in silence:
//   - a number is the whole token ("12abc" is refused), finite (no nan, no inf), inside its range;
//   - an integer fits an int; a text value given on the command line is not empty;
//   - a flag is on when named (--resume); --resume=1 / --resume=0 are explicit, other values fail.
//
//   Cli cli("02_dcgan", "Train a DCGAN on MNIST");
//   cli.option("--epochs", 5, "passes over the training set");
//   cli.range("--epochs", "[1, 100000]");   // interval notation: [ ] closed, ( ) open
//   cli.finish(argc, argv);                 // parses; --help prints the usage and exits
//   int epochs = cli.integer("--epochs");
#pragma once

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace minigan::io {

// The number a whole token spells, or false: "12abc", "", " 1", "nan" and "inf" are not numbers.
inline bool parse_number(const std::string& token, double& out) {
    if (token.empty() || std::isspace(static_cast<unsigned char>(token[0]))) return false;
    char* end = nullptr;
    errno = 0;
    out = std::strtod(token.c_str(), &end);
    return end == token.c_str() + token.size() && errno != ERANGE && std::isfinite(out);
}
inline bool parse_integer(const std::string& token, long long& out) {
    if (token.empty() || std::isspace(static_cast<unsigned char>(token[0]))) return false;
    char* end = nullptr;
    errno = 0;
    out = std::strtoll(token.c_str(), &end, 10);
    return end == token.c_str() + token.size() && errno != ERANGE;
}

// An interval written as in mathematics: "[0, 1)" means 0 <= x < 1; "inf" is allowed as a bound.
struct Interval {
    double low = -INFINITY, high = INFINITY;
    bool low_open = false, high_open = false;
    std::string text;  // as written, for messages and --help

    static Interval parse(const std::string& s) {
        Interval r;
        r.text = s;
        const auto comma = s.find(',');
        if (s.size() < 5 || (s.front() != '[' && s.front() != '(') || (s.back() != ']' && s.back() != ')') ||
            comma == std::string::npos)
            throw std::logic_error("Cli: interval '" + s + "' is not like \"[0, 1)\"");
        r.low_open = s.front() == '(';
        r.high_open = s.back() == ')';
        auto bound = [&](std::string b) -> double {
            b.erase(0, b.find_first_not_of(' '));
            b.erase(b.find_last_not_of(' ') + 1);
            if (b == "inf" || b == "-inf") return b[0] == '-' ? -HUGE_VAL : HUGE_VAL;
            double v;
            if (!parse_number(b, v)) throw std::logic_error("Cli: interval '" + s + "' has a bad bound '" + b + "'");
            return v;
        };
        r.low = bound(s.substr(1, comma - 1));
        r.high = bound(s.substr(comma + 1, s.size() - comma - 2));
        return r;
    }
    bool contains(double x) const {
        return (low_open ? x > low : x >= low) && (high_open ? x < high : x <= high);
    }
};

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
    // Restrict a number (INT or NUM) to an interval, "[1, 4096]" or "(0, 1]"; --help shows it.
    void range(const std::string& name, const std::string& interval) {
        Opt& o = find(name);
        if (o.kind != "INT" && o.kind != "NUM") throw std::logic_error("Cli: " + name + " is not a number option");
        o.range = Interval::parse(interval);
        o.has_range = true;
    }

    void finish(int argc, char** argv) {
        for (int i = 1; i < argc; ++i) {
            std::string a = argv[i];
            if (a == "--help" || a == "-h") { std::printf("%s", usage().c_str()); std::exit(0); }
            auto eq = a.find('=');
            std::string name = a.substr(0, eq);
            auto it = options_.find(name);
            if (it == options_.end()) fail("unknown option '" + a + "'");
            Opt& o = it->second;
            if (o.kind == "FLAG") {
                const std::string v = eq == std::string::npos ? "1" : a.substr(eq + 1);
                if (v != "0" && v != "1") fail(name + " is a flag: give it alone (on), or as " + name + "=1 / " + name + "=0, not '" + a + "'");
                o.value = v;
                continue;
            }
            if (eq != std::string::npos) o.value = a.substr(eq + 1);
            else if (i + 1 < argc) o.value = argv[++i];
            else fail(name + " needs a value (" + o.kind + ")");
            validate(name, o);
        }
    }

    const std::string& program() const { return program_; }
    std::string text(const std::string& name) { return find(name).value; }
    int integer(const std::string& name) {
        long long v = 0;
        if (!parse_integer(find(name).value, v) || v < INT_MIN || v > INT_MAX)
            throw std::logic_error("Cli: the default of " + name + " is not an integer");
        return static_cast<int>(v);
    }
    double number(const std::string& name) {
        double v = 0;
        if (!parse_number(find(name).value, v)) throw std::logic_error("Cli: the default of " + name + " is not a number");
        return v;
    }
    bool is_set(const std::string& name) { return find(name).value == "1"; }
    // Whether the option was named on the command line (not left at its default).
    bool given(const std::string& name) { return find(name).given; }

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
            if (o.kind != "FLAG") s += " [" + (o.has_range ? "in " + o.range.text + ", " : "") + "default: " + o.def + "]";
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
        Interval range;
        bool has_range = false, given = false;
    };
    static std::string trim(std::string s) {  // "0.000200" -> "0.0002"
        if (s.find('.') == std::string::npos) return s;
        while (s.back() == '0') s.pop_back();
        if (s.back() == '.') s.pop_back();
        return s;
    }
    void add(const std::string& name, const std::string& def, const std::string& help, const std::string& kind) {
        Opt o;
        o.value = o.def = def;
        o.help = help;
        o.kind = kind;
        options_[name] = o;
        order_.push_back(name);
    }
    Opt& find(const std::string& name) {
        auto it = options_.find(name);
        if (it == options_.end()) throw std::logic_error("Cli: option " + name + " was never declared");
        return it->second;
    }
    void validate(const std::string& name, Opt& o) const {
        o.given = true;
        const std::string quoted = "'" + o.value + "'";
        if (o.kind == "TEXT" && o.value.empty()) fail(name + " needs a non-empty value");
        if (o.kind == "INT") {
            long long v = 0;
            if (!parse_integer(o.value, v)) fail(quoted + " is not a valid integer for " + name);
            if (v < INT_MIN || v > INT_MAX || (o.has_range && !o.range.contains(static_cast<double>(v))))
                fail(quoted + " is out of range for " + name + ": expected an integer in " +
                     (o.has_range ? o.range.text : "the int range"));
        }
        if (o.kind == "NUM") {
            double v = 0;
            if (!parse_number(o.value, v)) fail(quoted + " is not a valid number for " + name + " (a finite number, e.g. 0.5 or 2e-4)");
            if (o.has_range && !o.range.contains(v))
                fail(quoted + " is out of range for " + name + ": expected a number in " + o.range.text);
        }
        if (!o.choices.empty() && std::find(o.choices.begin(), o.choices.end(), o.value) == o.choices.end()) {
            std::string allowed;
            for (const std::string& c : o.choices) allowed += (allowed.empty() ? "" : ", ") + c;
            fail(quoted + " is not a valid value for " + name + " (one of: " + allowed + ")");
        }
    }
    std::string program_, description_;
    std::map<std::string, Opt> options_;
    std::vector<std::string> order_;
};

}  // namespace minigan::io
