//! `pipeline detect`: events in files or a stream, written as they become
//! final, optionally scored against annotations.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Result, bail};
use cochlea_pipeline::config::default_extensions;
use cochlea_pipeline::detect::drive::{self, Job, Recording};
use cochlea_pipeline::detect::evaluate::{self, by_onset, reference_for};
use cochlea_pipeline::detect::metrics::EventParams;
use cochlea_pipeline::detect::options::Settings;
use cochlea_pipeline::detect::output::{EventWriter, header, output_path};
use cochlea_pipeline::detect::pcm::PcmStream;
use cochlea_pipeline::detect::{Annotation, Event, detector, read_annotations, timeline};
use cochlea_pipeline::{atomic, bundle, dump, progress};

use crate::cli::DetectArgs;

/// Where events go.
enum Sink {
    /// Standard output, each event flushed as it comes.
    Stdout(std::io::Stdout),
    /// One file for everything, written at the end.
    File(PathBuf, Vec<u8>),
    /// A folder with one file per recording, each written when its
    /// recording ends.
    Folder(PathBuf, HashSet<PathBuf>),
}

/// `pipeline detect`.
pub fn detect(a: DetectArgs, quiet: bool, threads: Option<usize>) -> Result<ExitCode> {
    if let Some(n) = threads {
        cochlea_model::tch::set_num_threads(i32::try_from(n.max(1)).unwrap_or(i32::MAX));
    }
    let m = bundle::load_on(&a.model, a.device.resolve()?)?;
    let post = Settings {
        threshold: a.threshold,
        per_class: a.thresholds.clone().unwrap_or_default(),
        threshold_off: a.threshold_off,
        ignore: a.ignore.clone(),
        merge_gap: a.merge_gap,
        min_duration: a.min_duration,
    }
    .resolve(&m.classes)?;
    let rate = m.input.sample_rate;
    let window = detector::window_samples(&m, m.input.clip_frames);
    let window_s = window as f64 / f64::from(rate);
    let hop = detector::hop_samples(&m, a.hop).map_err(|e| anyhow::anyhow!("--hop {e}"))?;
    let ignored: Vec<&str> = m
        .classes
        .iter()
        .zip(&post.on)
        .filter(|(_, on)| on.is_infinite())
        .map(|(c, _)| c.as_str())
        .collect();
    progress::debug(format_args!(
        "detect: window {window_s:.3} s ({} frames), hop {:.3} s, classes making no events: [{}]",
        m.input.clip_frames,
        hop as f64 / f64::from(rate),
        ignored.join(", ")
    ));
    let stdin = a.paths.iter().any(|p| p == Path::new("-"));
    if stdin && a.paths.len() > 1 {
        bail!("`-` (standard input) cannot be mixed with files");
    }
    let job = Job {
        model: &m,
        hop,
        post,
        batch: a
            .batch
            .unwrap_or(if stdin { 1 } else { detector::DEFAULT_BATCH }),
        trace: false,
    };
    let started = Instant::now();
    if stdin {
        return from_stdin(&a, &job, started);
    }
    let (files, problems) = dump::gather(&a.paths, &default_extensions());
    for (p, why) in &problems {
        eprintln!("error: {}: {why}", p.display());
    }
    let mut sink = match &a.out {
        None if a.format.per_recording() && files.len() > 1 => bail!(
            "--format {:?} writes one file per recording: give --out FOLDER for {} recordings",
            a.format,
            files.len()
        ),
        None => Sink::Stdout(std::io::stdout()),
        Some(o)
            if o.is_dir()
                || o.to_string_lossy().ends_with('/')
                || (a.format.per_recording() && files.len() > 1) =>
        {
            atomic::create_dir_all(o)?;
            Sink::Folder(o.clone(), HashSet::new())
        }
        Some(o) => Sink::File(o.clone(), header(a.format)),
    };
    if let Sink::Stdout(out) = &mut sink {
        out.write_all(&header(a.format))?;
        out.flush()?;
    }
    let mut writer = EventWriter::new(a.format, rate);
    let pb = progress::bar(files.len() as u64, "detect", quiet);
    let mut done: Vec<Recording> = Vec::new();
    let mut failed = problems.len();
    let (mut windows, mut seconds) = (0u64, 0.0);
    let mut last_note = Instant::now();
    for f in &files {
        writer.restart();
        let mut per_file: Vec<u8> = Vec::new();
        let mut io_error: Option<std::io::Error> = None;
        let r = drive::detect_file(
            &job,
            f,
            &mut |s| {
                if last_note.elapsed().as_secs() >= 30 {
                    last_note = Instant::now();
                    pb.set_message(format!("{}: {s:.0} s of audio", f.display()));
                }
            },
            &mut |e| {
                let r = match &mut sink {
                    Sink::Stdout(out) => {
                        let mut lock = out.lock();
                        writer.write(&mut lock, f, e).and_then(|()| lock.flush())
                    }
                    Sink::File(_, buf) => writer.write(buf, f, e),
                    Sink::Folder(..) => writer.write(&mut per_file, f, e),
                };
                if let Err(e) = r {
                    io_error.get_or_insert(e);
                }
            },
        );
        if let Some(e) = io_error {
            bail!("writing events: {e}");
        }
        match r {
            Ok(rec) => {
                windows += rec.windows;
                seconds += rec.duration;
                if let Sink::Folder(dir, taken) = &mut sink {
                    let path = output_path(dir, a.format, f, taken);
                    let mut bytes = header(a.format);
                    bytes.extend_from_slice(&per_file);
                    atomic::write(&path, &bytes)?;
                }
                done.push(rec);
            }
            Err(e) => {
                eprintln!("error: {e}");
                failed += 1;
            }
        }
        pb.inc(1);
    }
    pb.finish_and_clear();
    if let Sink::File(path, buf) = &sink {
        atomic::write(path, buf)?;
    }
    let events: usize = done.iter().map(|r| r.events.len()).sum();
    report_speed(events, done.len(), failed, seconds, windows, started);
    if let Some(labels) = &a.labels {
        score(&a, labels, &done)?;
    }
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn report_speed(
    events: usize,
    files: usize,
    failed: usize,
    seconds: f64,
    windows: u64,
    started: Instant,
) {
    let wall = started.elapsed().as_secs_f64().max(1e-9);
    eprintln!(
        "detected {events} events in {files} recordings ({failed} failed): {seconds:.1} s of audio, \
         {windows} windows in {wall:.2} s ({:.1}x real time, {:.4} h of audio per second)",
        seconds / wall,
        seconds / 3600.0 / wall
    );
}

/// Standard input: a WAV stream, or raw PCM with --raw-rate.
fn from_stdin(a: &DetectArgs, job: &Job<'_>, started: Instant) -> Result<ExitCode> {
    let name = Path::new("-");
    let input = std::io::stdin().lock();
    let pcm = match a.raw_rate {
        Some(r) => {
            if !cochlea_features::decode::SOURCE_RATES.contains(&r) {
                bail!("--raw-rate {r}: a rate from 100 Hz to 1 MHz is needed");
            }
            PcmStream::raw(input, r, a.raw_channels, a.raw_format)
        }
        None => PcmStream::wav(input, "standard input")?,
    };
    let mut writer = EventWriter::new(a.format, job.model.input.sample_rate);
    let mut buf = header(a.format);
    let stdout = std::io::stdout();
    if a.out.is_none() {
        let mut lock = stdout.lock();
        lock.write_all(&buf)?;
        lock.flush()?;
        buf.clear();
    }
    let mut count = 0usize;
    let mut io_error = None;
    let rec = drive::detect_stream(job, pcm, name, &mut |e| {
        count += 1;
        let r = if a.out.is_some() {
            writer.write(&mut buf, name, e)
        } else {
            let mut lock = stdout.lock();
            writer.write(&mut lock, name, e).and_then(|()| lock.flush())
        };
        if let Err(e) = r {
            io_error.get_or_insert(e);
        }
    })?;
    if let Some(e) = io_error {
        bail!("writing events: {e}");
    }
    if let Some(out) = &a.out {
        atomic::write(out, &buf)?;
    }
    report_speed(count, 1, 0, rec.duration, rec.windows, started);
    Ok(ExitCode::SUCCESS)
}

/// The annotations for the recordings in `done`: from one file, or from
/// the files of a folder named after each recording's stem.
fn annotations(labels: &Path, done: &[Recording]) -> Result<Vec<Annotation>> {
    if !labels.is_dir() {
        return Ok(read_annotations(labels)?);
    }
    let mut names: Vec<PathBuf> = std::fs::read_dir(labels)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    names.sort();
    let mut out = Vec::new();
    for r in done {
        let Some(stem) = r.path.file_stem().map(|s| s.to_string_lossy().into_owned()) else {
            continue;
        };
        for p in &names {
            let n = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let ours = n.ends_with(".events.csv") || n.ends_with(".events.jsonl");
            if n.starts_with(&format!("{stem}."))
                && !ours
                && (n.ends_with(".txt") || n.ends_with(".csv"))
            {
                // Annotations beside the audio name it by stem: bind them to
                // this recording.
                out.extend(read_annotations(p)?.into_iter().map(|mut x| {
                    x.path = r.path.clone();
                    x
                }));
            }
        }
    }
    Ok(out)
}

/// Scores the detections against `labels`; prints and writes the scores
/// and the timeline.
fn score(a: &DetectArgs, labels: &Path, done: &[Recording]) -> Result<()> {
    let ann = annotations(labels, done)?;
    let detected: Vec<(PathBuf, Vec<Event>)> = done
        .iter()
        .map(|r| (r.path.clone(), r.events.clone()))
        .collect();
    if !(a.t_collar > 0.0 && a.segment > 0.0 && (0.0..=1.0).contains(&a.percentage_of_length)) {
        bail!("--t-collar and --segment must be > 0, --percentage-of-length in [0, 1]");
    }
    let params = EventParams {
        t_collar: a.t_collar,
        percentage_of_length: a.percentage_of_length,
        evaluate_offset: a.evaluate_offset,
    };
    let e = evaluate::evaluate(&detected, &ann, params, a.segment);
    for p in &e.unannotated {
        eprintln!(
            "warning: {}: no annotation in {}; scored as a recording with no events",
            p.display(),
            labels.display()
        );
    }
    eprint!("{}", evaluate::summary(&e));
    atomic::create_dir_all(&a.report)?;
    atomic::write_json(&a.report.join("metrics.json"), &e)?;
    let lanes: Vec<timeline::Lane> = done
        .iter()
        .map(|r| {
            (
                r.path.clone(),
                r.duration,
                reference_for(&r.path, &ann),
                by_onset(r.events.clone()),
            )
        })
        .collect();
    atomic::write(
        &a.report.join("timeline.html"),
        timeline::html(&e, &lanes).as_bytes(),
    )?;
    eprintln!(
        "wrote {} and {}",
        a.report.join("metrics.json").display(),
        a.report.join("timeline.html").display()
    );
    Ok(())
}
