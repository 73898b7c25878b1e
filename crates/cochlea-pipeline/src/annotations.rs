//! Strong labels: where events start and end in a recording, for training
//! on segments (`[data] annotations`, manifest `start`/`end`) and for
//! scoring detections (`pipeline detect --labels`).
//!
//! Three file formats are read, each into [`Annotation`]s:
//!
//! - Raven selection tables (`*.selections.txt`): tab-separated with a
//!   header; `Begin Time (s)`, `End Time (s)` and a label column (the one
//!   named, else the first of [`RAVEN_LABEL_COLUMNS`]). Raven writes one
//!   row per view (waveform, spectrogram) of a selection: rows are kept
//!   once per `Selection` number. The audio is `Begin Path` when the table
//!   has it, else the file the table is named after ([`raven_audio`]).
//! - Audacity label tracks (`.txt`): `start<TAB>end<TAB>label` per line in
//!   seconds; the lines Audacity adds for a spectral selection (starting
//!   with `\`) are skipped. The audio is the file beside it with its stem.
//! - CSV tables with a header naming `path` (or `file`, `filename`),
//!   `start` (or `onset`, `event_onset`), `end` (or `offset`,
//!   `event_offset`) and `label` (or `event_label`, `class`); a relative
//!   path is taken from the table's folder.
//!
//! A bad row is an error naming the file and the line; nothing is guessed.
//! An annotation whose audio file was not found beside it has a path with
//! no extension: [`same_recording`] matches it to an audio file by stem.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::Error;
pub use crate::source::parse_span;

