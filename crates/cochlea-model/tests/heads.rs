//! The network kinds (`cnn1d`, `conv2d`, `dense`), the pooling heads
//! (`stats`, `attention`, `attentive_stats`) and mixup train for real on a
//! task where a statistic over time, not the mean, tells the classes apart;
//! shapes are checked before any tensor exists.

#![cfg(feature = "torch")]

mod common;

use cochlea_model::tch::{self, Device, Kind, Tensor};
use cochlea_model::{
    AugmentConfig, BlockConfig, Dataset, Head, NetConfig, NetKind, TrainConfig, TrainOptions, train,
};
use common::*;

const CLASSES: usize = 3;
/// Standard deviation over time of the signal row, per class.
const SPREADS: [f32; CLASSES] = [0.3, 1.0, 2.5];

/// Classes that differ only in the spread over time of one feature row
/// (row 1, Gaussian frames of standard deviation `SPREADS[class]`, then
/// centred so that its mean over time is exactly 0): every row has the
/// same mean in every class, so a network that averages the input over
/// time sees nothing; its standard deviation, or
/// any non-linear filter, tells the classes apart. The other rows are
/// noise of standard deviation 1.
fn spread_task(n: usize, seed: i64) -> Dataset {
    tch::manual_seed(seed);
    let mut x = Vec::<f32>::try_from(Tensor::randn(
        [(n * FEATURES * FRAMES) as i64],
        (Kind::Float, Device::Cpu),
    ))
    .expect("noise");
    let y: Vec<i64> = (0..n).map(|i| (i % CLASSES) as i64).collect();
    for (i, &c) in y.iter().enumerate() {
        let row = (i * FEATURES + 1) * FRAMES;
        let r = &mut x[row..row + FRAMES];
        let mean = r.iter().sum::<f32>() / FRAMES as f32;
        for v in r.iter_mut() {
            *v = (*v - mean) * SPREADS[c as usize];
        }
    }
    Dataset::new(x, y, FEATURES, FRAMES).expect("dataset")
}

/// Classes told apart by which of the first three inputs of a one-frame
/// input (functionals-like) is largest, plus noise.
fn one_frame_task(n: usize, seed: i64) -> Dataset {
    let rows = 21;
    tch::manual_seed(seed);
    let mut x = Vec::<f32>::try_from(Tensor::randn(
        [(n * rows) as i64],
        (Kind::Float, Device::Cpu),
    ))
    .expect("noise");
    let y: Vec<i64> = (0..n).map(|i| (i % CLASSES) as i64).collect();
    for (i, &c) in y.iter().enumerate() {
        x[i * rows + c as usize] += 2.5;
    }
    Dataset::new(x, y, rows, 1).expect("dataset")
}

fn net(kind: NetKind, head: Head) -> NetConfig {
    let block = |filters, kernel, pool| BlockConfig {
        filters,
        kernel,
        pool,
        ..BlockConfig::default()
    };
    NetConfig {
        kind,
        head,
        attention_dim: 16,
        blocks: vec![block(8, 3, 2), block(16, 3, 2)],
        hidden: if kind == NetKind::Dense {
            vec![32]
        } else {
            Vec::new()
        },
        dropout: 0.0,
        ..NetConfig::default()
    }
}

fn held_out_accuracy(net: &NetConfig, aug: &AugmentConfig, tr: &Dataset, te: &Dataset) -> f64 {
    let cfg = TrainConfig {
        epochs: 12,
        batch_size: 32,
        lr: 3e-3,
        seed: 3,
        threads: Some(1),
        ..TrainConfig::default()
    };
    let mut log = Vec::new();
    let mut on_epoch = recorder(&mut log);
    let out = train(
        net,
        &cfg,
        aug,
        CLASSES,
        tr,
        None,
        TrainOptions::new(&mut on_epoch),
    )
    .expect("training");
    let logits = out.model.logits(&te.x, te.len()).expect("logits");
    accuracy(&logits, &te.y)
}

#[test]
fn every_kind_and_head_learns_a_spread_task() {
    let _guard = serial();
    let tr = spread_task(450, 1);
    let te = spread_task(300, 2);
    let mut report = Vec::new();
    let mut failed = Vec::new();
    for (kind, head) in [
        (NetKind::Cnn1d, Head::Stats),
        (NetKind::Cnn1d, Head::Attention),
        (NetKind::Cnn1d, Head::AttentiveStats),
        (NetKind::Conv2d, Head::GlobalAvg),
        (NetKind::Conv2d, Head::Stats),
        (NetKind::Conv2d, Head::Attention),
        (NetKind::Dense, Head::Stats),
        (NetKind::Dense, Head::AttentiveStats),
    ] {
        let acc = held_out_accuracy(&net(kind, head), &AugmentConfig::default(), &tr, &te);
        report.push(format!("{kind:?}/{head:?} {acc:.3}"));
        // Chance is 1/3; the spreads are far apart.
        if acc < 0.8 {
            failed.push(format!("{kind:?}/{head:?} {acc:.3}"));
        }
    }
    assert!(failed.is_empty(), "below 0.8: {failed:?}; all: {report:?}");
}

