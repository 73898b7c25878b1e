//! Strong labels: where events start and end in a recording.
//!
//! Two file formats are read, each into [`Annotation`]s:
//!
//! - Raven selection tables (`*.selections.txt`): tab-separated with a
//!   header; `Begin Time (s)`, `End Time (s)` and a label column
//!   (`Annotation` unless named, else `Species`). Raven writes one row per
//!   view (waveform, spectrogram) of a selection: rows are kept once per
//!   `Selection` number.
//! - Audacity label tracks (`.txt`): `start<TAB>end<TAB>label` per line in
//!   seconds; the lines Audacity adds for a spectral selection (starting
//!   with `\`) are skipped.
//!
//! A bad row is an error naming the file and the line; nothing is guessed.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::error::Error;
pub use crate::source::parse_span;

/// One annotated segment of a recording.
#[derive(Clone, Debug, PartialEq)]
pub struct Annotation {
    /// The audio file the segment is in.
    pub path: PathBuf,
    /// Start, seconds from the file's beginning.
    pub start: f64,
    /// End, seconds (after `start`).
    pub end: f64,
    /// The label.
    pub label: String,
}

/// Raven's label columns, tried in this order when none is named.
pub const RAVEN_LABEL_COLUMNS: [&str; 2] = ["Annotation", "Species"];

/// The suffix of a Raven selection table.
pub const RAVEN_SUFFIX: &str = ".selections.txt";

fn bad(path: &Path, line: usize, msg: impl std::fmt::Display) -> Error {
    Error::Data(format!("{}: line {line}: {msg}", path.display()))
}

fn read_text(path: &Path) -> Result<String, Error> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    String::from_utf8(bytes).map_err(|_| Error::Data(format!("{}: not UTF-8 text", path.display())))
}

/// Reads a Raven selection table, the label from `Annotation` (else
/// `Species`); each annotation's `path` is the audio file the table names
/// (see [`raven_audio`]).
pub fn read_raven(path: &Path) -> Result<Vec<Annotation>, Error> {
    read_raven_column(path, "")
}

/// As [`read_raven`] with the label from `column` (empty: `Annotation`,
/// else `Species`).
pub fn read_raven_column(path: &Path, column: &str) -> Result<Vec<Annotation>, Error> {
    let text = read_text(path)?;
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else {
        return Err(Error::Data(format!(
            "{}: empty; a Raven selection table starts with a header line",
            path.display()
        )));
    };
    let cols: Vec<&str> = header.split('\t').map(str::trim).collect();
    let find = |name: &str| cols.iter().position(|c| c.eq_ignore_ascii_case(name));
    let need = |name: &str| {
        find(name).ok_or_else(|| {
            bad(
                path,
                1,
                format!("no `{name}` column (the columns are {cols:?})"),
            )
        })
    };
    let begin = need("Begin Time (s)")?;
    let end = need("End Time (s)")?;
    let label = if column.is_empty() {
        RAVEN_LABEL_COLUMNS
            .iter()
            .find_map(|c| find(c))
            .ok_or_else(|| {
                bad(
                    path,
                    1,
                    format!(
                        "no label column: none of {RAVEN_LABEL_COLUMNS:?} (the columns are \
                         {cols:?}; name one with data.annotation_column)"
                    ),
                )
            })?
    } else {
        need(column)?
    };
    let selection = find("Selection");
    let audio = raven_audio(path);
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (i, line) in lines {
        let n = i + 1;
        let cells: Vec<&str> = line.split('\t').collect();
        let cell = |c: usize| cells.get(c).map_or("", |v| v.trim());
        if let Some(s) = selection
            && !seen.insert(cell(s).to_string())
        {
            // Another view (waveform, spectrogram) of a selection already read.
            continue;
        }
        let (start, stop) = parse_span(cell(begin), cell(end)).map_err(|m| bad(path, n, m))?;
        let l = cell(label);
        if l.is_empty() {
            return Err(bad(path, n, format!("the `{}` cell is empty", cols[label])));
        }
        out.push(Annotation {
            path: audio.clone(),
            start,
            end: stop,
            label: l.to_string(),
        });
    }
    Ok(out)
}

