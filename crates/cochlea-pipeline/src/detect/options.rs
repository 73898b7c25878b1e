//! The detection settings a user gives, checked against the model's
//! classes: thresholds per class and the classes that never make events.
//!
//! Classes that never make events ("nothing here" classes): those named by
//! `--ignore`, or when it is not given, those whose name is one of
//! [`DEFAULT_IGNORE`] (compared without case): the names data sets give
//! their background or non-target class (Speech Commands'
//! `_background_noise_`, `_silence_` and `_unknown_`, and the plain
//! `background`, `noise`, `silence`). A model needs such a class to say
//! "nothing here" with confidence; without one, the threshold alone does.

use super::postprocess::PostOptions;
use crate::error::Error;

/// Class names that make no events unless `--ignore` says otherwise.
pub const DEFAULT_IGNORE: [&str; 7] = [
    "background",
    "_background_",
    "_background_noise_",
    "noise",
    "silence",
    "_silence_",
    "_unknown_",
];

/// A class named as data sets name their background or non-target class
/// (one of [`DEFAULT_IGNORE`], compared without case): it makes no events
/// unless `--ignore` says otherwise, and its annotated segments are no
/// events when a run scores held-out recordings.
pub fn makes_no_events(class: &str) -> bool {
    DEFAULT_IGNORE.iter().any(|d| d.eq_ignore_ascii_case(class))
}

/// What the user asked for, before it meets the model.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// Start threshold for every class (`--threshold`).
    pub threshold: f32,
    /// Per-class start thresholds (`--thresholds class=p,...`).
    pub per_class: Vec<(String, f32)>,
    /// End threshold for every class (`--threshold-off`); default half the
    /// class's start threshold.
    pub threshold_off: Option<f32>,
    /// Classes that make no events; `None`: [`DEFAULT_IGNORE`].
    pub ignore: Option<Vec<String>>,
    /// Gaps shorter than this between events of one class are closed.
    pub merge_gap: f64,
    /// Events shorter than this are dropped.
    pub min_duration: f64,
}

/// Parses `class=p,class=p`.
pub fn parse_thresholds(s: &str) -> Result<Vec<(String, f32)>, String> {
    s.split(',')
        .filter(|x| !x.trim().is_empty())
        .map(|item| {
            let (c, p) = item
                .rsplit_once('=')
                .ok_or_else(|| format!("{item:?}: expected class=probability"))?;
            let p: f32 = p
                .trim()
                .parse()
                .map_err(|_| format!("{item:?}: {p:?} is not a probability"))?;
            Ok((c.trim().to_string(), p))
        })
        .collect()
}

fn check_p(what: &str, p: f32) -> Result<(), Error> {
    if p.is_finite() && p > 0.0 && p <= 1.0 {
        Ok(())
    } else {
        Err(Error::Data(format!(
            "{what} {p}: a probability in (0, 1] is needed"
        )))
    }
}

impl Settings {
    /// The postprocessing for a model with `classes`; errors name the
    /// option and, for an unknown class, list the model's classes.
    pub fn resolve(&self, classes: &[String]) -> Result<PostOptions, Error> {
        check_p("--threshold", self.threshold)?;
        if let Some(off) = self.threshold_off {
            check_p("--threshold-off", off)?;
        }
        for (what, v) in [
            ("--merge-gap", self.merge_gap),
            ("--min-duration", self.min_duration),
        ] {
            if !v.is_finite() || v < 0.0 {
                return Err(Error::Data(format!("{what} {v}: seconds >= 0 are needed")));
            }
        }
        let find = |what: &str, c: &str| {
            classes.iter().position(|k| k == c).ok_or_else(|| {
                Error::Data(format!(
                    "{what}: the model has no class {c:?} (its classes: {})",
                    classes.join(", ")
                ))
            })
        };
        let mut on = vec![self.threshold; classes.len()];
        for (c, p) in &self.per_class {
            check_p(&format!("--thresholds {c}="), *p)?;
            on[find("--thresholds", c)?] = *p;
        }
        let mut off: Vec<f32> = on
            .iter()
            .map(|&p| self.threshold_off.map_or(p / 2.0, |o| o.min(p)))
            .collect();
        let ignored: Vec<usize> = match &self.ignore {
            Some(list) => list
                .iter()
                .filter(|c| !c.trim().is_empty())
                .map(|c| find("--ignore", c.trim()))
                .collect::<Result<_, _>>()?,
            None => (0..classes.len())
                .filter(|&i| makes_no_events(&classes[i]))
                .collect(),
        };
        for &i in &ignored {
            on[i] = f32::INFINITY;
            off[i] = f32::INFINITY;
        }
        if ignored.len() == classes.len() {
            return Err(Error::Data(format!(
                "every class of the model is ignored ({}): nothing could be detected",
                classes.join(", ")
            )));
        }
        Ok(PostOptions {
            classes: classes.to_vec(),
            on,
            off,
            merge_gap: self.merge_gap,
            min_duration: self.min_duration,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings {
            threshold: 0.5,
            per_class: Vec::new(),
            threshold_off: None,
            ignore: None,
            merge_gap: 0.0,
            min_duration: 0.0,
        }
    }

    #[test]
    fn background_names_are_ignored_by_default_and_thresholds_apply() {
        let classes: Vec<String> = ["owl", "Background", "fox"].map(String::from).to_vec();
        let p = settings().resolve(&classes).unwrap();
        assert_eq!(p.on, vec![0.5, f32::INFINITY, 0.5]);
        assert_eq!(p.off, vec![0.25, f32::INFINITY, 0.25]);
        let s = Settings {
            per_class: parse_thresholds("fox=0.8").unwrap(),
            threshold_off: Some(0.6),
            ignore: Some(vec!["owl".into()]),
            ..settings()
        };
        let p = s.resolve(&classes).unwrap();
        assert_eq!(p.on, vec![f32::INFINITY, 0.5, 0.8]);
        assert_eq!(p.off, vec![f32::INFINITY, 0.5, 0.6], "off never above on");
        let e = Settings {
            ignore: Some(vec!["cat".into()]),
            ..settings()
        }
        .resolve(&classes)
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("--ignore") && e.contains("\"cat\"") && e.contains("owl, Background, fox"),
            "{e}"
        );
        assert!(parse_thresholds("fox").is_err());
        let e = Settings {
            threshold: 1.5,
            ..settings()
        }
        .resolve(&classes)
        .unwrap_err();
        assert!(e.to_string().contains("--threshold"));
        let all = Settings {
            ignore: Some(classes.clone()),
            ..settings()
        };
        assert!(all.resolve(&classes).is_err());
    }
}
