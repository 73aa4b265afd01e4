//! The `likelihood` tool end to end (issue 10): the closed form and the PF-ODE route agree on a Gaussian
//! to RK4's accuracy; bad input gets a clear error naming the file and line, and a non-zero exit.

use std::path::PathBuf;
use std::process::Command;

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dc-lk-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_likelihood"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// The `log_density` column of `point,method,log_density` output.
fn column(csv: &str) -> Vec<f64> {
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("point,method,log_density"));
    lines
        .map(|l| l.split(',').nth(2).unwrap().parse().unwrap())
        .collect()
}

fn files(dir: &std::path::Path) -> (String, String) {
    let target = dir.join("target.json");
    std::fs::write(
        &target,
        r#"{"gaussian": {"mean": [0.5, -1.0], "covariance": [[1.0, 0.3], [0.3, 0.5]]}}"#,
    )
    .unwrap();
    let points = dir.join("points.csv");
    std::fs::write(&points, "0.5,-1.0\n1.5, 0.2\n-2.0,-3.0\n").unwrap();
    (
        target.to_str().unwrap().to_string(),
        points.to_str().unwrap().to_string(),
    )
}

#[test]
fn closed_form_ode_and_immse_agree_on_a_gaussian() {
    let dir = tmp("agree");
    let (target, points) = files(&dir);
    let by = |method: &str, steps: &str| {
        let (code, out, err) = run(&[
            "--target",
            &target,
            "--points",
            &points,
            "--schedule",
            "vp-linear",
            "--method",
            method,
            "--steps",
            steps,
            "--csv",
        ]);
        assert_eq!(code, 0, "{method}: {err}");
        column(&out)
    };
    let exact = by("closed-form", "1");
    let ode = by("ode", "1000");
    let immse = by("immse", "40");
    assert_eq!(exact.len(), 3);
    for ((e, o), i) in exact.iter().zip(&ode).zip(&immse) {
        // RK4 with 1000 steps on VP-linear: error ≲ 1e-9 (LK-1); 1e-7 leaves a hundredfold margin.
        assert!((e - o).abs() < 1e-7, "ode {o} vs closed form {e}");
        // I-MMSE quadrature: CLAIMS LK-3 tolerance.
        assert!((e - i).abs() < 1e-5, "immse {i} vs closed form {e}");
    }
    // The N(0, I) prior on VP-linear (α_T ≈ 6.6e-3) changes the answer by a little, not nothing.
    let (code, out, _) = run(&[
        "--target",
        &target,
        "--points",
        &points,
        "--schedule",
        "vp-linear",
        "--method",
        "ode",
        "--steps",
        "400",
        "--prior",
        "standard-normal",
        "--csv",
    ]);
    assert_eq!(code, 0);
    let prior = column(&out);
    for (e, p) in exact.iter().zip(&prior) {
        let d = (e - p).abs();
        assert!(d > 1e-6 && d < 0.1, "prior error {d}");
    }
}

#[test]
fn bad_input_is_a_clear_error() {
    let dir = tmp("bad");
    let (target, points) = files(&dir);
    let bad = dir.join("bad.csv");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![
                "--points".into(),
                dir.join("missing.csv").to_str().unwrap().into(),
            ],
            "missing.csv",
        ),
        (
            {
                std::fs::write(&bad, "0.1,0.2\n0.3\n").unwrap();
                vec!["--points".into(), bad.to_str().unwrap().into()]
            },
            "line 2: 1 numbers, but the target has dimension 2",
        ),
        (
            vec!["--steps".into(), "0".into()],
            "--steps must be at least 1",
        ),
        (vec!["--method".into(), "simpson".into()], "simpson"),
        (
            vec!["--schedule".into(), "ddpm-linear".into()],
            "unknown schedule",
        ),
    ];
    for (over, want) in cases {
        let mut args: Vec<String> = [
            "--target",
            &target,
            "--points",
            &points,
            "--schedule",
            "vp-linear",
            "--method",
            "ode",
            "--steps",
            "10",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let key = over[0].clone();
        let i = args.iter().position(|a| *a == key).unwrap();
        args[i + 1] = over[1].clone();
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, out, err) = run(&refs);
        assert_ne!(code, 0, "{key}: should fail");
        assert!(out.is_empty(), "{key}: printed {out}");
        assert!(err.contains(want), "{key}: {err}");
    }
    // A non-numeric field names the file, the line and the field.
    std::fs::write(&bad, "0.1,0.2\n\n0.3,abc\n").unwrap();
    let (code, _, err) = run(&[
        "--target",
        &target,
        "--points",
        bad.to_str().unwrap(),
        "--schedule",
        "vp-linear",
        "--method",
        "closed-form",
        "--steps",
        "1",
    ]);
    assert_ne!(code, 0);
    assert!(
        err.contains("bad.csv line 3: field 2 (\"abc\") is not a number"),
        "{err}"
    );
    // ode on a 1-D closed-form density without a score Jacobian: says which methods apply.
    let uni = dir.join("uniform.json");
    std::fs::write(&uni, r#"{"uniform": {"low": -1, "high": 1}}"#).unwrap();
    let one = dir.join("one.csv");
    std::fs::write(&one, "0.2\n").unwrap();
    let (code, _, err) = run(&[
        "--target",
        uni.to_str().unwrap(),
        "--points",
        one.to_str().unwrap(),
        "--schedule",
        "vp-linear",
        "--method",
        "ode",
        "--steps",
        "10",
    ]);
    assert_ne!(code, 0);
    assert!(
        err.contains("supports --method immse or closed-form"),
        "{err}"
    );
    let (code, out, err) = run(&[
        "--target",
        uni.to_str().unwrap(),
        "--points",
        one.to_str().unwrap(),
        "--schedule",
        "vp-linear",
        "--method",
        "closed-form",
        "--steps",
        "1",
        "--csv",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!((column(&out)[0] + 2f64.ln()).abs() < 1e-15);
}
