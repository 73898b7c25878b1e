//! `pipeline init DIR`: look at a folder of audio and write a starter config.
//!
//! A known layout (`layouts::detect`: ESC-50, UrbanSound8K, Speech
//! Commands, `audiofolder` or `train/` and `test/` folders) is read as the
//! run will read it; otherwise the labels and groups are guessed from the
//! folders and file names. Raven selection tables or Audacity label
//! tracks beside the audio make a config of annotated segments; clips much
//! longer than a word get random crops (`data.long_clips`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use cochlea_features::decode;
use rayon::prelude::*;
use regex::Regex;

use crate::config::{AUDIO_EXTENSIONS, AnnotationFormat, DataConfig, Layout, default_extensions};
use crate::dataset::{Part, discover, find_audio, sort_class_names};
use crate::error::Error;
use crate::layouts;

/// What `init` found in the folder.
#[derive(Clone, Debug)]
pub struct Survey {
    /// The known layout of the folder, if it has one.
    pub layout: Option<Layout>,
    /// Whether the layout marks test files (so the split can be `predefined`).
    pub stated_test: bool,
    /// Audio files found.
    pub files: usize,
    /// Label source as TOML text.
    pub label: String,
    /// Group source as TOML text, if a grouping was recognised.
    pub group: Option<String>,
    /// Number of groups recognised (0 without a grouping).
    pub n_groups: usize,
    /// Class names and counts.
    pub classes: BTreeMap<String, usize>,
    /// Source sample rates and counts (of the files decoded).
    pub sample_rates: BTreeMap<u32, usize>,
    /// Durations (s) of the files decoded (of the annotated segments when
    /// there are annotations), sorted.
    pub durations: Vec<f64>,
    /// The annotation files found beside the audio, if any.
    pub annotations: Option<AnnotationFormat>,
    /// Speech Commands' `_background_noise_` recordings, when there are
    /// any: the config mixes them into training clips.
    pub background_noise: Option<(PathBuf, usize)>,
}

/// Clips whose median duration is above this (seconds), several times a
/// spoken word, are long: training takes random crops of
/// [`LONG_CLIP_WINDOW_S`] instead of one crop of the whole clip.
const LONG_CLIP_S: f64 = 3.0;

/// The model input of long clips (seconds): about a word, or a short
/// acoustic event.
const LONG_CLIP_WINDOW_S: f64 = 1.0;

/// The annotation format of most of `files` (Raven tables, else Audacity
/// label tracks), if at least half of them have one.
fn annotation_format(files: &[PathBuf]) -> Option<AnnotationFormat> {
    [AnnotationFormat::Raven, AnnotationFormat::Audacity]
        .into_iter()
        .find(|&f| {
            let n = files
                .iter()
                .filter(|p| !crate::annotations::files_for(p, f).is_empty())
                .count();
            n > 0 && 2 * n >= files.len()
        })
}

/// A folder whose audio has annotation files: the segments are the
/// examples, the file their group.
fn survey_annotated(dir: &Path, format: AnnotationFormat) -> Result<Survey, Error> {
    let cfg = DataConfig {
        root: dir.canonicalize().map_err(|e| Error::io(dir, e))?,
        annotations: format,
        ..DataConfig::default()
    };
    let ds = discover(&cfg)?;
    let mut classes = BTreeMap::new();
    for item in &ds.items {
        *classes.entry(ds.classes[item.label].clone()).or_insert(0) += 1;
    }
    let mut files: Vec<PathBuf> = ds.items.iter().map(|i| i.path.clone()).collect();
    files.dedup();
    let (sample_rates, _) = rates_and_durations(&files);
    let mut durations: Vec<f64> = ds
        .items
        .iter()
        .filter_map(|i| i.span.map(|(a, b)| b - a))
        .collect();
    durations.sort_by(f64::total_cmp);
    let n_groups = ds
        .items
        .iter()
        .map(|i| i.path.as_path())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    Ok(Survey {
        layout: None,
        stated_test: false,
        files: n_groups,
        label: String::new(),
        group: None,
        n_groups,
        classes,
        sample_rates,
        durations,
        annotations: Some(format),
        background_noise: None,
    })
}

