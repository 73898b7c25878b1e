//! The `[features]` section of a configuration: which features to compute and
//! with which STFT, mel, MFCC and spectral settings.
//!
//! Every key has the project's default (tuned for 8 kHz speech such as FSDD);
//! `preset = "librosa"` or `preset = "torchaudio"` swaps those defaults for the
//! defaults of `librosa.feature.mfcc` / `librosa.feature.melspectrogram` or of
//! `torchaudio.transforms.MFCC`, and any key written explicitly still wins.
//! Deserializing resolves the preset at once, so a [`FeatureConfig`] always
//! holds concrete values and serializes back to the same settings.

use serde::{Deserialize, Serialize, Serializer};

use crate::Error;

/// Where the defaults of the keys not written explicitly come from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// librosa 0.11 `feature.mfcc` / `feature.melspectrogram` defaults:
    /// n_fft 2048, hop 512, 128 Slaney mels, 20 MFCCs, zero centre padding.
    Librosa,
    /// `torchaudio.transforms.MFCC` defaults: n_fft 400, hop 200, 128 HTK
    /// mels without norm, 40 MFCCs, reflect centre padding.
    Torchaudio,
    /// The project's defaults for 8 kHz speech: n_fft 256, hop 80, 40
    /// Slaney mels, 13 MFCCs.
    #[default]
    Custom,
}

/// One block of rows in a feature matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeatureKind {
    /// MFCCs (`librosa.feature.mfcc`), `n_mfcc` rows, followed by their
    /// deltas when `deltas > 0`.
    Mfcc,
    /// Log-mel power in dB (`power_to_db(melspectrogram)`), `n_mels` rows,
    /// followed by their deltas when `deltas > 0`.
    Logmel,
    /// Spectral centroid in Hz (`librosa.feature.spectral_centroid`).
    Centroid,
    /// Spectral bandwidth (p = 2) in Hz (`librosa.feature.spectral_bandwidth`).
    Bandwidth,
    /// Roll-off frequency in Hz (`librosa.feature.spectral_rolloff`).
    Rolloff,
    /// Spectral flatness, 0..1 (`librosa.feature.spectral_flatness`).
    Flatness,
    /// Spectral contrast in dB, `contrast_bands + 1` rows
    /// (`librosa.feature.spectral_contrast`).
    Contrast,
    /// Zero-crossing rate, 0..1 (`librosa.feature.zero_crossing_rate`).
    Zcr,
    /// Root-mean-square amplitude per frame (`librosa.feature.rms`).
    Rms,
    /// Fundamental frequency in Hz by pYIN (`librosa.pyin`, `f0`), with
    /// unvoiced frames filled as `f0_unvoiced` says (never NaN).
    F0,
    /// pYIN's voicing decision, 1 voiced / 0 unvoiced (`voiced_flag`).
    Voiced,
    /// pYIN's probability that the frame is voiced, 0..1 (`voiced_prob`).
    #[serde(rename = "voiced_prob")]
    VoicedProb,
    /// Fundamental frequency in Hz by plain YIN (`librosa.yin`), every frame.
    Yin,
    /// Onset strength: mean positive change of the log-mel spectrum from the
    /// previous frame (`librosa.onset.onset_strength`).
    Onset,
    /// Chromagram, `n_chroma` rows, each frame scaled to a maximum of 1
    /// (`librosa.feature.chroma_stft`).
    Chroma,
    /// Tonal centroids, 6 rows (`librosa.feature.tonnetz`), computed from the
    /// `chroma` rows (chroma_stft), not librosa's default chroma_cqt.
    Tonnetz,
    /// The waveform itself as a single row, one "frame" per sample. Only
    /// useful to show that raw samples make poor CNN input; cannot be combined
    /// with other kinds.
    Raw,
}

impl FeatureKind {
    /// Every kind that computes per-frame rows, in declaration order: all
    /// but [`FeatureKind::Raw`], and all of them can share one matrix.
    pub const FRAME_KINDS: [FeatureKind; 16] = [
        FeatureKind::Mfcc,
        FeatureKind::Logmel,
        FeatureKind::Centroid,
        FeatureKind::Bandwidth,
        FeatureKind::Rolloff,
        FeatureKind::Flatness,
        FeatureKind::Contrast,
        FeatureKind::Zcr,
        FeatureKind::Rms,
        FeatureKind::F0,
        FeatureKind::Voiced,
        FeatureKind::VoicedProb,
        FeatureKind::Yin,
        FeatureKind::Onset,
        FeatureKind::Chroma,
        FeatureKind::Tonnetz,
    ];

