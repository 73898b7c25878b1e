//! Small, dependency-free SVG charts for the self-contained HTML report:
//! a confusion heatmap, line charts (learning curves) and grouped bars.

use std::fmt::Write;

/// Escapes text for XML/HTML.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Series colours, in order (from matplotlib's "tab10").
pub const PALETTE: [&str; 8] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
];

/// A named series of (x, y) points.
pub struct Series<'a> {
    /// Legend name.
    pub name: &'a str,
    /// Points.
    pub points: Vec<(f64, f64)>,
    /// CSS colour.
    pub color: &'a str,
    /// Dashed line.
    pub dashed: bool,
}

/// Blue scale from white (0) to dark blue (1).
fn blue(t: f64) -> String {
    let t = t.clamp(0.0, 1.0);
    let lerp = |a: f64, b: f64| (a + (b - a) * t).round() as u8;
    format!(
        "rgb({},{},{})",
        lerp(247.0, 8.0),
        lerp(251.0, 48.0),
        lerp(255.0, 107.0)
    )
}

/// Confusion matrix heatmap: rows true class, columns predicted, colour by
/// row-normalised rate, counts written in the cells.
pub fn confusion(classes: &[String], m: &[Vec<usize>]) -> String {
    let k = classes.len();
    let cell = if k <= 12 {
        40.0
    } else {
        (480.0 / k as f64).max(12.0)
    };
    let (left, top) = (110.0, 40.0);
    let size = cell * k as f64;
    let (w, h) = (left + size + 20.0, top + size + 60.0);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12" role="img" aria-label="confusion matrix">"#
    );
    let _ = write!(
        s,
        r#"<text x="{}" y="16" text-anchor="middle" font-weight="bold">predicted</text>"#,
        left + size / 2.0
    );
    let _ = write!(
        s,
        r#"<text x="14" y="{}" text-anchor="middle" font-weight="bold" transform="rotate(-90 14 {})">true</text>"#,
        top + size / 2.0,
        top + size / 2.0
    );
    for (i, row) in m.iter().enumerate() {
        let total: usize = row.iter().sum();
        for (j, &c) in row.iter().enumerate() {
            let rate = if total > 0 {
                c as f64 / total as f64
            } else {
                0.0
            };
            let (x, y) = (left + j as f64 * cell, top + i as f64 * cell);
            let _ = write!(
                s,
                r##"<rect x="{x}" y="{y}" width="{cell}" height="{cell}" fill="{}" stroke="#ddd"><title>true {} / predicted {}: {c} ({:.1}%)</title></rect>"##,
                blue(rate),
                esc(&classes[i]),
                esc(&classes[j]),
                rate * 100.0
            );
            if c > 0 && cell >= 18.0 {
                let fg = if rate > 0.5 { "#fff" } else { "#222" };
                let _ = write!(
                    s,
                    r#"<text x="{}" y="{}" text-anchor="middle" dominant-baseline="central" fill="{fg}">{c}</text>"#,
                    x + cell / 2.0,
                    y + cell / 2.0
                );
            }
        }
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" text-anchor="end" dominant-baseline="central">{}</text>"#,
            left - 6.0,
            top + (i as f64 + 0.5) * cell,
            esc(&classes[i])
        );
    }
    for (j, c) in classes.iter().enumerate() {
        let (x, y) = (left + (j as f64 + 0.5) * cell, top + size + 14.0);
        let _ = write!(
            s,
            r#"<text x="{x}" y="{y}" text-anchor="middle">{}</text>"#,
            esc(c)
        );
    }
    s.push_str("</svg>");
    s
}

/// The opening `<svg>` tag of a chart and its title.
fn chart_open(w: f64, h: f64, title: &str) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="11" role="img" aria-label="{}">"#,
        esc(title)
    );
    let _ = write!(
        s,
        r#"<text x="{}" y="18" text-anchor="middle" font-size="13" font-weight="bold">{}</text>"#,
        w / 2.0,
        esc(title)
    );
    s
}

