//! Feature extraction for one clip: the planned [`Extractor`] and the
//! [`FeatureMatrix`] it returns.
//!
//! Per frame, the STFT spectrum feeds the mel bank (then log, DCT) and the
//! spectral shape features directly, so no clip-sized spectrogram is kept;
//! only the log-mel frames and contrast peaks wait for the clip-wide `top_db`
//! floor. Scratch buffers live in a thread-local and are reused across clips,
//! so a rayon worker allocates little beyond each clip's output.

use std::cell::RefCell;
use std::sync::Arc;

use realfft::num_complex::Complex;

use crate::Error;
use crate::chroma;
use crate::config::{F0Unvoiced, FeatureConfig, FeatureKind};
use crate::db::{self, Db};
use crate::delta::Delta;
use crate::frame;
use crate::mel::{MelBank, fft_frequencies};
use crate::mfcc::Mfcc;
use crate::onset;
use crate::pitch::{PitchParams, PitchPlan, PitchScratch};
use crate::spectral::{self, Band};
use crate::stft::{Stft, StftScratch};
use crate::temporal::{self, Framing};

/// Features of one clip: `n_rows x n_frames`, row-major (`data[r * n_frames + t]`).
#[derive(Clone, Debug, PartialEq)]
pub struct FeatureMatrix {
    /// Number of feature rows (see [`Extractor::row_names`]).
    pub n_rows: usize,
    /// Number of frames (time steps).
    pub n_frames: usize,
    /// The values, row after row.
    pub data: Vec<f32>,
}

impl FeatureMatrix {
    /// A matrix of zeros.
    pub fn zeros(n_rows: usize, n_frames: usize) -> FeatureMatrix {
        FeatureMatrix {
            n_rows,
            n_frames,
            data: vec![0.0; n_rows * n_frames],
        }
    }

    /// Row `r` over all frames.
    pub fn row(&self, r: usize) -> &[f32] {
        &self.data[r * self.n_frames..(r + 1) * self.n_frames]
    }

    /// Rows `rows` as one contiguous slice.
    pub fn rows(&self, rows: std::ops::Range<usize>) -> &[f32] {
        &self.data[rows.start * self.n_frames..rows.end * self.n_frames]
    }

    /// Value of row `r` at frame `t`.
    pub fn get(&self, r: usize, t: usize) -> f32 {
        self.data[r * self.n_frames + t]
    }
}

/// `|X|^power` per bin, from the double-precision spectrum so that tiny
/// bins keep their precision when squared.
fn power_spectrum(bins: &[Complex<f64>], power: f64, out: &mut [f32]) {
    for (p, b) in out.iter_mut().zip(bins) {
        // sqrt of the squared norm rather than `norm()`, whose overflow-safe
        // hypot costs more than the rest of the frame.
        *p = if power == 2.0 {
            b.norm_sqr() as f32
        } else if power == 1.0 {
            b.norm_sqr().sqrt() as f32
        } else {
            b.norm().powf(power) as f32
        };
    }
}

/// Append `prefix_0` .. `prefix_{n-1}`.
fn push_block(names: &mut Vec<String>, prefix: &str, n: usize) {
    names.extend((0..n).map(|i| format!("{prefix}_{i}")));
}

/// Where each kind's rows sit in the output.
#[derive(Clone, Debug, Default)]
struct Layout {
    mfcc: Option<usize>,
    logmel: Option<usize>,
    centroid: Option<usize>,
    bandwidth: Option<usize>,
    rolloff: Option<usize>,
    flatness: Option<usize>,
    contrast: Option<usize>,
    zcr: Option<usize>,
    rms: Option<usize>,
    f0: Option<usize>,
    voiced: Option<usize>,
    voiced_prob: Option<usize>,
    yin: Option<usize>,
    onset: Option<usize>,
    chroma: Option<usize>,
    tonnetz: Option<usize>,
}

/// Everything planned once per configuration and sample rate.
struct Plan {
    cfg: FeatureConfig,
    sample_rate: u32,
    raw: bool,
    /// Whether any spectral shape feature needs `|X|` per bin.
    needs_magnitude: bool,
    stft: Option<Stft>,
    mel: Option<MelBank>,
    mfcc: Option<Mfcc>,
    deltas: Vec<Delta>,
    db: Db,
    freqs: Vec<f64>,
    bands: Vec<Band>,
    pitch: Option<PitchPlan>,
    /// Chroma filters when the tuning is fixed (else built per clip).
    chroma_filters: Option<Vec<f64>>,
    tonnetz_basis: Vec<f64>,
    layout: Layout,
    row_names: Vec<String>,
}

