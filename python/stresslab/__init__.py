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

from . import _core
from .bootstrap import block_bootstrap, optimal_block_length
from .errors import (
    DataError,
    InsufficientMemoryError,
    InvalidParameterError,
    ScenarioValidationError,
    StresslabError,
)
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

__version__ = _core.__version__

__all__ = [
    "CORRUPTION_TYPES",
    "METRIC_NAMES",
    "PARAMETER_SPECS",
    "DataError",
    "InsufficientMemoryError",
    "InvalidParameterError",
    "ParamSpec",
    "Scenario",
    "ScenarioLibrary",
    "ScenarioLoader",
    "ScenarioType",
    "ScenarioValidationError",
    "StresslabError",
    "block_bootstrap",
    "compute_metrics",
    "default_correlations",
    "load_suite",
    "market_statistics",
    "optimal_block_length",
    "parse_interval",
    "save_suite",
    "symbol_profile",
    "synthetic_arrays",
    "synthetic_market",
]
