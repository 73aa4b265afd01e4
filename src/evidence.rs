//! Evidence as plain data: verdicts, tidy tables and figures. Claims build it; `report` writes it
//! (CSV, SVG, summary, REPORT.md). Nothing here knows about claims or files.

use anyhow::{bail, Context, Result};

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
    /// A figure with linear axes and no series.
    ///
    /// Axis labels state the quantity and its unit, the unit in parentheses: data x₀ are in
    /// "data units" (W1/W2, pathwise errors, σ_t: `(data units)`; variances `(data units²)`), KL and
    /// log densities in `(nats)`, TV/KS/relative errors and ratios `(dimensionless)`, time `t (T = 1)`
    /// or step sizes `(units of t)`, wall times `(s)`/`(ms)`. Counts need no unit: `steps N`,
    /// `NFE (denoiser evaluations)`, `grid points N`. `tests/figure_labels.rs` enforces this on
    /// every `Figure::new` under `src/claims` whose labels are string literals.
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
}

/// The outcome of a claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The statement holds within the stated tolerance.
    Pass,
    /// The statement as checked does not hold: a bug in the harness or in the mathematics.
    Fail,
    /// The source's statement, as stated, is false; the harness shows it (and what is true instead).
    Refuted,
    /// The claim's input is absent (e.g. the authors' spectrum); nothing was judged. Never a PASS.
    Skipped,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::Refuted => "REFUTED-as-stated",
            Verdict::Skipped => "SKIPPED",
        }
    }
    pub fn parse(s: &str) -> Option<Verdict> {
        [
            Verdict::Pass,
            Verdict::Fail,
            Verdict::Refuted,
            Verdict::Skipped,
        ]
        .into_iter()
        .find(|v| v.name() == s)
    }
    /// PASS when `ok`, FAIL otherwise.
    pub fn from_ok(ok: bool) -> Verdict {
        if ok {
            Verdict::Pass
        } else {
            Verdict::Fail
        }
    }
}

/// What a check leaves behind: a verdict, the headline number against its expectation and tolerance,
/// and the tables and figures that support it.
#[derive(Clone, Debug)]
pub struct Evidence {
    pub verdict: Verdict,
    /// The headline measured number (e.g. the largest relative error, a fitted slope).
    pub measured: f64,
    /// What the theory says that number should be.
    pub expected: f64,
    /// The tolerance the verdict used, from the mathematics (stated in `detail`).
    pub tolerance: f64,
    pub detail: String,
    pub tables: Vec<Table>,
    pub figures: Vec<Figure>,
}

impl Evidence {
    /// Evidence for "measured ≤ tolerance" (an error that should vanish): PASS iff it does.
    pub fn within(measured: f64, tolerance: f64, detail: impl Into<String>) -> Self {
        Self {
            verdict: Verdict::from_ok(measured.is_finite() && measured <= tolerance),
            measured,
            expected: 0.0,
            tolerance,
            detail: detail.into(),
            tables: Vec::new(),
            figures: Vec::new(),
        }
    }
    /// Evidence for "|measured − expected| ≤ tolerance".
    pub fn close(measured: f64, expected: f64, tolerance: f64, detail: impl Into<String>) -> Self {
        Self {
            verdict: Verdict::from_ok((measured - expected).abs() <= tolerance),
            measured,
            expected,
            tolerance,
            detail: detail.into(),
            tables: Vec::new(),
            figures: Vec::new(),
        }
    }
    /// SKIPPED: the claim's input is missing; `reason` says which and how to supply it.
    pub fn skipped(reason: impl Into<String>) -> Self {
        Self {
            verdict: Verdict::Skipped,
            measured: f64::NAN,
            expected: f64::NAN,
            tolerance: f64::NAN,
            detail: format!("SKIPPED: {}", reason.into()),
            tables: Vec::new(),
            figures: Vec::new(),
        }
    }
    /// FAIL because the check itself could not finish (an error or a panic), with the message.
    pub fn broken(why: impl Into<String>) -> Self {
        Self {
            verdict: Verdict::Fail,
            measured: f64::INFINITY,
            expected: 0.0,
            tolerance: 0.0,
            detail: why.into(),
            tables: Vec::new(),
            figures: Vec::new(),
        }
    }
    pub fn table(mut self, t: Table) -> Self {
        self.tables.push(t);
        self
    }
    pub fn figure(mut self, f: Figure) -> Self {
        self.figures.push(f);
        self
    }
    /// Downgrade to FAIL (with a reason) when a supporting check fails.
    pub fn require(mut self, ok: bool, why: &str) -> Self {
        if !ok && self.verdict == Verdict::Pass {
            self.verdict = Verdict::Fail;
            self.detail = format!("{}; FAILED: {why}", self.detail);
        }
        self
    }
}
