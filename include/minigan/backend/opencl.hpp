// backend/opencl.hpp - the optional OpenCL backend: gemm() on a GPU, or on any OpenCL device.
//
// Read blas.hpp first. Off unless compiled with -DMINIGAN_OPENCL (CMake -DMINIGAN_OPENCL=ON,
// Meson -Dopencl=true; link -lOpenCL). Then every gemm() of at least min_flops() floating-point
// operations runs as the gemm kernel below, on the first device of the first OpenCL platform:
//   MINIGAN_OPENCL=0            the backend off at run time (everything on OpenBLAS again)
//   MINIGAN_OPENCL_DEVICE=i     the i-th device over all platforms (clinfo -l lists them)
//   MINIGAN_OPENCL_MIN_FLOPS=f  smaller products stay on the CPU (default 1e6: below that the
//                               copies and the kernel launch cost more than the product)
// Linear layers and convolutions (after im2col) are all gemm() calls, so this one kernel moves
// the hot path of a training step. (With the backend on, every convolution takes the im2col
// path, one big GEMM, rather than fast/conv_taps.hpp's many small ones: see use_tap_gemms.) Without a GPU, PoCL (Debian pocl-opencl-icd) runs the same
// kernel on the CPU threads: slower than OpenBLAS, but every test passes through it.
//
// Convolutions (conv.hpp's gemm_im2col and col2im_gemm) also build their im2col column matrix
// on the device, or sum it back with col2im there: the columns, k*k times the image, never
// cross the bus. Each call copies its inputs to the device and its result back: simple and
// always correct. A backend that kept tensors on the device between calls would save those
// copies too; that is the next step, not this one.
#pragma once

#ifdef MINIGAN_OPENCL

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace minigan::opencl {

// The kernel: C = alpha * op(A) * op(B) + beta * C, row-major, op(X) = X or X^T (blas.hpp's
// contract). One work-item computes one C[row][col]; a work-group of TILE x TILE items computes
// a TILE x TILE block of C. Each step of the k loop stages a TILE x TILE block of op(A) and one
// of op(B) in local (on-chip) memory: every number read from global memory is used TILE times.
//   acc = sum over k0 (steps of TILE) of  sum_k As[lr][k] * Bs[k][lc]
// Items outside C (the last, partial blocks) load zeros and write nothing.
inline const char* gemm_kernel_source = R"CL(
__kernel void gemm(int trans_a, int trans_b, int M, int N, int K, float alpha,
                   __global const float* A, int lda, __global const float* B, int ldb,
                   float beta, __global float* C, int ldc) {
    const int col = get_global_id(0), row = get_global_id(1);   // this item's C[row][col]
    const int lc = get_local_id(0), lr = get_local_id(1);       // its place in the block
    __local float As[TILE][TILE], Bs[TILE][TILE];
    float acc = 0.0f;
    for (int k0 = 0; k0 < K; k0 += TILE) {
        const int ka = k0 + lc, kb = k0 + lr;  // As[lr][lc] = op(A)[row][ka], Bs[lr][lc] = op(B)[kb][col]
        As[lr][lc] = (row < M && ka < K) ? (trans_a ? A[ka * lda + row] : A[row * lda + ka]) : 0.0f;
        Bs[lr][lc] = (kb < K && col < N) ? (trans_b ? B[col * ldb + kb] : B[kb * ldb + col]) : 0.0f;
        barrier(CLK_LOCAL_MEM_FENCE);  // the whole block is loaded before anyone reads it
        for (int k = 0; k < TILE; ++k) acc += As[lr][k] * Bs[k][lc];
        barrier(CLK_LOCAL_MEM_FENCE);  // and read by everyone before the next load
    }
    if (row < M && col < N)
        C[row * ldc + col] = alpha * acc + (beta == 0.0f ? 0.0f : beta * C[row * ldc + col]);
}

// im2col.hpp on the device, one work-item per entry of the (C*k*k, N*Ho*Wo) column matrix:
//   col[(c*k + u)*k + v][n*Ho*Wo + i*Wo + j] = x[n][c][i*s - p + u][j*s - p + v]  (0 outside)
__kernel void im2col(__global const float* x, int N, int C, int H, int W, int k, int s, int p, int Ho, int Wo,
                     __global float* col) {
    const int q = get_global_id(0), r = get_global_id(1);
    const int NP = N * Ho * Wo;
    if (q >= NP || r >= C * k * k) return;
    const int n = q / (Ho * Wo), i = q % (Ho * Wo) / Wo, j = q % Wo;
    const int c = r / (k * k), u = r % (k * k) / k, v = r % k;
    const int h = i * s - p + u, w = j * s - p + v;
    col[r * NP + q] = (h >= 0 && h < H && w >= 0 && w < W) ? x[((n * C + c) * H + h) * W + w] : 0.0f;
}

// col2im, its adjoint, as a gather: one work-item per pixel x[n][c][h][w] adds up every column
// entry im2col copied it to, i.e. every (u, v) with h = i*s - p + u, w = j*s - p + v for an
// output position (i, j) of the grid.
__kernel void col2im(__global const float* col, int N, int C, int H, int W, int k, int s, int p, int Ho, int Wo,
                     __global float* x) {
    const int pixel = get_global_id(0);
    if (pixel >= N * C * H * W) return;
    const int w = pixel % W, h = pixel / W % H, c = pixel / (W * H) % C, n = pixel / (W * H * C);
    const int NP = N * Ho * Wo;
    float acc = 0.0f;
    for (int u = 0; u < k; ++u) {
        const int ti = h + p - u;  // = i*s
        if (ti < 0 || ti % s != 0 || ti / s >= Ho) continue;
        for (int v = 0; v < k; ++v) {
            const int tj = w + p - v;  // = j*s
            if (tj < 0 || tj % s != 0 || tj / s >= Wo) continue;
            acc += col[((c * k + u) * k + v) * NP + n * Ho * Wo + (ti / s) * Wo + tj / s];
        }
    }
    x[pixel] += acc;
}
)CL";

