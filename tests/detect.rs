//! `pipeline detect` end to end: a small real model trained on three demo
//! words and a background class of noise finds words placed at known times
//! in a longer recording, within one hop of the truth, and nothing in the
//! silence between them; standard input (WAV with a streaming header, raw
//! PCM) gives the events of the file; Audacity and Raven outputs read back;
//! annotations are scored; a bad file is reported and the batch goes on.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use cochlea_pipeline::detect::read_annotations;

mod util;
use util::{Small, ok, pipeline, project, small_config, write_wav};

const RATE: u32 = 8000;
const WORDS: [&str; 3] = ["3", "5", "7"];
/// Seconds between window starts in these tests.
const HOP: f64 = 0.1;

/// A deterministic noise source (xorshift), uniform in -1..1.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }
}

fn read_wav(path: &Path) -> Vec<f32> {
    hound::WavReader::open(path)
        .unwrap()
        .samples::<i16>()
        .map(|s| f32::from(s.unwrap()) / 32768.0)
        .collect()
}

/// The folder of the shared model and recordings; trained once per run.
fn setup() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("detect-test")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .unwrap()
            .keep();
        let digits = project().join("audio-samples/digits");
        let train = dir.join("train");
        for w in WORDS {
            std::fs::create_dir_all(train.join(w)).unwrap();
            for e in std::fs::read_dir(digits.join(w)).unwrap() {
                let p = e.unwrap().path();
                std::fs::copy(&p, train.join(w).join(p.file_name().unwrap())).unwrap();
            }
        }
        // The background class: noise from near silence to loud, of
        // clip-like lengths.
        std::fs::create_dir_all(train.join("background")).unwrap();
        let mut n = Noise(0x5eed);
        for i in 0..60 {
            let level = 0.0003 * 1.1f32.powi(i % 40);
            let len = 4000 + (i as usize * 97) % 4000;
            let x: Vec<f32> = (0..len).map(|_| level * n.next()).collect();
            write_wav(&train.join(format!("background/bg_{i:02}.wav")), RATE, &x);
        }
        let cfg = small_config(
            &dir,
            &Small {
                name: "detect",
                root: &train,
                data: &format!("label = \"folder\"\nsample_rate = {RATE}\nclip_frames = 80"),
                split: "strategy = \"stratified\"\ntest_fraction = 0.15\nval_fraction = 0.1",
                train: "batch_size = 32\nepochs = 12",
                ..Small::default()
            },
        );
        ok(&pipeline(&["run", cfg.to_str().unwrap(), "--quiet"]));
        let run = std::fs::read_dir(dir.join("runs"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        std::fs::rename(run, dir.join("model-run")).unwrap();
        make_recording(&dir);
        dir
    })
}

/// Where the words of the recording are, seconds.
struct Truth {
    label: &'static str,
    start: f64,
    end: f64,
}

/// The voiced span of a clip: the first and last 10 ms block whose RMS
/// reaches a tenth of the loudest block's, in seconds.
fn voiced(x: &[f32]) -> (f64, f64) {
    let block = (RATE / 100) as usize;
    let rms: Vec<f32> = x
        .chunks(block)
        .map(|b| (b.iter().map(|v| v * v).sum::<f32>() / b.len() as f32).sqrt())
        .collect();
    let top = rms.iter().copied().fold(0.0, f32::max);
    let first = rms.iter().position(|&r| r >= 0.1 * top).unwrap();
    let last = rms.iter().rposition(|&r| r >= 0.1 * top).unwrap();
    (
        (first * block) as f64 / f64::from(RATE),
        ((last + 1) * block) as f64 / f64::from(RATE),
    )
}

/// 20 s of noise with five words at known times; the truth as a CSV.
fn make_recording(dir: &Path) {
    let digits = project().join("audio-samples/digits");
    let clips = [
        ("3", "3_m1_01.wav", 1.5),
        ("5", "5_f2_02.wav", 5.0),
        ("7", "7_usm2_03.wav", 8.7),
        ("3", "3_scm7_04.wav", 12.2),
        ("5", "5_carf1_05.wav", 16.4),
    ];
    let mut n = Noise(42);
    let mut x: Vec<f32> = (0..20 * RATE as usize).map(|_| 0.002 * n.next()).collect();
    let mut truth = String::from("path,start,end,label\n");
    for (label, file, at) in clips {
        let c = read_wav(&digits.join(label).join(file));
        let o = (at * f64::from(RATE)) as usize;
        for (i, v) in c.iter().enumerate() {
            x[o + i] += v;
        }
        let (s, e) = voiced(&c);
        truth.push_str(&format!("long.wav,{:.4},{:.4},{label}\n", at + s, at + e));
    }
    write_wav(&dir.join("long.wav"), RATE, &x);
    std::fs::write(dir.join("truth.csv"), truth).unwrap();
}

