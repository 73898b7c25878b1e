//! Deltas along time, `librosa.feature.delta(data, width, order,
//! mode="interp")`, which is `scipy.signal.savgol_filter(data, width,
//! polyorder=order, deriv=order, mode="interp")`: a least-squares polynomial
//! of degree `order` fitted to `width` frames and differentiated `order`
//! times; the centred window in the interior, and at each edge the polynomial
//! fitted to the first (last) `width` frames evaluated at the edge frames.
//!
//! Every output is a fixed linear combination of `width` inputs, so the
//! weights are computed once per plan.

/// Savitzky-Golay weights for one derivative order.
#[derive(Clone, Debug)]
pub(crate) struct Delta {
    width: usize,
    order: usize,
    /// `weights[p]`: weights over a window of `width` frames for the
    /// derivative at position `p` of that window.
    weights: Vec<Vec<f64>>,
}

/// Weights `w` such that `sum_j w[j] x[j]` is the `deriv`-th derivative at
/// position `pos` of the degree-`polyorder` least-squares polynomial through
/// `x[0..window]` (unit spacing).
pub(crate) fn savgol_weights(
    window: usize,
    polyorder: usize,
    deriv: usize,
    pos: usize,
) -> Vec<f64> {
    let k = polyorder + 1;
    // Vandermonde rows centred on `pos`, so the derivative is
    // deriv! * coefficient[deriv].
    let a: Vec<Vec<f64>> = (0..window)
        .map(|j| {
            let d = j as f64 - pos as f64;
            (0..k).map(|e| d.powi(e as i32)).collect()
        })
        .collect();
    // Normal matrix G = A^T A, inverted by Gauss-Jordan with partial pivoting.
    let mut g = vec![vec![0.0; 2 * k]; k];
    for (r, row) in g.iter_mut().enumerate() {
        for c in 0..k {
            row[c] = a.iter().map(|v| v[r] * v[c]).sum();
        }
        row[k + r] = 1.0;
    }
    for col in 0..k {
        let pivot = (col..k)
            .max_by(|&x, &y| g[x][col].abs().total_cmp(&g[y][col].abs()))
            .unwrap_or(col);
        g.swap(col, pivot);
        let p = g[col][col];
        if p == 0.0 {
            return vec![0.0; window];
        }
        for v in g[col].iter_mut() {
            *v /= p;
        }
        for r in 0..k {
            if r != col {
                let f = g[r][col];
                if f != 0.0 {
                    let pivot_row = g[col].clone();
                    for (v, pv) in g[r].iter_mut().zip(pivot_row) {
                        *v -= f * pv;
                    }
                }
            }
        }
    }
    let factorial: f64 = (1..=deriv).map(|i| i as f64).product();
    (0..window)
        .map(|j| factorial * (0..k).map(|c| g[deriv][k + c] * a[j][c]).sum::<f64>())
        .collect()
}

impl Delta {
    /// Plan `order`-th deltas (1 or 2) over `width` frames (odd, >= 3).
    pub(crate) fn new(width: usize, order: usize) -> Delta {
        Delta {
            width,
            order,
            weights: (0..width)
                .map(|p| savgol_weights(width, order, order, p))
                .collect(),
        }
    }

    /// Deltas of one row of `x` into `out` (same length).
    ///
    /// librosa refuses rows shorter than `width`; here the window shrinks to
    /// the largest odd length that fits, and rows too short to fit a
    /// polynomial of degree `order` get zeros.
    pub(crate) fn apply(&self, x: &[f32], out: &mut [f32]) {
        let n = x.len();
        if n >= self.width {
            apply_with(&self.weights, x, out);
            return;
        }
        let width = if n % 2 == 1 { n } else { n.saturating_sub(1) };
        if width <= self.order {
            out.fill(0.0);
            return;
        }
        let weights: Vec<Vec<f64>> = (0..width)
            .map(|p| savgol_weights(width, self.order, self.order, p))
            .collect();
        apply_with(&weights, x, out);
    }
}

fn apply_with(weights: &[Vec<f64>], x: &[f32], out: &mut [f32]) {
    let width = weights.len();
    let half = width / 2;
    let n = x.len();
    let dot = |w: &[f64], xs: &[f32]| -> f32 {
        w.iter()
            .zip(xs)
            .map(|(a, &b)| a * f64::from(b))
            .sum::<f64>() as f32
    };
    for (t, o) in out.iter_mut().enumerate().take(n) {
        *o = if t < half {
            dot(&weights[t], &x[..width])
        } else if t + half >= n {
            dot(&weights[t + width - n], &x[n - width..])
        } else {
            dot(&weights[half], &x[t - half..=t + half])
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interior_weights_match_scipy_savgol_coeffs() {
        // scipy.signal.savgol_coeffs(9, 1, deriv=1, use="dot"): (j - 4) / 60.
        let w = savgol_weights(9, 1, 1, 4);
        for (j, v) in w.iter().enumerate() {
            assert!((v - (j as f64 - 4.0) / 60.0).abs() < 1e-12, "{j}: {v}");
        }
        // savgol_coeffs(5, 2, deriv=2, use="dot") = [2, -1, -2, -1, 2] / 7.
        let w = savgol_weights(5, 2, 2, 2);
        for (v, e) in w.iter().zip([2.0, -1.0, -2.0, -1.0, 2.0]) {
            assert!((v - e / 7.0).abs() < 1e-12);
        }
    }

    #[test]
    fn polynomials_are_differentiated_exactly_everywhere() {
        // A quadratic's first and second derivatives are exact under
        // polyorder >= 2 fits, edges included (mode="interp").
        let x: Vec<f32> = (0..20)
            .map(|t| 0.5 * (t * t) as f32 - 3.0 * t as f32 + 1.0)
            .collect();
        let mut d2 = vec![0.0; 20];
        Delta::new(9, 2).apply(&x, &mut d2);
        assert!(d2.iter().all(|v| (v - 1.0).abs() < 1e-3), "{d2:?}");
        let line: Vec<f32> = (0..20).map(|t| 2.0 * t as f32 - 5.0).collect();
        let mut d1 = vec![0.0; 20];
        Delta::new(9, 1).apply(&line, &mut d1);
        assert!(d1.iter().all(|v| (v - 2.0).abs() < 1e-4), "{d1:?}");
        // Short rows: shrunk window, still exact for a line; too short: zeros.
        let mut short = vec![0.0; 5];
        Delta::new(9, 1).apply(&line[..5], &mut short);
        assert!(short.iter().all(|v| (v - 2.0).abs() < 1e-4), "{short:?}");
        let mut tiny = vec![9.0; 2];
        Delta::new(9, 2).apply(&line[..2], &mut tiny);
        assert_eq!(tiny, [0.0, 0.0]);
    }
}
