//! Mixup (Zhang et al. 2018, "mixup: Beyond Empirical Risk Minimization")
//! on a training batch, and the cross-entropy against the soft targets it
//! makes.
//!
//! One `lambda ~ Beta(alpha, alpha)` per batch (as the paper's reference
//! code), and a random pairing of the batch's examples: `x = lambda x_i +
//! (1 - lambda) x_j`, `t = lambda onehot(y_i) + (1 - lambda) onehot(y_j)`.

use tch::{Kind, Tensor};

use crate::Error;
use crate::rng::Rng;

/// A mixed batch.
pub(crate) struct Mixed {
    /// The mixed inputs, the shape of the batch.
    pub x: Tensor,
    /// Soft targets `[batch, n_classes]`, rows summing to 1.
    pub targets: Tensor,
    /// Each example's larger share of the mix: its own label when
    /// `lambda >= 0.5`, its partner's otherwise. Training accuracy counts
    /// against it.
    pub dominant: Tensor,
}

/// Mixes `x` `[batch, ...]` and its labels `y` `[batch]` with a `lambda`
/// and a pairing drawn from `rng`.
pub(crate) fn mixup(
    x: &Tensor,
    y: &Tensor,
    n_classes: usize,
    alpha: f64,
    rng: &mut Rng,
) -> Result<Mixed, Error> {
    let b = x.size()[0] as usize;
    let lambda = rng.beta(alpha, alpha);
    let perm = Tensor::f_from_slice(&rng.permutation(b))?.f_to_device(x.device())?;
    mix_with(x, y, n_classes, lambda, &perm)
}

/// Mixup with a given `lambda` and partner index per example.
pub(crate) fn mix_with(
    x: &Tensor,
    y: &Tensor,
    n_classes: usize,
    lambda: f64,
    perm: &Tensor,
) -> Result<Mixed, Error> {
    let xj = x.f_index_select(0, perm)?;
    let yj = y.f_index_select(0, perm)?;
    let mixed = x
        .f_mul_scalar(lambda)?
        .f_add(&xj.f_mul_scalar(1.0 - lambda)?)?;
    let onehot = |t: &Tensor| t.f_one_hot(n_classes as i64)?.f_to_kind(Kind::Float);
    let targets = onehot(y)?
        .f_mul_scalar(lambda)?
        .f_add(&onehot(&yj)?.f_mul_scalar(1.0 - lambda)?)?;
    let dominant = if lambda >= 0.5 { y.shallow_clone() } else { yj };
    Ok(Mixed {
        x: mixed,
        targets,
        dominant,
    })
}

/// Cross-entropy of `logits` against soft `targets` `[batch, n_classes]`,
/// with label smoothing and class weights as `torch.nn.CrossEntropyLoss`
/// applies them to class indices, extended to soft targets:
///
/// `t' = (1 - eps) t + eps / K`, `loss_i = -sum_c w_c t'_ic log p_ic`, and
/// the batch loss is `sum_i loss_i / sum_i sum_c w_c t_ic`: each example
/// weighs the mix of its classes' weights. With one-hot targets this is
/// exactly `CrossEntropyLoss(weight=w, label_smoothing=eps)` with mean
/// reduction (its denominator is `sum_i w_{y_i}`).
pub(crate) fn soft_cross_entropy(
    logits: &Tensor,
    targets: &Tensor,
    weights: Option<&Tensor>,
    label_smoothing: f64,
) -> Result<Tensor, Error> {
    let k = targets.size()[1] as f64;
    let logp = logits.f_log_softmax(1, Kind::Float)?;
    let smoothed = targets
        .f_mul_scalar(1.0 - label_smoothing)?
        .f_add_scalar(label_smoothing / k)?;
    let (num_t, den_t) = match weights {
        Some(w) => {
            let w = w.f_view([1, -1])?;
            (smoothed.f_mul(&w)?, targets.f_mul(&w)?)
        }
        None => (smoothed, targets.shallow_clone()),
    };
    let num = num_t.f_mul(&logp)?.f_sum(Kind::Float)?.f_neg()?;
    let den = den_t.f_sum(Kind::Float)?;
    Ok(num.f_div(&den)?)
}

