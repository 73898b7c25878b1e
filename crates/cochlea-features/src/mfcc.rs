//! MFCCs from log-mel frames: an orthonormal DCT-II
//! (`scipy.fftpack.dct(type=2, norm="ortho")`, as `librosa.feature.mfcc`
//! and `torchaudio.functional.create_dct(norm="ortho")` use) keeping the first
//! `n_mfcc` coefficients, then librosa's optional sinusoidal lifter.

use std::f64::consts::PI;

/// A planned DCT with its lifter folded in.
#[derive(Clone, Debug)]
pub(crate) struct Mfcc {
    n_mfcc: usize,
    n_mels: usize,
    /// `[n_mfcc x n_mels]`, row-major, lifter included.
    matrix: Vec<f32>,
}

/// Orthonormal DCT-II coefficient `k` of input `n` for a length `len`.
pub(crate) fn dct_ortho(k: usize, n: usize, len: usize) -> f64 {
    let scale = if k == 0 {
        (1.0 / len as f64).sqrt()
    } else {
        (2.0 / len as f64).sqrt()
    };
    scale * (PI * k as f64 * (2 * n + 1) as f64 / (2 * len) as f64).cos()
}

impl Mfcc {
    /// `n_mfcc` coefficients of `n_mels` log-mel bands; `lifter > 0` scales
    /// coefficient `k` by `1 + lifter / 2 * sin(pi * (k + 1) / lifter)`
    /// (`librosa.feature.mfcc(lifter=...)`).
    pub(crate) fn new(n_mfcc: usize, n_mels: usize, lifter: f64) -> Mfcc {
        let mut matrix = Vec::with_capacity(n_mfcc * n_mels);
        for k in 0..n_mfcc {
            let lift = if lifter > 0.0 {
                1.0 + (lifter / 2.0) * (PI * (k + 1) as f64 / lifter).sin()
            } else {
                1.0
            };
            matrix.extend((0..n_mels).map(|n| (dct_ortho(k, n, n_mels) * lift) as f32));
        }
        Mfcc {
            n_mfcc,
            n_mels,
            matrix,
        }
    }

    /// Coefficients of one log-mel frame.
    pub(crate) fn apply(&self, logmel: &[f32], out: &mut [f32]) {
        for (row, o) in self
            .matrix
            .chunks_exact(self.n_mels)
            .zip(out.iter_mut().take(self.n_mfcc))
        {
            *o = row.iter().zip(logmel).map(|(a, b)| a * b).sum();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dct_is_orthonormal() {
        let n = 12;
        for a in 0..n {
            for b in 0..n {
                let dot: f64 = (0..n)
                    .map(|i| dct_ortho(a, i, n) * dct_ortho(b, i, n))
                    .sum();
                let want = if a == b { 1.0 } else { 0.0 };
                assert!((dot - want).abs() < 1e-12, "{a},{b}: {dot}");
            }
        }
    }

    #[test]
    fn constant_frame_has_only_c0_and_lifter_scales() {
        let plain = Mfcc::new(5, 8, 0.0);
        let mut out = [0.0f32; 5];
        plain.apply(&[2.0; 8], &mut out);
        assert!((out[0] - 2.0 * 8f32.sqrt()).abs() < 1e-5);
        assert!(out[1..].iter().all(|c| c.abs() < 1e-5));
        let x: Vec<f32> = (0..8).map(|i| i as f32).collect();
        let mut a = [0.0f32; 5];
        let mut b = [0.0f32; 5];
        plain.apply(&x, &mut a);
        Mfcc::new(5, 8, 22.0).apply(&x, &mut b);
        for k in 0..5 {
            let lift = 1.0 + 11.0 * (std::f32::consts::PI * (k + 1) as f32 / 22.0).sin();
            assert!((b[k] - a[k] * lift).abs() < 1e-4 * (1.0 + b[k].abs()));
        }
    }
}