/// At most this many groups count as few: a validation group would take
/// a large share of the training data.
const FEW_GROUPS: usize = 12;

fn classes_by(
    files: &[PathBuf],
    f: impl Fn(&Path) -> Option<String>,
) -> Option<BTreeMap<String, usize>> {
    let mut m = BTreeMap::new();
    for p in files {
        *m.entry(f(p)?).or_insert(0) += 1;
    }
    Some(m)
}

fn plausible(m: &BTreeMap<String, usize>, n: usize) -> bool {
    (2..=n / 2).contains(&m.len()) && m.values().all(|&c| c >= 2)
}

/// Surveys `dir`: layout or label scheme, groups, rates and durations
/// (decodes up to 400 files).
pub fn survey(dir: &Path) -> Result<Survey, Error> {
    let exts: Vec<String> = default_extensions();
    if let Some(layout) = layouts::detect(dir) {
        return survey_layout(dir, layout, exts);
    }
    let (files, _) = find_audio(dir, &exts)?;
    if files.is_empty() {
        return Err(Error::Data(format!(
            "no audio files ({}) under {}",
            AUDIO_EXTENSIONS.join(", "),
            dir.display()
        )));
    }
    if let Some(format) = annotation_format(&files) {
        return survey_annotated(dir, format);
    }
    let name = |p: &Path| p.file_name().map(|s| s.to_string_lossy().into_owned());
    let folder = classes_by(&files, |p| {
        p.parent()
            .and_then(|d| d.file_name())
            .map(|s| s.to_string_lossy().into_owned())
    });
    let prefix = Regex::new(r"^([^_\-. ]+)[_\-]").ok();
    let second = Regex::new(r"^[^_\-. ]+[_\-]([^_\-. ]+)[_\-]").ok();
    let by_prefix = prefix.as_ref().and_then(|re| {
        classes_by(&files, |p| {
            Some(re.captures(&name(p)?)?.get(1)?.as_str().to_string())
        })
    });
    let n = files.len();
    let (label, classes) = match (folder, by_prefix) {
        (Some(f), _) if plausible(&f, n) => ("\"folder\"".to_string(), f),
        (_, Some(p)) if plausible(&p, n) => ("{ regex = '^([^_\\-. ]+)[_\\-]' }".to_string(), p),
        _ => {
            return Err(Error::Data(format!(
                "cannot tell the labels of {}: put each class in its own folder, or start file names with the label and an underscore (e.g. yes_0001.wav)",
                dir.display()
            )));
        }
    };
    let groups = second
        .as_ref()
        .and_then(|re| {
            classes_by(&files, |p| {
                Some(re.captures(&name(p)?)?.get(1)?.as_str().to_string())
            })
        })
        .filter(|g| g.len() >= 2 && g.len() < n / 2);
    let n_groups = groups.as_ref().map_or(0, BTreeMap::len);
    let group = groups.map(|_| "{ regex = '^[^_\\-. ]+[_\\-]([^_\\-. ]+)[_\\-]' }".to_string());
    let (sample_rates, durations) = rates_and_durations(&files);
    Ok(Survey {
        layout: None,
        stated_test: false,
        files: n,
        label,
        group,
        n_groups,
        classes,
        sample_rates,
        durations,
        annotations: None,
        background_noise: None,
    })
}

