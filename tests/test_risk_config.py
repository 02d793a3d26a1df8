"""Bad input to the risk stack: contradictory, negative and fraction-for-percent limits, objects
missing a Protocol's method, components in the wrong slot; and the units each keyword takes."""

from __future__ import annotations

import pytest
import stresslab as sl
from stresslab import InvalidParameterError, ScenarioExecutor
from stresslab.mocks import MockEventBus, MockSafetyGovernor
from stresslab.risk import (
    MetaStrategyController,
    Orchestrator,
    PolicyStore,
    PortfolioBalancer,
    RiskGuard,
    SafetyGovernor,
    default_stack,
)


@pytest.mark.parametrize(
    "make, field, fragment",
    [
        (lambda: SafetyGovernor(max_drawdown_pct=-5.0), "max_drawdown_pct", "negative"),
        (lambda: SafetyGovernor(max_drawdown_pct=0.1), "max_drawdown_pct", "pass 10"),
        (lambda: SafetyGovernor(max_drawdown_pct=150.0), "max_drawdown_pct", "[0, 100]"),
        (lambda: SafetyGovernor(max_drawdown_pct=0), "max_drawdown_pct", "None disables"),
        (lambda: SafetyGovernor(max_failure_streak=0), "max_failure_streak", ">= 1"),
        (lambda: SafetyGovernor(cooldown_bars=0), "cooldown_bars", ">= 1"),
        (lambda: SafetyGovernor(action="panic"), "action", "flatten"),
        (lambda: SafetyGovernor(max_volatility_mult=0.5), "max_volatility_mult", "> 1"),
        (lambda: SafetyGovernor(vol_short_bars=200, vol_long_bars=100), "vol_short_bars", "shorter"),
        (lambda: SafetyGovernor(loss_velocity_pct="5"), "loss_velocity_pct", "number"),
        (lambda: RiskGuard(max_leverage=-1.0), "max_leverage", "(0, 1000]"),
        (lambda: RiskGuard(daily_loss_limit_pct=0.02), "daily_loss_limit_pct", "pass 2"),
        (lambda: RiskGuard(max_notional=float("inf")), "max_notional", "finite"),
        (lambda: RiskGuard(block_corrupt_bars=1), "block_corrupt_bars", "True or False"),
        (
            lambda: PortfolioBalancer(min_net_exposure_pct=-20.0, max_net_exposure_pct=-30.0),
            "max_net_exposure_pct",
            "negative",
        ),
        (
            lambda: PortfolioBalancer(min_net_exposure_pct=-50.0, max_net_exposure_pct=0.3),
            "max_net_exposure_pct",
            "pass 30",
        ),
        (lambda: PortfolioBalancer(min_net_exposure_pct=10.0), "min_net_exposure_pct", "<= 0"),
        (lambda: PortfolioBalancer(correlation_window=1), "correlation_window", ">= 2"),
        (lambda: Orchestrator(min_confidence=60.0), "min_confidence", "probability"),
        (lambda: Orchestrator(max_positions=0), "max_positions", ">= 1"),
        (lambda: Orchestrator(cooldown_bars=-1), "cooldown_bars", ">= 0"),
        (
            lambda: MetaStrategyController(defensive_drawdown_pct=10.0, preservation_drawdown_pct=5.0),
            "preservation_drawdown_pct",
            "rise with severity",
        ),
        (
            lambda: MetaStrategyController(
                defensive_drawdown_pct=None, preservation_drawdown_pct=None, halt_drawdown_pct=None
            ),
            "thresholds",
            "at least one",
        ),
        (lambda: MetaStrategyController(hysteresis_pct=0.2), "hysteresis_pct", "pass 20"),
        (lambda: PolicyStore(halt={"size_multiplier": 2.0}), "halt.size_multiplier", "more severe"),
        (
            lambda: PolicyStore(defensive={"allow_entries": False}, capital_preservation={"allow_entries": True}),
            "capital_preservation.allow_entries",
            "more severe",
        ),
        (lambda: PolicyStore(normal={"leverage": 2}), "normal", "unknown"),
        (lambda: PolicyStore(initial_mode="PANIC"), "initial_mode", "NORMAL"),
    ],
)
def test_bad_limits_are_clear_errors(make, field, fragment):
    with pytest.raises(InvalidParameterError) as err:
        make()
    assert err.value.field == field
    assert fragment in str(err.value)
    assert isinstance(err.value, ValueError)


