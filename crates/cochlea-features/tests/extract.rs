//! The extractor as a whole: configuration parsing and validation, row
//! layout, invariants over random lengths and rates (proptest), and
//! bit-identical batch output whatever the thread count.

use std::path::PathBuf;

use cochlea_features::batch::{extract_files, extract_samples};
use cochlea_features::{Error, Extractor, F0Unvoiced, FeatureConfig, FeatureKind, PadMode, Preset};
use proptest::prelude::*;

fn all_kinds(contrast_bands: usize) -> FeatureConfig {
    FeatureConfig {
        kinds: FeatureKind::FRAME_KINDS.to_vec(),
        deltas: 2,
        contrast_bands,
        ..Default::default()
    }
}

fn signal(n: usize, seed: u64) -> Vec<f32> {
    // A chirp plus deterministic pseudo-noise.
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|i| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let noise = ((state >> 40) as f32 / (1u64 << 24) as f32) - 0.5;
            let t = i as f32 / 8000.0;
            0.4 * (2.0 * std::f32::consts::PI * (200.0 + 1500.0 * t) * t).sin() + 0.1 * noise
        })
        .collect()
}

#[test]
fn toml_keys_presets_and_overrides() {
    let cfg: FeatureConfig = toml::from_str("").unwrap();
    assert_eq!(cfg, FeatureConfig::default());
    assert_eq!(
        (cfg.n_fft, cfg.hop_length, cfg.n_mels, cfg.n_mfcc),
        (256, 80, 40, 13)
    );

    let cfg: FeatureConfig = toml::from_str("preset = \"librosa\"\nn_mfcc = 13").unwrap();
    assert_eq!(
        (cfg.n_fft, cfg.hop_length, cfg.n_mels, cfg.n_mfcc),
        (2048, 512, 128, 13)
    );

    // torchaudio derives the hop from the window when it is not given.
    let cfg: FeatureConfig = toml::from_str("preset = \"torchaudio\"\nn_fft = 256").unwrap();
    assert_eq!((cfg.hop_length, cfg.pad_mode), (128, PadMode::Reflect));

    let cfg: FeatureConfig =
        toml::from_str("kinds = [\"mfcc\", \"centroid\", \"zcr\"]\ntop_db = false\ndeltas = 2")
            .unwrap();
    assert_eq!(cfg.top_db, None);
    assert_eq!(
        cfg.kinds,
        [FeatureKind::Mfcc, FeatureKind::Centroid, FeatureKind::Zcr]
    );

    // Serialized settings read back identically, "off" included.
    let text = toml::to_string(&cfg).unwrap();
    assert!(text.contains("top_db = false"), "{text}");
    assert_eq!(toml::from_str::<FeatureConfig>(&text).unwrap(), cfg);
    let lib = FeatureConfig::preset(Preset::Librosa);
    assert_eq!(
        toml::from_str::<FeatureConfig>(&toml::to_string(&lib).unwrap()).unwrap(),
        lib
    );
    let json = serde_json::to_string(&lib).unwrap();
    assert_eq!(serde_json::from_str::<FeatureConfig>(&json).unwrap(), lib);

    let err = toml::from_str::<FeatureConfig>("n_mfc = 13")
        .unwrap_err()
        .to_string();
    assert!(err.contains("n_mfc"), "{err}");
    assert!(toml::from_str::<FeatureConfig>("kinds = [\"pitch\"]").is_err());

    let cfg: FeatureConfig = toml::from_str(
        "kinds = [\"mfcc\", \"f0\", \"voiced_prob\", \"chroma\"]\nf0_unvoiced = \"hold\"\n\
         f0_fmax = 500.0\nchroma_tuning = 0.25",
    )
    .unwrap();
    assert_eq!(
        (
            cfg.kinds[2],
            cfg.f0_unvoiced,
            cfg.f0_fmax,
            cfg.chroma_tuning
        ),
        (
            FeatureKind::VoicedProb,
            F0Unvoiced::Hold,
            Some(500.0),
            Some(0.25)
        )
    );
    // Unset optional keys stay unset through a round trip.
    let text = toml::to_string(&FeatureConfig::default()).unwrap();
    assert!(
        !text.contains("f0_fmax") && !text.contains("chroma_tuning"),
        "{text}"
    );
    assert_eq!(
        toml::from_str::<FeatureConfig>(&text).unwrap(),
        FeatureConfig::default()
    );
}

