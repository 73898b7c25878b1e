//! Keeps `docs/config.md` true to `Config`.
//!
//! The key paths come from the config itself: `Config::default()` and a
//! config with a `[[model.blocks]]` entry, turned into JSON with serde and
//! walked (`data.sample_rate`, `model.blocks`, `model.blocks.filters`, ...),
//! plus the keys serde leaves out when they are unset ([`SKIPPED_WHEN_NONE`]).
//! serde's own list of the fields each section accepts (the message of an
//! unknown key) proves that list complete.
//!
//! For every key the reference must have a row `` | `key` | default |
//! meaning | `` under the heading of its section (`` ## `[data]` ``,
//! `` ### `[[model.blocks]]` ``; the top-level keys before the first such
//! heading). A default written as a single TOML literal must equal what an
//! absent key parses to; every value of an enum key must be named in its
//! row; every row must name a real key; and the example file must parse and
//! validate.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use cochlea_features::{
    Extractor, F0Unvoiced, FeatureKind, MelNorm, MelScale, PadMode as StftPad, Pooling, Preset,
    Window,
};
use cochlea_model::{
    Activation, ClassWeights, DeviceChoice, Head, InitScheme, Monitor, NetKind, Optimizer, Padding,
    PoolKind, Scheduler,
};
use cochlea_pipeline::Config;
use cochlea_pipeline::config::{
    AnnotationFormat, CropMode, FieldSource, Layout, LongClips, NormMethod, PadMode, Strategy,
};
use serde::Serialize;
use serde_json::Value;

/// Keys that `skip_serializing_if` drops from a default config when unset
/// (`None`, or the empty `tune.space`), so the walk over the serialised config cannot see them.
const SKIPPED_WHEN_NONE: &[&str] = &[
    "features.win_length",
    "features.fmax",
    "features.f0_fmax",
    "features.chroma_tuning",
    "features.pooling",
    "tune.space",
];

/// A key no section accepts, to make serde list the ones it does.
const UNKNOWN: &str = "zz_not_a_key";

fn doc_text() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/config.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The contents of the backtick spans of `s`.
fn spans(s: &str) -> Vec<&str> {
    s.split('`').skip(1).step_by(2).collect()
}

/// What the reference says: per section, per key, the cells of its row.
#[derive(Debug, Default)]
struct Doc {
    /// section ("" = top level, "data", "model.blocks") -> key -> cells.
    rows: BTreeMap<String, BTreeMap<String, Vec<String>>>,
    /// The bodies of the ```toml code blocks.
    examples: Vec<String>,
    /// Structural faults (a key row without a bare key, a key listed twice).
    problems: Vec<String>,
}

/// The section a heading names: `` `[data]` `` -> `data`,
/// `` `[[model.blocks]]` `` -> `model.blocks`; `None` for other headings.
fn heading_section(text: &str) -> Option<String> {
    spans(text).into_iter().find_map(|s| {
        let inner = s.strip_prefix("[[").and_then(|s| s.strip_suffix("]]"));
        let inner = inner.or_else(|| s.strip_prefix('[').and_then(|s| s.strip_suffix(']')))?;
        Some(inner.to_string())
    })
}

fn parse_doc(text: &str) -> Doc {
    let mut doc = Doc::default();
    // Open headings (level, section named); a heading that names no section
    // (such as "### Schedules") stays inside the section around it.
    let mut headings: Vec<(usize, Option<String>)> = Vec::new();
    let mut code: Option<(bool, String)> = None;
    let mut header: Option<Vec<String>> = None;
    for line in text.lines() {
        if let Some((is_toml, body)) = &mut code {
            if line.trim_start().starts_with("```") {
                if *is_toml {
                    doc.examples.push(std::mem::take(body));
                }
                code = None;
            } else {
                body.push_str(line);
                body.push('\n');
            }
            continue;
        }
        if let Some(lang) = line.trim_start().strip_prefix("```") {
            code = Some((lang.trim() == "toml", String::new()));
            continue;
        }
        if !line.starts_with('|') {
            header = None;
            if line.starts_with('#') {
                let level = line.chars().take_while(|c| *c == '#').count();
                while headings.last().is_some_and(|(l, _)| *l >= level) {
                    headings.pop();
                }
                headings.push((level, heading_section(line)));
            }
            continue;
        }
        let cells: Vec<String> = line
            .trim()
            .trim_matches('|')
            .split('|')
            .map(|c| c.trim().to_string())
            .collect();
        if cells
            .iter()
            .all(|c| !c.is_empty() && c.chars().all(|ch| ch == '-'))
        {
            continue;
        }
        let Some(head) = &header else {
            header = Some(cells);
            continue;
        };
        if head.as_slice() != ["key", "default", "meaning"] {
            continue;
        }
        let section = headings
            .iter()
            .rev()
            .find_map(|(_, s)| s.clone())
            .unwrap_or_default();
        let first = &cells[0];
        let key = match spans(first).as_slice() {
            [k] if *first == format!("`{k}`")
                && !k.is_empty()
                && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') =>
            {
                k.to_string()
            }
            _ => {
                doc.problems.push(format!(
                    "[{section}]: row {first:?} of a key table does not start with a bare `key`"
                ));
                continue;
            }
        };
        let table = doc.rows.entry(section.clone()).or_default();
        if table.insert(key.clone(), cells).is_some() {
            doc.problems
                .push(format!("[{section}]: `{key}` has two rows"));
        }
    }
    doc
}

