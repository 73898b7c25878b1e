//! Framing: centre padding and frame counts, as `np.pad` and
//! `librosa.util.frame` do them for the STFT, `rms` and `zero_crossing_rate`.

/// How a signal is extended before framing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pad {
    /// Zeros (`np.pad(mode="constant")`).
    Constant,
    /// Mirror without repeating the edge sample (`np.pad(mode="reflect")`).
    Reflect,
    /// Repeat the edge sample (`np.pad(mode="edge")`, used by
    /// `librosa.feature.zero_crossing_rate`).
    Edge,
}

impl From<crate::config::PadMode> for Pad {
    fn from(mode: crate::config::PadMode) -> Self {
        match mode {
            crate::config::PadMode::Constant => Pad::Constant,
            crate::config::PadMode::Reflect => Pad::Reflect,
        }
    }
}

/// Number of frames of `frame_length` samples, `hop` apart, in a signal of
/// `n_samples`, centred or not: `1 + (padded - frame_length) / hop` as in
/// `librosa.util.frame`, which is `1 + n_samples / hop` for a centred even
/// frame length. A signal too short for one uncentred frame has none.
pub(crate) fn n_frames(n_samples: usize, frame_length: usize, hop: usize, center: bool) -> usize {
    let padded = if center {
        n_samples + 2 * (frame_length / 2)
    } else {
        n_samples
    };
    if padded < frame_length || hop == 0 {
        0
    } else {
        1 + (padded - frame_length) / hop
    }
}

/// Write `samples` extended by `pad` samples at both ends into `out`.
pub(crate) fn pad_into(samples: &[f32], pad: usize, mode: Pad, out: &mut Vec<f32>) {
    out.clear();
    out.reserve(samples.len() + 2 * pad);
    let n = samples.len() as isize;
    let value = |i: isize| -> f32 {
        if (0..n).contains(&i) {
            return samples[i as usize];
        }
        match mode {
            Pad::Constant => 0.0,
            _ if n == 0 => 0.0,
            Pad::Edge => samples[i.clamp(0, n - 1) as usize],
            Pad::Reflect if n == 1 => samples[0],
            // np.pad's reflect repeats the mirror image when the pad is longer
            // than the signal: the signal's periodic extension with period
            // 2 (n - 1).
            Pad::Reflect => {
                let period = 2 * (n - 1);
                let m = i.rem_euclid(period);
                samples[if m >= n { period - m } else { m } as usize]
            }
        }
    };
    let pad = pad as isize;
    out.extend((-pad..0).map(value));
    out.extend_from_slice(samples);
    out.extend((n..n + pad).map(value));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_counts_follow_librosa() {
        // librosa: 1 + len(y) // hop for centred frames of even length.
        assert_eq!(n_frames(8000, 256, 80, true), 101);
        assert_eq!(n_frames(0, 256, 80, true), 1);
        assert_eq!(n_frames(255, 256, 80, false), 0);
        assert_eq!(n_frames(256, 256, 80, false), 1);
        assert_eq!(n_frames(336, 256, 80, false), 2);
        // Odd frame length: the padded signal is one sample shorter.
        assert_eq!(n_frames(100, 5, 10, true), 10);
    }

    #[test]
    fn padding_modes_match_numpy() {
        let x = [1.0, 2.0, 3.0];
        let mut out = Vec::new();
        pad_into(&x, 2, Pad::Constant, &mut out);
        assert_eq!(out, [0.0, 0.0, 1.0, 2.0, 3.0, 0.0, 0.0]);
        pad_into(&x, 2, Pad::Edge, &mut out);
        assert_eq!(out, [1.0, 1.0, 1.0, 2.0, 3.0, 3.0, 3.0]);
        pad_into(&x, 2, Pad::Reflect, &mut out);
        assert_eq!(out, [3.0, 2.0, 1.0, 2.0, 3.0, 2.0, 1.0]);
        // np.pad([1, 2, 3], 5, mode="reflect")
        pad_into(&x, 5, Pad::Reflect, &mut out);
        assert_eq!(
            out,
            [
                2.0, 1.0, 2.0, 3.0, 2.0, 1.0, 2.0, 3.0, 2.0, 1.0, 2.0, 3.0, 2.0
            ]
        );
        pad_into(&[], 2, Pad::Reflect, &mut out);
        assert_eq!(out, [0.0; 4]);
    }
}
