"""``JudgeStage``: Video-ChatGPT's LLM judge over prediction records (one task per record).

Records (``llm.predictions``, a JSON list) come in three shapes, normalised here:

- benchmark ``{"video_name","Q","A","pred"}`` -> kind ``qa`` (criteria correctness,
  detail_orientation, context; ``temporal`` on request);
- consistency ``{"video_name","Q1","Q2","A","pred1","pred2"}`` -> kind ``consistency``;
- zero-shot ``{"id"|"video_name","question"|"Q","answer"|"A","pred"}`` (the ActivityNet-QA
  inference output, which the original judge could not read) -> kind ``zero_shot``.

Each record's task key is ``{video_name}_{k}`` (k counts earlier records of the same video), as in
the original; ``prediction_keys`` lists them so they can be the run's INPUTS.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from vidfast.errors import ConfigError, InputError
from vidfast.llm import LLMRequest, LLMResult, OutputSpec
from vidfast.runtime.records import VideoTask
from vidfast.stages.generate.base import LLMStage, failure_entry

GENERIC = ("correctness", "detail_orientation", "context")
CRITERIA = (*GENERIC, "temporal", "consistency", "zero_shot")
_INPUTS = {"consistency": ("question1", "question2", "answer", "prediction1", "prediction2")}


class NoPrediction(InputError):
    """A run input names no record of the predictions file."""


def _first(rec: dict[str, Any], *names: str) -> Any:
    return next((rec[n] for n in names if n in rec), None)


def normalise_record(rec: Any, where: str) -> dict[str, Any]:
    """``{"kind", "video_name", "qa_set"}`` of one prediction record (qa_set uses the original's keys)."""
    if not isinstance(rec, dict):
        raise InputError(f"{where}: a prediction record must be an object, got {json.dumps(rec)[:80]}")
    name = _first(rec, "video_name", "id")
    if name is None:
        raise InputError(f"{where}: record has neither 'video_name' nor 'id': {json.dumps(rec)[:120]}")
    if "pred1" in rec and "pred2" in rec:
        need = ("Q1", "Q2", "A")
        if missing := [k for k in need if k not in rec]:
            raise InputError(f"{where}: consistency record lacks {missing}")
        qa = {"q1": rec["Q1"], "q2": rec["Q2"], "a": rec["A"], "pred1": rec["pred1"], "pred2": rec["pred2"]}
        return {"kind": "consistency", "video_name": str(name), "qa_set": qa}
    q, a, pred = _first(rec, "Q", "question"), _first(rec, "A", "answer"), rec.get("pred")
    if q is None or a is None or pred is None:
        raise InputError(f"{where}: record needs Q|question, A|answer and pred: {json.dumps(rec)[:120]}")
    kind = "zero_shot" if "question" in rec or "video_name" not in rec else "qa"
    return {"kind": kind, "video_name": str(name), "qa_set": {"q": str(q), "a": str(a), "pred": str(pred)}}


def read_predictions(path: str) -> dict[str, dict[str, Any]]:
    """Every record of a predictions file keyed ``{video_name}_{k}``, in file order."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise InputError(f"cannot read predictions file {path}: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"predictions file {path} is not valid JSON: {exc}") from exc
    if not isinstance(doc, list):
        raise InputError(f"predictions file {path} must hold a JSON list of records")
    out, seen = {}, {}
    for i, rec in enumerate(doc):
        norm = normalise_record(rec, f"{path}[{i}]")
        k = seen.get(norm["video_name"], 0)
        seen[norm["video_name"]] = k + 1
        out[f"{norm['video_name']}_{k}"] = norm
    return out


def prediction_keys(path: str) -> list[str]:
    """The task keys of a predictions file (usable as run INPUTS for the judge recipe)."""
    return list(read_predictions(path))


def criteria_for(kind: str, wanted: str) -> list[str]:
    """Criteria to judge a record of ``kind`` with: ``auto`` or a comma list (filtered to the kind)."""
    if wanted == "auto":
        return {"qa": list(GENERIC), "consistency": ["consistency"], "zero_shot": ["zero_shot"]}[kind]
    names = [c.strip() for c in wanted.split(",") if c.strip()]
    if bad := [c for c in names if c not in CRITERIA]:
        raise ConfigError(f"llm.judge_criteria: unknown {bad}; choose auto or from {', '.join(CRITERIA)}")
    if kind == "consistency":
        return [c for c in names if c == "consistency"]
    return [c for c in names if c != "consistency"]


def _relaxed(output: OutputSpec | None) -> OutputSpec | None:
    """Accept float scores (kept, not truncated) and any zero-shot verdict (counted as 'other')."""
    if output is None:
        return None
    schema = json.loads(json.dumps(output.schema))
    props = schema.get("properties", {})
    if "score" in props:
        props["score"]["type"] = "number"
    if "pred" in props:
        props["pred"] = {"type": "string"}
    return dataclasses.replace(output, schema=schema)


@dataclass
class JudgeStage(LLMStage):
    """Scores every prediction record on its criteria; failed judgments are recorded, not fatal."""

    predictions: str = ""
    digest: str | None = None
    criteria: str = "auto"

    name: ClassVar[str] = "judge"

    def setup(self) -> None:
        if not self.predictions:
            raise ConfigError("the judge recipe needs --predictions FILE (llm.predictions)")
        self.records = read_predictions(self.predictions)
        criteria_for("qa", self.criteria)  # validate before loading the model
        super().setup()

    def _record(self, task: VideoTask) -> dict[str, Any]:
        key = Path(task.video).name
        if key not in self.records:
            raise NoPrediction(f"{key!r} is not a record key of {self.predictions} (keys are video_name_k)")
        return self.records[key]

    def judge_request(self, criterion: str, video: str, qa: dict[str, Any]) -> LLMRequest:
        if criterion == "consistency":
            values = dict(
                zip(_INPUTS["consistency"], (qa["q1"], qa["q2"], qa["a"], qa["pred1"], qa["pred2"]))
            )
        else:
            values = {"question": qa["q"], "answer": qa["a"], "prediction": qa["pred"]}
        req = self.request(f"judge_{criterion}", criterion, video, **values)
        return dataclasses.replace(req, output=_relaxed(req.output))

    def requests_for(self, task: VideoTask) -> list[LLMRequest]:
        try:
            rec = self._record(task)
        except NoPrediction:
            return []  # assign() records the failure
        return [
            self.judge_request(c, task.video, rec["qa_set"]) for c in criteria_for(rec["kind"], self.criteria)
        ]

    def assign(self, task: VideoTask, results: dict[str, LLMResult]) -> dict[str, Any]:
        rec = self._record(task)
        responses = {c: r.data for c, r in results.items() if r.ok}
        failures = [{"criterion": c, **failure_entry(r)} for c, r in results.items() if not r.ok]
        return {
            "key": Path(task.video).name,
            "kind": rec["kind"],
            "video_name": rec["video_name"],
            "qa_set": rec["qa_set"],
            "responses": responses,
            "failures": failures,
        }
