// io/gif.hpp - an animated GIF encoder written from scratch: how training progressed, in one file.
//
// Read io/image_grid.hpp (Image) first. A GIF89a file is a header, a 256-colour palette, then
// per frame a delay and the frame's palette indices compressed with LZW (explained at
// lzw_compress below). Gray frames use a gray ramp (index v is the colour (v, v, v), so they
// are stored exactly); RGB frames use a fixed 6x7x6 colour cube. Spec: w3.org/Graphics/GIF/spec-gif89a.txt
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "atomic_file.hpp"
#include "image_grid.hpp"

namespace minigan::io {

// The global colour table, 256 entries. Gray: entry v = (v, v, v). RGB: a 6x7x6 cube (green gets
// 7 levels: the eye is most sensitive to it), entry (r * 7 + g) * 6 + b; entries 252..255 unused.
inline std::vector<RGB> gif_palette(int channels) {
    std::vector<RGB> palette(256, RGB{0, 0, 0});
    for (int i = 0; i < 256; ++i) {
        if (channels == 1) palette[i] = RGB{uint8_t(i), uint8_t(i), uint8_t(i)};
        else if (i < 6 * 7 * 6) palette[i] = RGB{uint8_t(i / 42 * 255 / 5), uint8_t(i / 6 % 7 * 255 / 6), uint8_t(i % 6 * 255 / 5)};
    }
    return palette;
}

// Each pixel -> its palette index: the gray value itself, or the nearest colour of the cube
// (level = round(value * (levels - 1) / 255) on each axis).
inline std::vector<uint8_t> palette_indices(const Image& frame) {
    std::vector<uint8_t> indices(static_cast<size_t>(frame.width) * frame.height);
    for (size_t i = 0; i < indices.size(); ++i) {
        const uint8_t* p = &frame.pixels[i * frame.channels];
        if (frame.channels == 1) indices[i] = p[0];
        else indices[i] = uint8_t(((p[0] * 5 + 127) / 255 * 7 + (p[1] * 6 + 127) / 255) * 6 + (p[2] * 5 + 127) / 255);
    }
    return indices;
}

// GIF packs variable-width codes into bytes starting at the least significant bit.
struct BitPacker {
    std::string bytes;
    uint32_t buffer = 0;  // bits not yet written, oldest in the low bits
    int count = 0;        // how many bits `buffer` holds
    void put(int code, int width) {
        buffer |= static_cast<uint32_t>(code) << count;
        for (count += width; count >= 8; count -= 8, buffer >>= 8) bytes += static_cast<char>(buffer & 0xFF);
    }
    void flush() {
        if (count > 0) bytes += static_cast<char>(buffer & 0xFF);
        buffer = 0, count = 0;
    }
};

// LZW with 8-bit symbols, as GIF wants it. Encoder and decoder build the same table of strings
// as they go: codes 0..255 are the single bytes, 256 = CLEAR (start a new table), 257 = END,
// and each step adds "the string just emitted + the next byte" as code 258, 259, ...
// Codes start 9 bits wide and grow by one bit whenever the table reaches 2^width entries,
// up to 12 bits (4096 codes); a full table is answered by a CLEAR and a fresh 9-bit table.
// The decoder adds each entry one code later than we do (it must see the next code to know
// the next byte), so we widen exactly when the decoder will: after emitting a code, if
// next_code (the decoder's table size after reading it) == 2^width. E.g. the 255th code after
// a CLEAR: the decoder then holds 258 + 254 = 512 entries, so code 256 on is 10 bits wide.
inline std::string lzw_compress(const std::vector<uint8_t>& indices) {
    const int clear_code = 256, end_code = 257, first_free = 258, max_codes = 4096;
    // table[code * 256 + byte]: the code of string(code) + byte, or 0 if not in the table yet.
    std::vector<uint16_t> table(static_cast<size_t>(max_codes) * 256, 0);
    int width = 9, next_code = first_free;
    BitPacker out;
    out.put(clear_code, width);

    int current = indices.empty() ? 0 : indices[0];  // code of the longest known string so far
    for (size_t i = 1; i < indices.size(); ++i) {
        uint16_t& entry = table[static_cast<size_t>(current) * 256 + indices[i]];
        if (entry != 0) {  // current + byte is a known string: keep extending
            current = entry;
            continue;
        }
        out.put(current, width);
        if (next_code == (1 << width) && width < 12) ++width;
        entry = static_cast<uint16_t>(next_code++);
        if (next_code == max_codes) {  // table full: tell the decoder to start over
            out.put(clear_code, width);
            std::fill(table.begin(), table.end(), 0);
            width = 9, next_code = first_free;
        }
        current = indices[i];
    }
    out.put(current, width);
    if (next_code == (1 << width) && width < 12) ++width;  // the decoder adds an entry here too
    out.put(end_code, width);
    out.flush();
    return out.bytes;
}

// Writes an animated GIF frame by frame; the file appears (atomically) at save() or close().
//   GifWriter gif("progress.gif", 233, 233, 50);   // 50 cs = half a second per frame
//   for (...) gif.add_frame(make_grid(samples));
//   gif.close();
class GifWriter {
public:
    // delay_cs: time each frame stays on screen in 1/100 s. loop_count 0 = loop forever.
    GifWriter(std::string path, int width, int height, int delay_cs = 50, int loop_count = 0)
        : path_(std::move(path)), width_(width), height_(height), delay_cs_(delay_cs), loop_count_(loop_count) {
        if (width < 1 || height < 1 || width > 65535 || height > 65535)
            throw std::invalid_argument("GifWriter: size must be 1..65535, got " + std::to_string(width) + "x" +
                                        std::to_string(height));
    }
    GifWriter(const GifWriter&) = delete;
    GifWriter& operator=(const GifWriter&) = delete;
    // A GifWriter that was never closed writes its file here; errors can only be printed.
    ~GifWriter() {
        if (closed_ || frames_ == 0) return;
        try {
            close();
        } catch (const std::exception& e) {
            std::fprintf(stderr, "GifWriter: %s\n", e.what());
        }
    }

