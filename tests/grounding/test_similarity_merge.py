"""Hand-computed cases: scene embeddings, cosine matrix, merge rules, max-pool, caption scores, selection."""

from __future__ import annotations

import numpy as np
import pytest

from vidfast.errors import ConfigError
from vidfast.grounding import (
    caption_scene_scores,
    cosine_matrix,
    group_captions,
    keep_mask,
    merge_scenes,
    scene_embeddings,
    segment_max_pool,
    select_captions,
)


def test_scene_embeddings_mean_unnormalised_by_default(host_backend: str) -> None:
    frames = np.array([[2, 0], [0, 2], [4, 0], [1, 1], [3, 3]], np.float32)
    emb = scene_embeddings(frames, [0, 2, 3, 5], backend=host_backend)
    np.testing.assert_allclose(emb, [[1, 1], [4, 0], [2, 2]])
    unit = scene_embeddings(frames, [0, 2, 3, 5], normalize=True, backend=host_backend)
    s = np.sqrt(0.5)
    np.testing.assert_allclose(unit, [[0.5, 0.5], [1, 0], [s, s]], rtol=1e-6)


def test_scene_embeddings_reject_empty_segments(host_backend: str) -> None:
    with pytest.raises(ValueError, match="offsets"):
        scene_embeddings(np.ones((3, 2), np.float32), [0, 2, 2, 3], backend=host_backend)


def test_cosine_matrix_one_gemm_numpy_and_torch() -> None:
    emb = np.array([[1, 0], [1, 1], [0, 3], [0, 0]], np.float32)
    s = np.sqrt(0.5)
    expected = [[1, s, 0, 0], [s, 1, s, 0], [0, s, 1, 0], [0, 0, 0, 0]]
    np.testing.assert_allclose(cosine_matrix(emb), expected, atol=1e-6)
    torch = pytest.importorskip("torch")
    np.testing.assert_allclose(cosine_matrix(torch.from_numpy(emb)).numpy(), expected, atol=1e-6)


# sim[0,1] > t, sim[1,2] < t, sim[0,2] > t: "last" splits at 2, "union" keeps 2 (similar to member 0).
SIM4 = np.array(
    [
        [1.0, 0.9, 0.9, 0.1],
        [0.9, 1.0, 0.5, 0.1],
        [0.9, 0.5, 1.0, 0.85],
        [0.1, 0.1, 0.85, 1.0],
    ]
)
SCENES4 = [[0.0, 1.0], [1.0, 2.5], [3.0, 4.0], [4.0, 6.0]]  # a gap at 2.5-3.0


def test_merge_last_vs_union(host_backend: str) -> None:
    last = merge_scenes(SIM4, SCENES4, rule="last", backend=host_backend)
    union = merge_scenes(SIM4, SCENES4, rule="union", backend=host_backend)
    assert last.spans == [[0, 1], [2], [3]]
    assert union.spans == [[0, 1, 2], [3]]  # 0.85 is not > 0.85: scene 3 stays apart
    assert last.scenes == [[0.0, 2.5], [3.0, 4.0], [4.0, 6.0]]
    assert union.scenes == [[0.0, 4.0], [4.0, 6.0]]  # the gap is inside the merged scene


def test_merge_similar_set_holds_non_neighbours_only_within_the_open_span(host_backend: str) -> None:
    # 0~2 similar but 0!~1: span [0] closes at 1, and 2 is not in similar[1] -> three spans.
    sim = np.array([[1, 0.1, 0.9], [0.1, 1, 0.2], [0.9, 0.2, 1]])
    for rule in ("last", "union"):
        assert merge_scenes(sim, rule=rule, backend=host_backend).spans == [[0], [1], [2]]


def test_merge_reads_upper_triangle_only(host_backend: str) -> None:
    sim = np.array([[1, 0.9], [0.1, 1]])  # asymmetric: only sim[0,1] counts, as in the original
    assert merge_scenes(sim, backend=host_backend).spans == [[0, 1]]


def test_merge_empty_and_bad_rule() -> None:
    res = merge_scenes(np.zeros((0, 0)), [])
    assert res.spans == [] and res.scenes == [] and res.similarity.shape == (0, 0)
    with pytest.raises(ConfigError, match="union"):
        merge_scenes(SIM4, rule="mean")