    /// Whether the kind comes from pYIN (one shared computation).
    pub fn is_pyin(self) -> bool {
        matches!(
            self,
            FeatureKind::F0 | FeatureKind::Voiced | FeatureKind::VoicedProb
        )
    }

    /// Whether the kind frames the signal with `f0_frame_length`.
    pub fn is_pitch(self) -> bool {
        self.is_pyin() || self == FeatureKind::Yin
    }

    /// The name used in configs and row names.
    pub fn name(self) -> &'static str {
        match self {
            FeatureKind::Mfcc => "mfcc",
            FeatureKind::Logmel => "logmel",
            FeatureKind::Centroid => "centroid",
            FeatureKind::Bandwidth => "bandwidth",
            FeatureKind::Rolloff => "rolloff",
            FeatureKind::Flatness => "flatness",
            FeatureKind::Contrast => "contrast",
            FeatureKind::Zcr => "zcr",
            FeatureKind::Rms => "rms",
            FeatureKind::F0 => "f0",
            FeatureKind::Voiced => "voiced",
            FeatureKind::VoicedProb => "voiced_prob",
            FeatureKind::Yin => "yin",
            FeatureKind::Onset => "onset",
            FeatureKind::Chroma => "chroma",
            FeatureKind::Tonnetz => "tonnetz",
            FeatureKind::Raw => "raw",
        }
    }
}

/// STFT window, always periodic (`scipy.signal.get_window(..., fftbins=True)`,
/// `torch.hann_window(periodic=True)`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Window {
    /// Periodic Hann, librosa's and torchaudio's default.
    #[default]
    Hann,
    /// Periodic Hamming (0.54 - 0.46 cos).
    Hamming,
    /// Rectangular (all ones).
    Boxcar,
}

/// How the signal is extended at both ends when frames are centred.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PadMode {
    /// Zeros, librosa >= 0.10's default (`np.pad(mode="constant")`).
    #[default]
    Constant,
    /// Mirror without repeating the edge sample (`np.pad(mode="reflect")`),
    /// torchaudio's default.
    Reflect,
}

/// Hz-to-mel formula (`htk` argument of `librosa.filters.mel`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MelScale {
    /// Slaney's Auditory Toolbox: linear below 1 kHz, logarithmic above
    /// (librosa's default, `htk=False`).
    #[default]
    Slaney,
    /// `2595 log10(1 + f / 700)` (`htk=True`, torchaudio's default).
    Htk,
}

/// Normalisation of the mel filters (`norm` argument of `librosa.filters.mel`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MelNorm {
    /// Each triangle divided by its width in Hz / 2, so each filter has
    /// roughly constant energy (`norm="slaney"`, librosa's default).
    #[default]
    Slaney,
    /// Triangles peak at 1 (`norm=None`, torchaudio's default).
    None,
}

/// What the `f0` row holds in frames pYIN decodes as unvoiced, where
/// librosa returns NaN (`fill_na=np.nan`); the network cannot take NaN.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum F0Unvoiced {
    /// 0 Hz.
    #[default]
    Zero,
    /// The last voiced frame's f0; frames before the first voiced one take
    /// the first voiced f0.
    Hold,
    /// Linear in time between the voiced frames on either side; frames
    /// before the first or after the last voiced one take its f0.
    Interpolate,
    /// pYIN's own best guess: the pitch of the decoded unvoiced state
    /// (`librosa.pyin(fill_na=None)`).
    Guess,
}

/// What the model sees of a clip (`features.pooling`).
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Pooling {
    /// The normalized frames, fitted to the clip length.
    #[default]
    None,
    /// Per feature row, statistics over the clip's frames (mean, standard
    /// deviation, 10th/50th/90th percentiles, range, linear slope), an
    /// eGeMAPS-style summary: one frame of `rows x 7` values.
    Functionals,
}

impl Pooling {
    /// True for [`Pooling::None`].
    pub fn is_none(&self) -> bool {
        *self == Pooling::None
    }
}

