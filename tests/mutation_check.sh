#!/usr/bin/env bash
# tests/mutation_check.sh - do the tests notice a broken backward formula? (a maintainer's tool,
# not run in CI; about 8 minutes on 2 cores)
#
#   bash tests/mutation_check.sh            every mutation below
#   bash tests/mutation_check.sh bce        only mutations whose name contains "bce"
#   ALL=1 bash tests/mutation_check.sh      run every test file per mutation, not just the named one
#
# Each mutation breaks one formula in a scratch copy of include/ (a sed expression: a flipped
# sign, a dropped term or factor, a wrong index), checks that the sed changed something, builds
# the named test file(s) against the copy, runs them, and expects a failure. A mutation that
# survives means a wrong gradient would pass our tests: strengthen the tests.
# The mutants of include/minigan/ (the reference, what students read) are built with
# -DMINIGAN_REFERENCE, so the code mutated is the code that runs; the mutants of fast/ (names
# starting with "fast") are built on the fast path and caught by test_fast, which holds each
# fast routine to its reference; the OpenCL ones are built on the fast path with the backend.
# Add a line per new backward formula:  mutate NAME HEADER "TEST FILES" 'SED EXPRESSION'
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/minigan-mutation.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
CXX=${CXX:-g++}
CXXFLAGS="-std=c++17 -O1 -fopenmp -w"
ALL_TESTS="test_tensor test_autograd test_ops test_activations test_blas test_conv test_loss test_optim test_nn"
FAST_TESTS="test_fast"
FILTER=${1:-}
results=()
survivors=0
invalid=0

# build_and_run INCLUDE_DIR TESTS...: prints the names of the failing test cases; returns the
# number of test files that failed (2 for a build error, so it is never mistaken for a catch).
build_and_run() {
  local inc=$1 t failed=0 out; shift
  for t in "$@"; do
    # test_opencl, and any test of an "opencl..." mutation (mutate's $name): the OpenCL build,
    # run with every product on the device (MINIGAN_OPENCL_MIN_FLOPS=0 below).
    local extra=(-DMINIGAN_REFERENCE)
    [[ $t == test_fast || ${name:-} == fast* ]] && extra=()
    [[ $t == test_opencl || ${name:-} == opencl* ]] && extra=(-DMINIGAN_OPENCL -lOpenCL)
    if ! "$CXX" $CXXFLAGS -I"$inc" "$ROOT/tests/$t.cpp" -lopenblas "${extra[@]}" -o "$WORK/$t" 2>"$WORK/$t.build.log"; then
      echo "BUILD FAILED: $t (see below)" >&2; head -5 "$WORK/$t.build.log" >&2; return 200
    fi
    if ! out=$(MINIGAN_OPENCL_MIN_FLOPS=0 "$WORK/$t" 2>&1); then
      failed=$((failed + 1))
      grep "^TEST CASE:" <<<"$out" | sed "s/^TEST CASE: */$t: /" | sort -u
    fi
  done
  return $failed
}

mutate() {  # mutate NAME HEADER "TESTS" SED
  local name=$1 header=$2 tests=$3 expr=$4 caught rc
  [[ -n $FILTER && $name != *$FILTER* ]] && return
  [[ -n ${ALL:-} ]] && tests=$ALL_TESTS
  rm -rf "$WORK/include" && cp -r "$ROOT/include" "$WORK/include"
  sed -i -e "$expr" "$WORK/include/minigan/$header"
  if cmp -s "$ROOT/include/minigan/$header" "$WORK/include/minigan/$header"; then
    results+=("$(printf '%-30s %s' "$name" "INVALID: the sed expression matched nothing in $header")")
    invalid=$((invalid + 1)); return
  fi
  caught=$(build_and_run "$WORK/include" $tests); rc=$?
  if ((rc == 200)); then
    results+=("$(printf '%-30s %s' "$name" "INVALID: the mutant does not compile")"); invalid=$((invalid + 1))
  elif ((rc == 0)); then
    results+=("$(printf '%-30s %s' "$name" "SURVIVED (no test failed)")"); survivors=$((survivors + 1))
  else
    results+=("$(printf '%-30s caught by %s' "$name" "$(paste -sd '|' <<<"$caught" | sed 's/|/ | /g')")")
  fi
  echo "${results[-1]}"
}

