//! Long recordings and strong labels: random crops of long clips, windowed
//! evaluation, Raven / Audacity annotations, the background class.
//!
//! The recordings are made here with hound: seconds of quiet noise with
//! demo words (`audio-samples/digits/`, 8 kHz) placed at known times.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use cochlea_pipeline::Config;
use cochlea_pipeline::config::LongClips;
use cochlea_pipeline::dataset::{BACKGROUND, discover};
use cochlea_pipeline::prepare;

mod util;
use util::{Small, ok, pipeline, small_config, write_pcm16};

const RATE: u32 = 8000;
const VOICES: [&str; 10] = [
    "carf1", "f2", "f4", "klatt", "m1", "m3", "rpklatt3", "scm7", "usf3", "usm2",
];
const WORDS: [&str; 3] = ["zero", "one", "two"];

/// The samples of a demo word.
fn word(digit: usize, voice: &str, take: usize) -> Vec<i16> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../audio-samples/digits")
        .join(digit.to_string())
        .join(format!("{digit}_{voice}_{take:02}.wav"));
    let mut r = hound::WavReader::open(&path).unwrap();
    assert_eq!(r.spec().sample_rate, RATE);
    r.samples::<i16>().map(Result::unwrap).collect()
}

/// `secs` of quiet white noise (seeded) with each `(samples, start)` added
/// at `start` seconds, written to `path`; the span (seconds) of each.
fn long_file(path: &Path, secs: f64, seed: u64, words: &[(Vec<i16>, f64)]) -> Vec<(f64, f64)> {
    let n = (secs * f64::from(RATE)) as usize;
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
    let mut x: Vec<i32> = (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 33) % 401) as i32 - 200
        })
        .collect();
    let mut spans = Vec::new();
    for (w, start) in words {
        let at = (start * f64::from(RATE)) as usize;
        for (i, &v) in w.iter().enumerate() {
            if let Some(s) = x.get_mut(at + i) {
                *s += i32::from(v);
            }
        }
        spans.push((*start, start + w.len() as f64 / f64::from(RATE)));
    }
    write_pcm16(
        path,
        RATE,
        x.into_iter().map(|v| v.clamp(-32768, 32767) as i16),
    );
    spans
}

/// A Raven selection table of `spans` labelled `labels`, every selection
/// listed for two views as Raven writes it.
fn raven(path: &Path, spans: &[(f64, f64)], labels: &[&str]) {
    let mut t = String::from(
        "Selection\tView\tChannel\tBegin Time (s)\tEnd Time (s)\tLow Freq (Hz)\tHigh Freq (Hz)\tAnnotation\n",
    );
    for (i, ((a, b), l)) in spans.iter().zip(labels).enumerate() {
        for view in ["Waveform 1", "Spectrogram 1"] {
            t.push_str(&format!(
                "{}\t{view}\t1\t{a:.4}\t{b:.4}\t0\t4000\t{l}\n",
                i + 1
            ));
        }
    }
    std::fs::write(path, t).unwrap();
}

/// Config text with the small MFCC network of the other tests.
fn config(dir: &Path, data: &str, split: &str, epochs: usize) -> PathBuf {
    small_config(
        dir,
        &Small {
            name: "long",
            root: &dir.join("recs"),
            data: &format!("sample_rate = 8000\n{data}"),
            split,
            train: &format!("batch_size = 16\nepochs = {epochs}"),
            ..Small::default()
        },
    )
}

