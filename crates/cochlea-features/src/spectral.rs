//! Per-frame spectral shape features from the magnitude spectrum `S = |X|`,
//! each as `librosa.feature.*` (librosa 0.11) computes it from its own
//! `_spectrogram(power=1.0)`:
//! - centroid: `sum_k f_k S_k / sum_k S_k` (`spectral_centroid`; a frame whose
//!   magnitudes sum to less than the smallest normal float is left
//!   unnormalised, as `librosa.util.normalize` does);
//! - bandwidth: `(sum_k S_k/sum S * |f_k - centroid|^2)^(1/2)` (`spectral_bandwidth`, p = 2);
//! - roll-off: the lowest `f_k` whose float32 cumulative sum reaches
//!   `roll_percent` of the frame's total (`spectral_rolloff`);
//! - flatness: geometric over arithmetic mean of `max(amin, S^2)`
//!   (`spectral_flatness`, power 2, its own amin 1e-10);
//! - contrast: per octave band, `power_to_db(peak) - power_to_db(valley)`
//!   where peak and valley are the means of the top and bottom `quantile` of
//!   the band's sorted magnitudes, and `power_to_db` keeps its defaults
//!   (ref 1, amin 1e-10, top_db 80 over the whole clip) (`spectral_contrast`).

use crate::config::FeatureConfig;
use crate::mel::fft_frequencies;

/// `np.finfo(np.float32).tiny`, the threshold of `librosa.util.normalize`.
const F32_TINY: f64 = 1.175_494_4e-38;

/// `spectral_centroid` of one magnitude frame.
pub(crate) fn centroid(mag: &[f32], freqs: &[f64]) -> f64 {
    let total = norm_total(mag);
    mag.iter()
        .zip(freqs)
        .map(|(&s, &f)| f * f64::from(s))
        .sum::<f64>()
        / total
}

/// `spectral_bandwidth(p=2)` of one magnitude frame around its centroid.
pub(crate) fn bandwidth(mag: &[f32], freqs: &[f64], centroid: f64) -> f64 {
    let total = norm_total(mag);
    let sum: f64 = mag
        .iter()
        .zip(freqs)
        .map(|(&s, &f)| f64::from(s) / total * (f - centroid) * (f - centroid))
        .sum();
    sum.sqrt()
}

/// The divisor `librosa.util.normalize(S, norm=1)` uses: the sum of
/// magnitudes, or 1 when it is below float32's smallest normal value.
fn norm_total(mag: &[f32]) -> f64 {
    let total: f64 = mag.iter().map(|&s| f64::from(s).abs()).sum();
    if total < F32_TINY { 1.0 } else { total }
}

/// `spectral_rolloff(roll_percent=percent)` of one magnitude frame.
pub(crate) fn rolloff(mag: &[f32], freqs: &[f64], percent: f64) -> f64 {
    // numpy accumulates float32 in float32 and scales by the (weak) Python
    // float in float32; doing the same keeps ties on the same bin.
    let total: f32 = mag.iter().sum();
    let threshold = percent as f32 * total;
    let mut acc = 0.0f32;
    for (&s, &f) in mag.iter().zip(freqs) {
        acc += s;
        if acc >= threshold {
            return f;
        }
    }
    // Only reached for NaN input; librosa's nanmin would give NaN too.
    f64::NAN
}

/// `spectral_flatness`'s own default floor, independent of the log-mel `amin`.
const FLATNESS_AMIN: f64 = 1e-10;

/// `spectral_flatness(power=2.0, amin=1e-10)` of one magnitude frame.
pub(crate) fn flatness(mag: &[f32]) -> f64 {
    let amin = FLATNESS_AMIN;
    let n = mag.len() as f64;
    let (mut log_sum, mut sum) = (0.0f64, 0.0f64);
    for &s in mag {
        let p = (f64::from(s) * f64::from(s)).max(amin);
        log_sum += p.ln();
        sum += p;
    }
    (log_sum / n).exp() / (sum / n)
}

/// One octave band of `spectral_contrast`: the bins it sorts and how many of
/// them make its peak and valley.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Band {
    /// First bin.
    pub(crate) start: usize,
    /// One past the last bin.
    pub(crate) end: usize,
    /// Bins averaged at each end of the sorted band.
    pub(crate) quantile_bins: usize,
}

