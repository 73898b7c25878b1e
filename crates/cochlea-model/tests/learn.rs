//! The network learns: a synthetic task to >= 95% held-out accuracy, one
//! small batch to 100%, and the linear probe separates what is linearly
//! separable and nothing else.

#![cfg(feature = "torch")]

mod common;

use cochlea_model::{
    AugmentConfig, Dataset, NetConfig, Scheduler, TrainConfig, TrainOptions, linear_probe,
    overfit_one_batch, train,
};
use common::*;

#[test]
fn learns_a_frequency_task_to_95_percent_held_out() {
    let _guard = serial();
    let train_set = frequency_task(2000, 1);
    let test_set = frequency_task(400, 2);
    let cfg = TrainConfig {
        epochs: 12,
        batch_size: 32,
        lr: 3e-3,
        scheduler: Scheduler::Cosine,
        seed: 7,
        ..TrainConfig::default()
    };
    let mut log = Vec::new();
    let mut on_epoch = recorder(&mut log);
    let out = train(
        &NetConfig::default(),
        &cfg,
        &AugmentConfig::default(),
        4,
        &train_set,
        None,
        TrainOptions::new(&mut on_epoch),
    )
    .expect("training");
    let logits = out
        .model
        .logits(&test_set.x, test_set.len())
        .expect("logits");
    let acc = accuracy(&logits, &test_set.y);
    let losses: Vec<String> = out
        .history
        .iter()
        .map(|m| format!("{:.3}", m.train_loss))
        .collect();
    assert!(
        acc >= 0.95,
        "held-out accuracy {acc:.3} < 0.95; train losses {losses:?}"
    );
    assert_eq!(out.history.len(), 12);
}

#[test]
fn overfits_one_batch_to_100_percent() {
    let _guard = serial();
    let data = frequency_task(200, 3);
    let r = overfit_one_batch(&NetConfig::default(), &data, 4, 100, 0).expect("probe");
    assert_eq!(r.losses.len(), 100);
    assert_eq!(
        r.final_accuracy, 1.0,
        "losses: first {:.3}, last {:.3}",
        r.losses[0], r.losses[99]
    );
    assert!(
        r.losses[99] < 0.1 * r.losses[0],
        "loss {:.3} -> {:.3}",
        r.losses[0],
        r.losses[99]
    );
}

#[test]
fn overfit_probe_fails_when_the_network_cannot_see_the_signal() {
    let _guard = serial();
    // Constant input: every example looks the same, labels differ.
    let data = Dataset::new(
        vec![0.5; 64 * FEATURES * FRAMES],
        (0..64).map(|i| i % 4).collect(),
        FEATURES,
        FRAMES,
    )
    .expect("dataset");
    let r = overfit_one_batch(&NetConfig::default(), &data, 4, 60, 0).expect("probe");
    assert!(
        r.final_accuracy < 0.5,
        "fitted indistinguishable inputs: {}",
        r.final_accuracy
    );
}

#[test]
fn linear_probe_separates_offsets_and_not_shuffled_labels() {
    let _guard = serial();
    let tr = offset_task(600, 4, 10);
    let te = offset_task(300, 4, 11);
    let (train_acc, test_acc) = linear_probe(&tr, &te, 4, 0).expect("probe");
    assert!(
        train_acc > 0.95 && test_acc > 0.95,
        "offset task: {train_acc:.3} / {test_acc:.3}"
    );

    // Labels that carry no information about the inputs.
    let mut shuffled = te.clone();
    shuffled.y.rotate_left(1);
    shuffled
        .y
        .iter_mut()
        .enumerate()
        .for_each(|(i, c)| *c = ((*c as usize + i) % 4) as i64);
    let (_, chance) = linear_probe(&tr, &shuffled, 4, 0).expect("probe");
    assert!(chance < 0.4, "probe on unrelated labels scored {chance:.3}");
}
