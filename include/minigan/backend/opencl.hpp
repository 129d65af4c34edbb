// backend/opencl.hpp - the optional OpenCL backend: gemm() on a GPU, or on any OpenCL device.
//
// Read blas.hpp first. Off unless compiled with -DMINIGAN_OPENCL (CMake -DMINIGAN_OPENCL=ON,
// Meson -Dopencl=true; link -lOpenCL). Then every gemm() of at least min_flops() floating-point
// operations runs as the kernel below, on the first device of the first OpenCL platform:
//   MINIGAN_OPENCL=0            the backend off at run time (everything on OpenBLAS again)
//   MINIGAN_OPENCL_DEVICE=i     the i-th device over all platforms (clinfo -l lists them)
//   MINIGAN_OPENCL_MIN_FLOPS=f  smaller products stay on the CPU (default 1e6: below that the
//                               copies and the kernel launch cost more than the product)
// Linear layers and convolutions (after im2col) are all gemm() calls, so this one kernel moves
// the hot path of a training step. (With the backend on, every convolution takes the im2col
// path, one big GEMM, rather than conv_taps.hpp's many small ones: see use_tap_gemms.) Without a GPU, PoCL (Debian pocl-opencl-icd) runs the same
// kernel on the CPU threads: slower than OpenBLAS, but every test passes through it.
//
// Each call copies op(A) and op(B) to the device (and C, when the product adds to it) and C
// back: simple and always correct. A backend that kept tensors on the device would save the
// copies; that is the next step, not this one.
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
)CL";

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

// One device with the compiled kernel, and device buffers that grow to the largest operands seen.
class Device {
public:
    static Device& get() {  // the first call picks the device and compiles the kernel
        static Device device;
        return device;
    }
    const std::string& name() const { return name_; }
    int tile() const { return tile_; }
    size_t calls() const { return calls_; }  // products run here so far (the tests check the routing)

    void gemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda, const float* B,
              int ldb, float beta, float* C, int ldc) {
        std::lock_guard<std::mutex> lock(mutex_);
        // How many floats of each matrix the product touches, from its first to its last one.
        const size_t a_size = trans_a ? size_t(K - 1) * lda + M : size_t(M - 1) * lda + K;
        const size_t b_size = trans_b ? size_t(N - 1) * ldb + K : size_t(K - 1) * ldb + N;
        const size_t c_size = size_t(M - 1) * ldc + N;
        cl_mem a = buffer(a_buf_, a_size), b = buffer(b_buf_, b_size), c = buffer(c_buf_, c_size);
        check(clEnqueueWriteBuffer(queue_, a, CL_FALSE, 0, a_size * sizeof(float), A, 0, nullptr, nullptr), "write A");
        check(clEnqueueWriteBuffer(queue_, b, CL_FALSE, 0, b_size * sizeof(float), B, 0, nullptr, nullptr), "write B");
        // C goes up too when the kernel reads it (beta != 0), or when C's rows have gaps (ldc > N)
        // that the read-back below would otherwise fill with whatever the device buffer held.
        if (beta != 0.0f || ldc != N)
            check(clEnqueueWriteBuffer(queue_, c, CL_FALSE, 0, c_size * sizeof(float), C, 0, nullptr, nullptr), "write C");
        const cl_int ta = trans_a, tb = trans_b;
        set_arguments(ta, tb, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc);  // the kernel's parameters, in order
        const size_t t = static_cast<size_t>(tile_);
        const size_t global[2] = {(N + t - 1) / t * t, (M + t - 1) / t * t}, local[2] = {t, t};
        check(clEnqueueNDRangeKernel(queue_, kernel_, 2, nullptr, global, local, 0, nullptr, nullptr), "run the gemm kernel");
        check(clEnqueueReadBuffer(queue_, c, CL_TRUE, 0, c_size * sizeof(float), C, 0, nullptr, nullptr), "read C");
        ++calls_;
    }

    Device(const Device&) = delete;
    Device& operator=(const Device&) = delete;
    ~Device() {
        for (Buffer* b : {&a_buf_, &b_buf_, &c_buf_})
            if (b->mem) clReleaseMemObject(b->mem);
        if (kernel_) clReleaseKernel(kernel_);
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
        check(err, "create the kernel");
    }

    // clSetKernelArg(kernel, i, size, &value) for the i-th value, i = 0, 1, ...
    template <typename... Values>
    void set_arguments(const Values&... values) {
        cl_uint index = 0;
        (check(clSetKernelArg(kernel_, index++, sizeof(Values), &values), "set a kernel argument"), ...);
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
    cl_kernel kernel_ = nullptr;
    Buffer a_buf_, b_buf_, c_buf_;
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