fn truth(dir: &Path) -> Vec<Truth> {
    read_annotations(&dir.join("truth.csv"))
        .unwrap()
        .into_iter()
        .map(|a| Truth {
            label: WORDS.into_iter().find(|w| *w == a.label).unwrap(),
            start: a.start,
            end: a.end,
        })
        .collect()
}

/// `(start, end, label)` of a CSV of events.
fn events_csv(text: &str) -> Vec<(f64, f64, String)> {
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("path,start,end,label,confidence"),
        "{text}"
    );
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                f[1].parse().unwrap(),
                f[2].parse().unwrap(),
                f[3].to_string(),
            )
        })
        .collect()
}

fn detect(dir: &Path, extra: &[&str]) -> std::process::Output {
    let model = dir.join("model-run");
    let mut args = vec!["detect", "--quiet", "--model", model.to_str().unwrap()];
    let hop = HOP.to_string();
    args.extend(["--hop", &hop]);
    args.extend(extra);
    pipeline(&args)
}

fn sorted(mut v: Vec<(f64, f64, String)>) -> Vec<(f64, f64, String)> {
    v.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.2.cmp(&b.2)));
    v
}

#[test]
fn words_are_found_within_one_hop_and_silence_stays_empty() {
    let dir = setup();
    let long = dir.join("long.wav");
    let out = detect(dir, &[long.to_str().unwrap()]);
    ok(&out);
    let ev = sorted(events_csv(&String::from_utf8_lossy(&out.stdout)));
    let truth = truth(dir);
    for t in &truth {
        let hit = ev
            .iter()
            .find(|e| e.2 == t.label && (e.0 - t.start).abs() <= HOP + 1e-9);
        assert!(
            hit.is_some(),
            "{} at {:.3}-{:.3} s: no event of it starting within {HOP} s; events: {ev:?}",
            t.label,
            t.start,
            t.end
        );
    }
    // Nothing where there is only noise: every event overlaps a word.
    for e in &ev {
        assert!(
            truth
                .iter()
                .any(|t| e.0 < t.end + HOP && e.1 > t.start - HOP),
            "an event in the silence: {e:?}; truth at {:?}",
            truth.iter().map(|t| (t.start, t.end)).collect::<Vec<_>>()
        );
    }
    assert_eq!(ev.len(), truth.len(), "one event per word: {ev:?}");
}

