//! stresslab-core: the pure-Rust engine of stresslab (no Python in here).
//!
//! Modules, one concept each:
//! - [`rng`]: deterministic random streams derived from (seed, scenario, path, symbol);
//! - [`synth`]: synthetic multi-symbol OHLCV + spread markets (realistic and GBM models);
//! - [`stress`]: stress transforms (flash crash, volatility spike, ..., data corruption, mixed);
//! - [`linalg`]: correlation-matrix factorisation;
//! - [`metrics`]: one-pass performance and risk metrics of an equity path (Sharpe, drawdown, VaR/ES, trades);
//! - [`error`]: the one error type, mapped to Python exceptions by the binding crate.

pub mod error;
pub mod linalg;
pub mod metrics;
pub mod rng;
pub mod stress;
pub mod synth;

pub use error::{Result, StressError};