def test_percent_keywords_become_fractions_in_the_engine():
    g = SafetyGovernor(max_drawdown_pct=10.0, loss_velocity_pct=2.5)
    assert g.to_config()["max_drawdown"] == 0.10 and g.to_config()["loss_velocity"] == 0.025
    b = PortfolioBalancer(max_gross_exposure_pct=150.0, min_net_exposure_pct=-50.0, max_net_exposure_pct=0.0)
    assert (b.to_config()["max_gross"], b.to_config()["min_net"], b.to_config()["max_net"]) == (1.5, -0.5, 0.0)
    assert RiskGuard(max_position_pct=250.0).to_config()["max_position"] == 2.5
    assert MetaStrategyController(hysteresis_pct=0).to_config()["hysteresis"] == 0.0


class NoMethods:
    pass


class HalfGovernor:
    def check(self, context):  # the wrong name
        return None


@pytest.mark.parametrize(
    "slot, obj, method, protocol",
    [
        ("orchestrator", NoMethods(), "evaluate_signal", "OrchestratorProtocol"),
        ("risk_guard", NoMethods(), "check_risk", "RiskGuardProtocol"),
        ("portfolio_balancer", NoMethods(), "balance", "PortfolioBalancerProtocol"),
        ("safety_governor", HalfGovernor(), "check_emergency", "SafetyGovernorProtocol"),
        ("msc", NoMethods(), "select_mode", "MetaStrategyControllerProtocol"),
        ("policy_store", NoMethods(), "get_limits", "PolicyStoreProtocol"),
        ("event_bus", NoMethods(), "publish", "EventBusProtocol"),
    ],
)
def test_missing_method_names_the_method_and_the_protocol(slot, obj, method, protocol):
    with pytest.raises(InvalidParameterError) as err:
        ScenarioExecutor(**{slot: obj})
    assert err.value.field == slot
    assert method in str(err.value) and protocol in str(err.value)


def test_native_component_in_the_wrong_slot():
    with pytest.raises(InvalidParameterError, match="belongs in safety_governor"):
        ScenarioExecutor(risk_guard=SafetyGovernor(max_drawdown_pct=10.0))


@pytest.mark.parametrize("attr, value", [("action", "explode"), ("cooldown_bars", 0), ("cooldown_bars", 2.5)])
def test_python_governor_attributes_checked(attr, value):
    gov = MockSafetyGovernor()
    setattr(gov, attr, value)
    with pytest.raises(InvalidParameterError, match=attr):
        ScenarioExecutor(safety_governor=gov)


def test_default_stack_is_complete_and_valid():
    stack = default_stack()
    assert set(stack) == {"orchestrator", "risk_guard", "portfolio_balancer", "safety_governor", "msc", "policy_store"}
    ex = ScenarioExecutor(**stack, event_bus=MockEventBus())
    assert ex.components.keys() == stack.keys()
    assert sl.risk.PolicyStore().limits("halt").size_multiplier == 0.0
    assert stack["safety_governor"].triggers == [
        "drawdown",
        "loss_velocity",
        "failure_streak",
        "data_quality",
        "volatility",
    ]


def test_bad_confidence_from_a_strategy_is_a_recorded_failure():
    import numpy as np
    import riskmarkets as rm

    class Overconfident:
        last_confidence = None

        def on_batch(self, bars, ctx):
            self.last_confidence = np.full((len(bars), 1), 7.0)
            return np.ones(len(bars))

    r = ScenarioExecutor(Overconfident(), orchestrator=Orchestrator(min_confidence=0.5)).run(
        sl.Scenario("c", "mixed_custom"), data=rm.bars(rm.calm_path(100, 1))
    )
    assert r.success and r.failed_strategies and "last_confidence" in r.failed_strategies[0][1]
