#!/usr/bin/env python3
"""Use a model exported by `pipeline export` without Cochlea.

    from cochlea_loader import Model
    model = Model("digits.pt")                 # or "digits.onnx"; reads digits.spec.json
    proba = model.predict_file("clip.wav")    # numpy [n_classes], sums to 1
    print(model.classes[proba.argmax()])

Needs numpy, soundfile and librosa, plus torch for a TorchScript file or
onnxruntime for an ONNX file. The features are librosa's, computed from the
recipe in the `.spec.json` beside the model; normalization and length fitting
are inside the model, so a clip of any length is passed whole.

From the command line it writes one CSV row per file (path, label,
confidence and one probability column per class):

    python cochlea_loader.py digits.pt audio/*.wav --out predictions.csv
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf


def spec_path(model_file: str | Path) -> Path:
    """`model.pt` -> `model.spec.json`, as `pipeline export` names it."""
    return Path(model_file).with_suffix(".spec.json")


def load_spec(model_file: str | Path) -> dict:
    spec = json.loads(spec_path(model_file).read_text())
    if spec.get("schema_version") != 1:
        raise ValueError(f"{spec_path(model_file)}: schema_version "
                         f"{spec.get('schema_version')} is not 1")
    return spec


def load_audio(path: str | Path, spec: dict) -> np.ndarray:
    """Mono float32 samples at the recipe's rate: channels averaged,
    integers scaled to [-1, 1). A file at another rate is resampled with
    librosa (soxr), which is close to, but not exactly, Cochlea's resampler."""
    y, sr = sf.read(str(path), dtype="float32", always_2d=True)
    y = y.mean(axis=1, dtype=np.float32)
    want = spec["audio"]["sample_rate"]
    if sr != want:
        y = librosa.resample(y, orig_sr=sr, target_sr=want).astype(np.float32)
    return y


def fill_unvoiced(guess: np.ndarray, voiced: np.ndarray, policy: str) -> np.ndarray:
    """The f0 row in frames pyin calls unvoiced (NaN in librosa), from its
    decoded pitch `guess` (fill_na=None): 0, the last voiced value, a linear
    interpolation between voiced frames, or the guess itself."""
    if policy == "guess":
        return guess
    idx = np.flatnonzero(voiced)
    if policy == "zero" or len(idx) == 0:
        return np.where(voiced, guess, 0.0)
    if policy == "hold":
        last = np.maximum.accumulate(np.where(voiced, np.arange(len(guess)), -1))
        last[last < 0] = idx[0]
        return guess[last]
    if policy == "interpolate":
        return np.interp(np.arange(len(guess)), idx, guess[idx])
    raise ValueError(f"f0_unvoiced {policy!r} is not zero, hold, interpolate or guess")


