"""stresslab: Rust-accelerated scenario and stress testing for trading systems.

Quick start::

    import stresslab as sl
    df = sl.synthetic_market(["BTCUSDT", "ETHUSDT"], n_bars=24 * 365, seed=7)
    sc = sl.Scenario("crash", sl.ScenarioType.FLASH_CRASH, {"drop_pct": 0.3})
    bars = sl.ScenarioLoader().load_data(sc)

Note: ``pl.from_arrow`` on the native tables returns a Series of structs in polars 2.x; use
``pl.DataFrame(table)`` (this package already does).
"""

from __future__ import annotations

from . import _core, mocks, protocols, risk, scorecard, strategies
from .bootstrap import block_bootstrap, optimal_block_length
from .errors import (
    DataError,
    InsufficientMemoryError,
    InvalidParameterError,
    ScenarioValidationError,
    StresslabError,
)
from .exchange import ExchangeSimulator
from .executor import ScenarioExecutor, market_arrays
from .library import ScenarioLibrary
from .loader import ScenarioLoader
from .market import (
    default_correlations,
    market_statistics,
    symbol_profile,
    synthetic_arrays,
    synthetic_market,
)
from .metrics import METRIC_NAMES, compute_metrics
from .montecarlo import MonteCarloResult, monte_carlo
from .results import ScenarioResult
from .runner import StressTestRunner
from .scenarios import (
    CORRUPTION_TYPES,
    PARAMETER_SPECS,
    ParamSpec,
    Scenario,
    ScenarioType,
    load_suite,
    parse_interval,
    save_suite,
)
from .transforms import (
    MIXED_ORDER,
    STRESS_FLAGS,
    ScenarioTransformer,
    StressStep,
    apply_correlation_breakdown,
    apply_data_corruption,
    apply_flash_crash,
    apply_liquidity_drop,
    apply_pump_and_dump,
    apply_spread_explosion,
    apply_stress_steps,
    apply_volatility_spike,
    scenario_steps,
)

__version__ = _core.__version__

__all__ = [
    "CORRUPTION_TYPES",
    "METRIC_NAMES",
    "MIXED_ORDER",
    "PARAMETER_SPECS",
    "STRESS_FLAGS",
    "DataError",
    "InsufficientMemoryError",
    "InvalidParameterError",
    "ParamSpec",
    "Scenario",
    "ScenarioLibrary",
    "ScenarioLoader",
    "ScenarioExecutor",
    "ScenarioResult",
    "StressTestRunner",
    "MonteCarloResult",
    "monte_carlo",
    "ExchangeSimulator",
    "market_arrays",
    "strategies",
    "ScenarioTransformer",
    "risk",
    "protocols",
    "mocks",
    "scorecard",
    "ScenarioType",
    "ScenarioValidationError",
    "StressStep",
    "StresslabError",
    "apply_correlation_breakdown",
    "apply_data_corruption",
    "apply_flash_crash",
    "apply_liquidity_drop",
    "apply_pump_and_dump",
    "apply_spread_explosion",
    "apply_stress_steps",
    "apply_volatility_spike",
    "block_bootstrap",
    "compute_metrics",
    "default_correlations",
    "load_suite",
    "market_statistics",
    "optimal_block_length",
    "parse_interval",
    "save_suite",
    "scenario_steps",
    "symbol_profile",
    "synthetic_arrays",
    "synthetic_market",
]
