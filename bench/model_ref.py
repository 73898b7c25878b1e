#!/usr/bin/env python3
"""PyTorch reference for the model-training benchmark (bench/model.sh).

Trains the network that cochlea-model builds from its default config, with
the same layers, initialisation scheme, optimiser, batch size and thread
count, on the same tensors, and prints one JSON line with the seconds of
every epoch (one training pass plus one validation pass).

    python model_ref.py --make-data DIR            # write the tensors once
    python model_ref.py --data DIR --epochs 6 --threads 2 [--loader index|dataloader]

Network (cochlea_model::NetConfig::default()):
    3 x [Conv1d(k, padding="same", bias=False) -> BatchNorm1d -> ReLU -> MaxPool1d(2)]
    with 64/128/128 filters and kernels 5/3/3, then the mean over time,
    Dropout(0.3) and Linear(128, n_classes).
Initialisation: torch.nn's defaults, as cochlea-model's default `init =
"pytorch"` (conv and Linear weights kaiming_uniform_(a=sqrt(5)), that is
U(-1/sqrt(fan_in), 1/sqrt(fan_in)); BatchNorm weight 1, bias 0).
Optimiser: torch.optim.Adam(lr=1e-3, weight_decay=1e-4), default
implementation for CPU tensors. Batches of 64 drawn from a fresh
permutation each epoch; validation in eval mode under no_grad, batches of
256.

--loader index (default) slices batches out of one tensor with
index_select, as cochlea-model does; --loader dataloader uses
torch.utils.data.DataLoader over a TensorDataset, as most PyTorch code does.
"""

import argparse
import json
import os
import time

import numpy as np
import torch
from torch import nn


def make_data(out_dir: str) -> None:
    """2700 training and 300 validation examples of 13 x 100 standard-normal
    values with 10 classes: the shape of FSDD MFCCs (1 s at 8 kHz, hop 80)."""
    rng = np.random.default_rng(0)
    os.makedirs(out_dir, exist_ok=True)
    for split, n in (("train", 2700), ("val", 300)):
        np.save(os.path.join(out_dir, f"x_{split}.npy"), rng.standard_normal((n, 13, 100), dtype=np.float32))
        np.save(os.path.join(out_dir, f"y_{split}.npy"), rng.integers(0, 10, size=n, dtype=np.int64))


def block(c_in: int, c_out: int, kernel: int) -> nn.Sequential:
    conv = nn.Conv1d(c_in, c_out, kernel, padding="same", bias=False)
    return nn.Sequential(conv, nn.BatchNorm1d(c_out), nn.ReLU(), nn.MaxPool1d(2))


class Net(nn.Module):
    def __init__(self, n_features: int, n_classes: int) -> None:
        super().__init__()
        self.blocks = nn.Sequential(block(n_features, 64, 5), block(64, 128, 3), block(128, 128, 3))
        self.dropout = nn.Dropout(0.3)
        self.output = nn.Linear(128, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.output(self.dropout(self.blocks(x).mean(dim=2)))


def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    model.eval()
    loss, correct = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(y), 256):
            logits = model(x[start : start + 256])
            yb = y[start : start + 256]
            loss += nn.functional.cross_entropy(logits, yb, reduction="sum").item()
            correct += (logits.argmax(1) == yb).sum().item()
    return loss / len(y), correct / len(y)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--make-data", metavar="DIR")
    p.add_argument("--data", metavar="DIR")
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--loader", choices=["index", "dataloader"], default="index")
    args = p.parse_args()
    if args.make_data:
        make_data(args.make_data)
        return
    if not args.data:
        p.error("--data or --make-data is required")

    started = time.perf_counter()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    load = lambda name: torch.from_numpy(np.load(os.path.join(args.data, name)))
    x, y = load("x_train.npy"), load("y_train.npy")
    xv, yv = load("x_val.npy"), load("y_val.npy")
    n_classes = int(max(y.max(), yv.max())) + 1
    model = Net(x.shape[1], n_classes)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    loader = None
    if args.loader == "dataloader":
        loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=64, shuffle=True)
    before_train = time.perf_counter() - started

    seconds = []
    for epoch in range(1, args.epochs + 1):
        t0 = time.perf_counter()
        model.train()
        if loader is None:
            perm = torch.randperm(len(y))
            batches = ((x.index_select(0, idx), y.index_select(0, idx)) for idx in perm.split(64))
        else:
            batches = loader
        total, correct = 0.0, 0
        for xb, yb in batches:
            logits = model(xb)
            loss = nn.functional.cross_entropy(logits, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(yb)
            correct += (logits.argmax(1) == yb).sum().item()
        val_loss, val_acc = evaluate(model, xv, yv)
        seconds.append(time.perf_counter() - t0)
        print(
            f"torch epoch {epoch}: {seconds[-1]:.3f} s, loss {total / len(y):.4f}, val acc {val_acc:.3f}",
            file=__import__("sys").stderr,
        )
    print(
        json.dumps(
            {
                "impl": f"pytorch-{torch.__version__}-{args.loader}",
                "threads": args.threads,
                "epoch_seconds": seconds,
                "train_loss": total / len(y),
                "val_accuracy": val_acc,
                "setup_seconds": before_train,
                "process_seconds": time.perf_counter() - started,
            }
        )
    )


if __name__ == "__main__":
    main()