#[cfg(test)]
mod tests {
    use tch::{Device, Kind, Reduction, Tensor};

    use super::*;

    #[test]
    fn mixing_makes_soft_targets_and_mixes_inputs_with_the_same_lambda() {
        let x = Tensor::from_slice(&[1.0f32, 2.0, 10.0, 20.0, -4.0, 0.0]).view([3, 2]);
        let y = Tensor::from_slice(&[0i64, 2, 1]);
        let perm = Tensor::from_slice(&[1i64, 2, 0]);
        let m = mix_with(&x, &y, 3, 0.7, &perm).expect("mix");
        let xs = Vec::<f32>::try_from(m.x.flatten(0, -1)).expect("x");
        let want = [
            0.7 * 1.0 + 0.3 * 10.0,
            0.7 * 2.0 + 0.3 * 20.0,
            0.7 * 10.0 + 0.3 * -4.0,
            0.7 * 20.0,
            0.7 * -4.0 + 0.3 * 1.0,
            0.3 * 2.0,
        ];
        for (a, b) in xs.iter().zip(want) {
            assert!((a - b as f32).abs() < 1e-5, "{xs:?}");
        }
        let t = Vec::<f32>::try_from(m.targets.flatten(0, -1)).expect("t");
        let want_t = [0.7, 0.0, 0.3, 0.0, 0.3, 0.7, 0.3, 0.7, 0.0];
        for (a, b) in t.iter().zip(want_t) {
            assert!((a - b as f32).abs() < 1e-6, "{t:?}");
        }
        // Rows sum to one, and the dominant label is each example's own.
        assert!(m.dominant.equal(&y));
        let m = mix_with(&x, &y, 3, 0.2, &perm).expect("mix");
        assert!(m.dominant.equal(&y.index_select(0, &perm)));
    }

    #[test]
    fn drawn_mixup_targets_are_soft() {
        let x = Tensor::randn([8, 3, 5], (Kind::Float, Device::Cpu));
        let y = Tensor::from_slice(&[0i64, 1, 2, 3, 0, 1, 2, 3]);
        let mut rng = Rng::new(5);
        let m = mixup(&x, &y, 4, 0.4, &mut rng).expect("mix");
        let t = m.targets;
        let sums = t.sum_dim_intlist([1i64].as_slice(), false, Kind::Float);
        assert!(f64::try_from((sums - 1.0).abs().max()).expect("sum") < 1e-6);
        // Examples mixed with one of another class get two non-zero
        // targets (those paired with their own class stay one-hot).
        let row_max = t.amax([1i64].as_slice(), false);
        let soft = i64::try_from(row_max.lt(1.0 - 1e-6).sum(Kind::Int64)).expect("count");
        assert!(soft >= 1, "every target is one-hot: {t}");
        let own = t.gather(1, &y.view([-1, 1]), false);
        assert!(f64::try_from(own.min()).expect("min") > 0.0);
    }

    #[test]
    fn soft_loss_on_one_hot_targets_is_torch_cross_entropy() {
        let logits = Tensor::randn([6, 4], (Kind::Float, Device::Cpu));
        let y = Tensor::from_slice(&[0i64, 1, 3, 3, 2, 1]);
        let onehot = y.one_hot(4).to_kind(Kind::Float);
        let w = Tensor::from_slice(&[0.5f32, 2.0, 1.0, 3.0]);
        for eps in [0.0, 0.1] {
            for weights in [None, Some(&w)] {
                let ours = soft_cross_entropy(&logits, &onehot, weights, eps).expect("loss");
                let torch = logits.cross_entropy_loss(&y, weights, Reduction::Mean, -100, eps);
                let d = f64::try_from((ours - torch).abs()).expect("d");
                assert!(d < 1e-5, "eps {eps} weights {}: {d}", weights.is_some());
            }
        }
    }
}
