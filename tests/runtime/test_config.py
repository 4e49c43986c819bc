"""Configuration resolution and its error messages."""

from __future__ import annotations

import pytest

from vidfast.config import load_config, parse_override
from vidfast.errors import ConfigError


def test_defaults_and_presets() -> None:
    cfg = load_config()
    assert cfg.preset == "default" and cfg.models.clip == "openai/clip-vit-large-patch14"
    emb = load_config("embedded")
    assert emb.models.llm == "smollm2" and emb.models.clip == "efficientnet-lite0" and emb.models.device == "cpu"


def test_layers_apply_in_order(tmp_path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text("runtime:\n  workers: 3\nprobe:\n  check_size: 32\n")
    cfg = load_config("embedded", f, ["runtime.workers=5", "decode.threads=2"])
    assert (cfg.runtime.workers, cfg.probe.check_size, cfg.decode.threads) == (5, 32, 2)
    assert cfg.models.device == "cpu"  # the preset survives the other layers


def test_unknown_key_names_the_closest_one() -> None:
    with pytest.raises(ConfigError, match=r"unknown config key 'runtime.worker'.*Did you mean 'runtime.workers'"):
        load_config(overrides=["runtime.worker=3"])
    with pytest.raises(ConfigError, match="Valid keys: decode, grounding, llm, models, preset, probe, recipe, runtime, scenes"):
        load_config(overrides=["nonsense=1"])


@pytest.mark.parametrize(
    ("override", "pattern"),
    [
        ("runtime.workers=abc", r"runtime.workers.*integer.*'abc'"),
        ("runtime.workers=0", r"runtime.workers.*greater than or equal to 1"),
        ("decode.backend=gpu", r"decode.backend.*'auto', 'pyav', 'dali' or 'nvdec'"),
        ("models.dtype=int3", r"models.dtype"),
    ],
)
def test_bad_values_say_what_is_valid(override: str, pattern: str) -> None:
    with pytest.raises(ConfigError, match=pattern):
        load_config(overrides=[override])


def test_section_needs_a_mapping() -> None:
    with pytest.raises(ConfigError, match="'runtime' is a section"):
        load_config(overrides=["runtime=3"])


def test_override_syntax() -> None:
    assert parse_override("a.b=[1, 2]") == {"a": {"b": [1, 2]}}
    with pytest.raises(ConfigError, match="key=value"):
        parse_override("runtime.workers")


def test_bad_files_and_presets(tmp_path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("runtime: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(config_file=bad)
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(config_file=tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match="available presets: default, embedded"):
        load_config("fast")


def test_numbers_are_accepted_for_text_fields_that_document_them(tmp_path) -> None:
    # grounding.selection is "median", "video_median" or a fixed clip_sim threshold
    assert load_config(overrides=["grounding.selection=-1"]).grounding.selection == "-1"
    assert load_config(overrides=["grounding.selection=0.25"]).grounding.selection == "0.25"
    f = tmp_path / "c.yaml"
    f.write_text("grounding:\n  selection: 0.3\n")
    assert load_config(config_file=f).grounding.selection == "0.3"
    # numbers stay numbers, and text is still refused where a number is needed
    assert load_config(overrides=["grounding.merge_threshold=1"]).grounding.merge_threshold == 1.0
    with pytest.raises(ConfigError, match="grounding.merge_threshold"):
        load_config(overrides=["grounding.merge_threshold=high"])
