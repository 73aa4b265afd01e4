//! The `scheduler_report` binary (issue 13 item 4) and the sampler_law flags of the whole matrix.

use std::process::Command;

#[test]
fn scheduler_report_writes_tidy_csv_flags_and_heatmaps() {
    let out = std::env::temp_dir().join(format!("conv-scheduler-report-{}", std::process::id()));
    let status = Command::new(env!("CARGO_BIN_EXE_scheduler_report"))
        .args([
            "--steps",
            "5,20,61",
            "--dim",
            "16",
            "--only",
            "ddpm-linear-trailing-ddpm",
            "--out",
        ])
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    let csv = std::fs::read_to_string(out.join("report.csv")).unwrap();
    // 2 DDPM variants × 2 data laws × 3 step counts, plus the header.
    assert_eq!(csv.lines().count(), 1 + 2 * 2 * 3, "{csv}");
    let flags = std::fs::read_to_string(out.join("flags.csv")).unwrap();
    // N = 61 under trailing spacing has the extra timestep −1 (ᾱ_{T−1} for a last step): flagged with that cause.
    assert!(flags.contains("trailing-minus-one"), "{flags}");
    assert!(!flags.contains("unexplained"), "{flags}");
    for t in ["small", "power-law"] {
        let svg = std::fs::read_to_string(out.join(format!("heatmap-{t}.svg"))).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("<rect"));
    }
    std::fs::remove_dir_all(&out).ok();
}

#[test]
fn sampler_law_third_order_and_refusals() {
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_sampler_law"))
            .args(["--eigenvalues", "0.5,2", "--csv"])
            .args(args)
            .output()
            .unwrap()
    };
    // dpmsolver and sde-dpmsolver++ at order 3 under trailing spacing, library and corrected.
    for extra in [&[][..], &["--corrected"][..]] {
        for s in ["dpm-solver", "sde-dpm-solver++"] {
            let mut a = vec![
                "--sampler",
                s,
                "--order",
                "3",
                "--steps",
                "20",
                "--spacing",
                "trailing",
                "--final-sigmas",
                "sigma-min",
            ];
            a.extend_from_slice(extra);
            let o = run(&a);
            assert!(
                o.status.success(),
                "{s} {extra:?}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
    }
    // The library refuses dpmsolver with a final σ of 0, and singlestep has no trailing spacing.
    let o = run(&[
        "--sampler",
        "dpm-solver",
        "--order",
        "2",
        "--steps",
        "10",
        "--final-sigmas",
        "zero",
    ]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("sigma_min"));
    let o = run(&[
        "--sampler",
        "dpm-solver++",
        "--singlestep",
        "--order",
        "2",
        "--steps",
        "10",
        "--spacing",
        "trailing",
    ]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("timestep_spacing"));
    // Leading spacing at 1000 steps: every timestep is 0, zero-length steps, NaN in the library.
    let o = run(&[
        "--sampler",
        "dpm-solver++",
        "--order",
        "2",
        "--steps",
        "1000",
        "--spacing",
        "leading",
    ]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("zero-length"));
}
