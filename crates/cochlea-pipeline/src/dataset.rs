//! Dataset discovery: which files, which label, which group.
//!
//! Files come from a recursive scan of `data.root` (by extension) or from a
//! manifest CSV, or a known layout (`layouts`). Labels and groups come from
//! the parent folder, a regex on the file name (else on the path relative
//! to the root), the manifest or the layout. Nothing is decoded here.
//!
//! Strong labels make an item a segment of its file ([`Item::span`]): the
//! manifest's `start`/`end` cells, or Raven / Audacity annotation files
//! beside the audio (`data.annotations`, read by `annotations`). Unless
//! `data.group` says otherwise, the file is then the group of each of its
//! segments, so the segments of one recording never sit on both sides of a
//! split.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use regex::Regex;

use crate::config::{AnnotationFormat, DataConfig, FieldSource, Layout};
use crate::error::Error;
use crate::glob::Glob;
use crate::source::NOT_UTF8;
pub use crate::source::{Found, Part, Row, find_audio, read_csv, read_csv_spans, relative};

/// The class of the unannotated parts of annotated files
/// (`data.background`) and of the files of `data.background_dir`.
pub const BACKGROUND: &str = "background";

/// One audio file of the dataset.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    /// The audio file.
    pub path: PathBuf,
    /// Class index into [`Dataset::classes`].
    pub label: usize,
    /// Group (speaker, source recording); empty when groups are not used.
    pub group: String,
    /// The predefined split the manifest or layout states, if any.
    pub split: Option<Part>,
    /// The segment of the file this example is, `(start, end)` in seconds;
    /// `None` for the whole file.
    pub span: Option<(f64, f64)>,
}

/// Files with labels, before any decoding.
#[derive(Clone, Debug)]
pub struct Dataset {
    /// Class names, sorted (numerically when all are integers).
    pub classes: Vec<String>,
    /// The files, sorted by path.
    pub items: Vec<Item>,
    /// Files skipped while reading labels, with the reason.
    pub skipped: Vec<(PathBuf, String)>,
}

/// A file (or segment) read: path, label, group, stated split, segment.
type Raw = (PathBuf, String, String, Option<Part>, Option<(f64, f64)>);

/// The rows of `cfg`'s source: its layout, its manifest or a folder scan.
fn rows_of(cfg: &DataConfig, skipped: &mut Vec<(PathBuf, String)>) -> Result<Vec<Row>, Error> {
    if cfg.layout != Layout::Files {
        return crate::layouts::rows(cfg, skipped);
    }
    if let Some(manifest) = &cfg.manifest {
        let cols = [
            cfg.path_column.as_str(),
            &cfg.label_column,
            &cfg.group_column,
            &cfg.split_column,
        ];
        let required = [
            true,
            cfg.label == FieldSource::Manifest,
            cfg.group == FieldSource::Manifest,
            false,
        ];
        let base = manifest.parent().unwrap_or(Path::new("."));
        let span = [cfg.start_column.as_str(), &cfg.end_column];
        return read_csv_spans(manifest, cols, required, base, Some(span));
    }
    let (files, problems) = find_audio(&cfg.root, &cfg.extensions)?;
    skipped.extend(problems);
    if cfg.annotations == AnnotationFormat::None {
        return Ok(files
            .into_iter()
            .map(|path| Row {
                path,
                ..Row::default()
            })
            .collect());
    }
    // Every annotated segment is a row; a file without annotations is
    // skipped, and a bad annotation file stops the run (naming its line).
    let mut rows = Vec::new();
    for path in files {
        match crate::annotations::annotations_of(&path, cfg.annotations, &cfg.annotation_column)? {
            None => skipped.push((
                path,
                format!("no {} annotation file beside it", cfg.annotations.name()),
            )),
            Some(a) if a.is_empty() && !cfg.background => {
                skipped.push((path, "its annotation file lists no segment".into()));
            }
            Some(a) if a.is_empty() => rows.push(Row {
                // No event at all: the whole file is background.
                path,
                label: Some(BACKGROUND.to_string()),
                ..Row::default()
            }),
            Some(a) => rows.extend(a.into_iter().map(|a| Row {
                path: a.path,
                label: Some(a.label),
                span: Some((a.start, a.end)),
                ..Row::default()
            })),
        }
    }
    Ok(rows)
}

