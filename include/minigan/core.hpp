// core.hpp - the engine alone: tensors, autograd, the ops, convolutions, losses, layers, optimizers.
//
// minigan.hpp includes this and then the rest (gan/, data/, io/, eval/); a program that needs
// only the engine (the unit tests, a first experiment) can include this instead and compile
// faster. The order is the reading order of minigan.hpp's tour.
#pragma once

#include "tensor.hpp"
#include "dispatch.hpp"
#include "autograd.hpp"
#include "parallel.hpp"
#include "blas.hpp"
#include "ops.hpp"
#include "activations.hpp"
#include "im2col.hpp"
#include "conv.hpp"
#include "loss.hpp"
#include "nn/module.hpp"
#include "nn/linear.hpp"
#include "nn/conv_layers.hpp"
#include "nn/batchnorm.hpp"
#include "nn/layers.hpp"
#include "nn/init.hpp"
#include "optim.hpp"
