"""Real market data: file formats, the exchange archive with a local cache, a bundled crash
dataset, multi-symbol alignment, and data-quality validation / repair.

Everything returns the long bar format of :func:`stresslab.synthetic_market` (see
:mod:`stresslab.data.schema`): ``timestamp`` (Datetime ms UTC, bar open time), ``symbol``,
``open``, ``high``, ``low``, ``close``, ``volume`` (base asset), ``spread`` (null: klines carry
no spread), sorted by symbol then timestamp. Most users go through
:class:`stresslab.ScenarioLoader`::

    from stresslab import ScenarioLoader, Scenario, ScenarioType
    loader = ScenarioLoader()
    btc = loader.load_file("BTCUSDT-1h-2024-08.zip")                 # format detected
    ok, issues = ScenarioLoader.validate_data(btc)
    replay = Scenario("may21", ScenarioType.HISTORIC_REPLAY, {"event": "may_2021"},
                      symbols=["BTCUSDT", "ETHUSDT", "SOLUSDT"])
    bars = loader.load_data(replay)                                  # bundled, offline
    loader.notes                                                     # what alignment did

Modules: :mod:`.formats` (detection, parsers), :mod:`.directory` (a folder of files),
:mod:`.archive` (data.binance.vision + Parquet cache), :mod:`.bundled` (crash windows shipped
with the package), :mod:`.align` (one clock for several symbols), :mod:`.validate`
(``validate_data``, ``repair``).
"""

from __future__ import annotations

from .align import ALIGN_POLICIES, align_symbols
from .archive import DEFAULT_BASE_URL, ArchiveClient, default_cache_dir
from .bundled import BundledEvent, bundled_events, load_bundled
from .directory import list_bar_files, load_directory
from .formats import FORMATS, detect_format, read_bars
from .schema import LONG_COLUMNS, empty_frame, infer_interval_ms
from .validate import ISSUE_KINDS, DataIssue, RepairAction, repair, validate_data

__all__ = [
    "ALIGN_POLICIES",
    "DEFAULT_BASE_URL",
    "FORMATS",
    "ISSUE_KINDS",
    "LONG_COLUMNS",
    "ArchiveClient",
    "BundledEvent",
    "DataIssue",
    "RepairAction",
    "align_symbols",
    "bundled_events",
    "default_cache_dir",
    "detect_format",
    "empty_frame",
    "infer_interval_ms",
    "list_bar_files",
    "load_bundled",
    "load_directory",
    "read_bars",
    "repair",
    "validate_data",
]
