//! Feature normalization, fitted on the training split only.
//!
//! A [`Normalizer`] is fitted once from the training clips' frames (the
//! frames the features really have, before any padding), stored in the model
//! bundle, and applied unchanged to validation, test and inference inputs.
//! Padding happens after normalization, so zero padding equals the training
//! mean of each feature rather than an arbitrary raw value.

use cochlea_features::FeatureMatrix;
use serde::{Deserialize, Serialize};

use crate::config::{CropMode, NormMethod, PadMode};

/// Per-feature-row affine map `(x - offset) * scale`, or per-clip CMVN.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Normalizer {
    /// The method.
    pub method: NormMethod,
    /// Per row: subtracted first (mean or minimum).
    pub offset: Vec<f32>,
    /// Per row: multiplied after (1/std or 1/range).
    pub scale: Vec<f32>,
    /// Clips the statistics were fitted on.
    pub fitted_clips: usize,
    /// Frames the statistics were fitted on.
    pub fitted_frames: u64,
    /// Hash of the sorted paths of the fitted clips, so an audit can check
    /// the statistics came from the training split alone.
    pub fitted_on_hash: String,
}

/// Below this, a feature is treated as constant and only centred.
const MIN_SPREAD: f64 = 1e-8;

impl Normalizer {
    /// Fits the statistics on `train` (the training split's matrices).
    pub fn fit(
        method: NormMethod,
        n_rows: usize,
        train: &[&FeatureMatrix],
        fitted_on_hash: String,
    ) -> Normalizer {
        let mut offset = vec![0f32; n_rows];
        let mut scale = vec![1f32; n_rows];
        let frames: u64 = train.iter().map(|m| m.n_frames as u64).sum();
        match method {
            NormMethod::Standard => {
                // Two passes in f64: mean, then variance (numerically safe).
                let mut sum = vec![0f64; n_rows];
                for m in train {
                    for (r, s) in sum.iter_mut().enumerate() {
                        *s += row(m, r).iter().map(|&v| f64::from(v)).sum::<f64>();
                    }
                }
                let n = frames.max(1) as f64;
                let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
                let mut var = vec![0f64; n_rows];
                for m in train {
                    for (r, v) in var.iter_mut().enumerate() {
                        *v += row(m, r)
                            .iter()
                            .map(|&x| (f64::from(x) - mean[r]).powi(2))
                            .sum::<f64>();
                    }
                }
                for r in 0..n_rows {
                    let std = (var[r] / n).sqrt();
                    offset[r] = mean[r] as f32;
                    scale[r] = if std > MIN_SPREAD {
                        (1.0 / std) as f32
                    } else {
                        1.0
                    };
                }
            }
            NormMethod::Minmax => {
                let mut lo = vec![f32::INFINITY; n_rows];
                let mut hi = vec![f32::NEG_INFINITY; n_rows];
                for m in train {
                    for r in 0..n_rows {
                        for &v in row(m, r) {
                            lo[r] = lo[r].min(v);
                            hi[r] = hi[r].max(v);
                        }
                    }
                }
                for r in 0..n_rows {
                    if lo[r].is_finite() {
                        offset[r] = lo[r];
                        let range = f64::from(hi[r] - lo[r]);
                        scale[r] = if range > MIN_SPREAD {
                            (1.0 / range) as f32
                        } else {
                            1.0
                        };
                    }
                }
            }
            NormMethod::Utterance | NormMethod::None => {}
        }
        Normalizer {
            method,
            offset,
            scale,
            fitted_clips: train.len(),
            fitted_frames: frames,
            fitted_on_hash,
        }
    }

    /// Applies the statistics (or per-clip CMVN) to one clip.
    pub fn apply(&self, m: &FeatureMatrix) -> FeatureMatrix {
        let mut out = m.clone();
        match self.method {
            NormMethod::None => {}
            NormMethod::Standard | NormMethod::Minmax => {
                for r in 0..m.n_rows {
                    let (o, s) = (self.offset[r], self.scale[r]);
                    for v in &mut out.data[r * m.n_frames..(r + 1) * m.n_frames] {
                        *v = (*v - o) * s;
                    }
                }
            }
            NormMethod::Utterance => {
                for r in 0..m.n_rows {
                    let x = &mut out.data[r * m.n_frames..(r + 1) * m.n_frames];
                    let (mean, std) = mean_std(x);
                    let s = if std > MIN_SPREAD { 1.0 / std } else { 1.0 };
                    for v in x.iter_mut() {
                        *v = ((f64::from(*v) - mean) * s) as f32;
                    }
                }
            }
        }
        for v in &mut out.data {
            if !v.is_finite() {
                *v = 0.0;
            }
        }
        out
    }
}

/// Mean and population standard deviation of a row, in f64.
pub fn mean_std(x: &[f32]) -> (f64, f64) {
    let n = x.len().max(1) as f64;
    let mean = x.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let var = x
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / n;
    (mean, var.sqrt())
}

fn row(m: &FeatureMatrix, r: usize) -> &[f32] {
    &m.data[r * m.n_frames..(r + 1) * m.n_frames]
}

