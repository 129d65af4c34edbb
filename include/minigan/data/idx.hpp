// data/idx.hpp - read an IDX file (the format of MNIST and Fashion-MNIST), raw or gzipped.
//
// Nothing to read first. read_idx_images(path) / read_idx_labels(path) return the file's
// dimensions and its bytes. The reader trusts nothing in the file: every size is checked
// against what is really there, and every problem is a std::runtime_error that starts with
// the file's path and says what is wrong, so a broken download is easy to diagnose.
//
// The IDX format (http://yann.lecun.com/exdb/mnist/), all integers big-endian:
//   byte 0, 1   : 0, 0
//   byte 2      : type code, 0x08 = unsigned byte (the only one minigan reads)
//   byte 3      : rank, the number of dimensions (3 for images, 1 for labels)
//   4 * rank    : the dimensions, uint32 each  (images: N, rows, cols;  labels: N)
//   then        : N * rows * cols bytes of data, row-major, and nothing after them
// So an images file starts with the "magic number" 0x00000803 and a labels file with 0x00000801.
#pragma once

#include <zlib.h>  // gzopen / gzread: link with -lz

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace minigan::data {

// The contents of an IDX file of unsigned bytes.
struct IdxArray {
    std::vector<int> dims;        // e.g. {60000, 28, 28} for images, {60000} for labels
    std::vector<uint8_t> values;  // dims[0] * dims[1] * ... bytes, row-major
};

// No MNIST-like file comes close to this; a header that asks for more is broken, not big.
constexpr uint64_t kMaxIdxBytes = uint64_t(1) << 30;  // 1 GiB

namespace detail {

inline std::runtime_error idx_error(const std::string& path, const std::string& problem) {
    return std::runtime_error(path + ": " + problem);
}

inline std::string hex_byte(uint8_t b) {
    const char* digits = "0123456789abcdef";
    return std::string("0x") + digits[b >> 4] + digits[b & 15];
}

inline std::string type_code_name(uint8_t code) {
    switch (code) {
        case 0x08: return "unsigned byte";
        case 0x09: return "signed byte";
        case 0x0B: return "int16";
        case 0x0C: return "int32";
        case 0x0D: return "float32";
        case 0x0E: return "float64";
        default: return "not an IDX type";
    }
}

// "60000x28x28"
inline std::string dims_str(const std::vector<uint64_t>& dims) {
    std::string s;
    for (size_t i = 0; i < dims.size(); ++i) s += (i ? "x" : "") + std::to_string(dims[i]);
    return s;
}

}  // namespace detail

// The whole file as bytes, gunzipped if it is a gzip file. zlib's gzread() reads both kinds:
// it looks at the first two bytes (0x1f 0x8b means gzip) and passes any other file through as is.
inline std::vector<uint8_t> read_maybe_gzipped(const std::string& path) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec))
        throw detail::idx_error(path, "missing (no such file). Run `bash data/fetch.sh` to download "
                                      "MNIST and Fashion-MNIST into data/.");
    if (std::filesystem::is_directory(path, ec)) throw detail::idx_error(path, "is a directory, not an IDX file");

    gzFile file = gzopen(path.c_str(), "rb");
    if (!file) throw detail::idx_error(path, std::string("cannot open: ") + std::strerror(errno));
    gzbuffer(file, 1 << 17);  // 128 KiB reads instead of zlib's default 8 KiB: faster

    std::vector<uint8_t> bytes;
    const uintmax_t size_on_disk = std::filesystem::file_size(path, ec);
    if (!ec) bytes.reserve(static_cast<size_t>(std::min<uintmax_t>(size_on_disk, kMaxIdxBytes)));  // a raw file: exact
    std::vector<uint8_t> chunk(1 << 16);
    int got = 0;
    while ((got = gzread(file, chunk.data(), static_cast<unsigned>(chunk.size()))) > 0) {
        bytes.insert(bytes.end(), chunk.begin(), chunk.begin() + got);
        if (bytes.size() > kMaxIdxBytes) {
            gzclose(file);
            throw detail::idx_error(path, "larger than 1 GiB: not an MNIST-like IDX file");
        }
    }

    // gzread returns -1 for corrupt data, but only a short count for a gzip stream cut off early;
    // gzerror() reports both (Z_DATA_ERROR, Z_BUF_ERROR), so ask it rather than trusting got.
    // (zlib ignores bytes after the end of a complete gzip stream; the IDX checks below still
    // catch anything wrong with what was inside.)
    const int read_errno = errno;
    int zlib_status = Z_OK;
    const std::string zlib_message = gzerror(file, &zlib_status);
    gzclose(file);
    if (zlib_status == Z_ERRNO) throw detail::idx_error(path, std::string("read error: ") + std::strerror(read_errno));
    if (zlib_status != Z_OK)
        throw detail::idx_error(path, "corrupt or truncated gzip data (zlib: " + zlib_message +
                                          "). Delete it and run `bash data/fetch.sh` again.");
    return bytes;
}

