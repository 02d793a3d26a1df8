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
) -> tuple[_ArrowTable, _ArrowTable]:
    """(stressed table, record) for any Arrow table/stream in the long bar format."""

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
