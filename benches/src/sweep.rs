//! The Monte Carlo workload the sweep bench and its profile driver share.

use std::collections::HashMap;

use stresslab_core::engine::EngineConfig;
use stresslab_core::exchange::ExchangeConfig;
use stresslab_core::rng::scenario_key;
use stresslab_core::stress::{Position, Step, StressRun};
use stresslab_core::sweep::{PathSource, SweepSpec};
use stresslab_core::synth::{MarketParams, MarketSpec, Model, SymbolProfile};

/// Realistic BTC hourly bars, a 30% flash crash at a random bar, the default exchange, no risk
/// stack (set `risk` for one): the per-path pipeline of issue 8.
pub fn sweep_spec(n_bars: usize) -> SweepSpec {
    let market = MarketSpec::new(
        Model::Realistic,
        vec![SymbolProfile::btc()],
        n_bars,
        0,
        3_600_000,
        42,
        scenario_key("bench"),
        MarketParams::default(),
        None,
        None,
    )
    .expect("spec");
    let params: HashMap<String, f64> = [
        ("drop_pct", 0.3),
        ("duration_bars", 6.0),
        ("recovery_bars", 24.0),
        ("recovery_pct", 0.5),
        ("volume_mult", 8.0),
        ("spread_mult", 5.0),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let step = Step::from_params("flash_crash", &params, &[], None, Position::Random, Vec::new()).expect("step");
    SweepSpec {
        market: PathSource::Synthetic(market),
        stress: Some(StressRun::mixed(vec![step], 42, scenario_key("bench"))),
        exchange: ExchangeConfig::default(),
        engine: EngineConfig { periods_per_year: Some(8760.0), ..Default::default() },
        risk: None,
    }
}
