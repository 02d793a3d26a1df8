//! stresslab-core: the pure-Rust engine of stresslab (no Python in here).
//!
//! Modules, one concept each:
//! - [`bootstrap`]: stationary block bootstrap of real bars (Politis-Romano, Politis-White block length);
//! - [`rng`]: deterministic random streams derived from (seed, scenario, path, symbol);
//! - [`synth`]: synthetic multi-symbol OHLCV + spread markets (realistic and GBM models);
//! - [`stress`]: stress transforms (flash crash, volatility spike, ..., data corruption, mixed);
//! - [`linalg`]: correlation-matrix factorisation;
//! - [`risk`]: the native risk stack (orchestrator, risk guard, portfolio balancer, safety governor, policy modes);
//! - [`metrics`]: one-pass performance and risk metrics of an equity path (Sharpe, drawdown, VaR/ES, trades);
//! - [`error`]: the one error type, mapped to Python exceptions by the binding crate.

// `!(x > 0.0)` is deliberate throughout: it is true for NaN, which must fail the check too.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

pub mod account;
pub mod bootstrap;
pub mod engine;
pub mod error;
pub mod exchange;
pub mod linalg;
pub mod market;
pub mod metrics;
pub mod orders;
pub mod risk;
pub mod rng;
pub mod strategy;
pub mod stress;
pub mod sweep;
pub mod synth;

pub use error::{Result, StressError};