#[test]
fn standard_input_gives_the_events_of_the_file() {
    let dir = setup();
    let long = dir.join("long.wav");
    let file = detect(dir, &[long.to_str().unwrap()]);
    ok(&file);
    let want = sorted(events_csv(&String::from_utf8_lossy(&file.stdout)));
    assert!(!want.is_empty());
    let bytes = std::fs::read(&long).unwrap();
    // A streaming header (arecord): sizes unknown, 0xFFFFFFFF.
    let mut streaming = bytes.clone();
    streaming[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    streaming[40..44].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(&streaming[36..40], b"data");
    let raw = bytes[44..].to_vec();
    for (what, input, extra) in [
        ("wav", bytes.clone(), vec![]),
        ("streaming wav", streaming, vec![]),
        (
            "raw",
            raw,
            vec!["--raw-rate", "8000", "--raw-format", "s16le"],
        ),
    ] {
        let model = dir.join("model-run");
        let hop = HOP.to_string();
        let mut child = Command::new(env!("CARGO_BIN_EXE_pipeline"))
            .args([
                "detect",
                "--quiet",
                "--model",
                model.to_str().unwrap(),
                "--hop",
                &hop,
            ])
            .args(&extra)
            .arg("-")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        // Fed in small pieces, as a recorder would.
        let feeder = std::thread::spawn(move || {
            for piece in input.chunks(1000) {
                stdin.write_all(piece).unwrap();
            }
        });
        let out = child.wait_with_output().unwrap();
        feeder.join().unwrap();
        ok(&out);
        let text = String::from_utf8_lossy(&out.stdout);
        let got = sorted(
            events_csv(&text)
                .into_iter()
                .map(|e| (e.0, e.1, e.2))
                .collect(),
        );
        assert_eq!(got, want, "{what}");
        assert!(
            text.lines().skip(1).all(|l| l.starts_with("-,")),
            "{what}: {text}"
        );
    }
}

#[test]
fn audacity_and_raven_outputs_read_back_and_annotations_are_scored() {
    let dir = setup();
    let tmp = tempfile::tempdir().unwrap();
    let inputs = tmp.path().join("in");
    std::fs::create_dir_all(&inputs).unwrap();
    std::fs::copy(dir.join("long.wav"), inputs.join("long.wav")).unwrap();
    std::fs::copy(dir.join("long.wav"), inputs.join("again.wav")).unwrap();
    std::fs::write(inputs.join("broken.wav"), b"RIFF but not audio").unwrap();
    let csv = detect(dir, &[dir.join("long.wav").to_str().unwrap()]);
    ok(&csv);
    let want = sorted(events_csv(&String::from_utf8_lossy(&csv.stdout)));
    for format in ["audacity", "raven"] {
        let out_dir = tmp.path().join(format);
        let out = detect(
            dir,
            &[
                inputs.to_str().unwrap(),
                "--format",
                format,
                "--out",
                out_dir.to_str().unwrap(),
            ],
        );
        assert_eq!(
            out.status.code(),
            Some(1),
            "a bad file makes the exit code 1"
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("broken.wav") && !err.contains("panicked"),
            "{err}"
        );
        let name = if format == "raven" {
            "long.Table.1.selections.txt"
        } else {
            "long.txt"
        };
        let got = read_annotations(&out_dir.join(name)).unwrap();
        let got = sorted(got.into_iter().map(|a| (a.start, a.end, a.label)).collect());
        assert_eq!(got.len(), want.len(), "{format}");
        for (g, w) in got.iter().zip(&want) {
            assert!(
                (g.0 - w.0).abs() < 1e-3 && (g.1 - w.1).abs() < 1e-3 && g.2 == w.2,
                "{format}: {g:?} vs {w:?}"
            );
        }
        assert!(out_dir.join(name.replace("long", "again")).is_file());
    }

    // Scored against the truth: the metrics and the timeline are written.
    let report = tmp.path().join("report");
    let truth = tmp.path().join("truth.csv");
    let text = std::fs::read_to_string(dir.join("truth.csv")).unwrap();
    std::fs::write(
        &truth,
        text.replace("long.wav", &dir.join("long.wav").display().to_string()),
    )
    .unwrap();
    let out = detect(
        dir,
        &[
            dir.join("long.wav").to_str().unwrap(),
            "--labels",
            truth.to_str().unwrap(),
            "--report",
            report.to_str().unwrap(),
        ],
    );
    ok(&out);
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("metrics.json")).unwrap())
            .unwrap();
    let f1 = m["event_based"]["overall"]["f_measure"].as_f64().unwrap();
    assert!(f1 > 0.5, "event F1 {f1}: {m}");
    assert_eq!(
        m["event_based"]["overall"]["counts"]["n_ref"].as_f64(),
        Some(5.0)
    );
    let html = std::fs::read_to_string(report.join("timeline.html")).unwrap();
    assert_eq!(html.matches("<svg").count(), 1);
    assert!(String::from_utf8_lossy(&out.stderr).contains("event-based"));
}

#[test]
fn classify_per_window_rows_have_times() {
    let dir = setup();
    let out = pipeline(&[
        "classify",
        "--quiet",
        "--model",
        dir.join("model-run").to_str().unwrap(),
        dir.join("long.wav").to_str().unwrap(),
        "--windows",
        "--per-window",
        "--format",
        "json",
    ]);
    ok(&out);
    let rows: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(rows.len() > 10);
    let mut last_start = -1.0;
    for r in &rows {
        let (s, e) = (r["start"].as_f64().unwrap(), r["end"].as_f64().unwrap());
        assert!(s > last_start && e > s && e <= 20.0 + 1e-9, "{r}");
        assert!(
            e - s <= 0.8 + 1e-6 && e - s > 0.7,
            "a window is 80 frames of 10 ms: {r}"
        );
        last_start = s;
    }
    assert!((rows.last().unwrap()["end"].as_f64().unwrap() - 20.0).abs() < 0.011);
}
