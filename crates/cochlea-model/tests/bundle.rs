//! Save -> load gives bit-identical outputs; damaged or mismatched bundles
//! fail with messages that name the file.

#![cfg(feature = "torch")]

mod common;

use std::path::Path;

use cochlea_model::{
    AugmentConfig, Classifier, Error, FORMAT_VERSION, TrainConfig, TrainOptions, TrainOutcome,
    train,
};
use common::*;

fn trained() -> TrainOutcome {
    trained_with(TrainConfig {
        epochs: 2,
        batch_size: 16,
        ..TrainConfig::default()
    })
}

fn trained_with(cfg: TrainConfig) -> TrainOutcome {
    let data = offset_task(120, 3, 1);
    let mut log = Vec::new();
    let mut on_epoch = recorder(&mut log);
    train(
        &small_net(),
        &cfg,
        &AugmentConfig::default(),
        3,
        &data,
        None,
        TrainOptions::new(&mut on_epoch),
    )
    .expect("training")
}

fn classes() -> Vec<String> {
    ["low", "mid", "high"].map(String::from).to_vec()
}

fn bundle_error(dir: &Path) -> String {
    match Classifier::load(dir) {
        Err(e @ (Error::Bundle { .. } | Error::Io { .. })) => e.to_string(),
        other => panic!("expected a bundle error, got {other:?}"),
    }
}

#[test]
fn save_then_load_gives_identical_logits_and_metadata() {
    let _guard = serial();
    let out = trained();
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("model");
    let metadata = serde_json::json!({ "features": { "n_mfcc": 13 }, "accuracy": 0.93 });
    out.model.save(&dir, &classes(), &metadata).expect("save");

    let (loaded, info) = Classifier::load(&dir).expect("load");
    let test = offset_task(50, 3, 2);
    let a = out.model.logits(&test.x, test.len()).expect("logits");
    let b = loaded.logits(&test.x, test.len()).expect("logits");
    assert_eq!(
        a.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        b.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    );
    let p = loaded.predict_proba(&test.x, test.len()).expect("proba");
    for row in p.chunks(3) {
        assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    }
    assert_eq!(info.classes, classes());
    assert_eq!(info.metadata, metadata);
    assert_eq!(info.format_version, FORMAT_VERSION);
    assert_eq!(info.crate_version, env!("CARGO_PKG_VERSION"));
    assert_eq!(loaded.summary(), out.model.summary());
    assert_eq!(loaded.config(), out.model.config());
    assert_eq!(
        (loaded.n_features(), loaded.n_frames(), loaded.n_classes()),
        (FEATURES, FRAMES, 3)
    );

    // Saving again replaces the bundle and leaves no temporary directory.
    out.model
        .save(&dir, &classes(), &serde_json::json!(null))
        .expect("save again");
    let names: Vec<String> = std::fs::read_dir(tmp.path())
        .expect("ls")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into())
        .collect();
    assert_eq!(names, ["model"]);
    assert_eq!(
        Classifier::load(&dir).expect("load").1.metadata,
        serde_json::Value::Null
    );
}

