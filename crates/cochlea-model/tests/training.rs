//! Optimisers, schedules, early stopping, divergence, class weights, label
//! smoothing and callbacks, each checked by what training produces.

#![cfg(feature = "torch")]

mod common;

use cochlea_model::{
    AugmentConfig, BlockConfig, ClassWeights, Dataset, EpochMetrics, Error, Monitor, NetConfig,
    Optimizer, Scheduler, TrainConfig, TrainOptions, TrainOutcome, train,
};
use common::*;

fn fit(
    net: &NetConfig,
    cfg: &TrainConfig,
    data: &Dataset,
    val: Option<&Dataset>,
    n_classes: usize,
) -> Result<TrainOutcome, Error> {
    let mut log = Vec::new();
    let mut on_epoch = recorder(&mut log);
    train(
        net,
        cfg,
        &AugmentConfig::default(),
        n_classes,
        data,
        val,
        TrainOptions::new(&mut on_epoch),
    )
}

#[test]
fn every_optimizer_learns_an_easy_task() {
    let _guard = serial();
    let data = offset_task(400, 4, 1);
    let test = offset_task(200, 4, 2);
    for (optimizer, lr, nesterov) in [
        (Optimizer::Adam, 1e-3, false),
        (Optimizer::Adamw, 1e-3, false),
        (Optimizer::Sgd, 0.05, false),
        (Optimizer::Sgd, 0.05, true),
        (Optimizer::Rmsprop, 1e-3, false),
    ] {
        let cfg = TrainConfig {
            optimizer,
            lr,
            nesterov,
            epochs: 6,
            batch_size: 32,
            ..TrainConfig::default()
        };
        let out = fit(&small_net(), &cfg, &data, None, 4).expect("training");
        let acc = accuracy(
            &out.model.logits(&test.x, test.len()).expect("logits"),
            &test.y,
        );
        let h = &out.history;
        assert!(
            h[5].train_loss < 0.5 * h[0].train_loss,
            "{optimizer:?}: loss {} -> {}",
            h[0].train_loss,
            h[5].train_loss
        );
        assert!(
            acc > 0.9,
            "{optimizer:?} (nesterov {nesterov}): test accuracy {acc}"
        );
    }
}

#[test]
fn step_schedule_shows_in_the_reported_learning_rates() {
    let _guard = serial();
    let data = offset_task(64, 2, 3);
    let cfg = TrainConfig {
        epochs: 5,
        lr: 0.01,
        scheduler: Scheduler::Step,
        step_size: 2,
        gamma: 0.5,
        ..TrainConfig::default()
    };
    let out = fit(&small_net(), &cfg, &data, None, 2).expect("training");
    let lrs: Vec<f64> = out.history.iter().map(|m| m.lr).collect();
    assert_eq!(lrs, [0.01, 0.01, 0.005, 0.005, 0.0025]);
}

#[test]
fn early_stopping_stops_and_restores_the_best_epoch() {
    let _guard = serial();
    let data = frequency_task(200, 4);
    // Validation labels unrelated to the inputs: validation loss can only
    // get worse as the network fits the training set.
    let mut val = frequency_task(100, 5);
    val.y
        .iter_mut()
        .enumerate()
        .for_each(|(i, c)| *c = (i % 4) as i64);
    let cfg = TrainConfig {
        epochs: 40,
        lr: 3e-3,
        early_stopping: Some(3),
        monitor: Monitor::ValLoss,
        ..TrainConfig::default()
    };
    let out = fit(&small_net(), &cfg, &data, Some(&val), 4).expect("training");
    assert!(out.stopped_early, "ran all {} epochs", out.history.len());
    let n = out.history.len();
    assert!(n < 40);
    let losses: Vec<f64> = out
        .history
        .iter()
        .map(|m| m.val_loss.expect("val loss"))
        .collect();
    let best = (0..n).fold(0, |b, i| if losses[i] < losses[b] { i } else { b });
    assert_eq!(out.best_epoch, best + 1);
    assert_eq!(n, out.best_epoch + 3, "stops 3 epochs after the best");
    // The returned weights are the best epoch's, not the last one's.
    let logits = out.model.logits(&val.x, val.len()).expect("logits");
    let restored = cross_entropy(&logits, &val.y);
    assert!(
        (restored - losses[best]).abs() < 1e-5,
        "restored {restored} vs best {}",
        losses[best]
    );
    assert!(
        (restored - losses[n - 1]).abs() > 1e-4,
        "the last epoch is not the best"
    );
}

fn no_norm_net() -> NetConfig {
    let b = BlockConfig {
        filters: 16,
        kernel: 5,
        pool: 2,
        batch_norm: false,
        ..BlockConfig::default()
    };
    NetConfig {
        blocks: vec![b.clone(), b],
        dropout: 0.0,
        ..NetConfig::default()
    }
}

#[test]
fn divergence_names_epoch_and_step_and_gradient_clipping_prevents_it() {
    let _guard = serial();
    let data = offset_task(128, 4, 6);
    let cfg = TrainConfig {
        optimizer: Optimizer::Sgd,
        lr: 1e12,
        weight_decay: 0.0,
        epochs: 3,
        batch_size: 32,
        ..TrainConfig::default()
    };
    match fit(&no_norm_net(), &cfg, &data, None, 4) {
        Err(e @ Error::Diverged { .. }) => {
            let msg = e.to_string();
            assert!(
                msg.starts_with("training diverged at epoch 1, step "),
                "{msg}"
            );
            assert!(msg.contains("try a lower learning rate"), "{msg}");
        }
        other => panic!("expected divergence, got {other:?}"),
    }
    let clipped = TrainConfig {
        grad_clip: Some(1e-13),
        ..cfg
    };
    let out = fit(&no_norm_net(), &clipped, &data, None, 4).expect("clipped training stays finite");
    assert!(out.history.iter().all(|m| m.train_loss.is_finite()));
}

