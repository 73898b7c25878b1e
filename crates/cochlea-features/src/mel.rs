//! Mel filterbank, a port of `librosa.filters.mel` (librosa 0.11): triangles
//! between mel-spaced edges over the FFT bin frequencies, Slaney or HTK
//! scale, optional Slaney area normalisation.
//!
//! Each filter is stored as its non-zero run of bins, so applying the bank
//! costs about two multiply-adds per FFT bin instead of `n_mels` per bin.

use crate::config::{MelNorm, MelScale};

/// Slaney's break between the linear and logarithmic parts, in Hz.
const MIN_LOG_HZ: f64 = 1000.0;
/// Hz per mel below the break (`f_sp = 200 / 3`).
const F_SP: f64 = 200.0 / 3.0;

fn logstep() -> f64 {
    6.4f64.ln() / 27.0
}

/// `librosa.hz_to_mel`.
pub fn hz_to_mel(hz: f64, scale: MelScale) -> f64 {
    match scale {
        MelScale::Htk => 2595.0 * (1.0 + hz / 700.0).log10(),
        MelScale::Slaney => {
            if hz >= MIN_LOG_HZ {
                MIN_LOG_HZ / F_SP + (hz / MIN_LOG_HZ).ln() / logstep()
            } else {
                hz / F_SP
            }
        }
    }
}

/// `librosa.mel_to_hz`.
pub fn mel_to_hz(mel: f64, scale: MelScale) -> f64 {
    match scale {
        MelScale::Htk => 700.0 * (10f64.powf(mel / 2595.0) - 1.0),
        MelScale::Slaney => {
            let min_log_mel = MIN_LOG_HZ / F_SP;
            if mel >= min_log_mel {
                MIN_LOG_HZ * (logstep() * (mel - min_log_mel)).exp()
            } else {
                F_SP * mel
            }
        }
    }
}

/// Centre frequency of each of the `1 + n_fft / 2` FFT bins in Hz
/// (`np.fft.rfftfreq(n_fft, 1 / sr)`, with numpy's rounding).
pub fn fft_frequencies(sample_rate: u32, n_fft: usize) -> Vec<f64> {
    let step = 1.0 / (n_fft as f64 * (1.0 / f64::from(sample_rate)));
    (0..=n_fft / 2).map(|k| k as f64 * step).collect()
}

/// The dense `[n_mels][1 + n_fft / 2]` filterbank of
/// `librosa.filters.mel(sr, n_fft, n_mels, fmin, fmax, htk, norm)`.
pub fn mel_filters(
    sample_rate: u32,
    n_fft: usize,
    n_mels: usize,
    fmin: f64,
    fmax: f64,
    scale: MelScale,
    norm: MelNorm,
) -> Vec<Vec<f32>> {
    MelBank::new(sample_rate, n_fft, n_mels, fmin, fmax, scale, norm).dense()
}

/// `sum a[i] b[i]` over the shorter length, in four interleaved partial
/// sums: a single running sum is one long chain of dependent additions,
/// which the compiler may not reorder into SIMD lanes.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f32; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..4 {
            acc[i] += x[i] * y[i];
        }
    }
    (acc[0] + acc[2]) + (acc[1] + acc[3]) + tail
}

/// A mel filterbank, sparse by rows.
#[derive(Clone, Debug)]
pub struct MelBank {
    /// First non-zero bin of each filter.
    starts: Vec<usize>,
    /// Offsets of each filter's weights in `weights` (`n_mels + 1` entries).
    offsets: Vec<usize>,
    weights: Vec<f32>,
    n_bins: usize,
}

impl MelBank {
    /// `librosa.filters.mel(sr=sample_rate, n_fft=n_fft, n_mels=n_mels,
    /// fmin=fmin, fmax=fmax, htk=scale == Htk, norm=norm)`.
    pub fn new(
        sample_rate: u32,
        n_fft: usize,
        n_mels: usize,
        fmin: f64,
        fmax: f64,
        scale: MelScale,
        norm: MelNorm,
    ) -> MelBank {
        let fft_freqs = fft_frequencies(sample_rate, n_fft);
        // mel_frequencies(n_mels + 2): np.linspace over the mel range, whose
        // values are `start + i * step` with the last pinned to `stop`.
        let (lo, hi) = (hz_to_mel(fmin, scale), hz_to_mel(fmax, scale));
        let n_pts = n_mels + 2;
        let step = (hi - lo) / (n_pts - 1) as f64;
        let mel_f: Vec<f64> = (0..n_pts)
            .map(|i| {
                mel_to_hz(
                    if i == n_pts - 1 {
                        hi
                    } else {
                        lo + i as f64 * step
                    },
                    scale,
                )
            })
            .collect();
        let mut bank = MelBank {
            starts: Vec::new(),
            offsets: vec![0],
            weights: Vec::new(),
            n_bins: fft_freqs.len(),
        };
        for m in 0..n_mels {
            let (f0, f1, f2) = (mel_f[m], mel_f[m + 1], mel_f[m + 2]);
            // librosa writes the triangle into a float32 array, then scales it
            // in place by the float64 Slaney factor.
            let enorm = match norm {
                MelNorm::Slaney => Some(2.0 / (f2 - f0)),
                MelNorm::None => None,
            };
            let row: Vec<f32> = fft_freqs
                .iter()
                .map(|&f| {
                    let lower = (f - f0) / (f1 - f0);
                    let upper = (f2 - f) / (f2 - f1);
                    let w = lower.min(upper).max(0.0) as f32;
                    match enorm {
                        Some(e) => (f64::from(w) * e) as f32,
                        None => w,
                    }
                })
                .collect();
            let first = row.iter().position(|&w| w != 0.0);
            let last = row.iter().rposition(|&w| w != 0.0);
            match (first, last) {
                (Some(a), Some(b)) => {
                    bank.starts.push(a);
                    bank.weights.extend_from_slice(&row[a..=b]);
                }
                // An empty filter (too many mels for n_fft), as librosa
                // warns: it stays all zero.
                _ => bank.starts.push(0),
            }
            bank.offsets.push(bank.weights.len());
        }
        bank
    }

