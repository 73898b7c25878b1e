//! The mel filterbank against an independent implementation: `mel_spec`'s
//! `mel::mel(sr, n_fft, n_mels, fmin, fmax, htk, norm)`, which equals
//! `librosa.filters.mel` in `float64` to about 1e-15, over a grid of sample
//! rates, FFT sizes, filter counts, frequency ranges, both mel scales and
//! both normalisations.
//!
//! Tolerance: `|ours - ref| <= 2^-23 * |ref| + 1e-12` per weight. Ours, like
//! librosa's default `dtype=np.float32`, rounds each triangle to `f32` and
//! rounds again after the Slaney scaling; `mel_spec` stays in `f64`. Two
//! roundings to `f32` cost at most `2^-23` relative; the absolute `1e-12`
//! covers a bin lying exactly on a triangle's edge, where a last-bit
//! difference in the `f64` mel points (numpy's `linspace` pins the last
//! point, ndarray's does not) gives 0 in one and a weight near 1e-16 in
//! the other.

use cochlea_features::mel::mel_filters;
use cochlea_features::{MelNorm, MelScale};

/// One filterbank against the oracle; returns the largest relative error
/// over the weights above 1e-12.
fn compare(
    sr: u32,
    n_fft: usize,
    n_mels: usize,
    fmin: f64,
    fmax: Option<f64>,
    htk: bool,
    slaney: bool,
) -> f64 {
    let nyquist = f64::from(sr) / 2.0;
    let ours = mel_filters(
        sr,
        n_fft,
        n_mels,
        fmin,
        fmax.unwrap_or(nyquist),
        if htk { MelScale::Htk } else { MelScale::Slaney },
        if slaney {
            MelNorm::Slaney
        } else {
            MelNorm::None
        },
    );
    let oracle = mel_spec::mel::mel(f64::from(sr), n_fft, n_mels, Some(fmin), fmax, htk, slaney);
    let case = format!(
        "sr {sr} n_fft {n_fft} n_mels {n_mels} fmin {fmin} fmax {fmax:?} htk {htk} slaney {slaney}"
    );
    assert_eq!(
        oracle.dim(),
        (n_mels, n_fft / 2 + 1),
        "{case}: oracle shape"
    );
    assert_eq!(ours.len(), n_mels, "{case}: rows");
    let mut worst = 0.0f64;
    for (m, row) in ours.iter().enumerate() {
        assert_eq!(row.len(), n_fft / 2 + 1, "{case}: row {m} length");
        for (k, &w) in row.iter().enumerate() {
            let (ours, reference) = (f64::from(w), oracle[[m, k]]);
            let err = (ours - reference).abs();
            assert!(
                err <= f64::from(f32::EPSILON) * reference.abs() + 1e-12,
                "{case}: filter {m} bin {k}: ours {ours:e}, mel_spec {reference:e}"
            );
            if reference.abs() > 1e-12 {
                worst = worst.max(err / reference.abs());
            }
        }
    }
    worst
}

#[test]
fn filterbank_equals_mel_spec_over_a_grid_of_settings() {
    let mut cases = 0;
    let mut worst = 0.0f64;
    for sr in [8000u32, 11025, 16000, 22050, 44100, 48000] {
        let nyquist = f64::from(sr) / 2.0;
        for n_fft in [256usize, 400, 512, 1024, 2048] {
            for n_mels in [13usize, 40, 64, 128] {
                // Default range, a low cut, a band (speech), a band near Nyquist.
                for (fmin, fmax) in [
                    (0.0, None),
                    (20.0, None),
                    (80.0, Some(3800.0f64.min(nyquist))),
                    (300.0, Some(0.9 * nyquist)),
                ] {
                    for htk in [false, true] {
                        for slaney in [false, true] {
                            worst = worst.max(compare(sr, n_fft, n_mels, fmin, fmax, htk, slaney));
                            cases += 1;
                        }
                    }
                }
            }
        }
    }
    assert_eq!(cases, 6 * 5 * 4 * 4 * 2 * 2);
    eprintln!("{cases} filterbanks; largest relative difference {worst:e}");
}

/// More filters than FFT bins can separate: some filters are empty (librosa
/// warns), and must be empty in both.
#[test]
fn empty_filters_agree_with_mel_spec() {
    for (sr, n_fft, n_mels) in [
        (8000u32, 128usize, 128usize),
        (16000, 256, 128),
        (22050, 256, 200),
    ] {
        for htk in [false, true] {
            for slaney in [false, true] {
                compare(sr, n_fft, n_mels, 0.0, None, htk, slaney);
            }
        }
        let empty = mel_filters(
            sr,
            n_fft,
            n_mels,
            0.0,
            f64::from(sr) / 2.0,
            MelScale::Slaney,
            MelNorm::Slaney,
        )
        .iter()
        .filter(|row| row.iter().all(|&w| w == 0.0))
        .count();
        assert!(
            empty > 0,
            "sr {sr} n_fft {n_fft} n_mels {n_mels}: expected empty filters"
        );
    }
}
