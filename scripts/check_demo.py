"""Read what ``vidfast demo`` wrote, as a user would open it, and fail unless every recipe finished
every video and wrote real records.

Usage: python scripts/check_demo.py [DEMO_OUT]   (default demo-out; exit status 0 when all checks pass)

Checks per recipe directory: ``report.json`` says 0 failed and every video done; the manifest has one
row per video; and the recipe's main output holds the records it should (grounding: rows with a
caption and spans inside the video, HawkEye records; videochatgpt: one QA file per video with
question/answer pairs; videochat: a description and a conversation per video; videochat2: QA records).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _check_grounding(out: Path, done: int) -> str:
    rows = _jsonl(out / "grounding.jsonl")
    assert rows, "grounding.jsonl has no rows"
    for r in rows:
        assert r["caption"].strip(), r
        assert 0 <= r["start_sec"] < r["end_sec"] and r["neg_start_sec"] <= r["start_sec"], r
    assert json.loads((out / "hawkeye" / "grounding.json").read_text()), "no HawkEye grounding records"
    return f"{len(rows)} grounding rows from {len({r['video'] for r in rows})} videos"


def _check_videochatgpt(out: Path, done: int) -> str:
    files = sorted((out / "per_video").glob("*.json"))
    assert len(files) == done, f"{len(files)} per-video QA files for {done} videos"
    qa = [item for f in files for item in json.loads(f.read_text())]
    assert all(item["Q"].strip() and item["A"].strip() for item in qa), "an empty question or answer"
    flat = json.loads((out / "videochatgpt_instruct.json").read_text())
    assert len(flat) >= len(qa), "videochatgpt_instruct.json misses QA"
    return f"{len(qa)} QA pairs over {len(files)} videos"


def _check_videochat(out: Path, done: int) -> str:
    records = json.loads((out / "videochat.json").read_text())
    assert len(records) >= done, f"{len(records)} records for {done} videos"
    assert all(r["QA"] and all(t["a"].strip() for t in r["QA"]) for r in records), "a record without answers"
    return f"{len(records)} records"


def _check_videochat2(out: Path, done: int) -> str:
    records = json.loads((out / "train.json").read_text())
    assert len(records) >= done, f"{len(records)} records for {done} videos"
    assert all(r["QA"] and all(q["a"].strip() for q in r["QA"]) for r in records), "a record without answers"
    return f"{len(records)} records"


CHECKS = {"grounding": _check_grounding, "videochatgpt": _check_videochatgpt, "videochat": _check_videochat,
          "videochat2": _check_videochat2}


def main() -> int:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "demo-out")
    problems, seen = [], []
    for report_path in sorted(root.glob("*/report.json")):
        out = report_path.parent
        report = json.loads(report_path.read_text())
        videos = report["videos"]
        try:
            assert videos["failed"] == 0 and videos["done"] == videos["total"] > 0, (
                f"{videos} (failures: {report['failures_by_reason']})")
            assert len(_jsonl(out / "manifest.jsonl")) == videos["total"], "manifest rows != videos"
            detail = CHECKS[out.name](out, videos["done"]) if out.name in CHECKS else ""
            seen.append(out.name)
            print(f"{out.name}: {videos['done']}/{videos['total']} done{'; ' + detail if detail else ''}")
        except (AssertionError, KeyError, OSError, ValueError) as exc:
            problems.append(f"{out.name}: {exc}")
    missing = sorted(set(CHECKS) - set(seen) - {p.split(':')[0] for p in problems})
    problems += [f"{name}: no run directory with a report.json under {root}" for name in missing]
    for p in problems:
        print(f"FAILED {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
