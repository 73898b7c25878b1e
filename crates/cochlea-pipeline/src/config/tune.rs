//! `[tune]`: the search space and the schedule of `pipeline tune`, parsed
//! and checked with the rest of the config, and dotted-key overrides applied
//! to a config. The search itself lives in the `tune` module.

use std::collections::BTreeMap;

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use toml::Value;

use super::Config;

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
