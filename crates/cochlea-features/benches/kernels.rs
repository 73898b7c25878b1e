//! criterion benchmarks of the per-clip kernels at the project's defaults
//! (8 kHz, n_fft 256, hop 80, 40 mels, 13 MFCCs) on one second of audio
//! (101 frames): `cargo bench -p cochlea-features --bench kernels`.

use std::hint::black_box;

use cochlea_features::mel::MelBank;
use cochlea_features::mfcc::Mfcc;
use cochlea_features::stft::{Stft, StftScratch};
use cochlea_features::{Extractor, FeatureConfig, FeatureKind, MelNorm, MelScale};
use criterion::{Criterion, criterion_group, criterion_main};

const SR: u32 = 8000;

fn clip() -> Vec<f32> {
    (0..SR as usize)
        .map(|i| {
            let t = i as f32 / SR as f32;
            0.5 * (2.0 * std::f32::consts::PI * (200.0 + 1500.0 * t) * t).sin()
        })
        .collect()
}

fn kernels(c: &mut Criterion) {
    let cfg = FeatureConfig::default();
    let x = clip();
    let stft = Stft::new(&cfg);
    let n_frames = stft.n_frames(x.len());
    let mut scratch = StftScratch::default();
    c.bench_function("stft_1s_8k", |b| {
        b.iter(|| {
            let mut acc = 0.0;
            stft.for_each_frame(black_box(&x), &mut scratch, |_, bins| acc += bins[10].re);
            acc
        })
    });

    let bank = MelBank::new(SR, 256, 40, 0.0, 4000.0, MelScale::Slaney, MelNorm::Slaney);
    let power: Vec<f32> = (0..129 * n_frames)
        .map(|i| ((i % 97) as f32).sqrt())
        .collect();
    let mut mel = vec![0.0f32; 40];
    c.bench_function("mel_101_frames", |b| {
        b.iter(|| {
            for frame in power.chunks_exact(129) {
                bank.apply(black_box(frame), &mut mel);
            }
            mel[3]
        })
    });

    let dct = Mfcc::new(13, 40, 0.0);
    let logmel: Vec<f32> = (0..40 * n_frames).map(|i| -((i % 61) as f32)).collect();
    let mut coeffs = vec![0.0f32; 13];
    c.bench_function("dct_101_frames", |b| {
        b.iter(|| {
            for frame in logmel.chunks_exact(40) {
                dct.apply(black_box(frame), &mut coeffs);
            }
            coeffs[1]
        })
    });

    let mfcc = Extractor::new(&cfg, SR).expect("default config is valid");
    c.bench_function("extract_mfcc_1s", |b| {
        b.iter(|| mfcc.compute(black_box(&x)))
    });

    let all = FeatureConfig {
        kinds: vec![
            FeatureKind::Mfcc,
            FeatureKind::Centroid,
            FeatureKind::Bandwidth,
            FeatureKind::Rolloff,
            FeatureKind::Flatness,
            FeatureKind::Contrast,
            FeatureKind::Zcr,
            FeatureKind::Rms,
        ],
        deltas: 2,
        contrast_bands: 5,
        ..FeatureConfig::default()
    };
    let all = Extractor::new(&all, SR).expect("valid config");
    c.bench_function("extract_all_kinds_1s", |b| {
        b.iter(|| all.compute(black_box(&x)))
    });
}

criterion_group!(benches, kernels);
criterion_main!(benches);