/// Section and key of a path: `model.blocks.filters` -> (`model.blocks`,
/// `filters`), `name` -> (``, `name`).
fn split_path(path: &str) -> (&str, &str) {
    path.rsplit_once('.').unwrap_or(("", path))
}

/// What the config holds: every key path with its value (tables and arrays
/// of tables have none), and the sections with whether each is an array of
/// tables.
#[derive(Debug, Default)]
struct Keys {
    values: BTreeMap<String, Option<Value>>,
    sections: BTreeMap<String, bool>,
}

impl Keys {
    fn of(cfg: &Config) -> Keys {
        let json = serde_json::to_value(cfg).expect("a config serialises to JSON");
        let mut keys = Keys::default();
        keys.walk("", &json, false);
        keys
    }

    fn walk(&mut self, section: &str, table: &Value, is_array: bool) {
        self.sections.insert(section.to_string(), is_array);
        let Value::Object(map) = table else {
            panic!("section [{section}] does not serialise to a table: {table}");
        };
        for (k, v) in map {
            let path = if section.is_empty() {
                k.clone()
            } else {
                format!("{section}.{k}")
            };
            match v {
                Value::Object(_) => {
                    self.values.insert(path.clone(), None);
                    self.walk(&path, v, false);
                }
                Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_object) => {
                    self.values.insert(path.clone(), None);
                    for item in items {
                        self.walk(&path, item, true);
                    }
                }
                leaf => {
                    self.values.insert(path, Some(leaf.clone()));
                }
            }
        }
    }

    fn merge(&mut self, other: Keys) {
        for (p, v) in other.values {
            self.values.entry(p).or_insert(v);
        }
        self.sections.extend(other.sections);
    }
}

/// A config that writes a block entry with no keys: the block list is one
/// block with `BlockConfig`'s defaults, every other key as absent.
fn parsed_defaults() -> Config {
    Config::parse("[[model.blocks]]\n").expect("an empty block entry parses")
}

/// Every key path of the config, including those skipped when unset.
fn all_keys() -> Keys {
    let mut keys = Keys::of(&Config::default());
    keys.merge(Keys::of(&parsed_defaults()));
    for path in SKIPPED_WHEN_NONE {
        keys.values.entry(path.to_string()).or_insert(None);
    }
    keys
}

fn missing_keys(doc: &Doc, keys: &Keys) -> Vec<String> {
    let mut problems = doc.problems.clone();
    for path in keys.values.keys() {
        if keys.sections.get(path) == Some(&false) {
            // A table is documented by its heading and the rows under it.
            if !doc.rows.contains_key(path) {
                problems.push(format!("`[{path}]` has no section heading with key rows"));
            }
            continue;
        }
        let (section, key) = split_path(path);
        if !doc.rows.get(section).is_some_and(|t| t.contains_key(key)) {
            let heading = if section.is_empty() {
                "before the first section heading".to_string()
            } else {
                format!("under the `[{section}]` heading")
            };
            problems.push(format!("`{path}` has no row `{key}` {heading}"));
        }
    }
    for (section, table) in &doc.rows {
        for key in table.keys() {
            let path = if section.is_empty() {
                key.clone()
            } else {
                format!("{section}.{key}")
            };
            if !keys.values.contains_key(&path) {
                problems.push(format!(
                    "the reference documents `{key}` under [{section}], which is no key of the config"
                ));
            }
        }
    }
    problems
}