/// The feature settings, resolved: every field holds a concrete value.
///
/// In TOML it is the `[features]` table; `top_db = false` turns the dB floor
/// off. Call [`FeatureConfig::validate`] (or build an
/// [`Extractor`](crate::Extractor), which does) before use.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(from = "RawFeatureConfig")]
pub struct FeatureConfig {
    /// Where the defaults came from; default `"custom"` (the project's).
    pub preset: Preset,
    /// What the model sees of each clip: its frames (`"none"`, default) or
    /// per-row statistics over time (`"functionals"`), computed by the
    /// pipeline after normalization. The extractor itself ignores it.
    #[serde(skip_serializing_if = "Pooling::is_none")]
    pub pooling: Pooling,
    /// Which row blocks to compute, in this order; default `["mfcc"]`.
    pub kinds: Vec<FeatureKind>,
    /// FFT size in samples; default 256 (librosa `n_fft`).
    pub n_fft: usize,
    /// Samples between frame starts; default 80 (librosa `hop_length`).
    pub hop_length: usize,
    /// Window length in samples, centred and zero-padded to `n_fft`; default
    /// none = `n_fft` (librosa `win_length`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub win_length: Option<usize>,
    /// Window function, periodic; default `"hann"` (librosa `window`).
    pub window: Window,
    /// Centre frame `t` on sample `t * hop_length` by padding `n_fft / 2` at
    /// both ends; default true (librosa `center`).
    pub center: bool,
    /// Padding used when centring; default `"constant"` (librosa `pad_mode`).
    pub pad_mode: PadMode,
    /// Exponent of the magnitude spectrum fed to the mel bank: 2.0 power,
    /// 1.0 magnitude; default 2.0 (librosa `power`).
    pub power: f64,
    /// Number of mel bands; default 40 (librosa `n_mels`).
    pub n_mels: usize,
    /// Lowest mel filter edge in Hz; default 0.0 (librosa `fmin`).
    pub fmin: f64,
    /// Highest mel filter edge in Hz; default none = sample rate / 2
    /// (librosa `fmax`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fmax: Option<f64>,
    /// Hz-to-mel formula; default `"slaney"` (librosa `htk=False`).
    pub mel_scale: MelScale,
    /// Mel filter normalisation; default `"slaney"` (librosa `norm`).
    pub mel_norm: MelNorm,
    /// Floor of the log-mel spectrogram in dB below the clip's maximum, or
    /// `false` for none; default 80.0 (librosa `top_db`).
    #[serde(serialize_with = "serialize_top_db")]
    pub top_db: Option<f64>,
    /// Power that maps to 0 dB; default 1.0 (librosa `ref`).
    pub ref_db: f64,
    /// Smallest power before the logarithm; default 1e-10 (librosa `amin`).
    pub amin: f64,
    /// Number of MFCCs kept; default 13 (librosa `n_mfcc`).
    pub n_mfcc: usize,
    /// Cepstral liftering coefficient, 0 = off; default 0 (librosa `lifter`).
    pub lifter: f64,
    /// 0 = none, 1 = add deltas, 2 = add deltas and delta-deltas of the MFCC
    /// and log-mel rows; default 0 (`librosa.feature.delta` `order`).
    pub deltas: u8,
    /// Frames in the Savitzky-Golay window of the deltas, odd >= 3; default 9
    /// (librosa `delta(width=...)`).
    pub delta_width: usize,
    /// Fraction of the spectral energy below the roll-off frequency; default
    /// 0.85 (librosa `roll_percent`).
    pub rolloff_percent: f64,
    /// Number of octave bands of spectral contrast (the output has one more
    /// row); default 6 (librosa `n_bands`).
    pub contrast_bands: usize,
    /// Upper edge in Hz of the lowest contrast band; default 200.0 (librosa
    /// `fmin` of `spectral_contrast`).
    pub contrast_fmin: f64,
    /// Fraction of each band's bins averaged for its peak and valley;
    /// default 0.02 (librosa `quantile`).
    pub contrast_quantile: f64,
    /// Lowest pitch in Hz that pYIN and YIN look for; default 65.406 (C2,
    /// librosa `fmin` as its docs recommend).
    pub f0_fmin: f64,
    /// Highest pitch in Hz; default none = the smaller of 2093.005 (C7,
    /// librosa `fmax` as its docs recommend) and the Nyquist frequency.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub f0_fmax: Option<f64>,
    /// Samples per pYIN/YIN frame, centred like the STFT frames; default
    /// 2048 (librosa `frame_length`). Its parity must match `n_fft`'s (both
    /// even or both odd) so the frames line up; uncentred, it must equal
    /// `n_fft`.
    pub f0_frame_length: usize,
    /// The `f0` row in unvoiced frames: `"zero"`, `"hold"`, `"interpolate"`
    /// or `"guess"`; default `"zero"`.
    pub f0_unvoiced: F0Unvoiced,
    /// YIN's trough threshold; default 0.1 (librosa `trough_threshold`).
    pub yin_threshold: f64,
    /// Chroma bins per octave; default 12 (librosa `n_chroma`).
    pub n_chroma: usize,
    /// Tuning offset of the chroma bins in fractions of a bin; default none
    /// = estimated per clip from its spectrum (librosa `tuning=None`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chroma_tuning: Option<f64>,
}

