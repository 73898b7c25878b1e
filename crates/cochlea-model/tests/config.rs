//! Config defaults, network arithmetic and the error messages users see.

#[cfg(feature = "torch")]
mod common;

use cochlea_model::{
    AugmentConfig, BlockConfig, ClassWeights, Error, Head, NetConfig, Optimizer, Padding,
    TrainConfig,
};
#[cfg(feature = "torch")]
use cochlea_model::{Dataset, TrainOptions, train};

fn config_error(r: Result<impl std::fmt::Debug, Error>) -> String {
    match r {
        Err(Error::Config(msg)) => msg,
        other => panic!("expected a config error, got {other:?}"),
    }
}

#[test]
fn default_network_on_fsdd_shaped_input() {
    // 13 MFCCs x 100 frames, 10 digits.
    let s = NetConfig::default().validate(13, 100, 10).expect("valid");
    // conv 13->64 k5 (no bias) + BN, 64->128 k3 + BN, 128->128 k3 + BN,
    // linear 128->10: the count torch.nn reports for the same layers.
    assert_eq!(
        s.params,
        (64 * 13 * 5 + 128) + (128 * 64 * 3 + 256) + (128 * 128 * 3 + 256) + (128 * 10 + 10)
    );
    let frames: Vec<usize> = s.layers.iter().map(|l| l.out_frames).collect();
    assert_eq!(frames, [50, 25, 12, 1, 1]);
    assert_eq!(s.frames_before_head, 12);
    // 5, +1 (pool, jump 2), +2*2, +1*2 (pool, jump 4), +2*4, +1*4 (pool).
    assert_eq!(s.receptive_field_frames, 24);
    assert!((s.receptive_field_seconds(0.01) - 0.24).abs() < 1e-12);
    let names: Vec<&str> = s.layers.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(
        names,
        ["blocks[0]", "blocks[1]", "blocks[2]", "head", "output"]
    );
}

#[test]
fn too_much_pooling_names_the_block_and_the_lengths() {
    let b = BlockConfig {
        pool: 4,
        ..BlockConfig::default()
    };
    let net = NetConfig {
        blocks: vec![b.clone(), b.clone(), b.clone(), b],
        ..NetConfig::default()
    };
    let msg = config_error(net.validate(13, 100, 10));
    assert!(msg.contains("model.blocks[3]"), "{msg}");
    assert!(
        msg.contains("pool 4 shrinks time from 1 frame(s) to 0"),
        "{msg}"
    );
    assert!(msg.contains("100 -> 25 -> 6 -> 1"), "{msg}");
}

#[test]
fn a_valid_kernel_longer_than_the_input_is_an_error() {
    let net = NetConfig {
        blocks: vec![BlockConfig {
            kernel: 9,
            padding: Padding::Valid,
            ..BlockConfig::default()
        }],
        ..NetConfig::default()
    };
    let msg = config_error(net.validate(13, 8, 2));
    assert!(
        msg.contains("model.blocks[0]") && msg.contains("kernel of 9"),
        "{msg}"
    );
    assert!(net.validate(13, 9, 2).is_ok());
}

#[test]
fn zero_filters_and_other_bad_values_name_their_key() {
    let bad = |b: BlockConfig| {
        config_error(
            NetConfig {
                blocks: vec![b],
                ..NetConfig::default()
            }
            .validate(13, 100, 10),
        )
    };
    let msg = bad(BlockConfig {
        filters: 0,
        ..BlockConfig::default()
    });
    assert_eq!(msg, "model.blocks[0].filters = 0: must be from 1 to 65536");
    // A typo-sized layer is named before libtorch is asked for terabytes.
    assert!(
        bad(BlockConfig {
            filters: 4_000_000_000,
            ..BlockConfig::default()
        })
        .starts_with("model.blocks[0].filters = 4000000000")
    );
    let huge = bad(BlockConfig {
        filters: 65_536,
        kernel: 65_536,
        padding: Padding::Same,
        ..BlockConfig::default()
    });
    assert!(
        huge.contains("parameters") && huge.contains("model.blocks[0]"),
        "{huge}"
    );
    assert!(
        bad(BlockConfig {
            pool: 0,
            ..BlockConfig::default()
        })
        .contains("model.blocks[0].pool = 0")
    );
    assert!(
        bad(BlockConfig {
            dropout: 1.0,
            ..BlockConfig::default()
        })
        .contains("model.blocks[0].dropout")
    );
    assert!(
        bad(BlockConfig {
            residual: true,
            padding: Padding::Valid,
            ..BlockConfig::default()
        })
        .contains("residual = true needs padding = \"same\"")
    );
    let empty = NetConfig {
        blocks: vec![],
        ..NetConfig::default()
    };
    assert!(config_error(empty.validate(13, 100, 10)).contains("model.blocks is empty"));
    let hidden = NetConfig {
        hidden: vec![0],
        ..NetConfig::default()
    };
    assert!(config_error(hidden.validate(13, 100, 10)).contains("model.hidden[0] = 0"));
    assert!(config_error(NetConfig::default().validate(13, 100, 1)).contains("at least 2"));
}

#[test]
fn unknown_optimizer_lists_the_choices() {
    let err = toml::from_str::<TrainConfig>("optimizer = \"adamx\"").expect_err("must fail");
    let msg = err.to_string();
    assert!(msg.contains("adamx"), "{msg}");
    assert!(msg.contains("`adam`, `adamw`, `sgd`, `rmsprop`"), "{msg}");
}

