//! PG-TABLE, the continuous columns: truncation W2(p_ε, p_0) (p_T column) and the exact SDE (EM rows) and
//! ODE (Euler rows) from N(0, I) (N_0 column), by the closed forms.

use super::Tally;
use crate::claims::wasserstein::common::{
    eps_label, exact_from_n0, half_unit, marginal, miss, printed_value, Spec,
};
use crate::claims::wasserstein::data::ICML;
use crate::evidence::Table;
use crate::pg::w2_centred;

/// The continuous columns' table; printed comparisons (authors' spectrum only) go to `tally`.
pub(super) fn run(sp: &Spec, tally: &mut Tally) -> Table {
    let mut cont = Table::new(
        "continuous",
        &[
            "row",
            "column",
            "eps",
            "w2",
            "printed",
            "half_unit",
            "abs_diff",
            "reproduced",
        ],
    );
    for (name, eps, c_pt, c_n0, _) in ICML {
        if c_pt.is_empty() {
            continue;
        }
        let trunc = w2_centred(&marginal(&sp.eig, *eps), &sp.eig);
        let w_n0 = w2_centred(&exact_from_n0(&sp.eig, *eps, *name == "em"), &sp.eig);
        for (col, w, p) in [("p_T (truncation)", trunc, *c_pt), ("N_0", w_n0, *c_n0)] {
            let which = if *name == "em" { "sde" } else { "ode" };
            let (ok, diff) = if sp.authors {
                let m = miss(w, p);
                tally.note(m, || {
                    format!("continuous {which} {col} ε={}", eps_label(*eps))
                });
                (
                    if m <= 1.0 { "yes" } else { "NO" },
                    (w - printed_value(p)).abs(),
                )
            } else {
                ("skipped", f64::NAN)
            };
            cont.push(vec![
                which.into(),
                col.into(),
                (*eps).into(),
                w.into(),
                p.into(),
                half_unit(p).into(),
                if diff.is_nan() {
                    "".into()
                } else {
                    diff.into()
                },
                ok.into(),
            ]);
        }
    }
    cont
}
