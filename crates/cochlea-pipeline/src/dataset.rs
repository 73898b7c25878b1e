//! Dataset discovery: which files, which label, which group.
//!
//! Files come from a recursive scan of `data.root` (by extension) or from a
//! manifest CSV, or a known layout (`layouts`). Labels and groups come from
//! the parent folder, a regex on the file name (else on the path relative
//! to the root), the manifest or the layout. Nothing is decoded here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use regex::Regex;

use crate::config::{DataConfig, FieldSource, Layout};
use crate::error::Error;
use crate::glob::Glob;

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

/// Files found, and paths that could not be read with the reason.
pub type Found = (Vec<PathBuf>, Vec<(PathBuf, String)>);

/// Why a file whose path is not UTF-8 stays out of a dataset: a run records
/// every path in JSON (metrics, predictions, resume state), which is text.
const NOT_UTF8: &str =
    "the path is not valid UTF-8 and run reports record paths as text; rename the file";

/// Lists audio files under `root` recursively, sorted, following no symlink
/// loops (each directory is visited once by its canonical path).
pub fn find_audio(root: &Path, extensions: &[String]) -> Result<Found, Error> {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut stack = vec![root.to_path_buf()];
    let meta = std::fs::metadata(root).map_err(|e| Error::io(root, e))?;
    if meta.is_file() {
        return Ok((vec![root.to_path_buf()], problems));
    }
    while let Some(dir) = stack.pop() {
        match dir.canonicalize() {
            Ok(c) => {
                if !seen.insert(c) {
                    continue;
                }
            }
            Err(e) => {
                problems.push((dir.clone(), format!("cannot resolve folder: {e}")));
                continue;
            }
        }
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) => {
                problems.push((dir.clone(), format!("cannot read folder: {e}")));
                continue;
            }
        };
        for entry in entries.flatten() {
            let path = entry.path();
            match std::fs::metadata(&path) {
                Ok(m) if m.is_dir() => stack.push(path),
                Ok(m) if m.is_file() => {
                    if has_extension(&path, extensions) {
                        files.push(path);
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    if has_extension(&path, extensions) {
                        problems.push((path, format!("cannot read: {e}")));
                    }
                }
            }
        }
    }
    files.sort();
    Ok((files, problems))
}

fn has_extension(path: &Path, extensions: &[String]) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| extensions.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

/// Which side of a predefined split a file is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// Training.
    Train,
    /// Validation (model selection, early stopping).
    Val,
    /// Test.
    Test,
}

impl Part {
    /// Reads a split value: `train`/`training`, `validation`/`val`/`valid`/`dev`,
    /// `test`/`testing`/`eval` (any case); `None` for anything else.
    pub fn parse(s: &str) -> Option<Part> {
        match s.trim().to_ascii_lowercase().as_str() {
            "train" | "training" => Some(Part::Train),
            "validation" | "val" | "valid" | "dev" => Some(Part::Val),
            "test" | "testing" | "eval" => Some(Part::Test),
            _ => None,
        }
    }
}

/// One file as a source lists it, before labels are chosen.
#[derive(Clone, Debug, Default)]
pub struct Row {
    /// The audio file.
    pub path: PathBuf,
    /// The label the source states (manifest column, layout), if any.
    pub label: Option<String>,
    /// The group the source states, if any.
    pub group: Option<String>,
    /// The predefined split the source states, if any.
    pub split: Option<Part>,
}

/// Reads a CSV whose columns `cols` (path, label, group, split) hold the
/// row's fields; a column marked `required` must exist. Paths are absolute
/// or relative to `base`.
pub fn read_csv(
    path: &Path,
    cols: [&str; 4],
    required: [bool; 4],
    base: &Path,
) -> Result<Vec<Row>, Error> {
    let bad = |msg: String| Error::Data(format!("manifest {}: {msg}", path.display()));
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| bad(e.to_string()))?;
    let headers = reader.headers().map_err(|e| bad(e.to_string()))?.clone();
    let mut idx = [None; 4];
    for (k, name) in cols.iter().enumerate() {
        idx[k] = headers.iter().position(|h| h.eq_ignore_ascii_case(name));
        if idx[k].is_none() && required[k] {
            let have: Vec<&str> = headers.iter().collect();
            return Err(bad(format!(
                "no `{name}` column (the columns are {have:?}; name another with data.{}_column)",
                ["path", "label", "group", "split"][k]
            )));
        }
    }
    let mut rows = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.map_err(|e| bad(format!("row {}: {e}", i + 2)))?;
        let get = |k: usize| {
            idx[k]
                .and_then(|c| rec.get(c))
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        let Some(p) = get(0) else {
            return Err(bad(format!(
                "row {}: the `{}` cell is empty",
                i + 2,
                cols[0]
            )));
        };
        let split = match get(3) {
            None => None,
            Some(v) => Some(Part::parse(&v).ok_or_else(|| {
                bad(format!(
                    "row {}: split {v:?} is none of train, validation (val, dev), test",
                    i + 2
                ))
            })?),
        };
        let p = PathBuf::from(p);
        rows.push(Row {
            path: if p.is_absolute() { p } else { base.join(p) },
            label: get(1),
            group: get(2),
            split,
        });
    }
    Ok(rows)
}

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
        return read_csv(manifest, cols, required, base);
    }
    let (files, problems) = find_audio(&cfg.root, &cfg.extensions)?;
    skipped.extend(problems);
    Ok(files
        .into_iter()
        .map(|path| Row {
            path,
            ..Row::default()
        })
        .collect())
}

/// `path` relative to `root`, `/`-separated; the file name when it is not under it.
pub fn relative(path: &Path, root: &Path) -> String {
    let rel = path
        .strip_prefix(root)
        .ok()
        .or_else(|| path.file_name().map(Path::new));
    rel.map(|r| {
        r.components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/")
    })
    .unwrap_or_default()
}

/// Reads the files and their labels and groups as configured.
pub fn discover(cfg: &DataConfig) -> Result<Dataset, Error> {
    let mut raw: Vec<(PathBuf, String, String, Option<Part>)> = Vec::new();
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
            Some(l) => raw.push((row.path, l, group.unwrap_or_default(), row.split)),
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
        .map(|(p, l, g, t)| Item {
            path: p.clone(),
            label: index[l.as_str()],
            group: g.clone(),
            split: *t,
        })
        .collect();
    items.sort_by(|a, b| a.path.cmp(&b.path));
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