#[test]
fn class_weights_reach_the_loss() {
    let _guard = serial();
    let data = offset_task(200, 2, 7);
    let test = offset_task(100, 2, 8);
    let share_of_class_1 = |weights: ClassWeights| {
        let cfg = TrainConfig {
            class_weights: weights,
            epochs: 4,
            ..TrainConfig::default()
        };
        // Without batch norm: with it, the unweighted class still shapes
        // the batch statistics, and with PyTorch's initialisation the
        // convolutions soon learn features of the weighted class alone, which
        // leave the other class's logits near where they started.
        let out = fit(&no_norm_net(), &cfg, &data, None, 2).expect("training");
        let logits = out.model.logits(&test.x, test.len()).expect("logits");
        logits.chunks(2).filter(|r| r[1] > r[0]).count() as f64 / test.len() as f64
    };
    let plain = share_of_class_1(ClassWeights::None);
    assert!(
        (0.3..0.7).contains(&plain),
        "unweighted: {plain} predicted as class 1"
    );
    // A class with weight 0 contributes nothing to the loss, so the network
    // learns to predict the other one.
    let only_0 = share_of_class_1(ClassWeights::Explicit(vec![1.0, 0.0]));
    let only_1 = share_of_class_1(ClassWeights::Explicit(vec![0.0, 1.0]));
    assert!(
        only_0 < 0.05,
        "only class 0 weighted: {only_0} predicted as class 1"
    );
    assert!(
        only_1 > 0.95,
        "only class 1 weighted: {only_1} predicted as class 1"
    );

    // Balanced weights on a 9:1 set still learn both classes.
    let mut skewed = offset_task(400, 2, 9);
    let keep: Vec<usize> = (0..skewed.len())
        .filter(|&i| skewed.y[i] == 0 || i % 9 == 0)
        .collect();
    let per = FEATURES * FRAMES;
    skewed = Dataset::new(
        keep.iter()
            .flat_map(|&i| skewed.x[i * per..(i + 1) * per].to_vec())
            .collect(),
        keep.iter().map(|&i| skewed.y[i]).collect(),
        FEATURES,
        FRAMES,
    )
    .expect("dataset");
    let cfg = TrainConfig {
        class_weights: ClassWeights::Balanced,
        epochs: 6,
        batch_size: 32,
        ..TrainConfig::default()
    };
    let out = fit(&small_net(), &cfg, &skewed, None, 2).expect("training");
    let logits = out.model.logits(&test.x, test.len()).expect("logits");
    let minority: Vec<usize> = (0..test.len()).filter(|&i| test.y[i] == 1).collect();
    let recall = minority
        .iter()
        .filter(|&&i| logits[2 * i + 1] > logits[2 * i])
        .count() as f64
        / minority.len() as f64;
    assert!(recall > 0.8, "minority recall {recall}");
}

#[test]
fn label_smoothing_keeps_the_loss_above_its_floor() {
    let _guard = serial();
    let data = offset_task(200, 4, 10);
    let eps = 0.2f64;
    let cfg = TrainConfig {
        label_smoothing: eps,
        epochs: 8,
        lr: 3e-3,
        ..TrainConfig::default()
    };
    let net = NetConfig {
        dropout: 0.0,
        ..small_net()
    };
    let out = fit(&net, &cfg, &data, None, 4).expect("training");
    // Cross-entropy against the smoothed target q is at least its entropy.
    let (hi, lo) = (1.0 - eps + eps / 4.0, eps / 4.0);
    let floor = -(hi * hi.ln() + 3.0 * lo * lo.ln());
    let last = out.history.last().expect("history").train_loss;
    assert!(
        last >= floor - 1e-4 && last < floor + 0.2,
        "loss {last}, floor {floor}"
    );
    assert!(out.history.last().expect("history").train_accuracy > 0.95);
}

#[test]
fn batch_callback_sees_every_batch() {
    let _guard = serial();
    let data = offset_task(100, 2, 11);
    let cfg = TrainConfig {
        epochs: 2,
        batch_size: 32,
        ..TrainConfig::default()
    };
    let mut batches = Vec::new();
    let mut epochs = Vec::new();
    let mut on_epoch = |m: &EpochMetrics| {
        epochs.push(m.epoch);
        cochlea_model::Control::Continue
    };
    let mut on_batch =
        |e: usize, b: usize, n: usize, loss: f64| batches.push((e, b, n, loss.is_finite()));
    let opts = TrainOptions {
        checkpoint_dir: None,
        resume: false,
        on_epoch: &mut on_epoch,
        on_batch: Some(&mut on_batch),
    };
    train(
        &small_net(),
        &cfg,
        &AugmentConfig::default(),
        2,
        &data,
        None,
        opts,
    )
    .expect("training");
    // 100 = 32 + 32 + 36: the last 4 form a batch, batches of one never.
    let want: Vec<(usize, usize, usize, bool)> = (1..=2)
        .flat_map(|e| (1..=4).map(move |b| (e, b, 4, true)))
        .collect();
    assert_eq!(batches, want);
    assert_eq!(epochs, [1, 2]);
}
