//! Dataset discovery: which files, which label, which group.
//!
//! Files come from a recursive scan of `data.root` (by extension) or from a
//! manifest CSV. Labels and groups come from the parent folder, a regex on
//! the file name, or the manifest. Nothing is decoded here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use regex::Regex;

use crate::config::{DataConfig, FieldSource};
use crate::error::Error;

/// One audio file of the dataset.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    /// The audio file.
    pub path: PathBuf,
    /// Class index into [`Dataset::classes`].
    pub label: usize,
    /// Group (speaker, source recording); empty when groups are not used.
    pub group: String,
    /// `Some(true)` when a manifest's `split` column says "test".
    pub manifest_test: Option<bool>,
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

/// A row of the manifest.
struct ManifestRow {
    path: PathBuf,
    label: String,
    group: String,
    split: Option<String>,
}

fn read_manifest(path: &Path) -> Result<Vec<ManifestRow>, Error> {
    let bad = |msg: String| Error::Data(format!("manifest {}: {msg}", path.display()));
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| bad(e.to_string()))?;
    let headers = reader.headers().map_err(|e| bad(e.to_string()))?.clone();
    let col = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let path_col = col("path").ok_or_else(|| bad("no `path` column".into()))?;
    let label_col = col("label").ok_or_else(|| bad("no `label` column".into()))?;
    let group_col = col("group");
    let split_col = col("split");
    let base = path.parent().unwrap_or(Path::new("."));
    let mut rows = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.map_err(|e| bad(format!("row {}: {e}", i + 2)))?;
        let get = |c: usize| rec.get(c).unwrap_or("").to_string();
        let p = PathBuf::from(get(path_col));
        rows.push(ManifestRow {
            path: if p.is_absolute() { p } else { base.join(p) },
            label: get(label_col),
            group: group_col.map(get).unwrap_or_default(),
            split: split_col.map(get).filter(|s| !s.is_empty()),
        });
    }
    Ok(rows)
}

/// Reads the files and their labels and groups as configured.
pub fn discover(cfg: &DataConfig) -> Result<Dataset, Error> {
    let mut raw: Vec<(PathBuf, String, String, Option<bool>)> = Vec::new();
    let mut skipped = Vec::new();
    // Audio files the folder scan found, labelled or not.
    let mut scanned = 0;
    let label_re = regex_of(&cfg.label)?;
    let group_re = regex_of(&cfg.group)?;
    if let Some(manifest) = &cfg.manifest {
        for row in read_manifest(manifest)? {
            if row.path.to_str().is_none() {
                skipped.push((row.path, NOT_UTF8.to_string()));
                continue;
            }
            let label = match &cfg.label {
                FieldSource::Manifest => Some(row.label.clone()),
                src => field(src, label_re.as_ref(), &row.path),
            };
            let group = match &cfg.group {
                FieldSource::Manifest => Some(row.group.clone()),
                src => field(src, group_re.as_ref(), &row.path),
            };
            let test = row.split.as_deref().map(|s| s.eq_ignore_ascii_case("test"));
            match label.filter(|l| !l.is_empty()) {
                Some(l) => raw.push((row.path, l, group.unwrap_or_default(), test)),
                None => skipped.push((row.path, "no label in the manifest".to_string())),
            }
        }
    } else {
        let (files, problems) = find_audio(&cfg.root, &cfg.extensions)?;
        skipped.extend(problems);
        scanned = files.len();
        for path in files {
            if path.to_str().is_none() {
                skipped.push((path, NOT_UTF8.to_string()));
                continue;
            }
            let label = field(&cfg.label, label_re.as_ref(), &path);
            let group = field(&cfg.group, group_re.as_ref(), &path);
            match label {
                Some(l) if !l.is_empty() => raw.push((path, l, group.unwrap_or_default(), None)),
                _ => skipped.push((path, label_miss(&cfg.label))),
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
        && scanned > 0
        && let FieldSource::Regex(re) = &cfg.label
    {
        let example = skipped
            .iter()
            .find_map(|(p, _)| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        return Err(Error::Data(format!(
            "data.label: regex {re:?} matches none of the {scanned} file names in {} \
             (such as {example:?}); its first capture group must be the label",
            cfg.root.display()
        )));
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
            manifest_test: *t,
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

fn field(src: &FieldSource, re: Option<&Regex>, path: &Path) -> Option<String> {
    match src {
        FieldSource::None | FieldSource::Manifest => None,
        FieldSource::Folder => path
            .parent()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned()),
        FieldSource::Regex(_) => {
            let name = path.file_name()?.to_string_lossy();
            let caps = re?.captures(&name)?;
            caps.get(1).map(|m| m.as_str().to_string())
        }
    }
}

fn label_miss(src: &FieldSource) -> String {
    match src {
        FieldSource::Regex(re) => format!("file name does not match the label regex {re:?}"),
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
            field(&src, Some(&re), Path::new("/a/7_x_1.wav")).as_deref(),
            Some("7")
        );
        assert_eq!(field(&src, Some(&re), Path::new("/a/x_1.wav")), None);
    }
}
