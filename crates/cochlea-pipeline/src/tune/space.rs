//! The default space of `pipeline tune`: what may change when `[tune.space]`
//! is empty, and the FSDD recipe a search tries first. The `[tune]` section
//! itself (its types, parsing, and overrides applied to a config) is
//! `crate::config::tune`, re-exported here.

use toml::Value;

pub use crate::config::tune::{Dimension, Domain, Overrides, TuneConfig, apply, parse_space};
use crate::config::{Config, FieldSource};

/// The space used when `[tune.space]` is empty: the settings that moved
/// accuracy on FSDD (docs/benchmarks.md), each a choice between the
/// project's default and what won there; the pooling head (`global_avg`,
/// `stats`, `attention`) for networks that convolve over time; `cnn1d` or
/// `conv2d` when the features are log-mel bands alone (an image whose rows
/// are ordered by frequency); and the hidden layers of a `dense` network.
pub fn default_space(base: &Config) -> Vec<Dimension> {
    let choice = |name: &str, v: Vec<Value>| Dimension {
        name: name.into(),
        domain: Domain::Choice(v),
    };
    let s = |x: &str| Value::String(x.into());
    let i = Value::Integer;
    let block = |f: i64, k: i64| {
        let mut t = toml::Table::new();
        t.insert("filters".into(), i(f));
        t.insert("kernel".into(), i(k));
        t.insert("pool".into(), i(2));
        Value::Table(t)
    };
    let blocks = |w: [i64; 3]| Value::Array(vec![block(w[0], 5), block(w[1], 3), block(w[2], 3)]);
    let dense = base.model.kind == cochlea_model::NetKind::Dense;
    let mut dims = vec![
        choice("normalize.method", vec![s("standard"), s("utterance")]),
        Dimension {
            name: "train.lr".into(),
            domain: Domain::LogRange(3e-4, 3e-3),
        },
        choice(
            "model.dropout",
            vec![Value::Float(0.1), Value::Float(0.3), Value::Float(0.5)],
        ),
        choice("train.scheduler", vec![s("none"), s("cosine")]),
        choice("train.epochs", vec![i(20), i(40)]),
    ];
    if dense {
        let widths = |w: &[i64]| Value::Array(w.iter().map(|&x| i(x)).collect());
        dims.push(choice(
            "model.hidden",
            vec![widths(&[64]), widths(&[256, 64])],
        ));
    } else {
        dims.push(choice(
            "model.blocks",
            vec![blocks([64, 128, 128]), blocks([32, 64, 64])],
        ));
        dims.push(choice(
            "model.head",
            vec![s("global_avg"), s("stats"), s("attention")],
        ));
        if base.features.kinds == [cochlea_features::FeatureKind::Logmel] {
            dims.push(choice("model.kind", vec![s("cnn1d"), s("conv2d")]));
        }
    }
    if base.features.kinds.iter().any(|k| {
        matches!(
            k,
            cochlea_features::FeatureKind::Mfcc | cochlea_features::FeatureKind::Logmel
        )
    }) {
        dims.push(choice("features.deltas", vec![i(0), i(2)]));
    }
    // Validation hold-out with early stopping, or every training file for
    // fixed epochs: on FSDD the second won (a speaker more to learn from).
    let val = if base.split.val_fraction > 0.0 {
        base.split.val_fraction
    } else {
        0.1
    };
    dims.push(Dimension {
        name: "validation".into(),
        domain: Domain::Group(vec![
            Overrides::from([
                ("split.val_fraction".into(), Value::Float(val)),
                ("train.early_stopping".into(), i(10)),
            ]),
            Overrides::from([
                ("split.val_fraction".into(), Value::Float(0.0)),
                ("train.early_stopping".into(), s("default")),
            ]),
        ]),
    });
    dims
}

