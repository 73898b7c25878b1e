//! On-the-fly augmentation of a training batch `[batch, features, frames]`.
//!
//! Per example and per enabled augmentation, a coin with
//! `AugmentConfig::probability` decides whether it applies; all draws come
//! from the run's seeded stream ([`crate::rng`]), so a seed reproduces them.
//! Order: time shift, gain, noise, then SpecAugment masks (Park et al. 2019),
//! so masks are the last word, as in SpecAugment's own pipeline.

use tch::{Kind, Tensor};

use crate::Error;
use crate::config::AugmentConfig;
use crate::rng::Rng;

/// Returns an augmented copy of `x` (`x` itself is left alone).
pub(crate) fn augment(x: &Tensor, cfg: &AugmentConfig, rng: &mut Rng) -> Result<Tensor, Error> {
    let (b, f, t) = x.size3()?;
    let (b, f, t) = (b as usize, f as usize, t as usize);
    let device = x.device();
    let p = cfg.probability;
    let mut y = x.shallow_clone();

    if cfg.time_shift > 0 {
        let max = cfg.time_shift as i64;
        let shifts: Vec<i64> = (0..b)
            .map(|_| {
                if rng.chance(p) {
                    rng.below(2 * cfg.time_shift + 1) as i64 - max
                } else {
                    0
                }
            })
            .collect();
        if shifts.iter().any(|&s| s != 0) {
            // out[.., i] = in[.., (i - s) mod t], i.e. numpy.roll(x, s, axis=-1).
            let n = t as i64;
            let index: Vec<i64> = shifts
                .iter()
                .flat_map(|&s| (0..n).map(move |i| (i - s).rem_euclid(n)))
                .collect();
            let index = Tensor::f_from_slice(&index)?
                .f_view([b as i64, 1, n])?
                .f_to_device(device)?
                .f_expand([b as i64, f as i64, n], false)?;
            y = y.f_gather(2, &index, false)?;
        }
    }

    if let Some([lo, hi]) = cfg.gain_db {
        let gains: Vec<f32> = (0..b)
            .map(|_| {
                if rng.chance(p) {
                    10f64.powf(rng.range(lo, hi) / 20.0) as f32
                } else {
                    1.0
                }
            })
            .collect();
        let gains = Tensor::f_from_slice(&gains)?
            .f_view([b as i64, 1, 1])?
            .f_to_device(device)?;
        y = y.f_mul(&gains)?;
    }

    if let Some([lo, hi]) = cfg.noise_snr_db {
        // Noise amplitude relative to the example's RMS: 10^(-snr/20).
        let rel: Vec<f32> = (0..b)
            .map(|_| {
                if rng.chance(p) {
                    10f64.powf(-rng.range(lo, hi) / 20.0) as f32
                } else {
                    0.0
                }
            })
            .collect();
        if rel.iter().any(|&r| r > 0.0) {
            let mut noise = vec![0f32; b * f * t];
            rng.fill_normal(&mut noise);
            let rel = Tensor::f_from_slice(&rel)?
                .f_view([b as i64, 1, 1])?
                .f_to_device(device)?;
            let rms = y
                .f_square()?
                .f_mean_dim([1i64, 2].as_slice(), true, Kind::Float)?
                .f_sqrt()?;
            let noise = Tensor::f_from_slice(&noise)?
                .f_view([b as i64, f as i64, t as i64])?
                .f_to_device(device)?;
            y = y.f_add(&noise.f_mul(&rms.f_mul(&rel)?)?)?;
        }
    }

    let time_masks = cfg.time_masks > 0 && cfg.time_mask_width > 0;
    let freq_masks = cfg.freq_masks > 0 && cfg.freq_mask_width > 0;
    if time_masks || freq_masks {
        let mut mask = vec![1f32; b * f * t];
        let mut masked = false;
        for m in mask.chunks_mut(f * t) {
            if time_masks && rng.chance(p) {
                for _ in 0..cfg.time_masks {
                    let w = rng.below(cfg.time_mask_width.min(t) + 1);
                    let start = rng.below(t - w + 1);
                    for row in m.chunks_mut(t) {
                        row[start..start + w].fill(0.0);
                    }
                    masked |= w > 0;
                }
            }
            if freq_masks && rng.chance(p) {
                for _ in 0..cfg.freq_masks {
                    let w = rng.below(cfg.freq_mask_width.min(f) + 1);
                    let start = rng.below(f - w + 1);
                    m[start * t..(start + w) * t].fill(0.0);
                    masked |= w > 0;
                }
            }
        }
        if masked {
            let mask = Tensor::f_from_slice(&mask)?
                .f_view([b as i64, f as i64, t as i64])?
                .f_to_device(device)?;
            y = y.f_mul(&mask)?;
        }
    }
    Ok(y)
}

#[cfg(test)]
mod tests {
    use super::*;

    const B: usize = 8;
    const F: usize = 5;
    const T: usize = 40;

    fn batch() -> (Vec<f32>, Tensor) {
        let mut r = Rng::new(99);
        let mut v = vec![0f32; B * F * T];
        r.fill_normal(&mut v);
        let x = Tensor::from_slice(&v).view([B as i64, F as i64, T as i64]);
        (v, x)
    }

