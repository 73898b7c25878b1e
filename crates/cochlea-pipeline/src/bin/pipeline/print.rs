//! What the commands print on stdout for a reader.

use cochlea_pipeline::doctor;

/// The doctor's findings for a reader.
pub fn findings(r: &doctor::DoctorReport) {
    let problems: Vec<&doctor::Finding> = r
        .findings
        .iter()
        .filter(|f| f.verdict != doctor::Verdict::Ok)
        .collect();
    if problems.is_empty() {
        println!("No problem found: {} checks passed.", r.findings.len());
    }
    for (i, f) in problems.iter().enumerate() {
        let word = f.verdict.label();
        println!(
            "{}. {word} [{}] {}\n   evidence: {}\n   fix: {}",
            i + 1,
            f.id,
            f.title,
            f.evidence,
            f.fix
        );
    }
    let passed: Vec<&str> = r
        .findings
        .iter()
        .filter(|f| f.verdict == doctor::Verdict::Ok)
        .map(|f| f.id.as_str())
        .collect();
    if !passed.is_empty() && !problems.is_empty() {
        println!("passed: {}", passed.join(", "));
    }
    for n in &r.probes.notes {
        println!("probe: {n}");
    }
    println!("({:.1} s)", r.seconds);
}

/// A run's result for a reader.
pub fn summary(r: &cochlea_pipeline::results::RunResult) {
    if r.folds.len() > 1 {
        for f in &r.folds {
            println!(
                "{:>12}: accuracy {:.2}% ({} test files)",
                f.name,
                100.0 * f.test.accuracy,
                f.test.n
            );
        }
    }
    println!("{}", cochlea_pipeline::report::headline(r));
    if let Some(first) = r.findings.iter().find(|f| f.verdict != doctor::Verdict::Ok) {
        println!("first finding: [{}] {}", first.id, first.title);
    }
    if let Some(f) = &r.final_model {
        println!(
            "final model: {} (all {} files, {} epochs)",
            r.run_dir.join(&f.bundle).display(),
            f.files,
            f.epochs
        );
    }
    println!("report: {}", r.run_dir.join("report.html").display());
}
