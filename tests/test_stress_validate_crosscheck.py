"""Cross-check: validate_data (historical-data issue) finds the corruption the DATA_CORRUPTION
transform reports as its ground truth, with the right kind, count and first timestamp."""

from __future__ import annotations

from collections import defaultdict

import pytest
import stresslab as sl

# corruption kind -> validate_data kinds that report it
EXPECTED = {
    "nan": {"nan"},
    "duplicate": {"duplicate_timestamp"},
    "out_of_order": {"out_of_order"},
    "gap": {"gap"},
    "zero_volume": {"zero_volume"},
    "negative": {"non_positive_price", "negative_volume"},
    "spike": {"spike", "ohlc_inconsistent", "token_break"},
    "stale": {"stale"},
}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_validate_data_finds_the_ground_truth(seed):
    df = sl.synthetic_market(["BTCUSDT"], n_bars=3000, seed=seed)
    kinds = list(EXPECTED)
    sc = sl.Scenario(
        "c", "data_corruption", {"corruption_pct": 0.01, "corruption_types": kinds}, n_bars=3000, seed=seed
    )
    stressed, record = sl.ScenarioTransformer().apply_with_record(df, sc)
    truth = defaultdict(list)
    for row in record.iter_rows(named=True):
        truth[row["kind"]].append(int(row["timestamp"].timestamp() * 1000))
    assert sum(len(v) for v in truth.values()) == round(0.01 * 3000)
    ok, issues = sl.ScenarioLoader.validate_data(stressed)
    assert not ok
    found = defaultdict(list)
    for i in issues:
        found[i.kind].append(i)
    for kind, stamps in truth.items():
        reported = [i for k in EXPECTED[kind] for i in found[k]]
        assert reported, f"{kind} corruption not found"
        first = min(i.timestamp_ms for i in reported)
        if kind == "stale":
            # a duplicated row also reads as a stale repeat: the first stale report is a corrupted bar
            every = [t for v in truth.values() for t in v]
            assert any(abs(first - t) <= 3_600_000 for t in every), (kind, first)
            assert first <= min(stamps)
        else:
            # the first affected bar is reported (a spike can surface one bar later as a break)
            assert abs(first - min(stamps)) <= 3_600_000, (kind, first, min(stamps))
        if kind in ("nan", "duplicate", "out_of_order", "gap", "zero_volume"):
            assert sum(i.count for i in found[next(iter(EXPECTED[kind]))]) >= len(stamps), kind
