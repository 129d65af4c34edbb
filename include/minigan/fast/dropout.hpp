// fast/dropout.hpp - dropout's mask applied in one vectorised piece per thread.
//
// Replaces: the loops of dropout() in nn/layers.hpp (read it first: the mask and the scaling are
// defined there). The same counter-based bits, so the same mask and exactly the same numbers
// (tests/test_fast.cpp); the loops run over one piece per thread and vectorise (MINIGAN_SIMD).
#pragma once

#include "../autograd.hpp"
#include "parallel_chunks.hpp"

namespace minigan::fast {

// y = x * scale(i), scale(i) = keep_scale if bits(i) >= threshold else 0; dx += dy * scale(i).
inline Var dropout(const Var& x, const CounterBits& bits, uint32_t threshold, float keep_scale) {
    Tensor y = x.value();
    float* py = y.ptr();
    parallel_chunks(y.numel(), [=](size_t begin, size_t end) {
        MINIGAN_SIMD
        for (size_t i = begin; i < end; ++i) py[i] *= bits.bits(static_cast<uint32_t>(i)) >= threshold ? keep_scale : 0.0f;
    });
    return make_result(std::move(y), {x}, [bits, threshold, keep_scale](Node& out) {
        if (Tensor* dx = parent_grad(out, 0)) {
            const float* dy = out.grad.ptr();
            float* pdx = dx->ptr();
            parallel_chunks(dx->numel(), [=](size_t begin, size_t end) {
                MINIGAN_SIMD
                for (size_t i = begin; i < end; ++i)
                    pdx[i] += dy[i] * (bits.bits(static_cast<uint32_t>(i)) >= threshold ? keep_scale : 0.0f);
            });
        }
    });
}

}  // namespace minigan::fast
