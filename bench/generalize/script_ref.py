#!/usr/bin/env python3
"""The short librosa + PyTorch script a practitioner writes first, for any
data set: the reference `pipeline init` and `pipeline tune` are compared
with on data sets other than FSDD (bench/generalize/run.sh).

    script_ref.py --manifest M.csv --sr 8000 --out result.json [--seeds 0,1,2]

M.csv has `path,label,split` (split `train` or `test`). Per seed: 13
librosa MFCCs (n_fft 32 ms, hop 10 ms, 40 mels), standardised per row with
the training clips' statistics, centre-cropped or zero-padded to the
median training length; a 1D CNN of three Conv1d(same)-BatchNorm-ReLU-
MaxPool(2) blocks of 64/128/128 filters (kernels 5/3/3), mean over time,
dropout 0.3, a linear layer; Adam (lr 1e-3, weight decay 1e-4), batch 32,
30 epochs, the final weights scored on the test files. Writes the test
accuracy of every seed.
"""

import argparse
import csv
import json

import librosa
import numpy as np
import torch
from torch import nn


def features(path, sr):
    y, _ = librosa.load(path, sr=sr, mono=True)
    m = librosa.feature.mfcc(y=y, sr=sr, n_mfcc=13, n_fft=int(0.032 * sr),
                             hop_length=int(0.010 * sr), n_mels=40)
    return m.astype(np.float32)


def fit(m, frames):
    n = m.shape[1]
    if n >= frames:
        s = (n - frames) // 2
        return m[:, s:s + frames]
    return np.pad(m, ((0, 0), (0, frames - n)))


def net(n_in, n_out):
    def block(i, o, k):
        return [nn.Conv1d(i, o, k, padding="same", bias=False),
                nn.BatchNorm1d(o), nn.ReLU(), nn.MaxPool1d(2)]
    return nn.Sequential(*block(n_in, 64, 5), *block(64, 128, 3),
                         *block(128, 128, 3), nn.AdaptiveAvgPool1d(1),
                         nn.Flatten(), nn.Dropout(0.3), nn.Linear(128, n_out))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--manifest", required=True)
    p.add_argument("--sr", type=int, required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--epochs", type=int, default=30)
    a = p.parse_args()
    torch.set_num_threads(1)
    rows = list(csv.DictReader(open(a.manifest)))
    classes = sorted({r["label"] for r in rows})
    mats = [features(r["path"], a.sr) for r in rows]
    y = np.array([classes.index(r["label"]) for r in rows])
    train = np.array([i for i, r in enumerate(rows) if r["split"] != "test"])
    test = np.array([i for i, r in enumerate(rows) if r["split"] == "test"])
    cat = np.concatenate([mats[i] for i in train], axis=1)
    mean, std = cat.mean(1, keepdims=True), cat.std(1, keepdims=True) + 1e-8
    frames = int(np.median([mats[i].shape[1] for i in train]))
    x = np.stack([fit((m - mean) / std, frames) for m in mats]).astype(np.float32)
    xt, yt = torch.from_numpy(x[train]), torch.from_numpy(y[train])
    xs, ys = torch.from_numpy(x[test]), torch.from_numpy(y[test])
    accs = []
    for seed in [int(s) for s in a.seeds.split(",")]:
        torch.manual_seed(seed)
        model = net(x.shape[1], len(classes))
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
        for _ in range(a.epochs):
            model.train()
            for b in torch.randperm(len(yt)).split(32):
                if len(b) < 2:
                    continue
                loss = nn.functional.cross_entropy(model(xt[b]), yt[b])
                opt.zero_grad()
                loss.backward()
                opt.step()
        model.eval()
        with torch.no_grad():
            accs.append(float((model(xs).argmax(1) == ys).float().mean()))
    json.dump({"accuracy": accs, "mean": float(np.mean(accs)),
               "classes": len(classes), "train": len(train), "test": len(test)},
              open(a.out, "w"), indent=1)
    print(a.out, ["%.4f" % v for v in accs])


if __name__ == "__main__":
    main()