#[test]
fn pitch_and_chroma_keys_are_validated() {
    let pitch = |edit: &dyn Fn(&mut FeatureConfig)| {
        let mut cfg = FeatureConfig {
            kinds: vec![FeatureKind::F0],
            ..Default::default()
        };
        edit(&mut cfg);
        cfg.validate(8000).map_err(|e| e.to_string())
    };
    assert!(pitch(&|_| {}).is_ok());
    let err = pitch(&|c| c.f0_fmax = Some(4500.0)).unwrap_err();
    assert!(err.starts_with("features.f0_fmax:"), "{err}");
    let err = pitch(&|c| c.f0_fmin = 0.0).unwrap_err();
    assert!(err.starts_with("features.f0_fmin:"), "{err}");
    // One period of 65 Hz is 122 samples at 8 kHz.
    let err = pitch(&|c| c.f0_frame_length = 100).unwrap_err();
    assert!(
        err.starts_with("features.f0_frame_length:") && err.contains("period"),
        "{err}"
    );
    // Odd frames against an even n_fft would not line up.
    let err = pitch(&|c| c.f0_frame_length = 1023).unwrap_err();
    assert!(err.contains("line up"), "{err}");
    let err = pitch(&|c| c.center = false).unwrap_err();
    assert!(err.starts_with("features.f0_frame_length:"), "{err}");
    assert!(
        pitch(&|c| {
            c.center = false;
            c.n_fft = 512;
            c.f0_frame_length = 512;
        })
        .is_ok()
    );
    // 200 to 210 Hz is 9 bins, fewer than the 41-bin transition band.
    let err = pitch(&|c| {
        c.f0_fmin = 200.0;
        c.f0_fmax = Some(210.0);
    })
    .unwrap_err();
    assert!(
        err.starts_with("features.f0_fmax:") && err.contains("transition"),
        "{err}"
    );
    // The default fmax is capped at the Nyquist frequency.
    let cfg = FeatureConfig {
        kinds: vec![FeatureKind::Yin],
        ..Default::default()
    };
    assert!(cfg.validate(4000).is_ok());
    assert_eq!(cfg.f0_fmax(4000), 2000.0);

    let chroma = |edit: &dyn Fn(&mut FeatureConfig)| {
        let mut cfg = FeatureConfig {
            kinds: vec![FeatureKind::Tonnetz],
            ..Default::default()
        };
        edit(&mut cfg);
        cfg.validate(8000).map_err(|e| e.to_string())
    };
    assert!(chroma(&|_| {}).is_ok());
    let err = chroma(&|c| c.n_chroma = 0).unwrap_err();
    assert!(err.starts_with("features.n_chroma:"), "{err}");
    let err = chroma(&|c| c.chroma_tuning = Some(0.7)).unwrap_err();
    assert!(err.starts_with("features.chroma_tuning:"), "{err}");
}

