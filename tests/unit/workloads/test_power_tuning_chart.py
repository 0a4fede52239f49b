"""The power tuning chart: an SVG (checked as XML) and an HTML page from a tuning output, and its command."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from constructs_lib.workloads.power_tuning.chart import (
    ChartInputError,
    main,
    nice_ceiling,
    read_tuning,
    render_svg,
    write_chart,
)
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


# -- readable money, thinned labels, several series, the reference's output ------------------------------------
def test_money_is_written_out_never_in_scientific_notation(tmp_path: Path) -> None:
    from constructs_lib.workloads.power_tuning.chart import format_cost, format_money

    svg_path, html_path = write_chart(OUTPUT, tmp_path / "chart")

    assert format_money(3.75e-06) == "$0.00000375"
    assert format_money(3.75) == "$3.75"
    assert format_money(0.0001136, "CNY") == "¥0.000114"
    assert format_cost(3.75e-06) == "$0.00000375 ($3.75 per 1M)"
    for text in (svg_path.read_text(), html_path.read_text()):
        assert "e-0" not in text


def test_memory_labels_are_thinned_to_fit_46_values(tmp_path: Path) -> None:
    from constructs_lib.workloads.power_tuning.chart import LABEL_SPACING

    values = range(128, 3009, 64)
    output = {
        "power": 1024,
        "stats": [{"value": v, "averageDuration": 1e5 / v, "averageCost": v * 1e-9} for v in values],
    }

    root = ET.parse(write_chart(output, tmp_path / "chart")[0]).getroot()
    labels = [e for e in root.iter(f"{SVG}text") if e.get("class") == "memory"]
    xs = [float(str(e.get("x"))) for e in labels]

    assert 10 <= len(labels) < 46
    assert labels[0].text == "128"
    assert min(b - a for a, b in itertools.pairwise(xs)) >= LABEL_SPACING
    assert len(polyline(root, "duration")) == 46  # every value is still plotted


def second_run() -> dict[str, Any]:
    return {
        "power": 512,
        "strategy": "cost",
        "stats": [
            {"value": 128, "averageDuration": 90.0, "averageCost": 3.5e-7},
            {"value": 512, "averageDuration": 40.0, "averageCost": 3.4e-7},
            {"value": 1024, "averageDuration": 30.0, "averageCost": 5.0e-7},
        ],
    }


def test_two_runs_share_one_chart(tmp_path: Path) -> None:
    svg_path, html_path = write_chart([OUTPUT, second_run()], tmp_path / "chart", ["x86_64", "arm64"])

    root = ET.parse(svg_path).getroot()
    lines = [e for e in root.iter(f"{SVG}polyline") if e.get("class") == "duration"]
    memories = [e.text for e in root.iter(f"{SVG}text") if e.get("class") == "memory"]
    page = html_path.read_text()

    assert [e.get("data-series") for e in lines] == ["x86_64", "arm64"]
    assert memories == ["128", "256", "512", "1024"]  # the union of both runs' values
    assert "<strong>256 MB</strong> by balanced (x86_64)" in page
    assert "<strong>512 MB</strong> by cost (arm64)" in page


def test_one_output_with_two_architectures_is_two_series() -> None:
    from tools.power_tuning_docs_chart import output

    tuning = read_tuning(output())

    assert [s.label for s in tuning.series] == ["arm64", "x86_64"]
    assert all(len(s.points) == 46 for s in tuning.series)
    assert all(s.best is not None for s in tuning.series)


def test_reads_the_references_output_with_its_stats() -> None:
    reference = {
        "results": {
            "power": "128",
            "cost": 2.083e-7,
            "duration": 2.9,
            "stateMachine": {"executionCost": 0.00045, "lambdaCost": 0.0005, "visualization": "https://x/#a;b;c"},
            "stats": [
                {"averagePrice": 2.083e-7, "averageDuration": 2.9, "value": 128},
                {"averagePrice": 3.1e-7, "averageDuration": 2.1, "value": 256},
            ],
        }
    }

    tuning = read_tuning(reference)

    assert tuning.best == 128
    assert [(p.memory, p.cost) for p in tuning.points] == [(128, 2.083e-7), (256, 3.1e-7)]


def test_reads_the_references_visualization_link_when_it_has_no_stats() -> None:
    link = "https://lambda-power-tuning.show/?currency=CNY#gAAAAQACAAQABsAL;ZooQR4yvkUa/pQRGRC5zRaADHUVjOftE;QdWhOEMkoziDT5Q4xhiIOMYYiDi6RNc4"

    tuning = read_tuning({"power": 256, "cost": 1e-6, "duration": 5.0, "stateMachine": {"visualization": link}})

    assert [p.memory for p in tuning.points] == [128, 256, 512, 1024, 1536, 3008]
    assert tuning.currency == "CNY"
    assert "¥" in render_svg(tuning)


def test_the_docs_picture_is_what_the_script_renders() -> None:
    from tools.power_tuning_docs_chart import OUT, svg

    assert (REPO_ROOT / OUT).read_text(encoding="utf-8") == svg(), "run: python -m tools.power_tuning_docs_chart"
