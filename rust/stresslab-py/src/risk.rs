//! Bindings of the native risk stack: its configuration from the dicts that
//! `stresslab.risk` builds (limits already converted to fractions there), a construction-time
//! check, and the report of a run as plain Python objects.
//!
//! Each component arrives as `{name: float | None}`; a missing or None entry means "no limit"
//! (or the default for settings that have one). Counts come as floats and are checked to be
//! whole numbers here. Unknown names are an error naming the allowed ones.

use std::collections::HashMap;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use stresslab_core::risk::{
    BalancerConfig, GovernorConfig, Mode, ModeLimits, MscConfig, OrchestratorConfig, PolicyConfig, RiskConfig,
    RiskGuardConfig, RiskReport, StopAction,
};
use stresslab_core::StressError;

use crate::errors::to_py;

type CoreResult<T> = stresslab_core::Result<T>;
type Fields = HashMap<String, Option<f64>>;

/// The policy store: one (size_multiplier, max_gross_leverage, allow_entries) per mode, calm
/// to severe, and the starting mode.
#[derive(FromPyObject)]
pub struct PyPolicyConfig {
    #[pyo3(item)]
    limits: Vec<(f64, Option<f64>, bool)>,
    #[pyo3(item)]
    initial_mode: String,
}

#[derive(FromPyObject)]
pub struct PyRiskConfig {
    #[pyo3(item)]
    orchestrator: Option<Fields>,
    #[pyo3(item)]
    risk_guard: Option<Fields>,
    #[pyo3(item)]
    portfolio_balancer: Option<Fields>,
    #[pyo3(item)]
    safety_governor: Option<Fields>,
    #[pyo3(item)]
    msc: Option<Fields>,
    #[pyo3(item)]
    policy_store: Option<PyPolicyConfig>,
}

/// Typed reads from one component's dict.
struct Reader<'a> {
    map: &'a Fields,
}

impl Reader<'_> {
    fn check_known(&self, component: &str, allowed: &[&str]) -> CoreResult<()> {
        match self.map.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(k) => Err(StressError::param(
                k.as_str(),
                format!("unknown {component} parameter; allowed: {}", allowed.join(", ")),
            )),
            None => Ok(()),
        }
    }

    fn opt(&self, k: &str) -> Option<f64> {
        self.map.get(k).copied().flatten()
    }

    fn num(&self, k: &str, default: f64) -> f64 {
        self.opt(k).unwrap_or(default)
    }

    fn flag(&self, k: &str, default: bool) -> bool {
        self.opt(k).map_or(default, |x| x != 0.0)
    }

    /// A whole number >= 0 (None when absent).
    fn count(&self, k: &str) -> CoreResult<Option<usize>> {
        match self.opt(k) {
            None => Ok(None),
            Some(x) if x.is_finite() && x >= 0.0 && x.fract() == 0.0 && x < 1e15 => Ok(Some(x as usize)),
            Some(x) => Err(StressError::param(k, format!("must be a whole number >= 0, got {x}"))),
        }
    }
}

fn orchestrator(r: Reader) -> CoreResult<OrchestratorConfig> {
    r.check_known("orchestrator", &["min_confidence", "max_positions", "cooldown_bars", "scale_by_confidence"])?;
    let d = OrchestratorConfig::default();
    Ok(OrchestratorConfig {
        min_confidence: r.num("min_confidence", d.min_confidence),
        max_positions: r.count("max_positions")?,
        cooldown_bars: r.count("cooldown_bars")?.unwrap_or(d.cooldown_bars),
        scale_by_confidence: r.flag("scale_by_confidence", d.scale_by_confidence),
    })
}

fn risk_guard(r: Reader) -> CoreResult<RiskGuardConfig> {
    r.check_known(
        "risk guard",
        &["max_position", "max_notional", "max_leverage", "max_order_volume", "daily_loss_limit", "block_corrupt_bars"],
    )?;
    Ok(RiskGuardConfig {
        max_position: r.opt("max_position"),
        max_notional: r.opt("max_notional"),
        max_leverage: r.opt("max_leverage"),
        max_order_volume: r.opt("max_order_volume"),
        daily_loss_limit: r.opt("daily_loss_limit"),
        block_corrupt_bars: r.flag("block_corrupt_bars", true),
    })
}

fn balancer(r: Reader) -> CoreResult<BalancerConfig> {
    r.check_known(
        "portfolio balancer",
        &[
            "max_gross",
            "min_net",
            "max_net",
            "max_weight",
            "max_concentration",
            "correlation_window",
            "rebalance_tolerance",
        ],
    )?;
    let d = BalancerConfig::default();
    Ok(BalancerConfig {
        max_gross: r.opt("max_gross"),
        min_net: r.opt("min_net"),
        max_net: r.opt("max_net"),
        max_weight: r.opt("max_weight"),
        max_concentration: r.opt("max_concentration"),
        correlation_window: r.count("correlation_window")?.unwrap_or(d.correlation_window),
        rebalance_tolerance: r.num("rebalance_tolerance", d.rebalance_tolerance),
    })
}