/// A line chart with axes, ticks and a legend.
pub fn lines(
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series<'_>],
    y_range: Option<(f64, f64)>,
) -> String {
    let (w, h) = (460.0, 280.0);
    let (l, r, t, b) = (56.0, 16.0, 46.0, 44.0);
    let pts = series.iter().flat_map(|s| s.points.iter());
    let (mut x0, mut x1, mut y0, mut y1) = (
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    );
    for &(x, y) in pts.filter(|p| p.1.is_finite()) {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if !x0.is_finite() {
        (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0);
    }
    if let Some((a, bb)) = y_range {
        (y0, y1) = (a, bb);
    }
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    if y1 <= y0 {
        y1 = y0 + 1.0;
    }
    let sx = |x: f64| l + (x - x0) / (x1 - x0) * (w - l - r);
    let sy = |y: f64| t + (1.0 - (y - y0) / (y1 - y0)) * (h - t - b);
    let mut s = chart_open(w, h, title);
    for i in 0..=4 {
        let v = y0 + (y1 - y0) * f64::from(i) / 4.0;
        let y = sy(v);
        let _ = write!(
            s,
            r##"<line x1="{l}" x2="{}" y1="{y}" y2="{y}" stroke="#eee"/><text x="{}" y="{y}" text-anchor="end" dominant-baseline="central">{}</text>"##,
            w - r,
            l - 4.0,
            tick(v)
        );
    }
    // Whole-number axes (epochs) get whole-number ticks.
    let integral = series
        .iter()
        .flat_map(|s| s.points.iter())
        .all(|p| p.0.fract() == 0.0);
    let xt: Vec<f64> = if integral {
        let step = ((x1 - x0) / 5.0).ceil().max(1.0);
        (0..)
            .map(|i| x0 + step * f64::from(i))
            .take_while(|v| *v <= x1 + 1e-9)
            .collect()
    } else {
        (0..=5)
            .map(|i| x0 + (x1 - x0) * f64::from(i) / 5.0)
            .collect()
    };
    for v in xt {
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
            sx(v),
            h - b + 14.0,
            tick(v)
        );
    }
    let _ = write!(
        s,
        r##"<rect x="{l}" y="{t}" width="{}" height="{}" fill="none" stroke="#999"/>"##,
        w - l - r,
        h - t - b
    );
    let _ = write!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
        (l + w - r) / 2.0,
        h - 8.0,
        esc(x_label)
    );
    let _ = write!(
        s,
        r#"<text x="12" y="{}" text-anchor="middle" transform="rotate(-90 12 {})">{}</text>"#,
        (t + h - b) / 2.0,
        (t + h - b) / 2.0,
        esc(y_label)
    );
    for (i, se) in series.iter().enumerate() {
        let d: Vec<String> = se
            .points
            .iter()
            .filter(|p| p.1.is_finite())
            .map(|&(x, y)| format!("{:.1},{:.1}", sx(x), sy(y.clamp(y0, y1))))
            .collect();
        let dash = if se.dashed {
            r#" stroke-dasharray="5,3""#
        } else {
            ""
        };
        let _ = write!(
            s,
            r#"<polyline fill="none" stroke="{}" stroke-width="2"{dash} points="{}"/>"#,
            se.color,
            d.join(" ")
        );
        // Legend between the title and the plot, never over the lines.
        let (lx, ly) = (
            l + 10.0 + 120.0 * (i % 3) as f64,
            t - 12.0 - 14.0 * (i / 3) as f64,
        );
        let _ = write!(
            s,
            r#"<line x1="{lx}" x2="{}" y1="{ly}" y2="{ly}" stroke="{}" stroke-width="2"{dash}/><text x="{}" y="{ly}" dominant-baseline="central">{}</text>"#,
            lx + 16.0,
            se.color,
            lx + 20.0,
            esc(se.name)
        );
    }
    s.push_str("</svg>");
    s
}

fn tick(v: f64) -> String {
    if v.abs() >= 100.0 || (v.fract() == 0.0 && v.abs() < 1e6) {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// Grouped vertical bars in [0, 1]: one group per category, one bar per
/// named series.
pub fn bars(title: &str, categories: &[String], series: &[(&str, &str, Vec<f64>)]) -> String {
    let group_w = (18.0 * series.len() as f64 + 12.0).max(30.0);
    let (l, t, b) = (46.0, 44.0, 40.0);
    let w = (l + group_w * categories.len() as f64 + 20.0).max(320.0);
    let h = 240.0;
    let plot_h = h - t - b;
    let mut s = chart_open(w, h, title);
    for i in 0..=4 {
        let v = f64::from(i) / 4.0;
        let y = t + (1.0 - v) * plot_h;
        let _ = write!(
            s,
            r##"<line x1="{l}" x2="{}" y1="{y}" y2="{y}" stroke="#eee"/><text x="{}" y="{y}" text-anchor="end" dominant-baseline="central">{v:.2}</text>"##,
            w - 10.0,
            l - 4.0
        );
    }
    let bar_w = (group_w - 12.0) / series.len().max(1) as f64;
    for (ci, c) in categories.iter().enumerate() {
        let gx = l + 6.0 + ci as f64 * group_w;
        for (si, (name, color, vals)) in series.iter().enumerate() {
            let v = vals.get(ci).copied().unwrap_or(0.0).clamp(0.0, 1.0);
            let bh = v * plot_h;
            let _ = write!(
                s,
                r#"<rect x="{}" y="{}" width="{}" height="{bh}" fill="{color}"><title>{} {}: {v:.3}</title></rect>"#,
                gx + si as f64 * bar_w,
                t + plot_h - bh,
                bar_w - 1.0,
                esc(c),
                esc(name)
            );
        }
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
            gx + (group_w - 12.0) / 2.0,
            h - b + 14.0,
            esc(c)
        );
    }
    for (si, (name, color, _)) in series.iter().enumerate() {
        let x = l + 90.0 * si as f64;
        let _ = write!(
            s,
            r#"<rect x="{x}" y="26" width="10" height="10" fill="{color}"/><text x="{}" y="31" dominant-baseline="central">{}</text>"#,
            x + 14.0,
            esc(name)
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_well_formed_svg_with_escaped_text() {
        let classes = vec!["a<b".to_string(), "c".to_string()];
        let c = confusion(&classes, &[vec![3, 1], vec![0, 4]]);
        assert!(c.starts_with("<svg") && c.ends_with("</svg>"));
        assert!(c.contains("a&lt;b") && !c.contains("a<b"));
        let l = lines(
            "t",
            "x",
            "y",
            &[Series {
                name: "s",
                points: vec![(1.0, 0.5), (2.0, f64::NAN)],
                color: "red",
                dashed: false,
            }],
            None,
        );
        assert!(l.contains("<polyline") && !l.contains("NaN"));
        let b = bars("b", &classes, &[("f1", "blue", vec![0.5, 1.0])]);
        assert_eq!(b.matches("<rect").count(), 3);
    }
}
