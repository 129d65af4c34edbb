// minigan.hpp - the whole library in one include, in reading order.
//
// A short tour (each header opens with what it defines and what to read before it):
//   tensor.hpp      numbers with a shape, and the seeded random generator
//   autograd.hpp    Var, the graph, backward(), NoGrad, detach()
//   ops.hpp         + - * matmul sum mean reshape flatten concat narrow, each with its backward
//   activations.hpp relu leaky_relu tanh sigmoid
//   blas.hpp        gemm(): the one call into OpenBLAS;  parallel.hpp: OpenMP on/off
//   backend/opencl.hpp (optional, -DMINIGAN_OPENCL) gemm(), im2col, col2im on an OpenCL device
//   im2col.hpp      im2col / col2im: a convolution as one GEMM
//   conv.hpp        conv2d, conv_transpose2d (conv_taps.hpp: the fast path for big layers)
//   loss.hpp        bce, bce_with_logits, mse, cross_entropy
//   nn/             Module, Sequential, Linear, Conv2d, ConvTranspose2d, BatchNorm, Dropout, init
//   optim.hpp       SGD, Adam
//
// A GAN step then reads (see examples/02_dcgan.cpp):
//   Var fake = G(z);
//   Var d_loss = bce_with_logits(D(real), ones) + bce_with_logits(D(fake.detach()), zeros);
//   optD.zero_grad(); d_loss.backward(); optD.step();
//   Var g_loss = bce_with_logits(D(fake), ones);      // non-saturating generator loss
//   optG.zero_grad(); g_loss.backward(); optG.step();
#pragma once

#include "tensor.hpp"
#include "autograd.hpp"
#include "ops.hpp"
#include "activations.hpp"
#include "blas.hpp"
#include "parallel.hpp"
#include "conv.hpp"
#include "loss.hpp"
#include "nn/module.hpp"
#include "nn/linear.hpp"
#include "nn/conv_layers.hpp"
#include "nn/batchnorm.hpp"
#include "nn/layers.hpp"
#include "nn/init.hpp"
#include "optim.hpp"
