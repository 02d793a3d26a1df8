"""Type stubs of the native module ``stresslab._core`` (built from rust/stresslab-py)."""

from typing import Any, TypedDict

import numpy as np

__version__: str

class _ArrowTable:
    """An Arrow table exported through the Arrow C stream interface (``__arrow_c_stream__``).

    Wrap it with ``polars.DataFrame(table)`` or ``pyarrow.table(table)``."""

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object: ...

def generate_market(
    symbols: list[str],
    n_bars: int,
    interval_ms: int,
    start_ms: int,
    seed: int,
    scenario: str,
    model: str,
    n_paths: int,
    first_path: int = 0,
    initial_prices: dict[str, float] | None = None,
    profiles: dict[str, dict[str, float]] | None = None,
    market: dict[str, float] | None = None,
    correlation: list[list[float]] | None = None,
    stress_correlation: list[list[float]] | None = None,
    with_path: bool | None = None,
) -> _ArrowTable: ...
def generate_market_arrays(
    symbols: list[str],
    n_bars: int,
    interval_ms: int,
    start_ms: int,
    seed: int,
    scenario: str,
    model: str,
    n_paths: int,
    first_path: int = 0,
    initial_prices: dict[str, float] | None = None,
    profiles: dict[str, dict[str, float]] | None = None,
    market: dict[str, float] | None = None,
    correlation: list[list[float]] | None = None,
    stress_correlation: list[list[float]] | None = None,
) -> dict[str, np.ndarray]: ...
def symbol_profile(symbol: str) -> dict[str, Any]: ...
def profile_fields() -> list[str]: ...
def market_fields() -> list[str]: ...
def scenario_key(name: str) -> int: ...
def default_correlations(symbols: list[str]) -> tuple[list[list[float]], list[list[float]]]: ...
def num_threads() -> int: ...

# -- stress transforms (rust/stresslab-py/src/stress.rs) --------------------------------------
class _StepSpec(TypedDict):
    """One stress step: canonical parameter names, as ``stresslab.transforms`` builds them."""

    transform: str
    params: dict[str, float]
    choices: list[str]
    symbols: list[str] | None
    at: str  # "random", "bar" or "time"
    at_value: int  # bar index or time in ms UTC
    aliases: dict[str, str]

def apply_stress(
    table: object,
    steps: list[_StepSpec],
    seed: int,
    scenario: str,
    symbol_order: list[str],
    base_spread: float,
    mixed: bool = True,
    record: bool = True,
) -> tuple[_ArrowTable, _ArrowTable | None]:
    """(stressed table, record) for any Arrow table/stream in the long bar format; the record is
    None when ``record`` is False (it is then not built)."""

def stress_flag_bits() -> list[tuple[str, int]]: ...
def mixed_order() -> list[str]: ...
def corruption_kinds() -> list[str]: ...

# stationary block bootstrap (rust/stresslab-py/src/bootstrap.rs); `columns` holds `symbols` and the
# flat symbol-major numpy columns `timestamps` (int64 ms), open, high, low, close, volume, spread
def bootstrap_market(
    columns: dict[str, Any],
    n_paths: int,
    n_bars: int | None = None,
    block_length: float | None = None,
    seed: int = 42,
    scenario: str = "bootstrap",
    first_path: int = 0,
    with_path: bool | None = None,
) -> _ArrowTable: ...
def bootstrap_market_arrays(
    columns: dict[str, Any],
    n_paths: int,
    n_bars: int | None = None,
    block_length: float | None = None,
    seed: int = 42,
    scenario: str = "bootstrap",
    first_path: int = 0,
) -> dict[str, Any]: ...
def bootstrap_block_lengths(columns: dict[str, Any]) -> list[float]: ...

# -- metrics ------------------------------------------------------------------------------------
def compute_metrics(
    equity: np.ndarray,
    trade_pnls: np.ndarray | None = None,
    periods_per_year: float = 8760.0,
    initial_equity: float | None = None,
    exposure: np.ndarray | None = None,
    turnover: np.ndarray | None = None,
    trade_bars_held: np.ndarray | None = None,
    fees: float = 0.0,
    slippage: float = 0.0,
    ruin_threshold: float = 0.5,
    var_levels: tuple[float, float] = (0.95, 0.99),
) -> dict[str, Any]: ...
def metric_info() -> list[tuple[str, str, str]]: ...
def metric_flags() -> list[tuple[str, str]]: ...

# -- execution ----------------------------------------------------------------------------------
def check_exchange_config(cfg: dict[str, Any]) -> None: ...
def run_native_strategy(
    market: dict[str, Any], strategy: dict[str, Any], exchange: dict[str, Any], engine: dict[str, Any]
) -> dict[str, Any]: ...
def native_targets(market: dict[str, Any], strategy: dict[str, Any]) -> np.ndarray: ...
def check_risk_config(cfg: dict[str, Any]) -> None: ...
def policy_modes() -> list[str]: ...
def run_native_batch(
    jobs: list[tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]]], n_threads: int
) -> list[dict[str, Any] | str]: ...

class PyEngine:
    """The bar loop stepped from Python, one batch of decisions at a time."""

    def __init__(self, market: dict[str, Any], exchange: dict[str, Any], engine: dict[str, Any]) -> None: ...
    @property
    def n_bars(self) -> int: ...
    @property
    def next_bar(self) -> int: ...
    def context(self) -> tuple[float, float, np.ndarray, int]: ...
    def step_batch(
        self, t0: int, decisions: np.ndarray, confidence: np.ndarray | None = None, allow_hold: bool = False
    ) -> str | None: ...
    def process(self, t: int) -> None: ...
    def decide(self, row: np.ndarray, confidence: np.ndarray | None = None) -> str | None: ...
    def risk_state(self) -> dict[str, Any]: ...
    def emergency_stop(self, trigger: str, component_failure: bool = False) -> bool: ...
    def set_mode(self, mode: str, reason: str) -> bool: ...
    def deny_external(self, symbol: int, proposed: float) -> None: ...
    def component_failed(self, component: str, message: str) -> None: ...
    def model_failed(self, t: int, model: str, message: str) -> None: ...
    def n_events(self) -> int: ...
    def events_since(self, start: int) -> dict[str, Any]: ...
    def skip_batch(self, t0: int, t1: int) -> None: ...
    def strategy_failed(self, t0: int, message: str) -> None: ...
    def submit_order(self, symbol: int, qty: float, order_type: str = "market", price: float | None = None) -> int: ...
    def finish(self) -> dict[str, Any]: ...

# -- sweeps -------------------------------------------------------------------------------------
def run_sweep(
    market: dict[str, Any],
    steps: list[dict[str, Any]],
    strategy: dict[str, Any],
    exchange: dict[str, Any],
    engine: dict[str, Any],
    first_path: int,
    n_paths: int,
    n_threads: int,
    keep_curves: list[int] = ...,
    bootstrap: dict[str, Any] | None = None,
) -> dict[str, Any]: ...
