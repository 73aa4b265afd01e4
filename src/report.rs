//! Evidence on disk: tidy CSVs, SVG plots, `summary.csv` and `REPORT.md`, all written atomically.

use crate::claims::Claim;
use crate::evidence::{Evidence, Figure, Table, Value, Verdict};
use anyhow::{bail, Context, Result};
use plotters::prelude::*;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Render a figure to SVG text (plotters' SVG backend: no system library, byte-stable).
pub fn render_svg(fig: &Figure) -> Result<String> {
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (900, 600)).into_drawing_area();
        root.fill(&WHITE)?;
        let pts: Vec<(f64, f64)> = fig
            .series
            .iter()
            .flat_map(|s| s.points.iter().copied())
            .filter(|(x, y)| {
                x.is_finite()
                    && y.is_finite()
                    && (!fig.log_x || *x > 0.0)
                    && (!fig.log_y || *y > 0.0)
            })
            .collect();
        if pts.is_empty() {
            bail!("figure {} has no finite points to plot", fig.name);
        }
        let range = |v: Vec<f64>, log: bool| {
            let lo = v.iter().cloned().fold(f64::INFINITY, f64::min);
            let hi = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            if log {
                let (lo, hi) = if hi / lo < 1.0001 {
                    (lo / 2.0, hi * 2.0)
                } else {
                    (lo, hi)
                };
                (lo / 1.3, hi * 1.3)
            } else {
                let pad = if hi > lo {
                    0.05 * (hi - lo)
                } else {
                    0.5 * hi.abs().max(1.0)
                };
                (lo - pad, hi + pad)
            }
        };
        let (x0, x1) = range(pts.iter().map(|p| p.0).collect(), fig.log_x);
        let (y0, y1) = range(pts.iter().map(|p| p.1).collect(), fig.log_y);
        let mut builder = ChartBuilder::on(&root);
        builder
            .caption(&fig.title, ("sans-serif", 22))
            .margin(15)
            .x_label_area_size(50)
            .y_label_area_size(80);
        macro_rules! draw {
            ($chart:expr) => {{
                let mut chart = $chart;
                chart
                    .configure_mesh()
                    .x_desc(fig.x_label.as_str())
                    .y_desc(fig.y_label.as_str())
                    .x_label_formatter(&|v| fmt_tick(*v))
                    .y_label_formatter(&|v| fmt_tick(*v))
                    .draw()?;
                for (i, s) in fig.series.iter().enumerate() {
                    let color = Palette99::pick(i).to_rgba();
                    let p: Vec<(f64, f64)> = s
                        .points
                        .iter()
                        .copied()
                        .filter(|(x, y)| {
                            x.is_finite()
                                && y.is_finite()
                                && (!fig.log_x || *x > 0.0)
                                && (!fig.log_y || *y > 0.0)
                        })
                        .collect();
                    let style = ShapeStyle::from(&color).stroke_width(2);
                    if s.joined {
                        let anno = if s.dashed {
                            chart.draw_series(DashedLineSeries::new(p.clone(), 8, 5, style))?
                        } else {
                            chart.draw_series(LineSeries::new(p.clone(), style))?
                        };
                        anno.label(s.name.as_str()).legend(move |(x, y)| {
                            PathElement::new(vec![(x, y), (x + 20, y)], style)
                        });
                        // Markers only where points are sparse enough to be read one by one.
                        if s.markers && p.len() <= 60 {
                            chart.draw_series(
                                p.iter().map(|&xy| Circle::new(xy, 3, color.filled())),
                            )?;
                        }
                    } else {
                        chart
                            .draw_series(p.iter().map(|&xy| Circle::new(xy, 2, color.filled())))?
                            .label(s.name.as_str())
                            .legend(move |(x, y)| Circle::new((x + 10, y), 3, color.filled()));
                    }
                }
                chart
                    .configure_series_labels()
                    .background_style(WHITE.mix(0.85))
                    .border_style(BLACK)
                    .position(SeriesLabelPosition::UpperRight)
                    .draw()?;
            }};
        }
        match (fig.log_x, fig.log_y) {
            (false, false) => draw!(builder.build_cartesian_2d(x0..x1, y0..y1)?),
            (true, false) => draw!(builder.build_cartesian_2d((x0..x1).log_scale(), y0..y1)?),
            (false, true) => draw!(builder.build_cartesian_2d(x0..x1, (y0..y1).log_scale())?),
            (true, true) => {
                draw!(builder.build_cartesian_2d((x0..x1).log_scale(), (y0..y1).log_scale())?)
            }
        }
        root.present()?;
    }
    Ok(buf)
}

fn fmt_tick(v: f64) -> String {
    let a = v.abs();
    if v == 0.0 {
        "0".into()
    } else if !(1e-3..1e4).contains(&a) {
        format!("{v:.0e}")
    } else {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Write `contents` to `path` atomically: a temporary file beside it, then a rename.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let tmp = path.with_extension(format!(
        "{}.tmp",
        path.extension().and_then(|e| e.to_str()).unwrap_or("")
    ));
    std::fs::write(&tmp, contents).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path)
        .with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))?;
    Ok(())
}

/// One claim's outcome, ready to be written.
pub struct Outcome {
    pub claim: Claim,
    pub evidence: Evidence,
    pub seconds: f64,
}