/// Numbers compare as numbers (`0.001` = `1e-3`, `2` = `2.0`).
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (
                x.as_f64().unwrap_or(f64::NAN),
                y.as_f64().unwrap_or(f64::NAN),
            );
            x == y || (x - y).abs() <= 1e-12 * x.abs().max(y.abs())
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_value(a, b))
        }
        _ => a == b,
    }
}

fn wrong_defaults(doc: &Doc, defaults: &Keys) -> Vec<String> {
    let mut problems = Vec::new();
    for (section, table) in &doc.rows {
        for (key, cells) in table {
            let cell = cells.get(1).map(String::as_str).unwrap_or("");
            // Only a cell that is one code span is a literal; prose such as
            // "none (= `n_fft`)" or "file stem" is for the reader.
            let literal = match spans(cell).as_slice() {
                [lit] if cell == format!("`{lit}`") => *lit,
                _ => continue,
            };
            let path = if section.is_empty() {
                key.clone()
            } else {
                format!("{section}.{key}")
            };
            let parsed = toml::from_str::<toml::Table>(&format!("v = {literal}"))
                .ok()
                .and_then(|t| t.get("v").cloned())
                .and_then(|v| serde_json::to_value(v).ok());
            let Some(documented) = parsed else {
                problems.push(format!("`{path}`: default `{literal}` is not a TOML value"));
                continue;
            };
            match defaults.values.get(&path) {
                Some(Some(actual)) if same_value(&documented, actual) => {}
                Some(Some(actual)) => problems.push(format!(
                    "`{path}`: the reference says the default is `{literal}`, the config's is {actual}"
                )),
                _ => problems.push(format!(
                    "`{path}`: the reference gives the default `{literal}`, but the key is unset by default"
                )),
            }
        }
    }
    problems
}

/// The TOML spellings of an enum's variants. The `match` has no wildcard,
/// so a variant added to the enum stops this file from compiling until it is
/// listed here, and then the test asks for it in the reference.
macro_rules! variants {
    ($ty:ident: $($v:ident),+ $(,)?) => {{
        fn _every_variant_listed(x: $ty) {
            match x {
                $($ty::$v)|+ => {}
            }
        }
        spellings(&[$($ty::$v),+])
    }};
}

fn spellings<T: Serialize>(values: &[T]) -> Vec<String> {
    values
        .iter()
        .map(|v| match serde_json::to_value(v) {
            Ok(Value::String(s)) => format!("\"{s}\""),
            other => panic!("an enum value serialises to {other:?}, not a string"),
        })
        .collect()
}

