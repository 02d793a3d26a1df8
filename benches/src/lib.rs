//! Criterion benchmarks for stresslab live in `benches/benches/`; this crate holds what they
//! share: the std-only W1 reference loop ([`w1`]), the GBM generation reference ([`gbm`]), the risk stack they measure ([`stacks`]) and
//! the Monte Carlo workload ([`sweep`]).

pub mod gbm;
pub mod stacks;
pub mod sweep;
pub mod w1;
