"""The KPI benchmark at toy sizes (so that it cannot rot), on SQLite: it writes and projects both stores,
renders the dashboard through the app for each and emits kpi.scaling with its baseline and ratio; and
the history it writes is what the dashboard then counts."""

import json
from pathlib import Path
from typing import Any

import pytest

from domain import clock
from projections.kpis_read import KpiReader
from web import bench_kpis


def _lines(capsys: pytest.CaptureFixture[str]) -> dict[str, dict[str, Any]]:
    out = capsys.readouterr().out
    return {line["name"]: line for line in (json.loads(x) for x in out.splitlines() if x.startswith("{"))}


def test_the_kpi_benchmark_runs_at_toy_sizes_and_emits_its_figure(capsys: pytest.CaptureFixture[str]) -> None:
    bench_kpis.bench_scaling(big=4_000, small=1_000, rounds=3)
    line = _lines(capsys)["kpi.scaling"]
    assert line["unit"] == "ms" and line["value"] > 0 and line["baseline"] > 0
    assert line["ratio"] == pytest.approx(line["value"] / line["baseline"], rel=0.01)
    assert line["events"] >= 4_000 > line["baseline_events"] >= 1_000
    assert 0 < line["day_rows"] <= 4 * 541  # per day and metric, however many events


def test_the_benchmarks_history_is_what_the_dashboard_counts(tmp_path: Path) -> None:
    storage, written, _ = bench_kpis._prepared(tmp_path, 3_000)
    try:
        year = clock.fiscal_year(clock.city_today())
        dash = KpiReader(storage.db).dashboard(year)
        values = {f.kpi.key: f.value for f in dash.figures}
        assert written >= 3_000
        assert values["survey_participations"] and values["sdg_point_awards"]
        # Every recorded KPI has this year's measurements (the last month's end), corrections applied.
        assert all(values[key] is not None for key in ("teleworkers", "online_procedures", "overtime_per_person"))
    finally:
        storage.close()