#[test]
fn a_dense_network_needs_the_stats_head_where_means_are_equal() {
    let _guard = serial();
    let tr = spread_task(450, 3);
    let te = spread_task(300, 4);
    let aug = AugmentConfig::default();
    let mean = held_out_accuracy(&net(NetKind::Dense, Head::GlobalAvg), &aug, &tr, &te);
    let stats = held_out_accuracy(&net(NetKind::Dense, Head::Stats), &aug, &tr, &te);
    // Means carry no information: chance (1/3) within sampling error.
    assert!(mean < 0.45, "global_avg on equal means scored {mean:.3}");
    assert!(stats > 0.9, "stats scored {stats:.3}");
}

#[test]
fn a_dense_network_learns_one_frame_inputs_with_and_without_mixup() {
    let _guard = serial();
    let tr = one_frame_task(450, 5);
    let te = one_frame_task(300, 6);
    for head in [Head::GlobalAvg, Head::Flatten, Head::Stats] {
        for mixup in [0.0, 0.4] {
            let aug = AugmentConfig {
                mixup,
                ..AugmentConfig::default()
            };
            let acc = held_out_accuracy(&net(NetKind::Dense, head), &aug, &tr, &te);
            assert!(acc > 0.85, "{head:?} mixup {mixup}: {acc:.3}");
        }
    }
}

#[test]
fn mixup_changes_the_training_loss_and_repeats_from_a_seed() {
    let _guard = serial();
    let tr = spread_task(120, 7);
    let run = |mixup: f64| {
        let cfg = TrainConfig {
            epochs: 3,
            batch_size: 32,
            seed: 11,
            threads: Some(1),
            ..TrainConfig::default()
        };
        let aug = AugmentConfig {
            mixup,
            ..AugmentConfig::default()
        };
        let mut log = Vec::new();
        let mut on_epoch = recorder(&mut log);
        train(
            &net(NetKind::Cnn1d, Head::Stats),
            &cfg,
            &aug,
            CLASSES,
            &tr,
            None,
            TrainOptions::new(&mut on_epoch),
        )
        .expect("training")
        .history
        .iter()
        .map(|m| m.train_loss)
        .collect::<Vec<f64>>()
    };
    let plain = run(0.0);
    let mixed = run(0.4);
    assert_eq!(mixed, run(0.4), "mixup is not repeatable from the seed");
    assert_ne!(plain, mixed, "mixup = 0.4 trained exactly as without it");
}

#[test]
fn shapes_are_checked_for_every_kind() {
    // conv2d: frequency is an axis of its own; 8 rows pooled by 2 three
    // times leave 1, a fourth time 0.
    let pool = |_: usize| BlockConfig {
        filters: 4,
        kernel: 3,
        pool: 2,
        ..BlockConfig::default()
    };
    let deep = |k: NetKind, n: usize| NetConfig {
        kind: k,
        blocks: (0..n).map(pool).collect(),
        ..NetConfig::default()
    };
    let ok = deep(NetKind::Conv2d, 3)
        .validate(8, 64, 2)
        .expect("3 pools");
    assert_eq!((ok.bands_before_head, ok.frames_before_head), (1, 8));
    let e = deep(NetKind::Conv2d, 4)
        .validate(8, 64, 2)
        .expect_err("4 pools")
        .to_string();
    assert!(
        e.contains("model.blocks[3]") && e.contains("frequency") && e.contains("8 -> 4 -> 2 -> 1"),
        "{e}"
    );
    // The same blocks in 1D keep going: features are channels there.
    deep(NetKind::Cnn1d, 4).validate(8, 64, 2).expect("1d");
    // Conv2d parameters: kernel x kernel taps.
    let one = deep(NetKind::Conv2d, 1).validate(8, 64, 2).expect("one");
    assert_eq!(one.layers[0].params, 4 * 9 + 2 * 4);

    // dense: no blocks needed, none used; head over the input.
    let dense = NetConfig {
        kind: NetKind::Dense,
        blocks: Vec::new(),
        head: Head::Stats,
        hidden: vec![10],
        ..NetConfig::default()
    };
    let s = dense.validate(13, 50, 4).expect("dense");
    assert_eq!(s.layers[0].name, "head");
    assert_eq!(s.layers[0].out_channels, 26);
    assert_eq!(s.params, 26 * 10 + 10 + 10 * 4 + 4);
    assert_eq!(s.receptive_field_frames, 1);
    let e = NetConfig {
        blocks: Vec::new(),
        ..NetConfig::default()
    }
    .validate(13, 50, 4)
    .expect_err("no blocks")
    .to_string();
    assert!(e.contains("model.blocks") && e.contains("dense"), "{e}");

    // Attention: the scorer's parameters, and its width checked.
    let att = NetConfig {
        head: Head::Attention,
        attention_dim: 8,
        ..NetConfig::default()
    };
    let s = att.validate(13, 100, 4).expect("attention");
    let head = &s.layers[3];
    assert_eq!((head.out_channels, head.params), (128, 128 * 8 + 16));
    let e = NetConfig {
        attention_dim: 0,
        ..att
    }
    .validate(13, 100, 4)
    .expect_err("dim 0")
    .to_string();
    assert!(e.contains("model.attention_dim"), "{e}");
    let stats = NetConfig {
        head: Head::AttentiveStats,
        ..NetConfig::default()
    }
    .validate(13, 100, 4)
    .expect("attentive stats");
    assert_eq!(stats.layers[3].out_channels, 256);
}
