#!/usr/bin/python3
"""PyTorch twin of the demo row of examples/benchmark (`--model demo`).

The README's first command trains examples/02_dcgan with its defaults; this script times the same
models, initialisation, loss, optimizers, batch and step in PyTorch, and prints JSON lines with the
fields of ../shared/peers/torch_bench.py (so benchmarks/compare.sh reads both alike).

The demo recipe (02_dcgan's defaults; gan/models.hpp builds the models):
  G at width 0.25:  Linear(100, 64*7*7, bias=False) BN1d LReLU(.2) -> view(64, 7, 7)
                    ConvT(64, 32, 5, s1, p2, bias=False) BN2d LReLU(.2)
                    ConvT(32, 16, 5, s2, p2, op1, bias=False) BN2d LReLU(.2)
                    ConvT(16, 1, 5, s2, p2, op1, bias=False) Tanh
  D at width 0.75, judging pairs (PacGAN, pack 2): (N, 1, 28, 28) -> view(N/2, 2, 28, 28)
                    Conv(2, 48, 5, s2, p2) LReLU(.2) Dropout(0)
                    Conv(48, 96, 5, s2, p2) LReLU(.2) Dropout(0) Flatten Linear(96*7*7, 1)
  init: weights N(0, 0.02), BatchNorm gamma N(1, 0.02), biases and beta 0 (nn/init.hpp)
  Adam lr 5e-4 for both, betas (0.5, 0.999); BCEWithLogits; batch 32 (D: 16 pairs real, 16 fake)
  one step = torch_bench.py's step (D on a real and a fake batch, then G with the non-saturating
  loss), then the update of the weight average G is sampled from (02_dcgan's --ema 0.995):
    avg = d avg + (1 - d) w,  d = min(0.995, (1 + t) / (10 + t)) at update t   (gan/ema.hpp)
  --stack-d: D's real and fake batches in one pass (as minigan's fast path runs it).

FLOP model (as torch_bench.py): flops_per_step = 2 * 3 * (MAC_G + 3 * MAC_D), MACs of every
Linear / Conv / ConvT forward at this batch; g_forward = 2 * MAC_G.

Usage:
  /usr/bin/python3 benchmarks/torch_demo_bench.py [--batch 32] [--threads T] [--steps 20]
        [--warmup 3] [--forward-only-generator] [--stack-d] [--omp-wait-policy passive|active|env]
Threads are set for OpenMP, PyTorch intra-op and OpenBLAS before torch is imported (OpenBLAS reads
them only at load time); OMP_WAIT_POLICY=PASSIVE by default, as torch_bench.py (its docstring says
why: spinning OpenMP workers starve pthread OpenBLAS on 2 cores).
"""
import argparse
import json
import os
import sys


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--threads", type=int, default=None, help="default: all usable cores (sched_getaffinity)")
    p.add_argument("--steps", type=int, default=20, help="timed steps")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps")
    p.add_argument("--forward-only-generator", action="store_true",
                   help="also time G forward (eval mode, no_grad) at --batch")
    p.add_argument("--stack-d", action="store_true", help="D on [real; fake] in one pass")
    p.add_argument("--omp-wait-policy", choices=["passive", "active", "env"], default="passive")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    if args.batch < 2 or args.batch % PACK:
        p.error(f"--batch must be an even number >= 2 (D judges pairs), got {args.batch}")
    return args


PACK = 2
ARGS = parse_args()
if ARGS.threads is None:
    ARGS.threads = len(os.sched_getaffinity(0))
os.environ["OMP_NUM_THREADS"] = str(ARGS.threads)
if ARGS.omp_wait_policy != "env":
    os.environ["OMP_WAIT_POLICY"] = ARGS.omp_wait_policy.upper()
for var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(ARGS.threads)

import statistics  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

LATENT = 100
G_WIDTH, D_WIDTH = 0.25, 0.75
LR, BETAS, EMA = 5e-4, (0.5, 0.999), 0.995


def scaled(channels, width):
    return max(1, round(channels * width))  # gan::scaled


class View(nn.Module):
    def __init__(self, *shape):
        super().__init__()
        self.shape = shape

    def forward(self, x):
        return x.view(x.size(0), *self.shape)


