"""The power tuning chart: an SVG (checked as XML) and an HTML page from a tuning output, and its command."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from constructs_lib.workloads.power_tuning.chart import ChartInputError, main, nice_ceiling, read_tuning, write_chart
from tests.conftest import REPO_ROOT

SVG = "{http://www.w3.org/2000/svg}"
OUTPUT: dict[str, Any] = {
    "power": 256,
    "cost": 4.9e-7,
    "duration": 70.8,
    "strategy": "balanced",
    "stats": [
        {"value": 512, "averageDuration": 50.0, "averageCost": 6.2e-7, "totalCost": 3.1e-6},
        {"value": 128, "averageDuration": 100.0, "averageCost": 4.1e-7, "totalCost": 2.0e-6},
        {"value": 256, "averageDuration": 70.8, "averageCost": 4.9e-7, "totalCost": 2.5e-6},
    ],
    "notes": ["cost includes the per-request price <of each invocation>"],
}


def polyline(root: ET.Element, series: str) -> list[tuple[float, float]]:
    (line,) = [e for e in root.iter(f"{SVG}polyline") if e.get("class") == series]
    return [(float(x), float(y)) for x, y in (pair.split(",") for pair in str(line.get("points")).split())]


def test_the_svg_plots_duration_and_cost_against_memory(tmp_path: Path) -> None:
    svg_path, _ = write_chart(OUTPUT, tmp_path / "chart")

    root = ET.parse(svg_path).getroot()
    memories = [e.text for e in root.iter(f"{SVG}text") if e.get("class") == "memory"]
    duration = polyline(root, "duration")
    cost = polyline(root, "cost")

    assert memories == ["128", "256", "512"]  # sorted by memory
    assert len(duration) == len(cost) == 3
    # x grows with memory; SVG y grows downwards: the duration falls (y grows), the cost rises (y falls).
    assert duration[0][0] < duration[1][0] < duration[2][0]
    assert duration[0][1] < duration[1][1] < duration[2][1]
    assert cost[0][1] > cost[1][1] > cost[2][1]
    (best,) = [e for e in root.iter(f"{SVG}rect") if e.get("class") == "best"]
    assert float(best.get("x", 0)) < duration[1][0] < float(best.get("x", 0)) + float(best.get("width", 0))


def test_the_html_page_has_the_chart_the_table_and_the_note(tmp_path: Path) -> None:
    _, html_path = write_chart(OUTPUT, tmp_path / "chart")

    page = html_path.read_text()

    assert "<svg" in page
    assert "Best: <strong>256 MB</strong> by balanced" in page
    assert page.count("<tr") == 4  # the header and one row per value
    assert '<tr class="best"><td>256</td>' in page
    assert "&lt;of each invocation&gt;" in page  # escaped


def test_describe_execution_output_is_read_too() -> None:
    answer = {"status": "SUCCEEDED", "output": json.dumps(OUTPUT)}

    assert read_tuning(answer).best == 256


@pytest.mark.parametrize("data", [{}, {"stats": []}, {"stats": [{"value": 128}]}, [1, 2]])
def test_rejects_what_is_not_a_tuning_output(data: Any) -> None:
    with pytest.raises(ChartInputError):
        read_tuning(data)


def test_nice_ceiling() -> None:
    assert [nice_ceiling(v) for v in (0.7, 1.0, 1.3, 2.2, 4.0, 7.0, 0.00042, 0)] == [
        1.0,
        1.0,
        2.0,
        2.5,
        5.0,
        10.0,
        0.0005,
        1.0,
    ]


def test_the_command_writes_both_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "tuning-output.json"
    source.write_text(json.dumps(OUTPUT))

    assert main([str(source), "--out", str(tmp_path / "out" / "chart")]) == 0
    assert (tmp_path / "out" / "chart.svg").is_file()
    assert (tmp_path / "out" / "chart.html").is_file()
    assert "wrote" in capsys.readouterr().out


def test_the_command_explains_a_bad_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "nope.json"
    source.write_text('{"status": "FAILED"}')

    assert main([str(source), "--out", str(tmp_path / "chart")]) == 2
    assert 'non-empty "stats" list' in capsys.readouterr().err


def test_runs_as_a_module(tmp_path: Path) -> None:
    source = tmp_path / "tuning-output.json"
    source.write_text(json.dumps(OUTPUT))

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "constructs_lib.workloads.power_tuning.chart",
            str(source),
            "--out",
            str(tmp_path / "chart"),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert (tmp_path / "chart.svg").read_text().startswith("<svg")