/// A folder of a known layout, read as `pipeline run` will read it.
fn survey_layout(dir: &Path, layout: Layout, extensions: Vec<String>) -> Result<Survey, Error> {
    let cfg = DataConfig {
        root: dir.canonicalize().map_err(|e| Error::io(dir, e))?,
        layout,
        extensions,
        ..DataConfig::default()
    };
    let ds = discover(&cfg)?;
    let mut classes = BTreeMap::new();
    for item in &ds.items {
        *classes.entry(ds.classes[item.label].clone()).or_insert(0) += 1;
    }
    let files: Vec<PathBuf> = ds.items.iter().map(|i| i.path.clone()).collect();
    let (sample_rates, durations) = rates_and_durations(&files);
    let noise = match layout {
        Layout::SpeechCommands => layouts::background_noise(&cfg.root, &cfg.extensions),
        _ => Vec::new(),
    };
    Ok(Survey {
        layout: Some(layout),
        stated_test: ds.items.iter().any(|i| i.split == Some(Part::Test)),
        files: files.len(),
        label: "\"folder\"".into(),
        group: None,
        n_groups: ds
            .items
            .iter()
            .map(|i| i.group.as_str())
            .filter(|g| !g.is_empty())
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        classes,
        sample_rates,
        durations,
        annotations: None,
        background_noise: (!noise.is_empty())
            .then(|| (dir.join(layouts::BACKGROUND_NOISE), noise.len())),
    })
}

/// Source sample rates and sorted durations of up to 400 of `files`.
fn rates_and_durations(files: &[PathBuf]) -> (BTreeMap<u32, usize>, Vec<f64>) {
    let step = (files.len() / 400).max(1);
    let sample: Vec<&PathBuf> = files.iter().step_by(step).collect();
    let infos: Vec<(u32, f64)> = sample
        .par_iter()
        .filter_map(|p| {
            // Only the source rate and duration are wanted, and both describe
            // the file before resampling. A file at another rate is still
            // resampled, to 8 kHz (the lowest rate a starter config uses, so
            // the cheapest): that costs time, not correctness.
            let c = decode::decode_file(p, 8000).ok()?;
            Some((c.info.source_sample_rate, c.info.duration_s))
        })
        .collect();
    let mut sample_rates = BTreeMap::new();
    let mut durations = Vec::new();
    for (sr, d) in infos {
        *sample_rates.entry(sr).or_insert(0) += 1;
        durations.push(d);
    }
    durations.sort_by(f64::total_cmp);
    (sample_rates, durations)
}