    fn values(t: &Tensor) -> Vec<f32> {
        Vec::<f32>::try_from(t.flatten(0, -1)).expect("tensor to vec")
    }

    fn at(v: &[f32], b: usize, f: usize, t: usize) -> f32 {
        v[(b * F + f) * T + t]
    }

    #[test]
    fn disabled_config_returns_the_batch_unchanged() {
        let (v, x) = batch();
        let y = augment(&x, &AugmentConfig::default(), &mut Rng::new(1)).expect("augment");
        assert_eq!(values(&y), v);
    }

    #[test]
    fn time_shift_rolls_each_example_within_the_limit() {
        let (v, x) = batch();
        let cfg = AugmentConfig {
            time_shift: 6,
            ..AugmentConfig::default()
        };
        let y = values(&augment(&x, &cfg, &mut Rng::new(1)).expect("augment"));
        let mut shifted = 0;
        for b in 0..B {
            // Find the roll that reproduces the example.
            let s = (-6i64..=6)
                .find(|&s| {
                    (0..F).all(|f| {
                        (0..T).all(|t| {
                            at(&y, b, f, t)
                                == at(&v, b, f, (t as i64 - s).rem_euclid(T as i64) as usize)
                        })
                    })
                })
                .unwrap_or_else(|| panic!("example {b} is not a roll of at most 6 frames"));
            shifted += usize::from(s != 0);
        }
        assert!(shifted >= B / 2, "only {shifted} of {B} examples moved");
    }

    #[test]
    fn gain_scales_each_example_by_a_factor_in_range() {
        let (v, x) = batch();
        let cfg = AugmentConfig {
            gain_db: Some([-6.0, 6.0]),
            ..AugmentConfig::default()
        };
        let y = values(&augment(&x, &cfg, &mut Rng::new(2)).expect("augment"));
        let mut factors = Vec::new();
        for b in 0..B {
            let k = at(&y, b, 0, 0) / at(&v, b, 0, 0);
            let db = 20.0 * (k as f64).log10();
            assert!(
                (-6.0 - 1e-4..=6.0 + 1e-4).contains(&db),
                "gain {db} dB outside [-6, 6]"
            );
            for f in 0..F {
                for t in 0..T {
                    let want = at(&v, b, f, t) * k;
                    assert!((at(&y, b, f, t) - want).abs() <= 1e-5 * want.abs().max(1.0));
                }
            }
            factors.push(k);
        }
        assert!(
            factors.iter().any(|&k| (k - factors[0]).abs() > 1e-3),
            "same gain everywhere"
        );
    }

    #[test]
    fn noise_has_the_requested_snr() {
        let (v, x) = batch();
        let cfg = AugmentConfig {
            noise_snr_db: Some([10.0, 10.0]),
            ..AugmentConfig::default()
        };
        let y = values(&augment(&x, &cfg, &mut Rng::new(3)).expect("augment"));
        let (mut signal, mut noise) = (0.0f64, 0.0f64);
        for (a, b) in v.iter().zip(&y) {
            signal += (*a as f64).powi(2);
            noise += (*b as f64 - *a as f64).powi(2);
        }
        let snr = 10.0 * (signal / noise).log10();
        assert!(
            (snr - 10.0).abs() < 0.5,
            "measured SNR {snr} dB, asked 10 dB"
        );
    }

    #[test]
    fn masks_zero_whole_bands_no_wider_than_asked() {
        let (v, x) = batch();
        let cfg = AugmentConfig {
            time_masks: 2,
            time_mask_width: 5,
            freq_masks: 1,
            freq_mask_width: 2,
            ..AugmentConfig::default()
        };
        let y = values(&augment(&x, &cfg, &mut Rng::new(4)).expect("augment"));
        let mut any = false;
        for b in 0..B {
            let zero_col = |t: usize| (0..F).all(|f| at(&y, b, f, t) == 0.0);
            let zero_row = |f: usize| (0..T).all(|t| at(&y, b, f, t) == 0.0);
            let cols = (0..T).filter(|&t| zero_col(t)).count();
            let rows = (0..F).filter(|&f| zero_row(f)).count();
            assert!(
                cols <= 10,
                "example {b}: {cols} masked frames > 2 masks x 5"
            );
            assert!(rows <= 2, "example {b}: {rows} masked rows > 1 mask x 2");
            any |= cols + rows > 0;
            // Every value is either kept or zeroed by a band.
            for f in 0..F {
                for t in 0..T {
                    let (a, o) = (at(&y, b, f, t), at(&v, b, f, t));
                    assert!(a == o || (a == 0.0 && (zero_col(t) || zero_row(f))));
                }
            }
        }
        assert!(any, "no mask applied to any of {B} examples");
    }

    #[test]
    fn probability_zero_applies_nothing() {
        let (v, x) = batch();
        let cfg = AugmentConfig {
            time_shift: 3,
            gain_db: Some([3.0, 6.0]),
            noise_snr_db: Some([0.0, 5.0]),
            time_masks: 1,
            time_mask_width: 4,
            probability: 0.0,
            ..AugmentConfig::default()
        };
        let y = augment(&x, &cfg, &mut Rng::new(5)).expect("augment");
        assert_eq!(values(&y), v);
    }
}