impl Default for FeatureConfig {
    fn default() -> Self {
        FeatureConfig::preset(Preset::Custom)
    }
}

fn serialize_top_db<S: Serializer>(value: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    // TOML has no null: "off" is written as `false`, which reads back as off.
    match value {
        Some(db) => s.serialize_f64(*db),
        None => s.serialize_bool(false),
    }
}

/// `top_db` as written: a number of dB, or a boolean (`false` = off, `true` =
/// the preset's default).
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(untagged)]
enum TopDb {
    Switch(bool),
    Db(f64),
}

/// The `[features]` table as written: `None` = not given, take the preset's
/// default.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawFeatureConfig {
    preset: Option<Preset>,
    pooling: Option<Pooling>,
    kinds: Option<Vec<FeatureKind>>,
    n_fft: Option<usize>,
    hop_length: Option<usize>,
    win_length: Option<usize>,
    window: Option<Window>,
    center: Option<bool>,
    pad_mode: Option<PadMode>,
    power: Option<f64>,
    n_mels: Option<usize>,
    fmin: Option<f64>,
    fmax: Option<f64>,
    mel_scale: Option<MelScale>,
    mel_norm: Option<MelNorm>,
    top_db: Option<TopDb>,
    ref_db: Option<f64>,
    amin: Option<f64>,
    n_mfcc: Option<usize>,
    lifter: Option<f64>,
    deltas: Option<u8>,
    delta_width: Option<usize>,
    rolloff_percent: Option<f64>,
    contrast_bands: Option<usize>,
    contrast_fmin: Option<f64>,
    contrast_quantile: Option<f64>,
    f0_fmin: Option<f64>,
    f0_fmax: Option<f64>,
    f0_frame_length: Option<usize>,
    f0_unvoiced: Option<F0Unvoiced>,
    yin_threshold: Option<f64>,
    n_chroma: Option<usize>,
    chroma_tuning: Option<f64>,
}

