// io/atomic_file.hpp - write a whole file so that readers only ever see the old or the new one.
//
// Nothing to read first. write_file_atomic(path, bytes) writes `path.tmp`, flushes it to disk,
// then renames it over `path`. rename() replaces a file in one step, so a run killed mid-write
// (Ctrl-C, out of memory, power loss) leaves the previous checkpoint, PNG or CSV whole.
// Every file minigan writes (images, GIFs, plots, checkpoints, run.json) goes through here.
#pragma once

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>  // fsync
#endif

namespace minigan::io {

// "cannot write 'runs/x/a.png' (open 'runs/x/a.png.tmp': No such file or directory)"
inline std::runtime_error file_error(const std::string& path, const std::string& step, int err) {
    return std::runtime_error("cannot write '" + path + "' (" + step + ": " + std::strerror(err) + ")");
}

// Write `bytes` to `path` atomically. Throws std::runtime_error naming the path and the
// system's reason (errno) on failure; `path` is then untouched and no `.tmp` is left behind.
inline void write_file_atomic(const std::string& path, const std::string& bytes) {
    const std::string tmp = path + ".tmp";
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f) throw file_error(path, "open '" + tmp + "'", errno);

    errno = 0;
    bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size() && std::fflush(f) == 0;
#if defined(__unix__) || defined(__APPLE__)
    // Without fsync the rename can reach the disk before the data does, and a power loss
    // would leave an empty file under the real name.
    ok = ok && fsync(fileno(f)) == 0;
#endif
    int err = errno ? errno : EIO;  // a short write (disk full) does not always set errno
    if (std::fclose(f) != 0 && ok) ok = false, err = errno ? errno : EIO;
    if (!ok) {
        std::remove(tmp.c_str());
        throw file_error(path, "write '" + tmp + "'", err);
    }
    // On Windows std::rename fails when `path` exists; minigan targets Linux and macOS.
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        err = errno;
        std::remove(tmp.c_str());
        throw file_error(path, "rename '" + tmp + "'", err);
    }
}

// The same for writers that produce a stream: everything is collected in memory first, so
// an exception thrown by `write` leaves no file at all.
//   write_file_atomic("log.txt", [&](std::ostream& out) { out << "step " << step << "\n"; });
inline void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& write) {
    std::ostringstream buffer(std::ios::binary);
    write(buffer);
    write_file_atomic(path, buffer.str());
}

}  // namespace minigan::io