/// `pipeline run -q CFG`, whose runs go to `DIR/runs`: the run directory
/// and its `metrics.json`.
fn run_once(dir: &Path, cfg: &Path) -> (PathBuf, serde_json::Value) {
    ok(&pipeline(&["run", "-q", cfg.to_str().unwrap()]));
    let run = std::fs::read_dir(dir.join("runs"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let m = serde_json::from_slice(&std::fs::read(run.join("metrics.json")).unwrap()).unwrap();
    (run, m)
}

/// A recording made here: its path, the span of each word and its label.
type Recording = (PathBuf, Vec<(f64, f64)>, Vec<&'static str>);

/// `n` recordings of `secs` seconds, each with the three words in a seeded
/// order at spread-out times, by voice `f % 10`, with a Raven table; the
/// spans and labels per file.
fn annotated_set(dir: &Path, n: usize, secs: f64) -> Vec<Recording> {
    let mut out = Vec::new();
    for f in 0..n {
        let voice = VOICES[f % VOICES.len()];
        let take = 1 + (f / VOICES.len()) % 5;
        let order = [[0, 1, 2], [2, 0, 1], [1, 2, 0]][f % 3];
        let words: Vec<(Vec<i16>, f64)> = order
            .iter()
            .enumerate()
            .map(|(k, &d)| {
                (
                    word(d, voice, take),
                    0.3 + k as f64 * secs / 3.0 + 0.1 * (f % 4) as f64,
                )
            })
            .collect();
        let path = dir.join("recs").join(format!("rec{f:02}.wav"));
        let spans = long_file(&path, secs, f as u64, &words);
        let labels: Vec<&str> = order.iter().map(|&d| WORDS[d]).collect();
        raven(
            &dir.join("recs")
                .join(format!("rec{f:02}.Table.1.selections.txt")),
            &spans,
            &labels,
        );
        out.push((path, spans, labels));
    }
    out
}

#[test]
fn random_crops_cover_long_clips_and_evaluation_averages_windows() {
    let dir = tempfile::tempdir().unwrap();
    // Four-second clips, one word each at a varying time, two classes.
    for f in 0..12 {
        let d = f % 2;
        let w = word(d, VOICES[f % 10], 1);
        long_file(
            &dir.path()
                .join("recs")
                .join(WORDS[d])
                .join(format!("{f}.wav")),
            4.0,
            f as u64,
            &[(w, 0.2 + 0.3 * f as f64)],
        );
    }
    let cfg_path = config(
        dir.path(),
        "clip_frames = 60\nlong_clips = \"random_crop\"",
        "test_fraction = 0.25\nval_fraction = 0.2",
        2,
    );
    let cfg = Config::load(&cfg_path).unwrap();
    assert_eq!(cfg.data.long_clips, LongClips::RandomCrop);
    let s = prepare::setup(&cfg, true).unwrap();
    let fold = &s.folds[0];
    let fi = prepare::fold_inputs(&cfg, &s.p, fold, s.frames).unwrap();
    let long = fi
        .train
        .long
        .as_ref()
        .expect("whole training clips are kept");
    // 4 s at a hop of 10 ms: 401 frames per clip.
    assert!(long.lens.iter().all(|&l| l == 401), "{:?}", long.lens);
    // Over epochs the crops reach every frame of every training clip (an
    // edge frame is missed by an epoch with probability 1 - 30/401).
    let mut seen = vec![vec![false; 401]; long.lens.len()];
    for epoch in 1..=200 {
        for (c, &st) in fi
            .train
            .crop_starts(cfg.train.seed, epoch)
            .iter()
            .enumerate()
        {
            assert!(st + 60 <= 401);
            seen[c][st..st + 60].iter_mut().for_each(|v| *v = true);
        }
    }
    for (c, s) in seen.iter().enumerate() {
        let missed = s.iter().filter(|v| !**v).count();
        assert_eq!(missed, 0, "clip {c}: {missed} frames never cropped");
    }
    // Another epoch, other crops; the same epoch, the same crops (resume).
    assert_ne!(fi.train.crop_starts(0, 1), fi.train.crop_starts(0, 2));
    assert_eq!(fi.train.crop_starts(0, 3), fi.train.crop_starts(0, 3));

    // Test clips: every window (hop 30 frames, the last ending at the end).
    let test = &fi.test;
    let clips = test.clips.as_ref().expect("windows know their clip");
    let per_clip = 1 + (401usize - 60).div_ceil(30);
    assert_eq!(test.n_clips(), fold.test.len());
    assert_eq!(clips.len(), fold.test.len() * per_clip);
    let out = cochlea_model::train(
        &cfg.model,
        &cfg.train,
        &cfg.augment,
        2,
        &fi.train,
        fi.val.as_ref(),
        cochlea_model::TrainOptions::new(&mut |_| cochlea_model::Control::Continue),
    )
    .unwrap();
    let by_clip = test.predict_clips(&out.model).unwrap();
    let windows = out.model.predict_proba(&test.x, test.len()).unwrap();
    for c in 0..test.n_clips() {
        for k in 0..2 {
            let mean = windows
                .chunks(2)
                .zip(clips)
                .filter(|(_, w)| **w == c)
                .map(|(p, _)| f64::from(p[k]))
                .sum::<f64>()
                / per_clip as f64;
            assert!((mean - f64::from(by_clip[c * 2 + k])).abs() < 1e-5);
        }
    }
}

#[test]
fn raven_annotations_train_a_model_that_beats_chance_on_held_out_files() {
    let dir = tempfile::tempdir().unwrap();
    annotated_set(dir.path(), 20, 4.5);
    let cfg = config(
        dir.path(),
        "annotations = \"raven\"\nclip_frames = 60",
        "test_fraction = 0.25\nval_fraction = 0.15",
        25,
    );
    let ds = discover(&Config::load(&cfg).unwrap().data).unwrap();
    // Each selection once (Raven lists it per view), three per file.
    assert_eq!(ds.items.len(), 60);
    assert_eq!(ds.classes, ["one", "two", "zero"]);
    let (_, m) = run_once(dir.path(), &cfg);
    let fold = &m["folds"][0];
    // The file is the group: no recording on two sides.
    let side = |k: usize| -> BTreeSet<String> {
        fold["groups"][k]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g.as_str().unwrap().to_string())
            .collect()
    };
    assert!(side(0).is_disjoint(&side(2)) && side(1).is_disjoint(&side(2)));
    assert!(side(2).len() >= 4, "{:?}", side(2));
    let n_test = fold["sizes"][2].as_u64().unwrap();
    assert_eq!(n_test, 3 * side(2).len() as u64);
    // Chance is 1/3; held-out voices' words are told apart far above it.
    let acc = fold["test"]["accuracy"].as_f64().unwrap();
    assert!(acc >= 0.6, "accuracy {acc} on {n_test} held-out segments");
}

#[test]
fn a_run_scores_its_held_out_recordings_as_events() {
    let dir = tempfile::tempdir().unwrap();
    let files = annotated_set(dir.path(), 16, 4.5);
    let cfg = config(
        dir.path(),
        "annotations = \"raven\"\nbackground = true\nclip_frames = 60",
        "strategy = \"group-kfold\"\nfolds = 4\nval_fraction = 0.15",
        25,
    );
    let (run, m) = run_once(dir.path(), &cfg);
    // Every recording is held out by exactly one fold and listened to whole,
    // its three words the reference and background never an event.
    let mut heard = BTreeSet::new();
    for fold in m["folds"].as_array().unwrap() {
        let test: BTreeSet<&str> = fold["groups"][2]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g.as_str().unwrap())
            .collect();
        let events = fold["events"].as_array().unwrap();
        assert_eq!(events.len(), test.len());
        for r in events {
            let path = PathBuf::from(r["path"].as_str().unwrap());
            assert!(test.contains(path.file_name().unwrap().to_str().unwrap()));
            let (_, spans, labels) = files.iter().find(|f| f.0 == path).unwrap();
            let reference = r["reference"].as_array().unwrap();
            assert_eq!(reference.len(), 3);
            for e in reference {
                let at = (e["start"].as_f64().unwrap(), e["end"].as_f64().unwrap());
                let k = spans
                    .iter()
                    .position(|s| (s.0 - at.0).abs() < 1e-3 && (s.1 - at.1).abs() < 1e-3)
                    .unwrap();
                assert_eq!(e["label"], labels[k]);
            }
            assert!((r["duration"].as_f64().unwrap() - 4.5).abs() < 1e-3);
            for e in r["detected"].as_array().unwrap() {
                assert_ne!(e["label"], BACKGROUND);
            }
            heard.insert(path);
        }
    }
    assert_eq!(heard.len(), files.len());
    // Held-out voices' words are found at their times far above chance: a
    // detector with the onsets wrong by more than the collar scores 0.
    let ev = &m["events"]["event_based"]["overall"];
    assert_eq!(ev["counts"]["n_ref"].as_f64().unwrap(), 48.0);
    let f1 = ev["f_measure"].as_f64().unwrap();
    assert!(f1 >= 0.5, "event F1 {f1}: {}", m["events"]);
    let seg = m["events"]["segment_based"]["overall"]["f_measure"]
        .as_f64()
        .unwrap();
    assert!(seg >= 0.5, "segment F1 {seg}");
    // The report draws the timelines; events.csv lists both sides; the
    // predictions name each segment's times.
    let html = std::fs::read_to_string(run.join("report.html")).unwrap();
    let section = html
        .split("<section id=\"events\">")
        .nth(1)
        .expect("an events section")
        .split("</section>")
        .next()
        .unwrap();
    // `[events] timelines` (12) of the 16 recordings, the most errors first.
    assert_eq!(section.matches("<svg").count(), 12, "timelines drawn");
    assert!(section.contains("12 of 16 recordings"), "{section}");
    let csv = std::fs::read_to_string(run.join("events.csv")).unwrap();
    assert!(csv.starts_with("path,fold,source,start,end,label,confidence\n"));
    assert_eq!(csv.matches(",annotated,").count(), 48);
    let preds = std::fs::read_to_string(run.join("predictions.csv")).unwrap();
    assert!(preds.starts_with("path,start,end,fold,true,"), "{preds}");
}

#[test]
fn background_comes_from_unannotated_parts() {
    let dir = tempfile::tempdir().unwrap();
    let files = annotated_set(dir.path(), 6, 6.0);
    let cfg_path = config(
        dir.path(),
        "annotations = \"raven\"\nbackground = true",
        "test_fraction = 0.34",
        1,
    );
    let cfg = Config::load(&cfg_path).unwrap();
    let p = prepare::prepare(&cfg, true).unwrap();
    let bg = p.classes.iter().position(|c| c == BACKGROUND).unwrap();
    let segs: Vec<_> = p.items.iter().filter(|i| i.label == bg).collect();
    // As many as the median class (6 words each), as long as the median word.
    assert_eq!(segs.len(), 6);
    let mut lens: Vec<f64> = files
        .iter()
        .flat_map(|f| f.1.iter().map(|(a, b)| b - a))
        .collect();
    lens.sort_by(f64::total_cmp);
    let median = lens[lens.len() / 2];
    for s in &segs {
        let (a, b) = s.span.unwrap();
        // The tables hold times to 0.1 ms.
        assert!((b - a - median).abs() < 1e-3, "{a}-{b}");
        let (_, spans, _) = files.iter().find(|f| f.0 == s.path).unwrap();
        for (x, y) in spans {
            assert!(b <= *x || a >= *y, "{a}-{b} overlaps a word at {x}-{y}");
        }
        // Its group is its file, as for the words.
        assert_eq!(s.group, s.path.file_name().unwrap().to_str().unwrap());
    }
    // The same seed, the same segments.
    let again = prepare::prepare(&cfg, true).unwrap();
    assert_eq!(p.items, again.items);
}

#[test]
fn bad_annotation_rows_name_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let recs = dir.path().join("recs");
    long_file(&recs.join("a.wav"), 1.0, 1, &[]);
    let table = recs.join("a.Table.1.selections.txt");
    std::fs::write(
        &table,
        "Selection\tView\tChannel\tBegin Time (s)\tEnd Time (s)\tAnnotation\n\
         1\tSpectrogram 1\t1\t0.1\t0.4\tcall\n\
         2\tSpectrogram 1\t1\t0.5\tsoon\tcall\n",
    )
    .unwrap();
    let cfg = config(dir.path(), "annotations = \"raven\"", "", 1);
    let err = discover(&Config::load(&cfg).unwrap().data)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&table.display().to_string())
            && err.contains("line 3")
            && err.contains("soon"),
        "{err}"
    );
    // The binary says the same and fails.
    let out = pipeline(&["run", "-q", cfg.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 3"));

    std::fs::remove_file(&table).unwrap();
    let labels = recs.join("a.txt");
    std::fs::write(&labels, "0.1\t0.3\tcall\n\\\t300\t900\n0.6\t0.5\tcall\n").unwrap();
    let cfg = config(dir.path(), "annotations = \"audacity\"", "", 1);
    let err = discover(&Config::load(&cfg).unwrap().data)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&labels.display().to_string())
            && err.contains("line 3")
            && err.contains("not after"),
        "{err}"
    );
    // A Raven table without the label column says which columns it has.
    std::fs::remove_file(&labels).unwrap();
    std::fs::write(&table, "Begin Time (s)\tEnd Time (s)\tNotes\n0.1\t0.2\tx\n").unwrap();
    let cfg = config(dir.path(), "annotations = \"raven\"", "", 1);
    let err = discover(&Config::load(&cfg).unwrap().data)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("line 1") && err.contains("annotation_column"),
        "{err}"
    );
}

