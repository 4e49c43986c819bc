"""``VideoChatStage``: VideoChat v1 instruction data - a detailed description (single turn, the
question drawn from a pool of describe-the-video instructions) and a 3-turn conversation per video."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, ClassVar

from vidfast.llm import LLMRequest, LLMResult
from vidfast.runtime.records import VideoTask
from vidfast.stages.generate.base import LLMStage, all_failed, failure_entry

# The original's pool (cf. minigpt_caption_3k.json) is not released; these play its role.
DESCRIBE_INSTRUCTIONS = (
    "Describe the following video in detail.",
    "Give a detailed description of what happens in this video.",
    "Can you describe this video in detail?",
    "Explain in detail what you see in the video.",
    "What is happening in this video? Please describe it thoroughly.",
    "Provide a detailed account of the events in the video.",
    "Describe the scenes of this video one by one, in order.",
    "Tell me everything you notice in this video.",
    "Write a detailed description of the video's content.",
    "Walk me through what happens in this clip.",
)


@dataclass
class VideoChatStage(LLMStage):
    """Description and conversation from the perception text (human captions for now)."""

    source: str = "captions"
    field: str = "text"

    name: ClassVar[str] = "videochat_qa"

    def requests_for(self, task: VideoTask) -> list[LLMRequest]:
        text = task.data[self.source][self.field]
        return [
            self.request("videochat_description", "description", task.video, perception=text),
            self.request("videochat_conversation", "conversation", task.video, perception=text),
        ]

    def assign(self, task: VideoTask, results: dict[str, LLMResult]) -> dict[str, Any]:
        failures = [failure_entry(r) for r in results.values() if not r.ok]
        if len(failures) == len(results):
            raise all_failed(failures)
        rng = random.Random(f"{self.seed}:{task.video}")
        desc, conv = results["description"], results["conversation"]
        return {
            "description": (
                {"q": rng.choice(DESCRIBE_INSTRUCTIONS), "a": desc.data["description"].strip()}
                if desc.ok
                else None
            ),
            "conversation": (
                [{"q": t["q"].strip(), "a": t["a"].strip()} for t in conv.data["turns"]] if conv.ok else None
            ),
            "failures": failures,
        }