impl From<RawFeatureConfig> for FeatureConfig {
    fn from(raw: RawFeatureConfig) -> Self {
        let preset = raw.preset.unwrap_or_default();
        let base = FeatureConfig::preset(preset);
        let n_fft = raw.n_fft.unwrap_or(base.n_fft);
        let win_length = raw.win_length.or(base.win_length);
        // torchaudio derives its hop from the window (`win_length // 2`), so a
        // torchaudio preset with only n_fft changed still hops like torchaudio.
        // librosa.feature.melspectrogram passes a fixed hop of 512.
        let default_hop = match preset {
            Preset::Torchaudio => (win_length.unwrap_or(n_fft) / 2).max(1),
            Preset::Librosa | Preset::Custom => base.hop_length,
        };
        FeatureConfig {
            preset,
            pooling: raw.pooling.unwrap_or_default(),
            kinds: raw.kinds.unwrap_or(base.kinds),
            n_fft,
            hop_length: raw.hop_length.unwrap_or(default_hop),
            win_length,
            window: raw.window.unwrap_or(base.window),
            center: raw.center.unwrap_or(base.center),
            pad_mode: raw.pad_mode.unwrap_or(base.pad_mode),
            power: raw.power.unwrap_or(base.power),
            n_mels: raw.n_mels.unwrap_or(base.n_mels),
            fmin: raw.fmin.unwrap_or(base.fmin),
            fmax: raw.fmax.or(base.fmax),
            mel_scale: raw.mel_scale.unwrap_or(base.mel_scale),
            mel_norm: raw.mel_norm.unwrap_or(base.mel_norm),
            top_db: match raw.top_db {
                None | Some(TopDb::Switch(true)) => base.top_db,
                Some(TopDb::Switch(false)) => None,
                Some(TopDb::Db(db)) => Some(db),
            },
            ref_db: raw.ref_db.unwrap_or(base.ref_db),
            amin: raw.amin.unwrap_or(base.amin),
            n_mfcc: raw.n_mfcc.unwrap_or(base.n_mfcc),
            lifter: raw.lifter.unwrap_or(base.lifter),
            deltas: raw.deltas.unwrap_or(base.deltas),
            delta_width: raw.delta_width.unwrap_or(base.delta_width),
            rolloff_percent: raw.rolloff_percent.unwrap_or(base.rolloff_percent),
            contrast_bands: raw.contrast_bands.unwrap_or(base.contrast_bands),
            contrast_fmin: raw.contrast_fmin.unwrap_or(base.contrast_fmin),
            contrast_quantile: raw.contrast_quantile.unwrap_or(base.contrast_quantile),
            f0_fmin: raw.f0_fmin.unwrap_or(base.f0_fmin),
            f0_fmax: raw.f0_fmax.or(base.f0_fmax),
            f0_frame_length: raw.f0_frame_length.unwrap_or(base.f0_frame_length),
            f0_unvoiced: raw.f0_unvoiced.unwrap_or(base.f0_unvoiced),
            yin_threshold: raw.yin_threshold.unwrap_or(base.yin_threshold),
            n_chroma: raw.n_chroma.unwrap_or(base.n_chroma),
            chroma_tuning: raw.chroma_tuning.or(base.chroma_tuning),
        }
    }
}

/// Largest accepted `n_fft`: beyond it a typo would allocate gigabytes.
const MAX_N_FFT: usize = 1 << 16;

/// Largest accepted `n_mels`. The mel bank and each clip's log-mel frames
/// grow with it, so a typo like `n_mels = 40000000000` would abort on a
/// failed allocation; common values are 40 to 128, and past `n_fft / 2 + 1`
/// filters are empty anyway.
const MAX_N_MELS: usize = 4096;

/// Largest accepted `n_chroma` (librosa has no limit; 12 is usual, 24 or 36
/// for quarter or third tones).
const MAX_N_CHROMA: usize = 120;

/// Largest accepted `delta_width`: the Savitzky-Golay weights hold
/// `width x width` values (librosa's default is 9).
const MAX_DELTA_WIDTH: usize = 999;

impl FeatureConfig {
    /// All defaults of `preset`, with `kinds = ["mfcc"]`.
    pub fn preset(preset: Preset) -> FeatureConfig {
        let project = FeatureConfig {
            preset,
            pooling: Pooling::None,
            kinds: vec![FeatureKind::Mfcc],
            n_fft: 256,
            hop_length: 80,
            win_length: None,
            window: Window::Hann,
            center: true,
            pad_mode: PadMode::Constant,
            power: 2.0,
            n_mels: 40,
            fmin: 0.0,
            fmax: None,
            mel_scale: MelScale::Slaney,
            mel_norm: MelNorm::Slaney,
            top_db: Some(80.0),
            ref_db: 1.0,
            amin: 1e-10,
            n_mfcc: 13,
            lifter: 0.0,
            deltas: 0,
            delta_width: 9,
            rolloff_percent: 0.85,
            contrast_bands: 6,
            contrast_fmin: 200.0,
            contrast_quantile: 0.02,
            f0_fmin: crate::pitch::DEFAULT_FMIN,
            f0_fmax: None,
            f0_frame_length: 2048,
            f0_unvoiced: F0Unvoiced::Zero,
            yin_threshold: 0.1,
            n_chroma: 12,
            chroma_tuning: None,
        };
        match preset {
            Preset::Custom => project,
            // librosa.feature.mfcc(n_mfcc=20) over melspectrogram(n_fft=2048,
            // hop_length=512, n_mels=128, htk=False, norm="slaney",
            // pad_mode="constant") and power_to_db(top_db=80).
            Preset::Librosa => FeatureConfig {
                n_fft: 2048,
                hop_length: 512,
                n_mels: 128,
                n_mfcc: 20,
                ..project
            },
            // torchaudio.transforms.MFCC(n_mfcc=40, log_mels=False) over
            // MelSpectrogram(n_fft=400, hop_length=200, n_mels=128,
            // mel_scale="htk", norm=None, pad_mode="reflect") and
            // AmplitudeToDB("power", top_db=80).
            Preset::Torchaudio => FeatureConfig {
                n_fft: 400,
                hop_length: 200,
                pad_mode: PadMode::Reflect,
                n_mels: 128,
                mel_scale: MelScale::Htk,
                mel_norm: MelNorm::None,
                n_mfcc: 40,
                ..project
            },
        }
    }

