#!/usr/bin/env python3
"""Time MFCC extraction over a folder of WAV files with the reference tools.

    $(bench/ref-venv.sh)/bin/python bench/features_ref.py \\
        --data ../shared/datasets/fsdd/recordings --mode librosa

Every .wav under --data (sorted, recursively) is decoded with soundfile as
float32 at its own rate and turned into 13 MFCCs with n_fft 256, hop 80 and
40 mel bands, the settings the Rust benchmark uses:

  librosa     librosa.feature.mfcc(y=y, sr=sr, n_mfcc=13, n_fft=256,
              hop_length=80, n_mels=40), one process
  librosa2    the same over multiprocessing.Pool(2), in chunks
  torchaudio  torchaudio.transforms.MFCC(sample_rate, n_mfcc=13,
              melkwargs={n_fft: 256, hop_length: 80, n_mels: 40}) with
              torch.set_num_threads(2), one file at a time
  pyin        librosa.pyin(y, sr=sr, fmin=note_to_hz("C2"),
              fmax=note_to_hz("C7"), frame_length=2048, hop_length=80): f0,
              voiced_flag and voiced_prob as Cochlea's f0, voiced and
              voiced_prob kinds compute them by default, one process

Decoding is inside the timed region; imports and a warm-up on the first file
(numba compilation, transform set-up) are not. Prints one JSON line:
{"tool": MODE, "files": N, "seconds": S}.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import time
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf

N_MFCC = 13
N_FFT = 256
HOP_LENGTH = 80
N_MELS = 40
# Chunks per worker in librosa2: large enough to keep inter-process traffic
# small, small enough that one slow chunk does not leave a worker idle.
CHUNKS_PER_WORKER = 8


def decode(path: Path) -> tuple[np.ndarray, int]:
    y, sr = sf.read(path, dtype="float32", always_2d=True)
    if y.shape[1] == 1:
        return y[:, 0], sr
    # Downmix by averaging channels, as the Rust decoder does.
    return y.mean(axis=1, dtype=np.float32), sr


def librosa_mfcc(path: Path) -> np.ndarray:
    y, sr = decode(path)
    return librosa.feature.mfcc(y=y, sr=sr, n_mfcc=N_MFCC, n_fft=N_FFT,
                                hop_length=HOP_LENGTH, n_mels=N_MELS)


def run_librosa(files: list[Path]) -> float:
    librosa_mfcc(files[0])  # warm-up: numba compiles librosa's kernels
    start = time.perf_counter()
    for path in files:
        librosa_mfcc(path)
    return time.perf_counter() - start


def run_librosa2(files: list[Path]) -> float:
    librosa_mfcc(files[0])  # warm-up in the parent; forked workers inherit it
    context = multiprocessing.get_context("fork")
    with context.Pool(2) as pool:
        chunksize = max(1, len(files) // (2 * CHUNKS_PER_WORKER))
        start = time.perf_counter()
        results = pool.map(librosa_mfcc, files, chunksize=chunksize)
        seconds = time.perf_counter() - start
    if len(results) != len(files):
        sys.exit(f"features_ref: {len(results)} results for {len(files)} files")
    return seconds


def run_torchaudio(files: list[Path]) -> float:
    import torch
    import torchaudio

    torch.set_num_threads(2)
    transforms: dict[int, torchaudio.transforms.MFCC] = {}

    def mfcc(path: Path) -> torch.Tensor:
        y, sr = decode(path)
        transform = transforms.get(sr)
        if transform is None:
            transform = torchaudio.transforms.MFCC(
                sample_rate=sr, n_mfcc=N_MFCC,
                melkwargs={"n_fft": N_FFT, "hop_length": HOP_LENGTH, "n_mels": N_MELS})
            transforms[sr] = transform
        return transform(torch.from_numpy(y).unsqueeze(0))

    with torch.inference_mode():
        mfcc(files[0])  # warm-up: builds the transform for the first file's rate
        start = time.perf_counter()
        for path in files:
            mfcc(path)
        return time.perf_counter() - start


def librosa_pyin(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y, sr = decode(path)
    return librosa.pyin(y, sr=sr, fmin=librosa.note_to_hz("C2"), fmax=librosa.note_to_hz("C7"),
                        frame_length=2048, hop_length=HOP_LENGTH)


def run_pyin(files: list[Path]) -> float:
    librosa_pyin(files[0])  # warm-up: numba compiles the Viterbi and stencils
    start = time.perf_counter()
    for path in files:
        librosa_pyin(path)
    return time.perf_counter() - start


RUNNERS = {"librosa": run_librosa, "librosa2": run_librosa2, "torchaudio": run_torchaudio,
           "pyin": run_pyin}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="folder of .wav files")
    parser.add_argument("--mode", choices=sorted(RUNNERS), required=True)
    parser.add_argument("--limit", type=int, help="use only the first N files")
    args = parser.parse_args()

    if not args.data.is_dir():
        sys.exit(f"features_ref: {args.data} is not a folder")
    files = sorted(args.data.rglob("*.wav"))
    if args.limit is not None:
        files = files[: args.limit]
    if not files:
        sys.exit(f"features_ref: no .wav files under {args.data}")

    seconds = RUNNERS[args.mode](files)
    print(json.dumps({"tool": args.mode, "files": len(files), "seconds": round(seconds, 3)}))


if __name__ == "__main__":
    main()
