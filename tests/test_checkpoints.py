"""Committed checkpoints: they load into today's architecture and still reach their recorded figures.

Also the store itself: save/load round trip, float16 storage, hash and architecture checks.
"""
from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from course_lib.tooling.checkpoints import (
    RECIPES,
    checkpoint_dir,
    checkpoint_entry,
    evaluate_checkpoint,
    get_recipe,
    load_checkpoint,
    save_checkpoint,
)

#: "A few MB in all": the committed checkpoints stay small.
MAX_TOTAL_BYTES = 12_000_000


def _net(width=4):
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, width), nn.ReLU(), nn.Linear(width, 2))


def test_save_and_load_round_trip(tmp_path):
    net = _net()
    entry = save_checkpoint("demo", net, figures={"acc": 0.5}, seed=1, root=tmp_path)
    assert (tmp_path / "checkpoints" / "demo.pt").stat().st_size == entry["bytes"]
    fresh = _net()
    for p in fresh.parameters():
        nn.init.zeros_(p)
    got = load_checkpoint("demo", fresh, root=tmp_path)
    assert got["figures"] == {"acc": 0.5} and got["parameters"] == sum(p.numel() for p in net.parameters())
    for a, b in zip(net.parameters(), fresh.parameters()):
        assert torch.equal(a, b)
    assert not fresh.training


def test_half_storage_is_smaller_and_close(tmp_path):
    net = _net(1024)
    full = save_checkpoint("f32", net, figures={"x": 1}, root=tmp_path)
    half = save_checkpoint("f16", net, figures={"x": 1}, half=True, root=tmp_path)
    assert half["bytes"] < 0.7 * full["bytes"] and half["dtype"] == "float16"
    fresh = _net(1024)
    load_checkpoint("f16", fresh, root=tmp_path)
    for a, b in zip(net.parameters(), fresh.parameters()):
        assert b.dtype == torch.float32
        torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-3)


def test_changed_architecture_is_a_clear_error(tmp_path):
    save_checkpoint("demo", _net(4), figures={"acc": 0.5}, root=tmp_path)
    with pytest.raises(ValueError, match="does not fit this architecture"):
        load_checkpoint("demo", _net(5), root=tmp_path)


def test_tampered_file_fails_its_hash(tmp_path):
    save_checkpoint("demo", _net(), figures={"acc": 0.5}, root=tmp_path)
    path = tmp_path / "checkpoints" / "demo.pt"
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="hash"):
        load_checkpoint("demo", _net(), root=tmp_path)


@pytest.mark.parametrize("bad", ["", "a/b", "../x", None, 3])
def test_bad_names(bad, tmp_path):
    with pytest.raises(ValueError, match="checkpoint name"):
        checkpoint_entry(bad, root=tmp_path)


def test_missing_checkpoint_says_how_to_make_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="course checkpoints nothere"):
        checkpoint_entry("nothere", root=tmp_path)


def test_not_a_module(tmp_path):
    with pytest.raises(TypeError, match="nn.Module"):
        save_checkpoint("demo", {"w": 1}, figures={"a": 1}, root=tmp_path)


def test_unknown_recipe():
    with pytest.raises(ValueError, match="no checkpoint recipe"):
        get_recipe("no_such_recipe")


# -- the committed checkpoints ------------------------------------------------------------------------
def test_every_recipe_has_a_committed_checkpoint_and_they_stay_small():
    manifest = json.loads((checkpoint_dir() / "manifest.json").read_text()) if RECIPES else {}
    assert set(manifest) == set(RECIPES), "manifest and RECIPES list different checkpoints: run `course checkpoints`"
    total = 0
    for name, entry in manifest.items():
        path = checkpoint_dir() / entry["file"]
        assert path.is_file(), f"{path} is missing"
        total += path.stat().st_size
        assert entry["figures"] and "pending" not in entry["figures"]
    assert total <= MAX_TOTAL_BYTES, f"checkpoints take {total / 1e6:.1f} MB"


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_checkpoint_reaches_its_recorded_figures(name):
    recorded, measured = evaluate_checkpoint(name)
    tol = get_recipe(name).tolerance
    assert set(recorded) == set(measured)
    for key, value in recorded.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            assert abs(measured[key] - value) <= tol, f"{name}.{key}: recorded {value}, measured {measured[key]}"
        else:
            assert measured[key] == value, f"{name}.{key}: recorded {value!r}, measured {measured[key]!r}"