#[test]
fn unvoiced_policies_never_leave_nan_and_keep_voiced_frames() {
    // A 200 Hz tone with silence before, between and after.
    let sr = 8000;
    let mut x = vec![0.0f32; 7000];
    for (i, v) in x.iter_mut().enumerate() {
        if (1200..2800).contains(&i) || (4000..5200).contains(&i) {
            *v = (0.5 * (2.0 * std::f64::consts::PI * 200.0 * i as f64 / 8000.0).sin()) as f32;
        }
    }
    let rows = |policy: F0Unvoiced| {
        let cfg = FeatureConfig {
            kinds: vec![
                FeatureKind::F0,
                FeatureKind::Voiced,
                FeatureKind::VoicedProb,
            ],
            f0_unvoiced: policy,
            f0_frame_length: 512,
            ..Default::default()
        };
        let m = Extractor::new(&cfg, sr).unwrap().compute(&x);
        (m.row(0).to_vec(), m.row(1).to_vec(), m.row(2).to_vec())
    };
    let (guess, voiced, prob) = rows(F0Unvoiced::Guess);
    assert!(voiced.contains(&1.0) && voiced.contains(&0.0));
    assert!(prob.iter().all(|&p| (0.0..=1.0).contains(&p)));
    let first = voiced.iter().position(|&v| v == 1.0).unwrap();
    let last = voiced.iter().rposition(|&v| v == 1.0).unwrap();
    for policy in [F0Unvoiced::Zero, F0Unvoiced::Hold, F0Unvoiced::Interpolate] {
        let (f0, v, _) = rows(policy);
        assert_eq!(v, voiced);
        assert!(f0.iter().all(|x| x.is_finite()));
        for t in 0..f0.len() {
            if voiced[t] == 1.0 {
                assert_eq!(f0[t], guess[t], "{policy:?} frame {t}");
                assert!(
                    (f0[t] - 200.0).abs() < 10.0,
                    "{policy:?} frame {t}: {}",
                    f0[t]
                );
            } else {
                let want = match policy {
                    F0Unvoiced::Zero => 0.0,
                    _ if t < first => guess[first],
                    _ if t > last => guess[last],
                    // Both gaps lie between frames of the same pitch.
                    _ => f0[t],
                };
                assert_eq!(f0[t], want, "{policy:?} frame {t}");
                if policy != F0Unvoiced::Zero {
                    assert!(
                        (f0[t] - 200.0).abs() < 10.0,
                        "{policy:?} frame {t}: {}",
                        f0[t]
                    );
                }
            }
        }
    }
    // Silence: nothing voiced, f0 all zero under every policy but guess.
    let cfg = FeatureConfig {
        kinds: vec![FeatureKind::F0, FeatureKind::Voiced],
        f0_unvoiced: F0Unvoiced::Interpolate,
        ..Default::default()
    };
    let m = Extractor::new(&cfg, sr).unwrap().compute(&vec![0.0; 3000]);
    assert!(m.data.iter().all(|&v| v == 0.0));
}

