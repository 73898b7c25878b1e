//! Quick, real training probes for diagnostics: can the network fit one
//! small batch at all, and how far does a linear model on pooled features
//! get? Both train with libtorch like the real thing, only smaller.

use std::time::Instant;

use serde::{Deserialize, Serialize};
use tch::nn::{Init, VarStore};
use tch::{Device, Kind, Reduction, Tensor};

use crate::Error;
use crate::classifier::Classifier;
use crate::config::{NetConfig, Optimizer, TrainConfig};
use crate::data::Dataset;
use crate::optim::Optim;
use crate::rng::{Rng, derive};

/// Examples in the batch [`overfit_one_batch`] fits.
pub const OVERFIT_BATCH: usize = 32;

/// Limits of a probe: when to stop and how many libtorch threads to use.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ProbeLimits {
    /// Stop at the first step that starts after this instant.
    pub deadline: Option<Instant>,
    /// libtorch intra-op threads (as `[train] threads`); all cores when `None`.
    pub threads: Option<usize>,
}

impl ProbeLimits {
    fn past(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    fn set_threads(&self) {
        let n = self
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        tch::set_num_threads(n.min(i32::MAX as usize) as i32);
    }
}

/// What [`overfit_one_batch`] reached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeResult {
    /// Accuracy on the batch after the last step (training-mode forward,
    /// dropout off).
    pub final_accuracy: f64,
    /// Loss after each step's forward pass.
    pub losses: Vec<f64>,
}

/// Trains the network of `net` (dropout switched off) with Adam, lr 1e-3,
/// no weight decay, for `steps` steps on one batch of [`OVERFIT_BATCH`]
/// examples drawn from `data` with `seed`. A healthy network and pipeline
/// reach 100%; one that cannot points at the data or labels, or at a
/// network that throws the signal away.
pub fn overfit_one_batch(
    net: &NetConfig,
    data: &Dataset,
    n_classes: usize,
    steps: usize,
    seed: u64,
) -> Result<ProbeResult, Error> {
    overfit_one_batch_within(net, data, n_classes, steps, seed, ProbeLimits::default())
}

/// [`overfit_one_batch`] within `limits`: past the deadline it stops before
/// the next step, so `losses` holds fewer than `steps` values.
pub fn overfit_one_batch_within(
    net: &NetConfig,
    data: &Dataset,
    n_classes: usize,
    steps: usize,
    seed: u64,
    limits: ProbeLimits,
) -> Result<ProbeResult, Error> {
    let (f, t) = (data.n_features, data.n_frames);
    data.check_for("probe", f, t, n_classes)?;
    if data.len() < 2 {
        return Err(Error::Data(
            "the overfit probe needs at least 2 examples".into(),
        ));
    }
    let mut net = net.clone();
    net.dropout = 0.0;
    for b in &mut net.blocks {
        b.dropout = 0.0;
    }
    limits.set_threads();
    tch::manual_seed(derive(seed, 0, 0) as i64);
    let model = Classifier::build(&net, f, t, n_classes, Device::Cpu)?;
    let cfg = TrainConfig {
        optimizer: Optimizer::Adam,
        lr: 1e-3,
        weight_decay: 0.0,
        ..TrainConfig::default()
    };
    let mut opt = Optim::new(model.var_store(), &cfg)?;

    let (x, y) = data.to_tensors(Device::Cpu)?;
    let mut order = Rng::new(derive(seed, 1, 0)).permutation(data.len());
    order.truncate(OVERFIT_BATCH);
    let idx = Tensor::f_from_slice(&order)?;
    let (xb, yb) = (x.f_index_select(0, &idx)?, y.f_index_select(0, &idx)?);

    let mut losses = Vec::with_capacity(steps);
    for step in 0..steps {
        if limits.past() {
            break;
        }
        let loss = model
            .net()
            .forward_t(&xb, true)?
            .f_cross_entropy_loss::<Tensor>(&yb, None, Reduction::Mean, -100, 0.0)?;
        let value = loss.f_double_value(&[])?;
        if !value.is_finite() {
            return Err(Error::Diverged {
                epoch: 1,
                step: step + 1,
                loss: value,
                lr: cfg.lr,
            });
        }
        losses.push(value);
        opt.zero_grad()?;
        loss.f_backward()?;
        opt.step(cfg.lr)?;
    }
    let final_accuracy = tch::no_grad(|| -> Result<f64, Error> {
        let pred = model.net().forward_t(&xb, true)?.f_argmax(1, false)?;
        Ok(pred
            .f_eq_tensor(&yb)?
            .f_to_kind(Kind::Double)?
            .f_mean(Kind::Double)?
            .f_double_value(&[])?)
    })?;
    Ok(ProbeResult {
        final_accuracy,
        losses,
    })
}

