//! Reading event annotations (strong labels: a label with a start and an
//! end time) from the three formats people keep them in:
//!
//! - a CSV table with a header naming the columns `path` (or `file`,
//!   `filename`), `start` (or `onset`), `end` (or `offset`) and `label` (or
//!   `event_label`, `class`); a relative path is taken from the table's
//!   folder;
//! - an Audacity label file (`.txt`): `start<TAB>end<TAB>label` per line,
//!   the `\` lines of spectral selections skipped; its audio is the file
//!   beside it with the same stem (`night.txt` for `night.wav`);
//! - a Raven selection table (`.selections.txt`, tab-separated, a header
//!   with `Begin Time (s)` and `End Time (s)`): the label from the
//!   `Annotation` column (else `Label`, `Class`, `Species`), a selection
//!   listed once per view (`Waveform 1`, `Spectrogram 1`) counted once; its
//!   audio is `Begin Path` when the table has it, else the file named by
//!   the table's name up to `.Table.` or `.selections` (`night.Table.1.
//!   selections.txt` for `night.wav`).
//!
//! The path of an annotation read from an Audacity or Raven file without
//! `Begin Path` has no extension: [`same_recording`] matches it to an audio
//! file by stem.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// One annotated event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Annotation {
    /// The recording it belongs to.
    pub path: PathBuf,
    /// Onset, seconds.
    pub start: f64,
    /// Offset, seconds.
    pub end: f64,
    /// The class.
    pub label: String,
}

/// The annotations in `path`, its format told by its name and header
/// (see the module doc). Errors name the file, and the line when one is
/// bad.
pub fn read_annotations(path: &Path) -> Result<Vec<Annotation>, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let first = text.lines().next().unwrap_or("");
    if first.contains("Begin Time (s)") || name.ends_with(".selections.txt") {
        raven(path, &text)
    } else if name.ends_with(".csv") {
        csv_table(path, &text)
    } else {
        audacity(path, &text)
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

fn bad(path: &Path, line: usize, what: impl std::fmt::Display) -> Error {
    Error::Data(format!("{}: line {line}: {what}", path.display()))
}

fn seconds(path: &Path, line: usize, field: &str, v: &str) -> Result<f64, Error> {
    let t: f64 = v.trim().parse().map_err(|_| {
        bad(
            path,
            line,
            format!("{field} {v:?} is not a number of seconds"),
        )
    })?;
    if !t.is_finite() || t < 0.0 {
        return Err(bad(
            path,
            line,
            format!("{field} {v:?} must be a time >= 0"),
        ));
    }
    Ok(t)
}

fn checked(path: &Path, line: usize, a: Annotation) -> Result<Annotation, Error> {
    if a.end < a.start {
        return Err(bad(
            path,
            line,
            format!("end {} is before start {}", a.end, a.start),
        ));
    }
    if a.label.trim().is_empty() {
        return Err(bad(path, line, "empty label"));
    }
    Ok(a)
}

/// The audio a label file beside it stands for: its path up to the first
/// of `cut` in the file name, without extension.
fn audio_of(path: &Path, cut: &[&str]) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut stem = name.as_str();
    for c in cut {
        if let Some(i) = stem.find(c) {
            stem = &stem[..i];
        }
    }
    path.with_file_name(stem)
}

fn audacity(path: &Path, text: &str) -> Result<Vec<Annotation>, Error> {
    let audio = audio_of(path, &[".txt"]);
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('\\') {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() < 2 {
            return Err(bad(
                path,
                i + 1,
                "expected start<TAB>end<TAB>label (an Audacity label file)",
            ));
        }
        let a = Annotation {
            path: audio.clone(),
            start: seconds(path, i + 1, "start", f[0])?,
            end: seconds(path, i + 1, "end", f[1])?,
            label: f.get(2).unwrap_or(&"").trim().to_string(),
        };
        out.push(checked(path, i + 1, a)?);
    }
    Ok(out)
}

fn column(header: &[&str], names: &[&str]) -> Option<usize> {
    names
        .iter()
        .find_map(|n| header.iter().position(|h| h.trim().eq_ignore_ascii_case(n)))
}

fn raven(path: &Path, text: &str) -> Result<Vec<Annotation>, Error> {
    let mut lines = text.lines().enumerate();
    let header: Vec<&str> = lines
        .next()
        .map(|(_, l)| l.split('\t').collect())
        .unwrap_or_default();
    let need = |names: &[&str]| {
        column(&header, names).ok_or_else(|| {
            bad(
                path,
                1,
                format!("a Raven selection table needs a {:?} column", names[0]),
            )
        })
    };
    let (b, e) = (need(&["Begin Time (s)"])?, need(&["End Time (s)"])?);
    let l = need(&["Annotation", "Label", "Class", "Species", "Sound Type"])?;
    let sel = column(&header, &["Selection"]);
    let file = column(&header, &["Begin Path"]);
    let audio = audio_of(path, &[".Table.", ".selections", ".txt"]);
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for (i, line) in lines {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        let get = |c: usize| f.get(c).copied().unwrap_or("");
        if let Some(s) = sel
            && !seen.insert(get(s).to_string())
        {
            continue;
        }
        let a = Annotation {
            path: match file.map(get).filter(|p| !p.is_empty()) {
                Some(p) => path.parent().unwrap_or(Path::new("")).join(p),
                None => audio.clone(),
            },
            start: seconds(path, i + 1, "Begin Time (s)", get(b))?,
            end: seconds(path, i + 1, "End Time (s)", get(e))?,
            label: get(l).trim().to_string(),
        };
        out.push(checked(path, i + 1, a)?);
    }
    Ok(out)
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
        let a = Annotation {
            path: dir.join(rec.get(p).unwrap_or("")),
            start: seconds(path, line, "start", rec.get(s).unwrap_or(""))?,
            end: seconds(path, line, "end", rec.get(e).unwrap_or(""))?,
            label: rec.get(l).unwrap_or("").trim().to_string(),
        };
        out.push(checked(path, line, a)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(e.contains("before start"), "{e}");
    }
}
