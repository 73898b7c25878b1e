//! `spec.json`: everything a program outside Cochlea needs to feed an
//! exported model, in librosa's terms (docs/python.md reads it).

use serde::Serialize;

use cochlea_features::{FeatureConfig, FeatureKind, MelNorm, MelScale, PadMode, Window};

use crate::config::NormMethod;
use crate::spec::BundleMeta;

/// Version of the `spec.json` layout; raised when a field changes meaning.
pub const SPEC_SCHEMA_VERSION: u32 = 1;

/// The whole `spec.json`.
#[derive(Debug, Serialize)]
pub struct Recipe {
    /// Layout version of this file.
    pub schema_version: u32,
    /// `"torchscript"` or `"onnx"`.
    pub format: String,
    /// The model file, relative to this file's folder.
    pub model_file: String,
    /// ONNX opset of the model file (ONNX only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opset: Option<u32>,
    /// Class names in output order.
    pub classes: Vec<String>,
    /// What the module takes.
    pub input: Input,
    /// What the module returns.
    pub output: Output,
    /// How audio becomes the input.
    pub audio: Audio,
    /// The feature settings with librosa's names.
    pub features: Features,
    /// The length rule, applied inside the module.
    pub length: Length,
    /// The normalization, applied inside the module.
    pub normalization: Normalization,
    /// Where the model came from.
    pub model: Provenance,
}

/// The module's input.
#[derive(Debug, Serialize)]
pub struct Input {
    /// Tensor name in ONNX; documentation in TorchScript.
    pub name: String,
    /// `["batch", rows, "frames"]`.
    pub shape: (String, usize, String),
    /// Always `"float32"`.
    pub dtype: String,
    /// Feature rows (the matrix's first axis).
    pub rows: usize,
    /// Name of each row, in order.
    pub row_names: Vec<String>,
    /// Raw or normalized features.
    pub features: String,
}

/// The module's output.
#[derive(Debug, Serialize)]
pub struct Output {
    /// Tensor name in ONNX.
    pub name: String,
    /// `["batch", n_classes]`.
    pub shape: (String, usize),
    /// What the numbers are.
    pub meaning: String,
}

/// Decoding and resampling.
#[derive(Debug, Serialize)]
pub struct Audio {
    /// The rate the audio is resampled to, Hz (librosa `sr`).
    pub sample_rate: u32,
    /// How several channels become one.
    pub channels: String,
    /// Integer samples to floats.
    pub scaling: String,
}

/// The feature recipe.
#[derive(Debug, Serialize)]
pub struct Features {
    /// Row blocks in order: `mfcc`, `logmel`, `centroid`, ...
    pub kinds: Vec<String>,
    /// Delta orders appended after each `mfcc` / `logmel` block (0, 1 or 2).
    pub deltas: u8,
    /// Every setting under its librosa argument name.
    pub librosa: Librosa,
    /// The same settings as Cochlea's `[features]` section.
    pub cochlea: FeatureConfig,
    /// The librosa calls, in words.
    pub calls: Vec<String>,
}

/// Settings under librosa's argument names.
#[derive(Debug, Serialize)]
pub struct Librosa {
    /// `librosa.stft(n_fft=...)`.
    pub n_fft: usize,
    /// `hop_length`.
    pub hop_length: usize,
    /// `win_length`.
    pub win_length: usize,
    /// `window` (periodic).
    pub window: String,
    /// `center`.
    pub center: bool,
    /// `pad_mode`.
    pub pad_mode: String,
    /// `melspectrogram(power=...)`.
    pub power: f64,
    /// `n_mels`.
    pub n_mels: usize,
    /// `fmin`.
    pub fmin: f64,
    /// `fmax` (Hz, resolved).
    pub fmax: f64,
    /// `htk`.
    pub htk: bool,
    /// `norm` of `librosa.filters.mel` (`"slaney"` or null).
    pub norm: Option<String>,
    /// `power_to_db(ref=...)`.
    #[serde(rename = "ref")]
    pub ref_db: f64,
    /// `power_to_db(amin=...)`.
    pub amin: f64,
    /// `power_to_db(top_db=...)`, null for none.
    pub top_db: Option<f64>,
    /// `mfcc(n_mfcc=...)`.
    pub n_mfcc: usize,
    /// `mfcc(dct_type=...)`.
    pub dct_type: u8,
    /// `mfcc(norm=...)`.
    pub dct_norm: String,
    /// `mfcc(lifter=...)`.
    pub lifter: f64,
    /// `delta(width=...)`.
    pub delta_width: usize,
    /// `delta(mode=...)`.
    pub delta_mode: String,
    /// `spectral_rolloff(roll_percent=...)`.
    pub roll_percent: f64,
    /// `spectral_contrast(n_bands=...)`.
    pub n_bands: usize,
    /// `spectral_contrast(fmin=...)`.
    pub contrast_fmin: f64,
    /// `spectral_contrast(quantile=...)`.
    pub quantile: f64,
    /// `pyin(fmin=...)` / `yin(fmin=...)`, Hz.
    pub f0_fmin: f64,
    /// `pyin(fmax=...)` / `yin(fmax=...)`, Hz (resolved).
    pub f0_fmax: f64,
    /// `pyin(frame_length=...)` / `yin(frame_length=...)`.
    pub f0_frame_length: usize,
    /// What the `f0` row holds where `pyin` says unvoiced (librosa NaN):
    /// `"zero"`, `"hold"`, `"interpolate"` or `"guess"` (`fill_na=None`).
    pub f0_unvoiced: String,
    /// `yin(trough_threshold=...)`.
    pub yin_threshold: f64,
    /// `chroma_stft(n_chroma=...)`.
    pub n_chroma: usize,
    /// `chroma_stft(tuning=...)`, null = estimated per clip (librosa's default).
    pub tuning: Option<f64>,
}

