//! The `[tune]` section: what may change (the space), how a trial's
//! overrides are drawn from it, and how they are applied to a config.
//!
//! A trial is a set of overrides, dotted config keys mapped to TOML values
//! (`train.lr = 0.0012`). Applying them serialises the config to a TOML
//! table, sets each key, deserialises and validates it again, so a bad
//! value gets the config's own error naming the key.

use std::collections::BTreeMap;

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use toml::Value;

use crate::config::{Config, FieldSource};

/// Overrides of one trial: dotted key -> value (`"default"` removes the key,
/// so it takes its default).
pub type Overrides = BTreeMap<String, Value>;

/// `[tune]`: the search space and the successive-halving schedule.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct TuneConfig {
    /// Configurations drawn (the first is the config itself).
    pub trials: usize,
    /// Successive halving keeps the best `1 / eta` of each rung.
    pub eta: usize,
    /// Most rungs (fidelity levels); the last trains the full epochs on
    /// every inner fold.
    pub rungs: usize,
    /// Inner cross-validation folds built from the training part.
    pub inner_folds: usize,
    /// Seed of the draws and of the inner folds.
    pub seed: u64,
    /// Networks per model in the outer scoring and in `tuned.toml`
    /// (`train.ensemble`); the search itself trains one network per
    /// evaluation. `0` keeps the config's `train.ensemble`. A trial that
    /// sets `train.ensemble` keeps its own value everywhere.
    pub ensemble: usize,
    /// Dotted config key -> domain; empty = the default space.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub space: BTreeMap<String, Value>,
}

impl Default for TuneConfig {
    fn default() -> Self {
        TuneConfig {
            trials: 12,
            eta: 3,
            rungs: 3,
            inner_folds: 3,
            seed: 0,
            ensemble: 3,
            space: BTreeMap::new(),
        }
    }
}

impl TuneConfig {
    /// Checks the schedule and that every key and choice of the space
    /// fits the config `base` (unknown keys and wrong types are named).
    pub fn validate(&self, base: &Config) -> Result<(), String> {
        let check = |ok: bool, msg: &str| if ok { Ok(()) } else { Err(msg.to_string()) };
        check(self.trials >= 1, "tune.trials: must be at least 1")?;
        check(self.eta >= 2, "tune.eta: must be at least 2")?;
        check((1..=6).contains(&self.rungs), "tune.rungs: must be 1 to 6")?;
        check(
            self.inner_folds >= 2,
            "tune.inner_folds: must be at least 2",
        )?;
        check(self.ensemble <= 32, "tune.ensemble: must be 0 to 32")?;
        if self.space.is_empty() {
            return Ok(());
        }
        let mut plain = base.clone();
        plain.tune = TuneConfig::default();
        for d in parse_space(&self.space)? {
            for choice in d.choices_to_check() {
                apply_unchecked(&plain, &choice)
                    .map_err(|e| format!("tune.space.\"{}\": {e}", d.name))?;
            }
        }
        Ok(())
    }
}

/// The values one space entry may take.
#[derive(Clone, Debug, PartialEq)]
pub enum Domain {
    /// One of these values.
    Choice(Vec<Value>),
    /// Uniform in [low, high].
    Range(f64, f64),
    /// Log-uniform in [low, high].
    LogRange(f64, f64),
    /// An integer in [low, high].
    IntRange(i64, i64),
    /// One of these sets of overrides (a named group of keys changed together).
    Group(Vec<Overrides>),
}

/// One entry of the space.
#[derive(Clone, Debug, PartialEq)]
pub struct Dimension {
    /// The dotted key, or the group's name.
    pub name: String,
    /// Its values.
    pub domain: Domain,
}

impl Dimension {
    /// Overrides for a representative set of values (every choice, both ends
    /// of a range), for checking keys and types.
    fn choices_to_check(&self) -> Vec<Overrides> {
        let one = |v: Value| Overrides::from([(self.name.clone(), v)]);
        match &self.domain {
            Domain::Choice(v) => v.iter().cloned().map(one).collect(),
            Domain::Range(a, b) | Domain::LogRange(a, b) => {
                vec![one(Value::Float(*a)), one(Value::Float(*b))]
            }
            Domain::IntRange(a, b) => vec![one(Value::Integer(*a)), one(Value::Integer(*b))],
            Domain::Group(g) => g.clone(),
        }
    }

    /// Draws one value (as overrides) from the domain.
    pub fn draw(&self, rng: &mut ChaCha8Rng) -> Overrides {
        let one = |v: Value| Overrides::from([(self.name.clone(), v)]);
        match &self.domain {
            Domain::Choice(v) => one(v[rng.random_range(0..v.len())].clone()),
            Domain::Range(a, b) => one(Value::Float(round3(rng.random_range(*a..=*b)))),
            Domain::LogRange(a, b) => {
                let x = rng.random_range(a.ln()..=b.ln()).exp();
                one(Value::Float(round3(x).clamp(*a, *b)))
            }
            Domain::IntRange(a, b) => one(Value::Integer(rng.random_range(*a..=*b))),
            Domain::Group(g) => g[rng.random_range(0..g.len())].clone(),
        }
    }
}

/// Three significant digits: `0.0012345` -> `0.00123`, readable in a config.
fn round3(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let scale = 10f64.powi(2 - x.abs().log10().floor() as i32);
    (x * scale).round() / scale
}

