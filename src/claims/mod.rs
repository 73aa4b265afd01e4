//! Claims: one module per family; a claim measures one thing by one route and compares it with what
//! the theory says by an independent route, leaving [`Evidence`].

pub use crate::evidence::{Evidence, Verdict};
use anyhow::Result;
use rand::SeedableRng;
use rand_pcg::Pcg64;

pub mod convergence;
pub mod discrete;
pub mod engine;
pub mod finetune;
pub mod flowmaps;
pub mod forward;
pub mod guidance;
pub mod likelihood;
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

    /// [`Claim::run`], with an error or a panic inside the check turned into this claim's FAIL (with
    /// the message), so one broken check does not end the whole run.
    pub fn run_caught(&self, scale: Scale, seed: u64) -> Evidence {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.run(scale, seed))) {
            Ok(Ok(e)) => e,
            Ok(Err(e)) => Evidence::broken(format!("check failed to run: {e:#}")),
            Err(payload) => {
                let msg = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "non-string panic payload".into());
                Evidence::broken(format!("check panicked: {msg}"))
            }
        }
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
    all.extend(guidance::claims());
    all.extend(finetune::claims());
    all.extend(likelihood::claims());
    all.extend(flowmaps::claims());
    all.extend(convergence::claims());
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

#[cfg(test)]
mod tests {
    use super::*;

    fn panicking(_: &Ctx) -> Result<Evidence> {
        panic!("deliberate panic inside a check")
    }
    fn erring(_: &Ctx) -> Result<Evidence> {
        anyhow::bail!("deliberate error")
    }

    fn claim(check: fn(&Ctx) -> Result<Evidence>) -> Claim {
        Claim {
            id: "TEST-1",
            family: "test",
            source: "this test",
            statement: "a check that cannot finish",
            check,
        }
    }

    #[test]
    fn a_panic_or_an_error_in_a_check_is_that_claims_fail() {
        let e = claim(panicking).run_caught(Scale::Quick, 1);
        assert_eq!(e.verdict, Verdict::Fail);
        assert!(e.detail.contains("deliberate panic"), "{}", e.detail);
        let e = claim(erring).run_caught(Scale::Quick, 1);
        assert_eq!(e.verdict, Verdict::Fail);
        assert!(e.detail.contains("deliberate error"), "{}", e.detail);
    }

    #[test]
    fn every_registered_claim_has_a_unique_id_and_a_family() {
        let all = registry();
        let mut ids: Vec<&str> = all.iter().map(|c| c.id).collect();
        ids.sort_unstable();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n, "duplicate claim ids");
        assert!(all.iter().all(|c| !c.family.is_empty()));
    }
}
