//! Training parity with PyTorch: from the same initial weights and the same
//! batches, a few steps of this crate's training end at the weights that
//! `torch.nn` + `torch.optim` reach, for every optimiser, with batch norm;
//! and with dropout on, at weights with the same distribution.
//!
//! `tests/parity/torch_steps.py` is the PyTorch side. It runs with
//! `$COCHLEA_PYTHON`, which `scripts/with-libtorch` points at the Python
//! that has torch 2.13 and numpy; without it, or without torch there, this
//! test fails (it does not skip). The script writes the data and PyTorch's
//! initial weights (`torch.nn`'s default init from a seed) as `.npy` and
//! safetensors; this crate starts from those weights through
//! [`Classifier::from_weights`] and [`train_from`], with `shuffle = false`
//! so both sides see the same batches in the same order.
//!
//! Tolerances (float32, one libtorch thread on each side; the two sides
//! differ in the order of floating-point sums, since this crate runs
//! channels-last 2-D convolutions and PyTorch `Conv1d`):
//! - without dropout, every variable (weights, batch-norm scales, shifts
//!   and running statistics) after 10 steps within
//!   [`ABS_TOL`] + [`REL_TOL`] x its largest magnitude of PyTorch's value,
//!   plus [`VARIABLE_NOISE_FACTOR`] x how far PyTorch's own float32 result lies
//!   from the same steps in float64 (float32 rounding alone; large only
//!   where an optimiser amplifies it, RMSprop here), and the largest
//!   difference under [`MOVE_FRACTION`] of the farthest a trainable
//!   parameter moved plus that rounding allowance, so the comparison cannot
//!   pass by the steps doing nothing;
//! - with dropout, over [`SEEDS`] dropout seeds per side, the mean weights
//!   of the two sides agree within their sampling error (mean squared
//!   z-score at most [`MAX_Z2`]; 1 when the distributions are equal) and the
//!   spreads agree (ratio of variances within [`VAR_RATIO`]); a control
//!   against PyTorch with another dropout probability must fail the same
//!   check, so the check can tell.

#![cfg(feature = "torch")]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use cochlea_model::tch::{Kind, Tensor};
use cochlea_model::{
    AugmentConfig, BlockConfig, Classifier, Control, Dataset, EpochMetrics, Head, InitScheme,
    NetConfig, NetKind, Optimizer, PoolKind, TrainConfig, TrainOptions, train_from,
};
use serde_json::json;

mod common;

const N: usize = 150;
const FEATURES: usize = 13;
const FRAMES: usize = 40;
const CLASSES: usize = 5;
/// 150 examples in batches of 32: four full batches and one of 22 per
/// epoch; two epochs are 10 steps.
const BATCH: usize = 32;
const EPOCHS: usize = 2;

/// Absolute part of the tolerance on a variable.
const ABS_TOL: f64 = 1e-5;
/// Relative part, times the largest magnitude of the variable.
const REL_TOL: f64 = 1e-4;
/// Largest difference between the sides, as a fraction of the largest
/// distance a trainable parameter moved from its initial value.
const MOVE_FRACTION: f64 = 1e-3;
/// Allowance for float32 rounding, times the largest difference between
/// PyTorch's float32 and float64 results of the same steps.
const NOISE_FACTOR: f64 = 2.0;
/// The same allowance for one variable, times that variable's own float32
/// against float64 difference: one draw of the rounding noise, which the
/// other float32 path (ours) can exceed more than the case's largest.
/// RMSprop, whose division by the root of a small running average
/// amplifies rounding most, lands at 2.2 times it for `blocks.0.bn.bias`
/// on some CPUs (1.30e-3 against 0.59e-3) and under 2 on others; a wrong
/// update rule differs by the order of the parameter's move, far above.
const VARIABLE_NOISE_FACTOR: f64 = 3.0;

/// Dropout seeds per side.
const SEEDS: u64 = 24;
/// Largest mean squared z-score of the difference of the mean weights.
const MAX_Z2: f64 = 2.0;
/// Allowed range of the ratio of the total variances of the two sides.
const VAR_RATIO: (f64, f64) = (0.7, 1.43);

