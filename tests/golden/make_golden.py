#!/usr/bin/env python3
"""Make the golden files that cochlea-features is tested against.

Run with the reference environment (librosa and torchaudio at pinned versions):

    $(bench/ref-venv.sh)/bin/python tests/golden/make_golden.py

For every case it writes, under tests/golden/<case>/:
  samples.npy       float32 mono, exactly the samples the reference consumed
  <output>.npy      float32, shape [rows, frames] (1-D features as [1, frames])
and one tests/golden/manifest.json that lists the cases, their parameters and
their output files. README.md beside this script documents the format.

Librosa cases compute every feature from a float64 copy of the float32
samples, so the reference carries no single-precision error of its own, and
store the result as float32. The calls below are the ones librosa 0.11 makes
when the same features are asked for from `y` (checked against its source:
librosa/feature/spectral.py and librosa/core/spectrum.py).

The output is deterministic up to rounding noise (about 1e-14) in the MFCC
deltas: the same environment gives otherwise byte-identical files.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import warnings
from pathlib import Path

import librosa
import numpy as np
import scipy.signal
import soundfile as sf
import torch
import torchaudio

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DIGITS = ROOT / "audio-samples" / "digits"
FSDD_RECORDINGS = ROOT.parent / "shared" / "datasets" / "fsdd" / "recordings"

# The parameter keys every case carries, in manifest order.
PARAM_KEYS = (
    "n_fft", "hop_length", "win_length", "center", "pad_mode", "n_mels",
    "fmin", "fmax", "htk", "norm", "n_mfcc", "lifter", "top_db", "ref",
    "amin", "power", "roll_percent", "n_bands", "contrast_fmin", "quantile",
    "delta_width", "f0_fmin", "f0_fmax", "f0_frame_length", "yin_threshold",
    "f0_unvoiced", "n_chroma", "tuning",
)

LIBROSA_OUTPUTS = (
    "mel_power", "logmel", "mfcc", "mfcc_delta", "mfcc_delta2", "centroid",
    "bandwidth", "rolloff", "flatness", "contrast", "zcr", "rms",
    "f0_guess", "voiced", "voiced_prob", "f0", "yin", "onset", "chroma", "tonnetz",
)
TORCHAUDIO_OUTPUTS = ("logmel", "mfcc")
# Outputs in dB, compared in absolute terms; the others relative.
DB_OUTPUTS = ("logmel", "mfcc", "mfcc_delta", "mfcc_delta2", "contrast", "onset")
# librosa.note_to_hz("C2") and ("C7"): the range librosa's pyin/yin docs
# recommend, the defaults of f0_fmin and f0_fmax (the latter capped at the
# Nyquist frequency).
C2 = float(librosa.note_to_hz("C2"))
C7 = float(librosa.note_to_hz("C7"))

# The project's default feature settings (8 kHz speech: 32 ms window, 10 ms
# hop). win_length and fmax are null where librosa's default None applies
# (win_length = n_fft, fmax = sr / 2).
PROJECT = {
    "n_fft": 256, "hop_length": 80, "win_length": None, "center": True,
    "pad_mode": "constant", "n_mels": 40, "fmin": 0.0, "fmax": None,
    "htk": False, "norm": "slaney", "n_mfcc": 13, "lifter": 0.0,
    "top_db": 80.0, "ref": 1.0, "amin": 1e-10, "power": 2.0,
    "roll_percent": 0.85, "n_bands": 6, "contrast_fmin": 200.0,
    "quantile": 0.02, "delta_width": 9, "f0_fmin": C2, "f0_fmax": None,
    "f0_frame_length": 2048, "yin_threshold": 0.1, "f0_unvoiced": "zero",
    "n_chroma": 12, "tuning": None,
}

# librosa's own defaults (librosa.feature.mfcc / melspectrogram /
# power_to_db / spectral_* / delta, version 0.11).
LIBROSA_DEFAULTS = dict(PROJECT, n_fft=2048, hop_length=512, n_mels=128, n_mfcc=20)

# torchaudio.transforms.MFCC() defaults: n_mfcc=40, dct_type=2, norm="ortho",
# log_mels=False; MelSpectrogram(n_fft=400, win_length=None -> 400,
# hop_length=None -> 200, f_min=0, f_max=None -> sr // 2, n_mels=128,
# window_fn=torch.hann_window (periodic), power=2, center=True,
# pad_mode="reflect", norm=None, mel_scale="htk"); AmplitudeToDB("power",
# top_db=80) with amin 1e-10 and ref 1. The spectral and delta keys do not
# apply and are null.
TORCHAUDIO_DEFAULTS = {
    "n_fft": 400, "hop_length": 200, "win_length": None, "center": True,
    "pad_mode": "reflect", "n_mels": 128, "fmin": 0.0, "fmax": None,
    "htk": True, "norm": None, "n_mfcc": 40, "lifter": 0.0, "top_db": 80.0,
    "ref": 1.0, "amin": 1e-10, "power": 2.0, "roll_percent": None,
    "n_bands": None, "contrast_fmin": None, "quantile": None,
    "delta_width": None, "f0_fmin": None, "f0_fmax": None, "f0_frame_length": None,
    "yin_threshold": None, "f0_unvoiced": None, "n_chroma": None, "tuning": None,
}


# ---------------------------------------------------------------- signals


def read_wav(path: Path, expected_sr: int) -> np.ndarray:
    """Decode a mono WAV to float32 with soundfile (no resampling)."""
    y, sr = sf.read(path, dtype="float32", always_2d=False)
    if sr != expected_sr:
        sys.exit(f"make_golden: {path} has sample rate {sr}, expected {expected_sr}")
    if y.ndim != 1:
        sys.exit(f"make_golden: {path} has {y.shape[1]} channels, expected mono")
    return y


def digit(relpath: str):
    def load(sr: int, _out: Path) -> np.ndarray:
        path = DIGITS / relpath
        if not path.is_file():
            sys.exit(f"make_golden: {path} is missing (audio-samples/make_samples.py makes it)")
        return read_wav(path, sr)
    return load


def fsdd(name: str, case: str):
    def load(sr: int, out: Path) -> np.ndarray:
        path = FSDD_RECORDINGS / name
        if path.is_file():
            return read_wav(path, sr)
        # The recording is not part of the project; its samples, as committed
        # with the golden files, are exactly what the reference consumed.
        for kept in (out / case / "samples.npy", HERE / case / "samples.npy"):
            if kept.is_file():
                print(f"make_golden: {path} not found, using {kept}", file=sys.stderr)
                return np.load(kept)
        sys.exit(f"make_golden: {path} not found, and no committed {case}/samples.npy")
    return load


def tone(freq: float, seconds: float, amplitude: float = 0.5):
    def load(sr: int, _out: Path) -> np.ndarray:
        t = np.arange(int(round(seconds * sr)), dtype=np.float64) / sr
        return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return load


def chirp(f0: float, f1: float, seconds: float, amplitude: float = 0.5):
    def load(sr: int, _out: Path) -> np.ndarray:
        n = int(round(seconds * sr))
        t = np.arange(n, dtype=np.float64) / sr
        y = scipy.signal.chirp(t, f0=f0, t1=t[-1], f1=f1, method="linear")
        return (amplitude * y).astype(np.float32)
    return load


def burst(n: int, freq: float):
    """A decaying tone shorter than one analysis window."""
    def load(sr: int, _out: Path) -> np.ndarray:
        t = np.arange(n, dtype=np.float64) / sr
        y = 0.8 * np.exp(-t * sr / (n / 3.0)) * np.sin(2 * np.pi * freq * t)
        return y.astype(np.float32)
    return load


def silence(seconds: float):
    def load(sr: int, _out: Path) -> np.ndarray:
        return np.zeros(int(round(seconds * sr)), dtype=np.float32)
    return load


def white_noise(seconds: float, std: float, seed: int):
    def load(sr: int, _out: Path) -> np.ndarray:
        rng = np.random.default_rng(seed)
        return (std * rng.standard_normal(int(round(seconds * sr)))).astype(np.float32)
    return load


# ------------------------------------------------------------------ cases

CASES = [
    # name, sample rate, signal, reference, params
    ("digit_3_f2_8k", 8000, digit("3/3_f2_01.wav"), "librosa",
     dict(PROJECT, n_bands=5)),
    ("digit_8_m1_8k_htk", 8000, digit("8/8_m1_03.wav"), "librosa",
     dict(PROJECT, htk=True, norm=None, lifter=22.0, n_bands=5, f0_frame_length=1024,
          f0_unvoiced="hold")),
    ("fsdd_7_jackson_32", 8000, fsdd("7_jackson_32.wav", "fsdd_7_jackson_32"), "librosa",
     dict(PROJECT, n_bands=5, f0_unvoiced="interpolate")),
    ("tone_8k_power1", 8000, tone(440.0, 0.5), "librosa",
     dict(PROJECT, power=1.0, fmin=100.0, fmax=3500.0, n_bands=4)),
    ("chirp_8k_reflect", 8000, chirp(50.0, 3800.0, 0.6), "librosa",
     dict(PROJECT, pad_mode="reflect", n_bands=5, quantile=0.1, f0_unvoiced="guess")),
    ("tone_16k_winlen", 16000, tone(1000.0, 0.5), "librosa",
     dict(PROJECT, win_length=200, tuning=0.1, yin_threshold=0.2)),
    ("chirp_16k_librosa", 16000, chirp(100.0, 7500.0, 1.0), "librosa",
     dict(LIBROSA_DEFAULTS)),
    ("tone_22050_librosa", 22050, tone(440.0, 0.5), "librosa",
     dict(LIBROSA_DEFAULTS)),
    ("chirp_22050_mixed", 22050, chirp(60.0, 10000.0, 0.75), "librosa",
     dict(PROJECT, n_fft=512, hop_length=128, win_length=400, n_mels=64,
          fmin=30.0, fmax=8000.0, htk=True, lifter=22.0, ref=0.5, amin=1e-8,
          quantile=0.05, f0_fmin=80.0, f0_fmax=1000.0, f0_frame_length=1024,
          f0_unvoiced="interpolate", n_chroma=24)),
    ("tone_44100_reflect_power1", 44100, tone(3000.0, 0.3), "librosa",
     dict(LIBROSA_DEFAULTS, pad_mode="reflect", power=1.0)),
    ("chirp_44100_fminmax", 44100, chirp(20.0, 20000.0, 0.5), "librosa",
     dict(PROJECT, n_fft=1024, hop_length=256, n_mels=80, n_mfcc=20,
          fmin=20.0, fmax=16000.0, roll_percent=0.95, n_bands=7,
          contrast_fmin=100.0)),
    ("short_8k", 8000, burst(200, 700.0), "librosa",
     dict(PROJECT, n_bands=5, delta_width=3, f0_unvoiced="hold")),
    ("silence_16k", 16000, silence(0.5), "librosa",
     dict(PROJECT)),
    ("noise_16k_no_top_db", 16000, white_noise(0.5, 0.1, seed=20240607), "librosa",
     dict(PROJECT, top_db=None, lifter=22.0, f0_unvoiced="hold")),
    ("torchaudio_digit_5_usm2_8k", 8000, digit("5/5_usm2_02.wav"), "torchaudio",
     dict(TORCHAUDIO_DEFAULTS)),
    ("torchaudio_chirp_16k", 16000, chirp(100.0, 7500.0, 1.0), "torchaudio",
     dict(TORCHAUDIO_DEFAULTS)),
]


# --------------------------------------------------------------- features


def magnitude_stft(y: np.ndarray, p: dict) -> np.ndarray:
    """|STFT|, as librosa.core.spectrum._spectrogram computes it from y for
    the spectral features (power=1). Float64 in, float64 out."""
    return np.abs(librosa.stft(
        y, n_fft=p["n_fft"], hop_length=p["hop_length"], win_length=p["win_length"],
        window="hann", center=p["center"], pad_mode=p["pad_mode"]))


def mel_chain(S: np.ndarray, sr: int, p: dict) -> dict[str, np.ndarray]:
    """mel_power, logmel and mfcc from a magnitude STFT."""
    # dtype goes to librosa.filters.mel, whose float32 default would round
    # the filter weights of an otherwise float64 reference.
    mel_power = librosa.feature.melspectrogram(
        S=S ** p["power"], sr=sr, n_fft=p["n_fft"], n_mels=p["n_mels"],
        fmin=p["fmin"], fmax=p["fmax"], htk=p["htk"], norm=p["norm"], dtype=S.dtype)
    logmel = librosa.power_to_db(mel_power, ref=p["ref"], amin=p["amin"], top_db=p["top_db"])
    mfcc = librosa.feature.mfcc(S=logmel, n_mfcc=p["n_mfcc"], dct_type=2, norm="ortho",
                                lifter=p["lifter"])
    return {"mel_power": mel_power, "logmel": logmel, "mfcc": mfcc}


def librosa_features(y: np.ndarray, sr: int, p: dict) -> dict[str, np.ndarray]:
    """Every librosa output of a case, computed as librosa computes it from y,
    in y's precision (the golden files use a float64 copy of the samples)."""
    S = magnitude_stft(y, p)
    out = mel_chain(S, sr, p)
    out["mfcc_delta"] = librosa.feature.delta(out["mfcc"], width=p["delta_width"], order=1,
                                              mode="interp")
    out["mfcc_delta2"] = librosa.feature.delta(out["mfcc"], width=p["delta_width"], order=2,
                                               mode="interp")
    out["centroid"] = librosa.feature.spectral_centroid(S=S, sr=sr, n_fft=p["n_fft"])
    out["bandwidth"] = librosa.feature.spectral_bandwidth(S=S, sr=sr, n_fft=p["n_fft"])
    out["rolloff"] = librosa.feature.spectral_rolloff(S=S, sr=sr, n_fft=p["n_fft"],
                                                      roll_percent=p["roll_percent"])
    # From y, spectral_flatness takes |STFT| (power=1) and raises it to
    # power=2.0 itself, flooring at amin=1e-10: its defaults, stated here.
    out["flatness"] = librosa.feature.spectral_flatness(S=S, n_fft=p["n_fft"], power=2.0,
                                                        amin=1e-10)
    # spectral_contrast converts peaks and valleys with power_to_db's defaults
    # (ref=1, amin=1e-10, top_db=80, applied to each of the two matrices).
    out["contrast"] = librosa.feature.spectral_contrast(
        S=S, sr=sr, n_fft=p["n_fft"], fmin=p["contrast_fmin"], n_bands=p["n_bands"],
        quantile=p["quantile"])
    # zero_crossing_rate pads with mode="edge" when centred, whatever the
    # STFT's pad_mode, and counts |y| <= 1e-10 as zero and zero as positive
    # (librosa.zero_crossings defaults).
    out["zcr"] = librosa.feature.zero_crossing_rate(y, frame_length=p["n_fft"],
                                                    hop_length=p["hop_length"], center=True)
    # rms frames y with no window; its dtype argument (default float32) is the
    # precision of the mean of squares, so follow y's.
    out["rms"] = librosa.feature.rms(y=y, frame_length=p["n_fft"], hop_length=p["hop_length"],
                                     center=p["center"], pad_mode=p["pad_mode"], dtype=y.dtype)
    out.update(pitch_features(y, sr, p))
    # onset_strength with its defaults (lag 1, max_size 1, mean over bands,
    # power_to_db's defaults) over the case's mel spectrogram; its `center`
    # is its own (the mel STFT is always centred), and every case centres.
    out["onset"] = librosa.onset.onset_strength(
        y=y, sr=sr, n_fft=p["n_fft"], hop_length=p["hop_length"], win_length=p["win_length"],
        pad_mode=p["pad_mode"], center=p["center"], n_mels=p["n_mels"], fmin=p["fmin"],
        fmax=p["fmax"] if p["fmax"] is not None else sr / 2, htk=p["htk"], norm=p["norm"],
        power=p["power"])[np.newaxis]
    # chroma_stft from y: power spectrogram, tuning estimated per clip when
    # None, filters.chroma in its default float32.
    out["chroma"] = librosa.feature.chroma_stft(
        y=y, sr=sr, n_fft=p["n_fft"], hop_length=p["hop_length"], win_length=p["win_length"],
        center=p["center"], pad_mode=p["pad_mode"], n_chroma=p["n_chroma"], tuning=p["tuning"])
    # tonnetz of that chroma (librosa's default would compute chroma_cqt).
    out["tonnetz"] = librosa.feature.tonnetz(chroma=out["chroma"], sr=sr)
    return out


