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