/// Brings a clip to exactly `frames` frames: crops long clips, pads short ones.
/// Returns the row-major `[n_rows x frames]` data.
pub fn fit_length(m: &FeatureMatrix, frames: usize, pad: PadMode, crop: CropMode) -> Vec<f32> {
    let mut out = vec![0f32; m.n_rows * frames];
    if m.n_frames == 0 {
        return out;
    }
    let start = if m.n_frames > frames {
        match crop {
            CropMode::Center => (m.n_frames - frames) / 2,
            CropMode::Start => 0,
        }
    } else {
        0
    };
    for r in 0..m.n_rows {
        let src = &row(m, r)[start..];
        let dst = &mut out[r * frames..(r + 1) * frames];
        let n = src.len().min(frames);
        dst[..n].copy_from_slice(&src[..n]);
        if pad == PadMode::Repeat {
            for i in n..frames {
                dst[i] = src[i % n];
            }
        }
    }
    out
}

/// The first frame of every window of `frames` in a clip of `n` frames:
/// hop = half a window (at least 1 frame), and a last window ending at the
/// clip's end when the hop does not land there; a single window at 0 when
/// the clip is no longer than a window (it is then padded).
pub fn window_starts(n: usize, frames: usize) -> Vec<usize> {
    if n <= frames {
        return vec![0];
    }
    let hop = (frames / 2).max(1);
    let mut starts: Vec<usize> = (0..=n - frames).step_by(hop).collect();
    if starts.last() != Some(&(n - frames)) {
        starts.push(n - frames);
    }
    starts
}

/// The `[n_rows x frames]` window of `m` starting at frame `start`; a clip
/// no longer than `frames` is padded as [`fit_length`] does.
pub fn window(m: &FeatureMatrix, start: usize, frames: usize, pad: PadMode) -> Vec<f32> {
    if m.n_frames <= frames {
        return fit_length(m, frames, pad, CropMode::Start);
    }
    let mut out = Vec::with_capacity(m.n_rows * frames);
    for r in 0..m.n_rows {
        out.extend_from_slice(&row(m, r)[start..start + frames]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mat(rows: usize, data: Vec<f32>) -> FeatureMatrix {
        FeatureMatrix {
            n_rows: rows,
            n_frames: data.len() / rows,
            data,
        }
    }

    #[test]
    fn standard_gives_zero_mean_unit_std_on_train() {
        let a = mat(2, vec![1.0, 2.0, 3.0, 100.0, 200.0, 300.0]);
        let b = mat(2, vec![4.0, 5.0, 400.0, 500.0]);
        let n = Normalizer::fit(NormMethod::Standard, 2, &[&a, &b], String::new());
        let (ya, yb) = (n.apply(&a), n.apply(&b));
        for r in 0..2 {
            let vals: Vec<f64> = row(&ya, r)
                .iter()
                .chain(row(&yb, r))
                .map(|&v| f64::from(v))
                .collect();
            let mean = vals.iter().sum::<f64>() / 5.0;
            let std = (vals.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 5.0).sqrt();
            assert!(
                mean.abs() < 1e-6 && (std - 1.0).abs() < 1e-5,
                "row {r}: {mean} {std}"
            );
        }
    }

    #[test]
    fn constant_feature_is_centred_not_blown_up() {
        let a = mat(1, vec![5.0, 5.0, 5.0]);
        let n = Normalizer::fit(NormMethod::Standard, 1, &[&a], String::new());
        assert_eq!(n.apply(&a).data, vec![0.0, 0.0, 0.0]);
    }

    #[test]
    fn windows_hop_half_a_window_and_reach_the_end() {
        assert_eq!(window_starts(10, 4), [0, 2, 4, 6]);
        assert_eq!(window_starts(11, 4), [0, 2, 4, 6, 7]);
        assert_eq!(window_starts(3, 4), [0]);
        assert_eq!(window_starts(4, 4), [0]);
        assert_eq!(window_starts(5, 1), [0, 1, 2, 3, 4]);
        assert_eq!(window_starts(50, 100), vec![0]);
        assert_eq!(window_starts(100, 100), vec![0]);
        assert_eq!(window_starts(250, 100), vec![0, 50, 100, 150]);
        assert_eq!(window_starts(260, 100), vec![0, 50, 100, 150, 160]);
        let m = mat(2, (0..10).map(|v| v as f32).collect());
        assert_eq!(
            window(&m, 1, 3, PadMode::Zero),
            [1.0, 2.0, 3.0, 6.0, 7.0, 8.0]
        );
    }

    #[test]
    fn fit_length_pads_crops_and_repeats() {
        let m = mat(1, vec![1.0, 2.0, 3.0]);
        assert_eq!(
            fit_length(&m, 5, PadMode::Zero, CropMode::Center),
            vec![1.0, 2.0, 3.0, 0.0, 0.0]
        );
        assert_eq!(
            fit_length(&m, 5, PadMode::Repeat, CropMode::Center),
            vec![1.0, 2.0, 3.0, 1.0, 2.0]
        );
        assert_eq!(
            fit_length(&m, 1, PadMode::Zero, CropMode::Center),
            vec![2.0]
        );
        assert_eq!(
            fit_length(&m, 2, PadMode::Zero, CropMode::Start),
            vec![1.0, 2.0]
        );
    }
}
