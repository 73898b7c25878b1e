//! With a seed, CPU training is reproducible: shuffling, initialisation,
//! dropout and augmentation all come from it.

#![cfg(feature = "torch")]

mod common;

use cochlea_model::{AugmentConfig, EpochMetrics, TrainConfig, TrainOptions, train};
use common::*;

fn run(seed: u64) -> (Vec<EpochMetrics>, Vec<f32>) {
    let data = frequency_task(300, 5);
    let val = frequency_task(100, 6);
    let cfg = TrainConfig {
        epochs: 4,
        batch_size: 32,
        seed,
        threads: Some(2),
        ..TrainConfig::default()
    };
    let aug = AugmentConfig {
        time_shift: 4,
        noise_snr_db: Some([10.0, 20.0]),
        gain_db: Some([-3.0, 3.0]),
        time_masks: 1,
        time_mask_width: 6,
        freq_masks: 1,
        freq_mask_width: 2,
        time_stretch: Some([0.9, 1.1]),
        freq_warp: Some([0.9, 1.1]),
        freq_warp_rows: 0,
        probability: 0.8,
        mixup: 0.3,
        ..AugmentConfig::default()
    };
    let mut log = Vec::new();
    let mut on_epoch = recorder(&mut log);
    let out = train(
        &small_net(),
        &cfg,
        &aug,
        4,
        &data,
        Some(&val),
        TrainOptions::new(&mut on_epoch),
    )
    .expect("training");
    let logits = out.model.logits(&val.x, val.len()).expect("logits");
    // Wall time is the one field that may differ.
    let history = out
        .history
        .into_iter()
        .map(|m| EpochMetrics { seconds: 0.0, ..m })
        .collect();
    (history, logits)
}

#[test]
fn same_seed_gives_identical_epochs_and_weights() {
    let _guard = serial();
    let (h1, l1) = run(11);
    let (h2, l2) = run(11);
    assert_eq!(h1, h2);
    assert_eq!(l1, l2);
    let (h3, _) = run(12);
    assert_ne!(
        h1[0].train_loss, h3[0].train_loss,
        "another seed must give another run"
    );
}
