// minigan.hpp - the whole library in one include, in reading order.
//
// A short tour (each header opens with what it defines and what to read before it):
//   tensor.hpp        numbers with a shape, and the seeded random generator
//   dispatch.hpp      the reference path and the fast path: one switch, -DMINIGAN_REFERENCE
//   autograd.hpp      Var, the graph, backward(), NoGrad, detach()
//   parallel.hpp      OpenMP on/off;  blas.hpp: gemm(), the one call into OpenBLAS
//   ops.hpp           + - * matmul sum mean reshape flatten concat narrow, each with its backward
//   activations.hpp   relu leaky_relu tanh sigmoid
//   im2col.hpp        im2col / col2im: a convolution as one GEMM
//   conv.hpp          conv2d, conv_transpose2d: im2col + GEMM, forward and backward
//   loss.hpp          bce, bce_with_logits, mse, cross_entropy
//   nn/               Module, Sequential, Linear, Conv2d, ConvTranspose2d, BatchNorm, Dropout, init,
//                     minibatch standard deviation, spectral normalisation
//   optim.hpp         SGD, Adam
//   gan/              train_step (the GAN game), the reference models, the weight average, a
//                     training run's files and --resume, the examples' shared plumbing,
//                     conditional GANs, AnoGAN / f-AnoGAN and their report, fault detection
//                     on sensor windows (alarm threshold, detection delay), the 2D toy GAN's
//                     losses (minimax, non-saturating, least squares, hinge, Wasserstein) and trainer
//   data/, io/        MNIST-style data sets and batches, a simulated tank under PI control with
//                     faults, 2D toy data (ring, grid, spiral, moons); PNG grids, GIFs, plots,
//                     the toy GAN's frames of the plane, safetensors, flags
//   eval/             the classifier, the Gaussian fit, FID and the quality numbers of generated
//                     images, PCA (the baseline of fault detection), modes covered on 2D data
// Beside the reference: fast/ (only for speed, each routine tested equal to the reference it
// replaces) and backend/opencl.hpp (-DMINIGAN_OPENCL: big products on an OpenCL device).
//
// A GAN step then reads (see examples/02_dcgan.cpp and gan/train_step.hpp):
//   Var fake = G(z);
//   Var d_loss = bce_with_logits(D(real), ones) + bce_with_logits(D(fake.detach()), zeros);
//   optD.zero_grad(); d_loss.backward(); optD.step();
//   Var g_loss = bce_with_logits(D(fake), ones);      // non-saturating generator loss
//   optG.zero_grad(); g_loss.backward(); optG.step();
#pragma once

#include "version.hpp"  // MINIGAN_VERSION_MAJOR/_MINOR/_PATCH/_STRING
#include "core.hpp"    // tensor.hpp through optim.hpp: the engine
#include "nn/minibatch_stddev.hpp"
#include "nn/spectral_norm.hpp"

#include "gan/train_step.hpp"
#include "gan/models.hpp"
#include "gan/ema.hpp"
#include "gan/training_run.hpp"
#include "gan/example_run.hpp"
#include "gan/conditional.hpp"
#include "gan/anogan.hpp"
#include "gan/code_score.hpp"
#include "gan/metrics.hpp"
#include "gan/anomaly_report.hpp"
#include "gan/fault_detection.hpp"
#include "gan/adversarial_losses.hpp"
#include "gan/toy_2d.hpp"

#include "data/idx.hpp"
#include "data/dataset.hpp"
#include "data/batches.hpp"
#include "data/plant.hpp"
#include "data/toy_2d.hpp"

#include "io/json.hpp"
#include "io/atomic_file.hpp"
#include "io/safetensors.hpp"
#include "io/canvas.hpp"
#include "io/image_grid.hpp"
#include "io/gif.hpp"
#include "io/plot.hpp"
#include "io/progress.hpp"
#include "io/cli.hpp"
#include "io/plane_frame.hpp"

#include "eval/classifier.hpp"
#include "eval/gaussian.hpp"
#include "eval/frechet.hpp"
#include "eval/quality.hpp"
#include "eval/pca.hpp"
#include "eval/mode_coverage.hpp"