#[test]
fn a_manifest_with_start_and_end_columns_lists_segments() {
    let dir = tempfile::tempdir().unwrap();
    let files = annotated_set(dir.path(), 3, 4.0);
    let mut csv = String::from("path,label,start,end\n");
    for (p, spans, labels) in &files {
        for ((a, b), l) in spans.iter().zip(labels) {
            csv.push_str(&format!("{},{l},{a},{b}\n", p.display()));
        }
        // A row without a segment is the whole file.
        csv.push_str(&format!("{},whole,,\n", p.display()));
    }
    std::fs::write(dir.path().join("m.csv"), csv).unwrap();
    let cfg = config(
        dir.path(),
        &format!(
            "manifest = \"{}\"\nlabel = \"manifest\"",
            dir.path().join("m.csv").display()
        ),
        "",
        1,
    );
    let cfg = Config::load(&cfg).unwrap();
    let ds = discover(&cfg.data).unwrap();
    assert_eq!(ds.items.len(), 12);
    assert_eq!(ds.items.iter().filter(|i| i.span.is_none()).count(), 3);
    // Each file decoded once: the whole file (401 frames) and its words.
    let p = prepare::prepare(&cfg, true).unwrap();
    assert_eq!(p.items.len(), 12);
    for (it, e) in p.items.iter().zip(&p.extracted) {
        match it.span {
            None => assert_eq!(e.features.n_frames, 401),
            Some((a, b)) => assert!(e.features.n_frames.abs_diff(((b - a) * 100.0) as usize) <= 2),
        }
    }
    // Segments and whole files share their file's group.
    let groups: BTreeSet<&str> = ds.items.iter().map(|i| i.group.as_str()).collect();
    assert_eq!(groups.len(), 3);
}