/// The starter config text for a survey of `dir`.
pub fn starter_config(dir: &Path, s: &Survey, config_dir: &Path) -> String {
    let common_sr = s
        .sample_rates
        .iter()
        .max_by_key(|(_, c)| **c)
        .map(|(r, _)| *r)
        .unwrap_or(16000);
    // Speech and most event sounds carry their information below 8 kHz.
    let sr = if common_sr >= 16000 {
        16000
    } else {
        common_sr.max(8000)
    };
    let (n_fft, hop, n_mels) = if sr <= 8000 {
        (256, 80, 40)
    } else {
        (512, 160, 64)
    };
    let p95 = s
        .durations
        .get(((s.durations.len().max(1) - 1) as f64 * 0.95).round() as usize)
        .copied()
        .unwrap_or(1.0);
    let median = s
        .durations
        .get(s.durations.len() / 2)
        .copied()
        .unwrap_or(0.0);
    let long = median > LONG_CLIP_S;
    let input_s = if long { LONG_CLIP_WINDOW_S } else { p95 };
    let frames = ((input_s * f64::from(sr) / f64::from(hop)).ceil() as usize + 1).max(8);
    let root = pathdiff(dir, config_dir);
    let mut classes: Vec<String> = s.classes.keys().cloned().collect();
    sort_class_names(&mut classes);
    let strategy = match s.layout {
        // Segments run on their files as groups (split::make_folds).
        None if s.annotations.is_some() => "group",
        Some(_) if s.stated_test => "predefined",
        Some(l) if l.has_groups() => "leave-one-group-out",
        _ if s.group.is_some() => "group",
        _ => "stratified",
    };
    let mut t = String::new();
    let _ = writeln!(
        t,
        "# Starter config written by `pipeline init` for {}.",
        dir.display()
    );
    let _ = writeln!(
        t,
        "# Found {} files, {} classes: {}.",
        s.files,
        classes.len(),
        classes.join(", ")
    );
    let _ = writeln!(
        t,
        "# Source sample rates (of {} files read): {:?}; durations {:.2} s to {:.2} s (95th percentile {:.2} s).",
        s.durations.len(),
        s.sample_rates,
        s.durations.first().unwrap_or(&0.0),
        s.durations.last().unwrap_or(&0.0),
        p95
    );
    let _ = writeln!(t, "# Every key is documented in docs/config.md.\n");
    let _ = writeln!(
        t,
        "name = {:?}\n",
        dir.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "audio".into())
    );
    let _ = writeln!(t, "[data]\nroot = {:?}", root.to_string_lossy());
    match s.layout {
        Some(l) => {
            let _ = writeln!(
                t,
                "# Labels, groups and split as the data set states them (docs/config.md, Layouts).\nlayout = \"{}\"",
                l.name()
            );
        }
        None => match s.annotations {
            Some(f) => {
                let _ = writeln!(
                    t,
                    "# Each annotated segment is an example, its file its group (docs/config.md, Strong labels).\nannotations = \"{}\"",
                    f.name()
                );
            }
            None => {
                let _ = writeln!(t, "label = {}", s.label);
            }
        },
    }
    if let Some(g) = &s.group {
        let _ = writeln!(
            t,
            "# Groups (e.g. speakers) recognised in the file names: a group never sits on both sides of the split.\ngroup = {g}"
        );
    }
    if long {
        let _ = writeln!(
            t,
            "sample_rate = {sr}\n# Long clips (median {median:.1} s): {LONG_CLIP_WINDOW_S} s inputs, a random crop of each clip every epoch,\n# evaluated as the mean over all windows of a clip.\nclip_frames = {frames}\nlong_clips = \"random_crop\"\n"
        );
    } else {
        let _ = writeln!(
            t,
            "sample_rate = {sr}\n# 95th percentile of durations at hop {hop}.\nclip_frames = {frames}\n"
        );
    }
    if strategy == "leave-one-group-out" {
        let _ = writeln!(
            t,
            "# The data set's official folds: each is the test set once."
        );
    }
    // With few groups a validation set costs a whole group of training
    // data, which on FSDD (six speakers) cost more than early stopping
    // gained: train every training file for fixed epochs under a cosine
    // schedule instead (docs/benchmarks.md, "FSDD accuracy").
    let grouped =
        s.group.is_some() || s.annotations.is_some() || s.layout.is_some_and(|l| l.has_groups());
    let few_groups = grouped && s.n_groups <= FEW_GROUPS;
    let val_fraction = if few_groups { 0.0 } else { 0.1 };
    if few_groups {
        let _ = writeln!(
            t,
            "# Only {} groups: no validation group (it would take a training group away); fixed epochs instead.",
            s.n_groups
        );
    }
    let _ = writeln!(
        t,
        "[split]\nstrategy = \"{strategy}\"\ntest_fraction = 0.2\nval_fraction = {val_fraction:?}\nseed = 0\n"
    );
    let _ = writeln!(
        t,
        "[features]\nkinds = [\"mfcc\"]\nn_fft = {n_fft}\nhop_length = {hop}\nn_mels = {n_mels}\nn_mfcc = 13\ndeltas = 2\n"
    );
    let _ = writeln!(t, "[normalize]\nmethod = \"standard\"\n");
    let _ = writeln!(
        t,
        "[model]\nblocks = [\n  {{ filters = 64, kernel = 5, pool = 2 }},\n  {{ filters = 128, kernel = 3, pool = 2 }},\n  {{ filters = 128, kernel = 3, pool = 2 }},\n]\ndropout = 0.3\n"
    );
    let stopping = if few_groups {
        "epochs = 30\nscheduler = \"cosine\""
    } else {
        "epochs = 40\nscheduler = \"cosine\"\nearly_stopping = 10"
    };
    // Batches small enough that an epoch takes at least 16 steps of the
    // training part (test 20 %, validation 10 % of the rest), at most 64.
    let examples: usize = s.classes.values().sum();
    let n_train = (examples as f64 * 0.8 * (1.0 - val_fraction)) as usize;
    let batch = batch_size(n_train);
    let _ = writeln!(
        t,
        "[train]\noptimizer = \"adam\"\nlr = 0.001\nweight_decay = 0.0001\n# About {n_train} training examples: batches of {batch} make {} steps per epoch.\nbatch_size = {batch}\n{stopping}\nseed = 0",
        n_train.div_ceil(batch)
    );
    if let Some((noise, n)) = &s.background_noise {
        let _ = writeln!(
            t,
            "\n[augment]\n# The data set's {n} background noise recordings, mixed into one noisy copy of each\n# training clip at 3 to 30 dB SNR (docs/config.md, Background noise); never into\n# validation or test clips.\nbackground_noise_dir = {:?}",
            pathdiff(noise, config_dir).to_string_lossy()
        );
    }
    t
}