/// Reads the `[tune.space]` table; errors name the entry.
pub fn parse_space(space: &BTreeMap<String, Value>) -> Result<Vec<Dimension>, String> {
    space
        .iter()
        .map(|(name, v)| {
            let key = format!("tune.space.\"{name}\"");
            let domain = parse_domain(name, v).map_err(|e| format!("{key}: {e}"))?;
            Ok(Dimension {
                name: name.clone(),
                domain,
            })
        })
        .collect()
}

fn parse_domain(name: &str, v: &Value) -> Result<Domain, String> {
    let num = |v: &Value| match v {
        Value::Float(f) => Some(*f),
        Value::Integer(i) => Some(*i as f64),
        _ => None,
    };
    let pair = |v: &Value| -> Result<(f64, f64), String> {
        match v.as_array().map(|a| a.iter().map(num).collect::<Vec<_>>()) {
            Some(p) if p.len() == 2 && p.iter().all(Option::is_some) => {
                let (a, b) = (p[0].unwrap_or(0.0), p[1].unwrap_or(0.0));
                if a.is_finite() && b.is_finite() && a < b {
                    Ok((a, b))
                } else {
                    Err(format!(
                        "[{a}, {b}]: the low end must be below the high end"
                    ))
                }
            }
            _ => Err("a range is two numbers, [low, high]".into()),
        }
    };
    let grouped = !name.contains('.');
    let domain = match v {
        Value::Array(choices) if choices.is_empty() => {
            return Err("the list of choices is empty".into());
        }
        Value::Array(choices) if grouped => {
            let mut sets = Vec::new();
            for c in choices {
                let Some(t) = c.as_table() else {
                    return Err(format!(
                        "\"{name}\" has no dot, so it names a group: each choice must be a table of dotted keys, e.g. {{ \"split.val_fraction\" = 0.0 }}"
                    ));
                };
                sets.push(t.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
            }
            Domain::Group(sets)
        }
        Value::Array(choices) => Domain::Choice(choices.clone()),
        Value::Table(t) if t.len() == 1 => {
            let (kind, arg) = t.iter().next().ok_or("empty table")?;
            match kind.as_str() {
                "range" => {
                    let (a, b) = pair(arg)?;
                    Domain::Range(a, b)
                }
                "log_range" => {
                    let (a, b) = pair(arg)?;
                    if a <= 0.0 {
                        return Err(format!("log_range [{a}, {b}]: both ends must be above 0"));
                    }
                    Domain::LogRange(a, b)
                }
                "int_range" => {
                    let (a, b) = pair(arg)?;
                    Domain::IntRange(a.round() as i64, b.round() as i64)
                }
                other => {
                    return Err(format!(
                        "unknown domain `{other}`; use a list of choices, {{ range = [a, b] }}, {{ log_range = [a, b] }} or {{ int_range = [a, b] }}"
                    ));
                }
            }
        }
        _ => {
            return Err("a domain is a list of choices, { range = [a, b] }, { log_range = [a, b] } or { int_range = [a, b] }".into());
        }
    };
    if grouped && !matches!(domain, Domain::Group(_)) {
        return Err(format!(
            "\"{name}\" is not a dotted config key (e.g. \"train.lr\"); a name without a dot is a group whose choices are tables of dotted keys"
        ));
    }
    Ok(domain)
}

/// Applies `ov` to `base` and checks the result as `Config::load` would.
pub fn apply(base: &Config, ov: &Overrides) -> Result<Config, String> {
    let cfg = apply_unchecked(base, ov)?;
    cfg.validate()?;
    Ok(cfg)
}

/// Applies `ov` to `base`: key paths and types are checked, values are not.
fn apply_unchecked(base: &Config, ov: &Overrides) -> Result<Config, String> {
    let mut root = Value::try_from(base).map_err(|e| e.to_string())?;
    for (key, v) in ov {
        set(&mut root, key, v).map_err(|e| format!("{key}: {e}"))?;
    }
    let text = toml::to_string(&root).map_err(|e| e.to_string())?;
    let mut cfg = Config::parse(&text).map_err(|e| {
        let keys: Vec<&str> = ov.keys().map(String::as_str).collect();
        format!("{} (setting {})", e.trim_end(), keys.join(", "))
    })?;
    // Parsing keeps the resolved (absolute) paths of `base`.
    cfg.name = base.name.clone();
    Ok(cfg)
}

fn set(root: &mut Value, key: &str, v: &Value) -> Result<(), String> {
    let parts: Vec<&str> = key.split('.').collect();
    let (last, path) = parts.split_last().ok_or("empty key")?;
    let mut t = root.as_table_mut().ok_or("the config is not a table")?;
    for p in path {
        t = t
            .entry(p.to_string())
            .or_insert_with(|| Value::Table(toml::Table::new()))
            .as_table_mut()
            .ok_or_else(|| format!("`{p}` is not a section"))?;
    }
    if v.as_str() == Some("default") {
        t.remove(*last);
    } else {
        t.insert(last.to_string(), v.clone());
    }
    Ok(())
}

/// The space used when `[tune.space]` is empty: the settings that moved
/// accuracy on FSDD (docs/benchmarks.md), each a choice between the
/// project's default and what won there.
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
        choice(
            "model.blocks",
            vec![blocks([64, 128, 128]), blocks([32, 64, 64])],
        ),
    ];
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
}
