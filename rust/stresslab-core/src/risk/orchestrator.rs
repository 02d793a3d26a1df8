//! Orchestrator: filters and sizes the strategy's signals before the risk checks.
//!
//! A signal is a changed target for one symbol. Per signal, in symbol order:
//! - confidence below `min_confidence` drops a signal that adds risk (exits always pass);
//! - `cooldown_bars`: a symbol whose target changed less than this many bars ago takes no new
//!   risk (a reduction passes), which stops a jittery strategy from churning;
//! - `max_positions`: a new position (from a zero target) beyond this many open ones is dropped;
//! - `scale_by_confidence`: the target is multiplied by the signal's confidence.

use super::{Reason, Recorder, RiskView};
use crate::error::{check_range, Result, StressError};

#[derive(Clone, Debug, PartialEq)]
pub struct OrchestratorConfig {
    /// Signals with a confidence below this (in [0, 1]) may not add risk.
    pub min_confidence: f64,
    /// At most this many symbols with a non-zero target at once (None: no limit).
    pub max_positions: Option<usize>,
    /// Bars after a target change during which the symbol takes no new risk.
    pub cooldown_bars: usize,
    /// Multiply each signal's target by its confidence.
    pub scale_by_confidence: bool,
}

impl Default for OrchestratorConfig {
    fn default() -> Self {
        OrchestratorConfig { min_confidence: 0.0, max_positions: None, cooldown_bars: 0, scale_by_confidence: false }
    }
}

impl OrchestratorConfig {
    pub fn validate(&self) -> Result<()> {
        check_range("min_confidence", self.min_confidence, 0.0, 1.0)?;
        if self.max_positions == Some(0) {
            return Err(StressError::param("max_positions", "must be an integer >= 1 (or None for no limit), got 0"));
        }
        Ok(())
    }
}

#[derive(Clone, Debug)]
pub struct Orchestrator {
    pub cfg: OrchestratorConfig,
    /// Bar of the last accepted target change per symbol.
    last_change: Vec<Option<usize>>,
}

impl Orchestrator {
    pub fn new(cfg: OrchestratorConfig, n_symbols: usize) -> Self {
        Orchestrator { cfg, last_change: vec![None; n_symbols] }
    }

    /// Filter the changed entries of `row` (NaN = no change). `confidence` is one value per
    /// symbol (1 when the strategy gives none).
    pub fn filter(&mut self, v: &RiskView, row: &mut [f64], confidence: Option<&[f64]>, rec: &mut Recorder) {
        let mut open = 0usize;
        if self.cfg.max_positions.is_some() {
            open = (0..row.len()).filter(|&s| v.current(s) != 0.0).count();
        }
        for s in 0..row.len() {
            let x = row[s];
            if x.is_nan() {
                continue;
            }
            let cur = v.current(s);
            let c = confidence.map_or(1.0, |c| c[s]);
            let adds = super::adds_risk(cur, x);
            if adds && c < self.cfg.min_confidence {
                rec.deny(s, x, f64::NAN, Reason::LowConfidence);
                row[s] = f64::NAN;
                continue;
            }
            if adds && self.cfg.cooldown_bars > 0 {
                if let Some(b) = self.last_change[s] {
                    if v.t - b < self.cfg.cooldown_bars {
                        rec.deny(s, x, f64::NAN, Reason::Cooldown);
                        row[s] = f64::NAN;
                        continue;
                    }
                }
            }
            if let Some(max) = self.cfg.max_positions {
                if cur == 0.0 && x != 0.0 {
                    if open >= max {
                        rec.deny(s, x, f64::NAN, Reason::MaxPositions);
                        row[s] = f64::NAN;
                        continue;
                    }
                    open += 1;
                } else if cur != 0.0 && x == 0.0 {
                    open -= 1;
                }
            }
            if self.cfg.scale_by_confidence {
                row[s] = x * c;
            }
        }
    }

    /// The final decision of bar t: remember which symbols changed target.
    pub fn accepted(&mut self, t: usize, s: usize) {
        self.last_change[s] = Some(t);
    }
}
