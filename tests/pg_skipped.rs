//! Honest verdicts for the claims that need the authors' CIFAR-10 spectrum (issue 8 item 4):
//! PG-FIG1-LEFT/RIGHT compare nothing but published numbers, so without `PG_EIGENVALUES` (unset or
//! empty) they are SKIPPED with the reason, never PASS; with `PG_EIGENVALUES` set to a missing or
//! malformed file they FAIL with the error, never fall back. Runs the `reproduce` binary in a child
//! process (the variable is process-wide), from a scratch directory so that the relative default path
//! `../shared/data/pierret-galerne/…` cannot resolve.

use std::path::{Path, PathBuf};
use std::process::Command;

const CLAIMS: [&str; 2] = ["PG-FIG1-LEFT", "PG-FIG1-RIGHT"];

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dc-pg-skipped-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join("out")).unwrap();
    assert!(
        !d.join("../shared/data/pierret-galerne/cifar10_eigenvalues_2025.npy")
            .exists(),
        "the default spectrum path resolves from {}: pick another scratch directory",
        d.display()
    );
    d
}

/// Run the two claims with `PG_EIGENVALUES` removed (`None`) or set; (exit code, stdout, stderr).
fn run(dir: &Path, pg_eigenvalues: Option<&str>) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_reproduce"));
    cmd.current_dir(dir)
        .arg("--only")
        .args(CLAIMS)
        .args([
            "--scale",
            "quick",
            "--no-figures",
            "--threads",
            "1",
            "--out",
        ])
        .arg(dir.join("out"));
    match pg_eigenvalues {
        None => cmd.env_remove("PG_EIGENVALUES"),
        Some(v) => cmd.env("PG_EIGENVALUES", v),
    };
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// The printed row of claim `id` (verdict first, then the id).
fn row<'a>(out: &'a str, id: &str) -> &'a str {
    out.lines()
        .find(|l| l.split_whitespace().nth(1) == Some(id))
        .unwrap_or_else(|| panic!("no row for {id} in:\n{out}"))
}

fn assert_skipped(out: &str) {
    for id in CLAIMS {
        let r = row(out, id);
        assert!(r.starts_with("SKIPPED "), "{id} is not SKIPPED: {r}");
        assert!(r.contains("PG_EIGENVALUES"), "{id} does not say why: {r}");
    }
}

fn assert_failed(code: i32, out: &str, err: &str) {
    assert_eq!(code, 1, "a FAIL must make the run fail\n{out}\n{err}");
    for id in CLAIMS {
        let r = row(out, id);
        assert!(r.starts_with("FAIL "), "{id} is not FAIL: {r}");
        assert!(r.contains("is set but unreadable"), "{id}: {r}");
    }
}

#[test]
fn without_the_spectrum_the_published_comparisons_are_skipped() {
    let dir = scratch("unset");
    let (code, out, err) = run(&dir, None);
    assert_eq!(code, 0, "{out}\n{err}");
    assert_skipped(&out);
    assert!(out.contains("0 FAIL, 2 SKIPPED"), "{out}");
}

#[test]
fn an_empty_variable_counts_as_unset() {
    let dir = scratch("empty");
    let (code, out, err) = run(&dir, Some(""));
    assert_eq!(code, 0, "{out}\n{err}");
    assert_skipped(&out);
}

#[test]
fn a_missing_spectrum_file_is_a_fail_not_a_skip() {
    let dir = scratch("missing");
    let missing = dir.join("no-such-spectrum.npy");
    let (code, out, err) = run(&dir, Some(missing.to_str().unwrap()));
    assert_failed(code, &out, &err);
    assert!(row(&out, CLAIMS[0]).contains("no-such-spectrum.npy"));
}

#[test]
fn a_malformed_spectrum_file_is_a_fail_not_a_skip() {
    let dir = scratch("malformed");
    let bogus = dir.join("bogus.npy");
    std::fs::write(&bogus, b"not a numpy file").unwrap();
    let (code, out, err) = run(&dir, Some(bogus.to_str().unwrap()));
    assert_failed(code, &out, &err);
}
