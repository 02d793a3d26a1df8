//! The native risk stack the benches measure: `stresslab.risk.default_stack()` (what the CLI's
//! `--risk default` runs), every component on and every governor trigger armed.

use stresslab_core::risk::{
    BalancerConfig, GovernorConfig, MscConfig, OrchestratorConfig, PolicyConfig, RiskConfig, RiskGuardConfig,
};

/// Orchestrator; guard: 100% per symbol, 2x gross, 10% of a bar's volume, 5% daily loss;
/// balancer 200% gross; governor: 15% drawdown, 8% loss velocity, 10 rejections, 5 corrupt bars,
/// 4x volatility; controller at 2.5x / 4x / 6x volatility; the default policy store.
pub fn default_stack() -> RiskConfig {
    RiskConfig {
        orchestrator: Some(OrchestratorConfig::default()),
        risk_guard: Some(RiskGuardConfig {
            max_position: Some(1.0),
            max_leverage: Some(2.0),
            max_order_volume: Some(0.1),
            daily_loss_limit: Some(0.05),
            ..Default::default()
        }),
        balancer: Some(BalancerConfig { max_gross: Some(2.0), ..Default::default() }),
        governor: Some(GovernorConfig {
            max_drawdown: Some(0.15),
            loss_velocity: Some(0.08),
            max_failure_streak: Some(10),
            max_corrupt_bars: Some(5),
            max_volatility_mult: Some(4.0),
            ..Default::default()
        }),
        msc: Some(MscConfig { vol_mult: [Some(2.5), Some(4.0), Some(6.0)], ..Default::default() }),
        policy: Some(PolicyConfig::default()),
    }
}

/// The same components with limits no W1 path reaches (every check still runs on every bar, but
/// nothing fires): what watching costs, apart from the trades a stack's actions cause.
pub fn watching_stack() -> RiskConfig {
    let mut cfg = default_stack();
    if let Some(g) = cfg.risk_guard.as_mut() {
        g.daily_loss_limit = Some(0.99);
        g.max_leverage = Some(100.0);
        g.max_position = Some(10.0);
        g.max_order_volume = Some(1.0);
    }
    if let Some(b) = cfg.balancer.as_mut() {
        b.max_gross = Some(10.0);
    }
    if let Some(g) = cfg.governor.as_mut() {
        g.max_drawdown = Some(0.99);
        g.loss_velocity = Some(0.99);
        g.max_volatility_mult = Some(1e5);
    }
    if let Some(m) = cfg.msc.as_mut() {
        m.drawdown = [Some(0.97), Some(0.98), Some(0.99)];
        m.vol_mult = [Some(1e3), Some(1e4), Some(1e5)];
    }
    cfg
}