/// Reads an Audacity label track; each annotation's `path` is the file
/// beside it with the same stem (extension left off when none is found).
pub fn read_audacity(path: &Path) -> Result<Vec<Annotation>, Error> {
    let text = read_text(path)?;
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
    let audio = sibling_audio(path, stem.as_deref().unwrap_or_default());
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() || line.starts_with('\\') {
            continue;
        }
        let mut cells = line.splitn(3, '\t');
        let (Some(s), Some(e)) = (cells.next(), cells.next()) else {
            return Err(bad(
                path,
                n,
                "expected start<TAB>end<TAB>label (seconds, tab-separated)",
            ));
        };
        let (start, end) = parse_span(s, e).map_err(|m| bad(path, n, m))?;
        let label = cells.next().unwrap_or("").trim();
        if label.is_empty() {
            return Err(bad(path, n, "the label is empty"));
        }
        out.push(Annotation {
            path: audio.clone(),
            start,
            end,
            label: label.to_string(),
        });
    }
    Ok(out)
}

/// The audio file a Raven table is named after: `x.Table.1.selections.txt`
/// and `x.selections.txt` annotate `x.<audio extension>` in the same
/// folder.
pub fn raven_audio(table: &Path) -> PathBuf {
    let name = table
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name.strip_suffix(RAVEN_SUFFIX).unwrap_or(&name);
    let stem = match stem.find(".Table.") {
        Some(i) => &stem[..i],
        None => stem,
    };
    sibling_audio(table, stem)
}

/// The file `stem.<audio extension>` beside `file`, or `stem` itself when
/// there is none.
fn sibling_audio(file: &Path, stem: &str) -> PathBuf {
    let dir = file.parent().unwrap_or(Path::new("."));
    crate::config::AUDIO_EXTENSIONS
        .iter()
        .flat_map(|e| [e.to_string(), e.to_ascii_uppercase()])
        .map(|e| dir.join(format!("{stem}.{e}")))
        .find(|p| p.is_file())
        .unwrap_or_else(|| dir.join(stem))
}

/// The annotation files of `audio` in `format`: Raven tables
/// `<stem>*.selections.txt` in its folder, or the Audacity track
/// `<stem>.txt` beside it. Sorted; empty when there is none.
pub fn files_for(audio: &Path, format: crate::config::AnnotationFormat) -> Vec<PathBuf> {
    use crate::config::AnnotationFormat;
    let (Some(dir), Some(stem)) = (audio.parent(), audio.file_stem()) else {
        return Vec::new();
    };
    let stem = stem.to_string_lossy();
    match format {
        AnnotationFormat::None => Vec::new(),
        AnnotationFormat::Audacity => {
            let p = dir.join(format!("{stem}.txt"));
            if p.is_file() { vec![p] } else { Vec::new() }
        }
        AnnotationFormat::Raven => {
            let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name().map(|n| n.to_string_lossy()).is_some_and(|n| {
                        n.ends_with(RAVEN_SUFFIX) && raven_audio_stem(&n) == stem.as_ref()
                    })
                })
                .collect();
            out.sort();
            out
        }
    }
}

fn raven_audio_stem(name: &str) -> &str {
    let stem = name.strip_suffix(RAVEN_SUFFIX).unwrap_or(name);
    match stem.find(".Table.") {
        Some(i) => &stem[..i],
        None => stem,
    }
}

/// The annotations of `audio` in `format`, read from [`files_for`]; each
/// annotation's `path` is `audio`. `Ok(None)` when it has no annotation
/// file.
pub fn annotations_of(
    audio: &Path,
    format: crate::config::AnnotationFormat,
    column: &str,
) -> Result<Option<Vec<Annotation>>, Error> {
    use crate::config::AnnotationFormat;
    let files = files_for(audio, format);
    if files.is_empty() {
        return Ok(None);
    }
    let mut out = Vec::new();
    for f in files {
        let mut a = match format {
            AnnotationFormat::Raven => read_raven_column(&f, column)?,
            _ => read_audacity(&f)?,
        };
        for x in &mut a {
            x.path = audio.to_path_buf();
        }
        out.extend(a);
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_must_be_ordered_finite_and_not_negative() {
        assert_eq!(parse_span("0.5", " 1.25"), Ok((0.5, 1.25)));
        assert!(parse_span("1", "1").is_err());
        assert!(parse_span("-1", "1").is_err());
        assert!(parse_span("a", "1").is_err());
        assert!(parse_span("0", "inf").is_err());
    }

    #[test]
    fn raven_tables_name_their_audio() {
        assert_eq!(raven_audio_stem("rec 1.Table.1.selections.txt"), "rec 1");
        assert_eq!(raven_audio_stem("rec.selections.txt"), "rec");
    }
}
