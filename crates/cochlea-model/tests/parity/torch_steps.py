#!/usr/bin/env python3
"""PyTorch side of the training-parity test (crates/cochlea-model/tests/parity.rs).

    python torch_steps.py DIR

DIR/spec.json, written by the Rust test, holds the input shape, a data
seed, named networks (cochlea_model::NetConfig as JSON) and cases, each a
network's name, a cochlea_model::TrainConfig as JSON and, for cases with
dropout, the seeds to draw dropout masks from. This script writes into DIR:

  x.npy, y.npy          the training set: float32 [n, n_features, n_frames]
                        and int64 [n], classes with a learnable pattern
  init-NET.safetensors  the initial weights of network NET as torch.nn
                        initialises them (torch.manual_seed(init_seed)),
                        batch-norm running statistics included, under the
                        variable names of a Cochlea model bundle
  torch-NAME.safetensors         the weights after training case NAME
  torch64-NAME.safetensors       the same steps computed in float64 (cases
                                 without dropout), stored as float32
  torch-NAME-SEED.safetensors    the same for each dropout seed

Training is plain torch.nn + torch.optim: the network written with
nn.Conv1d, nn.BatchNorm1d, activations, nn.MaxPool1d / nn.AvgPool1d,
nn.Dropout and nn.Linear (kind "conv2d": nn.Conv2d, nn.BatchNorm2d,
nn.MaxPool2d / nn.AvgPool2d on [batch, 1, features, frames], then the mean
over the frequency axis); heads "stats" (mean and standard deviation over
time), "attention" and "attentive_stats" (softmax over time of
v . tanh(W h + b), weighted mean and standard deviation); the optimiser from torch.optim with its default
implementation; cross-entropy with the case's label smoothing; the batches
in the given order (the case has shuffle = false), cut as Cochlea cuts them
(full batches, then the remainder, a remainder of one joined to the batch
before). Only what the test uses is supported; anything else is an error.
"""

import json
import os
import struct
import sys

import numpy as np
import torch
from torch import nn


