//! Per-frame features of the waveform itself, framed like the STFT
//! (`frame_length = n_fft`, `hop_length`, centred or not):
//! - zero-crossing rate, `librosa.feature.zero_crossing_rate`: edge padding
//!   when centred, samples with `|x| <= 1e-10` count as zero (positive), and
//!   the rate is sign changes between consecutive samples over the frame
//!   length;
//! - RMS, `librosa.feature.rms`: `sqrt(mean(x^2))` per frame, centred with
//!   the configured padding (zeros by default, as librosa).

use crate::frame::{self, Pad};

/// `zero_crossings`' default threshold.
const ZCR_THRESHOLD: f32 = 1e-10;

/// Framing shared by both features.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Framing {
    pub(crate) frame_length: usize,
    pub(crate) hop: usize,
    pub(crate) center: bool,
}

impl Framing {
    fn frames<'a>(
        &self,
        samples: &'a [f32],
        pad: Pad,
        padded: &'a mut Vec<f32>,
    ) -> (usize, &'a [f32]) {
        let n = frame::n_frames(samples.len(), self.frame_length, self.hop, self.center);
        if self.center {
            frame::pad_into(samples, self.frame_length / 2, pad, padded);
            (n, padded)
        } else {
            (n, samples)
        }
    }
}

/// Zero-crossing rate of every frame into `out` (one value per frame).
pub(crate) fn zcr(samples: &[f32], framing: Framing, padded: &mut Vec<f32>, out: &mut [f32]) {
    let (n, signal) = framing.frames(samples, Pad::Edge, padded);
    let negative = |x: f32| x < -ZCR_THRESHOLD;
    for (t, o) in out.iter_mut().enumerate().take(n) {
        let chunk = &signal[t * framing.hop..t * framing.hop + framing.frame_length];
        let crossings = chunk
            .windows(2)
            .filter(|w| negative(w[0]) != negative(w[1]))
            .count();
        *o = (crossings as f64 / framing.frame_length as f64) as f32;
    }
}

/// RMS of every frame into `out` (one value per frame).
pub(crate) fn rms(
    samples: &[f32],
    framing: Framing,
    pad: Pad,
    padded: &mut Vec<f32>,
    out: &mut [f32],
) {
    let (n, signal) = framing.frames(samples, pad, padded);
    for (t, o) in out.iter_mut().enumerate().take(n) {
        let chunk = &signal[t * framing.hop..t * framing.hop + framing.frame_length];
        let power: f64 = chunk.iter().map(|&x| f64::from(x) * f64::from(x)).sum();
        *o = (power / framing.frame_length as f64).sqrt() as f32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zcr_counts_sign_changes_with_edge_padding() {
        let framing = Framing {
            frame_length: 4,
            hop: 2,
            center: true,
        };
        // Edge-padded: [1, 1, 1, -1, 1, -1, -1, -1]; frames start at 0, 2, 4.
        let x = [1.0, -1.0, 1.0, -1.0];
        let mut out = [0.0; 3];
        zcr(&x, framing, &mut Vec::new(), &mut out);
        assert_eq!(out, [0.25, 0.75, 0.25]);
        // Tiny values count as zero, and zero as positive.
        let y = [1.0, 1e-12, -1e-12, 0.0, -0.0];
        let mut out = [0.0; 3];
        zcr(&y, framing, &mut Vec::new(), &mut out);
        assert_eq!(out, [0.0; 3]);
    }

    #[test]
    fn rms_of_constant_and_padding() {
        let framing = Framing {
            frame_length: 4,
            hop: 4,
            center: true,
        };
        let x = [2.0; 8];
        let mut out = [0.0; 3];
        rms(&x, framing, Pad::Constant, &mut Vec::new(), &mut out);
        // Zero-padded halves at both ends: sqrt(2 * 4 / 4).
        assert_eq!(out, [2f32.sqrt(), 2.0, 2f32.sqrt()]);
        rms(&x, framing, Pad::Reflect, &mut Vec::new(), &mut out);
        assert_eq!(out, [2.0, 2.0, 2.0]);
    }
}