#[test]
fn validation_names_the_key_and_the_range() {
    let check = |cfg: FeatureConfig, sr: u32, key: &str| {
        let err = cfg.validate(sr).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, Error::Config { .. }), "{err:?}");
        assert!(msg.starts_with(&format!("features.{key}:")), "{msg}");
        assert!(
            msg.contains("allowed") || msg.contains("raise") || msg.contains("cannot"),
            "{msg}"
        );
        assert!(Extractor::new(&cfg, sr).is_err());
    };
    let d = FeatureConfig::default;
    check(FeatureConfig { n_mfcc: 41, ..d() }, 8000, "n_mfcc");
    check(
        FeatureConfig {
            fmax: Some(5000.0),
            ..d()
        },
        8000,
        "fmax",
    );
    check(
        FeatureConfig {
            hop_length: 0,
            ..d()
        },
        8000,
        "hop_length",
    );
    check(
        FeatureConfig {
            win_length: Some(300),
            ..d()
        },
        8000,
        "win_length",
    );
    check(FeatureConfig { n_fft: 1, ..d() }, 8000, "n_fft");
    check(FeatureConfig { deltas: 3, ..d() }, 8000, "deltas");
    check(
        FeatureConfig {
            delta_width: 4,
            ..d()
        },
        8000,
        "delta_width",
    );
    check(
        FeatureConfig {
            delta_width: 1,
            ..d()
        },
        8000,
        "delta_width",
    );
    check(
        FeatureConfig {
            kinds: vec![],
            ..d()
        },
        8000,
        "kinds",
    );
    check(
        FeatureConfig {
            kinds: vec![FeatureKind::Raw, FeatureKind::Mfcc],
            ..d()
        },
        8000,
        "kinds",
    );
    check(
        FeatureConfig {
            kinds: vec![FeatureKind::Mfcc, FeatureKind::Mfcc],
            ..d()
        },
        8000,
        "kinds",
    );
    // 6 octave bands from 200 Hz reach 6400 Hz, above 4 kHz Nyquist.
    check(
        FeatureConfig {
            kinds: vec![FeatureKind::Contrast],
            ..d()
        },
        8000,
        "contrast_bands",
    );
    let msg = FeatureConfig {
        kinds: vec![FeatureKind::Contrast],
        ..d()
    }
    .validate(8000)
    .unwrap_err()
    .to_string();
    assert!(msg.contains("at most 5"), "{msg}");
    check(
        FeatureConfig {
            kinds: vec![FeatureKind::Contrast],
            contrast_bands: 2,
            n_fft: 16,
            ..d()
        },
        8000,
        "contrast_fmin",
    );
    check(
        FeatureConfig {
            rolloff_percent: 1.0,
            ..d()
        },
        8000,
        "rolloff_percent",
    );
    check(
        FeatureConfig {
            top_db: Some(-1.0),
            ..d()
        },
        8000,
        "top_db",
    );
    check(
        FeatureConfig {
            kinds: vec![FeatureKind::Zcr],
            deltas: 1,
            ..d()
        },
        8000,
        "deltas",
    );
    // The same contrast settings fit at 16 kHz.
    assert!(
        FeatureConfig {
            kinds: vec![FeatureKind::Contrast],
            ..d()
        }
        .validate(16000)
        .is_ok()
    );
}

#[test]
fn rows_are_named_in_the_order_of_kinds() {
    let cfg = FeatureConfig {
        kinds: vec![
            FeatureKind::Mfcc,
            FeatureKind::Centroid,
            FeatureKind::Contrast,
            FeatureKind::Zcr,
        ],
        deltas: 2,
        contrast_bands: 4,
        ..Default::default()
    };
    let ex = Extractor::new(&cfg, 8000).unwrap();
    let names = ex.row_names();
    assert_eq!(ex.n_rows(), 13 * 3 + 1 + 5 + 1);
    assert_eq!(names[0], "mfcc_0");
    assert_eq!(names[12], "mfcc_12");
    assert_eq!(names[13], "d_mfcc_0");
    assert_eq!(names[26], "dd_mfcc_0");
    assert_eq!(names[39], "centroid");
    assert_eq!(names[40], "contrast_0");
    assert_eq!(names[44], "contrast_4");
    assert_eq!(names[45], "zcr");
}

#[test]
fn raw_is_the_waveform() {
    let cfg = FeatureConfig {
        kinds: vec![FeatureKind::Raw],
        ..Default::default()
    };
    let ex = Extractor::new(&cfg, 8000).unwrap();
    let x = signal(1234, 1);
    let m = ex.compute(&x);
    assert_eq!((m.n_rows, m.n_frames), (1, 1234));
    assert_eq!(ex.n_frames(1234), 1234);
    assert_eq!(m.data, x);
    assert_eq!(ex.row_names(), ["raw"]);
}