/// Length fitting.
#[derive(Debug, Serialize)]
pub struct Length {
    /// Frames the network sees.
    pub clip_frames: usize,
    /// `"zero"` (zeros after the normalized clip) or `"repeat"`.
    pub pad: String,
    /// `"center"` (start `(n - clip_frames) // 2`) or `"start"`.
    pub crop: String,
    /// True: the module does it; pass the whole clip.
    pub inside_model: bool,
}

/// Normalization.
#[derive(Debug, Serialize)]
pub struct Normalization {
    /// `standard`, `minmax`, `utterance` or `none`.
    pub method: String,
    /// Per row, subtracted first.
    pub offset: Vec<f32>,
    /// Per row, multiplied after.
    pub scale: Vec<f32>,
    /// True: the module does it; pass raw features.
    pub inside_model: bool,
}

/// Where the model came from.
#[derive(Debug, Serialize)]
pub struct Provenance {
    /// Run name.
    pub run: String,
    /// Fold (`all` for a final model trained on all data).
    pub fold: String,
    /// Networks averaged.
    pub members: usize,
    /// BLAKE3 of the run's resolved config.
    pub config_hash: String,
    /// BLAKE3 of the training data.
    pub data_hash: String,
    /// The Cochlea version that exported it.
    pub cochlea_version: String,
}

/// `spec.json` of a model exported as `format` to `model_file`.
pub fn recipe(
    meta: &BundleMeta,
    classes: &[String],
    members: usize,
    format: &str,
    model_file: &str,
    opset: Option<u32>,
) -> Recipe {
    let spec = &meta.input;
    let f = &spec.features;
    let rows = spec.row_names.len();
    Recipe {
        schema_version: SPEC_SCHEMA_VERSION,
        format: format.to_string(),
        model_file: model_file.to_string(),
        opset,
        classes: classes.to_vec(),
        input: Input {
            name: "features".into(),
            shape: ("batch".into(), rows, "frames".into()),
            dtype: "float32".into(),
            rows,
            row_names: spec.row_names.clone(),
            features: "raw, as computed by the recipe below (not normalized); any number of \
                       frames >= 1, the same for every clip of a batch"
                .into(),
        },
        output: Output {
            name: "probabilities".into(),
            shape: ("batch".into(), classes.len()),
            meaning: if members > 1 {
                format!("class probabilities: the mean of {members} networks' softmax")
            } else {
                "class probabilities (softmax); each row sums to 1".into()
            },
        },
        audio: Audio {
            sample_rate: spec.sample_rate,
            channels: "mean of the channels (mono)".into(),
            scaling: "integer PCM divided by 2^(bits-1) (as soundfile's float32)".into(),
        },
        features: Features {
            kinds: f.kinds.iter().map(|k| k.name().to_string()).collect(),
            deltas: f.deltas,
            librosa: librosa(f, spec.sample_rate),
            cochlea: f.clone(),
            calls: calls(f),
        },
        length: Length {
            clip_frames: spec.clip_frames,
            pad: enum_name(&spec.pad),
            crop: enum_name(&spec.crop),
            inside_model: true,
        },
        normalization: Normalization {
            method: enum_name(&spec.normalizer.method),
            offset: match spec.normalizer.method {
                NormMethod::Standard | NormMethod::Minmax => spec.normalizer.offset.clone(),
                _ => Vec::new(),
            },
            scale: match spec.normalizer.method {
                NormMethod::Standard | NormMethod::Minmax => spec.normalizer.scale.clone(),
                _ => Vec::new(),
            },
            inside_model: true,
        },
        model: Provenance {
            run: meta.run.clone(),
            fold: meta.fold.clone(),
            members,
            config_hash: meta.config_hash.clone(),
            data_hash: meta.data_hash.clone(),
            cochlea_version: env!("CARGO_PKG_VERSION").to_string(),
        },
    }
}