// The shape of a convolution's im2col step (im2col.hpp's ConvGeometry, plus the batch):
// N images (C, H, W), kernel k, stride s, padding p, an (Ho, Wo) grid of patches.
struct Patches {
    int N, C, H, W, k, s, p, Ho, Wo;
    int rows() const { return C * k * k; }       // R: rows of the column matrix
    size_t columns() const { return size_t(N) * Ho * Wo; }  // N*P
    size_t image_floats() const { return size_t(N) * C * H * W; }
};

inline void check(cl_int err, const char* what) {
    if (err != CL_SUCCESS)
        throw std::runtime_error(std::string("OpenCL: ") + what + " failed with error " + std::to_string(err) +
                                 " (see CL/cl.h; MINIGAN_OPENCL=0 runs everything on the CPU instead)");
}

// A number from the environment, or `fallback` when the variable is not set; anything else
// than a number >= 0 is an error (a typo must not silently send everything to the device).
inline double environment_number(const char* variable, double fallback) {
    const char* text = std::getenv(variable);
    if (!text) return fallback;
    char* end = nullptr;
    const double value = std::strtod(text, &end);
    if (end == text || *end != '\0' || !(value >= 0))
        throw std::invalid_argument(std::string(variable) + " must be a number >= 0, got \"" + text + "\"");
    return value;
}

// Run-time switches (the environment variables above; tests and benchmarks set them directly).
inline bool& enabled() {
    static bool on = [] {
        const char* v = std::getenv("MINIGAN_OPENCL");
        return !(v && std::string(v) == "0");
    }();
    return on;
}
inline double& min_flops() {
    static double flops = environment_number("MINIGAN_OPENCL_MIN_FLOPS", 1e6);
    return flops;
}
// Does a product of this size go to the device? (2 M N K: a multiply and an add per term)
inline bool wants(int M, int N, int K) { return enabled() && 2.0 * M * N * K >= min_flops(); }