echo "baseline: the unmodified headers must pass every test"
if ! build_and_run "$ROOT/include" $ALL_TESTS $FAST_TESTS >/dev/null; then
  echo "the tests fail without any mutation: fix that first"; exit 1
fi

# ---- ops.hpp --------------------------------------------------------------------------------
mutate "add (sign)"            ops.hpp test_ops '/^inline Var add(/,/^}/s/(\*dx)\[i\] += out\.grad\[i\]/(*dx)[i] -= out.grad[i]/'
mutate "sub da (sign)"         ops.hpp test_ops '/^inline Var sub(/,/^}/s/(\*da)\[i\] += out\.grad\[i\]/(*da)[i] -= out.grad[i]/'
mutate "sub db (sign)"         ops.hpp test_ops '/^inline Var sub(/,/^}/s/(\*db)\[i\] -= out\.grad\[i\]/(*db)[i] += out.grad[i]/'
mutate "mul da (a for b)"      ops.hpp test_ops 's/(\*da)\[i\] += out\.grad\[i\] \* b\[i\]/(*da)[i] += out.grad[i] * a[i]/'
mutate "mul db (b for a)"      ops.hpp test_ops 's/(\*db)\[i\] += out\.grad\[i\] \* a\[i\]/(*db)[i] += out.grad[i] * b[i]/'
mutate "affine (drop scale)"   ops.hpp test_ops 's/(\*dx)\[i\] += scale \* out\.grad\[i\]/(*dx)[i] += out.grad[i]/'
mutate "abs (sign)"            ops.hpp test_ops 's/((x\[i\] > 0\.0f) - (x\[i\] < 0\.0f))/((x[i] < 0.0f) - (x[i] > 0.0f))/'
mutate "square (drop 2)"       ops.hpp test_ops 's/+= 2\.0f \* x\[i\] \* out\.grad\[i\]/+= x[i] * out.grad[i]/'
mutate "matmul da (sign)"      ops.hpp test_ops 's/gemm(false, true, M, K, N, 1\.0f/gemm(false, true, M, K, N, -1.0f/'
mutate "matmul db (sign)"      ops.hpp test_ops 's/gemm(true, false, K, N, M, 1\.0f/gemm(true, false, K, N, M, -1.0f/'
mutate "sum (sign)"            ops.hpp test_ops 's/g += out\.grad\[0\];/g -= out.grad[0];/'
mutate "sum(dim) (index)"      ops.hpp test_ops 's/+= out\.grad\[o \* inner + i\];/+= out.grad[o * inner];/'
mutate "reshape (sign)"        ops.hpp test_ops '/^inline Var reshape(/,/^}/s/(\*dx)\[i\] += out\.grad\[i\]/(*dx)[i] -= out.grad[i]/'
mutate "concat db (a's part)"   ops.hpp test_ops 's/(\*db)\[o \* b_row + k\] += out\.grad\[o \* row + a_row + k\]/(*db)[o * b_row + k] += out.grad[o * row + k]/'
mutate "narrow dx (no offset)" ops.hpp test_ops 's/(\*dx)\[o \* x_row + skip + k\] += out\.grad/(*dx)[o * x_row + k] += out.grad/'

# ---- activations.hpp ------------------------------------------------------------------------
mutate "leaky_relu (slope 0)"  activations.hpp test_activations 's/(x\[i\] > 0\.0f ? 1\.0f : negative_slope)/(x[i] > 0.0f ? 1.0f : 0.0f)/'
mutate "tanh (1 - y)"          activations.hpp test_activations 's/(1\.0f - y\[i\] \* y\[i\])/(1.0f - y[i])/'
mutate "sigmoid (drop y)"      activations.hpp test_activations 's/out\.grad\[i\] \* y\[i\] \* (1\.0f - y\[i\])/out.grad[i] * (1.0f - y[i])/'