#[test]
fn unknown_keys_are_rejected() {
    let msg = toml::from_str::<TrainConfig>("lrate = 0.1")
        .expect_err("must fail")
        .to_string();
    assert!(msg.contains("unknown field `lrate`"), "{msg}");
    let msg = toml::from_str::<NetConfig>("blocks = [{ filter = 3 }]")
        .expect_err("must fail")
        .to_string();
    assert!(msg.contains("unknown field `filter`"), "{msg}");
}

#[test]
fn toml_sections_parse_with_defaults_for_missing_keys() {
    let net: NetConfig = toml::from_str(
        r#"
        blocks = [ { filters = 32, kernel = 5, pool = 2 },
                   { filters = 64, kernel = 3, activation = "gelu", residual = true } ]
        head = "global_max"
        hidden = [64]
        "#,
    )
    .expect("net");
    assert_eq!(net.blocks[0].filters, 32);
    assert_eq!(net.blocks[1].stride, 1);
    assert!(net.blocks[1].batch_norm);
    assert_eq!(net.head, Head::GlobalMax);
    assert_eq!(net.dropout, 0.3);

    let t: TrainConfig = toml::from_str(
        "optimizer = \"sgd\"\nnesterov = true\nclass_weights = \"balanced\"\nearly_stopping = 5\nscheduler = \"onecycle\"",
    )
    .expect("train");
    assert_eq!(t.optimizer, Optimizer::Sgd);
    assert_eq!(t.class_weights, ClassWeights::Balanced);
    assert_eq!(t.early_stopping, Some(5));
    assert_eq!(t.batch_size, 64);
    t.validate(10).expect("valid");

    let t: TrainConfig = toml::from_str("class_weights = [1.0, 2.5]").expect("train");
    assert_eq!(t.class_weights, ClassWeights::Explicit(vec![1.0, 2.5]));
    assert!(config_error(t.validate(3).map(|_| ())).contains("2 values for 3 classes"));
    let msg = toml::from_str::<TrainConfig>("class_weights = \"even\"")
        .expect_err("must fail")
        .to_string();
    assert!(msg.contains("\"none\", \"balanced\" or a list"), "{msg}");

    let a: AugmentConfig =
        toml::from_str("time_shift = 5\nnoise_snr_db = [10.0, 30.0]").expect("augment");
    assert!(a.is_enabled());
    assert!(!AugmentConfig::default().is_enabled());
    // The TOML round trip keeps every value.
    let back: TrainConfig =
        toml::from_str(&toml::to_string(&t).expect("serialise")).expect("parse");
    assert_eq!(back, t);
}

#[test]
fn train_values_out_of_range_are_reported_by_key() {
    let bad = |t: TrainConfig| config_error(t.validate(4).map(|_| ()));
    assert_eq!(
        bad(TrainConfig {
            lr: -1.0,
            ..TrainConfig::default()
        }),
        "train.lr = -1: must be a positive number"
    );
    assert!(
        bad(TrainConfig {
            batch_size: 0,
            ..TrainConfig::default()
        })
        .contains("train.batch_size")
    );
    assert!(
        bad(TrainConfig {
            nesterov: true,
            ..TrainConfig::default()
        })
        .contains("train.nesterov")
    );
    assert!(
        bad(TrainConfig {
            label_smoothing: 1.0,
            ..TrainConfig::default()
        })
        .contains("train.label_smoothing")
    );
    let a = AugmentConfig {
        time_mask_width: 500,
        time_masks: 1,
        ..AugmentConfig::default()
    };
    assert!(
        config_error(a.validate(13, 100).map(|_| ())).contains("augment.time_mask_width = 500")
    );
    let a = AugmentConfig {
        time_stretch: Some([0.2, 1.1]),
        ..AugmentConfig::default()
    };
    assert!(
        config_error(a.validate(13, 100).map(|_| ()))
            .contains("augment.time_stretch = [0.2, 1.1]: factors must be in [0.5, 2]")
    );
    let a = AugmentConfig {
        freq_warp: Some([0.9, 1.1]),
        freq_warp_rows: 40,
        ..AugmentConfig::default()
    };
    assert!(a.validate(80, 100).is_ok());
    assert!(
        config_error(a.validate(13, 100).map(|_| ()))
            .contains("augment.freq_warp_rows = 40: must divide the 13 input features")
    );
}

#[cfg(feature = "torch")]
#[test]
fn data_errors_are_caught_before_training() {
    let _guard = common::serial();
    assert!(
        matches!(Dataset::new(vec![0.0; 10], vec![0, 1], 2, 3), Err(Error::Data(m)) if m.contains("expected 12"))
    );
    let mut x = vec![0.0; 12];
    x[7] = f32::NAN;
    let msg = Dataset::new(x, vec![0, 1], 2, 3)
        .expect_err("nan")
        .to_string();
    assert_eq!(
        msg,
        "example 1 holds a non-finite value (NaN) at feature 0, frame 1"
    );

    let data = common::offset_task(20, 3, 0);
    let mut on_epoch = |_: &cochlea_model::EpochMetrics| cochlea_model::Control::Continue;
    let r = train(
        &common::small_net(),
        &TrainConfig::default(),
        &AugmentConfig::default(),
        2,
        &data,
        None,
        TrainOptions::new(&mut on_epoch),
    );
    assert!(
        matches!(&r, Err(Error::Data(m)) if m.contains("out of range for 2 classes")),
        "{r:?}"
    );
    let r = train(
        &common::small_net(),
        &TrainConfig {
            early_stopping: Some(3),
            ..TrainConfig::default()
        },
        &AugmentConfig::default(),
        3,
        &data,
        None,
        TrainOptions::new(&mut on_epoch),
    );
    assert!(
        matches!(&r, Err(Error::Config(m)) if m.contains("early_stopping needs a validation set")),
        "{r:?}"
    );
}