// One device with the compiled kernels, and device buffers that grow to the largest operands seen.
class Device {
public:
    static Device& get() {  // the first call picks the device and compiles the kernels
        static Device device;
        return device;
    }
    const std::string& name() const { return name_; }
    int tile() const { return tile_; }
    size_t calls() const { return calls_; }  // products run here so far (the tests check the routing)

    // C = alpha * op(A) * op(B) + beta * C with host matrices: copy in, run, copy C out.
    void gemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda, const float* B,
              int ldb, float beta, float* C, int ldc) {
        std::lock_guard<std::mutex> lock(mutex_);
        // How many floats of each matrix the product touches, from its first to its last one.
        const size_t a_size = trans_a ? size_t(K - 1) * lda + M : size_t(M - 1) * lda + K;
        const size_t b_size = trans_b ? size_t(N - 1) * ldb + K : size_t(K - 1) * ldb + N;
        const size_t c_size = size_t(M - 1) * ldc + N;
        cl_mem a = upload(a_buf_, A, a_size), b = upload(b_buf_, B, b_size);
        // C goes up too when the kernel reads it (beta != 0), or when C's rows have gaps (ldc > N)
        // that the read-back below would otherwise fill with whatever the device buffer held.
        cl_mem c = (beta != 0.0f || ldc != N) ? upload(c_buf_, C, c_size) : buffer(c_buf_, c_size);
        run_gemm(trans_a, trans_b, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc);
        download(c, C, c_size);
        ++calls_;
    }

    // C = op(A) * op(im2col(x)) + beta * C, the columns built on the device (conv.hpp's
    // gemm_im2col has the CPU version and the shapes): trans_col false: A (M, R), C (M, N*P);
    // trans_col true: A (M, N*P), C (M, R).
    void gemm_im2col(bool trans_col, int M, const float* A, const float* x, const Patches& g, float beta, float* C) {
        std::lock_guard<std::mutex> lock(mutex_);
        const int R = g.rows();
        const size_t NP = g.columns(), c_size = size_t(M) * (trans_col ? R : NP);
        cl_mem a = upload(a_buf_, A, size_t(M) * (trans_col ? NP : R));
        cl_mem col = im2col(upload(x_buf_, x, g.image_floats()), g);
        cl_mem c = beta != 0.0f ? upload(c_buf_, C, c_size) : buffer(c_buf_, c_size);
        const int np = static_cast<int>(NP);
        if (trans_col) run_gemm(false, true, M, R, np, 1.0f, a, np, col, np, beta, c, R);
        else run_gemm(false, false, M, np, R, 1.0f, a, R, col, np, beta, c, np);
        download(c, C, c_size);
        ++calls_;
    }

    // image += col2im(A^T * B), A (K, R), B (K, N*P): the product and col2im on the device.
    void col2im_gemm(int K, const float* A, const float* B, const Patches& g, float* image) {
        std::lock_guard<std::mutex> lock(mutex_);
        const int R = g.rows(), np = static_cast<int>(g.columns());
        cl_mem a = upload(a_buf_, A, size_t(K) * R), b = upload(b_buf_, B, size_t(K) * np);
        cl_mem col = buffer(col_buf_, size_t(R) * np);
        run_gemm(true, false, R, np, K, 1.0f, a, R, b, np, 0.0f, col, np);
        cl_mem x = upload(x_buf_, image, g.image_floats());
        set_arguments(col2im_, col, g.N, g.C, g.H, g.W, g.k, g.s, g.p, g.Ho, g.Wo, x);
        const size_t global = round_up(g.image_floats(), 64);
        check(clEnqueueNDRangeKernel(queue_, col2im_, 1, nullptr, &global, nullptr, 0, nullptr, nullptr), "run col2im");
        download(x, image, g.image_floats());
        ++calls_;
    }

    Device(const Device&) = delete;
    Device& operator=(const Device&) = delete;
    ~Device() {
        for (Buffer* b : {&a_buf_, &b_buf_, &c_buf_, &x_buf_, &col_buf_})
            if (b->mem) clReleaseMemObject(b->mem);
        for (cl_kernel k : {kernel_, im2col_, col2im_})
            if (k) clReleaseKernel(k);
        if (program_) clReleaseProgram(program_);
        if (queue_) clReleaseCommandQueue(queue_);
        if (context_) clReleaseContext(context_);
    }

