//! Data sets read as their authors lay them out (`data.layout`): each
//! layout lists its files with the labels, groups and predefined split the
//! folder states, as [`Row`]s; `dataset::discover` does the rest (exclude
//! globs, regex overrides, `include_classes`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::config::DataConfig;
use crate::error::Error;
use crate::source::{Layout, Part, Row, find_audio, read_csv, relative};

/// The folder of background recordings in Speech Commands, never a class.
pub const BACKGROUND_NOISE: &str = "_background_noise_";

/// Where ESC-50 keeps its table, relative to the root.
pub const ESC50_CSV: &str = "meta/esc50.csv";
/// Where UrbanSound8K keeps its table, relative to the root.
pub const URBANSOUND8K_CSV: &str = "metadata/UrbanSound8K.csv";
/// Speech Commands' lists of validation and test files.
pub const SPEECH_COMMANDS_LISTS: [&str; 2] = ["validation_list.txt", "testing_list.txt"];
/// Hugging Face `audiofolder` metadata files.
pub const AUDIOFOLDER_METADATA: [&str; 2] = ["metadata.csv", "metadata.jsonl"];

/// The layout `root` looks like, if any: the first of ESC-50's table,
/// UrbanSound8K's table, Speech Commands' lists, an `audiofolder` metadata
/// file or split folder (`train/` beside `test/` or `validation/`).
pub fn detect(root: &Path) -> Option<Layout> {
    if root.join(ESC50_CSV).is_file() {
        return Some(Layout::Esc50);
    }
    if root.join(URBANSOUND8K_CSV).is_file() {
        return Some(Layout::Urbansound8k);
    }
    if SPEECH_COMMANDS_LISTS.iter().any(|f| root.join(f).is_file()) {
        return Some(Layout::SpeechCommands);
    }
    let tops = split_folders(root);
    let has_metadata = std::iter::once(root.to_path_buf())
        .chain(tops.keys().map(|t| root.join(t)))
        .any(|d| AUDIOFOLDER_METADATA.iter().any(|m| d.join(m).is_file()));
    let split = tops.values().any(|p| *p == Part::Train) && tops.len() >= 2;
    (has_metadata || split).then_some(Layout::Audiofolder)
}

/// The top folders of `root` whose names are split values.
fn split_folders(root: &Path) -> BTreeMap<String, Part> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(root).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().is_dir()
            && let Some(p) = Part::parse(&name)
        {
            out.insert(name, p);
        }
    }
    out
}

/// The rows of a layout; files a table lists but the disk lacks go to `skipped`.
pub fn rows(cfg: &DataConfig, skipped: &mut Vec<(PathBuf, String)>) -> Result<Vec<Row>, Error> {
    let rows = match cfg.layout {
        Layout::Files => unreachable!("the files layout is read by dataset::discover"),
        Layout::Audiofolder => audiofolder(cfg, skipped)?,
        Layout::Esc50 => esc50(cfg)?,
        Layout::Urbansound8k => urbansound8k(cfg)?,
        Layout::SpeechCommands => speech_commands(cfg, skipped)?,
    };
    let mut kept = Vec::with_capacity(rows.len());
    for r in rows {
        if r.path.is_file() {
            kept.push(r);
        } else {
            skipped.push((r.path, "listed by the data set's table, but missing".into()));
        }
    }
    Ok(kept)
}

/// `label_column` when the config names one, else the layout's own.
fn column<'a>(cfg: &'a DataConfig, own: &'a str) -> &'a str {
    if cfg.label_column == "label" {
        own
    } else {
        &cfg.label_column
    }
}

fn table(cfg: &DataConfig, rel: &str) -> Result<PathBuf, Error> {
    let path = cfg.root.join(rel);
    if path.is_file() {
        Ok(path)
    } else {
        Err(Error::Data(format!(
            "data.layout = \"{}\": {} does not exist; is data.root the data set's top folder?",
            cfg.layout.name(),
            path.display()
        )))
    }
}

fn esc50(cfg: &DataConfig) -> Result<Vec<Row>, Error> {
    let csv = table(cfg, ESC50_CSV)?;
    let cols = ["filename", column(cfg, "category"), "fold", "-"];
    read_csv(
        &csv,
        cols,
        [true, true, true, false],
        &cfg.root.join("audio"),
    )
}

fn urbansound8k(cfg: &DataConfig) -> Result<Vec<Row>, Error> {
    let csv = table(cfg, URBANSOUND8K_CSV)?;
    let cols = ["slice_file_name", column(cfg, "class"), "fold", "-"];
    let mut rows = read_csv(&csv, cols, [true, true, true, false], Path::new(""))?;
    for r in &mut rows {
        let fold = format!("fold{}", r.group.as_deref().unwrap_or(""));
        r.path = cfg.root.join("audio").join(fold).join(&r.path);
    }
    Ok(rows)
}