/// `pipeline init DIR --out CFG`, then one epoch of `pipeline run CFG`;
/// the config text.
fn init_and_run(dir: &Path, root: &Path) -> String {
    let cfg = dir.join("init.toml");
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_pipeline"))
            .args(args)
            .env("COCHLEA_CACHE_DIR", dir.join("cache"))
            .output()
            .unwrap();
        ok(&out);
    };
    run(&[
        "init",
        root.to_str().unwrap(),
        "--out",
        cfg.to_str().unwrap(),
        "--force",
    ]);
    let text = std::fs::read_to_string(&cfg).unwrap();
    let epochs = regex::Regex::new(r"(?m)^epochs = \d+$").unwrap();
    assert!(epochs.is_match(&text), "{text}");
    std::fs::write(&cfg, epochs.replace(&text, "epochs = 1").as_ref()).unwrap();
    run(&["run", "-q", cfg.to_str().unwrap()]);
    text
}

#[test]
fn init_detects_annotations_and_long_clips() {
    let dir = tempfile::tempdir().unwrap();
    annotated_set(dir.path(), 8, 4.5);
    let text = init_and_run(dir.path(), &dir.path().join("recs"));
    assert!(text.contains("annotations = \"raven\""), "{text}");
    assert!(text.contains("strategy = \"group\""), "{text}");
    assert!(text.contains("3 classes"), "{text}");
    assert!(!text.contains("long_clips"), "words are short:\n{text}");

    // Four-second clips of one word each: random crops of a second.
    let long = dir.path().join("long");
    for f in 0..12 {
        let d = f % 2;
        long_file(
            &long.join(WORDS[d]).join(format!("{f}.wav")),
            4.0,
            f as u64,
            &[(word(d, VOICES[f % 10], 2), 0.5 + 0.2 * f as f64)],
        );
    }
    let text = init_and_run(dir.path(), &long);
    assert!(text.contains("long_clips = \"random_crop\""), "{text}");
    assert!(text.contains("clip_frames = 101"), "{text}");
}
