// io/json.hpp - the one JSON type minigan uses: nlohmann::ordered_json.
//
// JSON appears in safetensors headers, run.json and results.json. nlohmann/json offers two types,
// `json` (keys sorted, std::map) and `ordered_json` (keys in insertion order); each one a program
// uses is a separate set of template instantiations, and those are ~1/3 of an example's compile
// time. So minigan uses only one, the ordered one: files keep the order they were written in.
#pragma once

#include <nlohmann/json.hpp>

namespace minigan {
using Json = nlohmann::ordered_json;
}  // namespace minigan
