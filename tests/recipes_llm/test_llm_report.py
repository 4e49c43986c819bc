"""The run report of an LLM recipe: QA per video from the outputs, validity per prompt task.

Answers come from the canned engine of ``test_llm_recipe_formats`` (every one valid at the first try);
the recipe, export and report are the real code.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_llm_recipe_formats import FormatEngine

import vidfast
from vidfast.run_report import load_run
from vidfast.stages.generate import base as llm_base


def test_videochatgpt_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("matplotlib", reason="the report's figures need the `report` extra (matplotlib)")
    monkeypatch.setenv("VIDFAST_REPORT_HTML", "1")
    monkeypatch.setattr(llm_base, "build_engine", lambda *a, **k: FormatEngine(max_retries=0))
    caps = tmp_path / "caps.json"
    caps.write_text(json.dumps({f"v_{i}": f"A man opens door number {i}." for i in range(3)}))
    out = tmp_path / "run"
    vidfast.run([str(caps)], out, recipe="videochatgpt", preset="embedded", progress=False,
                overrides=["llm.endpoint=canned-format", "runtime.workers=1", f"llm.captions={caps}"])
    data = load_run(out)
    assert data.quality["QA per video"] == [6.0, 6.0, 6.0]  # 7 generated, 1 exact duplicate removed
    assert data.validity == {t: {"first_try_valid": 3} for t in ("summary_qa", "description_qa", "creative_qa")}
    assert {p.name for p in (out / "report_files").iterdir()} >= {"quality.png", "llm_validity.png"}
    html = (out / "report.html").read_text()
    assert "<td>creative_qa</td><td>3</td><td>100.0%</td>" in html