    // All frames must have the GIF's size and the first frame's channel count.
    // delay_cs < 0 uses the delay given to the constructor.
    void add_frame(const Image& frame, int delay_cs = -1) {
        if (closed_) throw std::logic_error("GifWriter: add_frame after close() (" + path_ + ")");
        if (frame.width != width_ || frame.height != height_)
            throw std::invalid_argument("GifWriter: frame is " + std::to_string(frame.width) + "x" +
                                        std::to_string(frame.height) + ", the GIF is " + std::to_string(width_) +
                                        "x" + std::to_string(height_) + " (" + path_ + ")");
        if (frames_ > 0 && frame.channels != channels_)
            throw std::invalid_argument("GifWriter: cannot mix gray and RGB frames (" + path_ + ")");
        channels_ = frame.channels;
        const int delay = std::min(delay_cs < 0 ? delay_cs_ : delay_cs, 65535);
        // Graphic Control Extension: disposal 1 (leave the frame in place), delay, no transparency.
        body_ += std::string("\x21\xF9\x04\x04", 4);
        put_u16(body_, delay);
        body_ += std::string("\x00\x00", 2);
        // Image Descriptor: at (0, 0), full size, no local palette, not interlaced.
        body_ += '\x2C';
        put_u16(body_, 0), put_u16(body_, 0), put_u16(body_, width_), put_u16(body_, height_);
        body_ += '\x00';
        // Image data: the LZW minimum code size (8 bits per index), then the compressed
        // bytes in sub-blocks of at most 255 bytes, each preceded by its length; 0 ends them.
        body_ += '\x08';
        const std::string lzw = lzw_compress(palette_indices(frame));
        for (size_t i = 0; i < lzw.size(); i += 255) {
            const size_t n = std::min<size_t>(255, lzw.size() - i);
            body_ += static_cast<char>(n);
            body_.append(lzw, i, n);
        }
        body_ += '\x00';
        ++frames_;
    }

    // Write the file with the frames so far (a complete, viewable GIF); more frames may follow.
    void save() const {
        if (frames_ == 0) throw std::logic_error("GifWriter: no frames to write (" + path_ + ")");
        std::string file = "GIF89a";
        // Logical Screen Descriptor. 0xF7 = global colour table present, 8-bit colour
        // resolution, 2^(7+1) = 256 entries. Then background index 0, pixel aspect 0.
        put_u16(file, width_), put_u16(file, height_);
        file += std::string("\xF7\x00\x00", 3);
        for (RGB c : gif_palette(channels_)) file += {char(c.r), char(c.g), char(c.b)};
        // NETSCAPE2.0 application extension: how often to loop (0 = forever).
        file += std::string("\x21\xFF\x0BNETSCAPE2.0\x03\x01", 16);
        put_u16(file, loop_count_);
        file += '\x00';
        file += body_;
        file += '\x3B';  // trailer
        write_file_atomic(path_, file);
    }

    void close() {
        if (closed_) return;
        save();
        closed_ = true;
    }

    int frame_count() const { return frames_; }

private:
    static void put_u16(std::string& s, int v) {  // GIF numbers are little-endian
        s += static_cast<char>(v & 0xFF);
        s += static_cast<char>((v >> 8) & 0xFF);
    }

    std::string path_;
    int width_, height_, delay_cs_, loop_count_;
    int channels_ = 0, frames_ = 0;
    bool closed_ = false;
    std::string body_;  // the encoded frames
};

// One call: every frame (same size, all gray or all RGB), `delay_cs` hundredths of a second each.
inline void write_gif(const std::string& path, const std::vector<Image>& frames, int delay_cs = 50) {
    if (frames.empty()) throw std::invalid_argument("write_gif: no frames for " + path);
    GifWriter gif(path, frames[0].width, frames[0].height, delay_cs);
    for (const Image& frame : frames) gif.add_frame(frame);
    gif.close();
}

}  // namespace minigan::io
