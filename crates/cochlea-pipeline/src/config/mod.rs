//! The run configuration: one TOML file drives a whole run.
//!
//! Raw TOML is parsed into serde structs (`deny_unknown_fields`, defaults for
//! every key), then [`Config::load`] validates everything once, resolves
//! relative paths against the config file's folder, and returns a checked
//! config before any work starts. Unknown keys get a "did you mean" from the
//! keys serde expected.

use std::path::{Path, PathBuf};

use cochlea_features::{Extractor, FeatureConfig, Pooling};
use cochlea_model::{AugmentConfig, ClassWeights, Head, NetConfig, NetKind, TrainConfig};
use serde::{Deserialize, Serialize};

use crate::error::Error;

mod data;
mod events;
pub mod tune;

pub use crate::source::Layout;
pub use data::{
    AUDIO_EXTENSIONS, AnnotationFormat, CropMode, DataConfig, FieldSource, LongClips, PadMode,
    default_extensions,
};
pub use events::EventsConfig;

/// A whole run: data, split, features, normalization, model, training, report.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Name of the run; prefixes the run directory. Default: the file stem.
    pub name: String,
    /// Where the audio is, how labels and groups are read, clip length.
    pub data: DataConfig,
    /// How files are split into train / validation / test.
    pub split: SplitConfig,
    /// Feature extraction (see the feature crate's `FeatureConfig`).
    pub features: FeatureConfig,
    /// Normalization of features, fitted on the training split only.
    pub normalize: NormalizeConfig,
    /// The 1D CNN.
    pub model: NetConfig,
    /// Optimizer, schedule, epochs, early stopping, seed, device.
    pub train: TrainConfig,
    /// On-the-fly augmentation of training batches (all off by default).
    pub augment: AugmentConfig,
    /// Feature cache.
    pub cache: CacheConfig,
    /// Where and what to report.
    pub report: ReportConfig,
    /// Event scores of held-out annotated recordings.
    pub events: EventsConfig,
    /// `pipeline tune`: the search space and schedule (read by `tune` only).
    pub tune: tune::TuneConfig,
}

/// How files are divided for training and evaluation.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// Random, stratified by class (`test_fraction`).
    #[default]
    Stratified,
    /// Random by group, stratified as far as groups allow: no group on two sides.
    Group,
    /// Test files chosen by `split.test` (regex on the file name, else the relative path) or the manifest's `split` column.
    Predefined,
    /// Stratified k-fold (`folds`).
    Kfold,
    /// Group k-fold (`folds`): no group on two sides of any fold.
    GroupKfold,
    /// One fold per group: each group is the test set once.
    LeaveOneGroupOut,
}

/// `[split]`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SplitConfig {
    /// "stratified", "group", "predefined", "kfold", "group-kfold", "leave-one-group-out".
    pub strategy: Strategy,
    /// Fraction of files (or groups) held out for test (stratified, group).
    pub test_fraction: f64,
    /// Fraction of the training part held out for validation (same grouping rule).
    /// `0` trains without validation (no early stopping).
    pub val_fraction: f64,
    /// Predefined split: regex on the file name, else on the path relative to
    /// `data.root`; matching files are the test set.
    pub test: Option<String>,
    /// Number of folds for "kfold" and "group-kfold".
    pub folds: usize,
    /// Seed for every random split.
    pub seed: u64,
    /// `data.root`, for `test` on relative paths (set when the config is
    /// loaded; not a key).
    #[serde(skip)]
    pub root: Option<PathBuf>,
}

impl Default for SplitConfig {
    fn default() -> Self {
        SplitConfig {
            strategy: Strategy::Stratified,
            test_fraction: 0.2,
            val_fraction: 0.1,
            test: None,
            folds: 5,
            seed: 0,
            root: None,
        }
    }
}

/// Feature normalization method.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum NormMethod {
    /// Mean 0, standard deviation 1 per feature row, fitted on training frames.
    #[default]
    Standard,
    /// Range [0, 1] per feature row, fitted on training frames.
    Minmax,
    /// Each clip on its own: mean 0, std 1 per row over that clip's frames (CMVN).
    Utterance,
    /// Features are fed as computed.
    None,
}

/// `[normalize]`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct NormalizeConfig {
    /// "standard", "minmax", "utterance" or "none".
    pub method: NormMethod,
}