class Pack(nn.Module):
    """(N, C, H, W) -> (N/k, k*C, H, W): images k*i .. k*i+k-1 become one input (gan::Pack)."""

    def __init__(self, k):
        super().__init__()
        self.k = k

    def forward(self, x):
        n, c, h, w = x.shape
        return x.reshape(n // self.k, self.k * c, h, w)


def dcgan_init(model):
    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
    return model


def make_demo():
    c1, c2, c3 = scaled(256, G_WIDTH), scaled(128, G_WIDTH), scaled(64, G_WIDTH)
    G = nn.Sequential(
        nn.Linear(LATENT, c1 * 7 * 7, bias=False), nn.BatchNorm1d(c1 * 7 * 7), nn.LeakyReLU(0.2),
        View(c1, 7, 7),
        nn.ConvTranspose2d(c1, c2, 5, stride=1, padding=2, bias=False), nn.BatchNorm2d(c2), nn.LeakyReLU(0.2),
        nn.ConvTranspose2d(c2, c3, 5, stride=2, padding=2, output_padding=1, bias=False),
        nn.BatchNorm2d(c3), nn.LeakyReLU(0.2),
        nn.ConvTranspose2d(c3, 1, 5, stride=2, padding=2, output_padding=1, bias=False), nn.Tanh(),
    )
    d1, d2 = scaled(64, D_WIDTH), scaled(128, D_WIDTH)
    D = nn.Sequential(
        Pack(PACK),
        nn.Conv2d(PACK, d1, 5, stride=2, padding=2), nn.LeakyReLU(0.2), nn.Dropout(0.0),
        nn.Conv2d(d1, d2, 5, stride=2, padding=2), nn.LeakyReLU(0.2), nn.Dropout(0.0),
        nn.Flatten(), nn.Linear(d2 * 7 * 7, 1),
    )
    return dcgan_init(G), dcgan_init(D)


def flop_model(batch):
    """2 * 3 * (MAC_G + 3 * MAC_D) and 2 * MAC_G, as torch_bench.py counts them."""
    c1, c2, c3 = scaled(256, G_WIDTH), scaled(128, G_WIDTH), scaled(64, G_WIDTH)
    d1, d2 = scaled(64, D_WIDTH), scaled(128, D_WIDTH)
    mac_g = batch * (LATENT * c1 * 49 + 49 * c1 * c2 * 25 + 49 * c2 * c3 * 25 + 196 * c3 * 25)
    mac_d = batch // PACK * (196 * d1 * PACK * 25 + 49 * d2 * d1 * 25 + d2 * 49)
    print(f"# demo at batch {batch}: MAC_G={mac_g:,d} MAC_D={mac_d:,d}", file=sys.stderr)
    return 6 * (mac_g + 3 * mac_d), 2 * mac_g


def bench_train(batch, steps, warmup, gen):
    G, D = make_demo()
    G.train()
    D.train()
    optG = torch.optim.Adam(G.parameters(), lr=LR, betas=BETAS)
    optD = torch.optim.Adam(D.parameters(), lr=LR, betas=BETAS)
    average = [p.detach().clone() for p in G.parameters()]
    bce = nn.BCEWithLogitsLoss()
    ones = torch.ones(batch // PACK, 1)
    zeros = torch.zeros(batch // PACK, 1)
    pool = [torch.rand(batch, 1, 28, 28, generator=gen) * 2 - 1 for _ in range(4)]
    times = []
    for it in range(warmup + steps):
        real = pool[it % len(pool)]
        t0 = time.perf_counter()
        z = torch.randn(batch, LATENT, generator=gen)
        fake = G(z)
        optD.zero_grad(set_to_none=True)
        if ARGS.stack_d:
            logits = D(torch.cat([real, fake.detach()]))
            d_loss = bce(logits[:batch // PACK], ones) + bce(logits[batch // PACK:], zeros)
        else:
            d_loss = bce(D(real), ones) + bce(D(fake.detach()), zeros)
        d_loss.backward()
        optD.step()
        optG.zero_grad(set_to_none=True)
        g_loss = bce(D(fake), ones)
        g_loss.backward()
        optG.step()
        with torch.no_grad():
            d = min(EMA, (2 + it) / (11 + it))  # update t = it + 1
            for avg, p in zip(average, G.parameters()):
                avg.mul_(d).add_(p, alpha=1 - d)
        _ = float(g_loss.detach()) + float(d_loss.detach())
        t1 = time.perf_counter()
        if it >= warmup:
            times.append(t1 - t0)
    return times


def bench_gforward(batch, steps, warmup, gen):
    G, _ = make_demo()
    G.eval()
    times = []
    with torch.no_grad():
        for it in range(warmup + steps):
            z = torch.randn(batch, LATENT, generator=gen)
            t0 = time.perf_counter()
            out = G(z)
            _ = float(out[0, 0, 0, 0])
            t1 = time.perf_counter()
            if it >= warmup:
                times.append(t1 - t0)
    return times


def report(mode, batch, times, flops):
    med = statistics.median(times)
    print(json.dumps({
        "model": "demo",
        "mode": mode,
        "batch": batch,
        "threads": torch.get_num_threads(),
        "images_per_s": round(batch / med, 2),
        "step_ms_median": round(med * 1e3, 3),
        "step_ms_min": round(min(times) * 1e3, 3),
        "step_ms_mean": round(statistics.mean(times) * 1e3, 3),
        "steps": len(times),
        "warmup": ARGS.warmup,
        "flops_per_step": flops,
        "gflops_per_s": round(flops / med / 1e9, 2),
        "blas_threads": ARGS.threads,
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "(unset)"),
        "mkldnn": torch.backends.mkldnn.is_available(),
        "torch": torch.__version__,
        "stack_d": ARGS.stack_d,
    }), flush=True)


def main():
    torch.set_num_threads(ARGS.threads)
    torch.manual_seed(ARGS.seed)
    gen = torch.Generator().manual_seed(ARGS.seed)
    print(f"# torch {torch.__version__}, threads={torch.get_num_threads()}, "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}", file=sys.stderr)
    step_flops, gfwd_flops = flop_model(ARGS.batch)
    report("train_step", ARGS.batch, bench_train(ARGS.batch, ARGS.steps, ARGS.warmup, gen), step_flops)
    if ARGS.forward_only_generator:
        report("g_forward", ARGS.batch, bench_gforward(ARGS.batch, ARGS.steps, ARGS.warmup, gen), gfwd_flops)


if __name__ == "__main__":
    main()
