// io/safetensors.hpp - save and load named tensors in the safetensors format (PyTorch-compatible).
//
// Read nn/module.hpp (state_dict) first. A .safetensors file is
//   [8 bytes: header length L, little-endian u64] [L bytes: JSON header] [raw tensor bytes]
// The header maps each name to {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}
// (offsets into the raw bytes) and may hold "__metadata__" strings. No code runs on load
// (unlike pickle), which is why PyTorch users adopted it. We write float32, and read F32
// plus the integer/f64 types PyTorch uses for e.g. BatchNorm's num_batches_tracked.
#pragma once

#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <set>

#include "../nn/module.hpp"
#include "atomic_file.hpp"
#include "json.hpp"

namespace minigan::io {

using Metadata = std::map<std::string, std::string>;

// x86 and ARM are little-endian, as the format requires; refuse to run elsewhere.
inline void require_little_endian() {
    const uint16_t probe = 1;
    unsigned char first;
    std::memcpy(&first, &probe, 1);
    if (first != 1) throw std::runtime_error("safetensors: big-endian machines are not supported");
}

inline std::string safetensors_bytes(const StateDict& tensors, const Metadata& metadata = {}) {
    require_little_endian();
    Json header;
    if (!metadata.empty()) header["__metadata__"] = metadata;
    size_t offset = 0;
    for (const auto& [name, t] : tensors) {
        if (header.contains(name)) throw std::invalid_argument("safetensors: duplicate tensor name '" + name + "'");
        size_t bytes = t.numel() * sizeof(float);
        header[name] = {{"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
        offset += bytes;
    }
    std::string json = header.dump();
    json.append((8 - json.size() % 8) % 8, ' ');  // pad so the tensor data starts 8-byte aligned
    std::string out(8, '\0');
    uint64_t n = json.size();
    std::memcpy(&out[0], &n, 8);
    out += json;
    for (const auto& [name, t] : tensors) out.append(reinterpret_cast<const char*>(t.ptr()), t.numel() * sizeof(float));
    return out;
}

// Written to path.tmp, then renamed: a run killed mid-write leaves the old file intact.
inline void save_safetensors(const std::string& path, const StateDict& tensors, const Metadata& metadata = {}) {
    write_file_atomic(path, safetensors_bytes(tensors, metadata));
}

// Parse a file's bytes; every problem is reported with `path` and what is wrong.
inline StateDict parse_safetensors(const std::string& bytes, const std::string& path, Metadata* metadata = nullptr) {
    require_little_endian();
    auto fail = [&](const std::string& why) { return std::runtime_error(path + ": not a valid safetensors file: " + why); };
    if (bytes.size() < 8) throw fail("shorter than the 8-byte header length");
    uint64_t n;
    std::memcpy(&n, bytes.data(), 8);
    if (n > bytes.size() - 8) throw fail("header length " + std::to_string(n) + " exceeds the file size " + std::to_string(bytes.size()));
    // A JSON object may legally repeat a key (the parser keeps the last one): in a header that
    // would silently drop a tensor or a metadata entry, so a repeated key is an error here.
    std::vector<std::set<std::string>> keys_seen;  // one set per open object
    std::string repeated;
    auto watch_keys = [&](int, Json::parse_event_t event, Json& parsed) {
        if (event == Json::parse_event_t::object_start) keys_seen.emplace_back();
        else if (event == Json::parse_event_t::object_end) keys_seen.pop_back();
        else if (event == Json::parse_event_t::key && !keys_seen.back().insert(parsed.get<std::string>()).second)
            repeated = parsed.get<std::string>();
        return true;
    };
    Json header = Json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<long>(n), watch_keys, false);
    if (header.is_discarded() || !header.is_object()) throw fail("the header is not a JSON object");
    if (!repeated.empty()) throw fail("the header names '" + repeated + "' twice");
    const size_t data_start = 8 + n, data_size = bytes.size() - data_start;
    StateDict out;
    std::vector<std::pair<size_t, size_t>> ranges;
    for (const auto& [name, info] : header.items()) {
        if (name == "__metadata__") {
            if (metadata && info.is_object())
                for (const auto& [k, v] : info.items()) (*metadata)[k] = v.is_string() ? v.get<std::string>() : v.dump();
            continue;
        }
        try {
            const std::string dtype = info.at("dtype");
            for (const char* key : {"shape", "data_offsets"})  // whole numbers: 2.5 must not become 2
                for (const Json& d : info.at(key))
                    if (!d.is_number_integer()) throw fail("tensor '" + name + "' has a " + key + " that is not a list of integers: " + info.at(key).dump());
            const auto dims = info.at("shape").get<std::vector<int64_t>>();  // 64-bit: no silent wrap-around
            auto offsets = info.at("data_offsets").get<std::vector<uint64_t>>();
            if (offsets.size() != 2 || offsets[0] > offsets[1] || offsets[1] > data_size)
                throw fail("tensor '" + name + "' has data_offsets outside the file");
            size_t count = 1;  // shape_numel, guarded: a corrupt shape must not overflow or allocate
            for (int64_t d : dims) {
                if (d < 0 || d > INT32_MAX || (d > 0 && count > data_size / static_cast<size_t>(d)))
                    throw fail("tensor '" + name + "' has an impossible shape " + info.at("shape").dump());
                count *= static_cast<size_t>(d);
            }
            const Shape shape(dims.begin(), dims.end());
            size_t item = dtype == "F32" || dtype == "I32" ? 4 : dtype == "F64" || dtype == "I64" ? 8 : 0;
            if (item == 0) throw fail("tensor '" + name + "' has dtype " + dtype + " (supported: F32, F64, I32, I64)");
            if (offsets[1] - offsets[0] != count * item)
                throw fail("tensor '" + name + "' " + shape_str(shape) + " " + dtype + " needs " + std::to_string(count * item) +
                           " bytes, data_offsets give " + std::to_string(offsets[1] - offsets[0]));
            const char* src = bytes.data() + data_start + offsets[0];
            Tensor t(shape);
            for (size_t i = 0; i < count; ++i) {  // convert to float32 (exact for F32)
                if (dtype == "F32") std::memcpy(&t[i], src + 4 * i, 4);
                else if (dtype == "F64") { double v; std::memcpy(&v, src + 8 * i, 8); t[i] = static_cast<float>(v); }
                else if (dtype == "I32") { int32_t v; std::memcpy(&v, src + 4 * i, 4); t[i] = static_cast<float>(v); }
                else { int64_t v; std::memcpy(&v, src + 8 * i, 8); t[i] = static_cast<float>(v); }
            }
            ranges.push_back({offsets[0], offsets[1]});
            out.push_back({name, std::move(t)});
        } catch (const Json::exception& e) {
            throw fail("entry '" + name + "' is malformed (" + e.what() + ")");
        } catch (const std::invalid_argument& e) {
            throw fail("entry '" + name + "': " + e.what());
        }
    }
    // The header is a JSON object (unordered); keep the file's data order, which is how we wrote it.
    std::vector<size_t> order(out.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return ranges[a].first < ranges[b].first; });
    StateDict sorted;
    size_t expected_begin = 0;  // the tensors tile the data: no gaps, no overlaps, nothing after
    for (size_t i : order) {
        if (ranges[i].first != expected_begin)
            throw fail("tensor '" + out[i].first + "' starts at byte " + std::to_string(ranges[i].first) + ", expected " +
                       std::to_string(expected_begin) + " (the data has a gap or two tensors overlap)");
        expected_begin = ranges[i].second;
        sorted.push_back(std::move(out[i]));
    }
    if (expected_begin != data_size)
        throw fail(std::to_string(data_size - expected_begin) + " bytes after the last tensor");
    return sorted;
}

inline StateDict load_safetensors(const std::string& path, Metadata* metadata = nullptr) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw std::runtime_error(path + ": cannot open (" + std::strerror(errno) + ")");
    std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    return parse_safetensors(bytes, path, metadata);
}

// A module's weights and buffers under their PyTorch state_dict names.
inline void save_module(const std::string& path, const nn::Module& m, const Metadata& metadata = {}) {
    save_safetensors(path, m.state_dict(), metadata);
}

// Weights that hold NaN or infinity come from a run that diverged: refuse them, naming the file,
// the tensor and where, rather than let them turn every later number into NaN.
inline void require_finite(const StateDict& tensors, const std::string& path) {
    for (const auto& [name, t] : tensors)
        for (size_t i = 0; i < t.numel(); ++i)
            if (!std::isfinite(t[i]))
                throw std::runtime_error(path + ": tensor '" + name + "' holds " + (std::isnan(t[i]) ? "NaN" : "an infinity") +
                                         " at index " + std::to_string(i) + " (a diverged run?); these weights are unusable");
}

// Load and check names, shapes and values; a checkpoint of another architecture is refused with
// the list of what differs (and the file named).
inline void load_module(const std::string& path, nn::Module& m) {
    StateDict sd = load_safetensors(path);
    require_finite(sd, path);
    try {
        m.load_state_dict(sd);
    } catch (const std::invalid_argument& e) {
        throw std::runtime_error(path + ": " + e.what());
    }
}

}  // namespace minigan::io
