"""The app's one door to the core."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kefu.app import services
from tests.app.conftest import END, START


def test_evaluate_reports_progress_and_returns_the_evaluation_and_its_manifest(
        demo_workspace: Path, evaluation: dict[str, Any]) -> None:
    seen: list[tuple[int, str]] = []
    computed = services.evaluate(demo_workspace, services.templates()["presale"],
                                         START, END, "Asia/Shanghai",
                                         lambda pct, msg: seen.append((pct, msg)))
    percents = [p for p, _ in seen]
    assert percents == sorted(percents) and percents[0] == 5 and percents[-1] == 90
    assert any(msg.startswith("loading ") for _, msg in seen[1:-2])
    result, manifest = computed.result, computed.manifest
    assert [a["total"] for a in result["agents"]] == [a["total"] for a in evaluation["agents"]]
    assert manifest["start"] == "2024-06-01" and manifest["scheme"]["name"]
    assert set(manifest["inputs"]) >= {"agents", "messages"}