/// Per example, the mean and standard deviation over time of every feature:
/// `[n, 2 * n_features]`.
fn pooled(d: &Dataset) -> Result<Tensor, Error> {
    let (x, _) = d.to_tensors(Device::Cpu)?;
    let mean = x.f_mean_dim([2i64].as_slice(), false, Kind::Float)?;
    let std = x.f_std_correction([2i64].as_slice(), 0, false)?;
    Ok(Tensor::f_cat(&[mean, std], 1)?)
}

/// Softmax regression on time-pooled features (mean and standard deviation
/// of each feature over frames), standardised with statistics of `train`
/// only, fitted full-batch with Adam (lr 0.05, weight decay 1e-4, 300
/// steps; the problem is convex). Returns (train accuracy, test accuracy).
///
/// Far above chance while the CNN sits at chance means the CNN or its
/// training is at fault; at chance too means the labels carry no signal
/// the features can see.
pub fn linear_probe(
    train: &Dataset,
    test: &Dataset,
    n_classes: usize,
    seed: u64,
) -> Result<(f64, f64), Error> {
    let r = linear_probe_within(train, test, n_classes, seed, ProbeLimits::default())?;
    Ok(r.unwrap_or((f64::NAN, f64::NAN)))
}

/// [`linear_probe`] within `limits`: `None` when the deadline came before
/// the fit converged (a half-fitted probe says nothing).
pub fn linear_probe_within(
    train: &Dataset,
    test: &Dataset,
    n_classes: usize,
    seed: u64,
    limits: ProbeLimits,
) -> Result<Option<(f64, f64)>, Error> {
    let (f, t) = (train.n_features, train.n_frames);
    train.check_for("probe training", f, t, n_classes)?;
    test.check_for("probe test", f, t, n_classes)?;
    if train.is_empty() || test.is_empty() {
        return Err(Error::Data(
            "the linear probe needs training and test examples".into(),
        ));
    }
    limits.set_threads();
    let (xtr, xte) = (pooled(train)?, pooled(test)?);
    let mean = xtr.f_mean_dim([0i64].as_slice(), true, Kind::Float)?;
    // Constant features get a unit scale instead of a division by zero.
    let std = xtr.f_std_correction([0i64].as_slice(), 0, true)?;
    let std = std.f_where_scalarother(&std.f_gt(1e-8)?, 1.0)?;
    let xtr = xtr.f_sub(&mean)?.f_div(&std)?;
    let xte = xte.f_sub(&mean)?.f_div(&std)?;
    let ytr = Tensor::f_from_slice(&train.y)?;
    let yte = Tensor::f_from_slice(&test.y)?;

    tch::manual_seed(derive(seed, 4, 0) as i64);
    let vs = VarStore::new(Device::Cpu);
    let d = 2 * f as i64;
    let w = vs.root().f_var(
        "weight",
        &[n_classes as i64, d],
        Init::Randn {
            mean: 0.0,
            stdev: 0.01,
        },
    )?;
    let b = vs
        .root()
        .f_var("bias", &[n_classes as i64], Init::Const(0.0))?;
    let cfg = TrainConfig {
        optimizer: Optimizer::Adam,
        lr: 0.05,
        weight_decay: 1e-4,
        ..TrainConfig::default()
    };
    let mut opt = Optim::new(&vs, &cfg)?;
    for step in 0..300 {
        if limits.past() {
            return Ok(None);
        }
        let loss = xtr.f_linear(&w, Some(&b))?.f_cross_entropy_loss::<Tensor>(
            &ytr,
            None,
            Reduction::Mean,
            -100,
            0.0,
        )?;
        let value = loss.f_double_value(&[])?;
        if !value.is_finite() {
            return Err(Error::Diverged {
                epoch: 1,
                step: step + 1,
                loss: value,
                lr: cfg.lr,
            });
        }
        opt.zero_grad()?;
        loss.f_backward()?;
        opt.step(cfg.lr)?;
    }
    let accuracy = |x: &Tensor, y: &Tensor| -> Result<f64, Error> {
        tch::no_grad(|| {
            let pred = x.f_linear(&w, Some(&b))?.f_argmax(1, false)?;
            Ok(pred
                .f_eq_tensor(y)?
                .f_to_kind(Kind::Double)?
                .f_mean(Kind::Double)?
                .f_double_value(&[])?)
        })
    };
    Ok(Some((accuracy(&xtr, &ytr)?, accuracy(&xte, &yte)?)))
}
