"""``OwlDetector`` (embedded tiny OWLv2) and the region-caption stage: boxes, ranking, NMS, crops, the
GRiT string and the original 4-tuple."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from vidfast.models.detector import Detection, OwlDetector, crop, nms
from vidfast.runtime.records import VideoTask
from vidfast.semiauto import Region, grit_string
from vidfast.stages.generate.dense_caption import frame_predictions
from vidfast.stages.regions import RegionCaptionStage

GRIT = re.compile(r"(?:[^;\[\]]+: \[\d+, \d+, \d+, \d+\]; )*")


@pytest.fixture(scope="module")
def owl(model_cache: Path) -> OwlDetector:
    return OwlDetector("embedded:owlv2-tiny", device="cpu", dtype="float32", batch_size=2)


def _iou(a: tuple, b: tuple) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def test_boxes_are_ranked_bounded_and_suppressed(owl: OwlDetector, frames: np.ndarray) -> None:
    found = owl.detect(list(frames[:3]), [["dog", "man"], [], ["car"]], top_k=4, min_score=0.0, nms_iou=0.3)
    assert len(found) == 3
    for dets in found:
        assert 1 <= len(dets) <= 4
        assert [d.score for d in dets] == sorted((d.score for d in dets), reverse=True)
        for d in dets:
            x1, y1, x2, y2 = d.box
            assert 0 <= x1 < x2 <= 160 and 0 <= y1 < y2 <= 90
        assert all(_iou(a.box, b.box) <= 0.3 + 1e-6 for i, a in enumerate(dets) for b in dets[i + 1 :])
    assert {d.label for d in found[0]} <= {"dog", "man"} and {d.label for d in found[1]} == {None}
    assert owl.detect(list(frames[:2]), top_k=2, min_score=1.01) == [[], []]  # nothing reaches the score


def test_batches_do_not_change_detections(owl: OwlDetector, frames: np.ndarray) -> None:
    queries = [["dog"], ["man", "tennis racquet"], []]
    batched = owl.detect(list(frames[:3]), queries, top_k=3, min_score=0.0, rank="tags")
    single = [
        owl.detect([f], [q], top_k=3, min_score=0.0, rank="tags")[0] for f, q in zip(frames[:3], queries)
    ]
    assert [[d.box for d in f] for f in batched] == [[d.box for d in f] for f in single]
    assert all(d.label in q for f, q in zip(batched[:2], queries[:2]) for d in f)


def test_box_geometry_of_the_padded_square(owl: OwlDetector) -> None:
    frame = np.zeros((50, 100, 3), np.uint8)  # OWLv2 pads to 100 x 100: boxes are in that square's units
    boxes = np.array([[0.5, 0.5, 0.5, 0.5], [0.1, 0.1, 0.1, 0.1], [0.9, 0.9, 0.1, 0.1]], np.float32)
    got = owl._select(frame, boxes, np.array([0.9, 0.5, 0.8]), ["a", "b", "c"], 5, 0.0, 0.5)
    # [25, 25, 75, 75] clipped to the 50-pixel-high frame; the third box lies in the padding: dropped
    assert got == [Detection((25.0, 25.0, 75.0, 50.0), 0.9, "a"), Detection((5.0, 5.0, 15.0, 15.0), 0.5, "b")]


def test_nms_and_crop() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]], np.float32)
    assert nms(boxes, np.array([0.5, 0.9, 0.1]), 0.5) == [1, 2]
    assert nms(boxes, np.array([0.5, 0.9, 0.1]), 0.9) == [1, 0, 2]
    frame = np.arange(90 * 160 * 3, dtype=np.uint32).reshape(90, 160, 3).astype(np.uint8)
    assert np.array_equal(crop(frame, (10, 20, 50, 60)), frame[20:60, 10:50])
    assert crop(frame, (100, 40, 101, 41), min_size=8).shape == (8, 8, 3)  # grown around its centre
    corner = crop(frame, (158, 88, 160, 90), min_size=8)  # shifted to stay inside the frame
    assert np.array_equal(corner, frame[82:90, 152:160])


def test_region_stage_writes_grit_regions(model_cache: Path, frames: np.ndarray) -> None:
    stage = RegionCaptionStage(
        detector="embedded:owlv2-tiny",
        captioner="embedded:blip2-tiny",
        device="cpu",
        dtype="float32",
        top_k=2,
        min_score=0.0,
        max_new_tokens=4,
        detect_batch=3,
    )
    stage.setup()
    tasks = [VideoTask(f"/v/{i}.mp4") for i in range(2)]
    for i, task in enumerate(tasks):
        images = list(frames[3 * i : 3 * i + 3])
        task.data["key_frames"] = {"images": images, "sizes": [[160, 90]] * 3, "times": [0.5, 1.5, 2.5]}
        task.data["frame_captions"] = {"captions": ["a frame"] * 3, "times": [0.5, 1.5, 2.5]}
        task.data["frame_tags"] = {"tags": [["dog"], ["man", "car"], []]}
    stage.process(tasks)
    assert stage.stats.counters["frames"] == 6
    for task in tasks:
        assert "key_frames" not in task.data  # the frames are freed by their last reader
        regions = task.data["frame_regions"]["regions"]
        assert len(regions) == 3 and all(len(f) <= 2 for f in regions) and any(regions)
        for frame_regions, tags in zip(regions, [["dog"], ["man", "car"], []]):
            for r in frame_regions:
                assert set(r) == {"caption", "box", "score", "tag"} and isinstance(r["caption"], str)
                assert all(isinstance(v, int) for v in r["box"]) and r["box"][2] <= 160 and r["box"][3] <= 90
                assert r["tag"] in tags if tags else r["tag"] is None
        original = [f.to_original() for f in frame_predictions(task)]
        for item, frame_regions in zip(original, regions):
            caption, dense, tags, size = item
            assert caption == "a frame" and size == [160, 90] and len(tags) == 1 and isinstance(tags[0], str)
            assert GRIT.fullmatch(dense) and dense.count("; ") == len(frame_regions)
            assert dense == grit_string(Region(r["caption"], tuple(r["box"])) for r in frame_regions)


@pytest.mark.needs_cuda
def test_fp16_on_gpu(model_cache: Path, frames: np.ndarray) -> None:
    gpu = OwlDetector("embedded:owlv2-tiny", device="cuda", dtype="float16", batch_size=2)
    found = gpu.detect(list(frames[:3]), [["dog"], [], ["man", "car"]], top_k=3, min_score=0.0)
    assert len(found) == 3 and all(1 <= len(f) <= 3 for f in found)
    assert all(0 <= d.box[0] < d.box[2] <= 160 and 0 <= d.box[1] < d.box[3] <= 90 for f in found for d in f)