/// `[cache]`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CacheConfig {
    /// Cache features on disk, keyed by file content and feature config.
    pub enabled: bool,
    /// Cache folder; default `$COCHLEA_CACHE_DIR/features` or
    /// `~/.cache/cochlea/features`.
    pub dir: Option<PathBuf>,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            enabled: true,
            dir: None,
        }
    }
}

/// `[report]`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ReportConfig {
    /// Folder that receives one new run directory per run (relative to the config file).
    pub dir: PathBuf,
    /// At most this many misclassified files are listed in the report.
    pub max_misclassified: usize,
}

impl Default for ReportConfig {
    fn default() -> Self {
        ReportConfig {
            dir: PathBuf::from("runs"),
            max_misclassified: 50,
        }
    }
}

impl Config {
    /// Reads, parses and validates a config file, resolving relative paths
    /// against its folder.
    pub fn load(path: &Path) -> Result<Config, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let mut cfg = Config::parse(&text).map_err(|msg| Error::Config {
            path: path.to_path_buf(),
            msg,
        })?;
        // Absolute, so the resolved config saved in a run directory (and read
        // back by `--resume`) means the same files from any folder.
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let base = parent
            .canonicalize()
            .unwrap_or_else(|_| parent.to_path_buf());
        cfg.resolve_paths(&base);
        if cfg.name.is_empty() {
            cfg.name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "run".into());
        }
        cfg.validate().map_err(|msg| Error::Config {
            path: path.to_path_buf(),
            msg,
        })?;
        Ok(cfg)
    }

    /// Parses TOML text; an unknown key gets the nearest valid key suggested.
    pub fn parse(text: &str) -> Result<Config, String> {
        toml::from_str(text).map_err(|e| with_suggestion(&e.to_string()))
    }

    fn resolve_paths(&mut self, base: &Path) {
        let join = |p: &Path| {
            if p.is_absolute() {
                clean(p)
            } else {
                clean(&base.join(p))
            }
        };
        self.data.root = join(&self.data.root);
        self.split.root = Some(self.data.root.clone());
        self.data.manifest = self.data.manifest.as_deref().map(join);
        self.data.background_dir = self.data.background_dir.as_deref().map(join);
        self.report.dir = join(&self.report.dir);
        self.cache.dir = self.cache.dir.as_deref().map(join);
        self.augment.background_noise_dir = self.augment.background_noise_dir.as_deref().map(join);
    }

    /// Checks values that serde's types cannot; each message names the key.
    pub fn validate(&self) -> Result<(), String> {
        let d = &self.data;
        if d.manifest.is_none() && !d.root.is_dir() {
            let what = if d.root.exists() {
                "is not a folder"
            } else {
                "does not exist"
            };
            return Err(format!("data.root: {} {what}", d.root.display()));
        }
        if let Some(m) = &d.manifest
            && !m.is_file()
        {
            return Err(format!(
                "data.manifest: file {} does not exist",
                m.display()
            ));
        }
        if !(1000..=384_000).contains(&d.sample_rate) {
            return Err(format!(
                "data.sample_rate: {} Hz is out of range (1000 to 384000)",
                d.sample_rate
            ));
        }
        if d.clip_frames > MAX_CLIP_FRAMES {
            return Err(format!(
                "data.clip_frames: {} is out of range; allowed 0 (automatic) to {MAX_CLIP_FRAMES}",
                d.clip_frames
            ));
        }
        if d.layout != Layout::Files && d.manifest.is_some() {
            return Err(format!(
                "data.manifest: the \"{}\" layout names its own files; remove data.manifest or set data.layout = \"files\"",
                d.layout.name()
            ));
        }
        for (key, col) in [
            ("data.path_column", &d.path_column),
            ("data.label_column", &d.label_column),
            ("data.group_column", &d.group_column),
            ("data.split_column", &d.split_column),
        ] {
            if col.trim().is_empty() {
                return Err(format!("{key}: the column name is empty"));
            }
        }
        for g in &d.exclude {
            crate::glob::Glob::new(g).map_err(|e| format!("data.exclude: {e}"))?;
        }
        if let Some(c) = d.include_classes.iter().find(|c| c.is_empty()) {
            return Err(format!("data.include_classes: {c:?} is not a class name"));
        }
        if d.extensions.is_empty() {
            return Err("data.extensions: the list is empty; give e.g. [\"wav\"]".into());
        }
        d.validate_segments()?;
        if let Some(n) = &self.augment.background_noise_dir
            && !n.is_dir()
        {
            let what = if n.exists() {
                "is not a folder"
            } else {
                "does not exist"
            };
            return Err(format!(
                "augment.background_noise_dir: {} {what}",
                n.display()
            ));
        }
        for (key, src) in [("data.label", &d.label), ("data.group", &d.group)] {
            match src {
                FieldSource::Regex(re) => check_regex(key, re, true)?,
                FieldSource::Manifest if d.manifest.is_none() && d.layout == Layout::Files => {
                    return Err(format!("{key}: \"manifest\" needs data.manifest to be set"));
                }
                _ => {}
            }
        }
        if d.label == FieldSource::None {
            return Err("data.label: a label source is required: \"folder\", { regex = '...' } or \"manifest\"".into());
        }
        let s = &self.split;
        if !(0.0..1.0).contains(&s.test_fraction) {
            return Err(format!(
                "split.test_fraction: {} must be in [0, 1)",
                s.test_fraction
            ));
        }
        if !(0.0..1.0).contains(&s.val_fraction) {
            return Err(format!(
                "split.val_fraction: {} must be in [0, 1)",
                s.val_fraction
            ));
        }
        match s.strategy {
            Strategy::Stratified | Strategy::Group if s.test_fraction <= 0.0 => {
                return Err("split.test_fraction: must be above 0 for a random split".into());
            }
            Strategy::Predefined => match &s.test {
                Some(re) => check_regex("split.test", re, false)?,
                None if d.manifest.is_some() || d.layout.has_split() => {}
                None => {
                    return Err("split.test: the predefined strategy needs a regex for the test files (or a manifest with a split column)".into());
                }
            },
            Strategy::Kfold | Strategy::GroupKfold if s.folds < 2 => {
                return Err(format!("split.folds: {} must be at least 2", s.folds));
            }
            _ => {}
        }
        if self.train.final_model
            && !matches!(
                s.strategy,
                Strategy::Kfold | Strategy::GroupKfold | Strategy::LeaveOneGroupOut
            )
        {
            return Err(format!(
                "train.final_model: split.strategy = \"{}\" already trains one model (model/); a final model on all data follows cross-validation (kfold, group-kfold, leave-one-group-out)",
                strategy_name(s.strategy)
            ));
        }
        let group_aware = matches!(
            s.strategy,
            Strategy::Group | Strategy::GroupKfold | Strategy::LeaveOneGroupOut
        );
        // A manifest may list segments, whose file is their group: known
        // once it is read (`split::make_folds` checks it then).
        if group_aware && !d.has_groups() && d.manifest.is_none() {
            return Err(no_groups(s.strategy));
        }
        self.tune.validate(self)?;
        self.events.validate()?;
        if self.features.pooling == Pooling::Functionals && self.model.kind != NetKind::Dense {
            return Err(format!(
                "features.pooling = \"functionals\" makes one frame of statistics per clip, \
                 but model.kind = \"{}\" convolves over time: use model.kind = \"dense\" \
                 (with model.hidden layers) or features.pooling = \"none\"",
                self.model.kind.name()
            ));
        }
        let rows = Extractor::new(&self.features, d.sample_rate)
            .map_err(|e| e.to_string())?
            .n_rows();
        self.validate_model(rows)
    }

    /// The model crate's checks of `[model]`, `[train]` and `[augment]`, run
    /// here so a bad value stops the run before any audio is decoded. The
    /// number of classes and, when `clip_frames = 0`, the input length are
    /// only known once the data is read: until then the most permissive
    /// values stand in (two classes, [`MAX_CLIP_FRAMES`] frames, and a
    /// pooling head in place of a flattening one, whose size depends on the
    /// length), and training repeats the checks with the real ones.
    fn validate_model(&self, rows: usize) -> Result<(), String> {
        let classes = match &self.train.class_weights {
            ClassWeights::Explicit(w) => w.len().max(2),
            _ => 2,
        };
        let (frames, net) = if self.data.clip_frames > 0 {
            (self.data.clip_frames, self.model.clone())
        } else {
            let net = NetConfig {
                head: Head::GlobalAvg,
                ..self.model.clone()
            };
            (MAX_CLIP_FRAMES, net)
        };
        let (rows, frames) = crate::functionals::input_shape(self.features.pooling, rows, frames);
        net.validate(rows, frames, classes)
            .map_err(|e| e.to_string())?;
        self.train.validate(classes).map_err(|e| e.to_string())?;
        self.augment
            .validate(rows, frames)
            .map_err(|e| e.to_string())
    }
}

