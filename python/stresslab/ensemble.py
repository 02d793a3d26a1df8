"""Strategies made of several models: a model that fails is dropped, the others keep trading.

A strategy object with a non-empty ``models`` list is run as an ensemble: every batch, each
surviving model is asked for its decision rows (``on_batch(bars, context)``, or the per-bar
``generate_signals(bar, context)`` through :class:`~stresslab.strategies.PerBarAdapter`, which
makes the run bar by bar). The rows are combined by the strategy's ``combine(rows, context)`` if
it has one, else averaged. A model that raises or returns invalid output (wrong shape, NaN or
infinite values, a target beyond the run's limit) is recorded as a failed model (bar, model
name, message) and left out from then on. Only when every model has failed does the strategy
itself fail (the run goes flat, as for any failed strategy).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .strategies import BarBatch, BatchStrategy, PerBarAdapter, StrategyContext

__all__ = ["ModelEnsemble", "AllModelsFailed", "is_ensemble"]


class AllModelsFailed(RuntimeError):
    """Every model of an ensemble has failed."""


def is_ensemble(strategy: Any) -> bool:
    models = getattr(strategy, "models", None)
    return isinstance(models, (list, tuple)) and len(models) > 0


def _name(model: Any, i: int) -> str:
    name = getattr(model, "name", None)
    return name if isinstance(name, str) and name else f"{type(model).__name__}[{i}]"


class ModelEnsemble:
    """Batch-strategy view of a multi-model strategy (see the module docstring)."""

    def __init__(self, strategy: Any, max_abs_target: float):
        self.strategy = strategy
        self.target = getattr(strategy, "target", "weight")
        self.max_abs_target = max_abs_target
        self.names = [_name(m, i) for i, m in enumerate(strategy.models)]
        self.models: list[Any] = []
        self.bar_by_bar = False
        for m in strategy.models:
            if callable(getattr(m, "reset", None)):
                m.reset()
            if isinstance(m, BatchStrategy):
                self.models.append(m)
            else:
                # a per-bar model (or a broken one: its first call fails and is recorded)
                self.models.append(PerBarAdapter(m) if callable(getattr(m, "generate_signals", None)) else m)
                self.bar_by_bar = True
        self.alive = [True] * len(self.models)
        self.failures: list[tuple[int, str, str]] = []
        self._all_failed_reported = False

    def take_failures(self) -> list[tuple[int, str, str]]:
        """Model failures since the last call: (bar, model, message)."""
        out, self.failures = self.failures, []
        return out

    def _check(self, raw: Any, n_rows: int, n_sym: int) -> np.ndarray:
        from .executor import _as_decisions  # the executor's one definition of a valid decision

        arr = _as_decisions(raw, n_rows, n_sym)
        worst = float(np.abs(arr).max()) if arr.size else 0.0
        if worst > self.max_abs_target:
            raise ValueError(f"target {worst} is beyond the limit |target| <= {self.max_abs_target}")
        return arr

    def on_batch(self, bars: BarBatch, context: StrategyContext) -> np.ndarray:
        n_rows, n_sym = len(bars), len(bars.symbols)
        rows = []
        for i, model in enumerate(self.models):
            if not self.alive[i]:
                continue
            try:
                rows.append(self._check(model.on_batch(bars, context), n_rows, n_sym))
            except Exception as exc:  # one model's failure must not stop the others
                self.alive[i] = False
                self.failures.append((bars.start, self.names[i], f"{type(exc).__name__}: {exc}"))
        if not rows:
            if not self._all_failed_reported:
                self._all_failed_reported = True
                raise AllModelsFailed(f"all {len(self.models)} models failed")
            return np.zeros((n_rows, n_sym))
        combine = getattr(self.strategy, "combine", None)
        if callable(combine):
            return combine(rows, context)
        return np.mean(rows, axis=0)