#[test]
fn damaged_or_mismatched_bundles_are_refused() {
    let _guard = serial();
    let out = trained();
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("model");
    out.model
        .save(&dir, &classes(), &serde_json::json!({}))
        .expect("save");
    let weights = dir.join("model.safetensors");
    let meta = dir.join("model.json");
    let good_weights = std::fs::read(&weights).expect("read");
    let good_meta = std::fs::read_to_string(&meta).expect("read");

    // Truncated weights.
    std::fs::write(&weights, &good_weights[..good_weights.len() / 2]).expect("write");
    let msg = bundle_error(&dir);
    assert!(
        msg.contains("model.safetensors") && msg.contains("corrupt"),
        "{msg}"
    );

    // Missing weights.
    std::fs::remove_file(&weights).expect("rm");
    let msg = bundle_error(&dir);
    assert!(msg.contains("model.safetensors: file is missing"), "{msg}");
    std::fs::write(&weights, &good_weights).expect("write");
    Classifier::load(&dir).expect("restored bundle loads");

    // Architecture that does not match the weights.
    let mut json: serde_json::Value = serde_json::from_str(&good_meta).expect("json");
    json["net"]["blocks"][1]["filters"] = serde_json::json!(48);
    std::fs::write(&meta, serde_json::to_string(&json).expect("json")).expect("write");
    let msg = bundle_error(&dir);
    assert!(
        msg.contains("model.safetensors")
            && msg.contains("blocks.1.bn.bias")
            && msg.contains("[48]"),
        "{msg}"
    );

    // Input shape that the network cannot take.
    let mut json: serde_json::Value = serde_json::from_str(&good_meta).expect("json");
    json["n_frames"] = serde_json::json!(2);
    std::fs::write(&meta, serde_json::to_string(&json).expect("json")).expect("write");
    let msg = bundle_error(&dir);
    assert!(
        msg.contains("describes an invalid network") && msg.contains("pool 2"),
        "{msg}"
    );

    // Another format version.
    let mut json: serde_json::Value = serde_json::from_str(&good_meta).expect("json");
    json["format_version"] = serde_json::json!(FORMAT_VERSION + 1);
    std::fs::write(&meta, serde_json::to_string(&json).expect("json")).expect("write");
    let msg = bundle_error(&dir);
    assert!(
        msg.contains("model.json")
            && msg.contains(&format!("format_version {}", FORMAT_VERSION + 1)),
        "{msg}"
    );

    // Not JSON at all.
    std::fs::write(&meta, "{ net: ").expect("write");
    assert!(bundle_error(&dir).contains("not valid JSON"));

    // Class names must match the outputs.
    let r = out.model.save(
        &tmp.path().join("other"),
        &classes()[..2],
        &serde_json::json!({}),
    );
    assert!(
        matches!(r, Err(Error::Data(m)) if m.contains("2 class names for a model with 3 outputs"))
    );
}

/// An ensemble predicts its members' mean probability, survives a save and
/// load bit for bit, and keeps each member's weights in its own file.
#[test]
fn an_ensemble_averages_its_members_and_round_trips() {
    let _guard = serial();
    let test = offset_task(40, 3, 2);
    let member = |m: usize| {
        let base = TrainConfig {
            epochs: 2,
            batch_size: 16,
            ensemble: 3,
            ..TrainConfig::default()
        };
        trained_with(TrainConfig {
            seed: base.member_seed(m),
            ..base
        })
        .model
    };
    let members: Vec<Classifier> = (0..3).map(member).collect();
    let alone: Vec<Vec<f32>> = members
        .iter()
        .map(|m| m.predict_proba(&test.x, test.len()).unwrap())
        .collect();
    assert_ne!(
        alone[0], alone[1],
        "members with different seeds must differ"
    );
    let model = Classifier::ensemble(members).expect("ensemble");
    assert_eq!(model.n_members(), 3);
    let proba = model.predict_proba(&test.x, test.len()).unwrap();
    for (i, p) in proba.iter().enumerate() {
        let mean = (alone[0][i] + alone[1][i] + alone[2][i]) / 3.0;
        assert!((p - mean).abs() < 1e-5, "{i}: {p} vs mean {mean}");
    }

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model");
    model
        .save(&path, &classes(), &serde_json::json!({}))
        .unwrap();
    for f in [
        "model.safetensors",
        "member-2.safetensors",
        "member-3.safetensors",
    ] {
        assert!(path.join(f).is_file(), "{f}");
    }
    let (loaded, _) = Classifier::load(&path).unwrap();
    assert_eq!(loaded.n_members(), 3);
    assert_eq!(loaded.predict_proba(&test.x, test.len()).unwrap(), proba);
    // A lost member file is an error naming it.
    std::fs::remove_file(path.join("member-3.safetensors")).unwrap();
    let err = bundle_error(&path);
    assert!(err.contains("member-3.safetensors"), "{err}");

    // One network writes no "members" key: the layout of single models is
    // unchanged.
    let single = trained().model;
    single
        .save(&path, &classes(), &serde_json::json!({}))
        .unwrap();
    let json = std::fs::read_to_string(path.join("model.json")).unwrap();
    assert!(!json.contains("\"members\""), "{json}");
    assert_eq!(Classifier::load(&path).unwrap().0.n_members(), 1);
}

#[test]
fn member_seeds_start_at_the_seed_and_never_repeat_across_seeds() {
    let cfg = |seed| TrainConfig {
        seed,
        ..TrainConfig::default()
    };
    assert_eq!(cfg(7).member_seed(0), 7);
    let mut seen = std::collections::HashSet::new();
    for seed in 0..5 {
        for m in 0..8 {
            assert!(
                seen.insert(cfg(seed).member_seed(m)),
                "seed {seed} member {m}"
            );
        }
    }
}