#[test]
fn blocks_equal_their_single_kind_extractions() {
    // Combining kinds only stacks rows: each block equals the same kind alone.
    let x = signal(5000, 7);
    let combined = Extractor::new(&all_kinds(5), 8000).unwrap();
    let all = combined.compute(&x);
    for kind in FeatureKind::FRAME_KINDS {
        let deltas = if matches!(kind, FeatureKind::Mfcc | FeatureKind::Logmel) {
            2
        } else {
            0
        };
        let cfg = FeatureConfig {
            kinds: vec![kind],
            deltas,
            contrast_bands: 5,
            ..Default::default()
        };
        let single = Extractor::new(&cfg, 8000).unwrap();
        let m = single.compute(&x);
        let at = combined
            .row_names()
            .iter()
            .position(|n| *n == single.row_names()[0])
            .unwrap();
        assert_eq!(all.rows(at..at + m.n_rows), &m.data[..], "{kind:?}");
    }
}

#[test]
fn silence_and_dc_give_finite_values() {
    let ex = Extractor::new(&all_kinds(5), 8000).unwrap();
    for x in [vec![0.0f32; 3000], vec![0.25f32; 3000], vec![], vec![1.0]] {
        let m = ex.compute(&x);
        assert_eq!(m.n_frames, 1 + x.len() / 80);
        assert!(
            m.data.iter().all(|v| v.is_finite()),
            "{:?}",
            &x[..x.len().min(3)]
        );
    }
}

#[test]
fn non_finite_input_does_not_panic() {
    let ex = Extractor::new(&all_kinds(5), 8000).unwrap();
    let mut x = signal(2000, 5);
    x[100] = f32::NAN;
    x[900] = f32::INFINITY;
    x[1500] = f32::NEG_INFINITY;
    let m = ex.compute(&x);
    assert_eq!((m.n_rows, m.n_frames), (ex.n_rows(), 26));
}

#[test]
fn uncentred_short_clip_has_no_frames() {
    let cfg = FeatureConfig {
        center: false,
        kinds: FeatureKind::FRAME_KINDS.to_vec(),
        contrast_bands: 5,
        // Uncentred pitch frames must be as long as the STFT's to line up.
        f0_frame_length: 256,
        ..Default::default()
    };
    let ex = Extractor::new(&cfg, 8000).unwrap();
    let m = ex.compute(&signal(200, 3));
    assert_eq!((m.n_rows, m.n_frames, m.data.len()), (ex.n_rows(), 0, 0));
    let m = ex.compute(&signal(256 + 80 * 3, 3));
    assert_eq!(m.n_frames, 4);
    assert!(m.data.iter().all(|v| v.is_finite()));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Frame count, shape and finiteness over random lengths, rates, FFT
    /// sizes, hops and padding.
    #[test]
    fn shapes_and_finite_values(
        n in 0usize..6000,
        sr in prop::sample::select(vec![8000u32, 11025, 16000, 22050, 44100, 48000]),
        n_fft_pow in 7u32..11,
        hop in 1usize..400,
        reflect in any::<bool>(),
        center in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let n_fft = 1usize << n_fft_pow;
        let cfg = FeatureConfig {
            n_fft,
            hop_length: hop,
            pad_mode: if reflect { PadMode::Reflect } else { PadMode::Constant },
            center,
            kinds: FeatureKind::FRAME_KINDS.to_vec(),
            deltas: 2,
            contrast_bands: 3,
            // The lowest band must hold two FFT bins.
            contrast_fmin: (2.0 * f64::from(sr) / n_fft as f64).max(200.0),
            n_mels: 20,
            // Pitch frames line up uncentred only at n_fft samples, and must
            // then hold two periods of f0_fmin.
            f0_frame_length: if center { 2048 } else { n_fft },
            f0_fmin: if center { 65.0 } else { (2.0 * f64::from(sr) / n_fft as f64).max(65.0) },
            ..Default::default()
        };
        let ex = Extractor::new(&cfg, sr).unwrap();
        let x = signal(n, seed);
        let m = ex.compute(&x);
        let want = if center { 1 + n / hop } else if n >= n_fft { 1 + (n - n_fft) / hop } else { 0 };
        prop_assert_eq!(m.n_frames, want);
        prop_assert_eq!(ex.n_frames(n), want);
        prop_assert_eq!(m.n_rows, ex.n_rows());
        prop_assert_eq!(m.n_rows, 13 * 3 + 20 * 3 + 4 + 4 + 2 + 5 + 12 + 6);
        prop_assert_eq!(m.data.len(), m.n_rows * m.n_frames);
        prop_assert!(m.data.iter().all(|v| v.is_finite()));
        // Bounded features stay in range.
        for name in ["flatness", "zcr", "voiced", "voiced_prob", "onset"] {
            let Some(r) = ex.row_names().iter().position(|r| r == name) else {
                continue;
            };
            prop_assert!(m.row(r).iter().all(|&v| v >= 0.0));
        }
        for name in ["flatness", "zcr", "voiced", "voiced_prob"] {
            let r = ex.row_names().iter().position(|r| r == name).unwrap();
            prop_assert!(m.row(r).iter().all(|&v| (0.0..=1.0 + 1e-6).contains(&v)));
        }
        let nyquist = sr as f32 / 2.0;
        for name in ["centroid", "rolloff"] {
            let r = ex.row_names().iter().position(|r| r == name).unwrap();
            prop_assert!(m.row(r).iter().all(|&v| (0.0..=nyquist * 1.0001).contains(&v)));
        }
    }
}