/// Every key whose value is one of a fixed set of words, with those words.
fn enum_keys() -> Vec<(&'static str, Vec<String>)> {
    let field_source = |f: FieldSource| match f {
        FieldSource::Folder | FieldSource::Manifest => spellings(&[f]),
        // `{ regex = '...' }` is a table, and "none" is the absent default.
        FieldSource::Regex(_) | FieldSource::None => Vec::new(),
    };
    let sources: Vec<String> = [FieldSource::Folder, FieldSource::Manifest]
        .into_iter()
        .flat_map(field_source)
        .collect();
    let weights: Vec<String> = [ClassWeights::None, ClassWeights::Balanced]
        .into_iter()
        .flat_map(|w| match w {
            ClassWeights::None | ClassWeights::Balanced => spellings(&[w]),
            // A list of numbers, documented in prose.
            ClassWeights::Explicit(_) => Vec::new(),
        })
        .collect();
    vec![
        ("data.label", sources.clone()),
        ("data.group", sources),
        ("data.pad", variants!(PadMode: Zero, Repeat)),
        (
            "data.layout",
            variants!(Layout: Files, Audiofolder, Esc50, Urbansound8k, SpeechCommands),
        ),
        ("data.crop", variants!(CropMode: Center, Start)),
        (
            "data.long_clips",
            variants!(LongClips: Crop, RandomCrop, Windows),
        ),
        (
            "data.annotations",
            variants!(AnnotationFormat: None, Raven, Audacity),
        ),
        (
            "split.strategy",
            variants!(Strategy: Stratified, Group, Predefined, Kfold, GroupKfold, LeaveOneGroupOut),
        ),
        (
            "features.preset",
            variants!(Preset: Librosa, Torchaudio, Custom),
        ),
        (
            "features.kinds",
            variants!(FeatureKind: Mfcc, Logmel, Centroid, Bandwidth, Rolloff, Flatness, Contrast, Zcr, Rms, F0, Voiced, VoicedProb, Yin, Onset, Chroma, Tonnetz, Raw),
        ),
        (
            "features.f0_unvoiced",
            variants!(F0Unvoiced: Zero, Hold, Interpolate, Guess),
        ),
        ("features.window", variants!(Window: Hann, Hamming, Boxcar)),
        ("features.pad_mode", variants!(StftPad: Constant, Reflect)),
        ("features.mel_scale", variants!(MelScale: Slaney, Htk)),
        ("features.mel_norm", variants!(MelNorm: Slaney, None)),
        (
            "normalize.method",
            variants!(NormMethod: Standard, Minmax, Utterance, None),
        ),
        (
            "model.head",
            variants!(Head: GlobalAvg, GlobalMax, Flatten, Stats, Attention, AttentiveStats),
        ),
        ("model.kind", variants!(NetKind: Cnn1d, Conv2d, Dense)),
        ("features.pooling", variants!(Pooling: None, Functionals)),
        ("model.init", variants!(InitScheme: Pytorch, He)),
        ("model.blocks.padding", variants!(Padding: Same, Valid)),
        (
            "model.blocks.activation",
            variants!(Activation: Relu, Gelu, LeakyRelu, Elu),
        ),
        ("model.blocks.pool_kind", variants!(PoolKind: Max, Avg)),
        (
            "train.optimizer",
            variants!(Optimizer: Adam, Adamw, Sgd, Rmsprop),
        ),
        (
            "train.scheduler",
            variants!(Scheduler: None, Step, Cosine, Onecycle, Plateau),
        ),
        ("train.monitor", variants!(Monitor: ValLoss, ValAccuracy)),
        ("train.device", variants!(DeviceChoice: Cpu, Cuda, Auto)),
        ("train.class_weights", weights),
    ]
}

fn undocumented_values(doc: &Doc) -> Vec<String> {
    let mut problems = Vec::new();
    for (path, values) in enum_keys() {
        let (section, key) = split_path(path);
        let Some(cells) = doc.rows.get(section).and_then(|t| t.get(key)) else {
            problems.push(format!("`{path}` has no row to name its values in"));
            continue;
        };
        let named: BTreeSet<&str> = cells[1..].iter().flat_map(|c| spans(c)).collect();
        for v in values {
            if !named.contains(v.as_str()) {
                problems.push(format!("`{path}`: the value `{v}` is not named in its row"));
            }
        }
    }
    problems
}

fn assert_none(problems: Vec<String>) {
    assert!(
        problems.is_empty(),
        "docs/config.md is out of step with the config:\n  {}",
        problems.join("\n  ")
    );
}

#[test]
fn every_key_has_a_row_under_its_section() {
    let doc = parse_doc(&doc_text());
    let keys = all_keys();
    for path in [
        "name",
        "data.sample_rate",
        "model.blocks",
        "model.blocks.filters",
        "train.scheduler",
        "features.win_length",
    ] {
        assert!(keys.values.contains_key(path), "the walk missed `{path}`");
    }
    assert_none(missing_keys(&doc, &keys));
}

#[test]
fn the_keys_walked_are_every_key_serde_accepts() {
    let keys = all_keys();
    for path in SKIPPED_WHEN_NONE {
        let (section, _) = split_path(path);
        assert!(
            keys.sections.contains_key(section),
            "SKIPPED_WHEN_NONE: `{path}` names no section of the config"
        );
    }
    for (section, &is_array) in &keys.sections {
        let text = match (section.as_str(), is_array) {
            ("", _) => format!("{UNKNOWN} = 1\n"),
            (s, true) => format!("[[{s}]]\n{UNKNOWN} = 1\n"),
            (s, false) => format!("[{s}]\n{UNKNOWN} = 1\n"),
        };
        // toml's own message, without the "did you mean" that Config::parse adds.
        let err = match toml::from_str::<Config>(&text) {
            Ok(_) => panic!("[{section}] accepts an unknown key {UNKNOWN}"),
            Err(e) => e.to_string(),
        };
        let marker = format!("unknown field `{UNKNOWN}`");
        let Some((_, expected)) = err.split_once(&marker) else {
            panic!("[{section}]: unexpected error for an unknown key: {err}");
        };
        let accepted: BTreeSet<String> = spans(expected).into_iter().map(String::from).collect();
        let walked: BTreeSet<String> = keys
            .values
            .keys()
            .filter(|p| split_path(p).0 == section)
            .map(|p| split_path(p).1.to_string())
            .collect();
        assert!(!accepted.is_empty(), "[{section}]: no field list in {err}");
        assert_eq!(
            walked, accepted,
            "[{section}]: the keys found (left: serialised, plus SKIPPED_WHEN_NONE) differ from \
             the keys serde accepts (right); a key skipped when unset belongs in SKIPPED_WHEN_NONE"
        );
    }
}

