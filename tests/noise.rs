//! Background noise mixed into training clips (`augment.background_noise_dir`)
//! on a Speech Commands replica of the demo voices whose
//! `_background_noise_/` holds noise recordings written here: a fold's
//! training set holds its own clips' copies and no other, the normalizer
//! does not see them, and `pipeline init` + `pipeline run` use them.

mod util;

use std::path::{Path, PathBuf};

use cochlea_pipeline::Config;
use cochlea_pipeline::prepare;
use util::{Small, ok, pipeline, project, small_config, write_wav};

const VOICES: [&str; 4] = ["carf1", "f2", "m1", "usm2"];
const WORDS: [&str; 3] = ["zero", "one", "two"];

/// Uniform white noise (xorshift, seeded) and its running sum, leaky so it
/// stays bounded: a brown noise.
fn noises(n: usize, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let mut s = seed | 1;
    let white: Vec<f32> = (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
        })
        .collect();
    let mut acc = 0.0f32;
    let brown = white
        .iter()
        .map(|w| {
            acc = 0.98 * acc + 0.1 * w;
            acc
        })
        .collect();
    (white, brown)
}

/// Speech Commands: `<word>/<voice>_nohash_<n>.wav` (digits 0-2 of four
/// demo voices, two takes), voice 3 in the validation list, voice 4 in
/// the testing list, and `_background_noise_/` with a 3 s white noise, a
/// 0.1 s brown noise (shorter than every clip: tiled), a file that does not
/// decode and a README.
fn replica(root: &Path) {
    let demo = project().join("audio-samples/digits");
    let (mut val, mut test) = (String::new(), String::new());
    for (d, word) in WORDS.iter().enumerate() {
        for (v, voice) in VOICES.iter().enumerate() {
            for take in 1..=2 {
                let rel = format!("{word}/{voice}_nohash_{}.wav", take - 1);
                let to = root.join(&rel);
                std::fs::create_dir_all(to.parent().unwrap()).unwrap();
                std::fs::copy(demo.join(format!("{d}/{d}_{voice}_{take:02}.wav")), &to).unwrap();
                match v {
                    2 => val.push_str(&format!("{rel}\n")),
                    3 => test.push_str(&format!("{rel}\n")),
                    _ => {}
                }
            }
        }
    }
    std::fs::write(root.join("validation_list.txt"), val).unwrap();
    std::fs::write(root.join("testing_list.txt"), test).unwrap();
    let (white, brown) = noises(24_000, 7);
    let bg = root.join("_background_noise_");
    write_wav(&bg.join("white_noise.wav"), 8000, &white);
    write_wav(&bg.join("brown/brown_noise.wav"), 8000, &brown[..800]);
    std::fs::write(bg.join("broken.wav"), b"RIFF not really a wave").unwrap();
    std::fs::write(bg.join("README.md"), "noise\n").unwrap();
}

/// A small config on the replica; `augment` lines form an `[augment]`
/// section when not empty.
fn config(dir: &Path, name: &str, root: &Path, data: &str, augment: &str) -> PathBuf {
    let data =
        format!("layout = \"speech-commands\"\nsample_rate = 8000\nclip_frames = 40\n{data}");
    let path = small_config(
        dir,
        &Small {
            name,
            root,
            data: &data,
            split: "strategy = \"predefined\"",
            train: "batch_size = 8\nepochs = 1",
            ..Small::default()
        },
    );
    if !augment.is_empty() {
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str(&format!("[augment]\n{augment}\n"));
        std::fs::write(&path, text).unwrap();
    }
    path
}