/// A planned feature extractor: FFT, window, mel bank, DCT and delta
/// weights are built once by [`Extractor::new`] and shared; cloning is cheap,
/// and one extractor serves any number of threads.
#[derive(Clone)]
pub struct Extractor {
    plan: Arc<Plan>,
}

impl std::fmt::Debug for Extractor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Extractor")
            .field("sample_rate", &self.plan.sample_rate)
            .field("rows", &self.plan.row_names.len())
            .field("cfg", &self.plan.cfg)
            .finish()
    }
}

/// Per-thread buffers.
#[derive(Default)]
struct Scratch {
    stft: StftScratch,
    mag: Vec<f32>,
    spec: Vec<f32>,
    mel: Vec<f32>,
    logmel: Vec<f32>,
    coeffs: Vec<f32>,
    sort: Vec<f32>,
    peaks: Vec<f64>,
    valleys: Vec<f64>,
    padded: Vec<f32>,
    pitch: PitchScratch,
    onset_db: Vec<f32>,
    power: Vec<f64>,
    chroma: Vec<f64>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

impl Extractor {
    /// Validate `cfg` for `sample_rate` (Hz) and plan every stage it needs.
    pub fn new(cfg: &FeatureConfig, sample_rate: u32) -> Result<Extractor, Error> {
        cfg.validate(sample_rate)?;
        let has = |k| cfg.has(k);
        let raw = has(FeatureKind::Raw);
        let needs_mel =
            has(FeatureKind::Mfcc) || has(FeatureKind::Logmel) || has(FeatureKind::Onset);
        let needs_stft = !raw
            && cfg
                .kinds
                .iter()
                .any(|k| !matches!(k, FeatureKind::Zcr | FeatureKind::Rms) && !k.is_pitch());
        let mel = needs_mel.then(|| {
            MelBank::new(
                sample_rate,
                cfg.n_fft,
                cfg.n_mels,
                cfg.fmin,
                cfg.fmax(sample_rate),
                cfg.mel_scale,
                cfg.mel_norm,
            )
        });
        let bands = if has(FeatureKind::Contrast) {
            spectral::contrast_bands(cfg, sample_rate).unwrap_or_default()
        } else {
            Vec::new()
        };

        let mut layout = Layout::default();
        let mut row_names = Vec::new();
        let delta_prefixes = ["d", "dd"];
        for &kind in &cfg.kinds {
            let at = row_names.len();
            match kind {
                FeatureKind::Mfcc | FeatureKind::Logmel => {
                    let n = if kind == FeatureKind::Mfcc {
                        cfg.n_mfcc
                    } else {
                        cfg.n_mels
                    };
                    push_block(&mut row_names, kind.name(), n);
                    for p in &delta_prefixes[..usize::from(cfg.deltas)] {
                        push_block(&mut row_names, &format!("{p}_{}", kind.name()), n);
                    }
                }
                FeatureKind::Contrast => {
                    push_block(&mut row_names, kind.name(), bands.len());
                }
                FeatureKind::Chroma => push_block(&mut row_names, kind.name(), cfg.n_chroma),
                FeatureKind::Tonnetz => push_block(&mut row_names, kind.name(), 6),
                _ => row_names.push(kind.name().to_string()),
            }
            let slot = match kind {
                FeatureKind::Mfcc => &mut layout.mfcc,
                FeatureKind::Logmel => &mut layout.logmel,
                FeatureKind::Centroid => &mut layout.centroid,
                FeatureKind::Bandwidth => &mut layout.bandwidth,
                FeatureKind::Rolloff => &mut layout.rolloff,
                FeatureKind::Flatness => &mut layout.flatness,
                FeatureKind::Contrast => &mut layout.contrast,
                FeatureKind::Zcr => &mut layout.zcr,
                FeatureKind::Rms => &mut layout.rms,
                FeatureKind::F0 => &mut layout.f0,
                FeatureKind::Voiced => &mut layout.voiced,
                FeatureKind::VoicedProb => &mut layout.voiced_prob,
                FeatureKind::Yin => &mut layout.yin,
                FeatureKind::Onset => &mut layout.onset,
                FeatureKind::Chroma => &mut layout.chroma,
                FeatureKind::Tonnetz => &mut layout.tonnetz,
                FeatureKind::Raw => continue,
            };
            *slot = Some(at);
        }

        let plan = Plan {
            cfg: cfg.clone(),
            sample_rate,
            raw,
            needs_magnitude: cfg.kinds.iter().any(|k| {
                matches!(
                    k,
                    FeatureKind::Centroid
                        | FeatureKind::Bandwidth
                        | FeatureKind::Rolloff
                        | FeatureKind::Flatness
                        | FeatureKind::Contrast
                )
            }),
            stft: needs_stft.then(|| Stft::new(cfg)),
            mfcc: has(FeatureKind::Mfcc).then(|| Mfcc::new(cfg.n_mfcc, cfg.n_mels, cfg.lifter)),
            mel,
            deltas: (1..=usize::from(cfg.deltas))
                .map(|order| Delta::new(cfg.delta_width, order))
                .collect(),
            db: Db::new(cfg.ref_db, cfg.amin),
            freqs: fft_frequencies(sample_rate, cfg.n_fft),
            bands,
            pitch: cfg.kinds.iter().any(|k| k.is_pitch()).then(|| {
                PitchPlan::new(PitchParams {
                    sample_rate: f64::from(sample_rate),
                    fmin: cfg.f0_fmin,
                    fmax: cfg.f0_fmax(sample_rate),
                    frame_length: cfg.f0_frame_length,
                    hop: cfg.hop_length,
                    center: cfg.center,
                    pad: cfg.pad_mode.into(),
                    yin_threshold: cfg.yin_threshold,
                })
            }),
            chroma_filters: cfg.chroma_tuning.map(|tuning| {
                chroma::chroma_filters(f64::from(sample_rate), cfg.n_fft, cfg.n_chroma, tuning)
            }),
            tonnetz_basis: chroma::tonnetz_basis(cfg.n_chroma),
            layout,
            row_names,
        };
        Ok(Extractor {
            plan: Arc::new(plan),
        })
    }