#[test]
fn documented_defaults_are_the_parsed_defaults() {
    assert_eq!(
        Config::parse("").expect("an empty config parses"),
        Config::default(),
        "an empty file must mean Config::default()"
    );
    let doc = parse_doc(&doc_text());
    assert_none(wrong_defaults(&doc, &Keys::of(&parsed_defaults())));
}

#[test]
fn every_value_of_an_enum_key_is_named_in_its_row() {
    let doc = parse_doc(&doc_text());
    assert_none(undocumented_values(&doc));
}

#[test]
fn the_example_parses_and_validates() {
    let doc = parse_doc(&doc_text());
    assert!(
        !doc.examples.is_empty(),
        "the reference has no ```toml example"
    );
    for text in &doc.examples {
        let cfg = Config::parse(text).unwrap_or_else(|e| panic!("the example: {e}\n{text}"));
        let sr = cfg.data.sample_rate;
        let extractor = Extractor::new(&cfg.features, sr)
            .unwrap_or_else(|e| panic!("the example's [features]: {e}"));
        let (rows, frames) = (extractor.n_rows(), extractor.n_frames(sr as usize));
        cfg.model
            .validate(rows, frames, 10)
            .unwrap_or_else(|e| panic!("the example's [model]: {e}"));
        cfg.train
            .validate(10)
            .unwrap_or_else(|e| panic!("the example's [train]: {e}"));
        cfg.augment
            .validate(rows, frames)
            .unwrap_or_else(|e| panic!("the example's [augment]: {e}"));
    }
}

/// The checks above must be able to fail: plant each fault in a copy of the
/// reference and expect it named.
#[test]
fn the_checks_catch_planted_faults() {
    let text = doc_text();
    let keys = all_keys();
    let defaults = Keys::of(&parsed_defaults());
    let cut = |needle: &str| -> Doc {
        let kept: Vec<&str> = text.lines().filter(|l| !l.starts_with(needle)).collect();
        assert!(
            kept.len() < text.lines().count(),
            "no line starts with {needle:?}"
        );
        parse_doc(&kept.join("\n"))
    };
    let names = |problems: Vec<String>, what: &str| {
        assert!(
            problems.iter().any(|p| p.contains(what)),
            "expected a problem naming {what}, got {problems:?}"
        );
    };

    names(
        missing_keys(&cut("| `n_mels` |"), &keys),
        "`features.n_mels`",
    );
    names(missing_keys(&cut("| `fmax` |"), &keys), "`features.fmax`");
    names(
        missing_keys(&cut("| `residual` |"), &keys),
        "`model.blocks.residual`",
    );
    names(missing_keys(&cut("| `name` |"), &keys), "`name`");
    // `seed` stays documented under [split]; that does not cover [train].
    let problems = missing_keys(&cut("| `seed` | `0` | seed of weight"), &keys);
    names(problems.clone(), "`train.seed`");
    assert!(
        !problems.iter().any(|p| p.contains("`split.seed`")),
        "{problems:?}"
    );
    // A row for a key the config does not have.
    let renamed = text.replacen("| `patience` |", "| `patiance` |", 1);
    assert_ne!(renamed, text);
    names(missing_keys(&parse_doc(&renamed), &keys), "`patiance`");

    let wrong = text.replacen("| `n_fft` | `256` |", "| `n_fft` | `512` |", 1);
    assert_ne!(wrong, text);
    names(
        wrong_defaults(&parse_doc(&wrong), &defaults),
        "`features.n_fft`",
    );

    let unnamed = text.replacen("`\"onecycle\"` or ", "or ", 1);
    assert_ne!(unnamed, text);
    names(undocumented_values(&parse_doc(&unnamed)), "\"onecycle\"");
}
