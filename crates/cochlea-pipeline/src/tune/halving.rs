//! Successive halving (Jamieson and Talwalkar 2016; the synchronous form of
//! Optuna's `SuccessiveHalvingPruner` and of one Hyperband bracket): every
//! trial is scored at a low fidelity (a fraction of its epochs, one inner
//! fold), the best `1 / eta` go on to the next rung with more epochs and
//! folds, until the last rung trains the full epochs on every inner fold.

use serde::{Deserialize, Serialize};

/// The fidelity of one rung.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Rung {
    /// Trials scored at this rung.
    pub trials: usize,
    /// Fraction of each trial's `train.epochs` trained.
    pub epoch_fraction: f64,
    /// Inner folds scored (the first ones).
    pub folds: usize,
}

/// The rungs for `n` trials, reduction factor `eta`, at most `max_rungs`
/// rungs and `inner_folds` folds.
pub fn rungs(n: usize, eta: usize, max_rungs: usize, inner_folds: usize) -> Vec<Rung> {
    // As many rungs as halving can fill with at least one trial.
    let mut count = 1;
    while count < max_rungs && n / eta.pow(count as u32) >= 1 {
        count += 1;
    }
    (0..count)
        .map(|r| {
            let last = r + 1 == count;
            Rung {
                trials: (n / eta.pow(r as u32)).max(1),
                epoch_fraction: (eta as f64).powi(r as i32 + 1 - count as i32),
                folds: if last {
                    inner_folds
                } else if r == 0 {
                    1
                } else {
                    inner_folds.div_ceil(2)
                },
            }
        })
        .collect()
}

/// Epochs trained at `fraction` of `epochs`: at least one.
pub fn epochs_at(epochs: usize, fraction: f64) -> usize {
    ((epochs as f64 * fraction).round() as usize).clamp(1, epochs.max(1))
}

/// Mean and sample standard deviation.
pub fn mean_sd(v: &[f64]) -> (f64, f64) {
    if v.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let m = v.iter().sum::<f64>() / v.len() as f64;
    let sd = if v.len() > 1 {
        (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt()
    } else {
        0.0
    };
    (m, sd)
}

/// Orders trials best first: higher mean, then lower spread, then the
/// earlier trial (so the order never depends on timing).
pub fn rank(scored: &mut [(usize, f64, f64)]) {
    scored.sort_by(|a, b| {
        b.1.total_cmp(&a.1)
            .then(a.2.total_cmp(&b.2))
            .then(a.0.cmp(&b.0))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nine_trials_eta_three_make_three_rungs() {
        let r = rungs(9, 3, 3, 3);
        assert_eq!(
            r.iter().map(|r| r.trials).collect::<Vec<_>>(),
            vec![9, 3, 1]
        );
        assert_eq!(r.iter().map(|r| r.folds).collect::<Vec<_>>(), vec![1, 2, 3]);
        assert!((r[0].epoch_fraction - 1.0 / 9.0).abs() < 1e-12);
        assert_eq!(r[2].epoch_fraction, 1.0);
    }

    #[test]
    fn few_trials_make_fewer_rungs() {
        let r = rungs(2, 3, 3, 3);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].folds, 3);
        assert_eq!(r[0].epoch_fraction, 1.0);
        assert_eq!(rungs(3, 3, 3, 2).len(), 2);
    }

    #[test]
    fn ranking_is_by_mean_then_spread_then_id() {
        let mut s = vec![(0, 0.5, 0.1), (1, 0.7, 0.2), (2, 0.7, 0.1), (3, 0.5, 0.1)];
        rank(&mut s);
        assert_eq!(s.iter().map(|x| x.0).collect::<Vec<_>>(), vec![2, 1, 0, 3]);
    }

    #[test]
    fn epochs_never_drop_to_zero() {
        assert_eq!(epochs_at(3, 1.0 / 9.0), 1);
        assert_eq!(epochs_at(40, 1.0 / 3.0), 13);
    }
}
