//! MFCCs from log-mel frames: an orthonormal DCT-II
//! (`scipy.fftpack.dct(type=2, norm="ortho")`, as `librosa.feature.mfcc`
//! and `torchaudio.functional.create_dct(norm="ortho")` use) keeping the first
//! `n_mfcc` coefficients, then librosa's optional sinusoidal lifter.

use std::f64::consts::PI;

/// A planned DCT with its lifter folded in.
#[derive(Clone, Debug)]
pub struct Mfcc {
    n_mfcc: usize,
    /// `[n_mels x n_mfcc]`: the DCT matrix transposed, lifter included.
    transposed: Vec<f32>,
}

/// Orthonormal DCT-II coefficient `k` of input `n` for a length `len`.
pub fn dct_ortho(k: usize, n: usize, len: usize) -> f64 {
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
    pub fn new(n_mfcc: usize, n_mels: usize, lifter: f64) -> Mfcc {
        let lift = |k: usize| {
            if lifter > 0.0 {
                1.0 + (lifter / 2.0) * (PI * (k + 1) as f64 / lifter).sin()
            } else {
                1.0
            }
        };
        let mut transposed = Vec::with_capacity(n_mfcc * n_mels);
        for n in 0..n_mels {
            transposed.extend((0..n_mfcc).map(|k| (dct_ortho(k, n, n_mels) * lift(k)) as f32));
        }
        Mfcc { n_mfcc, transposed }
    }

    /// Coefficients of one log-mel frame.
    pub fn apply(&self, logmel: &[f32], out: &mut [f32]) {
        // Column by column over the transposed matrix: each step updates all
        // n_mfcc sums at once, which vectorises, where row-by-row dot
        // products would be chains of dependent additions.
        let n = self.n_mfcc.min(out.len());
        let out = &mut out[..n];
        out.fill(0.0);
        for (column, &x) in self.transposed.chunks_exact(self.n_mfcc).zip(logmel) {
            for (o, &w) in out.iter_mut().zip(column) {
                *o += w * x;
            }
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