fn governor(r: Reader) -> CoreResult<GovernorConfig> {
    r.check_known(
        "safety governor",
        &[
            "max_drawdown",
            "loss_velocity",
            "loss_velocity_bars",
            "max_failure_streak",
            "max_corrupt_bars",
            "corrupt_window_bars",
            "max_volatility_mult",
            "vol_short_bars",
            "vol_long_bars",
            "freeze",
            "cooldown_bars",
        ],
    )?;
    let d = GovernorConfig::default();
    let small = |k: &str| -> CoreResult<Option<u32>> {
        r.count(k)?
            .map(|x| u32::try_from(x).map_err(|_| StressError::param(k, format!("{x} is too large"))))
            .transpose()
    };
    Ok(GovernorConfig {
        max_drawdown: r.opt("max_drawdown"),
        loss_velocity: r.opt("loss_velocity"),
        loss_velocity_bars: r.count("loss_velocity_bars")?.unwrap_or(d.loss_velocity_bars),
        max_failure_streak: small("max_failure_streak")?,
        max_corrupt_bars: small("max_corrupt_bars")?,
        corrupt_window_bars: r.count("corrupt_window_bars")?.unwrap_or(d.corrupt_window_bars),
        max_volatility_mult: r.opt("max_volatility_mult"),
        vol_short_bars: r.num("vol_short_bars", d.vol_short_bars),
        vol_long_bars: r.num("vol_long_bars", d.vol_long_bars),
        action: if r.flag("freeze", false) { StopAction::Freeze } else { StopAction::Flatten },
        // None (absent) = stay stopped until the end of the run
        cooldown_bars: r.count("cooldown_bars")?,
    })
}

fn msc(r: Reader) -> CoreResult<MscConfig> {
    r.check_known(
        "meta strategy controller",
        &[
            "defensive_drawdown",
            "preservation_drawdown",
            "halt_drawdown",
            "defensive_vol_mult",
            "preservation_vol_mult",
            "halt_vol_mult",
            "hysteresis",
            "min_bars_in_mode",
            "drawdown_window_bars",
            "vol_short_bars",
            "vol_long_bars",
        ],
    )?;
    let d = MscConfig::default();
    Ok(MscConfig {
        drawdown: [r.opt("defensive_drawdown"), r.opt("preservation_drawdown"), r.opt("halt_drawdown")],
        vol_mult: [r.opt("defensive_vol_mult"), r.opt("preservation_vol_mult"), r.opt("halt_vol_mult")],
        hysteresis: r.num("hysteresis", d.hysteresis),
        min_bars_in_mode: r.count("min_bars_in_mode")?.unwrap_or(d.min_bars_in_mode),
        drawdown_window_bars: r.count("drawdown_window_bars")?,
        vol_short_bars: r.num("vol_short_bars", d.vol_short_bars),
        vol_long_bars: r.num("vol_long_bars", d.vol_long_bars),
    })
}

fn policy(p: &PyPolicyConfig) -> CoreResult<PolicyConfig> {
    if p.limits.len() != 4 {
        return Err(StressError::param(
            "limits",
            format!("need 4 modes (NORMAL, DEFENSIVE, CAPITAL_PRESERVATION, HALT), got {}", p.limits.len()),
        ));
    }
    let mut limits = PolicyConfig::default().limits;
    for (dst, (size, lev, entries)) in limits.iter_mut().zip(&p.limits) {
        *dst = ModeLimits { size_multiplier: *size, max_gross_leverage: *lev, allow_entries: *entries };
    }
    Ok(PolicyConfig { limits, initial_mode: Mode::parse(&p.initial_mode)? })
}

impl PyRiskConfig {
    pub fn to_core(&self) -> CoreResult<RiskConfig> {
        let cfg = RiskConfig {
            orchestrator: self.orchestrator.as_ref().map(|m| orchestrator(Reader { map: m })).transpose()?,
            risk_guard: self.risk_guard.as_ref().map(|m| risk_guard(Reader { map: m })).transpose()?,
            balancer: self.portfolio_balancer.as_ref().map(|m| balancer(Reader { map: m })).transpose()?,
            governor: self.safety_governor.as_ref().map(|m| governor(Reader { map: m })).transpose()?,
            msc: self.msc.as_ref().map(|m| msc(Reader { map: m })).transpose()?,
            policy: self.policy_store.as_ref().map(policy).transpose()?,
        };
        cfg.validate()?;
        Ok(cfg)
    }
}

/// Check a risk configuration now (so a bad one fails when it is constructed, not at run time).
#[pyfunction]
pub fn check_risk_config(cfg: PyRiskConfig) -> PyResult<()> {
    to_py(cfg.to_core()).map(|_| ())
}

/// The policy modes, calm to severe.
#[pyfunction]
pub fn policy_modes() -> Vec<&'static str> {
    stresslab_core::risk::MODES.iter().map(|m| m.name()).collect()
}

/// A run's risk report (plus the failures of user components and models) as plain objects.
pub fn report_dict<'py>(
    py: Python<'py>,
    r: &RiskReport,
    component_failures: &[(usize, String, String)],
    model_failures: &[(usize, String, String)],
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    let stops = PyList::empty(py);
    for s in &r.stops {
        let x = PyDict::new(py);
        x.set_item("bar", s.bar)?;
        x.set_item("trigger", &s.trigger)?;
        x.set_item("action", s.action.name())?;
        x.set_item("equity", s.equity)?;
        x.set_item("drawdown", s.drawdown)?;
        x.set_item("rearmed_bar", s.rearmed_bar)?;
        stops.append(x)?;
    }
    d.set_item("emergency_stops", stops)?;
    let tr: Vec<(usize, &str, &str, &str)> =
        r.transitions.iter().map(|t| (t.bar, t.from.name(), t.to.name(), t.reason.as_str())).collect();
    d.set_item("policy_transitions", tr)?;
    let denials = PyDict::new(py);
    for (name, n) in &r.denials {
        denials.set_item(*name, *n)?;
    }
    d.set_item("denials", denials)?;
    d.set_item("rebalances", r.rebalances)?;
    d.set_item("final_mode", r.final_mode.map(|m| m.name()))?;
    d.set_item("component_failures", component_failures.to_vec())?;
    d.set_item("model_failures", model_failures.to_vec())?;
    Ok(d)
}