private:
    struct Buffer {
        cl_mem mem = nullptr;
        size_t floats = 0;
    };

    Device() {
        // Every device of every platform, in order; MINIGAN_OPENCL_DEVICE picks one.
        cl_uint platform_count = 0;
        if (clGetPlatformIDs(0, nullptr, &platform_count) != CL_SUCCESS || platform_count == 0)
            throw std::runtime_error("OpenCL: no platform found (install a GPU driver, or Debian's pocl-opencl-icd "
                                     "to run on the CPU; MINIGAN_OPENCL=0 turns the backend off)");
        std::vector<cl_platform_id> platforms(platform_count);
        check(clGetPlatformIDs(platform_count, platforms.data(), nullptr), "list platforms");
        std::vector<cl_device_id> devices;
        for (cl_platform_id p : platforms) {
            cl_uint n = 0;
            if (clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 0, nullptr, &n) != CL_SUCCESS || n == 0) continue;
            std::vector<cl_device_id> some(n);
            check(clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, n, some.data(), nullptr), "list devices");
            devices.insert(devices.end(), some.begin(), some.end());
        }
        const double index = environment_number("MINIGAN_OPENCL_DEVICE", 0);
        if (devices.empty() || index >= static_cast<double>(devices.size()) || index != std::floor(index)) {
            char which[32];
            std::snprintf(which, sizeof which, "%g", index);
            throw std::runtime_error("OpenCL: no device " + std::string(which) + " (" + std::to_string(devices.size()) +
                                     " found, numbered from 0; MINIGAN_OPENCL_DEVICE picks one, MINIGAN_OPENCL=0 "
                                     "turns the backend off)");
        }
        device_ = devices[static_cast<size_t>(index)];
        char text[256] = {0};
        check(clGetDeviceInfo(device_, CL_DEVICE_NAME, sizeof text - 1, text, nullptr), "read the device name");
        name_ = text;

        cl_int err = CL_SUCCESS;
        context_ = clCreateContext(nullptr, 1, &device_, nullptr, nullptr, &err);
        check(err, "create a context");
        queue_ = clCreateCommandQueue(context_, device_, 0, &err);
        check(err, "create a command queue");

        // TILE x TILE items per work-group: 16 x 16 where the device allows 256, else 8 x 8.
        size_t max_group = 0;
        check(clGetDeviceInfo(device_, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof max_group, &max_group, nullptr),
              "read the work-group limit");
        tile_ = max_group >= 256 ? 16 : 8;
        program_ = clCreateProgramWithSource(context_, 1, &gemm_kernel_source, nullptr, &err);
        check(err, "create the program");
        const std::string options = "-DTILE=" + std::to_string(tile_);
        if (clBuildProgram(program_, 1, &device_, options.c_str(), nullptr, nullptr) != CL_SUCCESS) {
            size_t log_size = 0;
            clGetProgramBuildInfo(program_, device_, CL_PROGRAM_BUILD_LOG, 0, nullptr, &log_size);
            std::string log(log_size, '\0');
            clGetProgramBuildInfo(program_, device_, CL_PROGRAM_BUILD_LOG, log_size, log.data(), nullptr);
            throw std::runtime_error("OpenCL: the gemm kernel does not compile on " + name_ + ":\n" + log);
        }
        kernel_ = clCreateKernel(program_, "gemm", &err);
        check(err, "create the gemm kernel");
        im2col_ = clCreateKernel(program_, "im2col", &err);
        check(err, "create the im2col kernel");
        col2im_ = clCreateKernel(program_, "col2im", &err);
        check(err, "create the col2im kernel");
    }

    // clSetKernelArg(kernel, i, size, &value) for the i-th value, i = 0, 1, ...
    template <typename... Values>
    void set_arguments(cl_kernel kernel, const Values&... values) {
        cl_uint index = 0;
        (check(clSetKernelArg(kernel, index++, sizeof(Values), &values), "set a kernel argument"), ...);
    }

    static size_t round_up(size_t n, size_t multiple) { return (n + multiple - 1) / multiple * multiple; }

    // The gemm kernel on device buffers: TILE x TILE work-groups covering C.
    void run_gemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, cl_mem a, int lda, cl_mem b, int ldb,
                  float beta, cl_mem c, int ldc) {
        const cl_int ta = trans_a, tb = trans_b;
        set_arguments(kernel_, ta, tb, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc);  // the kernel's parameters, in order
        const size_t t = static_cast<size_t>(tile_);
        const size_t global[2] = {round_up(N, t), round_up(M, t)}, local[2] = {t, t};
        check(clEnqueueNDRangeKernel(queue_, kernel_, 2, nullptr, global, local, 0, nullptr, nullptr), "run the gemm kernel");
    }

    // The (R, N*P) column matrix of the images in x, built in col_buf_.
    cl_mem im2col(cl_mem x, const Patches& g) {
        cl_mem col = buffer(col_buf_, size_t(g.rows()) * g.columns());
        set_arguments(im2col_, x, g.N, g.C, g.H, g.W, g.k, g.s, g.p, g.Ho, g.Wo, col);
        const size_t global[2] = {round_up(g.columns(), 64), size_t(g.rows())};
        check(clEnqueueNDRangeKernel(queue_, im2col_, 2, nullptr, global, nullptr, 0, nullptr, nullptr), "run im2col");
        return col;
    }

    cl_mem upload(Buffer& b, const float* host, size_t floats) {  // queued; the queue keeps the order
        cl_mem mem = buffer(b, floats);
        check(clEnqueueWriteBuffer(queue_, mem, CL_FALSE, 0, floats * sizeof(float), host, 0, nullptr, nullptr),
              "copy to the device");
        return mem;
    }
    void download(cl_mem mem, float* host, size_t floats) {  // waits for everything queued before it
        check(clEnqueueReadBuffer(queue_, mem, CL_TRUE, 0, floats * sizeof(float), host, 0, nullptr, nullptr),
              "copy from the device");
    }

    cl_mem buffer(Buffer& b, size_t floats) {  // at least `floats` floats on the device
        if (b.floats < floats) {
            if (b.mem) clReleaseMemObject(b.mem);
            cl_int err = CL_SUCCESS;
            b.mem = clCreateBuffer(context_, CL_MEM_READ_WRITE, floats * sizeof(float), nullptr, &err);
            check(err, "allocate a device buffer");
            b.floats = floats;
        }
        return b.mem;
    }

    cl_device_id device_ = nullptr;
    cl_context context_ = nullptr;
    cl_command_queue queue_ = nullptr;
    cl_program program_ = nullptr;
    cl_kernel kernel_ = nullptr, im2col_ = nullptr, col2im_ = nullptr;
    Buffer a_buf_, b_buf_, c_buf_, x_buf_, col_buf_;
    std::string name_;
    int tile_ = 16;
    size_t calls_ = 0;
    std::mutex mutex_;
};

// For runtime_summary(): where the big GEMMs run.
inline std::string summary() {
    if (!enabled()) return "OpenCL backend compiled in, off (MINIGAN_OPENCL=0)";
    try {
        const Device& d = Device::get();
        char flops[32];
        std::snprintf(flops, sizeof flops, "%.3g", min_flops());
        return "OpenCL: GEMMs of >= " + std::string(flops) + " flops on " + d.name();
    } catch (const std::exception& e) {
        return std::string("OpenCL backend compiled in, but: ") + e.what();
    }
}

}  // namespace minigan::opencl

#endif  // MINIGAN_OPENCL