/// What won on FSDD leave-one-speaker-out (pipelines/fsdd-speakers.toml),
/// tried as the second trial of the default space: per-utterance CMVN, no
/// validation group, 30 fixed epochs, cosine schedule.
pub fn fsdd_recipe(base: &Config) -> Overrides {
    let mut ov = Overrides::from([
        ("normalize.method".into(), Value::String("utterance".into())),
        ("split.val_fraction".into(), Value::Float(0.0)),
        (
            "train.early_stopping".into(),
            Value::String("default".into()),
        ),
        ("train.epochs".into(), Value::Integer(30)),
        ("train.scheduler".into(), Value::String("cosine".into())),
    ]);
    if base.features.deltas == 0
        && default_space(base)
            .iter()
            .any(|d| d.name == "features.deltas")
    {
        ov.insert("features.deltas".into(), Value::Integer(2));
    }
    ov
}

/// True when the config reads groups (speakers, recordings).
pub fn has_groups(cfg: &Config) -> bool {
    cfg.data.group != FieldSource::None
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn space(text: &str) -> Result<Vec<Dimension>, String> {
        let t: toml::Table = toml::from_str(text).unwrap();
        parse_space(&t.into_iter().collect())
    }

    #[test]
    fn domains_parse_and_bad_ones_are_named() {
        let d =
            space("\"train.lr\" = { log_range = [1e-4, 1e-2] }\n\"model.dropout\" = [0.1, 0.5]\n")
                .unwrap();
        assert_eq!(d.len(), 2);
        let err = space("\"train.lr\" = { log_range = [0.0, 1e-2] }\n").unwrap_err();
        assert!(err.contains("tune.space.\"train.lr\""), "{err}");
        let err = space("\"train.lr\" = { normal = [1, 2] }\n").unwrap_err();
        assert!(err.contains("unknown domain `normal`"), "{err}");
        let err = space("lr = [0.1]\n").unwrap_err();
        assert!(err.contains("names a group"), "{err}");
    }

    #[test]
    fn draws_stay_in_range_and_repeat_for_a_seed() {
        let d = space("\"train.lr\" = { log_range = [1e-4, 1e-2] }\n").unwrap();
        let draw = |seed| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            (0..20).map(|_| d[0].draw(&mut rng)).collect::<Vec<_>>()
        };
        assert_eq!(draw(3), draw(3));
        for ov in draw(3) {
            let lr = ov["train.lr"].as_float().unwrap();
            assert!((1e-4..=1e-2).contains(&lr), "{lr}");
        }
    }

    #[test]
    fn overrides_set_keys_and_default_removes_one() {
        let mut base = Config::default();
        base.train.early_stopping = Some(10);
        let ov = Overrides::from([
            ("train.lr".into(), Value::Float(0.002)),
            ("split.val_fraction".into(), Value::Float(0.0)),
            (
                "train.early_stopping".into(),
                Value::String("default".into()),
            ),
        ]);
        let c = apply(&base, &ov).unwrap();
        assert_eq!(c.train.lr, 0.002);
        assert_eq!(c.split.val_fraction, 0.0);
        assert_eq!(c.train.early_stopping, None);
        let bad = Overrides::from([("train.lr".into(), Value::Float(-1.0))]);
        assert!(apply(&base, &bad).unwrap_err().contains("train.lr"));
    }

    #[test]
    fn feature_kinds_are_a_choice_of_lists() {
        let d = space(
            "\"features.kinds\" = [[\"mfcc\"], [\"mfcc\", \"f0\", \"voiced_prob\"], \
             [\"mfcc\", \"chroma\", \"onset\"]]\n",
        )
        .unwrap();
        let Domain::Choice(options) = &d[0].domain else {
            panic!("{:?}", d[0].domain)
        };
        let kinds: Vec<Vec<&str>> = options
            .iter()
            .map(|o| {
                let ov = Overrides::from([("features.kinds".into(), o.clone())]);
                let c = apply(&Config::default(), &ov).unwrap();
                c.features.kinds.iter().map(|k| k.name()).collect()
            })
            .collect();
        assert_eq!(
            kinds,
            vec![
                vec!["mfcc"],
                vec!["mfcc", "f0", "voiced_prob"],
                vec!["mfcc", "chroma", "onset"]
            ]
        );
        let bad = Overrides::from([(
            "features.kinds".into(),
            Value::Array(vec![Value::String("pitch".into())]),
        )]);
        assert!(apply(&Config::default(), &bad).is_err());
    }
}