    /// Number of filters.
    pub fn n_mels(&self) -> usize {
        self.starts.len()
    }

    /// `out[m] = sum_k filter[m][k] * spectrum[k]` for a spectrum of
    /// `1 + n_fft / 2` bins (a filter reaching past a shorter one gives 0).
    pub fn apply(&self, spectrum: &[f32], out: &mut [f32]) {
        for (m, o) in out.iter_mut().enumerate().take(self.n_mels()) {
            let w = &self.weights[self.offsets[m]..self.offsets[m + 1]];
            let start = self.starts[m];
            let bins = spectrum.get(start..start + w.len()).unwrap_or(&[]);
            *o = dot(w, bins);
        }
    }

    /// The bank as a dense `[n_mels][n_bins]` matrix.
    pub fn dense(&self) -> Vec<Vec<f32>> {
        (0..self.n_mels())
            .map(|m| {
                let mut row = vec![0.0; self.n_bins];
                let w = &self.weights[self.offsets[m]..self.offsets[m + 1]];
                row[self.starts[m]..self.starts[m] + w.len()].copy_from_slice(w);
                row
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mel_scales_round_trip_and_match_librosa() {
        // librosa.hz_to_mel(1000) == 15, hz_to_mel(4000) == 35.16...;
        // hz_to_mel(1000, htk=True) == 999.985...
        assert!((hz_to_mel(1000.0, MelScale::Slaney) - 15.0).abs() < 1e-12);
        assert!((hz_to_mel(4000.0, MelScale::Slaney) - 35.163_760_314_616_646).abs() < 1e-9);
        assert!((hz_to_mel(1000.0, MelScale::Htk) - 999.985_537_139_624_4).abs() < 1e-9);
        for hz in [0.0, 50.0, 999.0, 1000.0, 3000.0, 11025.0] {
            for scale in [MelScale::Slaney, MelScale::Htk] {
                let back = mel_to_hz(hz_to_mel(hz, scale), scale);
                assert!(
                    (back - hz).abs() < 1e-9 * (1.0 + hz),
                    "{hz} {scale:?} -> {back}"
                );
            }
        }
    }

    #[test]
    fn slaney_filters_have_unit_area_per_hz_pair_and_cover_the_range() {
        let bank = MelBank::new(
            8000,
            256,
            40,
            0.0,
            4000.0,
            MelScale::Slaney,
            MelNorm::Slaney,
        );
        let dense = bank.dense();
        assert_eq!(dense.len(), 40);
        assert!(
            dense
                .iter()
                .all(|r| r.len() == 129 && r.iter().all(|&w| w >= 0.0))
        );
        assert!(
            dense.iter().all(|r| r.iter().any(|&w| w > 0.0)),
            "no empty filter at 40 mels"
        );
        // The sparse product equals the dense one.
        let spec: Vec<f32> = (0..129).map(|k| (k as f32 * 0.37).sin().abs()).collect();
        let mut sparse = vec![0.0; 40];
        bank.apply(&spec, &mut sparse);
        for (m, row) in dense.iter().enumerate() {
            let d: f32 = row.iter().zip(&spec).map(|(a, b)| a * b).sum();
            assert!((d - sparse[m]).abs() <= 1e-6 * d.abs().max(1e-6));
        }
        // Without norm the triangles peak at (nearly) 1.
        let plain = MelBank::new(16000, 512, 20, 0.0, 8000.0, MelScale::Htk, MelNorm::None).dense();
        for row in plain {
            let peak = row.iter().cloned().fold(0.0, f32::max);
            assert!(peak > 0.5 && peak <= 1.0, "{peak}");
        }
    }
}
