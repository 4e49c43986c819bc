"""``VideoChat2MCQStage``: VideoChat2-IT multiple-choice records with distractors, plus the run's
task instructions (``instructions.json``), generated once and sampled per example.

Multiple choice follows MVBench exactly: ``Question: <q>\\nOptions:\\n(A) ...\\n(B) ...`` (rstripped),
answer ``(X) <correct option>``; the correct option goes to a random letter (seeded per video).
Distractors come from a candidate label list when one is given (a seeded draw excluding the answer,
as the UMT top-k idea), else from the LLM.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any, ClassVar

from vidfast.errors import ConfigError, VidfastError
from vidfast.llm import LLMRequest, LLMResult
from vidfast.runtime.records import VideoTask
from vidfast.runtime.store import atomic_write_json
from vidfast.stages.generate.base import LLMStage, all_failed, failure_entry

INSTRUCTIONS_FILE = "videochat2_instructions.json"
LLM_DISTRACTORS = 3  # what the videochat2_mcq prompt asks for
FALLBACK_INSTRUCTIONS = (
    "Watch the video carefully and pick the option that best answers the question.",
    "Based on the video, choose the correct answer from the options.",
    "Select the best option for the question about this video.",
    "Carefully observe the video, then answer the multiple-choice question.",
    "Pay attention to what happens in the video and pick the right option.",
    "Answer the question about the video by choosing one of the options.",
    "Look at the video and determine which option is correct.",
    "Use what you see in the video to select the most accurate answer.",
    "After watching the clip, pick the option that matches it best.",
    "Choose the option that correctly describes the video.",
)


class MCQInvalid(VidfastError):
    """A multiple-choice item could not be built (too few distinct options)."""


def format_mcq(question: str, options: list[str]) -> str:
    """MVBench's question text: ``Question: q\\nOptions:\\n(A) o1\\n(B) o2`` (rstripped)."""
    text = "Question: " + question + "\n" + "Options:\n"
    for i, opt in enumerate(options):
        text += f"({chr(ord('A') + i)}) {opt}\n"
    return text.rstrip()


def mcq_qa(
    question: str, answer: str, distractors: list[str], n_options: int, rng: random.Random
) -> tuple[str, str]:
    """``(q, a)`` of one item: ``n_options - 1`` distinct distractors, the answer at a random letter."""
    seen, picked = {answer.strip().lower()}, []
    for d in distractors:
        if d.strip() and d.strip().lower() not in seen:
            seen.add(d.strip().lower())
            picked.append(d.strip())
    if len(picked) < n_options - 1:
        raise MCQInvalid(f"{len(picked)} distinct distractor(s) for {n_options} options: {distractors!r}")
    options = picked[: n_options - 1]
    slot = rng.randrange(n_options)
    options.insert(slot, answer.strip())
    return format_mcq(question.strip(), options), f"({chr(ord('A') + slot)}) {answer.strip()}"


def read_labels(path: str) -> list[str]:
    """A candidate label list: ``.txt`` one per line, or a JSON list of strings."""
    from pathlib import Path

    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read llm.mcq_labels {path}: {exc.strerror or exc}") from exc
    if path.endswith(".json"):
        labels = json.loads(text)
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
            raise ConfigError(f"llm.mcq_labels {path} must hold a JSON list of strings")
    else:
        labels = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    if len(labels) < 2:
        raise ConfigError(f"llm.mcq_labels {path} needs at least 2 labels, got {len(labels)}")
    return labels


@dataclass
class VideoChat2MCQStage(LLMStage):
    """One multiple-choice QA per video (question + answer from the LLM) and the task instructions."""

    source: str = "captions"
    field_name: str = "text"
    n_options: int = 4
    labels: list[str] = field(default_factory=list)
    task_description: str = "Answer a multiple-choice question about what happens in a short video."

    name: ClassVar[str] = "videochat2_qa"

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.labels and self.n_options - 1 > LLM_DISTRACTORS:
            raise ConfigError(
                f"llm.mcq_options={self.n_options} needs llm.mcq_labels: the LLM writes "
                f"{LLM_DISTRACTORS} distractors (at most {LLM_DISTRACTORS + 1} options)"
            )
        self.instructions: dict[str, Any] | None = None

    def _instructions_path(self) -> Any:
        return None if self.store is None else self.store.root / INSTRUCTIONS_FILE

    def _load_instructions(self) -> dict[str, Any] | None:
        path = self._instructions_path()
        if path is None or not path.is_file():
            return None
        doc = json.loads(path.read_text(encoding="utf-8"))
        return doc if doc.get("fingerprint") == self.fingerprint("instructions") else None

    def extra_requests(self, batch: list[VideoTask]) -> list[LLMRequest]:
        if self.instructions is None:
            self.instructions = self._load_instructions()
        if self.instructions is not None:
            return []
        return [
            self.request(
                "videochat2_instructions", "instructions", "run", task_description=self.task_description
            )
        ]

    def absorb_extra(self, results: list[LLMResult]) -> None:
        if not results:
            return
        res = results[0]
        doc: dict[str, Any] = {"fingerprint": self.fingerprint("instructions"), "task": self.task_description}
        if res.ok:
            doc.update(source="llm", instructions=[s.strip() for s in res.data["instructions"]], failure=None)
        else:  # recorded, and the run goes on with the built-in list
            doc.update(
                source="fallback", instructions=list(FALLBACK_INSTRUCTIONS), failure=failure_entry(res)
            )
        self.instructions = doc
        if (path := self._instructions_path()) is not None:
            atomic_write_json(path, doc)

    def requests_for(self, task: VideoTask) -> list[LLMRequest]:
        return [
            self.request("videochat2_mcq", "mcq", task.video, caption=task.data[self.source][self.field_name])
        ]

    def assign(self, task: VideoTask, results: dict[str, LLMResult]) -> dict[str, Any]:
        res = results["mcq"]
        if not res.ok:
            raise all_failed([failure_entry(res)])
        rng = random.Random(f"{self.seed}:{task.video}")
        data = res.data
        if self.labels:
            pool = [lb for lb in self.labels if lb.strip().lower() != data["answer"].strip().lower()]
            distractors = rng.sample(pool, min(len(pool), self.n_options - 1))
        else:
            distractors = list(data["distractors"])
        q, a = mcq_qa(data["question"], data["answer"], distractors, self.n_options, rng)
        assert self.instructions is not None
        return {
            "QA": [{"i": rng.choice(self.instructions["instructions"]), "q": q, "a": a}],
            "distractors_from": "labels" if self.labels else "llm",
            "failures": [],
        }