/// Removes `.` and `name/..` pairs lexically, so reports show
/// `runs/x` rather than `pipelines/../runs/x`.
fn clean(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out: Vec<Component<'_>> = Vec::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    if out.is_empty() {
        PathBuf::from(".")
    } else {
        out.iter().collect()
    }
}

/// The message for a group-aware strategy without groups, naming the key.
pub fn no_groups(strategy: Strategy) -> String {
    format!(
        "data.group: split.strategy = \"{}\" needs a group source (\"folder\", {{ regex = '...' }} or \"manifest\"), or segments (annotations, or a manifest with start and end columns), whose file is their group",
        strategy_name(strategy)
    )
}

/// The TOML spelling of a split strategy.
pub fn strategy_name(s: Strategy) -> &'static str {
    match s {
        Strategy::Stratified => "stratified",
        Strategy::Group => "group",
        Strategy::Predefined => "predefined",
        Strategy::Kfold => "kfold",
        Strategy::GroupKfold => "group-kfold",
        Strategy::LeaveOneGroupOut => "leave-one-group-out",
    }
}

/// Most frames one model input may have (about three hours at a hop of 10
/// ms): `clip_frames` sizes every input buffer, so a typo must not reach
/// the allocator.
pub const MAX_CLIP_FRAMES: usize = 1 << 20;