def write_safetensors(path: str, tensors: dict) -> None:
    """A safetensors file of float32 tensors (the format: an 8-byte
    little-endian header length, a JSON header of names, dtypes, shapes and
    byte offsets, then the raw data)."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name].detach().cpu().numpy(), dtype="<f4")
        b = a.tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def need(cond: bool, what: str) -> None:
    if not cond:
        sys.exit(f"torch_steps.py: unsupported in this script: {what}")


ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU, "leaky_relu": nn.LeakyReLU, "elu": nn.ELU}


class ConvNorm(nn.Module):
    """Conv1d or Conv2d (explicit zero padding, so "same" works with any
    kernel) and an optional batch norm; names conv.* and bn.* as in Cochlea."""

    def __init__(self, b: dict, c_in: int, init: str, two_d: bool) -> None:
        super().__init__()
        k, d = b["kernel"], b["dilation"]
        total = d * (k - 1) if b["padding"] == "same" else 0
        self.pad = (total // 2, total - total // 2) * (2 if two_d else 1)
        conv = nn.Conv2d if two_d else nn.Conv1d
        self.conv = conv(c_in, b["filters"], k, stride=b["stride"], dilation=d, bias=not b["batch_norm"])
        if init == "he":
            nn.init.kaiming_uniform_(self.conv.weight, nonlinearity="relu")
        else:
            need(init == "pytorch", f"init {init}")
        norm = nn.BatchNorm2d if two_d else nn.BatchNorm1d
        self.bn = norm(b["filters"]) if b["batch_norm"] else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(nn.functional.pad(x, self.pad))
        return self.bn(y) if self.bn is not None else y


class Block(nn.Module):
    """conv -> batch norm -> activation -> pooling -> dropout."""

    def __init__(self, b: dict, c_in: int, init: str, two_d: bool) -> None:
        super().__init__()
        need(not b["residual"], "residual blocks")
        self.first = ConvNorm(b, c_in, init, two_d)
        self.act = ACTIVATIONS[b["activation"]]()
        if b["pool"] > 1:
            if two_d:
                pool = nn.MaxPool2d if b["pool_kind"] == "max" else nn.AvgPool2d
            else:
                pool = nn.MaxPool1d if b["pool_kind"] == "max" else nn.AvgPool1d
            self.pool = pool(b["pool"])
        else:
            self.pool = nn.Identity()
        self.dropout = nn.Dropout(b["dropout"])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.pool(self.act(self.first(x))))


STATS_VAR_FLOOR = 1e-8  # net.rs: variance floor before the square root


def weighted_stats(z: torch.Tensor, w) -> torch.Tensor:
    """Mean and standard deviation over time of z [batch, channels, frames]
    under weights w [batch, 1, frames] (None: uniform)."""
    def avg(t):
        return t.mean(dim=2, keepdim=True) if w is None else (t * w).sum(dim=2, keepdim=True)
    mean = avg(z)
    std = avg((z - mean) ** 2).clamp_min(STATS_VAR_FLOOR).sqrt()
    return torch.cat([mean.squeeze(2), std.squeeze(2)], dim=1)


class Attention(nn.Module):
    """The frame scorer: score_t = v . tanh(W h_t + b); names head.proj.*
    and head.score as in Cochlea."""

    def __init__(self, channels: int, dim: int) -> None:
        super().__init__()
        self.proj = nn.Linear(channels, dim)
        bound = 1.0 / dim ** 0.5
        self.score = nn.Parameter(torch.empty(1, dim).uniform_(-bound, bound))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = torch.tanh(self.proj(z.transpose(1, 2)))
        return torch.softmax((h @ self.score.t()).transpose(1, 2), dim=2)


class Net(nn.Module):
    def __init__(self, net: dict, n_features: int, n_frames: int, n_classes: int) -> None:
        super().__init__()
        self.kind = net.get("kind", "cnn1d")
        need(self.kind in ("cnn1d", "conv2d"), f"kind {self.kind}")
        two_d = self.kind == "conv2d"
        blocks, c, t = [], (1 if two_d else n_features), n_frames
        for b in net["blocks"]:
            blocks.append(Block(b, c, net["init"], two_d))
            c = b["filters"]
            if b["padding"] == "same":
                t = -(-t // b["stride"])
            else:
                t = (t - b["dilation"] * (b["kernel"] - 1) - 1) // b["stride"] + 1
            t //= b["pool"]
        self.blocks = nn.ModuleList(blocks)
        self.head_kind = net["head"]
        if self.head_kind in ("attention", "attentive_stats"):
            self.head = Attention(c, net["attention_dim"])
        width = c * t if self.head_kind == "flatten" else c
        if self.head_kind in ("stats", "attentive_stats"):
            width = 2 * c
        hidden = []
        for h in net["hidden"]:
            hidden.append(nn.Linear(width, h))
            width = h
        self.hidden = nn.ModuleList(hidden)
        self.dropout = nn.Dropout(net["dropout"])
        self.output = nn.Linear(width, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.kind == "conv2d":
            x = x.unsqueeze(1)
        for b in self.blocks:
            x = b(x)
        if self.kind == "conv2d":
            x = x.mean(dim=2)
        if self.head_kind == "global_avg":
            x = x.mean(dim=2)
        elif self.head_kind == "global_max":
            x = x.amax(dim=2)
        elif self.head_kind == "flatten":
            x = x.flatten(1)
        elif self.head_kind == "stats":
            x = weighted_stats(x, None)
        elif self.head_kind == "attention":
            x = (x * self.head(x)).sum(dim=2)
        else:
            need(self.head_kind == "attentive_stats", f"head {self.head_kind}")
            x = weighted_stats(x, self.head(x))
        for h in self.hidden:
            x = self.dropout(torch.relu(h(x)))
        if len(self.hidden) == 0:
            x = self.dropout(x)
        return self.output(x)

    def cochlea_state(self) -> dict:
        """Every variable under Cochlea's name: blocks.I.first.conv.weight
        becomes blocks.I.conv.weight; num_batches_tracked is left out."""
        out = {}
        for name, t in self.state_dict().items():
            if name.endswith("num_batches_tracked"):
                continue
            out[name.replace(".first.", ".")] = t
        return out

    def load_cochlea_state(self, state: dict) -> None:
        own = self.state_dict()
        for name in own:
            if name.endswith("num_batches_tracked"):
                own[name].zero_()
            else:
                own[name].copy_(state[name.replace(".first.", ".")])


def batch_bounds(n: int, batch_size: int) -> list:
    """Cochlea's batches: full ones, then the remainder; a remainder of one
    joins the batch before (batch norm cannot normalise one example)."""
    bs = max(min(batch_size, n), 1)
    bounds = [(s, min(s + bs, n)) for s in range(0, n, bs)]
    if len(bounds) > 1 and n % bs == 1:
        bounds.pop()
        bounds[-1] = (bounds[-1][0], n)
    return bounds


def optimizer(params, cfg: dict):
    kind, lr, wd = cfg["optimizer"], cfg["lr"], cfg["weight_decay"]
    if kind == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=wd)
    if kind == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=wd)
    if kind == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=cfg["momentum"], nesterov=cfg["nesterov"], weight_decay=wd)
    if kind == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, weight_decay=wd)
    need(False, f"optimizer {kind}")


def train(model: Net, cfg: dict, x: torch.Tensor, y: torch.Tensor) -> None:
    need(not cfg["shuffle"], "shuffle = true (the test needs the given order)")
    need(cfg["scheduler"] == "none", f"scheduler {cfg['scheduler']}")
    need(cfg["class_weights"] == "none", "class weights")
    opt = optimizer(model.parameters(), cfg)
    model.train()
    for _ in range(cfg["epochs"]):
        for s, e in batch_bounds(len(y), cfg["batch_size"]):
            loss = nn.functional.cross_entropy(model(x[s:e]), y[s:e], label_smoothing=cfg["label_smoothing"])
            opt.zero_grad()
            loss.backward()
            if cfg.get("grad_clip") is not None:
                nn.utils.clip_grad_norm_(model.parameters(), cfg["grad_clip"])
            opt.step()


def make_data(spec: dict) -> tuple:
    """Standard-normal inputs plus a class-dependent pattern (a bump of one
    feature row in one region of time), so the steps move the weights the
    way learning does; then, as standardised clips fitted to a length are,
    every other example zero-padded after a random length of at least half
    the frames (zero frames give exactly equal convolution outputs, so max
    pooling meets ties there)."""
    n, f, t, c = spec["n"], spec["n_features"], spec["n_frames"], spec["n_classes"]
    rng = np.random.default_rng(spec["data_seed"])
    x = rng.standard_normal((n, f, t), dtype=np.float32)
    y = rng.permutation(np.arange(n) % c).astype(np.int64)
    for i, k in enumerate(y):
        start = (int(k) * t) // c
        x[i, int(k) % f, start : start + max(t // c, 1)] += 1.5
    for i in range(0, n, 2):
        x[i, :, int(rng.integers(t // 2, t)) :] = 0.0
    return x, y


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    with open(os.path.join(out, "spec.json")) as fh:
        spec = json.load(fh)
    torch.set_num_threads(1)
    x, y = make_data(spec)
    np.save(os.path.join(out, "x.npy"), x)
    np.save(os.path.join(out, "y.npy"), y)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    shape = (spec["n_features"], spec["n_frames"], spec["n_classes"])

    inits = {}
    for name in sorted(spec["nets"]):
        torch.manual_seed(spec["init_seed"])
        fresh = Net(spec["nets"][name], *shape)
        inits[name] = {k: v.clone() for k, v in fresh.cochlea_state().items()}
        write_safetensors(os.path.join(out, f"init-{name}.safetensors"), inits[name])

    for case in spec["cases"]:
        for seed in case.get("seeds") or [None]:
            model = Net(spec["nets"][case["net"]], *shape)
            with torch.no_grad():
                model.load_cochlea_state(inits[case["net"]])
            if seed is not None:
                torch.manual_seed(seed)
            train(model, case["train"], xt, yt)
            suffix = "" if seed is None else f"-{seed}"
            write_safetensors(os.path.join(out, f"torch-{case['name']}{suffix}.safetensors"), model.cochlea_state())
        if not case.get("seeds"):
            # The same steps in float64: how far float32 rounding alone
            # moves PyTorch's own result.
            model = Net(spec["nets"][case["net"]], *shape).double()
            with torch.no_grad():
                model.load_cochlea_state(inits[case["net"]])
            train(model, case["train"], xt.double(), yt)
            write_safetensors(os.path.join(out, f"torch64-{case['name']}.safetensors"), model.cochlea_state())
    print(f"torch_steps.py: torch {torch.__version__}, {len(spec['cases'])} cases", file=sys.stderr)


if __name__ == "__main__":
    main()
