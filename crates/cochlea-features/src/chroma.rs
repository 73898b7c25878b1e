//! Chroma and tonal centroids, as librosa 0.11 computes them from a power
//! spectrogram (`|STFT|^2`):
//! - `librosa.feature.chroma_stft`: the tuning is estimated per clip with
//!   `estimate_tuning` (`piptrack` peaks above a tenth of each frame's
//!   maximum between 150 and 4000 Hz, those at least as strong as the
//!   median, their distance to the nearest chroma bin in a histogram of
//!   0.01 bin) unless given, then `filters.chroma` (Gaussian bumps per
//!   chroma bin, octave-weighted around C5 and rounded to float32 as librosa
//!   stores them) applied and each frame scaled to a maximum of 1;
//! - `librosa.feature.tonnetz(chroma=...)`: each chroma frame scaled to a
//!   sum of 1 and projected on the 6 tonal-centroid axes (fifths, minor
//!   thirds, major thirds).

use std::f64::consts::PI;

/// `np.finfo(np.float64).tiny`, librosa's `util.tiny` for float64.
const TINY: f64 = f64::MIN_POSITIVE;

/// `convert.hz_to_octs(f, tuning, bins_per_octave)`: octaves above A440/16.
fn hz_to_octs(f: f64, tuning: f64, bins_per_octave: usize) -> f64 {
    let a440 = 440.0 * 2f64.powf(tuning / bins_per_octave as f64);
    (f / (a440 / 16.0)).log2()
}

/// `filters.chroma(sr, n_fft, n_chroma, tuning)` with its defaults (ctroct
/// 5, octwidth 2, norm 2, base_c), as float32 values widened back:
/// `n_chroma x (1 + n_fft / 2)`, row-major.
pub(crate) fn chroma_filters(
    sample_rate: f64,
    n_fft: usize,
    n_chroma: usize,
    tuning: f64,
) -> Vec<f64> {
    let nc = n_chroma as f64;
    let step = sample_rate / n_fft as f64;
    let mut frqbins: Vec<f64> = Vec::with_capacity(n_fft);
    frqbins.push(0.0);
    for k in 1..n_fft {
        frqbins.push(nc * hz_to_octs(k as f64 * step, tuning, n_chroma));
    }
    frqbins[0] = if n_fft > 1 {
        frqbins[1] - 1.5 * nc
    } else {
        0.0
    };
    let mut widths: Vec<f64> = frqbins.windows(2).map(|w| (w[1] - w[0]).max(1.0)).collect();
    widths.push(1.0);
    let half = (nc / 2.0).round_ties_even();
    let mut wts = vec![0.0f64; n_chroma * n_fft];
    for c in 0..n_chroma {
        for k in 0..n_fft {
            let d = (frqbins[k] - c as f64 + half + 10.0 * nc).rem_euclid(nc) - half;
            let z = 2.0 * d / widths[k];
            wts[c * n_fft + k] = (-0.5 * (z * z)).exp();
        }
    }
    // util.normalize(norm=2, axis=0): per frequency over the chroma bins.
    for k in 0..n_fft {
        let mut sum = 0.0;
        for c in 0..n_chroma {
            let v = wts[c * n_fft + k];
            sum += v * v;
        }
        let mut length = sum.powf(0.5);
        if length < TINY {
            length = 1.0;
        }
        let octave = (-0.5 * ((frqbins[k] / nc - 5.0) / 2.0).powi(2)).exp();
        for c in 0..n_chroma {
            wts[c * n_fft + k] = wts[c * n_fft + k] / length * octave;
        }
    }
    // base_c: roll by -3 * (n_chroma // 12) bins so that row 0 is C; keep
    // the non-negative frequencies; float32 as librosa returns them.
    let n_bins = n_fft / 2 + 1;
    let roll = 3 * (n_chroma / 12);
    let mut out = vec![0.0f64; n_chroma * n_bins];
    for c in 0..n_chroma {
        let src = (c + roll) % n_chroma;
        for k in 0..n_bins {
            out[c * n_bins + k] = f64::from(wts[src * n_fft + k] as f32);
        }
    }
    out
}

