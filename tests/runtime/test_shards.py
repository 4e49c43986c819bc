"""``runtime.shard=i/n`` runs into one directory, then ``vidfast merge``: the outputs of an unsharded run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import vidfast
from vidfast.cli import main
from vidfast.errors import ConfigError, InputError
from vidfast.runner import merge  # also vidfast.merge
from vidfast.runtime.records import video_id_for
from vidfast.runtime.shards import parse_shard


def _outputs(root: Path) -> dict[str, bytes]:
    """Every file an unsharded run writes, minus its timings and per-shard files."""
    skip = {"report.json", "config.yaml", "vidfast.log"}
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.name not in skip and ".of-" not in p.name and "-of-" not in p.name}


def test_shards_then_merge_write_what_one_unsharded_run_writes(tmp_path, synth_h264, synth_vp9, bikes_mp4,
                                                               bad_videos) -> None:
    pytest.importorskip("transformers")
    inputs = [str(synth_h264.path), str(bad_videos["random"]), str(synth_vp9.path), str(bikes_mp4),
              str(bad_videos["empty"]), str(bad_videos["truncated"])]
    whole = vidfast.run(inputs, tmp_path / "whole", recipe="grounding", preset="embedded", progress=False)
    out = tmp_path / "sharded"
    sizes = []
    for i in range(2):
        part = vidfast.run(inputs, out, recipe="grounding", preset="embedded", progress=False,
                           overrides=[f"runtime.shard={i}/2"])
        assert part.report["shard"] == f"{i}/2" and part.manifest_path.name == f"manifest.{i}-of-2.jsonl"
        sizes.append(part.report["videos"]["total"])
        assert not (out / "grounding.jsonl").exists()  # nothing is exported before the merge
    assert sum(sizes) == len(inputs)
    merged = merge(out)
    assert merged.report["videos"] == whole.report["videos"]
    assert [s["shard"] for s in merged.report["shards"]] == ["0/2", "1/2"]
    assert merged.report["export"] == whole.report["export"]
    a, b = _outputs(tmp_path / "whole"), _outputs(out)
    assert sorted(a) == sorted(b)
    assert [n for n in a if a[n] != b[n]] == []


def test_merge_refuses_unfinished_or_mismatched_shards(tmp_path, synth_h264, synth_vp9) -> None:
    inputs = [str(synth_h264.path), str(synth_vp9.path)]
    out = tmp_path / "run"
    with pytest.raises(InputError, match="no shard manifests"):
        merge(tmp_path)
    vidfast.run(inputs, out, recipe="probe", progress=False, overrides=["runtime.shard=0/2"])
    with pytest.raises(InputError, match=r"shards 1/2 .* have not finished"):
        merge(out)
    vidfast.run(inputs, out, recipe="probe", progress=False,
                overrides=["runtime.shard=1/2", "probe.count_frames=false"])  # another configuration
    with pytest.raises(InputError, match="another configuration"):
        merge(out)
    vidfast.run(inputs, out, recipe="probe", progress=False, overrides=["runtime.shard=1/2"])
    result = CliRunner().invoke(main, ["merge", str(out)])
    assert result.exit_code == 0, result.output
    assert "probe: 2 videos: 2 done" in result.output
    rows = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    assert [r["video"] for r in rows] == inputs and all("index" not in r for r in rows)
    assert len((out / "videos.jsonl").read_text().splitlines()) == 2
    vidfast.run(inputs, out, recipe="probe", progress=False, overrides=["runtime.shard=0/3"])
    with pytest.raises(ConfigError, match="split 2 and 3 ways"):
        merge(out)


def test_shards_are_balanced_and_independent_of_input_order() -> None:
    ids = [video_id_for(f"/data/v{i}.mp4") for i in range(203)]
    shards = [parse_shard(f"{k}/4") for k in range(4)]
    chosen = [{ids[i] for i in s.select(ids)} for s in shards]
    assert sorted(len(c) for c in chosen) == [50, 51, 51, 51]  # sizes differ by at most one
    assert set().union(*chosen) == set(ids) and sum(len(c) for c in chosen) == len(ids)
    shuffled = ids[::-1]
    assert [{shuffled[i] for i in s.select(shuffled)} for s in shards] == chosen
    assert parse_shard("1/4").suffix == "1-of-4" and parse_shard(None) is None
    for bad in ("4/4", "-1/2", "1", "a/b", "0/0"):
        with pytest.raises(ConfigError, match="runtime.shard must be i/n"):
            parse_shard(bad)


def test_a_starting_shard_spares_the_temporary_files_of_shards_running_beside_it(tmp_path, synth_h264) -> None:
    """Shards share the directory: one starting must not delete another's write in progress (a fresh
    ``.*.tmp``), while a killed run's old leftovers go; ``merge`` (exclusive) removes them all."""
    import os
    import time

    out = tmp_path / "run"
    (out / "state" / "probe").mkdir(parents=True)
    live = out / "state" / "probe" / ".other-shard-video.json.x1.tmp"  # another shard's write, now
    stale = out / "state" / "probe" / ".killed-video.json.x2.tmp"  # left by a run killed long ago
    for p in (live, stale):
        p.write_text("{")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    vidfast.run([str(synth_h264.path)], out, recipe="probe", progress=False, overrides=["runtime.shard=0/2"])
    assert live.exists() and not stale.exists()
    vidfast.run([str(synth_h264.path)], out, recipe="probe", progress=False, overrides=["runtime.shard=1/2"])
    merge(out)
    assert not live.exists()