fn python() -> String {
    match std::env::var("COCHLEA_PYTHON") {
        Ok(p) if !p.is_empty() => p,
        _ => panic!(
            "COCHLEA_PYTHON is not set: this test needs the Python with torch and numpy; \
             run it through scripts/with-libtorch, which sets it"
        ),
    }
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/parity/torch_steps.py")
}

/// The network of the reference recipe (`pipelines/fsdd.toml` without
/// pooling after the third block), narrower so the test is quick.
fn recipe_net(dropout: f64, block_dropout: f64) -> NetConfig {
    let block = |filters, kernel, pool| BlockConfig {
        filters,
        kernel,
        pool,
        ..BlockConfig::default()
    };
    NetConfig {
        blocks: vec![
            block(16, 5, 2),
            BlockConfig {
                dropout: block_dropout,
                ..block(32, 3, 2)
            },
            block(32, 3, 1),
        ],
        dropout,
        ..NetConfig::default()
    }
}

/// No batch norm (convolutions with biases), average pooling, a hidden
/// dense layer.
fn plain_net() -> NetConfig {
    let block = |filters, kernel| BlockConfig {
        filters,
        kernel,
        pool: 2,
        pool_kind: PoolKind::Avg,
        batch_norm: false,
        ..BlockConfig::default()
    };
    NetConfig {
        blocks: vec![block(12, 5), block(16, 3)],
        hidden: vec![24],
        dropout: 0.0,
        ..NetConfig::default()
    }
}

/// A 2-D network over the 13 feature rows as an image: max pooling shrinks
/// frequency 13 -> 6 -> 3 and time 40 -> 20 -> 10; average pooling with
/// biases in the second block; statistics pooling.
fn conv2d_net() -> NetConfig {
    let block = |filters, kernel| BlockConfig {
        filters,
        kernel,
        pool: 2,
        ..BlockConfig::default()
    };
    NetConfig {
        kind: NetKind::Conv2d,
        blocks: vec![
            block(8, 3),
            BlockConfig {
                batch_norm: false,
                pool_kind: PoolKind::Avg,
                ..block(12, 3)
            },
        ],
        head: Head::Stats,
        dropout: 0.0,
        ..NetConfig::default()
    }
}

fn train_cfg(optimizer: Optimizer, lr: f64, weight_decay: f64) -> TrainConfig {
    TrainConfig {
        optimizer,
        lr,
        weight_decay,
        batch_size: BATCH,
        epochs: EPOCHS,
        shuffle: false,
        threads: Some(1),
        ..TrainConfig::default()
    }
}

struct Case {
    name: &'static str,
    net: &'static str,
    train: TrainConfig,
    /// Dropout seeds; empty for a deterministic case.
    seeds: Vec<u64>,
    /// Trained on the PyTorch side only (the dropout control).
    torch_only: bool,
}