def test_max_pool_blocks_and_diagonal(host_backend: str) -> None:
    sim = np.array(
        [[1.0, 0.2, 0.3, 0.4], [0.2, 0.99, 0.7, 0.1], [0.3, 0.7, 1.0, 0.6], [0.4, 0.1, 0.6, 1.0]], np.float32
    )
    out = segment_max_pool(sim, [0, 2, 3, 4], backend=host_backend)
    np.testing.assert_array_equal(out, np.array([[1, 0.7, 0.4], [0.7, 1, 0.6], [0.4, 0.6, 1]], np.float32))
    merged = merge_scenes(SIM4, SCENES4, rule="last", backend=host_backend)
    np.testing.assert_array_equal(merged.similarity, [[1, 0.9, 0.1], [0.9, 1, 0.85], [0.1, 0.85, 1]])


def test_caption_scene_scores_max_and_mean() -> None:
    frames = np.array([[1, 0], [0, 1], [1, 1], [2, 0]], np.float32)  # scene 0: frames 0-2, scene 1: 3
    captions = np.array([[1, 0], [0, 5], [3, 0]], np.float32)
    scene = [0, 0, 1]
    s = np.sqrt(0.5)
    np.testing.assert_allclose(caption_scene_scores(frames, [0, 3, 4], captions, scene), [1, 1, 1], rtol=1e-6)
    mean = caption_scene_scores(frames, [0, 3, 4], captions, scene, reduce="mean")
    np.testing.assert_allclose(mean, [(1 + s) / 3, (1 + s) / 3, 1], rtol=1e-6)


def test_median_rule_global_and_per_video() -> None:
    assert keep_mask([0.1, 0.4, 0.2, 0.3]).tolist() == [False, True, False, True]  # median 0.25
    assert keep_mask([0.1, 0.2, 0.3]).tolist() == [False, True, True]  # ties with the median are kept
    videos = ["a", "a", "b", "b"]
    assert keep_mask([0.1, 0.2, 0.5, 0.9], "video_median", videos).tolist() == [False, True, False, True]
    assert keep_mask([0.1, 0.2, 0.5, 0.9], "median", videos).tolist() == [False, False, True, True]
    assert keep_mask([0.1, 0.5, 0.5], 0.5).tolist() == [False, True, True]
    with pytest.raises(ConfigError, match="video_median"):
        keep_mask([0.1], "mean")


def _row(video: str, start: float, caption: str, sim: float) -> dict[str, object]:
    return {
        "video_fname": video,
        "start_sec": start,
        "end_sec": start + 2,
        "caption": caption,
        "clip_sim": sim,
    }


def test_select_groups_consecutive_rows_in_first_seen_order() -> None:
    rows = [
        _row("a.mp4", 0, "zebra", 0.9),
        _row("a.mp4", 0, "mango", 0.1),  # dropped: does not split the group
        _row("a.mp4", 0, "apple", 0.8),  # equal to the median: kept
        _row("a.mp4", 0, "zebra", 0.95),  # duplicate caption
        _row("a.mp4", 2, "kiwi", 0.85),
        _row("a.mp4", 0, "late", 0.99),  # same segment again, not consecutive: a new group
        _row("b.mp4", 0, "low", 0.0),
        _row("b.mp4", 0, "low", 0.05),
        _row("b.mp4", 0, "low", 0.02),
    ]
    out = select_captions(rows)  # median of the 9 scores = 0.8
    assert out == [
        {"video_fname": "a.mp4", "start_sec": 0, "end_sec": 2, "captions": ["zebra", "apple"]},
        {"video_fname": "a.mp4", "start_sec": 2, "end_sec": 4, "captions": ["kiwi"]},
        {"video_fname": "a.mp4", "start_sec": 0, "end_sec": 2, "captions": ["late"]},
    ]
    assert group_captions([]) == []


def test_pickled_embeddings_reach_the_native_kernels() -> None:
    """float32 arrays unpickled in another process have a distinct (equal) dtype object."""
    import pickle

    from vidfast.grounding import scene_embeddings

    emb = np.random.default_rng(0).standard_normal((6, 8)).astype(np.float32)
    offsets = np.array([0, 2, 6], dtype=np.int64)
    back = pickle.loads(pickle.dumps(emb, protocol=pickle.HIGHEST_PROTOCOL))
    assert back.dtype is not emb.dtype
    assert np.array_equal(scene_embeddings(back, offsets), scene_embeddings(emb, offsets))