/// The starter batch size for `n_train` training examples: 64, halved (to
/// 16 at the least) until an epoch takes at least 16 steps, so that a small
/// data set still gets a few hundred updates over the epochs.
pub fn batch_size(n_train: usize) -> usize {
    let mut b = 64;
    while b > 16 && n_train < 16 * b {
        b /= 2;
    }
    b
}

/// `path` relative to `base` when both are relative or share a prefix.
fn pathdiff(path: &Path, base: &Path) -> PathBuf {
    let (Ok(p), Ok(b)) = (path.canonicalize(), base.canonicalize()) else {
        return path.to_path_buf();
    };
    let pc: Vec<_> = p.components().collect();
    let bc: Vec<_> = b.components().collect();
    let common = pc.iter().zip(&bc).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..bc.len() {
        out.push("..");
    }
    for c in &pc[common..] {
        out.push(c);
    }
    if out.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        out
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    fn survey(n_groups: usize) -> Survey {
        Survey {
            layout: None,
            stated_test: false,
            files: 600,
            label: "\"folder\"".into(),
            group: Some("{ regex = '^[^_]+_([^_]+)_' }".into()),
            n_groups,
            classes: BTreeMap::from([("a".into(), 300), ("b".into(), 300)]),
            sample_rates: BTreeMap::from([(8000, 600)]),
            durations: vec![0.5, 1.0],
            annotations: None,
            background_noise: None,
        }
    }

    fn parse(text: &str) -> crate::Config {
        crate::Config::parse(text).unwrap_or_else(|e| panic!("{e}\n{text}"))
    }

    #[test]
    fn batches_shrink_until_an_epoch_has_16_steps() {
        // FSDD-sized sets keep 64; hundreds of clips get 32 or 16.
        assert_eq!(batch_size(2160), 64);
        assert_eq!(batch_size(1024), 64);
        assert_eq!(batch_size(1023), 32);
        assert_eq!(batch_size(518), 32);
        assert_eq!(batch_size(432), 16);
        assert_eq!(batch_size(40), 16);
    }

    #[test]
    fn few_groups_train_every_group_for_fixed_epochs() {
        let c = parse(&starter_config(Path::new("."), &survey(6), Path::new(".")));
        assert_eq!(c.split.val_fraction, 0.0);
        assert_eq!(c.train.early_stopping, None);
        assert_eq!(c.train.scheduler, cochlea_model::Scheduler::Cosine);
    }

    #[test]
    fn long_clips_get_random_crops_of_a_second() {
        let mut s = survey(40);
        s.durations = vec![4.0, 5.0, 5.0];
        let c = parse(&starter_config(Path::new("."), &s, Path::new(".")));
        assert_eq!(c.data.long_clips, crate::config::LongClips::RandomCrop);
        assert_eq!(c.data.clip_frames, 101);
        s.durations = vec![0.5, 1.0, 5.0];
        let c = parse(&starter_config(Path::new("."), &s, Path::new(".")));
        assert_eq!(c.data.long_clips, crate::config::LongClips::Crop);
    }

    #[test]
    fn many_groups_keep_a_validation_group() {
        let c = parse(&starter_config(Path::new("."), &survey(40), Path::new(".")));
        assert!(c.split.val_fraction > 0.0);
        assert_eq!(c.train.early_stopping, Some(10));
    }
}