    /// The window length actually used (`win_length`, or `n_fft` when unset).
    pub fn win_length(&self) -> usize {
        self.win_length.unwrap_or(self.n_fft)
    }

    /// The upper mel edge actually used at `sample_rate` (`fmax`, or the
    /// Nyquist frequency when unset).
    pub fn fmax(&self, sample_rate: u32) -> f64 {
        self.fmax.unwrap_or(f64::from(sample_rate) / 2.0)
    }

    /// The highest pitch actually searched at `sample_rate` (`f0_fmax`, or
    /// the smaller of C7 and the Nyquist frequency when unset).
    pub fn f0_fmax(&self, sample_rate: u32) -> f64 {
        self.f0_fmax
            .unwrap_or_else(|| crate::pitch::DEFAULT_FMAX.min(f64::from(sample_rate) / 2.0))
    }

    /// Whether `kind` is among the requested row blocks.
    pub fn has(&self, kind: FeatureKind) -> bool {
        self.kinds.contains(&kind)
    }

    /// Check every value against `sample_rate` (Hz). Errors name the key, the
    /// value and the allowed range, e.g. `features.n_mfcc: 50 exceeds n_mels
    /// (40); allowed 1..=n_mels`.
    pub fn validate(&self, sample_rate: u32) -> Result<(), Error> {
        let sr = f64::from(sample_rate);
        let nyquist = sr / 2.0;
        if sample_rate == 0 {
            return Err(Error::Config {
                key: "sample_rate".into(),
                message: "must be at least 1 Hz".into(),
            });
        }
        if self.kinds.is_empty() {
            return Err(Error::config(
                "kinds",
                "is empty; allowed: one or more of mfcc, logmel, centroid, bandwidth, rolloff, \
                 flatness, contrast, zcr, rms, f0, voiced, voiced_prob, yin, onset, chroma, \
                 tonnetz, raw",
            ));
        }
        for (i, kind) in self.kinds.iter().enumerate() {
            if self.kinds[..i].contains(kind) {
                return Err(Error::config(
                    "kinds",
                    format!("lists \"{}\" twice; each kind is allowed once", kind.name()),
                ));
            }
        }
        if self.has(FeatureKind::Raw) && self.kinds.len() > 1 {
            return Err(Error::config(
                "kinds",
                "\"raw\" is the waveform itself (one row per sample) and cannot be combined \
                 with frame-based kinds",
            ));
        }
        if !(2..=MAX_N_FFT).contains(&self.n_fft) {
            return Err(Error::config(
                "n_fft",
                format!("{} is out of range; allowed 2..={MAX_N_FFT}", self.n_fft),
            ));
        }
        if self.hop_length == 0 {
            return Err(Error::config(
                "hop_length",
                "0 is out of range; allowed >= 1",
            ));
        }
        if let Some(win) = self.win_length
            && !(1..=self.n_fft).contains(&win)
        {
            return Err(Error::config(
                "win_length",
                format!("{win} is out of range; allowed 1..=n_fft ({})", self.n_fft),
            ));
        }
        positive("power", self.power)?;
        if !(1..=MAX_N_MELS).contains(&self.n_mels) {
            return Err(Error::config(
                "n_mels",
                format!("{} is out of range; allowed 1..={MAX_N_MELS}", self.n_mels),
            ));
        }
        if !(self.fmin.is_finite() && self.fmin >= 0.0) {
            return Err(Error::config(
                "fmin",
                format!("{} Hz is out of range; allowed 0 <= fmin < fmax", self.fmin),
            ));
        }
        let fmax = self.fmax(sample_rate);
        if !(fmax.is_finite() && fmax <= nyquist) {
            return Err(Error::config(
                "fmax",
                format!(
                    "{fmax} Hz is above the Nyquist frequency; allowed fmin < fmax <= {nyquist} Hz at {sample_rate} Hz"
                ),
            ));
        }
        if self.fmin >= fmax {
            return Err(Error::config(
                "fmin",
                format!(
                    "{} Hz is not below fmax ({fmax} Hz); allowed 0 <= fmin < fmax",
                    self.fmin
                ),
            ));
        }
        if let Some(db) = self.top_db
            && !(db.is_finite() && db >= 0.0)
        {
            return Err(Error::config(
                "top_db",
                format!("{db} is out of range; allowed a number >= 0, or false for no floor"),
            ));
        }
        positive("ref_db", self.ref_db)?;
        positive("amin", self.amin)?;
        if !(1..=self.n_mels).contains(&self.n_mfcc) {
            return Err(Error::config(
                "n_mfcc",
                format!(
                    "{} is out of range; allowed 1..=n_mels ({})",
                    self.n_mfcc, self.n_mels
                ),
            ));
        }
        if !(self.lifter.is_finite() && self.lifter >= 0.0) {
            return Err(Error::config(
                "lifter",
                format!("{} is out of range; allowed >= 0 (0 = off)", self.lifter),
            ));
        }
        if self.deltas > 2 {
            return Err(Error::config(
                "deltas",
                format!("{} is out of range; allowed 0, 1 or 2", self.deltas),
            ));
        }
        if self.deltas > 0 && !(self.has(FeatureKind::Mfcc) || self.has(FeatureKind::Logmel)) {
            return Err(Error::config(
                "deltas",
                "deltas are taken of the mfcc and logmel rows, and kinds has neither; allowed 0 without them",
            ));
        }
        if !(3..=MAX_DELTA_WIDTH).contains(&self.delta_width) || self.delta_width.is_multiple_of(2)
        {
            return Err(Error::config(
                "delta_width",
                format!(
                    "{} is out of range; allowed an odd number from 3 to {MAX_DELTA_WIDTH}",
                    self.delta_width
                ),
            ));
        }
        if !(self.rolloff_percent > 0.0 && self.rolloff_percent < 1.0) {
            return Err(Error::config(
                "rolloff_percent",
                format!(
                    "{} is out of range; allowed 0 < rolloff_percent < 1",
                    self.rolloff_percent
                ),
            ));
        }
        if self.has(FeatureKind::Contrast) {
            self.validate_contrast(sample_rate)?;
        }
        if self.kinds.iter().any(|k| k.is_pitch()) {
            self.validate_pitch(sample_rate)?;
        }
        if self.has(FeatureKind::Chroma) || self.has(FeatureKind::Tonnetz) {
            if !(1..=MAX_N_CHROMA).contains(&self.n_chroma) {
                return Err(Error::config(
                    "n_chroma",
                    format!(
                        "{} is out of range; allowed 1..={MAX_N_CHROMA}",
                        self.n_chroma
                    ),
                ));
            }
            if let Some(tuning) = self.chroma_tuning
                && !(tuning.is_finite() && (-0.5..=0.5).contains(&tuning))
            {
                return Err(Error::config(
                    "chroma_tuning",
                    format!(
                        "{tuning} is out of range; allowed -0.5..=0.5 (fractions of a chroma \
                         bin), or leave it out to estimate it per clip"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The checks of `librosa.pyin` / `librosa.yin` (`__check_yin_params`,
    /// and the transition band that must fit in the pitch bins), plus frame
    /// alignment with the STFT kinds.
    fn validate_pitch(&self, sample_rate: u32) -> Result<(), Error> {
        let sr = f64::from(sample_rate);
        let nyquist = sr / 2.0;
        let fmin = self.f0_fmin;
        let fmax = self.f0_fmax(sample_rate);
        if !(fmin.is_finite() && fmin > 0.0) {
            return Err(Error::config(
                "f0_fmin",
                format!("{fmin} Hz is out of range; allowed 0 < f0_fmin < f0_fmax"),
            ));
        }
        if !(fmax.is_finite() && fmax <= nyquist) {
            return Err(Error::config(
                "f0_fmax",
                format!(
                    "{fmax} Hz is above the Nyquist frequency; allowed f0_fmin < f0_fmax <= \
                     {nyquist} Hz at {sample_rate} Hz"
                ),
            ));
        }
        if fmin >= fmax {
            return Err(Error::config(
                "f0_fmin",
                format!(
                    "{fmin} Hz is not below f0_fmax ({fmax} Hz); allowed 0 < f0_fmin < f0_fmax"
                ),
            ));
        }
        let fl = self.f0_frame_length;
        if !(4..=MAX_N_FFT).contains(&fl) {
            return Err(Error::config(
                "f0_frame_length",
                format!("{fl} is out of range; allowed 4..={MAX_N_FFT}"),
            ));
        }
        if sr / fmin >= (fl - 1) as f64 {
            return Err(Error::config(
                "f0_frame_length",
                format!(
                    "{fl} samples hold less than one period of f0_fmin ({fmin} Hz) at \
                     {sample_rate} Hz; allowed more than {} samples, or raise f0_fmin above {:.3} Hz",
                    (sr / fmin).ceil() as usize + 1,
                    sr / (fl - 1) as f64
                ),
            ));
        }
        if self.center && fl % 2 != self.n_fft % 2 {
            return Err(Error::config(
                "f0_frame_length",
                format!(
                    "{fl} and n_fft ({}) must both be even or both odd so that centred pitch \
                     frames line up with the STFT frames",
                    self.n_fft
                ),
            ));
        }
        if !self.center && fl != self.n_fft {
            return Err(Error::config(
                "f0_frame_length",
                format!(
                    "{fl} differs from n_fft ({}); uncentred pitch frames line up with the STFT \
                     frames only at the same length",
                    self.n_fft
                ),
            ));
        }
        if !(self.yin_threshold.is_finite() && self.yin_threshold > 0.0) {
            return Err(Error::config(
                "yin_threshold",
                format!(
                    "{} is out of range; allowed a number > 0",
                    self.yin_threshold
                ),
            ));
        }
        if self.kinds.iter().any(|k| k.is_pyin()) {
            let bins = crate::pitch::n_pitch_bins(fmin, fmax);
            let width = crate::pitch::transition_width(sr, self.hop_length);
            if width > bins {
                return Err(Error::config(
                    "f0_fmax",
                    format!(
                        "f0_fmin {fmin} Hz to f0_fmax {fmax} Hz gives {bins} pitch bins of 0.1 \
                         semitone, fewer than pYIN's transition band at hop_length {} ({width} \
                         bins); widen the range or shorten hop_length",
                        self.hop_length
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The checks of `librosa.feature.spectral_contrast`, plus one it lacks:
    /// every band must hold an FFT bin, where librosa would fail on an empty
    /// index.
    fn validate_contrast(&self, sample_rate: u32) -> Result<(), Error> {
        let nyquist = f64::from(sample_rate) / 2.0;
        if !(1..=32).contains(&self.contrast_bands) {
            return Err(Error::config(
                "contrast_bands",
                format!("{} is out of range; allowed 1..=32", self.contrast_bands),
            ));
        }
        positive("contrast_fmin", self.contrast_fmin)?;
        if !(self.contrast_quantile > 0.0 && self.contrast_quantile < 1.0) {
            return Err(Error::config(
                "contrast_quantile",
                format!(
                    "{} is out of range; allowed 0 < contrast_quantile < 1",
                    self.contrast_quantile
                ),
            ));
        }
        let top_low_edge = self.contrast_fmin * 2f64.powi(self.contrast_bands as i32 - 1);
        if top_low_edge >= nyquist {
            let fit = (1..=self.contrast_bands)
                .take_while(|b| self.contrast_fmin * 2f64.powi(*b as i32 - 1) < nyquist)
                .last()
                .unwrap_or(0);
            return Err(Error::config(
                "contrast_bands",
                format!(
                    "{} octave bands from contrast_fmin {} Hz reach {top_low_edge} Hz, not below \
                     the Nyquist frequency ({nyquist} Hz); allowed at most {fit} at this rate, \
                     or lower contrast_fmin",
                    self.contrast_bands, self.contrast_fmin
                ),
            ));
        }
        if crate::spectral::contrast_bands(self, sample_rate).is_none() {
            return Err(Error::config(
                "contrast_fmin",
                format!(
                    "with n_fft {} at {sample_rate} Hz some contrast band holds no FFT bin; \
                     raise n_fft or contrast_fmin",
                    self.n_fft
                ),
            ));
        }
        Ok(())
    }
}

fn positive(key: &str, value: f64) -> Result<(), Error> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(Error::config(
            key,
            format!("{value} is out of range; allowed a number > 0"),
        ))
    }
}