fn cases() -> Vec<Case> {
    let exact = |name, net, train| Case {
        name,
        net,
        train,
        seeds: Vec::new(),
        torch_only: false,
    };
    let seeds: Vec<u64> = (0..SEEDS).collect();
    vec![
        // Weight decays large enough that a wrong rule (decoupled for
        // coupled, batch-norm parameters left out) shows.
        exact("adam", "recipe", train_cfg(Optimizer::Adam, 1e-3, 1e-2)),
        exact("adamw", "recipe", train_cfg(Optimizer::Adamw, 1e-3, 1e-1)),
        exact(
            "sgd-momentum",
            "recipe",
            train_cfg(Optimizer::Sgd, 0.05, 1e-2),
        ),
        exact(
            "sgd-nesterov",
            "recipe",
            TrainConfig {
                nesterov: true,
                ..train_cfg(Optimizer::Sgd, 0.05, 1e-2)
            },
        ),
        exact(
            "sgd-plain",
            "recipe",
            TrainConfig {
                momentum: 0.0,
                ..train_cfg(Optimizer::Sgd, 0.1, 0.0)
            },
        ),
        exact(
            "rmsprop",
            "recipe",
            train_cfg(Optimizer::Rmsprop, 1e-3, 1e-2),
        ),
        exact(
            "adam-stats",
            "stats",
            train_cfg(Optimizer::Adam, 1e-3, 1e-2),
        ),
        exact(
            "adam-attentive-stats",
            "attentive-stats",
            train_cfg(Optimizer::Adam, 1e-3, 1e-2),
        ),
        exact(
            "sgd-attention",
            "attention",
            train_cfg(Optimizer::Sgd, 0.05, 1e-2),
        ),
        exact(
            "adam-conv2d",
            "conv2d",
            train_cfg(Optimizer::Adam, 1e-3, 1e-2),
        ),
        exact(
            "adam-plain-net",
            "plain",
            TrainConfig {
                label_smoothing: 0.1,
                grad_clip: Some(0.5),
                ..train_cfg(Optimizer::Adam, 1e-3, 1e-3)
            },
        ),
        Case {
            name: "dropout",
            net: "dropout",
            train: train_cfg(Optimizer::Adam, 1e-3, 1e-4),
            seeds: seeds.clone(),
            torch_only: false,
        },
        Case {
            name: "dropout-control",
            net: "dropout-control",
            train: train_cfg(Optimizer::Adam, 1e-3, 1e-4),
            seeds,
            torch_only: true,
        },
    ]
}

fn nets() -> HashMap<&'static str, NetConfig> {
    HashMap::from([
        ("recipe", recipe_net(0.0, 0.0)),
        ("plain", plain_net()),
        (
            "stats",
            NetConfig {
                head: Head::Stats,
                ..recipe_net(0.0, 0.0)
            },
        ),
        (
            "attentive-stats",
            NetConfig {
                head: Head::AttentiveStats,
                attention_dim: 8,
                ..recipe_net(0.0, 0.0)
            },
        ),
        (
            "attention",
            NetConfig {
                head: Head::Attention,
                attention_dim: 8,
                ..plain_net()
            },
        ),
        ("conv2d", conv2d_net()),
        ("dropout", recipe_net(0.3, 0.1)),
        // Same variables, other dropout probabilities.
        ("dropout-control", recipe_net(0.15, 0.05)),
    ])
}