/// `estimate_tuning(S=power, sr, n_fft, bins_per_octave=n_chroma)` of a
/// power spectrogram stored frame after frame (`n_frames x n_bins`).
pub(crate) fn estimate_tuning(
    power: &[f64],
    n_bins: usize,
    sample_rate: f64,
    n_chroma: usize,
) -> f64 {
    if n_bins < 2 {
        return 0.0;
    }
    // piptrack re-derives n_fft from the number of bins.
    let n_fft = 2 * (n_bins - 1);
    let fmax = 4000f64.min(sample_rate / 2.0);
    let fmin = 150.0;
    let bin_hz = |k: usize| k as f64 * sample_rate / n_fft as f64;
    let mut pitches = Vec::new();
    let mut mags = Vec::new();
    let mut masked = vec![0.0f64; n_bins];
    for s in power.chunks_exact(n_bins) {
        let max = s.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
        let reference = 0.1 * max;
        for (m, &v) in masked.iter_mut().zip(s) {
            *m = if v > reference { v } else { 0.0 };
        }
        for k in 1..n_bins {
            // util.localmax: above the left neighbour, not below the right
            // one; the last bin if above its neighbour; never the first.
            let is_max = if k + 1 < n_bins {
                masked[k] > masked[k - 1] && masked[k] >= masked[k + 1]
            } else {
                masked[k] > masked[k - 1]
            };
            let f = bin_hz(k);
            if !(is_max && fmin <= f && f < fmax) {
                continue;
            }
            let (shift, avg) = if k + 1 < n_bins {
                let a = s[k + 1] + s[k - 1] - 2.0 * s[k];
                let b = (s[k + 1] - s[k - 1]) / 2.0;
                let shift = if b.abs() >= a.abs() { 0.0 } else { -b / a };
                (shift, (s[k + 1] - s[k - 1]) / 2.0)
            } else {
                (0.0, s[k] - s[k - 1])
            };
            pitches.push((k as f64 + shift) * sample_rate / n_fft as f64);
            mags.push(s[k] + 0.5 * avg * shift);
        }
    }
    // Only pitches > 0 count, for the median as for the histogram.
    let mut positive: Vec<f64> = pitches
        .iter()
        .zip(&mags)
        .filter(|(p, _)| **p > 0.0)
        .map(|(_, m)| *m)
        .collect();
    let threshold = if positive.is_empty() {
        0.0
    } else {
        positive.sort_by(f64::total_cmp);
        let n = positive.len();
        if n % 2 == 1 {
            positive[n / 2]
        } else {
            (positive[n / 2 - 1] + positive[n / 2]) / 2.0
        }
    };
    let chosen: Vec<f64> = pitches
        .iter()
        .zip(&mags)
        .filter(|(p, m)| **p > 0.0 && **m >= threshold)
        .map(|(p, _)| *p)
        .collect();
    pitch_tuning(&chosen, n_chroma)
}

/// `pitch_tuning(frequencies, resolution=0.01, bins_per_octave)`: the left
/// edge of the fullest 0.01-bin histogram cell of the distances to the
/// nearest bin.
fn pitch_tuning(frequencies: &[f64], bins_per_octave: usize) -> f64 {
    if frequencies.is_empty() {
        return 0.0;
    }
    let n_cells = 100;
    // np.linspace(-0.5, 0.5, 101)
    let step = 1.0 / n_cells as f64;
    let mut edges: Vec<f64> = (0..=n_cells).map(|k| k as f64 * step + -0.5).collect();
    edges[n_cells] = 0.5;
    let mut counts = vec![0usize; n_cells];
    for &f in frequencies {
        let mut r = (bins_per_octave as f64 * hz_to_octs(f, 0.0, bins_per_octave)).rem_euclid(1.0);
        if r >= 0.5 {
            r -= 1.0;
        }
        // np.histogram with explicit edges: [e_k, e_k+1), the last closed.
        let k = edges.partition_point(|&e| e <= r);
        if k == 0 {
            continue;
        }
        if k <= n_cells {
            counts[k - 1] += 1;
        } else if r == edges[n_cells] {
            counts[n_cells - 1] += 1;
        }
    }
    let best = (0..n_cells).fold(0, |b, i| if counts[i] > counts[b] { i } else { b });
    edges[best]
}

