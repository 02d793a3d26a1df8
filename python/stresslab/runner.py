"""StressTestRunner: a batch of scenarios against one trading system, and its summary.

Parallelism: with a native strategy, every scenario's bars are prepared (synthetic generation and
stress transforms run in Rust with the GIL released) and all runs go to Rust at once, where a
rayon pool of ``max_workers`` threads runs them with the GIL released. With a Python strategy,
scenarios run in a thread pool of ``max_workers`` (the Rust work between the strategy's calls
releases the GIL). Each scenario's result depends only on the scenario and its seed, so results
are identical for ``parallel=True`` and ``False`` and for any ``max_workers``.

The weakest-scenario score (:meth:`StressTestRunner.stress_score`), higher is worse:
``max_drawdown`` (%) + the loss in percent (``max(0, -total_return_pct)``) + 5 per emergency
stop + 2 per failed strategy call or failed model + 1 per 10 execution failures; a scenario
that failed to run scores +inf.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from . import _core
from .errors import InvalidParameterError
from .executor import ScenarioExecutor
from .results import ScenarioResult
from .scenarios import Scenario

__all__ = ["StressTestRunner"]


def _check_workers(max_workers: Any) -> int:
    if max_workers is None:
        return max(1, os.cpu_count() or 1)
    if isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1:
        raise InvalidParameterError(f"max_workers: must be an integer >= 1, got {max_workers!r}", "max_workers")
    return max_workers


class StressTestRunner:
    """Runs scenarios with one executor.

    Args:
        executor: a :class:`ScenarioExecutor` (default: SmaCross(24, 96), default exchange).
        max_workers: threads to use (>= 1; default: the number of cores).
        progress: show a progress bar (default: only when stderr is a terminal).
    """

    def __init__(self, executor: ScenarioExecutor | None = None, max_workers: int | None = None, progress=None):
        self.executor = executor or ScenarioExecutor()
        self.max_workers = _check_workers(max_workers)
        self.progress = progress

    # ------------------------------------------------------------------------------------------
    def run_batch(self, scenarios: Sequence[Scenario], parallel: bool = True) -> dict[str, ScenarioResult]:
        """Run every scenario; a failing one gives a result with success=False and the rest go on."""
        scenarios = list(scenarios)
        if not scenarios:
            raise InvalidParameterError("scenarios: the list is empty; give at least one Scenario", "scenarios")
        seen: set[str] = set()
        for s in scenarios:
            if not isinstance(s, Scenario):
                raise InvalidParameterError(f"scenarios: {s!r} is not a Scenario", "scenarios")
            if s.name in seen:
                raise InvalidParameterError(f"scenarios: duplicate scenario name {s.name!r}", "scenarios")
            seen.add(s.name)
        workers = self.max_workers if parallel else 1
        with _Progress(len(scenarios), self.progress) as bar:
            results = self._run(scenarios, workers, bar)
        return {s.name: results[i] for i, s in enumerate(scenarios)}

    def _run(self, scenarios: list[Scenario], workers: int, bar: _Progress) -> list[ScenarioResult]:
        ex = self.executor
        out: list[ScenarioResult | None] = [None] * len(scenarios)

        def prepare(i: int):
            try:
                df = ex.load_bars(scenarios[i])
                job = ex.native_job(scenarios[i], df)
                return i, df, job, None
            except Exception as exc:
                return i, None, None, exc

        with ThreadPoolExecutor(max_workers=workers) as pool:
            prepared = list(pool.map(prepare, range(len(scenarios))))
        native = [(i, job) for i, _df, job, err in prepared if job is not None and err is None]
        for i, _df, _job, err in prepared:
            if err is not None:
                out[i] = ScenarioResult.failed(scenarios[i], scenarios[i].name, err)
                bar.advance()
        if native:
            # chunks keep the progress bar moving on long batches; order never changes a result
            chunk = max(workers * 4, 8)
            for k in range(0, len(native), chunk):
                part = native[k : k + chunk]
                outs = _core.run_native_batch([job for _, job in part], workers)
                for (i, job), res in zip(part, outs, strict=True):
                    if isinstance(res, str):
                        out[i] = ScenarioResult.failed(scenarios[i], scenarios[i].name, RuntimeError(res))
                    else:
                        out[i] = ex.result_from_output(scenarios[i], job[0], res)
                    bar.advance()
        python_jobs = [(i, df) for i, df, job, err in prepared if job is None and err is None]

        def run_python(item):
            i, df = item
            try:
                return i, ex.run_bars(scenarios[i], df)
            except Exception as exc:
                return i, ScenarioResult.failed(scenarios[i], scenarios[i].name, exc)

        with ThreadPoolExecutor(max_workers=workers) as pool:
            for i, res in pool.map(run_python, python_jobs):
                out[i] = res
                bar.advance()
        return [r for r in out if r is not None]

    # ------------------------------------------------------------------------------------------
    @staticmethod
    def stress_score(r: ScenarioResult) -> float:
        """How badly the system did in one scenario (higher is worse; see the module docs)."""
        if not r.success:
            return math.inf
        dd = r.max_drawdown if math.isfinite(r.max_drawdown) else 0.0
        loss = max(0.0, -r.total_return * 100.0) if math.isfinite(r.total_return) else 0.0
        return (
            dd
            + loss
            + 5.0 * r.emergency_stops
            + 2.0 * (len(r.failed_strategies) + r.failed_models)
            + r.execution_failures / 10.0
        )

    def weakest_scenarios(self, results: dict[str, ScenarioResult], k: int = 5) -> list[tuple[str, float]]:
        """The k scenarios with the highest :meth:`stress_score`, worst first (ties by name)."""
        scored = sorted(((n, self.stress_score(r)) for n, r in results.items()), key=lambda x: (-x[1], x[0]))
        return scored[:k]

    def generate_summary(self, results: dict[str, ScenarioResult]) -> dict[str, Any]:
        """Aggregates over the batch (failed scenarios count in totals, not in averages)."""
        ok = [r for r in results.values() if r.success]

        def avg(xs):
            xs = [x for x in xs if x is not None and math.isfinite(x)]
            return float(np.mean(xs)) if xs else math.nan

        dds = [r.max_drawdown for r in ok if math.isfinite(r.max_drawdown)]
        return {
            "total_scenarios": len(results),
            "successful_scenarios": len(ok),
            "failed_scenarios": len(results) - len(ok),
            "avg_max_drawdown": avg(r.max_drawdown for r in ok),
            "worst_max_drawdown": max(dds) if dds else math.nan,
            "avg_sharpe": avg(r.sharpe_ratio for r in ok),
            "avg_winrate": avg(r.winrate for r in ok),
            "avg_total_return_pct": avg(r.total_return * 100 for r in ok),
            "total_trades": sum(r.total_trades for r in ok),
            "total_emergency_stops": sum(r.emergency_stops for r in ok),
            "total_execution_failures": sum(r.execution_failures for r in ok),
            "total_failed_models": sum(r.failed_models for r in ok),
            "total_failed_strategies": sum(len(r.failed_strategies) for r in ok),
            "total_policy_transitions": sum(len(r.policy_transitions) for r in ok),
            "total_latency_spikes": sum(r.latency_spikes for r in ok),
            "weakest_scenarios": self.weakest_scenarios(results, 3),
        }

    def print_summary(self, results: dict[str, ScenarioResult], file=None) -> None:
        """A table a risk manager reads at a glance: one row per scenario, worst first."""
        from rich.console import Console
        from rich.table import Table

        console = Console(file=file or sys.stdout, width=140)
        table = Table(title="stresslab: stress test results (worst first)", show_lines=False)
        for col, justify in [
            ("scenario", "left"),
            ("type", "left"),
            ("return %", "right"),
            ("max DD %", "right"),
            ("Sharpe", "right"),
            ("win %", "right"),
            ("trades", "right"),
            ("ESS", "right"),
            ("exec fail", "right"),
            ("score", "right"),
        ]:
            table.add_column(col, justify=justify)
        f = lambda x, d=1: "-" if x is None or not math.isfinite(x) else f"{x:.{d}f}"  # noqa: E731
        for name, score in self.weakest_scenarios(results, len(results)):
            r = results[name]
            if not r.success:
                table.add_row(name, r.scenario_type, "[red]FAILED[/red]", "", "", "", "", "", "", "inf")
                continue
            dd_style = "red" if r.max_drawdown > 20 else ("yellow" if r.max_drawdown > 10 else "green")
            table.add_row(
                name,
                r.scenario_type,
                f(r.total_return * 100),
                f"[{dd_style}]{f(r.max_drawdown)}[/{dd_style}]",
                f(r.sharpe_ratio, 2),
                f(r.winrate),
                str(r.total_trades),
                str(r.emergency_stops),
                str(r.execution_failures),
                f(score),
            )
        console.print(table)
        s = self.generate_summary(results)
        console.print(
            f"{s['successful_scenarios']}/{s['total_scenarios']} scenarios ran; "
            f"avg max drawdown {f(s['avg_max_drawdown'])}%, worst {f(s['worst_max_drawdown'])}%; "
            f"avg Sharpe {f(s['avg_sharpe'], 2)}; emergency stops {s['total_emergency_stops']}; "
            f"execution failures {s['total_execution_failures']}"
        )


class _Progress:
    """A rich progress bar on a terminal, nothing otherwise."""

    def __init__(self, total: int, enabled: bool | None):
        self.total = total
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._p = None

    def __enter__(self):
        if self.enabled and self.total > 1:
            from rich.progress import Progress

            self._p = Progress(transient=True)
            self._p.start()
            self._task = self._p.add_task("scenarios", total=self.total)
        return self

    def advance(self) -> None:
        if self._p is not None:
            self._p.advance(self._task)

    def __exit__(self, *exc):
        if self._p is not None:
            self._p.stop()
        return False
