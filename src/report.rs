//! Evidence on disk: tidy CSVs, SVG plots, `summary.csv` and `REPORT.md`, all written atomically.

use crate::claims::{Claim, Evidence};
use anyhow::{bail, Context, Result};
use plotters::prelude::*;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// One cell of a tidy table.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Num(f64),
    Int(i64),
    Text(String),
}

impl Value {
    /// The CSV text: floats at full round-trip precision (Rust's shortest representation), ±inf as
    /// `inf`/`-inf`. NaN is refused: no NaN is written silently.
    pub fn render(&self) -> Result<String> {
        Ok(match self {
            Value::Num(v) if v.is_nan() => bail!("refusing to write NaN"),
            Value::Num(v) if v.is_infinite() => (if *v > 0.0 { "inf" } else { "-inf" }).to_string(),
            Value::Num(v) => format!("{v:?}"),
            Value::Int(v) => v.to_string(),
            Value::Text(s) => s.clone(),
        })
    }
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Num(v) => Some(*v),
            Value::Int(v) => Some(*v as f64),
            Value::Text(s) => s.parse().ok(),
        }
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Num(v)
    }
}
impl From<usize> for Value {
    fn from(v: usize) -> Self {
        Value::Int(v as i64)
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_string())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}

/// A tidy table: one observation a row; keys first, then parameters, then measurements.
#[derive(Clone, Debug, Default)]
pub struct Table {
    /// Suffix of the file name (`<id>.csv` for the first table of a claim, `<id>-<name>.csv` after).
    pub name: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

impl Table {
    pub fn new(name: &str, columns: &[&str]) -> Self {
        Self {
            name: name.into(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: Vec::new(),
        }
    }
    pub fn push(&mut self, row: Vec<Value>) {
        assert_eq!(
            row.len(),
            self.columns.len(),
            "row width differs from the header of table {}",
            self.name
        );
        self.rows.push(row);
    }
    /// The CSV text.
    pub fn to_csv(&self) -> Result<String> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(&self.columns)?;
        for row in &self.rows {
            let cells: Vec<String> = row
                .iter()
                .map(Value::render)
                .collect::<Result<_>>()
                .with_context(|| format!("table {}", self.name))?;
            w.write_record(&cells)?;
        }
        Ok(String::from_utf8(w.into_inner()?)?)
    }
    /// A column by name.
    pub fn column(&self, name: &str) -> Option<Vec<&Value>> {
        let i = self.columns.iter().position(|c| c == name)?;
        Some(self.rows.iter().map(|r| &r[i]).collect())
    }
}

/// A plotted series.
#[derive(Clone, Debug)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    /// Draw markers (for measured points) as well as the line.
    pub markers: bool,
    /// Dashed reference line (theory, slopes).
    pub dashed: bool,
    /// Join the points with a line (false: a scatter plot).
    pub joined: bool,
}

impl Series {
    pub fn line(name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Self {
            name: name.into(),
            points,
            markers: true,
            dashed: false,
            joined: true,
        }
    }
    /// Markers only (a scatter plot).
    pub fn scatter(name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Self {
            name: name.into(),
            points,
            markers: true,
            dashed: false,
            joined: false,
        }
    }
    pub fn reference(name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Self {
            name: name.into(),
            points,
            markers: false,
            dashed: true,
            joined: true,
        }
    }
}

/// A 2-D plot: title, axis labels, log axes, legend.
#[derive(Clone, Debug)]
pub struct Figure {
    /// Suffix of the file name, as for tables.
    pub name: String,
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub log_x: bool,
    pub log_y: bool,
    pub series: Vec<Series>,
}

impl Figure {
    pub fn new(name: &str, title: impl Into<String>, x_label: &str, y_label: &str) -> Self {
        Self {
            name: name.into(),
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            log_x: false,
            log_y: false,
            series: Vec::new(),
        }
    }
    pub fn loglog(mut self) -> Self {
        self.log_x = true;
        self.log_y = true;
        self
    }
    pub fn logy(mut self) -> Self {
        self.log_y = true;
        self
    }
    pub fn with(mut self, s: Series) -> Self {
        self.series.push(s);
        self
    }

    /// Render to SVG text (plotters' SVG backend: no system library, byte-stable).
    pub fn to_svg(&self) -> Result<String> {
        let mut buf = String::new();
        {
            let root = SVGBackend::with_string(&mut buf, (900, 600)).into_drawing_area();
            root.fill(&WHITE)?;
            let pts: Vec<(f64, f64)> = self
                .series
                .iter()
                .flat_map(|s| s.points.iter().copied())
                .filter(|(x, y)| {
                    x.is_finite()
                        && y.is_finite()
                        && (!self.log_x || *x > 0.0)
                        && (!self.log_y || *y > 0.0)
                })
                .collect();
            if pts.is_empty() {
                bail!("figure {} has no finite points to plot", self.name);
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
            let (x0, x1) = range(pts.iter().map(|p| p.0).collect(), self.log_x);
            let (y0, y1) = range(pts.iter().map(|p| p.1).collect(), self.log_y);
            let mut builder = ChartBuilder::on(&root);
            builder
                .caption(&self.title, ("sans-serif", 22))
                .margin(15)
                .x_label_area_size(50)
                .y_label_area_size(80);
            macro_rules! draw {
                ($chart:expr) => {{
                    let mut chart = $chart;
                    chart
                        .configure_mesh()
                        .x_desc(self.x_label.as_str())
                        .y_desc(self.y_label.as_str())
                        .x_label_formatter(&|v| fmt_tick(*v))
                        .y_label_formatter(&|v| fmt_tick(*v))
                        .draw()?;
                    for (i, s) in self.series.iter().enumerate() {
                        let color = Palette99::pick(i).to_rgba();
                        let p: Vec<(f64, f64)> = s
                            .points
                            .iter()
                            .copied()
                            .filter(|(x, y)| {
                                x.is_finite()
                                    && y.is_finite()
                                    && (!self.log_x || *x > 0.0)
                                    && (!self.log_y || *y > 0.0)
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
                                .draw_series(
                                    p.iter().map(|&xy| Circle::new(xy, 2, color.filled())),
                                )?
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
            match (self.log_x, self.log_y) {
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
        let svg = f
            .to_svg()
            .with_context(|| format!("plotting {} of {}", f.name, o.claim.id))?;
        files.push((
            dir.join(format!("{}.svg", file_stem(o.claim.id, &f.name, i))),
            svg.into_bytes(),
        ));
    }
    Ok(files)
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
            e.measured.into(),
            e.expected.into(),
            e.tolerance.into(),
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
    let pass = outcomes
        .iter()
        .filter(|o| o.evidence.verdict == crate::claims::Verdict::Pass)
        .count();
    let refuted = outcomes
        .iter()
        .filter(|o| o.evidence.verdict == crate::claims::Verdict::Refuted)
        .count();
    let _ = writeln!(s, "# diffusion-claims — report\n");
    let _ = writeln!(s, "Reproduce with:\n\n```\n{command}\n```\n");
    let _ = writeln!(
        s,
        "{} claims: {pass} PASS, {refuted} REFUTED-as-stated, {} FAIL. `measured`/`expected`/`tolerance` are each claim's headline number; `detail` says what it is.\n",
        outcomes.len(),
        outcomes.len() - pass - refuted
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