/// The file stem of a claim's `index`-th table or figure: `<id>` for the first, then `<id>-<name>`
/// (`<id>-<index>` when unnamed), so no two outputs of a claim share a file.
pub fn file_stem(id: &str, name: &str, index: usize) -> String {
    match (index, name.is_empty()) {
        (0, _) => id.to_string(),
        (i, true) => format!("{id}-{i}"),
        (_, false) => format!("{id}-{name}"),
    }
}

/// Render every file of an outcome in memory (so nothing is written if anything fails).
pub fn render_outcome(o: &Outcome) -> Result<Vec<(PathBuf, Vec<u8>)>> {
    let dir = PathBuf::from(o.claim.family);
    let mut files = Vec::new();
    for (i, t) in o.evidence.tables.iter().enumerate() {
        files.push((
            dir.join(format!("{}.csv", file_stem(o.claim.id, &t.name, i))),
            t.to_csv()?.into_bytes(),
        ));
    }
    for (i, f) in o.evidence.figures.iter().enumerate() {
        let svg =
            render_svg(f).with_context(|| format!("plotting {} of {}", f.name, o.claim.id))?;
        files.push((
            dir.join(format!("{}.svg", file_stem(o.claim.id, &f.name, i))),
            svg.into_bytes(),
        ));
    }
    Ok(files)
}

/// A headline number, or an empty cell where there is none (a SKIPPED claim measures nothing).
fn number_or_blank(v: f64) -> Value {
    if v.is_nan() {
        Value::Text(String::new())
    } else {
        Value::Num(v)
    }
}

/// The summary table: one row per claim.
pub fn summary_table(outcomes: &[Outcome]) -> Table {
    let mut t = Table::new(
        "summary",
        &[
            "id",
            "family",
            "source",
            "verdict",
            "measured",
            "expected",
            "tolerance",
            "detail",
            "seconds",
        ],
    );
    for o in outcomes {
        let e = &o.evidence;
        t.push(vec![
            o.claim.id.into(),
            o.claim.family.into(),
            o.claim.source.into(),
            e.verdict.name().into(),
            number_or_blank(e.measured),
            number_or_blank(e.expected),
            number_or_blank(e.tolerance),
            e.detail.clone().into(),
            ((o.seconds * 1000.0).round() / 1000.0).into(),
        ]);
    }
    t
}

/// `REPORT.md`: the claims table with verdicts and links, and the command that reproduces it.
pub fn report_markdown(
    outcomes: &[Outcome],
    command: &str,
    files: &[(PathBuf, Vec<u8>)],
) -> String {
    let mut s = String::new();
    let count = |v: Verdict| outcomes.iter().filter(|o| o.evidence.verdict == v).count();
    let _ = writeln!(s, "# diffusion-claims — report\n");
    let _ = writeln!(s, "Reproduce with:\n\n```\n{command}\n```\n");
    let skipped = match count(Verdict::Skipped) {
        0 => String::new(),
        n => format!(", {n} SKIPPED (input absent; see detail)"),
    };
    let _ = writeln!(
        s,
        "{} claims: {} PASS, {} REFUTED-as-stated, {} FAIL{skipped}. `measured`/`expected`/`tolerance` are each claim's headline number; `detail` says what it is.\n",
        outcomes.len(),
        count(Verdict::Pass),
        count(Verdict::Refuted),
        count(Verdict::Fail),
    );
    let _ = writeln!(
        s,
        "| id | family | verdict | measured | expected | tolerance | detail | evidence |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|");
    for o in outcomes {
        let e = &o.evidence;
        let links: Vec<String> = files
            .iter()
            .map(|(p, _)| p.to_string_lossy().replace('\\', "/"))
            .filter(|p| {
                let base = p.rsplit('/').next().unwrap_or(p);
                p.starts_with(&format!("{}/", o.claim.family))
                    && (base.starts_with(&format!("{}.", o.claim.id))
                        || base.starts_with(&format!("{}-", o.claim.id)))
            })
            .map(|p| format!("[{}]({p})", p.rsplit('/').next().unwrap_or(&p)))
            .collect();
        let _ = writeln!(
            s,
            "| {} | {} | **{}** | {:.6e} | {:.6e} | {:.3e} | {} | {} |",
            o.claim.id,
            o.claim.family,
            e.verdict.name(),
            e.measured,
            e.expected,
            e.tolerance,
            e.detail.replace('|', "\\|"),
            links.join(" ")
        );
    }
    let _ = writeln!(s, "\n## Statements\n");
    for o in outcomes {
        let _ = writeln!(
            s,
            "- **{}** ({}): {}",
            o.claim.id, o.claim.source, o.claim.statement
        );
    }
    s
}

/// Write every outcome, `summary.csv` and `REPORT.md` under `out`. Everything is rendered in memory
/// first; each file is then written atomically.
pub fn write_all(out: &Path, outcomes: &[Outcome], command: &str) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for o in outcomes {
        files.extend(render_outcome(o)?);
    }
    let summary = summary_table(outcomes).to_csv()?;
    let report = report_markdown(outcomes, command, &files);
    let mut written = Vec::new();
    for (rel, bytes) in files.iter() {
        let p = out.join(rel);
        write_atomic(&p, bytes)?;
        written.push(p);
    }
    write_atomic(&out.join("summary.csv"), summary.as_bytes())?;
    write_atomic(&out.join("REPORT.md"), report.as_bytes())?;
    Ok(written)
}
