//! The binaries end to end: every experiment binary runs; bad input gets a clear error, a non-zero
//! exit and no files.

use std::path::PathBuf;
use std::process::Command;

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dc-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run(bin: &str, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(bin).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn every_family_binary_lists_and_runs_one_claim() {
    let bins = [
        env!("CARGO_BIN_EXE_forward"),
        env!("CARGO_BIN_EXE_discrete"),
        env!("CARGO_BIN_EXE_engine"),
        env!("CARGO_BIN_EXE_reverse"),
        env!("CARGO_BIN_EXE_solvers"),
        env!("CARGO_BIN_EXE_practice"),
        env!("CARGO_BIN_EXE_wasserstein"),
        env!("CARGO_BIN_EXE_scorematching"),
        env!("CARGO_BIN_EXE_finetune"),
    ];
    for bin in bins {
        let (code, out, err) = run(bin, &["--list"]);
        assert_eq!(code, 0, "{bin} --list: {err}");
        let Some(first) = out.split_whitespace().next() else {
            continue;
        };
        let dir = tmp("family");
        let (code, _, err) = run(
            bin,
            &[
                "--scale",
                "quick",
                "--only",
                first,
                "--out",
                dir.to_str().unwrap(),
            ],
        );
        assert_eq!(code, 0, "{bin} --only {first}: {err}");
        let files: Vec<_> = walk(&dir);
        assert!(
            files
                .iter()
                .any(|f| f.extension().is_some_and(|e| e == "csv")),
            "{bin} wrote no CSV"
        );
    }
}

fn walk(d: &PathBuf) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(d) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn reproduce_rejects_an_unknown_claim_and_writes_nothing() {
    let dir = tmp("unknown");
    let (code, _, err) = run(
        env!("CARGO_BIN_EXE_reproduce"),
        &["--only", "NOPE-1", "--out", dir.to_str().unwrap()],
    );
    assert_ne!(code, 0);
    assert!(err.contains("unknown claim id"), "{err}");
    assert!(
        walk(&dir).is_empty(),
        "files were written: {:?}",
        walk(&dir)
    );
}

#[test]
fn sampler_law_prints_a_law_and_rejects_bad_input() {
    let bin = env!("CARGO_BIN_EXE_sampler_law");
    let (code, out, err) = run(
        bin,
        &[
            "--eigenvalues",
            "0,0.01,0.25,4",
            "--mean",
            "0.5,-1,0,2",
            "--sampler",
            "ddim",
            "--steps",
            "50",
            "--csv",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("coord,mean,variance"), "{out}");
    assert_eq!(lines.len(), 5);
    let dir = tmp("bad");
    let nan = dir.join("nan.txt");
    std::fs::write(&nan, "1.0\nnan\n").unwrap();
    let bad_npy = dir.join("bad.npy");
    std::fs::write(&bad_npy, b"\x93NUMPY garbage").unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--eigenvalues", "1,-1", "--sampler", "ddim", "--steps", "5"],
            "non-negative",
        ),
        (
            vec![
                "--eigenvalues",
                nan.to_str().unwrap(),
                "--sampler",
                "ddim",
                "--steps",
                "5",
            ],
            "NaN",
        ),
        (
            vec![
                "--eigenvalues",
                bad_npy.to_str().unwrap(),
                "--sampler",
                "ddim",
                "--steps",
                "5",
            ],
            ".npy",
        ),
        (
            vec!["--eigenvalues", "1,2", "--sampler", "ddim", "--steps", "0"],
            "steps",
        ),
        (
            vec!["--eigenvalues", "1,2", "--sampler", "nope", "--steps", "5"],
            "invalid value",
        ),
        (
            vec![
                "--eigenvalues",
                "1,2",
                "--mean",
                "1",
                "--sampler",
                "ddim",
                "--steps",
                "5",
            ],
            "entries",
        ),
        (
            vec![
                "--eigenvalues",
                "1,2",
                "--sampler",
                "ddim",
                "--steps",
                "5",
                "--schedule",
                "nope",
            ],
            "unknown",
        ),
    ];
    for (args, needle) in cases {
        let (code, _, err) = run(bin, &args);
        assert_ne!(code, 0, "{args:?} should fail");
        assert!(
            err.contains(needle),
            "{args:?}: stderr {err:?} does not mention {needle:?}"
        );
    }
}

#[test]
fn sampler_law_target_file_gives_exact_1d_distances_and_density() {
    let dir = tmp("target1d");
    let spec = dir.join("mix.json");
    std::fs::write(
        &spec,
        r#"{"mixture": {"weights": [0.25, 0.45, 0.30], "means": [[-2.0], [0.3], [2.2]], "covariances": [[[0.09]], [[0.2]], [[0.05]]]}}"#,
    )
    .unwrap();
    let dens = dir.join("density.csv");
    let (code, out, err) = run(
        env!("CARGO_BIN_EXE_sampler_law"),
        &[
            "--target",
            spec.to_str().unwrap(),
            "--schedule",
            "vp-linear",
            "--sampler",
            "ddpm",
            "--steps",
            "20",
            "--csv",
            "--density",
            dens.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let rows: std::collections::HashMap<&str, f64> = out
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(','))
        .map(|(q, v)| (q, v.parse().unwrap()))
        .collect();
    for q in ["w1", "w2", "ks", "tv", "kl"] {
        let v = rows[q];
        assert!(v.is_finite() && v > 0.0, "{q} = {v}");
    }
    let text = std::fs::read_to_string(&dens).unwrap();
    assert!(text.starts_with("x,density\n"));
    assert!(text.lines().count() > 100);
}

#[test]
fn sampler_law_help_says_multistep_stochastic_stays_monte_carlo() {
    let (_, out, _) = run(env!("CARGO_BIN_EXE_sampler_law"), &["--help"]);
    assert!(out.contains("stay Monte Carlo"), "{out}");
}

#[test]
fn sampler_law_rejects_a_bad_target_file_and_writes_nothing() {
    let dir = tmp("badtarget");
    let spec = dir.join("bad.json");
    std::fs::write(
        &spec,
        r#"{"mixture": {"weights": [0.5, 0.6], "means": [[-2.0], [0.3]], "covariances": [[[0.09]], [[0.2]]]}}"#,
    )
    .unwrap();
    let dens = dir.join("density.csv");
    let (code, out, err) = run(
        env!("CARGO_BIN_EXE_sampler_law"),
        &[
            "--target",
            spec.to_str().unwrap(),
            "--schedule",
            "vp-linear",
            "--sampler",
            "ddim",
            "--steps",
            "10",
            "--csv",
            "--density",
            dens.to_str().unwrap(),
        ],
    );
    assert_ne!(code, 0);
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("mixture.weights"), "{err}");
    assert!(!dens.exists());
}
