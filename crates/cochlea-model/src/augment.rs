//! On-the-fly augmentation of a training batch `[batch, features, frames]`.
//!
//! Per example and per enabled augmentation, a coin with
//! `AugmentConfig::probability` decides whether it applies; all draws come
//! from the run's seeded stream ([`crate::rng`]), so a seed reproduces them.
//! Order: the geometric ones first (time shift, time stretch, frequency
//! warp), then gain, noise, and SpecAugment masks (Park et al. 2019) last,
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

    if let Some([lo, hi]) = cfg.time_stretch {
        let rates: Vec<f64> = (0..b)
            .map(|_| {
                if rng.chance(p) {
                    rng.range(lo, hi)
                } else {
                    1.0
                }
            })
            .collect();
        if rates.iter().any(|&r| r != 1.0) {
            // out[.., i] = in[.., i * rate], linear between frames; one zero
            // frame appended so reads past the end give 0.
            let sources = rates.iter().map(|&r| (0..t).map(move |i| i as f64 * r));
            let (i0, i1, w) = interpolation(sources, t);
            let ix = |v: Vec<i64>| -> Result<Tensor, Error> {
                Ok(Tensor::f_from_slice(&v)?
                    .f_view([b as i64, 1, t as i64])?
                    .f_to_device(device)?
                    .f_expand([b as i64, f as i64, t as i64], false)?)
            };
            let w = Tensor::f_from_slice(&w)?
                .f_view([b as i64, 1, t as i64])?
                .f_to_device(device)?;
            let padded = Tensor::f_cat(
                &[
                    &y,
                    &Tensor::f_zeros([b as i64, f as i64, 1], (y.kind(), device))?,
                ],
                2,
            )?;
            y = lerp(&padded, 2, &ix(i0)?, &ix(i1)?, &w)?;
        }
    }

    if let Some([lo, hi]) = cfg.freq_warp {
        let alphas: Vec<f64> = (0..b)
            .map(|_| {
                if rng.chance(p) {
                    rng.range(lo, hi)
                } else {
                    1.0
                }
            })
            .collect();
        if alphas.iter().any(|&a| a != 1.0) {
            let rows = if cfg.freq_warp_rows == 0 {
                f
            } else {
                cfg.freq_warp_rows
            };
            let sources = alphas.iter().map(|&a| {
                (0..f).map(move |r| {
                    let block = (r / rows * rows) as f64;
                    block + vtlp_source((r % rows) as f64, a, rows)
                })
            });
            let (i0, i1, w) = interpolation(sources, f - 1);
            let ix = |v: Vec<i64>| -> Result<Tensor, Error> {
                Ok(Tensor::f_from_slice(&v)?
                    .f_view([b as i64, f as i64, 1])?
                    .f_to_device(device)?
                    .f_expand([b as i64, f as i64, t as i64], false)?)
            };
            let w = Tensor::f_from_slice(&w)?
                .f_view([b as i64, f as i64, 1])?
                .f_to_device(device)?;
            y = lerp(&y, 1, &ix(i0)?, &ix(i1)?, &w)?;
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

/// The source row (fractional) that VTLP's warp by `alpha` sends to output
/// row `x` of an axis of `rows` rows: the inverse of Jaitly and Hinton's
/// piecewise-linear map `f -> alpha f` below the boundary
/// `s0 = B min(alpha, 1) / alpha` (B at 7/8 of the axis), then the line
/// from `(s0, alpha s0)` to the top row, which stays in place.
fn vtlp_source(x: f64, alpha: f64, rows: usize) -> f64 {
    let top = (rows - 1) as f64;
    let s0 = 0.875 * top * alpha.min(1.0) / alpha;
    let knee = alpha * s0;
    let s = if x <= knee {
        x / alpha
    } else {
        s0 + (x - knee) * (top - s0) / (top - knee)
    };
    s.clamp(0.0, top)
}

/// Per example, turns fractional source positions along an axis into the
/// two neighbouring indices and the weight of the upper one, all flattened;
/// indices are clamped to `last` (for time, a zero frame the caller
/// appends, so reads past the end give 0).
fn interpolation<I, J>(sources: I, last: usize) -> (Vec<i64>, Vec<i64>, Vec<f32>)
where
    I: Iterator<Item = J>,
    J: Iterator<Item = f64>,
{
    let (mut i0, mut i1, mut w) = (Vec::new(), Vec::new(), Vec::new());
    for example in sources {
        for s in example {
            let lo = s.floor().max(0.0);
            let k = (lo as usize).min(last);
            i0.push(k as i64);
            i1.push((k + 1).min(last) as i64);
            w.push((s - lo) as f32);
        }
    }
    (i0, i1, w)
}

/// `x[i0] + w (x[i1] - x[i0])` along `dim`.
fn lerp(x: &Tensor, dim: i64, i0: &Tensor, i1: &Tensor, w: &Tensor) -> Result<Tensor, Error> {
    let a = x.f_gather(dim, i0, false)?;
    let b = x.f_gather(dim, i1, false)?;
    Ok(a.f_add(&b.f_sub(&a)?.f_mul(w)?)?)
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
    fn time_stretch_reads_frames_at_the_drawn_rate_and_zero_past_the_end() {
        let (v, x) = batch();
        let cfg = AugmentConfig {
            time_stretch: Some([1.25, 1.25]),
            ..AugmentConfig::default()
        };
        let y = values(&augment(&x, &cfg, &mut Rng::new(6)).expect("augment"));
        for b in 0..B {
            for f in 0..F {
                for t in 0..T {
                    let src = t as f64 * 1.25;
                    let (i, w) = (src.floor() as usize, (src - src.floor()) as f32);
                    let get = |k: usize| if k < T { at(&v, b, f, k) } else { 0.0 };
                    let want = get(i) + w * (get(i + 1) - get(i));
                    assert!(
                        (at(&y, b, f, t) - want).abs() < 1e-5,
                        "example {b}, row {f}, frame {t}: {} vs {want}",
                        at(&y, b, f, t)
                    );
                }
            }
            // The last fifth of the frames read past the end.
            assert_eq!(at(&y, b, 0, T - 1), 0.0);
        }
    }

    /// A batch whose value is the row index, on `rows` rows.
    fn row_ramp(rows: usize) -> Tensor {
        let v: Vec<f32> = (0..B * rows * T).map(|i| ((i / T) % rows) as f32).collect();
        Tensor::from_slice(&v).view([B as i64, rows as i64, T as i64])
    }

    #[test]
    fn freq_warp_moves_rows_by_the_vtlp_map_and_keeps_the_ends() {
        let rows = 17;
        let cfg = AugmentConfig {
            freq_warp: Some([1.2, 1.2]),
            ..AugmentConfig::default()
        };
        let y = augment(&row_ramp(rows), &cfg, &mut Rng::new(7)).expect("augment");
        let y = values(&y);
        let top = (rows - 1) as f64;
        for r in 0..rows {
            // On a ramp, linear interpolation returns the source row itself.
            let want = vtlp_source(r as f64, 1.2, rows);
            for b in 0..B {
                let got = y[(b * rows + r) * T + 3];
                assert!(
                    (f64::from(got) - want).abs() < 1e-4,
                    "row {r}: {got} vs {want}"
                );
            }
        }
        assert_eq!(y[0], 0.0, "row 0 moved");
        assert!(
            (f64::from(y[(rows - 1) * T]) - top).abs() < 1e-4,
            "top row moved"
        );
        // Below the knee, alpha 1.2 reads row r / 1.2: formants move up.
        assert!((f64::from(y[6 * T]) - 5.0).abs() < 1e-4);
    }

    #[test]
    fn freq_warp_rows_warps_each_block_on_its_own() {
        let cfg = AugmentConfig {
            freq_warp: Some([0.8, 0.8]),
            freq_warp_rows: 4,
            ..AugmentConfig::default()
        };
        // Rows 0..8 hold 0..8: two blocks of 4.
        let y = values(&augment(&row_ramp(8), &cfg, &mut Rng::new(8)).expect("augment"));
        for r in 0..8 {
            let want = (r / 4 * 4) as f64 + vtlp_source((r % 4) as f64, 0.8, 4);
            let got = f64::from(y[r * T]);
            assert!((got - want).abs() < 1e-4, "row {r}: {got} vs {want}");
            assert!(got >= (r / 4 * 4) as f64 && got <= (r / 4 * 4 + 3) as f64);
        }
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
            time_stretch: Some([0.8, 1.2]),
            freq_warp: Some([0.9, 1.1]),
            probability: 0.0,
            ..AugmentConfig::default()
        };
        let y = augment(&x, &cfg, &mut Rng::new(5)).expect("augment");
        assert_eq!(values(&y), v);
    }
}
