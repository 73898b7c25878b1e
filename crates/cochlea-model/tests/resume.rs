//! A run stopped at an epoch boundary and resumed from its checkpoint ends
//! with exactly the weights and metrics of an uninterrupted run.

#![cfg(feature = "torch")]

mod common;

use std::path::Path;

use cochlea_model::{
    AugmentConfig, Control, EpochMetrics, Error, Monitor, Optimizer, Scheduler, TrainConfig,
    TrainOptions, TrainOutcome, train,
};
use common::*;

fn config(optimizer: Optimizer) -> TrainConfig {
    TrainConfig {
        optimizer,
        lr: if optimizer == Optimizer::Sgd {
            0.05
        } else {
            2e-3
        },
        nesterov: optimizer == Optimizer::Sgd,
        epochs: 6,
        batch_size: 32,
        scheduler: Scheduler::Plateau,
        patience: 0,
        factor: 0.5,
        early_stopping: Some(10),
        monitor: Monitor::ValAccuracy,
        seed: 3,
        threads: Some(2),
        ..TrainConfig::default()
    }
}

fn augment() -> AugmentConfig {
    AugmentConfig {
        time_shift: 3,
        noise_snr_db: Some([15.0, 25.0]),
        time_masks: 1,
        time_mask_width: 5,
        ..AugmentConfig::default()
    }
}

/// Trains, asking to stop after `stop_after` epochs if given.
fn run(
    cfg: &TrainConfig,
    dir: &Path,
    resume: bool,
    stop_after: Option<usize>,
) -> Result<TrainOutcome, Error> {
    let data = frequency_task(240, 20);
    // Validation labels unrelated to the inputs, so the plateau schedule
    // fires and its state must survive the checkpoints.
    let mut val = frequency_task(60, 21);
    val.y
        .iter_mut()
        .enumerate()
        .for_each(|(i, c)| *c = (i % 4) as i64);
    let mut on_epoch = |m: &EpochMetrics| {
        if Some(m.epoch) == stop_after {
            Control::Stop
        } else {
            Control::Continue
        }
    };
    let opts = TrainOptions {
        checkpoint_dir: Some(dir),
        resume,
        on_epoch: &mut on_epoch,
        on_batch: None,
    };
    train(&small_net(), cfg, &augment(), 4, &data, Some(&val), opts)
}

fn without_time(h: &[EpochMetrics]) -> Vec<EpochMetrics> {
    h.iter()
        .map(|m| EpochMetrics {
            seconds: 0.0,
            ..m.clone()
        })
        .collect()
}

fn weights_bytes(out: &TrainOutcome, dir: &Path) -> Vec<u8> {
    out.model
        .save(
            dir,
            &["a", "b", "c", "d"].map(String::from),
            &serde_json::json!({}),
        )
        .expect("save");
    std::fs::read(dir.join("model.safetensors")).expect("read weights")
}

#[test]
fn resumed_runs_match_uninterrupted_runs_for_every_optimizer() {
    let _guard = serial();
    for opt in [
        Optimizer::Adam,
        Optimizer::Adamw,
        Optimizer::Sgd,
        Optimizer::Rmsprop,
    ] {
        let tmp = tempfile::tempdir().expect("tempdir");
        let cfg = config(opt);
        let full = run(&cfg, &tmp.path().join("full"), false, None).expect("full run");
        assert!(!full.interrupted && !full.stopped_early);

        let ckpt = tmp.path().join("parts");
        let first = run(&cfg, &ckpt, false, Some(2)).expect("first part");
        assert!(first.interrupted, "{opt:?}: the callback asked to stop");
        assert_eq!(first.history.len(), 2);
        assert_eq!(
            std::fs::read_to_string(ckpt.join("LATEST")).expect("LATEST"),
            "epoch-00002"
        );
        let second = run(&cfg, &ckpt, true, Some(4)).expect("second part");
        assert_eq!(second.history.len(), 4);
        let last = run(&cfg, &ckpt, true, None).expect("last part");

        assert_eq!(
            without_time(&last.history),
            without_time(&full.history),
            "{opt:?}: metrics differ"
        );
        assert_eq!(last.best_epoch, full.best_epoch);
        assert!(
            weights_bytes(&last, &tmp.path().join("a"))
                == weights_bytes(&full, &tmp.path().join("b")),
            "{opt:?}: resumed weights differ from the uninterrupted run"
        );
        // The plateau schedule cut the rate on the way.
        assert!(
            full.history.iter().any(|m| m.lr < cfg.lr),
            "{opt:?}: plateau never fired"
        );

        // Resuming a finished run trains nothing more and returns the same model.
        let again = run(&cfg, &ckpt, true, None).expect("finished run");
        assert_eq!(without_time(&again.history), without_time(&full.history));
    }
}

#[test]
fn resume_refuses_a_checkpoint_from_another_config() {
    let _guard = serial();
    let tmp = tempfile::tempdir().expect("tempdir");
    let cfg = config(Optimizer::Adam);
    run(&cfg, tmp.path(), false, Some(1)).expect("first part");
    let other = TrainConfig {
        lr: 0.01,
        ..cfg.clone()
    };
    match run(&other, tmp.path(), true, None) {
        Err(e @ Error::Bundle { .. }) => assert!(e.to_string().contains("train.lr differs"), "{e}"),
        other => panic!("expected a checkpoint mismatch, got {other:?}"),
    }
    // Without a checkpoint, resume starts afresh.
    let empty = tmp.path().join("empty");
    let fresh = run(&cfg, &empty, true, Some(1)).expect("fresh");
    assert_eq!(fresh.history.len(), 1);

    // A LATEST that points nowhere is an error, not a silent restart.
    std::fs::write(tmp.path().join("LATEST"), "epoch-00042").expect("write");
    let r = run(&cfg, tmp.path(), true, None);
    assert!(
        matches!(&r, Err(Error::Io { path, .. }) if path.ends_with("epoch-00042/state.json")),
        "{r:?}"
    );
}
