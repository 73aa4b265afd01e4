//! Reward fine-tuning (CLAIMS §13; TZ §6, PDM §8.5): RL-1 (the tilted optimum, Gaussian-family and DPO
//! optima), RL-2 (path-space optimum = h-transform guidance), RL-3 (fixed initial noise biases the law),
//! RL-4 (Girsanov path KL = running cost), RL-5 (policy-gradient estimator). Library: `crate::finetune`.

mod rl_1;
mod rl_2;
mod rl_3;
mod rl_4;
mod rl_5;

use crate::claims::Claim;

const FAMILY: &str = "finetune";

pub fn claims() -> Vec<Claim> {
    vec![
        rl_1::claim(),
        rl_2::claim(),
        rl_3::claim(),
        rl_4::claim(),
        rl_5::claim(),
    ]
}
