//! Each augmentation changes what training sees and nothing else: the
//! training loss moves, while the validation metrics are those of the
//! un-augmented validation set.

#![cfg(feature = "torch")]

mod common;

use cochlea_model::{AugmentConfig, NetConfig, TrainConfig, TrainOptions, TrainOutcome, train};
use common::*;

fn run(aug: &AugmentConfig) -> (TrainOutcome, cochlea_model::Dataset) {
    let data = frequency_task(160, 30);
    let val = frequency_task(60, 31);
    let cfg = TrainConfig {
        epochs: 2,
        batch_size: 32,
        seed: 5,
        threads: Some(2),
        ..TrainConfig::default()
    };
    // No dropout: the only randomness left between runs is augmentation.
    let net = NetConfig {
        dropout: 0.0,
        ..small_net()
    };
    let mut log = Vec::new();
    let mut on_epoch = recorder(&mut log);
    let out = train(
        &net,
        &cfg,
        aug,
        4,
        &data,
        Some(&val),
        TrainOptions::new(&mut on_epoch),
    )
    .expect("training");
    (out, val)
}

#[test]
fn each_augmentation_changes_training_inputs_only() {
    let _guard = serial();
    let (plain, _) = run(&AugmentConfig::default());
    let none = AugmentConfig::default();
    let cases = [
        (
            "time_shift",
            AugmentConfig {
                time_shift: 8,
                ..none.clone()
            },
        ),
        (
            "noise_snr_db",
            AugmentConfig {
                noise_snr_db: Some([0.0, 10.0]),
                ..none.clone()
            },
        ),
        (
            "gain_db",
            AugmentConfig {
                gain_db: Some([-12.0, 12.0]),
                ..none.clone()
            },
        ),
        (
            "time_masks",
            AugmentConfig {
                time_masks: 2,
                time_mask_width: 10,
                ..none.clone()
            },
        ),
        (
            "freq_masks",
            AugmentConfig {
                freq_masks: 1,
                freq_mask_width: 3,
                ..none.clone()
            },
        ),
        (
            "time_stretch",
            AugmentConfig {
                time_stretch: Some([0.8, 1.2]),
                ..none.clone()
            },
        ),
        (
            "freq_warp",
            AugmentConfig {
                freq_warp: Some([0.8, 1.2]),
                ..none.clone()
            },
        ),
    ];
    for (name, aug) in cases {
        let (out, val) = run(&aug);
        let first = &out.history[0];
        assert_ne!(
            first.train_loss, plain.history[0].train_loss,
            "{name}: training inputs unchanged"
        );
        // Validation metrics equal the model's own evaluation of the raw
        // validation set: no augmentation reached them.
        let last = out.history.last().expect("history");
        let logits = out.model.logits(&val.x, val.len()).expect("logits");
        let loss = cross_entropy(&logits, &val.y);
        let acc = accuracy(&logits, &val.y);
        assert!(
            (loss - last.val_loss.expect("val")).abs() < 1e-5,
            "{name}: val loss {loss} vs {:?}",
            last.val_loss
        );
        assert_eq!(acc, last.val_accuracy.expect("val"), "{name}");
        // And prediction is deterministic: nothing random at inference.
        assert_eq!(logits, out.model.logits(&val.x, val.len()).expect("logits"));
    }
}