fn check_regex(key: &str, re: &str, needs_capture: bool) -> Result<(), String> {
    let compiled = regex::Regex::new(re)
        .map_err(|e| format!("{key}: regex {re:?} does not compile: {}", regex_reason(&e)))?;
    if needs_capture && compiled.captures_len() < 2 {
        return Err(format!(
            "{key}: regex {re:?} has no capture group; put the part that is the value in parentheses, e.g. '^(\\d)_'"
        ));
    }
    Ok(())
}

/// The regex crate draws the pattern with a caret under the fault, over
/// several lines; the last line ("error: unclosed group") is the reason.
fn regex_reason(e: &regex::Error) -> String {
    let text = e.to_string();
    let last = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    last.trim().trim_start_matches("error: ").to_string()
}

/// serde says "unknown field `lrr`, expected one of `lr`, `epochs`": add the
/// nearest one as a suggestion.
fn with_suggestion(msg: &str) -> String {
    let Some(rest) = msg.split("unknown field `").nth(1) else {
        return msg.to_string();
    };
    let Some((unknown, tail)) = rest.split_once('`') else {
        return msg.to_string();
    };
    let expected: Vec<&str> = tail.split('`').skip(1).step_by(2).collect();
    let best = expected
        .iter()
        .map(|k| (edit_distance(unknown, k), *k))
        .min()
        .filter(|(d, k)| *d <= (k.len().max(unknown.len()) / 2).max(2));
    match best {
        Some((_, k)) => format!("{}\n  did you mean `{k}`?", msg.trim_end()),
        None => msg.to_string(),
    }
}

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_suggests_the_nearest() {
        let err = Config::parse("[train]\nlrr = 0.1\n").unwrap_err();
        assert!(err.contains("lrr"), "{err}");
        assert!(err.contains("did you mean `lr`"), "{err}");
    }

    #[test]
    fn label_sources_parse() {
        let c =
            Config::parse("[data]\nlabel = { regex = '^(\\d)_' }\ngroup = \"folder\"\n").unwrap();
        assert_eq!(c.data.label, FieldSource::Regex("^(\\d)_".into()));
        assert_eq!(c.data.group, FieldSource::Folder);
    }

    #[test]
    fn paths_are_cleaned_lexically() {
        assert_eq!(clean(Path::new("pipelines/../runs")), PathBuf::from("runs"));
        assert_eq!(clean(Path::new("../../a/./b")), PathBuf::from("../../a/b"));
        assert_eq!(clean(Path::new("a/..")), PathBuf::from("."));
    }

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "ab"), 2);
    }
}