#[test]
fn a_fold_trains_on_its_own_clips_copies_only() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("sc");
    replica(&root);
    let noise = format!(
        "background_noise_dir = \"{}\"\nbackground_noise_copies = 2\nbackground_noise_snr_db = [0.0, 10.0]",
        root.join("_background_noise_").display()
    );
    for long in ["crop", "random_crop", "windows"] {
        let data = format!("long_clips = \"{long}\"");
        let clean = Config::load(&config(tmp.path(), "clean", &root, &data, "")).unwrap();
        let noisy = Config::load(&config(tmp.path(), "noisy", &root, &data, &noise)).unwrap();
        let a = prepare::setup(&clean, true).unwrap();
        let b = prepare::setup(&noisy, true).unwrap();
        assert_eq!(b.p.items.len(), 24);
        let summary = b.p.summary.noise.as_ref().expect("noise summary");
        assert_eq!(summary.recordings, 2, "broken.wav is skipped");
        assert_eq!(summary.copies, 24 * 2);
        assert!(a.p.summary.noise.is_none());
        let fold = &b.folds[0];
        assert_eq!(fold.train.len(), 12);
        assert_eq!((fold.val.len(), fold.test.len()), (6, 6));
        let fa = prepare::fold_inputs(&clean, &a.p, &a.folds[0], a.frames).unwrap();
        let fb = prepare::fold_inputs(&noisy, &b.p, fold, b.frames).unwrap();
        // The normalizer is fitted on the clean training clips only.
        assert_eq!(fa.spec.normalizer, fb.spec.normalizer, "{long}");
        // Validation and test are untouched.
        assert_eq!(fa.test.x, fb.test.x, "{long}");
        assert_eq!(fa.val.as_ref().unwrap().x, fb.val.as_ref().unwrap().x);
        let ex = fb.train.example_len();
        let inputs = |m: &cochlea_features::FeatureMatrix| {
            let m = fb.spec.normalizer.apply(m);
            cochlea_pipeline::normalize::window_starts(m.n_frames, fb.spec.clip_frames)
                .into_iter()
                .map(|s| {
                    cochlea_pipeline::normalize::window(&m, s, fb.spec.clip_frames, fb.spec.pad)
                })
                .collect::<Vec<_>>()
        };
        // Clean examples first, as without noise, then the copies.
        let n_clean = fa.train.len();
        assert_eq!(fb.train.x[..n_clean * ex], fa.train.x[..], "{long}");
        let copies: Vec<&cochlea_features::FeatureMatrix> =
            fold.train.iter().flat_map(|&i| &b.p.noisy[i]).collect();
        assert_eq!(copies.len(), 12 * 2);
        if long == "windows" {
            let want: Vec<f32> = copies.iter().flat_map(|m| inputs(m)).flatten().collect();
            assert_eq!(fb.train.x[n_clean * ex..], want[..]);
        } else {
            // One example per clip: |train| x (1 + copies).
            assert_eq!(fb.train.len(), 12 * 3, "{long}");
            let want: Vec<f32> = copies.iter().flat_map(|m| fb.spec.prepare(m)).collect();
            assert_eq!(fb.train.x[n_clean * ex..], want[..], "{long}");
        }
        // No window of a held-out clip's copy is a training example.
        let train_rows: Vec<&[f32]> = fb.train.x.chunks(ex).collect();
        for &i in fold.val.iter().chain(&fold.test) {
            assert_eq!(b.p.noisy[i].len(), 2);
            for m in &b.p.noisy[i] {
                for w in inputs(m) {
                    assert!(!train_rows.contains(&w.as_slice()), "{long}: item {i}");
                }
            }
        }
        // A copy differs from its clip, and two copies differ.
        let i = fold.train[0];
        assert_ne!(b.p.noisy[i][0].data, b.p.extracted[i].features.data);
        assert_ne!(b.p.noisy[i][0].data, b.p.noisy[i][1].data);
        // The same config makes the same copies.
        let again = prepare::setup(&noisy, true).unwrap();
        assert_eq!(again.p.noisy[i][1].data, b.p.noisy[i][1].data);
    }
}

#[test]
fn noise_keys_are_checked_and_a_data_clip_is_no_noise() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("sc");
    replica(&root);
    let err = |augment: &str| {
        Config::load(&config(tmp.path(), "bad", &root, "", augment))
            .expect_err("rejected")
            .to_string()
    };
    let e = err("background_noise_dir = \"no/such/folder\"");
    assert!(
        e.contains("augment.background_noise_dir") && e.contains("does not exist"),
        "{e}"
    );
    let e = err("background_noise_snr_db = [10.0, 3.0]");
    assert!(e.contains("augment.background_noise_snr_db"), "{e}");
    let e = err("background_noise_copies = 1000");
    assert!(e.contains("augment.background_noise_copies"), "{e}");
    // A class folder as the noise: its files are clips of the data.
    let cfg = Config::load(&config(
        tmp.path(),
        "leak",
        &root,
        "",
        &format!("background_noise_dir = \"{}\"", root.join("one").display()),
    ))
    .unwrap();
    let e = prepare::setup(&cfg, true)
        .err()
        .expect("rejected")
        .to_string();
    assert!(
        e.contains("augment.background_noise_dir") && e.contains("carf1_nohash_0.wav"),
        "{e}"
    );
}

#[test]
fn init_mixes_speech_commands_noise_and_run_reports_it() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("sc");
    replica(&root);
    let cfg = tmp.path().join("sc.toml");
    ok(&pipeline(&[
        "init",
        root.to_str().unwrap(),
        "--out",
        cfg.to_str().unwrap(),
    ]));
    let text = std::fs::read_to_string(&cfg).unwrap();
    assert!(
        text.contains("[augment]")
            && text.contains("background_noise_dir = \"sc/_background_noise_\""),
        "{text}"
    );
    // One short epoch, a private cache and runs folder.
    let epochs = regex::Regex::new(r"(?m)^epochs = \d+$").unwrap();
    let text = epochs.replace(&text, "epochs = 1").replace(
        "[augment]",
        &format!(
            "[cache]\ndir = \"{}\"\n[report]\ndir = \"runs\"\n\n[augment]",
            tmp.path().join("cache").display()
        ),
    );
    std::fs::write(&cfg, text).unwrap();
    let out = pipeline(&["run", cfg.to_str().unwrap()]);
    ok(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("broken.wav"),
        "the bad noise file is named:\n{err}"
    );
    let run = std::fs::read_dir(tmp.path().join("runs"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("metrics.json")).unwrap()).unwrap();
    let noise = &metrics["data"]["noise"];
    assert_eq!(noise["copies"], 24, "{noise}");
    assert_eq!(noise["recordings"], 2, "{noise}");
    let report = std::fs::read_to_string(run.join("report.md")).unwrap();
    assert!(
        report.contains("Background noise: 24 noisy copies"),
        "{report}"
    );
    let html = std::fs::read_to_string(run.join("report.html")).unwrap();
    assert!(html.contains("Background noise: 24 noisy copies"));
}
