//! The `guidance` tool end to end: closed-form Gaussian answers (CLAIMS GD-3), a 1-D mixture, and bad
//! input (clear error, non-zero exit).

use std::path::PathBuf;
use std::process::Command;

fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("dc-guidance-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn file(name: &str, text: &str) -> String {
    let p = dir().join(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_guidance"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// The value of `quantity` at scale `w` in the tool's CSV.
fn value(csv: &str, w: &str, quantity: &str) -> Option<f64> {
    csv.lines()
        .map(|l| l.split(',').collect::<Vec<_>>())
        .find(|f| f.len() == 5 && f[0] == w && f[3] == quantity)
        .map(|f| f[4].parse().unwrap())
}

#[test]
fn gaussian_closed_forms() {
    let c = file(
        "c.json",
        r#"{"gaussian": {"mean": [1], "eigenvalues": [1]}}"#,
    );
    let u = file(
        "u.json",
        r#"{"gaussian": {"mean": [0], "eigenvalues": [2]}}"#,
    );
    // CLAIMS GD-3 example 1 on the Brownian path σ² = t from T = 100: the CFG ODE at w = 3 ends at
    // N(1.998, 0.2501) (the tilted target is N(1.5, 0.5)); at w = 1 the conditional N(1, 1) exactly, up to
    // the solver's discretisation.
    let (code, out, err) = run(&[
        "--cond",
        &c,
        "--uncond",
        &u,
        "--w",
        "1,3",
        "--schedule",
        "brownian",
        "--sampler",
        "dpm-solver++",
        "--steps",
        "1000",
        "--t-start",
        "100",
        "--t-end",
        "1e-9",
        "--csv",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("w,sampler,steps,quantity,value"));
    let v = |w: &str, q: &str| value(&out, w, q).unwrap();
    assert!((v("1.0", "mean") - 1.0).abs() < 1e-4);
    assert!((v("1.0", "variance") - 1.0).abs() < 1e-4);
    assert_eq!(v("1.0", "w2_to_tilted"), v("1.0", "w2_to_conditional"));
    assert!(v("1.0", "w2_to_conditional") < 1e-4);
    assert!((v("3.0", "mean") - 1.998).abs() < 5e-4);
    assert!((v("3.0", "variance") - 0.2501).abs() < 5e-5);
    // W2 between N(1.998, 0.2501) and N(1.5, 0.5): √(0.498² + (√0.2501 − √0.5)²) ≈ 0.5394.
    assert!((v("3.0", "w2_to_tilted") - 0.5394).abs() < 1e-3);
}

#[test]
fn gaussian_in_two_dimensions_and_a_missing_tilted_density() {
    let c = file(
        "c2.json",
        r#"{"gaussian": {"mean": [1, -0.5], "covariance": [[0.5, 0.2], [0.2, 0.3]]}}"#,
    );
    let u = file(
        "u2.json",
        r#"{"gaussian": {"mean": [0, 0], "covariance": [[2, -0.4], [-0.4, 1]]}}"#,
    );
    let (code, out, err) = run(&[
        "--cond",
        &c,
        "--uncond",
        &u,
        "--w",
        "1,3",
        "--sampler",
        "dpm-solver++",
        "--steps",
        "200",
        "--csv",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(value(&out, "1.0", "w2_to_conditional").unwrap() < 1e-2);
    assert!(value(&out, "3.0", "w2_to_tilted").unwrap() > 0.1);
    // The conditional broader than the unconditional: at w = 3 the tilted precision 3/2 − 2/1 < 0 does
    // not exist (blank, with a note), and the guided field at T is no Gaussian score (an error).
    let wide = file(
        "wide.json",
        r#"{"gaussian": {"mean": [0], "eigenvalues": [2]}}"#,
    );
    let narrow = file(
        "narrow.json",
        r#"{"gaussian": {"mean": [1], "eigenvalues": [1]}}"#,
    );
    let (code, out, err) = run(&[
        "--cond",
        &wide,
        "--uncond",
        &narrow,
        "--w",
        "3",
        "--schedule",
        "brownian",
        "--t-start",
        "1",
        "--sampler",
        "ddim",
        "--steps",
        "10",
        "--csv",
    ]);
    assert_ne!(code, 0, "{out}");
    assert!(err.contains("not normalisable"), "{err}");
}

#[test]
fn one_dimensional_mixture() {
    let c = file(
        "mc.json",
        r#"{"gaussian": {"mean": [-1.5], "eigenvalues": [0.4]}}"#,
    );
    let u = file(
        "m.json",
        r#"{"mixture": {"weights": [0.4, 0.6], "means": [[-1.5], [1.5]], "covariances": [[[0.4]], [[0.8]]]}}"#,
    );
    let (code, out, err) = run(&[
        "--cond",
        &c,
        "--uncond",
        &u,
        "--w",
        "1,3",
        "--sampler",
        "dpm-solver++",
        "--steps",
        "100",
        "--csv",
    ]);
    assert_eq!(code, 0, "{err}");
    let v = |w: &str, q: &str| value(&out, w, q).unwrap();
    // w = 1: the tilted density is the conditional; both distances agree and are the discretisation only.
    assert!((v("1.0", "w2_to_tilted") - v("1.0", "w2_to_conditional")).abs() < 1e-5);
    assert!(v("1.0", "w2_to_conditional") < 1e-2);
    assert!((v("1.0", "tilted_mean") + 1.5).abs() < 1e-9);
    assert!(v("3.0", "w2_to_tilted") > 0.3);
    // A multistep stochastic sampler has no exact 1-D law.
    let (code, _, err) = run(&[
        "--cond",
        &c,
        "--uncond",
        &u,
        "--w",
        "1",
        "--sampler",
        "sde-dpm-solver++",
        "--order",
        "2",
        "--steps",
        "10",
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("Monte Carlo"), "{err}");
}

#[test]
fn bad_input_is_a_clear_error() {
    let c = file(
        "bc.json",
        r#"{"gaussian": {"mean": [1], "eigenvalues": [1]}}"#,
    );
    let u = file(
        "bu.json",
        r#"{"gaussian": {"mean": [0], "eigenvalues": [2]}}"#,
    );
    let u2 = file(
        "bu2.json",
        r#"{"gaussian": {"mean": [0, 0], "eigenvalues": [2, 1]}}"#,
    );
    let bad = file(
        "bad.json",
        r#"{"gaussian": {"mean": [0, 0], "covariance": [[1, 2], [2, 1]]}}"#,
    );
    let cases: [(&[&str], &str); 6] = [
        (
            &[
                "--cond",
                &c,
                "--uncond",
                &u,
                "--w",
                "1",
                "--sampler",
                "nope",
                "--steps",
                "5",
            ],
            "nope",
        ),
        (
            &[
                "--cond",
                &c,
                "--uncond",
                &u,
                "--w",
                "1,x",
                "--sampler",
                "ddim",
                "--steps",
                "5",
            ],
            "is not a number",
        ),
        (
            &[
                "--cond",
                &c,
                "--uncond",
                &u,
                "--w",
                "1",
                "--sampler",
                "ddim",
                "--steps",
                "0",
            ],
            "--steps must be at least 1",
        ),
        (
            &[
                "--cond",
                &c,
                "--uncond",
                &u2,
                "--w",
                "1",
                "--sampler",
                "ddim",
                "--steps",
                "5",
            ],
            "dimension mismatch",
        ),
        (
            &[
                "--cond",
                &bad,
                "--uncond",
                &u2,
                "--w",
                "1",
                "--sampler",
                "ddim",
                "--steps",
                "5",
            ],
            "not positive semi-definite",
        ),
        (
            &[
                "--cond",
                &c,
                "--uncond",
                &u,
                "--w",
                "1",
                "--sampler",
                "ddim",
                "--steps",
                "5",
                "--schedule",
                "nope",
            ],
            "unknown schedule",
        ),
    ];
    for (args, needle) in cases {
        let (code, out, err) = run(args);
        assert_ne!(code, 0, "{args:?}: {out}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?}: {out}");
    }
    let (code, out, _) = run(&["--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("--cond") && out.contains("tilted"));
}
