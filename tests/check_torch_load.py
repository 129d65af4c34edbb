#!/usr/bin/env python3
"""Load a minigan generator checkpoint into the same architecture written in PyTorch.

    /usr/bin/python3 tests/check_torch_load.py runs/dcgan      # Debian: apt-get install python3-torch

Reads runs/<name>/run.json for the model and its width, builds that generator with torch.nn
(the layers of include/minigan/gan/models.hpp, in the same order, so the state_dict names
match), reads generator.safetensors with struct + json (no `safetensors` package needed), calls
load_state_dict(strict=True) and writes 64 samples as an 8x8 grid to <run>/torch_samples.pgm
(a plain PGM: no image package needed). Not part of the test suite, because python3-torch is a large download; docs/checkpoints.md shows it in use.
"""
import json
import os
import struct
import sys

import torch
from torch import nn


def scaled(channels, width):
    return max(1, int(round(channels * width)))  # gan::scaled (std::lround)


def dcgan_generator(latent, width):
    c1, c2, c3 = scaled(256, width), scaled(128, width), scaled(64, width)

    class Reshape(nn.Module):
        def forward(self, x):
            return x.view(x.shape[0], c1, 7, 7)

    return nn.Sequential(
        nn.Linear(latent, c1 * 49, bias=False), nn.BatchNorm1d(c1 * 49), nn.LeakyReLU(0.2), Reshape(),
        nn.ConvTranspose2d(c1, c2, 5, 1, 2, bias=False), nn.BatchNorm2d(c2), nn.LeakyReLU(0.2),
        nn.ConvTranspose2d(c2, c3, 5, 2, 2, output_padding=1, bias=False), nn.BatchNorm2d(c3), nn.LeakyReLU(0.2),
        nn.ConvTranspose2d(c3, 1, 5, 2, 2, output_padding=1, bias=False), nn.Tanh())


def vanilla_generator(latent, width):
    h1, h2, h3 = scaled(256, width), scaled(512, width), scaled(1024, width)
    return nn.Sequential(nn.Linear(latent, h1), nn.LeakyReLU(0.2), nn.Linear(h1, h2), nn.LeakyReLU(0.2),
                         nn.Linear(h2, h3), nn.LeakyReLU(0.2), nn.Linear(h3, 784), nn.Tanh())


def read_safetensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    header.pop("__metadata__", None)
    data = blob[8 + n:]
    out = {}
    for name, info in header.items():
        assert info["dtype"] == "F32", (name, info["dtype"])
        begin, end = info["data_offsets"]
        values = struct.unpack(f"<{(end - begin) // 4}f", data[begin:end])
        out[name] = torch.tensor(values, dtype=torch.float32).reshape(info["shape"])
    return out


def main():
    run = sys.argv[1] if len(sys.argv) > 1 else "runs/dcgan"
    with open(os.path.join(run, "run.json")) as f:
        config = json.load(f)["config"]
    model = config.get("model", "dcgan")
    latent, width = int(config.get("latent", 100)), float(config.get("width", 1.0))
    G = dcgan_generator(latent, width) if model == "dcgan" else vanilla_generator(latent, width)
    state = read_safetensors(os.path.join(run, "generator.safetensors"))
    if "num_batches_tracked" in " ".join(state):  # PyTorch keeps this counter as int64
        state = {k: (v.long() if k.endswith("num_batches_tracked") else v) for k, v in state.items()}
    G.load_state_dict(state, strict=True)
    G.eval()
    with torch.no_grad():
        images = G(torch.randn(64, latent)).reshape(64, 28, 28)
    print(f"{run}/generator.safetensors: {len(state)} tensors loaded into torch ({model}, width {width}) "
          f"with strict=True; 64 samples in [{images.min():.3f}, {images.max():.3f}]")
    # An 8x8 grid as a binary PGM (any image viewer opens it).
    grid = torch.full((8 * 29 + 1, 8 * 29 + 1), -1.0)
    for i in range(64):
        r, c = divmod(i, 8)
        grid[1 + 29 * r:29 + 29 * r, 1 + 29 * c:29 + 29 * c] = images[i]
    pixels = ((grid + 1) * 127.5).clamp(0, 255).to(torch.uint8)
    path = os.path.join(run, "torch_samples.pgm")
    with open(path, "wb") as f:
        f.write(b"P5 %d %d 255\n" % (pixels.shape[1], pixels.shape[0]) + bytes(pixels.flatten().tolist()))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