# ---- nn/linear.hpp --------------------------------------------------------------------------
mutate "linear dx (sign)"      nn/linear.hpp test_nn 's/gemm(false, false, N, in, out_f, 1\.0f/gemm(false, false, N, in, out_f, -1.0f/'
mutate "linear dW (half)"      nn/linear.hpp test_nn 's/gemm(true, false, out_f, in, N, 1\.0f/gemm(true, false, out_f, in, N, 0.5f/'
mutate "linear db (row 0)"     nn/linear.hpp test_nn 's/(\*db)\[j\] += out\.grad\[n \* out_f + j\]/(*db)[j] += out.grad[j]/'

# ---- conv.hpp -------------------------------------------------------------------------------
mutate "im2col products, dW (sign)" conv.hpp "test_conv test_nn" 's/if (trans_col) gemm(false, true, M, R, NP, 1\.0f/if (trans_col) gemm(false, true, M, R, NP, -1.0f/'
mutate "im2col products, y / dx (sign)" conv.hpp "test_conv test_nn" 's/else gemm(false, false, M, NP, R, 1\.0f/else gemm(false, false, M, NP, R, -1.0f/'
mutate "col2im product (sign)"  conv.hpp "test_conv test_nn" 's/gemm(true, false, R, NP, K, 1\.0f/gemm(true, false, R, NP, K, -1.0f/'
mutate "conv2d dW (skipped)"    conv.hpp "test_conv test_nn" 's/gemm_im2col(true, O, dy_cm\.get(), x\.ptr(), N, g, 1\.0f, dw->ptr());/;/'
mutate "conv bias grad (sign)" im2col.hpp "test_conv test_nn" 's/db\[o\] += static_cast<float>(acc)/db[o] -= static_cast<float>(acc)/'
mutate "conv bias (dropped)"   im2col.hpp "test_conv test_nn" 's/row\[q\] += bias;/;/'
mutate "conv2d dx (skipped)"    conv.hpp "test_conv test_nn" 's/col2im_gemm(O, w\.ptr(), dy_cm\.get(), N, g, dx->ptr());/;/'
mutate "conv2d dx (col2im off by one)" im2col.hpp "test_conv test_nn" 's/dst\[w0 + (j - j0) \* s\] += src\[j\]/dst[w0 + (j - j0) * s] += src[j0]/'
mutate "convT dW (skipped)"     conv.hpp "test_conv test_nn" 's/gemm_im2col(true, C, x_cm\.get(), out\.grad\.ptr(), N, g, 1\.0f, dw->ptr());/;/'
mutate "convT dx (garbage added)" conv.hpp "test_conv test_nn" 's/gemm_im2col(false, C, w\.ptr(), out\.grad\.ptr(), N, g, 0\.0f, dx_cm\.get());/std::fill_n(dx_cm.get(), C * NP, 1.0f); gemm_im2col(false, C, w.ptr(), out.grad.ptr(), N, g, 1.0f, dx_cm.get());/'
mutate "fast: tap path dW (sign)"    fast/conv_taps.hpp test_fast 's/gemm(false, true, m1 - m0, K, static_cast<int>(length), 1\.0f,/gemm(false, true, m1 - m0, K, static_cast<int>(length), -1.0f,/'
mutate "fast: tap path dx (taps not transposed)" fast/conv_taps.hpp test_fast 's/tap_gemms(taps, true, C, O, k \* k, N,/tap_gemms(taps, false, C, O, k * k, N,/'
mutate "fast: tap path dx (phases overwrite)" fast/conv_taps.hpp test_fast 's/to\[n \* image\] += from\[n\];/to[n * image] = from[n];/'

