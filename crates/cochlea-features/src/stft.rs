//! Short-time Fourier transform as `librosa.stft` computes it: a periodic
//! window zero-padded to `n_fft`, optional centre padding, one real FFT per
//! frame. The FFT is planned once per configuration and shared.
//!
//! librosa multiplies float32 frames by a float64 window and transforms in
//! float64 before storing complex64; the transform here runs in `f64` too, so
//! bins far below the peak (which decide spectral flatness and contrast) are
//! not buried under single-precision rounding noise.

use std::f64::consts::PI;
use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};

use crate::config::{FeatureConfig, Window};
use crate::frame::{self, Pad};

/// A planned STFT for one configuration.
pub struct Stft {
    n_fft: usize,
    hop: usize,
    center: bool,
    pad: Pad,
    window: Vec<f64>,
    fft: Arc<dyn RealToComplex<f64>>,
}

/// Buffers one thread reuses for every frame and clip.
#[derive(Default)]
pub struct StftScratch {
    padded: Vec<f32>,
    frame: Vec<f64>,
    spectrum: Vec<Complex<f64>>,
    fft: Vec<Complex<f64>>,
}

/// `window` of `win_length <= n_fft` samples, periodic (`scipy.signal.get_window(window,
/// win_length, fftbins=True)`), centred in `n_fft` zeros (`librosa.util.pad_center`).
pub fn window(kind: Window, win_length: usize, n_fft: usize) -> Vec<f64> {
    let win_length = win_length.min(n_fft);
    let mut w = vec![0.0; n_fft];
    let offset = (n_fft - win_length) / 2;
    let m = win_length as f64;
    for (n, v) in w[offset..offset + win_length].iter_mut().enumerate() {
        let phase = 2.0 * PI * n as f64 / m;
        *v = match kind {
            Window::Hann => 0.5 - 0.5 * phase.cos(),
            Window::Hamming => 0.54 - 0.46 * phase.cos(),
            Window::Boxcar => 1.0,
        };
    }
    w
}

impl Stft {
    /// Plan the STFT of `cfg` (`n_fft`, `hop_length`, `win_length`,
    /// `window`, `center`, `pad_mode`). Values that
    /// [`FeatureConfig::validate`] would reject are clamped into range
    /// (`n_fft >= 2`, `hop_length >= 1`, `1 <= win_length <= n_fft`).
    pub fn new(cfg: &FeatureConfig) -> Stft {
        let n_fft = cfg.n_fft.max(2);
        Stft {
            n_fft,
            hop: cfg.hop_length.max(1),
            center: cfg.center,
            pad: cfg.pad_mode.into(),
            window: window(cfg.window, cfg.win_length().clamp(1, n_fft), n_fft),
            fft: RealFftPlanner::<f64>::new().plan_fft_forward(n_fft),
        }
    }

    /// Frequency bins per frame, `1 + n_fft / 2`.
    pub fn n_bins(&self) -> usize {
        self.n_fft / 2 + 1
    }

    /// Frames for a clip of `n_samples`.
    pub fn n_frames(&self, n_samples: usize) -> usize {
        frame::n_frames(n_samples, self.n_fft, self.hop, self.center)
    }

    /// Transform every frame of `samples`, calling `each(t, spectrum)` with
    /// the `n_bins` complex bins of frame `t`.
    pub fn for_each_frame(
        &self,
        samples: &[f32],
        scratch: &mut StftScratch,
        mut each: impl FnMut(usize, &[Complex<f64>]),
    ) {
        let n_frames = self.n_frames(samples.len());
        let StftScratch {
            padded,
            frame,
            spectrum,
            fft,
        } = scratch;
        let signal: &[f32] = if self.center {
            frame::pad_into(samples, self.n_fft / 2, self.pad, padded);
            padded
        } else {
            samples
        };
        frame.resize(self.n_fft, 0.0);
        spectrum.resize(self.n_bins(), Complex::default());
        fft.resize(self.fft.get_scratch_len(), Complex::default());
        for t in 0..n_frames {
            let start = t * self.hop;
            let chunk = &signal[start..start + self.n_fft];
            for ((f, &x), &w) in frame.iter_mut().zip(chunk).zip(&self.window) {
                *f = f64::from(x) * w;
            }
            if self.fft.process_with_scratch(frame, spectrum, fft).is_err() {
                // Only on a length mismatch, which the sizes above rule out.
                spectrum.fill(Complex::default());
            }
            each(t, spectrum);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periodic_hann_matches_scipy() {
        // scipy.signal.get_window("hann", 8, fftbins=True)
        let expected = [
            0.0, 0.1464466, 0.5, 0.8535534, 1.0, 0.8535534, 0.5, 0.1464466,
        ];
        for (a, b) in window(Window::Hann, 8, 8).iter().zip(expected) {
            assert!((a - b).abs() < 1e-7, "{a} vs {b}");
        }
        // librosa.util.pad_center(get_window("hann", 4), size=8)
        let padded = window(Window::Hann, 4, 8);
        assert_eq!(padded[..2], [0.0, 0.0]);
        assert!((padded[4] - 1.0).abs() < 1e-12);
        assert_eq!(padded[6..], [0.0, 0.0]);
    }

    /// Every frame against a naive DFT of the same padded, windowed samples.
    #[test]
    fn frames_match_naive_dft() {
        let cfg = FeatureConfig {
            n_fft: 64,
            hop_length: 16,
            win_length: Some(48),
            ..Default::default()
        };
        let stft = Stft::new(&cfg);
        let x: Vec<f32> = (0..300)
            .map(|i| ((i * 7919) % 97) as f32 / 50.0 - 1.0)
            .collect();
        let mut padded = Vec::new();
        frame::pad_into(&x, 32, Pad::Constant, &mut padded);
        let w = window(Window::Hann, 48, 64);
        let mut frames = 0;
        stft.for_each_frame(&x, &mut StftScratch::default(), |t, spec| {
            frames += 1;
            for (k, bin) in spec.iter().enumerate() {
                let mut naive = Complex::new(0.0, 0.0);
                for n in 0..64 {
                    let v = f64::from(padded[t * 16 + n]) * w[n];
                    let ang = -2.0 * PI * (k * n) as f64 / 64.0;
                    naive += Complex::new(v * ang.cos(), v * ang.sin());
                }
                assert!(
                    (naive - bin).norm() < 1e-9,
                    "frame {t} bin {k}: {naive} vs {bin}"
                );
            }
        });
        assert_eq!(frames, 1 + 300 / 16);
    }
}