def f0_fmax(sr: int, p: dict) -> float:
    return p["f0_fmax"] if p["f0_fmax"] is not None else min(C7, sr / 2)


def fill_unvoiced(f0: np.ndarray, voiced: np.ndarray, policy: str) -> np.ndarray:
    """The f0 row the project documents for unvoiced frames, from librosa's
    NaN-filled f0 (fill_na=np.nan) and its decoded pitch (fill_na=None)."""
    guess, f0 = f0
    if policy == "guess":
        return guess
    out = np.where(voiced, f0, 0.0)
    idx = np.flatnonzero(voiced)
    if policy == "zero" or len(idx) == 0:
        return out
    if policy == "hold":
        # Forward fill, the leading gap taking the first voiced value.
        last = np.maximum.accumulate(np.where(voiced, np.arange(len(f0)), -1))
        last[last < 0] = idx[0]
        return f0[last]
    if policy == "interpolate":
        # np.interp holds the end values beyond the first and last voiced frame.
        return np.interp(np.arange(len(f0)), idx, f0[idx])
    raise ValueError(policy)


def pitch_features(y: np.ndarray, sr: int, p: dict) -> dict[str, np.ndarray]:
    """pyin (its defaults but fmin, fmax, frame_length, hop) and yin, framed
    like the STFT: hop_length, center, pad_mode of the case."""
    kw = dict(sr=sr, fmin=p["f0_fmin"], fmax=f0_fmax(sr, p), frame_length=p["f0_frame_length"],
              hop_length=p["hop_length"], center=p["center"], pad_mode=p["pad_mode"])
    f0_nan, voiced, voiced_prob = librosa.pyin(y, **kw)
    guess, voiced2, _ = librosa.pyin(y, fill_na=None, **kw)
    assert np.array_equal(voiced, voiced2)
    assert np.array_equal(np.isnan(f0_nan), ~voiced)
    yin = librosa.yin(y, trough_threshold=p["yin_threshold"], **kw)
    return {
        "f0_guess": guess[np.newaxis],
        "voiced": voiced.astype(np.float64)[np.newaxis],
        "voiced_prob": voiced_prob[np.newaxis],
        "f0": fill_unvoiced((guess, f0_nan), voiced, p["f0_unvoiced"])[np.newaxis],
        "yin": yin[np.newaxis],
    }