// Checks and decodes the bytes of an IDX file of unsigned bytes with `expected_rank`
// dimensions (3 for images, 1 for labels). `path` is only used in error messages.
inline IdxArray parse_idx(std::vector<uint8_t> bytes, int expected_rank, const std::string& path) {
    using detail::idx_error;
    const char* kind = expected_rank == 1 ? "a labels file" : expected_rank == 3 ? "an images file" : "this file";
    if (bytes.size() < 4)
        throw idx_error(path, "too short to be an IDX file: " + std::to_string(bytes.size()) + " bytes (empty or cut off?)");

    // The magic number: 0, 0, type code, rank.
    if (bytes[0] != 0 || bytes[1] != 0)
        throw idx_error(path, "not an IDX file: it must start with two zero bytes, but starts with " +
                                  detail::hex_byte(bytes[0]) + " " + detail::hex_byte(bytes[1]) +
                                  " (an HTML error page or another format?)");
    const uint8_t type_code = bytes[2];
    const int rank = bytes[3];
    if (type_code != 0x08)
        throw idx_error(path, "IDX type code " + detail::hex_byte(type_code) + " (" + detail::type_code_name(type_code) +
                                  ") is not supported: minigan reads unsigned-byte (0x08) IDX files only");
    if (rank != expected_rank)
        throw idx_error(path, "wrong rank: the header says " + std::to_string(rank) + " dimensions, but " + kind +
                                  " has " + std::to_string(expected_rank) + " (magic number 0x0000080" +
                                  std::to_string(expected_rank) + ")");

    const size_t header_bytes = 4 + 4 * static_cast<size_t>(rank);
    if (bytes.size() < header_bytes)
        throw idx_error(path, "truncated: the header of a rank-" + std::to_string(rank) + " IDX file is " +
                                  std::to_string(header_bytes) + " bytes, the file has " + std::to_string(bytes.size()));

    // The dimensions, big-endian uint32 each. Their product is checked as it grows, so a
    // broken header can neither overflow it nor make us allocate gigabytes.
    std::vector<uint64_t> dims;
    uint64_t expected_values = 1;
    bool absurd = false;
    for (int i = 0; i < rank; ++i) {
        const uint8_t* p = &bytes[4 + 4 * static_cast<size_t>(i)];
        const uint64_t d = (uint64_t(p[0]) << 24) | (uint64_t(p[1]) << 16) | (uint64_t(p[2]) << 8) | p[3];
        dims.push_back(d);
        if (d > kMaxIdxBytes) absurd = true;  // even next to a 0 dimension: it must fit an int
        if (!absurd) expected_values *= d;    // both factors <= 2^30 + 1: no overflow in 64 bits
        if (expected_values > kMaxIdxBytes) absurd = true;
    }
    if (absurd)
        throw idx_error(path, "absurd dimensions " + detail::dims_str(dims) +
                                  ": more than 1 GiB of data (a corrupt header?)");

    // The data must be exactly as long as the header says: no less (a cut-off download),
    // no more (trailing garbage, or a header that lies).
    const uint64_t actual_values = bytes.size() - header_bytes;
    const std::string what = expected_rank == 3 ? " bytes of pixels" : " bytes of data";
    if (actual_values < expected_values)
        throw idx_error(path, "truncated: header says " + detail::dims_str(dims) + " = " +
                                  std::to_string(expected_values) + what + ", file has " +
                                  std::to_string(actual_values));
    if (actual_values > expected_values)
        throw idx_error(path, "trailing bytes: header says " + detail::dims_str(dims) + " = " +
                                  std::to_string(expected_values) + what + ", file has " +
                                  std::to_string(actual_values) + " (" +
                                  std::to_string(actual_values - expected_values) + " too many)");

    IdxArray out;
    for (uint64_t d : dims) out.dims.push_back(static_cast<int>(d));  // each <= 2^30 here: fits an int
    bytes.erase(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(header_bytes));
    out.values = std::move(bytes);
    return out;
}

// Images: magic 0x00000803, dims {N, rows, cols}.
inline IdxArray read_idx_images(const std::string& path) { return parse_idx(read_maybe_gzipped(path), 3, path); }

// Labels: magic 0x00000801, dims {N}.
inline IdxArray read_idx_labels(const std::string& path) { return parse_idx(read_maybe_gzipped(path), 1, path); }

}  // namespace minigan::data
