"""The seed's usage examples, runnable offline: ``python -m stresslab.examples``.

1. a single scenario, 2. the library batch, 3. a custom mixed scenario, 4. a historical replay,
5. a comprehensive suite with the runner's summary, 6. a Monte Carlo sweep. Examples 1-5 run the
seed's whole system built from the shipped mock components (``stresslab.mocks``: a trend-following
strategy engine, orchestrator, risk guard, balancer, safety governor, policy controller and store,
event bus), exactly as the seed wires them; example 6 sweeps the native reference strategy with the
native default risk stack. Each function returns what it computed so tests can check it; ``main()``
runs them all and prints the results.
"""

from __future__ import annotations

import time

import stresslab as sl
from stresslab import Scenario, ScenarioExecutor, ScenarioLibrary, ScenarioType, StressTestRunner
from stresslab.mocks import (
    MockEventBus,
    MockMetaStrategyController,
    MockOrchestrator,
    MockPolicyStore,
    MockPortfolioBalancer,
    MockRiskGuard,
    MockSafetyGovernor,
    MockStrategyEngine,
)
from stresslab.strategies import SmaCross

__all__ = [
    "example_single_scenario",
    "example_library_batch",
    "example_custom_mixed",
    "example_historical_replay",
    "example_comprehensive_suite",
    "example_monte_carlo",
    "main",
]


def _system() -> ScenarioExecutor:
    """The trading system under test, wired as in the seed from the shipped mock components."""
    return ScenarioExecutor(
        runtime_engine=MockStrategyEngine(),
        orchestrator=MockOrchestrator(),
        risk_guard=MockRiskGuard(),
        portfolio_balancer=MockPortfolioBalancer(),
        safety_governor=MockSafetyGovernor(max_drawdown_pct=10.0),
        msc=MockMetaStrategyController(),
        policy_store=MockPolicyStore(),
        event_bus=MockEventBus(),
        initial_capital=100_000.0,
    )


def example_single_scenario() -> sl.ScenarioResult:
    """Example 1: one flash crash."""
    scenario = Scenario(
        name="btc_flash_crash",
        type=ScenarioType.FLASH_CRASH,
        parameters={"drop_pct": 0.30, "duration_bars": 12, "recovery_bars": 48},
        symbols=["BTCUSDT"],
        seed=42,
        n_bars=24 * 90,
    )
    result = _system().run(scenario)
    print(
        f"[1] {scenario.name}: return {result.total_return * 100:.1f}%, max drawdown {result.max_drawdown:.1f}%, "
        f"Sharpe {result.sharpe_ratio:.2f}, trades {result.total_trades}, "
        f"emergency stops {result.emergency_stops}, execution failures {result.execution_failures}"
    )
    return result


def example_library_batch() -> dict[str, sl.ScenarioResult]:
    """Example 2: the scenario library in one batch."""
    runner = StressTestRunner(_system())
    results = runner.run_batch(ScenarioLibrary.get_all())
    summary = runner.generate_summary(results)
    print(
        f"[2] library: {summary['successful_scenarios']}/{summary['total_scenarios']} ran, "
        f"avg max drawdown {summary['avg_max_drawdown']:.1f}%, worst {summary['worst_max_drawdown']:.1f}%; "
        f"weakest: {', '.join(n for n, _ in runner.weakest_scenarios(results, 3))}"
    )
    return results


def example_custom_mixed() -> sl.ScenarioResult:
    """Example 3: a custom mixed scenario (the seed's flat parameter names)."""
    scenario = Scenario(
        name="custom_chaos",
        type=ScenarioType.MIXED_CUSTOM,
        parameters={
            "flash_crash_drop_pct": 0.25,
            "volatility_multiplier": 3.0,
            "spread_mult": 8.0,
            "liquidity_drop_pct": 0.6,
            "failure_rate": 0.05,
        },
        symbols=["BTCUSDT", "ETHUSDT"],
        seed=7,
        n_bars=24 * 60,
    )
    result = _system().run(scenario)
    print(
        f"[3] {scenario.name}: return {result.total_return * 100:.1f}%, max drawdown {result.max_drawdown:.1f}%, "
        f"slippage paid {result.slippage_paid:,.0f}, execution failures {result.execution_failures}"
    )
    return result


def example_historical_replay() -> sl.ScenarioResult:
    """Example 4: replay the real May 2021 crash from the bundled data (offline)."""
    scenario = ScenarioLibrary.may_2021_crash()
    result = _system().run(scenario)
    print(
        f"[4] {scenario.name} (real bars): return {result.total_return * 100:.1f}%, "
        f"max drawdown {result.max_drawdown:.1f}%, trades {result.total_trades}"
    )
    return result


def example_comprehensive_suite() -> dict[str, sl.ScenarioResult]:
    """Example 5: a calm baseline next to every stress type, with the summary table."""
    base = dict(symbols=["BTCUSDT"], seed=11, n_bars=24 * 120)
    suite = [
        Scenario("baseline", ScenarioType.MIXED_CUSTOM, **base),
        Scenario("flash_crash", ScenarioType.FLASH_CRASH, {"drop_pct": 0.35}, **base),
        Scenario("vol_spike", ScenarioType.VOLATILITY_SPIKE, {"multiplier": 4.0}, **base),
        Scenario("liquidity", ScenarioType.LIQUIDITY_DROP, {"drop_pct": 0.9}, **base),
        Scenario("spreads", ScenarioType.SPREAD_EXPLOSION, {"spread_mult": 20.0}, **base),
        Scenario("corrupt_feed", ScenarioType.DATA_CORRUPTION, {"corruption_pct": 0.01}, **base),
        Scenario("pump_dump", ScenarioType.PUMP_AND_DUMP, {"pump_pct": 0.8}, **base),
    ]
    runner = StressTestRunner(_system())
    results = runner.run_batch(suite)
    print("[5] comprehensive suite:")
    runner.print_summary(results)
    return results


def example_monte_carlo() -> sl.MonteCarloResult:
    """Example 6: 500 paths of a flash crash at two depths."""
    scenario = Scenario("mc_flash_crash", ScenarioType.FLASH_CRASH, {"drop_pct": 0.3}, n_bars=24 * 90, seed=5)
    mc = sl.monte_carlo(
        scenario, SmaCross(24, 96), n_paths=500, grid={"drop_pct": [0.2, 0.4]}, risk=sl.risk.default_stack()
    )
    s = mc.summary.sort("param_drop_pct")
    for row in s.iter_rows(named=True):
        print(
            f"[6] drop {row['param_drop_pct']:.0%}: max drawdown p50 {row['max_drawdown_p50']:.1f}% "
            f"p95 {row['max_drawdown_p95']:.1f}%, return p5 {row['total_return_pct_p5']:.1f}%, "
            f"P(ruin) {row['prob_ruin']:.3f}, ESS frequency {row['emergency_stop_frequency']:.2f}"
        )
    print(f"    {mc.table.height} paths at {mc.bars_per_second / 1e6:.1f} M bars/s")
    return mc


def main() -> int:
    t0 = time.perf_counter()
    example_single_scenario()
    example_library_batch()
    example_custom_mixed()
    example_historical_replay()
    example_comprehensive_suite()
    example_monte_carlo()
    print(f"all examples ran in {time.perf_counter() - t0:.1f} s")
    return 0