/// One annotated segment of a recording.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
pub const RAVEN_LABEL_COLUMNS: [&str; 5] =
    ["Annotation", "Species", "Label", "Class", "Sound Type"];

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
    let begin_path = find("Begin Path");
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
        let file = begin_path.map(cell).filter(|p| !p.is_empty());
        out.push(Annotation {
            path: match file {
                Some(p) => path.parent().unwrap_or(Path::new("")).join(p),
                None => audio.clone(),
            },
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

/// The annotations in `path`, its format told by its name and header
/// (see the module doc). Errors name the file, and the line when one is
/// bad.
pub fn read_annotations(path: &Path) -> Result<Vec<Annotation>, Error> {
    let text = read_text(path)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let first = text.lines().next().unwrap_or("");
    if first.contains("Begin Time (s)") || name.ends_with(RAVEN_SUFFIX) {
        read_raven(path)
    } else if name.ends_with(".csv") {
        csv_table(path, &text)
    } else {
        read_audacity(path)
    }
}

/// Whether an annotation's `path` names the audio file `audio`: the same
/// path, or (for a path with no extension, as Audacity and Raven files
/// give) the same folder and stem, or the same file name when the
/// annotation names a file only.
pub fn same_recording(annotation: &Path, audio: &Path) -> bool {
    if annotation == audio {
        return true;
    }
    let canon = |p: &Path| p.canonicalize().ok();
    if let (Some(a), Some(b)) = (canon(annotation), canon(audio))
        && a == b
    {
        return true;
    }
    let parent = |p: &Path| p.parent().map(Path::to_path_buf).unwrap_or_default();
    let same_dir = canon(&parent(annotation)).is_some_and(|a| canon(&parent(audio)) == Some(a))
        || parent(annotation).as_os_str().is_empty();
    if annotation.extension().is_none() {
        return same_dir && annotation.file_name() == audio.file_stem();
    }
    parent(annotation).as_os_str().is_empty() && annotation.file_name() == audio.file_name()
}

fn column(header: &[&str], names: &[&str]) -> Option<usize> {
    names
        .iter()
        .find_map(|n| header.iter().position(|h| h.trim().eq_ignore_ascii_case(n)))
}

fn csv_table(path: &Path, text: &str) -> Result<Vec<Annotation>, Error> {
    let mut r = ::csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.as_bytes());
    let header: Vec<String> = r
        .headers()
        .map_err(|e| bad(path, 1, e))?
        .iter()
        .map(str::to_string)
        .collect();
    let h: Vec<&str> = header.iter().map(String::as_str).collect();
    let need = |names: &[&str]| {
        column(&h, names).ok_or_else(|| {
            bad(
                path,
                1,
                format!(
                    "the header needs a {:?} column (has: {})",
                    names[0],
                    header.join(", ")
                ),
            )
        })
    };
    let (p, s, e) = (
        need(&["path", "file", "filename"])?,
        need(&["start", "onset", "event_onset"])?,
        need(&["end", "offset", "event_offset"])?,
    );
    let l = need(&["label", "event_label", "class"])?;
    let dir = path.parent().unwrap_or(Path::new(""));
    let mut out = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let line = i + 2;
        let rec = rec.map_err(|e| bad(path, line, e))?;
        let (start, end) = parse_span(rec.get(s).unwrap_or(""), rec.get(e).unwrap_or(""))
            .map_err(|m| bad(path, line, m))?;
        let label = rec.get(l).unwrap_or("").trim();
        if label.is_empty() {
            return Err(bad(path, line, "the label is empty"));
        }
        out.push(Annotation {
            path: dir.join(rec.get(p).unwrap_or("")),
            start,
            end,
            label: label.to_string(),
        });
    }
    Ok(out)
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

    #[test]
    fn the_three_formats_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(
            d.join("night.txt"),
            "1.5\t2.25\towl\n\\\t100\t2000\n3\t4\tfox\n",
        )
        .unwrap();
        let a = read_annotations(&d.join("night.txt")).unwrap();
        assert_eq!(a.len(), 2);
        assert_eq!(
            (a[0].start, a[0].end, a[0].label.as_str()),
            (1.5, 2.25, "owl")
        );
        assert!(same_recording(&a[0].path, &d.join("night.wav")));
        assert!(!same_recording(&a[0].path, &d.join("day.wav")));

        let raven = "Selection\tView\tChannel\tBegin Time (s)\tEnd Time (s)\tLow Freq (Hz)\tHigh Freq (Hz)\tAnnotation\n\
                     1\tWaveform 1\t1\t0.5\t1.0\t0\t4000\towl\n\
                     1\tSpectrogram 1\t1\t0.5\t1.0\t0\t4000\towl\n\
                     2\tSpectrogram 1\t1\t2.0\t2.5\t0\t4000\tfox\n";
        let t = d.join("night.Table.1.selections.txt");
        std::fs::write(&t, raven).unwrap();
        let a = read_annotations(&t).unwrap();
        assert_eq!(a.len(), 2, "one per selection, not per view");
        assert_eq!(a[1].label, "fox");
        assert!(same_recording(&a[1].path, &d.join("night.flac")));

        std::fs::write(
            d.join("t.csv"),
            "path,start,end,label\nsub/a.wav,0.1,0.2,x\n",
        )
        .unwrap();
        let a = read_annotations(&d.join("t.csv")).unwrap();
        assert_eq!(a[0].path, d.join("sub/a.wav"));
        assert_eq!(a[0].label, "x");
    }

    #[test]
    fn bad_rows_name_the_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.csv");
        std::fs::write(
            &p,
            "path,start,end,label\na.wav,0.1,0.2,x\na.wav,0.5,zero,y\n",
        )
        .unwrap();
        let e = read_annotations(&p).unwrap_err().to_string();
        assert!(
            e.contains("t.csv") && e.contains("line 3") && e.contains("zero"),
            "{e}"
        );
        std::fs::write(&p, "file,when,label\n").unwrap();
        let e = read_annotations(&p).unwrap_err().to_string();
        assert!(e.contains("\"start\""), "{e}");
        let p = dir.path().join("a.txt");
        std::fs::write(&p, "2\t1\tx\n").unwrap();
        let e = read_annotations(&p).unwrap_err().to_string();
        assert!(e.contains("is not after start"), "{e}");
    }
}
