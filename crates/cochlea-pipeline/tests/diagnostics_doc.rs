//! Keeps the table of checks in `docs/diagnostics.md` true to the catalog
//! (`cochlea_pipeline::doctor::Check`): every check has a row with its
//! verdict and its "fires when" text as the catalog states them, and no row
//! names a check the catalog does not have.

use std::collections::BTreeMap;
use std::path::Path;

use cochlea_pipeline::doctor::Check;

/// Per id in the docs' table of checks: (verdict, fires when).
fn doc_rows() -> BTreeMap<String, (String, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/diagnostics.md");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let section = text
        .split("\n## The checks\n")
        .nth(1)
        .expect("docs/diagnostics.md has no '## The checks' section");
    let section = section.split("\n## ").next().unwrap();
    let mut rows = BTreeMap::new();
    for line in section.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
        assert!(cells.len() >= 3, "short row: {line}");
        let id = cells[0].trim_matches('`').to_string();
        let previous = rows.insert(id.clone(), (cells[1].to_string(), cells[2].to_string()));
        assert!(previous.is_none(), "{id} has two rows");
    }
    rows
}

#[test]
fn every_check_has_its_row() {
    let rows = doc_rows();
    for c in Check::ALL {
        let info = c.info();
        let Some((verdict, fires_when)) = rows.get(info.id) else {
            panic!("docs/diagnostics.md has no row for `{}`", info.id);
        };
        assert_eq!(
            verdict,
            &info.verdict.label().to_lowercase(),
            "verdict of `{}`",
            info.id
        );
        assert_eq!(fires_when, info.fires_when, "'fires when' of `{}`", info.id);
    }
}

#[test]
fn no_row_names_an_unknown_check() {
    for id in doc_rows().keys() {
        assert!(
            Check::from_id(id).is_some(),
            "docs/diagnostics.md names `{id}`, which is not in the catalog"
        );
    }
}
