//! Where a data set's files come from, before labels are chosen: a folder
//! scan, a CSV table, and the layouts a data set can have (`data.layout`;
//! `layouts` reads them).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// How a data set is laid out on disk: which files, labels, groups and
/// predefined split the folder itself states.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// A recursive scan of `root` (or the `manifest` CSV); labels and groups
    /// from `label` and `group`.
    #[default]
    Files,
    /// Hugging Face `audiofolder`: `train/`, `validation/` (`val/`, `dev/`),
    /// `test/` folders as the split, labels from `metadata.csv` /
    /// `metadata.jsonl` (`file_name` and `label_column`) or else the parent
    /// folder. Also a plain folder per label under `train/` and `test/`.
    Audiofolder,
    /// ESC-50: `meta/esc50.csv` (`filename`, `fold`, `category`), audio in
    /// `audio/`; the fold is the group.
    Esc50,
    /// UrbanSound8K: `metadata/UrbanSound8K.csv` (`slice_file_name`, `fold`,
    /// `class`), audio in `audio/fold<N>/`; the fold is the group.
    Urbansound8k,
    /// Speech Commands: a folder per label, `validation_list.txt` and
    /// `testing_list.txt` as the split, the speaker of
    /// `<speaker>_nohash_<n>` as the group, `_background_noise_` left out.
    SpeechCommands,
}

impl Layout {
    /// Whether the layout states a group for every file.
    pub fn has_groups(self) -> bool {
        matches!(
            self,
            Layout::Esc50 | Layout::Urbansound8k | Layout::SpeechCommands
        )
    }

    /// Whether the layout states a train / validation / test split.
    pub fn has_split(self) -> bool {
        matches!(self, Layout::Audiofolder | Layout::SpeechCommands)
    }

    /// The TOML spelling.
    pub fn name(self) -> &'static str {
        match self {
            Layout::Files => "files",
            Layout::Audiofolder => "audiofolder",
            Layout::Esc50 => "esc50",
            Layout::Urbansound8k => "urbansound8k",
            Layout::SpeechCommands => "speech-commands",
        }
    }
}

/// Files found, and paths that could not be read with the reason.
pub type Found = (Vec<PathBuf>, Vec<(PathBuf, String)>);

/// Why a file whose path is not UTF-8 stays out of a dataset: a run records
/// every path in JSON (metrics, predictions, resume state), which is text.
pub(crate) const NOT_UTF8: &str =
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
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
    /// The segment of the file this row stands for, `(start, end)` in
    /// seconds (a manifest's `start`/`end` cells, an annotation); `None`
    /// for the whole file.
    pub span: Option<(f64, f64)>,
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
    read_csv_spans(path, cols, required, base, None)
}

/// As [`read_csv`], and when `span` names a start and an end column that
/// the table has, a row with both cells (seconds) is that segment of its
/// file; a row with neither is the whole file.
pub fn read_csv_spans(
    path: &Path,
    cols: [&str; 4],
    required: [bool; 4],
    base: &Path,
    span: Option<[&str; 2]>,
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
    let span_idx = span
        .map(|names| names.map(|name| headers.iter().position(|h| h.eq_ignore_ascii_case(name))));
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
        let cell = |c: Option<usize>| c.and_then(|c| rec.get(c)).filter(|v| !v.is_empty());
        let span = match span_idx.map(|[s, e]| (cell(s), cell(e))) {
            None | Some((None, None)) => None,
            Some((Some(s), Some(e))) => {
                Some(parse_span(s, e).map_err(|msg| bad(format!("row {}: {msg}", i + 2)))?)
            }
            Some(_) => {
                return Err(bad(format!(
                    "row {}: a segment needs both a start and an end cell",
                    i + 2
                )));
            }
        };
        let p = PathBuf::from(p);
        rows.push(Row {
            path: if p.is_absolute() { p } else { base.join(p) },
            label: get(1),
            group: get(2),
            split,
            span,
        });
    }
    Ok(rows)
}

/// Reads a start and an end in seconds: finite, `0 <= start < end`.
pub fn parse_span(start: &str, end: &str) -> Result<(f64, f64), String> {
    let num = |what: &str, v: &str| {
        v.trim()
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .ok_or_else(|| format!("{what} {v:?} is not a number of seconds"))
    };
    let (s, e) = (num("start", start)?, num("end", end)?);
    if s < 0.0 {
        return Err(format!("start {s} s is negative"));
    }
    if e <= s {
        return Err(format!("end {e} s is not after start {s} s"));
    }
    Ok((s, e))
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