/// Chroma of one frame's power spectrum into `out` (`n_chroma`), scaled to
/// a maximum of 1 unless all zero (`util.normalize(norm=inf)`).
pub(crate) fn chroma_frame(filters: &[f64], power: &[f64], out: &mut [f64]) {
    let n_bins = power.len();
    for (c, o) in out.iter_mut().enumerate() {
        let row = &filters[c * n_bins..(c + 1) * n_bins];
        *o = row.iter().zip(power).map(|(w, p)| w * p).sum();
    }
    let mut length = out.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    if length < TINY {
        length = 1.0;
    }
    for o in out.iter_mut() {
        *o /= length;
    }
}

/// The 6 x n_chroma projection of `librosa.feature.tonnetz`.
pub(crate) fn tonnetz_basis(n_chroma: usize) -> Vec<f64> {
    let scale = [
        7.0 / 6.0,
        7.0 / 6.0,
        3.0 / 2.0,
        3.0 / 2.0,
        2.0 / 3.0,
        2.0 / 3.0,
    ];
    let r = [1.0, 1.0, 1.0, 1.0, 0.5, 0.5];
    let step = 12.0 / n_chroma as f64;
    let mut phi = vec![0.0; 6 * n_chroma];
    for p in 0..6 {
        for c in 0..n_chroma {
            let mut v = scale[p] * (c as f64 * step);
            if p % 2 == 0 {
                v -= 0.5;
            }
            phi[p * n_chroma + c] = r[p] * (PI * v).cos();
        }
    }
    phi
}

/// Tonal centroids of one chroma frame into `out` (6 values): the frame
/// scaled to a sum of 1 (`util.normalize(norm=1)`), then projected.
pub(crate) fn tonnetz_frame(basis: &[f64], chroma: &[f64], out: &mut [f64]) {
    let n = chroma.len();
    let mut length: f64 = chroma.iter().map(|v| v.abs()).sum();
    if length < TINY {
        length = 1.0;
    }
    for (p, o) in out.iter_mut().enumerate() {
        *o = basis[p * n..(p + 1) * n]
            .iter()
            .zip(chroma)
            .map(|(b, c)| b * (c / length))
            .sum();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tuning_of_an_in_tune_and_a_sharp_set() {
        // A440 and its octaves sit on a bin: residual 0.
        assert_eq!(pitch_tuning(&[440.0, 880.0, 220.0], 12), 0.0);
        // 20 cents sharp lands in the cell starting at 0.2 bin (or just
        // below it by rounding).
        let sharp = 440.0 * 2f64.powf(0.205 / 12.0);
        assert!((pitch_tuning(&[sharp, 2.0 * sharp], 12) - 0.2).abs() < 1e-9);
        assert_eq!(pitch_tuning(&[], 12), 0.0);
    }

    #[test]
    fn filters_peak_on_their_pitch_class() {
        // 440 Hz is an A: row 9 when row 0 is C.
        let sr = 22050.0;
        let n_fft = 4096;
        let f = chroma_filters(sr, n_fft, 12, 0.0);
        let n_bins = n_fft / 2 + 1;
        let k = (440.0 / sr * n_fft as f64).round() as usize;
        let best = (0..12).fold(0, |b, c| {
            if f[c * n_bins + k] > f[b * n_bins + k] {
                c
            } else {
                b
            }
        });
        assert_eq!(best, 9);
    }

    #[test]
    fn tonnetz_of_a_flat_chroma_is_zero() {
        let basis = tonnetz_basis(12);
        let mut out = [1.0; 6];
        tonnetz_frame(&basis, &[1.0; 12], &mut out);
        assert!(out.iter().all(|v| v.abs() < 1e-12), "{out:?}");
    }
}