# ---- nn/batchnorm.hpp -----------------------------------------------------------------------
mutate "batch_norm dx train (drop xhat term)" nn/batchnorm.hpp test_nn 's/k \* (dy\[i\] - mean_dy - xhat \* mean_dy_xhat)/k * (dy[i] - mean_dy)/'
mutate "batch_norm dx train (drop mean)"      nn/batchnorm.hpp test_nn 's/k \* (dy\[i\] - mean_dy - xhat \* mean_dy_xhat)/k * (dy[i] - xhat * mean_dy_xhat)/'
mutate "batch_norm dx eval (drop rstd)"       nn/batchnorm.hpp test_nn 's/ : k \* dy\[i\];/ : g[c] * dy[i];/'
mutate "batch_norm dgamma (sum dy)"           nn/batchnorm.hpp test_nn 's/(\*dgamma)\[c\] += static_cast<float>(sum_dy_xhat)/(*dgamma)[c] += static_cast<float>(sum_dy)/'
mutate "batch_norm dbeta (sign)"              nn/batchnorm.hpp test_nn 's/(\*dbeta)\[c\] += static_cast<float>(sum_dy)/(*dbeta)[c] -= static_cast<float>(sum_dy)/'

# ---- nn/layers.hpp --------------------------------------------------------------------------
mutate "dropout (drop mask)"   nn/layers.hpp test_nn 's/(\*dx)\[i\] += out\.grad\[i\] \* scale(i)/(*dx)[i] += out.grad[i] + 0 * scale(i)/'
mutate "fast: dropout backward (mask dropped)" fast/dropout.hpp test_fast 's/pdx\[i\] += dy\[i\] \* (bits\.bits/pdx[i] += dy[i] + 0 * (bits.bits/'
mutate "fast: batch_norm dx train (drop xhat term)" fast/batchnorm.hpp test_fast 's/k \* (dy\[i\] - mean_dy - xhat \* mean_dy_xhat)/k * (dy[i] - mean_dy)/'
mutate "fast: batch_norm variance (mean of another channel)" fast/batchnorm.hpp test_fast 's/(px\[i\] - pmu\[c - c0\]) \* (px\[i\] - pmu\[c - c0\])/(px[i] - pmu[0]) * (px[i] - pmu[0])/'
mutate "fast: leaky_relu backward (slope 0)" fast/activations.hpp test_fast 's/(px\[i\] > 0\.0f ? 1\.0f : negative_slope)/(px[i] > 0.0f ? 1.0f : 0.0f)/'
mutate "fast: tanh (polynomial term dropped)" fast/activations.hpp test_fast 's/1\.33314422036e-1f) \* z/1.33314422036e-1f) * 0/'
mutate "fast: Adam v (g not squared)" fast/adam.hpp test_fast 's/_mm_mul_ps(_mm_mul_ps(one_b2, gi), gi)/_mm_mul_ps(one_b2, gi)/'
mutate "fast: stacked D (fake rows start at 0)" fast/stacked_d.hpp test_fast 's/narrow(logits, 0, static_cast<int>(rows_real), /narrow(logits, 0, 0, /'
mutate "train_step: fakes labelled real" gan/train_step.hpp test_nn 's/bce_with_logits(logits_fake, constant_like(logits_fake, 0\.0f))/bce_with_logits(logits_fake, constant_like(logits_fake, 1.0f))/'