fn speech_commands(
    cfg: &DataConfig,
    skipped: &mut Vec<(PathBuf, String)>,
) -> Result<Vec<Row>, Error> {
    let mut stated: BTreeMap<String, Part> = BTreeMap::new();
    let mut any_list = false;
    for (file, part) in SPEECH_COMMANDS_LISTS.iter().zip([Part::Val, Part::Test]) {
        let path = cfg.root.join(file);
        if !path.is_file() {
            continue;
        }
        any_list = true;
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            stated.insert(line.to_string(), part);
        }
    }
    if !any_list {
        return Err(Error::Data(format!(
            "data.layout = \"speech-commands\": neither {} nor {} is in {}",
            SPEECH_COMMANDS_LISTS[0],
            SPEECH_COMMANDS_LISTS[1],
            cfg.root.display()
        )));
    }
    let (files, problems) = find_audio(&cfg.root, &cfg.extensions)?;
    skipped.extend(problems);
    let mut rows = Vec::new();
    for path in files {
        let rel = relative(&path, &cfg.root);
        let mut parts = rel.split('/');
        let (Some(label), Some(name), None) = (parts.next(), parts.next(), parts.next()) else {
            skipped.push((
                path,
                "not in a label folder at the top of the data set".into(),
            ));
            continue;
        };
        if label == BACKGROUND_NOISE {
            continue;
        }
        let speaker = name.split_once("_nohash_").map(|(s, _)| s.to_string());
        rows.push(Row {
            label: Some(label.to_string()),
            group: speaker,
            split: Some(stated.get(&rel).copied().unwrap_or(Part::Train)),
            path,
            span: None,
        });
    }
    Ok(rows)
}

/// The recordings of Speech Commands' `_background_noise_` folder.
pub fn background_noise(root: &Path, extensions: &[String]) -> Vec<PathBuf> {
    let dir = root.join(BACKGROUND_NOISE);
    if !dir.is_dir() {
        return Vec::new();
    }
    find_audio(&dir, extensions)
        .map(|(f, _)| f)
        .unwrap_or_default()
}

/// Labels (and groups) an `audiofolder` metadata file gives, by file path.
type Meta = BTreeMap<PathBuf, (Option<String>, Option<String>)>;

fn read_metadata(dir: &Path, cfg: &DataConfig, meta: &mut Meta) -> Result<(), Error> {
    let csv = dir.join(AUDIOFOLDER_METADATA[0]);
    if csv.is_file() {
        let cols = [
            "file_name",
            cfg.label_column.as_str(),
            &cfg.group_column,
            "-",
        ];
        for r in read_csv(&csv, cols, [true, true, false, false], dir)? {
            meta.insert(r.path, (r.label, r.group));
        }
    }
    let jsonl = dir.join(AUDIOFOLDER_METADATA[1]);
    if jsonl.is_file() {
        let text = std::fs::read_to_string(&jsonl).map_err(|e| Error::io(&jsonl, e))?;
        let bad = |n: usize, m: String| {
            Error::Data(format!("metadata {} line {n}: {m}", jsonl.display()))
        };
        for (i, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let v: serde_json::Value =
                serde_json::from_str(line).map_err(|e| bad(i + 1, e.to_string()))?;
            let text_of = |key: &str| match v.get(key) {
                Some(serde_json::Value::String(s)) => Some(s.clone()),
                Some(serde_json::Value::Null) | None => None,
                Some(other) => Some(other.to_string()),
            };
            let name = text_of("file_name").ok_or_else(|| bad(i + 1, "no `file_name`".into()))?;
            let label = text_of(&cfg.label_column);
            if label.is_none() {
                return Err(bad(
                    i + 1,
                    format!(
                        "no `{}` (name the label with data.label_column)",
                        cfg.label_column
                    ),
                ));
            }
            meta.insert(dir.join(name), (label, text_of(&cfg.group_column)));
        }
    }
    Ok(())
}

fn audiofolder(cfg: &DataConfig, skipped: &mut Vec<(PathBuf, String)>) -> Result<Vec<Row>, Error> {
    let tops = split_folders(&cfg.root);
    let mut meta = Meta::new();
    read_metadata(&cfg.root, cfg, &mut meta)?;
    for t in tops.keys() {
        read_metadata(&cfg.root.join(t), cfg, &mut meta)?;
    }
    let (files, problems) = find_audio(&cfg.root, &cfg.extensions)?;
    skipped.extend(problems);
    let mut rows = Vec::new();
    let mut unlisted = BTreeSet::new();
    for path in files {
        let rel = relative(&path, &cfg.root);
        let parts: Vec<&str> = rel.split('/').collect();
        let split = (parts.len() >= 2)
            .then(|| tops.get(parts[0]).copied())
            .flatten();
        let (label, group) = if meta.is_empty() {
            // A folder per label; the split folder itself is no label.
            let parent = parts.len().checked_sub(2).map(|i| parts[i]);
            let label =
                parent.filter(|p| !(split.is_some() && parts.len() == 2 && tops.contains_key(*p)));
            (label.map(str::to_string), None)
        } else {
            match meta.get(&path) {
                Some((l, g)) => (l.clone(), g.clone()),
                None => {
                    unlisted.insert(path.clone());
                    (None, None)
                }
            }
        };
        if label.is_none() {
            let why = if unlisted.contains(&path) {
                "not listed in the metadata file"
            } else {
                "no label folder above the file"
            };
            skipped.push((path, why.into()));
            continue;
        }
        rows.push(Row {
            path,
            label,
            group,
            split,
            span: None,
        });
    }
    Ok(rows)
}
