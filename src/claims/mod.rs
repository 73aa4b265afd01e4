//! Claims: one module per family; a claim measures one thing by one route and compares it with what
//! the theory says by an independent route, leaving [`Evidence`].

use crate::report::{Figure, Table};
use anyhow::Result;
use rand::SeedableRng;
use rand_pcg::Pcg64;

pub mod discrete;
pub mod engine;
pub mod forward;
pub mod practice;
pub mod reverse;
pub mod scorematching;
pub mod solvers;
pub mod wasserstein;

/// How much work a claim does: `Quick` for CI (seconds), `Full` for paper figures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Scale {
    Quick,
    Full,
}

impl Scale {
    pub fn name(self) -> &'static str {
        match self {
            Scale::Quick => "quick",
            Scale::Full => "full",
        }
    }
    /// `quick` at quick scale, `full` otherwise.
    pub fn pick<T>(self, quick: T, full: T) -> T {
        match self {
            Scale::Quick => quick,
            Scale::Full => full,
        }
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
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::Refuted => "REFUTED-as-stated",
        }
    }
    pub fn parse(s: &str) -> Option<Verdict> {
        [Verdict::Pass, Verdict::Fail, Verdict::Refuted]
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

/// What a check receives: the scale and a seed from which every random stream is derived.
#[derive(Clone, Debug)]
pub struct Ctx {
    pub scale: Scale,
    pub seed: u64,
    pub id: &'static str,
}

impl Ctx {
    /// A PCG64 stream for (seed, claim id, stream name), through a stable hash (FNV-1a), so a claim's
    /// draws do not depend on which other claims run or on the thread count.
    pub fn rng(&self, stream: &str) -> Pcg64 {
        Pcg64::seed_from_u64(stable_hash(self.seed, &[self.id, stream]))
    }
}

/// FNV-1a over the seed and the strings (with separators): stable across platforms and Rust versions.
pub fn stable_hash(seed: u64, parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |b: u8| {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    };
    seed.to_le_bytes().into_iter().for_each(&mut eat);
    for p in parts {
        p.bytes().for_each(&mut eat);
        eat(0xff);
    }
    h
}

/// A checkable claim of CLAIMS.md.
#[derive(Clone)]
pub struct Claim {
    /// The id in CLAIMS.md (e.g. "DD-3").
    pub id: &'static str,
    /// The family (a folder under `results/`).
    pub family: &'static str,
    /// The source(s) the statement comes from.
    pub source: &'static str,
    /// The statement as checked.
    pub statement: &'static str,
    pub check: fn(&Ctx) -> Result<Evidence>,
}

impl Claim {
    pub fn run(&self, scale: Scale, seed: u64) -> Result<Evidence> {
        (self.check)(&Ctx {
            scale,
            seed,
            id: self.id,
        })
    }
}

/// Every registered claim, in report order.
pub fn registry() -> Vec<Claim> {
    let mut all = Vec::new();
    all.extend(forward::claims());
    all.extend(discrete::claims());
    all.extend(engine::claims());
    all.extend(reverse::claims());
    all.extend(solvers::claims());
    all.extend(practice::claims());
    all.extend(wasserstein::claims());
    all.extend(scorematching::claims());
    all
}

/// The families, in report order.
pub fn families() -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for c in registry() {
        if !out.contains(&c.family) {
            out.push(c.family);
        }
    }
    out
}