def torchaudio_features(y32: np.ndarray, sr: int, dtype: torch.dtype) -> dict[str, np.ndarray]:
    """torchaudio.transforms.MFCC with its defaults, and the log-mel inside it
    (MelSpectrogram + AmplitudeToDB("power", top_db=80), as MFCC composes
    them when log_mels=False)."""
    x = torch.from_numpy(y32).to(dtype).unsqueeze(0)
    mfcc_t = torchaudio.transforms.MFCC(sample_rate=sr).to(dtype)
    mel_t = torchaudio.transforms.MelSpectrogram(sample_rate=sr).to(dtype)
    to_db = torchaudio.transforms.AmplitudeToDB("power", top_db=80.0).to(dtype)
    with torch.no_grad():
        mfcc = mfcc_t(x)[0]
        logmel = to_db(mel_t(x))[0]
    return {"logmel": logmel.numpy().astype(np.float64), "mfcc": mfcc.numpy().astype(np.float64)}


def check_torchaudio_params(y32: np.ndarray, sr: int, p: dict, got: dict[str, np.ndarray]) -> str:
    """The params recorded for a torchaudio case must describe what torchaudio
    computed: run them through the librosa definitions and require agreement.
    Not to float64 rounding: torchaudio builds its mel filterbank and DCT
    matrix in float32 (melscale_fbanks, create_dct), about 1e-5 off in the
    weights, which moves log-mel by up to a few 1e-3 dB. The bound is half
    the tolerance the Rust tests apply."""
    expected = mel_chain(magnitude_stft(y32.astype(np.float64), p), sr, p)
    errors = []
    for key in TORCHAUDIO_OUTPUTS:
        err = np.max(np.abs(expected[key] - got[key]))
        if err > 5e-3:
            sys.exit(f"make_golden: torchaudio {key} differs by {err:.3g} dB from the "
                     "librosa definitions with its recorded params")
        errors.append(f"{key} {err:.1e} dB")
    return ", ".join(errors)