/// Runs the PyTorch side into `dir`.
fn run_torch(dir: &Path) {
    let cases: Vec<serde_json::Value> = cases()
        .iter()
        .map(|c| {
            json!({
                "name": c.name,
                "net": c.net,
                "train": c.train,
                "seeds": c.seeds,
            })
        })
        .collect();
    let spec = json!({
        "n": N,
        "n_features": FEATURES,
        "n_frames": FRAMES,
        "n_classes": CLASSES,
        "data_seed": 0,
        "init_seed": 0,
        "nets": nets(),
        "cases": cases,
    });
    std::fs::write(dir.join("spec.json"), spec.to_string()).expect("write spec");
    let python = python();
    let out = Command::new(&python)
        .arg(script())
        .arg(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
    assert!(
        out.status.success(),
        "{python} {} failed ({}); it needs torch and numpy:\n{}",
        script().display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

fn read_weights(path: &Path) -> HashMap<String, Tensor> {
    Tensor::read_safetensors(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .into_iter()
        .map(|(n, t)| (n, t.to_kind(Kind::Double)))
        .collect()
}

fn dataset(dir: &Path) -> Dataset {
    let x = Tensor::read_npy(dir.join("x.npy")).expect("x.npy");
    let y = Tensor::read_npy(dir.join("y.npy")).expect("y.npy");
    Dataset::new(
        Vec::<f32>::try_from(x.flatten(0, -1)).expect("x"),
        Vec::<i64>::try_from(y).expect("y"),
        FEATURES,
        FRAMES,
    )
    .expect("dataset")
}

/// This crate's weights after training `case` (with `seed`) from the
/// initial weights PyTorch wrote.
fn run_ours(dir: &Path, case: &Case, seed: u64, data: &Dataset) -> HashMap<String, Tensor> {
    let net = &nets()[case.net];
    let init = dir.join(format!("init-{}.safetensors", case.net));
    let start = Classifier::from_weights(net, FEATURES, FRAMES, CLASSES, &init).expect("weights");
    let cfg = TrainConfig {
        seed,
        ..case.train.clone()
    };
    let mut on_epoch = |_: &EpochMetrics| Control::Continue;
    let out = train_from(
        start,
        &cfg,
        &AugmentConfig::default(),
        data,
        None,
        TrainOptions::new(&mut on_epoch),
    )
    .expect("train");
    let bundle = dir.join(format!("ours-{}-{seed}", case.name));
    let classes: Vec<String> = (0..CLASSES).map(|c| c.to_string()).collect();
    out.model.save(&bundle, &classes, &json!({})).expect("save");
    read_weights(&bundle.join("model.safetensors"))
}

fn max_abs(t: &Tensor) -> f64 {
    t.abs().max().double_value(&[])
}

/// Checks one deterministic case; returns its report line.
fn check_exact(
    case: &str,
    ours: &HashMap<String, Tensor>,
    theirs: &HashMap<String, Tensor>,
    theirs64: &HashMap<String, Tensor>,
    init: &HashMap<String, Tensor>,
) -> Result<String, String> {
    let mut names: Vec<&String> = theirs.keys().collect();
    names.sort();
    let ours_names: Vec<&String> = {
        let mut v: Vec<&String> = ours.keys().collect();
        v.sort();
        v
    };
    if names != ours_names {
        return Err(format!(
            "{case}: variables differ: {ours_names:?} vs {names:?}"
        ));
    }
    let (mut worst, mut moved, mut worst_name) = (0.0f64, 0.0f64, String::new());
    let mut noise_max = 0.0f64;
    let mut faults = Vec::new();
    for name in names {
        let (a, b, i) = (&ours[name], &theirs[name], &init[name]);
        let diff = max_abs(&(a - b));
        let scale = max_abs(b);
        let noise = max_abs(&(b - &theirs64[name]));
        noise_max = noise_max.max(noise);
        if !name.contains(".running_") {
            moved = moved.max(max_abs(&(b - i)));
        }
        if diff > worst {
            (worst, worst_name) = (diff, name.clone());
        }
        let tol = ABS_TOL + REL_TOL * scale + VARIABLE_NOISE_FACTOR * noise;
        if diff > tol {
            faults.push(format!("{name}: differs by {diff:.3e} > {tol:.3e}"));
        }
    }
    let line = format!(
        "{case}: largest difference {worst:.3e} ({worst_name}), largest parameter move \
         {moved:.3e}, ratio {:.2e}; PyTorch float32 against float64 {noise_max:.3e}",
        worst / moved
    );
    if worst > MOVE_FRACTION * moved + NOISE_FACTOR * noise_max {
        faults.push(format!(
            "largest difference {worst:.3e} is more than {MOVE_FRACTION} of the largest move \
             {moved:.3e} plus {NOISE_FACTOR} x {noise_max:.3e}"
        ));
    }
    if faults.is_empty() {
        Ok(line)
    } else {
        Err(format!("{line}\n  {}", faults.join("\n  ")))
    }
}

/// Per-element mean and variance over runs of every trainable variable,
/// flattened into one vector each (running statistics included).
fn moments(runs: &[HashMap<String, Tensor>]) -> (Tensor, Tensor) {
    let mut names: Vec<&String> = runs[0].keys().collect();
    names.sort();
    let stacked = Tensor::stack(
        &runs
            .iter()
            .map(|r| {
                Tensor::cat(
                    &names
                        .iter()
                        .map(|n| r[*n].flatten(0, -1))
                        .collect::<Vec<_>>(),
                    0,
                )
            })
            .collect::<Vec<_>>(),
        0,
    );
    let mean = stacked.mean_dim(0, false, Kind::Double);
    let var = stacked.var_dim(0, true, false);
    (mean, var)
}

/// Mean squared z-score of the difference of means, and the ratio of the
/// total variances, of two sets of runs.
fn distribution_stats(a: &[HashMap<String, Tensor>], b: &[HashMap<String, Tensor>]) -> (f64, f64) {
    let (ma, va) = moments(a);
    let (mb, vb) = moments(b);
    let se2 = (&va / a.len() as f64) + (&vb / b.len() as f64);
    // Elements no dropout seed moves (none in these networks) carry no
    // information; leave them out rather than divide by zero.
    let live = se2.gt(1e-30);
    let z2 = ((&ma - &mb).square() / se2.clamp_min(1e-30)).masked_select(&live);
    let z2_mean = z2.mean(Kind::Double).double_value(&[]);
    let ratio = va.sum(Kind::Double).double_value(&[]) / vb.sum(Kind::Double).double_value(&[]);
    (z2_mean, ratio)
}

fn equal_in_distribution(z2: f64, ratio: f64) -> bool {
    z2 <= MAX_Z2 && (VAR_RATIO.0..=VAR_RATIO.1).contains(&ratio)
}

/// The `pytorch` scheme (the default) draws convolution and dense weights
/// from U(-1/sqrt(fan_in), 1/sqrt(fan_in)); checks that torch.nn's fresh
/// weights have that range.
fn check_pytorch_init(dir: &Path) {
    assert_eq!(NetConfig::default().init, InitScheme::Pytorch);
    let init = read_weights(&dir.join("init-recipe.safetensors"));
    for (name, t) in &init {
        if !name.ends_with("weight") || name.contains(".bn.") {
            continue;
        }
        let fan_in: i64 = t.size()[1..].iter().product();
        let bound = 1.0 / (fan_in as f64).sqrt();
        let top = max_abs(t);
        assert!(
            top <= bound && top > 0.9 * bound,
            "{name}: largest |w| {top} against the bound {bound}"
        );
    }
}

#[test]
fn training_steps_match_pytorch() {
    let _guard = common::serial();
    let dir = tempfile::tempdir().expect("tempdir");
    run_torch(dir.path());
    check_pytorch_init(dir.path());
    let data = dataset(dir.path());

    let mut report = Vec::new();
    let mut failures = Vec::new();
    let mut dropout_ours = Vec::new();
    let mut dropout_torch: HashMap<&str, Vec<HashMap<String, Tensor>>> = HashMap::new();
    for case in cases() {
        let init = read_weights(&dir.path().join(format!("init-{}.safetensors", case.net)));
        if case.seeds.is_empty() {
            let theirs = read_weights(&dir.path().join(format!("torch-{}.safetensors", case.name)));
            let theirs64 = read_weights(
                &dir.path()
                    .join(format!("torch64-{}.safetensors", case.name)),
            );
            let ours = run_ours(dir.path(), &case, 0, &data);
            match check_exact(case.name, &ours, &theirs, &theirs64, &init) {
                Ok(line) => report.push(line),
                Err(e) => failures.push(e),
            }
            continue;
        }
        for &seed in &case.seeds {
            let path = dir
                .path()
                .join(format!("torch-{}-{seed}.safetensors", case.name));
            dropout_torch
                .entry(case.name)
                .or_default()
                .push(read_weights(&path));
            if !case.torch_only {
                dropout_ours.push(run_ours(dir.path(), &case, seed, &data));
            }
        }
    }

    let (z2, ratio) = distribution_stats(&dropout_ours, &dropout_torch["dropout"]);
    let line = format!(
        "dropout ({SEEDS} seeds per side): mean squared z {z2:.3}, variance ratio {ratio:.3}"
    );
    if equal_in_distribution(z2, ratio) {
        report.push(line);
    } else {
        failures.push(format!(
            "{line}: not equal in distribution (need z2 <= {MAX_Z2}, ratio in {VAR_RATIO:?})"
        ));
    }
    let (cz2, cratio) = distribution_stats(&dropout_ours, &dropout_torch["dropout-control"]);
    let line = format!(
        "control, PyTorch with other dropout probabilities: mean squared z {cz2:.3}, \
         variance ratio {cratio:.3}"
    );
    if equal_in_distribution(cz2, cratio) {
        failures.push(format!("{line}: the check cannot tell them apart"));
    } else {
        report.push(line);
    }
    eprintln!("{}", report.join("\n"));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