/// A unit enum's serde name.
fn enum_name<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn librosa(f: &FeatureConfig, sr: u32) -> Librosa {
    Librosa {
        n_fft: f.n_fft,
        hop_length: f.hop_length,
        win_length: f.win_length.unwrap_or(f.n_fft),
        window: match f.window {
            Window::Hann => "hann",
            Window::Hamming => "hamming",
            Window::Boxcar => "boxcar",
        }
        .into(),
        center: f.center,
        pad_mode: match f.pad_mode {
            PadMode::Constant => "constant",
            PadMode::Reflect => "reflect",
        }
        .into(),
        power: f.power,
        n_mels: f.n_mels,
        fmin: f.fmin,
        fmax: f.fmax(sr),
        htk: f.mel_scale == MelScale::Htk,
        norm: match f.mel_norm {
            MelNorm::Slaney => Some("slaney".into()),
            MelNorm::None => None,
        },
        ref_db: f.ref_db,
        amin: f.amin,
        top_db: f.top_db,
        n_mfcc: f.n_mfcc,
        dct_type: 2,
        dct_norm: "ortho".into(),
        lifter: f.lifter,
        delta_width: f.delta_width,
        delta_mode: "interp".into(),
        roll_percent: f.rolloff_percent,
        n_bands: f.contrast_bands,
        contrast_fmin: f.contrast_fmin,
        quantile: f.contrast_quantile,
        f0_fmin: f.f0_fmin,
        f0_fmax: f.f0_fmax(sr),
        f0_frame_length: f.f0_frame_length,
        f0_unvoiced: enum_name(&f.f0_unvoiced),
        yin_threshold: f.yin_threshold,
        n_chroma: f.n_chroma,
        tuning: f.chroma_tuning,
    }
}

/// The librosa call of each row block, in order.
fn calls(f: &FeatureConfig) -> Vec<String> {
    let deltas = match f.deltas {
        0 => String::new(),
        1 => " + delta(order=1, width, mode)".into(),
        _ => " + delta(order=1) + delta(order=2) (width, mode)".into(),
    };
    f.kinds
        .iter()
        .map(|k| match k {
            FeatureKind::Mfcc => format!(
                "mfcc: S = |stft(y, n_fft, hop_length, win_length, window, center, pad_mode)|; \
                 M = melspectrogram(S=S**power, sr, n_fft, n_mels, fmin, fmax, htk, norm); \
                 L = power_to_db(M, ref, amin, top_db); mfcc(S=L, n_mfcc, dct_type, norm=dct_norm, lifter){deltas}"
            ),
            FeatureKind::Logmel => format!("logmel: L as for mfcc{deltas}"),
            FeatureKind::Centroid => "centroid: spectral_centroid(S=S, sr, n_fft)".into(),
            FeatureKind::Bandwidth => "bandwidth: spectral_bandwidth(S=S, sr, n_fft)".into(),
            FeatureKind::Rolloff => {
                "rolloff: spectral_rolloff(S=S, sr, n_fft, roll_percent)".into()
            }
            FeatureKind::Flatness => {
                "flatness: spectral_flatness(S=S, n_fft, power=2.0, amin=1e-10)".into()
            }
            FeatureKind::Contrast => {
                "contrast: spectral_contrast(S=S, sr, n_fft, fmin=contrast_fmin, n_bands, quantile)"
                    .into()
            }
            FeatureKind::Zcr => {
                "zcr: zero_crossing_rate(y, frame_length=n_fft, hop_length, center=True)".into()
            }
            FeatureKind::Rms => {
                "rms: rms(y=y, frame_length=n_fft, hop_length, center, pad_mode)".into()
            }
            FeatureKind::F0 => "f0: pyin(y, fmin=f0_fmin, fmax=f0_fmax, sr, \
                 frame_length=f0_frame_length, hop_length, center, pad_mode) f0, NaN frames \
                 filled as f0_unvoiced says"
                .into(),
            FeatureKind::Voiced => "voiced: pyin(...) voiced_flag as 0/1".into(),
            FeatureKind::VoicedProb => "voiced_prob: pyin(...) voiced_prob".into(),
            FeatureKind::Yin => "yin: yin(y, fmin=f0_fmin, fmax=f0_fmax, sr, \
                 frame_length=f0_frame_length, hop_length, trough_threshold=yin_threshold, \
                 center, pad_mode)"
                .into(),
            FeatureKind::Onset => "onset: onset_strength(y=y, sr, n_fft, hop_length, \
                 win_length, window, pad_mode, center, n_mels, fmin, fmax, htk, norm, power)"
                .into(),
            FeatureKind::Chroma => "chroma: chroma_stft(y=y, sr, n_fft, hop_length, win_length, \
                 window, center, pad_mode, n_chroma, tuning)"
                .into(),
            FeatureKind::Tonnetz => "tonnetz: tonnetz(chroma=chroma_stft(...) as for chroma)".into(),
            FeatureKind::Raw => "raw: the samples as one row".into(),
        })
        .collect()
}
