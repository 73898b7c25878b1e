//! Synthetic data and helpers shared by the integration tests.
#![allow(dead_code)]

use std::sync::{Mutex, MutexGuard};

use cochlea_model::tch::{self, Device, Kind, Tensor};
use cochlea_model::{BlockConfig, Control, Dataset, EpochMetrics, NetConfig};

/// libtorch's random generator and thread count are process-wide: tests
/// that train hold this lock so their draws do not interleave.
pub fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

pub const FEATURES: usize = 8;
pub const FRAMES: usize = 64;
/// Oscillation periods (frames) of the four classes.
pub const PERIODS: [f64; 4] = [3.0, 5.0, 8.0, 13.0];

fn ints(high: i64, n: usize) -> Vec<i64> {
    Vec::<i64>::try_from(Tensor::randint(
        high,
        [n as i64],
        (Kind::Int64, Device::Cpu),
    ))
    .expect("ints")
}

fn floats(n: usize) -> Vec<f32> {
    Vec::<f32>::try_from(Tensor::rand([n as i64], (Kind::Float, Device::Cpu))).expect("floats")
}

/// Classes that differ only in the frequency of a 24-frame burst
/// (amplitude 1.5) placed in a random feature row, at a random time and
/// phase, over Gaussian noise (standard deviation 0.5). Every class has the
/// same energy and the same places, so neither
/// per-row averages nor positions tell them apart: the network must learn
/// temporal filters.
pub fn frequency_task(n: usize, seed: i64) -> Dataset {
    tch::manual_seed(seed);
    let noise = Vec::<f32>::try_from(Tensor::randn(
        [(n * FEATURES * FRAMES) as i64],
        (Kind::Float, Device::Cpu),
    ))
    .expect("noise");
    let classes = ints(4, n);
    let rows = ints(FEATURES as i64, n);
    let starts = ints((FRAMES - 24) as i64, n);
    let phases = floats(n);
    let mut x: Vec<f32> = noise.iter().map(|v| 0.5 * v).collect();
    for i in 0..n {
        let period = PERIODS[classes[i] as usize];
        let base = (i * FEATURES + rows[i] as usize) * FRAMES + starts[i] as usize;
        for k in 0..24 {
            let arg = std::f64::consts::TAU * (k as f64 / period + phases[i] as f64);
            x[base + k] += (1.5 * arg.sin()) as f32;
        }
    }
    Dataset::new(x, classes, FEATURES, FRAMES).expect("dataset")
}

/// Classes that differ in the mean of feature row `class` (easy and
/// linearly separable from pooled features).
pub fn offset_task(n: usize, n_classes: usize, seed: i64) -> Dataset {
    tch::manual_seed(seed);
    let mut x = Vec::<f32>::try_from(Tensor::randn(
        [(n * FEATURES * FRAMES) as i64],
        (Kind::Float, Device::Cpu),
    ))
    .expect("noise");
    let y = ints(n_classes as i64, n);
    for (i, &c) in y.iter().enumerate() {
        let row = (i * FEATURES + c as usize % FEATURES) * FRAMES;
        for v in &mut x[row..row + FRAMES] {
            *v += 1.0;
        }
    }
    Dataset::new(x, y, FEATURES, FRAMES).expect("dataset")
}

/// A small network for quick tests.
pub fn small_net() -> NetConfig {
    let block = |filters, kernel, pool| BlockConfig {
        filters,
        kernel,
        pool,
        ..BlockConfig::default()
    };
    NetConfig {
        blocks: vec![block(16, 5, 2), block(32, 3, 2)],
        dropout: 0.1,
        ..NetConfig::default()
    }
}

/// An epoch callback that records the metrics.
pub fn recorder(log: &mut Vec<EpochMetrics>) -> impl FnMut(&EpochMetrics) -> Control + '_ {
    move |m| {
        log.push(m.clone());
        Control::Continue
    }
}

/// Fraction of rows of `logits` (`n x k`) whose arg-max is the label.
pub fn accuracy(logits: &[f32], y: &[i64]) -> f64 {
    let k = logits.len() / y.len();
    let hits = logits
        .chunks(k)
        .zip(y)
        .filter(|&(row, &c)| {
            let best = row
                .iter()
                .enumerate()
                .fold(0, |b, (j, v)| if *v > row[b] { j } else { b });
            best as i64 == c
        })
        .count();
    hits as f64 / y.len() as f64
}

/// Mean cross-entropy of logits (`n x k`) against labels, in f64.
pub fn cross_entropy(logits: &[f32], y: &[i64]) -> f64 {
    let k = logits.len() / y.len();
    let total: f64 = logits
        .chunks(k)
        .zip(y)
        .map(|(row, &c)| {
            let m = row.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b)) as f64;
            let lse = m + row.iter().map(|&v| (v as f64 - m).exp()).sum::<f64>().ln();
            lse - row[c as usize] as f64
        })
        .sum();
    total / y.len() as f64
}