#[test]
fn batch_output_is_bit_identical_for_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let mut paths: Vec<PathBuf> = Vec::new();
    for i in 0..24 {
        let path = dir.path().join(format!("clip{i}.wav"));
        let spec = hound::WavSpec {
            channels: 1 + (i % 2) as u16,
            sample_rate: if i % 3 == 0 { 16000 } else { 8000 },
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(&path, spec).unwrap();
        for v in signal(2000 + 311 * i, i as u64) {
            for c in 0..spec.channels {
                w.write_sample((v * 30000.0 / f32::from(c + 1)) as i16)
                    .unwrap();
            }
        }
        w.finalize().unwrap();
        paths.push(path);
    }
    paths.push(dir.path().join("missing.wav"));
    let ex = Extractor::new(&all_kinds(5), 8000).unwrap();
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let done = std::sync::atomic::AtomicUsize::new(0);
        let out = pool.install(|| {
            extract_files(&paths, &ex, &|_| {
                done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            })
        });
        assert_eq!(done.into_inner(), paths.len());
        out
    };
    let one = run(1);
    let two = run(2);
    let four = run(4);
    assert_eq!(one.len(), paths.len());
    for ((a, b), c) in one.iter().zip(&two).zip(&four) {
        match (a, b, c) {
            (Ok((ia, fa)), Ok((ib, fb)), Ok((ic, fc))) => {
                assert_eq!(ia, ib);
                assert_eq!(ia, ic);
                let bits = |m: &cochlea_features::FeatureMatrix| {
                    m.data.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
                };
                assert_eq!(bits(fa), bits(fb));
                assert_eq!(bits(fa), bits(fc));
                assert_eq!((fa.n_rows, fa.n_frames), (fb.n_rows, fb.n_frames));
            }
            (Err(a), Err(b), Err(c)) => {
                assert_eq!(a.to_string(), b.to_string());
                assert_eq!(a.to_string(), c.to_string());
            }
            _ => panic!("thread counts disagree on success"),
        }
    }
    // Order is the input order, and the missing file is reported, not skipped.
    assert!(
        one.last()
            .unwrap()
            .as_ref()
            .unwrap_err()
            .to_string()
            .contains("missing.wav")
    );
    let first = one[0].as_ref().unwrap();
    assert_eq!(first.0.path, paths[0]);

    // In-memory batches agree with one-by-one extraction.
    let clips: Vec<Vec<f32>> = (0..10).map(|i| signal(1000 + 500 * i, i as u64)).collect();
    let batch = extract_samples(&clips, &ex);
    for (clip, m) in clips.iter().zip(&batch) {
        assert_eq!(&ex.compute(clip), m);
    }
}