/// The contrast bands of `cfg` at `sample_rate`, as librosa selects them:
/// band 0 is `[0, fmin]`, band k `[fmin 2^(k-1), fmin 2^k]` plus the bin just
/// below it; every band but the last drops its top bin, the last takes every
/// bin up to Nyquist. `None` when a band would hold no bin.
pub(crate) fn contrast_bands(cfg: &FeatureConfig, sample_rate: u32) -> Option<Vec<Band>> {
    let freqs = fft_frequencies(sample_rate, cfg.n_fft);
    let n_bands = cfg.contrast_bands;
    let mut octa = vec![0.0f64];
    octa.extend((0..=n_bands).map(|i| cfg.contrast_fmin * 2f64.powi(i as i32)));
    let mut bands = Vec::with_capacity(n_bands + 1);
    for k in 0..=n_bands {
        let (lo, hi) = (octa[k], octa[k + 1]);
        let first = freqs.iter().position(|&f| f >= lo && f <= hi)?;
        let last = freqs.iter().rposition(|&f| f >= lo && f <= hi)?;
        let start = if k > 0 { first.checked_sub(1)? } else { first };
        let last = if k == n_bands { freqs.len() - 1 } else { last };
        let count = last - start + 1;
        let end = if k < n_bands { last } else { last + 1 };
        if end <= start {
            return None;
        }
        // np.rint rounds half to even.
        let q = ((cfg.contrast_quantile * count as f64).round_ties_even() as usize).max(1);
        bands.push(Band {
            start,
            end,
            quantile_bins: q.min(end - start),
        });
    }
    Some(bands)
}

/// Peak and valley magnitudes (band means, before dB) of one frame.
pub(crate) fn contrast_peaks_valleys(
    mag: &[f32],
    bands: &[Band],
    sort: &mut Vec<f32>,
    peaks: &mut [f64],
    valleys: &mut [f64],
) {
    for ((band, peak), valley) in bands.iter().zip(peaks).zip(valleys) {
        sort.clear();
        sort.extend_from_slice(&mag[band.start..band.end]);
        sort.sort_unstable_by(f32::total_cmp);
        let q = band.quantile_bins;
        let mean = |xs: &[f32]| xs.iter().map(|&v| f64::from(v)).sum::<f64>() / xs.len() as f64;
        *valley = mean(&sort[..q]);
        *peak = mean(&sort[sort.len() - q..]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_bin_spectrum() {
        let freqs = fft_frequencies(8000, 8); // 0, 1000, 2000, 3000, 4000
        let mag = [0.0, 0.0, 3.0, 0.0, 0.0];
        assert_eq!(centroid(&mag, &freqs), 2000.0);
        assert_eq!(bandwidth(&mag, &freqs, 2000.0), 0.0);
        assert_eq!(rolloff(&mag, &freqs, 0.85), 2000.0);
        // One bin of power 9 and four at amin.
        let flat = flatness(&mag);
        let want = (9f64.ln() / 5.0 + 4.0 * 1e-10f64.ln() / 5.0).exp() / ((9.0 + 4e-10) / 5.0);
        assert!((flat - want).abs() < 1e-12 * want.max(1e-30));
        // White spectrum: flatness 1, centroid in the middle.
        let white = [1.0f32; 5];
        assert!((flatness(&white) - 1.0).abs() < 1e-12);
        assert_eq!(centroid(&white, &freqs), 2000.0);
        // Silence: everything 0, flatness 1 (all bins at amin).
        let silent = [0.0f32; 5];
        assert_eq!(centroid(&silent, &freqs), 0.0);
        assert_eq!(rolloff(&silent, &freqs, 0.85), 0.0);
        assert!((flatness(&silent) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn contrast_bands_follow_librosa_selection() {
        // sr 22050, n_fft 2048: bins every 10.77 Hz; librosa's band 1
        // ([200, 400] Hz plus one bin below) spans bins 18..=37, minus the top.
        let cfg = FeatureConfig {
            n_fft: 2048,
            ..Default::default()
        };
        let bands = contrast_bands(&cfg, 22050).unwrap();
        assert_eq!(bands.len(), 7);
        assert_eq!(
            bands[0],
            Band {
                start: 0,
                end: 18,
                quantile_bins: 1
            }
        );
        assert_eq!(
            bands[1],
            Band {
                start: 18,
                end: 37,
                quantile_bins: 1
            }
        );
        assert_eq!(bands[6].end, 1025);
        // Too few bins for 200 Hz bands at n_fft 16: band 0 holds bin 0
        // only, which it then drops.
        let tiny = FeatureConfig {
            n_fft: 16,
            contrast_bands: 2,
            ..Default::default()
        };
        assert_eq!(contrast_bands(&tiny, 8000), None);
    }
}
