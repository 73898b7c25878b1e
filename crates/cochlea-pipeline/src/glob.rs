//! The globs of `data.exclude`: `*` (any run of characters within one path
//! part), `**` (any run, across `/`), `?` (one character but `/`), anything
//! else literal. Paths are relative to `data.root`, `/`-separated.
//!
//! A glob without `/` is tried on every part of the path (a folder name or
//! the file name, as in `.gitignore`); a glob with `/` on the whole path
//! and on each of its leading folders, so `a/b` also leaves out `a/b/c.wav`.

/// A checked glob.
#[derive(Clone, Debug)]
pub struct Glob {
    pattern: Vec<char>,
    anywhere: bool,
}

impl Glob {
    /// Checks a glob: not empty, no `***`.
    pub fn new(text: &str) -> Result<Glob, String> {
        let t = text.trim().trim_start_matches("./").trim_end_matches('/');
        if t.is_empty() {
            return Err(format!("glob {text:?} is empty"));
        }
        if t.contains("***") {
            return Err(format!("glob {text:?}: `***` means nothing; use `**`"));
        }
        Ok(Glob {
            pattern: t.chars().collect(),
            anywhere: !t.contains('/'),
        })
    }

    /// Whether the relative path `rel` (`/`-separated) is matched.
    pub fn matches(&self, rel: &str) -> bool {
        let parts: Vec<&str> = rel.split('/').filter(|p| !p.is_empty()).collect();
        if self.anywhere {
            return parts
                .iter()
                .any(|p| matches(&self.pattern, &p.chars().collect::<Vec<_>>()));
        }
        (1..=parts.len()).any(|n| {
            let prefix: Vec<char> = parts[..n].join("/").chars().collect();
            matches(&self.pattern, &prefix)
        })
    }
}

fn matches(p: &[char], s: &[char]) -> bool {
    match p.first() {
        None => s.is_empty(),
        Some('*') if p.get(1) == Some(&'*') => {
            let mut rest = &p[2..];
            // `**/` also matches no folder at all.
            if rest.first() == Some(&'/') && matches(&rest[1..], s) {
                return true;
            }
            if rest.is_empty() {
                rest = &[];
            }
            (0..=s.len()).any(|i| matches(rest, &s[i..]))
        }
        Some('*') => {
            let rest = &p[1..];
            for i in 0..=s.len() {
                if matches(rest, &s[i..]) {
                    return true;
                }
                if s.get(i) == Some(&'/') {
                    break;
                }
            }
            false
        }
        Some('?') => s.first().is_some_and(|c| *c != '/') && matches(&p[1..], &s[1..]),
        Some(c) => s.first() == Some(c) && matches(&p[1..], &s[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(g: &str, path: &str) -> bool {
        Glob::new(g).unwrap().matches(path)
    }

    #[test]
    fn a_bare_name_matches_any_part() {
        assert!(m("_background_noise_", "_background_noise_/white.wav"));
        assert!(m("*.tmp.wav", "a/b/x.tmp.wav"));
        assert!(!m("_background_noise_", "yes/0a_nohash_0.wav"));
        assert!(!m("noise", "noisy/a.wav"));
    }

    #[test]
    fn stars_and_question_marks() {
        assert!(m("fold?/*.wav", "fold1/a.wav"));
        assert!(!m("fold?/*.wav", "fold10/a.wav"));
        assert!(!m("a/*.wav", "a/b/c.wav"));
        assert!(m("a/**/*.wav", "a/b/c/d.wav"));
        assert!(m("a/**/d.wav", "a/d.wav"));
        assert!(m("**/x_*", "p/q/x_1.wav"));
    }

    #[test]
    fn a_path_glob_leaves_out_a_whole_folder() {
        assert!(m("train/cat", "train/cat/1.wav"));
        assert!(!m("train/cat", "test/cat/1.wav"));
    }

    #[test]
    fn bad_globs_are_refused() {
        assert!(Glob::new(" ").is_err());
        assert!(Glob::new("a/***").is_err());
    }
}
