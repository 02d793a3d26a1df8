//! stresslab-core: the pure-Rust engine of stresslab (no Python in here).
//!
//! Modules, one concept each:
//! - [`bootstrap`]: stationary block bootstrap of real bars (Politis-Romano, Politis-White block length);
//! - [`rng`]: deterministic random streams derived from (seed, scenario, path, symbol);
//! - [`synth`]: synthetic multi-symbol OHLCV + spread markets (realistic and GBM models);
//! - [`linalg`]: correlation-matrix factorisation;
//! - [`metrics`]: one-pass performance and risk metrics of an equity path (Sharpe, drawdown, VaR/ES, trades);
//! - [`error`]: the one error type, mapped to Python exceptions by the binding crate.

pub mod account;
pub mod bootstrap;
pub mod engine;
pub mod error;
pub mod exchange;
pub mod linalg;
pub mod market;
pub mod metrics;
pub mod orders;
pub mod rng;
pub mod strategy;
pub mod synth;

pub use error::{Result, StressError};
