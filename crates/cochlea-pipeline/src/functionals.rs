//! Functionals: per feature row, statistics of a clip over time
//! (`features.pooling = "functionals"`), an eGeMAPS-style summary (Eyben et
//! al. 2016) for models that need no time axis (`model.kind = "dense"`).
//!
//! Computed on the normalized frames of the whole clip, before and instead
//! of length fitting, so padding never enters a statistic. The model input
//! is one frame of `rows x N_FUNCTIONALS` values, row-major: the seven
//! functionals of row 0, then those of row 1, ...
//!
//! Reference: numpy, through the golden file
//! `tests/golden/functionals/functionals.json` written by the committed
//! `make_functionals.py` beside it; the tests below check against it and
//! against values computed by hand. `export::graph` computes the same with
//! tensor operations (checked by `pipeline export` against this path).

use cochlea_features::{FeatureMatrix, Pooling};

/// Names of the functionals, in output order.
pub const NAMES: [&str; 7] = ["mean", "std", "p10", "p50", "p90", "range", "slope"];

/// Number of functionals per row.
pub const N_FUNCTIONALS: usize = NAMES.len();

/// The model's input shape `(rows, frames)` for feature matrices of
/// `rows` rows fitted to `frames` frames under `pooling`: functionals
/// make one frame of `rows x N_FUNCTIONALS` values.
pub fn input_shape(pooling: Pooling, rows: usize, frames: usize) -> (usize, usize) {
    match pooling {
        Pooling::None => (rows, frames),
        Pooling::Functionals => (rows * N_FUNCTIONALS, 1),
    }
}

/// `numpy.percentile(x, q)` with its default linear interpolation between
/// the two nearest ranks, `sorted` ascending and non-empty.
fn percentile(sorted: &[f64], q: f64) -> f64 {
    let pos = q / 100.0 * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// The functionals of one row of frames, in f64: mean, population standard
/// deviation (`numpy.std`), 10th, 50th and 90th percentiles, range (max -
/// min) and the least-squares slope per frame (`numpy.polyfit(t, x, 1)[0]`,
/// 0 for a single frame). An empty row gives zeros.
pub fn of_row(x: &[f32]) -> [f64; N_FUNCTIONALS] {
    if x.is_empty() {
        return [0.0; N_FUNCTIONALS];
    }
    let n = x.len() as f64;
    let v: Vec<f64> = x.iter().map(|&a| f64::from(a)).collect();
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / n;
    let mut sorted = v.clone();
    sorted.sort_by(f64::total_cmp);
    let t_mean = (n - 1.0) / 2.0;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (t, a) in v.iter().enumerate() {
        let dt = t as f64 - t_mean;
        sxy += dt * (a - mean);
        sxx += dt * dt;
    }
    let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    [
        mean,
        var.sqrt(),
        percentile(&sorted, 10.0),
        percentile(&sorted, 50.0),
        percentile(&sorted, 90.0),
        sorted[sorted.len() - 1] - sorted[0],
        slope,
    ]
}

/// The functionals of every row of `m`: `rows x N_FUNCTIONALS` values,
/// row-major (one model input frame). Non-finite values become 0, as
/// normalization does.
pub fn of_matrix(m: &FeatureMatrix) -> Vec<f32> {
    let mut out = Vec::with_capacity(m.n_rows * N_FUNCTIONALS);
    for r in 0..m.n_rows {
        let row = &m.data[r * m.n_frames..(r + 1) * m.n_frames];
        out.extend(of_row(row).iter().map(|&v| {
            let v = v as f32;
            if v.is_finite() { v } else { 0.0 }
        }));
    }
    out
}

/// Names of the functional inputs: `<row>.<functional>`.
pub fn names(rows: &[String]) -> Vec<String> {
    rows.iter()
        .flat_map(|r| NAMES.iter().map(move |f| format!("{r}.{f}")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_functionals() {
        // x = [1, 3, 2, 6]: mean 3, var (4 + 0 + 1 + 9) / 4 = 3.5; sorted
        // [1, 2, 3, 6]: p10 at rank 0.3 -> 1.3, p50 at 1.5 -> 2.5, p90 at
        // 2.7 -> 3 + 0.7 * 3 = 5.1; range 5; slope: t - 1.5 = [-1.5, -0.5,
        // 0.5, 1.5], sum dt (x - 3) = 3 + 0 - 0.5 + 4.5 = 7, sum dt^2 = 5.
        let f = of_row(&[1.0, 3.0, 2.0, 6.0]);
        let want = [3.0, 3.5f64.sqrt(), 1.3, 2.5, 5.1, 5.0, 1.4];
        for (i, (a, b)) in f.iter().zip(want).enumerate() {
            assert!((a - b).abs() < 1e-12, "{}: {a} vs {b}", NAMES[i]);
        }
        let one = of_row(&[4.0]);
        assert_eq!(one, [4.0, 0.0, 4.0, 4.0, 4.0, 0.0, 0.0]);
    }

    #[test]
    fn functionals_match_numpy() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/golden/functionals/functionals.json"
        );
        let text = std::fs::read_to_string(path).expect("golden file");
        let g: serde_json::Value = serde_json::from_str(&text).expect("json");
        let rows = g["rows"].as_array().expect("rows");
        assert!(rows.len() >= 10);
        for (row, want) in rows.iter().zip(g["functionals"].as_array().expect("f")) {
            let x: Vec<f32> = row
                .as_array()
                .expect("row")
                .iter()
                .map(|v| v.as_f64().expect("value") as f32)
                .collect();
            let got = of_row(&x);
            for (i, (a, w)) in got.iter().zip(want.as_array().expect("values")).enumerate() {
                let w = w.as_f64().expect("value");
                assert!(
                    (a - w).abs() <= 1e-9 * w.abs().max(1.0),
                    "{} frames, {}: {a} vs numpy {w}",
                    x.len(),
                    NAMES[i]
                );
            }
        }
    }
}
