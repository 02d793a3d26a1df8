//! Criterion benchmarks for stresslab live in `benches/benches/`; this crate holds what they
//! share: the std-only W1 reference loop ([`w1`]) and the risk stack they measure ([`stacks`]).

pub mod stacks;
pub mod w1;