    /// The configuration this extractor was planned for.
    pub fn config(&self) -> &FeatureConfig {
        &self.plan.cfg
    }

    /// Name of every output row, in order: e.g. `mfcc_0`..`mfcc_12`,
    /// `d_mfcc_0`.., `dd_mfcc_0`.., `centroid`, `contrast_0`.., `zcr`.
    pub fn row_names(&self) -> &[String] {
        &self.plan.row_names
    }

    /// Number of output rows.
    pub fn n_rows(&self) -> usize {
        self.plan.row_names.len()
    }

    /// Number of frames for a clip of `n_samples`: `1 + n_samples / hop` for
    /// centred frames and even `n_fft` (as librosa), `n_samples` for `raw`.
    pub fn n_frames(&self, n_samples: usize) -> usize {
        let cfg = &self.plan.cfg;
        if self.plan.raw {
            n_samples
        } else {
            frame::n_frames(n_samples, cfg.n_fft, cfg.hop_length, cfg.center)
        }
    }

    /// The sample rate (Hz) clips must have.
    pub fn sample_rate(&self) -> u32 {
        self.plan.sample_rate
    }

    /// The feature matrix of one clip (mono, at [`Extractor::sample_rate`]).
    ///
    /// Never panics. Finite input within `±`[`decode::MAX_PEAK`] (all that
    /// decoding returns) gives finite output at `power` 1 or 2; a larger
    /// `power` can overflow f32 on loud input. Uncentred frames of a clip
    /// shorter than `n_fft` give a matrix with no frames.
    ///
    /// [`decode::MAX_PEAK`]: crate::decode::MAX_PEAK
    pub fn compute(&self, samples: &[f32]) -> FeatureMatrix {
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut scratch) => self.compute_with(samples, &mut scratch),
            // Only if compute were re-entered on this thread.
            Err(_) => self.compute_with(samples, &mut Scratch::default()),
        })
    }

    fn compute_with(&self, samples: &[f32], s: &mut Scratch) -> FeatureMatrix {
        let plan = &*self.plan;
        let cfg = &plan.cfg;
        if plan.raw {
            return FeatureMatrix {
                n_rows: 1,
                n_frames: samples.len(),
                data: samples.to_vec(),
            };
        }
        let n_frames = self.n_frames(samples.len());
        let mut out = FeatureMatrix::zeros(self.n_rows(), n_frames);
        let layout = &plan.layout;
        let n_mels = cfg.n_mels;
        let n_bands = plan.bands.len();
        let wants_chroma = layout.chroma.is_some() || layout.tonnetz.is_some();

        if let Some(stft) = &plan.stft {
            let Scratch {
                stft: stft_scratch,
                mag,
                spec,
                mel,
                logmel,
                sort,
                peaks,
                valleys,
                onset_db,
                power: chroma_power,
                ..
            } = s;
            let n_bins = stft.n_bins();
            mag.resize(n_bins, 0.0);
            spec.resize(n_bins, 0.0);
            mel.resize(n_mels, 0.0);
            logmel.resize(
                if plan.mel.is_some() {
                    n_frames * n_mels
                } else {
                    0
                },
                0.0,
            );
            peaks.resize(n_frames * n_bands, 0.0);
            valleys.resize(n_frames * n_bands, 0.0);
            onset_db.resize(
                if layout.onset.is_some() {
                    n_frames * n_mels
                } else {
                    0
                },
                0.0,
            );
            chroma_power.resize(if wants_chroma { n_frames * n_bins } else { 0 }, 0.0);
            // onset_strength converts the mel power with power_to_db's defaults.
            let onset_to_db = Db::new(1.0, 1e-10);
            let power = cfg.power;
            let data = &mut out.data;
            stft.for_each_frame(samples, stft_scratch, |t, bins| {
                if plan.needs_magnitude {
                    power_spectrum(bins, 1.0, mag);
                }
                if let Some(bank) = &plan.mel {
                    let spectrum: &[f32] = if power == 1.0 && plan.needs_magnitude {
                        mag
                    } else {
                        power_spectrum(bins, power, spec);
                        spec
                    };
                    bank.apply(spectrum, mel);
                    let frame = &mut logmel[t * n_mels..(t + 1) * n_mels];
                    for (l, &v) in frame.iter_mut().zip(mel.iter()) {
                        *l = plan.db.to_db_f32(v);
                    }
                    if layout.onset.is_some() {
                        let frame = &mut onset_db[t * n_mels..(t + 1) * n_mels];
                        for (l, &v) in frame.iter_mut().zip(mel.iter()) {
                            *l = onset_to_db.to_db_f32(v);
                        }
                    }
                }
                if wants_chroma {
                    // chroma_stft always takes the power spectrogram.
                    let frame = &mut chroma_power[t * n_bins..(t + 1) * n_bins];
                    for (p, b) in frame.iter_mut().zip(bins) {
                        *p = b.norm_sqr();
                    }
                }
                let mut put = |row: Option<usize>, v: f64| {
                    if let Some(r) = row {
                        data[r * n_frames + t] = v as f32;
                    }
                };
                if layout.centroid.is_some() || layout.bandwidth.is_some() {
                    let c = spectral::centroid(mag, &plan.freqs);
                    put(layout.centroid, c);
                    if layout.bandwidth.is_some() {
                        put(layout.bandwidth, spectral::bandwidth(mag, &plan.freqs, c));
                    }
                }
                if layout.rolloff.is_some() {
                    put(
                        layout.rolloff,
                        spectral::rolloff(mag, &plan.freqs, cfg.rolloff_percent),
                    );
                }
                if layout.flatness.is_some() {
                    put(layout.flatness, spectral::flatness(mag));
                }
                if n_bands > 0 {
                    let range = t * n_bands..(t + 1) * n_bands;
                    spectral::contrast_peaks_valleys(
                        mag,
                        &plan.bands,
                        sort,
                        &mut peaks[range.clone()],
                        &mut valleys[range],
                    );
                }
            });
        }

        if plan.mel.is_some() {
            db::apply_top_db(&mut s.logmel, cfg.top_db);
            if let Some(at) = layout.logmel {
                for t in 0..n_frames {
                    for m in 0..n_mels {
                        out.data[(at + m) * n_frames + t] = s.logmel[t * n_mels + m];
                    }
                }
                self.add_deltas(&mut out, at, n_mels);
            }
            if let (Some(at), Some(dct)) = (layout.mfcc, &plan.mfcc) {
                let n_mfcc = cfg.n_mfcc;
                s.coeffs.resize(n_mfcc, 0.0);
                for t in 0..n_frames {
                    dct.apply(&s.logmel[t * n_mels..(t + 1) * n_mels], &mut s.coeffs);
                    for (k, &c) in s.coeffs.iter().enumerate() {
                        out.data[(at + k) * n_frames + t] = c;
                    }
                }
                self.add_deltas(&mut out, at, n_mfcc);
            }
        }

        if let Some(at) = layout.contrast {
            // spectral_contrast: power_to_db(peak) - power_to_db(valley) with
            // power_to_db's own defaults, each floored over the whole clip.
            let db = Db::new(1.0, 1e-10);
            for v in s.peaks.iter_mut().chain(s.valleys.iter_mut()) {
                *v = db.to_db(*v);
            }
            db::apply_top_db(&mut s.peaks, Some(80.0));
            db::apply_top_db(&mut s.valleys, Some(80.0));
            for t in 0..n_frames {
                for k in 0..n_bands {
                    let i = t * n_bands + k;
                    out.data[(at + k) * n_frames + t] = (s.peaks[i] - s.valleys[i]) as f32;
                }
            }
        }

        if let Some(at) = layout.onset {
            db::apply_top_db(&mut s.onset_db, Some(80.0));
            onset::onset_strength(
                &s.onset_db,
                n_mels,
                cfg.n_fft,
                cfg.hop_length,
                cfg.center,
                &mut out.data[at * n_frames..(at + 1) * n_frames],
            );
        }
        if wants_chroma {
            self.add_chroma(&mut out, s);
        }
        if let Some(pitch) = &plan.pitch {
            self.add_pitch(pitch, samples, &mut out, &mut s.pitch);
        }

        let framing = Framing {
            frame_length: cfg.n_fft,
            hop: cfg.hop_length,
            center: cfg.center,
        };
        if let Some(r) = layout.zcr {
            temporal::zcr(
                samples,
                framing,
                &mut s.padded,
                &mut out.data[r * n_frames..(r + 1) * n_frames],
            );
        }
        if let Some(r) = layout.rms {
            let row = &mut out.data[r * n_frames..(r + 1) * n_frames];
            temporal::rms(samples, framing, cfg.pad_mode.into(), &mut s.padded, row);
        }
        out
    }

    /// The mel power spectrogram `[n_mels x n_frames]` of one clip
    /// (`librosa.feature.melspectrogram`, before any dB conversion), or
    /// `None` when the configuration computes neither MFCCs nor log-mels.
    pub fn mel_power(&self, samples: &[f32]) -> Option<FeatureMatrix> {
        let plan = &*self.plan;
        let (stft, bank) = (plan.stft.as_ref()?, plan.mel.as_ref()?);
        let n_frames = stft.n_frames(samples.len());
        let n_mels = bank.n_mels();
        let mut out = FeatureMatrix::zeros(n_mels, n_frames);
        let (mut spec, mut mel) = (vec![0.0f32; stft.n_bins()], vec![0.0f32; n_mels]);
        stft.for_each_frame(samples, &mut StftScratch::default(), |t, bins| {
            power_spectrum(bins, plan.cfg.power, &mut spec);
            bank.apply(&spec, &mut mel);
            for (m, &v) in mel.iter().enumerate() {
                out.data[m * n_frames + t] = v;
            }
        });
        Some(out)
    }

    /// Fill the chroma and tonnetz rows from the clip's power spectrogram.
    fn add_chroma(&self, out: &mut FeatureMatrix, s: &mut Scratch) {
        let plan = &*self.plan;
        let cfg = &plan.cfg;
        let n_frames = out.n_frames;
        let n_bins = cfg.n_fft / 2 + 1;
        let n_chroma = cfg.n_chroma;
        let sr = f64::from(plan.sample_rate);
        let estimated;
        let filters = match &plan.chroma_filters {
            Some(f) => f,
            None => {
                let tuning = chroma::estimate_tuning(&s.power, n_bins, sr, n_chroma);
                estimated = chroma::chroma_filters(sr, cfg.n_fft, n_chroma, tuning);
                &estimated
            }
        };
        s.chroma.resize(n_chroma, 0.0);
        let mut ton = [0.0f64; 6];
        for t in 0..n_frames {
            chroma::chroma_frame(
                filters,
                &s.power[t * n_bins..(t + 1) * n_bins],
                &mut s.chroma,
            );
            if let Some(at) = plan.layout.chroma {
                for (c, &v) in s.chroma.iter().enumerate() {
                    out.data[(at + c) * n_frames + t] = v as f32;
                }
            }
            if let Some(at) = plan.layout.tonnetz {
                chroma::tonnetz_frame(&plan.tonnetz_basis, &s.chroma, &mut ton);
                for (p, &v) in ton.iter().enumerate() {
                    out.data[(at + p) * n_frames + t] = v as f32;
                }
            }
        }
    }

    /// Fill the pYIN and YIN rows.
    fn add_pitch(
        &self,
        pitch: &PitchPlan,
        samples: &[f32],
        out: &mut FeatureMatrix,
        s: &mut PitchScratch,
    ) {
        let layout = &self.plan.layout;
        let n_frames = out.n_frames;
        if let Some(at) = layout.yin {
            pitch.yin(
                samples,
                s,
                &mut out.data[at * n_frames..(at + 1) * n_frames],
            );
        }
        if layout.f0.is_none() && layout.voiced.is_none() && layout.voiced_prob.is_none() {
            return;
        }
        let p = pitch.pyin(samples, s);
        let mut row = |slot: Option<usize>, values: &[f64]| {
            if let Some(at) = slot {
                for (o, &v) in out.data[at * n_frames..(at + 1) * n_frames]
                    .iter_mut()
                    .zip(values)
                {
                    *o = v as f32;
                }
            }
        };
        row(
            layout.f0,
            &fill_unvoiced(&p.f0, &p.voiced, self.plan.cfg.f0_unvoiced),
        );
        let flags: Vec<f64> = p.voiced.iter().map(|&v| f64::from(u8::from(v))).collect();
        row(layout.voiced, &flags);
        row(layout.voiced_prob, &p.voiced_prob);
    }

    /// Fill the delta blocks that follow the `n` rows at `at`.
    fn add_deltas(&self, out: &mut FeatureMatrix, at: usize, n: usize) {
        let n_frames = out.n_frames;
        for (i, delta) in self.plan.deltas.iter().enumerate() {
            let dst_at = at + (i + 1) * n;
            for r in 0..n {
                let (src, dst) = out.data.split_at_mut(dst_at * n_frames);
                let x = &src[(at + r) * n_frames..(at + r + 1) * n_frames];
                delta.apply(x, &mut dst[r * n_frames..(r + 1) * n_frames]);
            }
        }
    }
}