def features(y: np.ndarray, spec: dict) -> np.ndarray:
    """Raw feature matrix float32 [rows, frames] of mono samples `y` at the
    recipe's rate, row blocks in the recipe's order."""
    f = spec["features"]
    p = f["librosa"]
    sr = spec["audio"]["sample_rate"]
    y64 = np.asarray(y, dtype=np.float64)
    S = np.abs(librosa.stft(y64, n_fft=p["n_fft"], hop_length=p["hop_length"],
                            win_length=p["win_length"], window=p["window"],
                            center=p["center"], pad_mode=p["pad_mode"]))
    logmel = None

    def get_logmel() -> np.ndarray:
        nonlocal logmel
        if logmel is None:
            mel = librosa.feature.melspectrogram(
                S=S ** p["power"], sr=sr, n_fft=p["n_fft"], n_mels=p["n_mels"],
                fmin=p["fmin"], fmax=p["fmax"], htk=p["htk"], norm=p["norm"],
                dtype=np.float64)
            logmel = librosa.power_to_db(mel, ref=p["ref"], amin=p["amin"], top_db=p["top_db"])
        return logmel

    def pitch_args() -> dict:
        return dict(sr=sr, fmin=p["f0_fmin"], fmax=p["f0_fmax"],
                    frame_length=p["f0_frame_length"], hop_length=p["hop_length"],
                    center=p["center"], pad_mode=p["pad_mode"])

    pyin = None

    def get_pyin() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        nonlocal pyin
        if pyin is None:
            guess, voiced, prob = librosa.pyin(y64, fill_na=None, **pitch_args())
            pyin = (fill_unvoiced(guess, voiced, p["f0_unvoiced"]),
                    voiced.astype(np.float64), prob)
        return pyin

    chroma = None

    def get_chroma() -> np.ndarray:
        nonlocal chroma
        if chroma is None:
            chroma = librosa.feature.chroma_stft(
                y=y64, sr=sr, n_fft=p["n_fft"], hop_length=p["hop_length"],
                win_length=p["win_length"], window=p["window"], center=p["center"],
                pad_mode=p["pad_mode"], n_chroma=p["n_chroma"], tuning=p["tuning"])
        return chroma

    def with_deltas(block: np.ndarray) -> list[np.ndarray]:
        out = [block]
        for order in range(1, f["deltas"] + 1):
            out.append(librosa.feature.delta(block, width=p["delta_width"], order=order,
                                             mode=p["delta_mode"]))
        return out

    blocks: list[np.ndarray] = []
    for kind in f["kinds"]:
        if kind == "mfcc":
            mfcc = librosa.feature.mfcc(S=get_logmel(), n_mfcc=p["n_mfcc"],
                                        dct_type=p["dct_type"], norm=p["dct_norm"],
                                        lifter=p["lifter"])
            blocks += with_deltas(mfcc)
        elif kind == "logmel":
            blocks += with_deltas(get_logmel())
        elif kind == "centroid":
            blocks.append(librosa.feature.spectral_centroid(S=S, sr=sr, n_fft=p["n_fft"]))
        elif kind == "bandwidth":
            blocks.append(librosa.feature.spectral_bandwidth(S=S, sr=sr, n_fft=p["n_fft"]))
        elif kind == "rolloff":
            blocks.append(librosa.feature.spectral_rolloff(
                S=S, sr=sr, n_fft=p["n_fft"], roll_percent=p["roll_percent"]))
        elif kind == "flatness":
            blocks.append(librosa.feature.spectral_flatness(S=S, n_fft=p["n_fft"], power=2.0,
                                                            amin=1e-10))
        elif kind == "contrast":
            blocks.append(librosa.feature.spectral_contrast(
                S=S, sr=sr, n_fft=p["n_fft"], fmin=p["contrast_fmin"], n_bands=p["n_bands"],
                quantile=p["quantile"]))
        elif kind == "zcr":
            blocks.append(librosa.feature.zero_crossing_rate(
                y64, frame_length=p["n_fft"], hop_length=p["hop_length"], center=True))
        elif kind == "rms":
            blocks.append(librosa.feature.rms(
                y=y64, frame_length=p["n_fft"], hop_length=p["hop_length"],
                center=p["center"], pad_mode=p["pad_mode"], dtype=np.float64))
        elif kind in ("f0", "voiced", "voiced_prob"):
            f0, voiced, prob = get_pyin()
            blocks.append({"f0": f0, "voiced": voiced, "voiced_prob": prob}[kind][np.newaxis])
        elif kind == "yin":
            blocks.append(librosa.yin(
                y64, trough_threshold=p["yin_threshold"], **pitch_args())[np.newaxis])
        elif kind == "onset":
            blocks.append(librosa.onset.onset_strength(
                y=y64, sr=sr, n_fft=p["n_fft"], hop_length=p["hop_length"],
                win_length=p["win_length"], window=p["window"], pad_mode=p["pad_mode"],
                center=p["center"], n_mels=p["n_mels"], fmin=p["fmin"], fmax=p["fmax"],
                htk=p["htk"], norm=p["norm"], power=p["power"])[np.newaxis])
        elif kind == "chroma":
            blocks.append(get_chroma())
        elif kind == "tonnetz":
            blocks.append(librosa.feature.tonnetz(chroma=get_chroma(), sr=sr))
        else:
            raise ValueError(f"feature kind {kind!r} has no librosa recipe here")
    x = np.concatenate(blocks, axis=0).astype(np.float32)
    rows = spec["input"]["rows"]
    if x.shape[0] != rows:
        raise ValueError(f"computed {x.shape[0]} feature rows, the model takes {rows}")
    return x


class Model:
    """An exported model and its recipe: TorchScript (.pt, through torch) or
    ONNX (through onnxruntime), chosen by the recipe's `format`."""

    def __init__(self, model_file: str | Path):
        self.path = Path(model_file)
        self.spec = load_spec(self.path)
        self.classes: list[str] = self.spec["classes"]
        if self.spec["format"] == "onnx":
            import onnxruntime
            self._session = onnxruntime.InferenceSession(
                str(self.path), providers=["CPUExecutionProvider"])
            self._run = self._run_onnx
        else:
            import torch
            self._torch = torch
            self._module = torch.jit.load(str(self.path), map_location="cpu").eval()
            self._run = self._run_torch

    def _run_torch(self, x: np.ndarray) -> np.ndarray:
        with self._torch.no_grad():
            return self._module(self._torch.from_numpy(x)).numpy()

    def _run_onnx(self, x: np.ndarray) -> np.ndarray:
        return self._session.run(None, {self.spec["input"]["name"]: x})[0]

    def predict_features(self, feats: np.ndarray) -> np.ndarray:
        """Probabilities [batch, n_classes] of raw features [rows, frames] or
        [batch, rows, frames] (a batch shares one length)."""
        x = np.ascontiguousarray(feats, dtype=np.float32)
        if x.ndim == 2:
            return self._run(x[None])[0]
        return self._run(x)

    def predict_file(self, path: str | Path) -> np.ndarray:
        """Probabilities [n_classes] of one audio file."""
        return self.predict_features(features(load_audio(path, self.spec), self.spec))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model", help="the .pt or .onnx file written by pipeline export")
    ap.add_argument("files", nargs="+", help="audio files")
    ap.add_argument("--out", help="CSV file (default: stdout)")
    ap.add_argument("--features", action="store_true",
                    help="the files are .npy raw feature matrices (pipeline features) instead of audio")
    a = ap.parse_args()
    model = Model(a.model)
    out = open(a.out, "w", newline="") if a.out else sys.stdout
    w = csv.writer(out)
    w.writerow(["path", "label", "confidence"] + [f"p_{c}" for c in model.classes])
    for f in a.files:
        if a.features:
            p = model.predict_features(np.load(f))
        else:
            p = model.predict_file(f)
        best = int(np.argmax(p))
        w.writerow([f, model.classes[best], f"{p[best]:.9g}"] + [f"{v:.9g}" for v in p])
    if a.out:
        out.close()


if __name__ == "__main__":
    main()