def single_precision_gap(y32: np.ndarray, sr: int, p: dict, reference: str,
                         ref: dict[str, np.ndarray], keys) -> str:
    """How far the same computation in float32 lands from the stored float64
    reference: whether the tolerances are within single precision's reach.
    dB-valued outputs in absolute dB, the others relative to their maximum."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if reference == "librosa":
            f32 = librosa_features(y32, sr, p)
        else:
            f32 = torchaudio_features(y32, sr, torch.float32)
    parts = []
    for key in keys:
        err = np.max(np.abs(f32[key].astype(np.float64) - ref[key]))
        if key in DB_OUTPUTS:
            parts.append(f"{key} {err:.1e} dB")
        else:
            parts.append(f"{key} {err / max(np.max(np.abs(ref[key])), 1e-30):.1e}")
    return ", ".join(parts)


# ------------------------------------------------------------------- main


def save_npy(path: Path, array: np.ndarray) -> None:
    # C order always: librosa's STFT is Fortran-ordered and np.save would say so.
    np.save(path, np.ascontiguousarray(array, dtype=np.float32), allow_pickle=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=HERE,
                        help="folder to write into (default: this script's folder)")
    parser.add_argument("--gap", action="store_true",
                        help="also report how far a float32 computation lands from each reference")
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)

    names = [c[0] for c in CASES]
    if len(set(names)) != len(names):
        sys.exit("make_golden: case names must be unique")

    manifest_cases = []
    for name, sr, signal, reference, params in CASES:
        assert tuple(params) == PARAM_KEYS, name
        y32 = signal(sr, out)
        if reference == "librosa":
            with warnings.catch_warnings():
                # A clip shorter than n_fft is one of the cases on purpose.
                warnings.filterwarnings("ignore", message=r"n_fft=\d+ is too large")
                # Silence has no peaks to estimate a chroma tuning from (0 then).
                warnings.filterwarnings("ignore", message="Trying to estimate tuning")
                features = librosa_features(y32.astype(np.float64), sr, params)
            keys = LIBROSA_OUTPUTS
        else:
            with warnings.catch_warnings():
                # n_mels=128 over n_fft=400 leaves some filters empty, as
                # torchaudio's defaults do at 8 and 16 kHz.
                warnings.filterwarnings("ignore", message="At least one mel filterbank")
                warnings.filterwarnings("ignore", message="Empty filters detected")
                features = torchaudio_features(y32, sr, torch.float64)
                agreement = check_torchaudio_params(y32, sr, params, features)
            keys = TORCHAUDIO_OUTPUTS

        case_dir = out / name
        tmp = out / f".{name}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        save_npy(tmp / "samples.npy", y32)
        outputs = {}
        for key in keys:
            array = features[key]
            if array.ndim != 2 or not np.all(np.isfinite(array)):
                sys.exit(f"make_golden: {name}/{key} has shape {array.shape} or non-finite values")
            save_npy(tmp / f"{key}.npy", array)
            outputs[key] = f"{name}/{key}.npy"
        shutil.rmtree(case_dir, ignore_errors=True)
        tmp.rename(case_dir)

        frames = features["mfcc"].shape[1]
        line = f"{name}: {reference}, {sr} Hz, {len(y32)} samples, {frames} frames"
        if reference == "torchaudio":
            line += f"\n    librosa definitions with these params: {agreement}"
        if args.gap:
            line += "\n    float32 gap: " + single_precision_gap(y32, sr, params, reference, features, keys)
        print(line, file=sys.stderr)

        manifest_cases.append({
            "name": name,
            "sample_rate": sr,
            "samples": f"{name}/samples.npy",
            "params": params,
            "reference": reference,
            "outputs": outputs,
        })

    # Case folders from an earlier run that the list no longer has.
    for entry in sorted(out.iterdir()):
        if entry.is_dir() and (entry / "samples.npy").is_file() and entry.name not in names:
            print(f"make_golden: removing stale case {entry.name}", file=sys.stderr)
            shutil.rmtree(entry)

    manifest = {
        "librosa_version": librosa.__version__,
        "torchaudio_version": torchaudio.__version__,
        "numpy_version": np.__version__,
        "cases": manifest_cases,
    }
    tmp = out / ".manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=2) + "\n")
    tmp.rename(out / "manifest.json")
    print(f"make_golden: wrote {len(manifest_cases)} cases to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