# ---- loss.hpp -------------------------------------------------------------------------------
mutate "bce dp (drop denominator)" loss.hpp test_loss 's/(\*dp)\[i\] += g \* (p\[i\] - t\[i\]) \/ denom/(*dp)[i] += g * (p[i] - t[i])/'
mutate "bce dt (sign)"         loss.hpp test_loss 's/g \* (std::max(std::log(1\.0f - p\[i\]), -100\.0f) - std::max(std::log(p\[i\]), -100\.0f))/g * (std::max(std::log(p[i]), -100.0f) - std::max(std::log(1.0f - p[i]), -100.0f))/'
mutate "bce_with_logits dx (+t)" loss.hpp test_loss 's/g \* (stable_sigmoid(x\[i\]) - t\[i\])/g * (stable_sigmoid(x[i]) + t[i])/'
mutate "bce_with_logits dt (sign)" loss.hpp test_loss 's/(\*dt)\[i\] += -g \* x\[i\]/(*dt)[i] += g * x[i]/'
mutate "mse dx (drop t)"       loss.hpp test_loss '/^inline Var mse(/,/^}/s/(\*dx)\[i\] += g \* (x\[i\] - t\[i\])/(*dx)[i] += g * x[i]/'
mutate "mse dt (sign)"         loss.hpp test_loss '/^inline Var mse(/,/^}/s/(\*dt)\[i\] -= g \* (x\[i\] - t\[i\])/(*dt)[i] += g * (x[i] - t[i])/'
mutate "cross_entropy dx (drop label)" loss.hpp test_loss 's/g \* (prob\[i\] - (k == labels\[n\] ? 1\.0f : 0\.0f))/g * prob[i]/'

# ---- gan/ -----------------------------------------------------------------------------------
mutate "acgan_loss (drop class term)"  gan/conditional.hpp test_conditional 's/ + cross_entropy(class_scores, labels);/;/'
mutate "Pack (H and W swapped)" gan/models.hpp test_nn 's/reshape(x, {s\[0\] \/ k, s\[1\] \* k, s\[2\], s\[3\]})/reshape(x, {s[0] \/ k, s[1] * k, s[3], s[2]})/'

# ---- backend/opencl.hpp (needs the OpenCL headers and a device: bash .ci/install-deps --opencl) --
if [[ -f /usr/include/CL/cl.h ]]; then
mutate "opencl kernel (a transpose ignored)" backend/opencl.hpp test_opencl 's/(trans_a ? A\[ka \* lda + row\] : A\[row \* lda + ka\])/A[row * lda + ka]/'
mutate "opencl kernel (beta dropped)"  backend/opencl.hpp test_opencl 's/(beta == 0\.0f ? 0\.0f : beta \* C\[row \* ldc + col\])/0.0f/'
mutate "opencl C gaps not uploaded"    backend/opencl.hpp test_opencl 's/(beta != 0\.0f || ldc != N) ? upload/(beta != 0.0f) ? upload/'
mutate "opencl im2col (padding ignored)" backend/opencl.hpp test_conv 's/const int h = i \* s - p + u, w = j \* s - p + v;/const int h = i * s + u, w = j * s + v;/'
mutate "opencl col2im (stride test dropped)" backend/opencl.hpp test_conv 's/if (tj < 0 || tj % s != 0 || tj \/ s >= Wo) continue;/if (tj < 0 || tj \/ s >= Wo) continue;/'
else
  echo "no CL/cl.h: the OpenCL mutations are skipped (bash .ci/install-deps --opencl)"
fi

# ---- not backward formulas, but numbers the tests also pin down ------------------------------
mutate "engine: reset leaf grads"  autograd.hpp test_autograd 's/if (!n->is_leaf) n->grad = zeros/n->grad = zeros/'
mutate "BN running_var biased"     nn/batchnorm.hpp test_nn 's/static_cast<float>(var \* n \/ (n - 1))/static_cast<float>(var)/'
mutate "Adam no bias correction 1" optim.hpp test_optim 's/static_cast<float>(lr \/ bc1)/lr/'
mutate "Adam v (g not squared)"    optim.hpp test_optim 's/(1\.0f - beta2) \* g\[i\] \* g\[i\]/(1.0f - beta2) * g[i]/'
mutate "SGD momentum ignored"      optim.hpp test_optim 's/p\[i\] -= lr \* (momentum != 0\.0f ? buf\[i\] : g\[i\])/p[i] -= lr * g[i]/'

echo
echo "==== results: ${#results[@]} mutations, $survivors survived, $invalid invalid"
printf '%s\n' "${results[@]}"
((survivors == 0 && invalid == 0))
