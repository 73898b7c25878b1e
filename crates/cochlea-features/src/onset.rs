//! Onset strength (spectral flux on the log-mel spectrogram), as
//! `librosa.onset.onset_strength(y=...)` computes it with its defaults:
//! the mel power spectrogram in dB by `power_to_db`'s own defaults (ref 1,
//! amin 1e-10, top_db 80 over the clip, whatever the log-mel kind uses),
//! lag 1, no maximum filter, the mean over mel bands of the positive change
//! from the previous frame, shifted right by `1 + n_fft / (2 hop)` frames
//! of zeros when centred (by 1 otherwise) and cut to the clip's frame count.

/// Onset strength of every frame into `out` (`n_frames` values) from the
/// log-mel frames `db` (`n_frames x n_mels`, frame after frame).
pub(crate) fn onset_strength(
    db: &[f32],
    n_mels: usize,
    n_fft: usize,
    hop: usize,
    center: bool,
    out: &mut [f32],
) {
    out.fill(0.0);
    let n_frames = out.len();
    if n_mels == 0 || n_frames == 0 {
        return;
    }
    let pad = 1 + if center { n_fft / (2 * hop) } else { 0 };
    for t in 1..n_frames {
        let at = t - 1 + pad;
        if at >= n_frames {
            break;
        }
        let (prev, cur) = (
            &db[(t - 1) * n_mels..t * n_mels],
            &db[t * n_mels..(t + 1) * n_mels],
        );
        let sum: f64 = cur
            .iter()
            .zip(prev)
            .map(|(&c, &p)| f64::from((c - p).max(0.0)))
            .sum();
        out[at] = (sum / n_mels as f64) as f32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flux_counts_rises_only_and_is_shifted() {
        // Two mels, three frames: rises of (2, 0) then (0, 0) with a fall.
        let db = [0.0, 1.0, 2.0, 0.0, 2.0, -5.0];
        let mut out = [9.0; 3];
        onset_strength(&db, 2, 4, 4, false, &mut out);
        assert_eq!(out, [0.0, 1.0, 0.0]);
        // Centred, n_fft 16 over hop 4 adds two frames of delay.
        let mut out = [9.0; 3];
        onset_strength(&db, 2, 16, 4, true, &mut out);
        assert_eq!(out, [0.0, 0.0, 0.0]);
        let mut out = [9.0; 3];
        onset_strength(&db, 2, 8, 4, true, &mut out);
        assert_eq!(out, [0.0, 0.0, 1.0]);
    }
}