/// Reads the files and their labels and groups as configured.
pub fn discover(cfg: &DataConfig) -> Result<Dataset, Error> {
    let mut raw: Vec<Raw> = Vec::new();
    let mut skipped = Vec::new();
    let label_re = regex_of(&cfg.label)?;
    let group_re = regex_of(&cfg.group)?;
    let excludes = cfg
        .exclude
        .iter()
        .map(|g| Glob::new(g).map_err(|e| Error::Data(format!("data.exclude: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let rows = rows_of(cfg, &mut skipped)?;
    let from_source = cfg.layout != Layout::Files;
    let annotated = cfg.annotations != AnnotationFormat::None;
    // Audio files listed, labelled or not.
    let mut listed = 0;
    for row in rows {
        if row.path.to_str().is_none() {
            skipped.push((row.path, NOT_UTF8.to_string()));
            continue;
        }
        let rel = relative(&row.path, &cfg.root);
        if excludes.iter().any(|g| g.matches(&rel)) {
            continue;
        }
        listed += 1;
        let label = match &cfg.label {
            _ if annotated => row.label.clone(),
            FieldSource::Regex(_) => field(&cfg.label, label_re.as_ref(), &row.path, &rel),
            FieldSource::Manifest => row.label.clone(),
            _ if from_source && row.label.is_some() => row.label.clone(),
            src => field(src, None, &row.path, &rel),
        };
        let group = match &cfg.group {
            FieldSource::Regex(_) => field(&cfg.group, group_re.as_ref(), &row.path, &rel),
            FieldSource::Manifest => row.group.clone(),
            _ if from_source && row.group.is_some() => row.group.clone(),
            src => field(src, None, &row.path, &rel),
        };
        match label.filter(|l| !l.is_empty()) {
            Some(l) => raw.push((row.path, l, group.unwrap_or_default(), row.split, row.span)),
            None => {
                let why = match (&cfg.label, &cfg.manifest) {
                    (FieldSource::Manifest, Some(_)) => "no label in the manifest".to_string(),
                    (src, _) => label_miss(src),
                };
                skipped.push((row.path, why));
            }
        }
    }
    // The skipped list goes into JSON reports, which hold text only.
    for (p, _) in &mut skipped {
        if p.to_str().is_none() {
            *p = PathBuf::from(p.to_string_lossy().into_owned());
        }
    }
    if raw.is_empty()
        && listed > 0
        && let FieldSource::Regex(re) = &cfg.label
    {
        let example = skipped
            .iter()
            .find_map(|(p, _)| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        return Err(Error::Data(format!(
            "data.label: regex {re:?} matches none of the {listed} file names in {} \
             (such as {example:?}); its first capture group must be the label",
            cfg.root.display()
        )));
    }
    if !cfg.include_classes.is_empty() {
        let found: std::collections::BTreeSet<&str> = raw.iter().map(|r| r.1.as_str()).collect();
        if let Some(c) = cfg
            .include_classes
            .iter()
            .find(|c| !found.contains(c.as_str()))
        {
            let have: Vec<&str> = found.into_iter().collect();
            return Err(Error::Data(format!(
                "data.include_classes: no file has the class {c:?}; the classes are {have:?}"
            )));
        }
        raw.retain(|r| cfg.include_classes.contains(&r.1));
    }
    if let Some(dir) = &cfg.background_dir {
        let (files, problems) = find_audio(dir, &cfg.extensions)?;
        skipped.extend(problems);
        if files.is_empty() {
            return Err(Error::Data(format!(
                "data.background_dir: no audio files in {} (extensions {:?})",
                dir.display(),
                cfg.extensions
            )));
        }
        raw.extend(
            files
                .into_iter()
                .map(|p| (p, BACKGROUND.to_string(), String::new(), None, None)),
        );
    }
    // The file is the group of its segments unless a group source is set.
    if raw.iter().any(|r| r.4.is_some())
        && cfg.group == FieldSource::None
        && !cfg.layout.has_groups()
    {
        for r in &mut raw {
            r.2 = relative(&r.0, &cfg.root);
        }
    }
    if raw.is_empty() {
        let place = match &cfg.manifest {
            Some(m) => format!("manifest {}", m.display()),
            None => format!("{} (extensions {:?})", cfg.root.display(), cfg.extensions),
        };
        return Err(Error::Data(format!(
            "no labelled audio files found in {place}"
        )));
    }
    let mut names: Vec<String> = raw.iter().map(|r| r.1.clone()).collect();
    if cfg.background {
        // Its segments are cut once the files' lengths are known.
        names.push(BACKGROUND.to_string());
    }
    names.sort();
    names.dedup();
    sort_class_names(&mut names);
    let index: BTreeMap<&str, usize> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    let mut items: Vec<Item> = raw
        .iter()
        .map(|(p, l, g, t, s)| Item {
            path: p.clone(),
            label: index[l.as_str()],
            group: g.clone(),
            split: *t,
            span: *s,
        })
        .collect();
    items.sort_by(|a, b| {
        a.path.cmp(&b.path).then(
            a.span
                .partial_cmp(&b.span)
                .unwrap_or(std::cmp::Ordering::Equal),
        )
    });
    Ok(Dataset {
        classes: names,
        items,
        skipped,
    })
}

/// Integers sort as numbers ("2" before "10"), anything else as text.
pub fn sort_class_names(names: &mut [String]) {
    if names.iter().all(|n| n.parse::<i64>().is_ok()) {
        names.sort_by_key(|n| n.parse::<i64>().unwrap_or(0));
    } else {
        names.sort();
    }
}

fn regex_of(src: &FieldSource) -> Result<Option<Regex>, Error> {
    match src {
        FieldSource::Regex(re) => Regex::new(re)
            .map(Some)
            .map_err(|e| Error::Data(format!("regex {re:?}: {e}"))),
        _ => Ok(None),
    }
}

fn field(src: &FieldSource, re: Option<&Regex>, path: &Path, rel: &str) -> Option<String> {
    match src {
        FieldSource::None | FieldSource::Manifest => None,
        FieldSource::Folder => path
            .parent()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned()),
        FieldSource::Regex(_) => {
            let re = re?;
            let name = path.file_name()?.to_string_lossy();
            let caps = re.captures(&name).or_else(|| re.captures(rel))?;
            caps.get(1).map(|m| m.as_str().to_string())
        }
    }
}

fn label_miss(src: &FieldSource) -> String {
    match src {
        FieldSource::Regex(re) => {
            format!("neither the file name nor its relative path matches the label regex {re:?}")
        }
        _ => "no label".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_classes_sort_as_numbers() {
        let mut v: Vec<String> = ["10", "2", "1"].map(String::from).to_vec();
        sort_class_names(&mut v);
        assert_eq!(v, ["1", "2", "10"]);
    }

    #[test]
    fn regex_takes_the_first_capture_of_the_file_name() {
        let re = Regex::new(r"^(\d)_").unwrap();
        let src = FieldSource::Regex(r"^(\d)_".into());
        assert_eq!(
            field(&src, Some(&re), Path::new("/a/7_x_1.wav"), "a/7_x_1.wav").as_deref(),
            Some("7")
        );
        assert_eq!(
            field(&src, Some(&re), Path::new("/a/x_1.wav"), "a/x_1.wav"),
            None
        );
    }

    #[test]
    fn a_regex_the_file_name_misses_is_tried_on_the_relative_path() {
        let re = Regex::new(r"^([^/]+)/").unwrap();
        let src = FieldSource::Regex(r"^([^/]+)/".into());
        let p = Path::new("/d/train/cat/1.wav");
        assert_eq!(
            field(&src, Some(&re), p, &relative(p, Path::new("/d"))).as_deref(),
            Some("train")
        );
        // A regex that matches the file name keeps its old meaning.
        let re = Regex::new(r"^(\d)_").unwrap();
        let src = FieldSource::Regex(r"^(\d)_".into());
        let p = Path::new("/d/1_a/7_x_1.wav");
        assert_eq!(
            field(&src, Some(&re), p, "1_a/7_x_1.wav").as_deref(),
            Some("7")
        );
    }

    #[test]
    fn split_values_are_read_in_every_spelling() {
        for (v, p) in [
            ("train", Part::Train),
            ("Validation", Part::Val),
            ("val", Part::Val),
            ("dev", Part::Val),
            ("TEST", Part::Test),
        ] {
            assert_eq!(Part::parse(v), Some(p), "{v}");
        }
        assert_eq!(Part::parse("holdout"), None);
    }
}