/// The f0 row under an unvoiced policy: `f0` holds pYIN's decoded pitch of
/// every frame, `voiced` its voicing. Never NaN; all 0 when no frame is voiced
/// (except for `guess`, which keeps pYIN's decoded pitch).
pub(crate) fn fill_unvoiced(f0: &[f64], voiced: &[bool], policy: F0Unvoiced) -> Vec<f64> {
    let n = f0.len();
    let voiced_at: Vec<usize> = (0..n).filter(|&t| voiced[t]).collect();
    if policy == F0Unvoiced::Guess {
        return f0.to_vec();
    }
    let mut out: Vec<f64> = (0..n)
        .map(|t| if voiced[t] { f0[t] } else { 0.0 })
        .collect();
    let (Some(&first), Some(&last)) = (voiced_at.first(), voiced_at.last()) else {
        return out;
    };
    match policy {
        F0Unvoiced::Zero | F0Unvoiced::Guess => {}
        F0Unvoiced::Hold => {
            let mut held = f0[first];
            for t in 0..n {
                if voiced[t] {
                    held = f0[t];
                } else {
                    out[t] = held;
                }
            }
        }
        F0Unvoiced::Interpolate => {
            out[..first].fill(f0[first]);
            out[last + 1..].fill(f0[last]);
            for pair in voiced_at.windows(2) {
                let (a, b) = (pair[0], pair[1]);
                for (t, o) in out.iter_mut().enumerate().take(b).skip(a + 1) {
                    let w = (t - a) as f64 / (b - a) as f64;
                    *o = f0[a] + w * (f0[b] - f0[a]);
                }
            }
        }
    }
    out
}
