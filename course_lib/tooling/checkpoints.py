"""Trained checkpoints: lessons show real models, in FAST mode too.

A lesson that evaluates, plots or decodes a model loads a small committed
checkpoint trained by the FULL recipe, so its stored outputs show what a
trained model does; its FAST run still trains a short loop to show the loop
works, and says so. One command reruns every recipe::

    course checkpoints            # all of them (minutes); or: course checkpoints kws asr

Each recipe (:class:`CheckpointRecipe`) names today's architecture
(``build``), the FULL training (``train``) and an evaluation on a slice that
the FAST data holds (``evaluate``), so that the test suite can check, on a fresh
clone, that every checkpoint still loads into today's architecture and still
reaches the figures recorded in ``checkpoints/manifest.json``.

Recipes live with their topic (``course_lib.kws``, ``course_lib.asr``...) and
are listed in :data:`RECIPES` as ``"module:function"`` strings, so importing
this module imports no topic module.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import importlib
import io
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from course_lib.tooling.runtime import _plain, repo_root

__all__ = [
    "RECIPES",
    "CheckpointRecipe",
    "checkpoint_dir",
    "get_recipe",
    "save_checkpoint",
    "load_checkpoint",
    "checkpoint_entry",
    "make_checkpoints",
    "evaluate_checkpoint",
]

#: name -> ``"module:function"``; the function takes no argument and returns a :class:`CheckpointRecipe`.
RECIPES: dict[str, str] = {
    "asr": "course_lib.asr:asr_checkpoint_recipe",
    "calibration": "course_lib.calibration:calibration_checkpoint_recipe",
    "features_curve": "course_lib.features:features_checkpoint_recipe",
    "kws": "course_lib.kws:kws_checkpoint_recipe",
    "kws_clean": "course_lib.kws:kws_clean_checkpoint_recipe",
    "kws_specaug": "course_lib.kws:kws_specaug_checkpoint_recipe",
    "kws_sim": "course_lib.kws:kws_sim_checkpoint_recipe",
    "kws_commands": "course_lib.kws:kws_commands_checkpoint_recipe",
    "sound": "course_lib.kws:sound_checkpoint_recipe",
}


@dataclass(frozen=True)
class CheckpointRecipe:
    """How one checkpoint is built, trained and checked.

    Attributes
    ----------
    name : str
        File stem under ``checkpoints/`` (``kws`` -> ``checkpoints/kws.pt``).
    description : str
        One line for the manifest and ``course checkpoints --list``.
    build : callable () -> nn.Module
        Today's architecture, untrained.
    train : callable (seed: int) -> (nn.Module, dict)
        The FULL recipe: the trained model and the figures its training measured.
    evaluate : callable (nn.Module) -> dict
        Figures on an evaluation slice that the FAST data holds (keep it to seconds).
    tolerance : float
        Largest absolute difference allowed between a recorded and a re-measured
        evaluation figure (other machines compute with other float kernels).
    half : bool
        Store the weights as float16 (halves the file; evaluation figures are
        recorded after the float16 round trip, so they describe the stored model).
    """

    name: str
    description: str
    build: Callable[[], Any]
    train: Callable[[int], tuple[Any, dict]]
    evaluate: Callable[[Any], dict]
    tolerance: float = 0.02
    half: bool = False
    extra: dict = field(default_factory=dict)


def checkpoint_dir(root: Path | None = None) -> Path:
    """``checkpoints/`` of the checkout (or of ``root``)."""
    return Path(root if root is not None else repo_root()) / "checkpoints"


def _manifest_path(root: Path | None) -> Path:
    return checkpoint_dir(root) / "manifest.json"


def _read_manifest(root: Path | None) -> dict:
    path = _manifest_path(root)
    return json.loads(path.read_text()) if path.is_file() else {}


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not name or not name.replace("_", "").isalnum():
        raise ValueError(f"a checkpoint name is a non-empty identifier like 'kws', got {name!r}")
    return name


def get_recipe(name: str) -> CheckpointRecipe:
    """The recipe registered under ``name`` in :data:`RECIPES`."""
    _check_name(name)
    if name not in RECIPES:
        raise ValueError(f"no checkpoint recipe named {name!r}; known: {sorted(RECIPES)}")
    module, func = RECIPES[name].split(":")
    recipe = getattr(importlib.import_module(module), func)()
    if not isinstance(recipe, CheckpointRecipe) or recipe.name != name:
        raise TypeError(f"{RECIPES[name]} must return a CheckpointRecipe named {name!r}")
    return recipe


def _state_bytes(model, half: bool) -> bytes:
    import torch

    state = {k: (v.half() if half and v.is_floating_point() else v).detach().cpu().contiguous()
             for k, v in model.state_dict().items()}
    buf = io.BytesIO()
    torch.save(state, buf)
    return buf.getvalue()


def save_checkpoint(name: str, model, *, figures: dict, train_figures: dict | None = None, seed: int = 0,
                    seconds: float | None = None, half: bool = False, description: str = "",
                    root: Path | None = None) -> dict:
    """Write ``checkpoints/NAME.pt`` (a state dict) and its manifest entry; return the entry."""
    _check_name(name)
    import torch

    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    data = _state_bytes(model, half)
    folder = checkpoint_dir(root)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.pt").write_bytes(data)
    entry = {
        "file": f"{name}.pt",
        "description": description,
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
        "dtype": "float16" if half else "float32",
        "parameters": int(sum(p.numel() for p in model.parameters())),
        "figures": {k: _plain(v) for k, v in figures.items()},
        "train_figures": {k: _plain(v) for k, v in (train_figures or {}).items()},
        "seed": int(seed),
        "train_s": None if seconds is None else round(float(seconds), 1),
        "date": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
        "torch": torch.__version__,
    }
    manifest = _read_manifest(root)
    manifest[name] = entry
    _manifest_path(root).write_text(json.dumps(dict(sorted(manifest.items())), indent=1) + "\n")
    return entry


def checkpoint_entry(name: str, *, root: Path | None = None) -> dict:
    """The manifest entry of a checkpoint (recorded figures, size, date...)."""
    _check_name(name)
    manifest = _read_manifest(root)
    if name not in manifest:
        raise FileNotFoundError(
            f"no checkpoint {name!r} in {_manifest_path(root)}; make it with `course checkpoints {name}`")
    return manifest[name]


def load_checkpoint(name: str, model, *, root: Path | None = None) -> dict:
    """Load ``checkpoints/NAME.pt`` into ``model`` (strictly: today's architecture must match).

    Weights stored as float16 are cast to the model's dtype. The file's hash is
    checked against the manifest. Returns the manifest entry; the model is put
    in eval mode.
    """
    import torch

    entry = checkpoint_entry(name, root=root)
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    path = checkpoint_dir(root) / entry["file"]
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != entry["sha256"]:
        raise ValueError(f"{path} does not match its manifest hash: remake it with `course checkpoints {name}`")
    state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    own = model.state_dict()
    cast = {k: (v.to(own[k].dtype) if k in own and v.is_floating_point() else v) for k, v in state.items()}
    try:
        model.load_state_dict(cast, strict=True)
    except RuntimeError as exc:
        raise ValueError(f"checkpoint {name!r} does not fit this architecture (was it changed? remake it with "
                         f"`course checkpoints {name}`): {str(exc).splitlines()[0]}") from exc
    model.eval()
    return entry


def evaluate_checkpoint(name: str, *, root: Path | None = None) -> tuple[dict, dict]:
    """Load a checkpoint into today's architecture and evaluate it: (recorded, measured) figures."""
    recipe = get_recipe(name)
    model = recipe.build()
    entry = load_checkpoint(name, model, root=root)
    return dict(entry["figures"]), {k: _plain(v) for k, v in recipe.evaluate(model).items()}


def make_checkpoints(names: list[str] | None = None, *, seed: int = 0, root: Path | None = None,
                     echo: Callable[[str], None] = print) -> list[dict]:
    """Rerun the FULL recipes and write their checkpoints (``course checkpoints``)."""
    names = list(names) if names else sorted(RECIPES)
    out = []
    for name in names:
        recipe = get_recipe(name)
        echo(f"{name}: training ({recipe.description})")
        t0 = time.perf_counter()
        model, train_figures = recipe.train(seed)
        seconds = time.perf_counter() - t0
        # record the figures of the model as stored (after a float16 round trip when half)
        save_checkpoint(name, model, figures={"pending": 0}, seed=seed, half=recipe.half, root=root)
        fresh = recipe.build()
        load_checkpoint(name, fresh, root=root)
        figures = recipe.evaluate(fresh)
        for k, v in figures.items():
            if isinstance(v, float) and not math.isfinite(v):
                raise ValueError(f"checkpoint {name}: evaluation figure {k} is {v}")
        entry = save_checkpoint(name, model, figures=figures, train_figures=train_figures, seed=seed,
                                seconds=seconds, half=recipe.half, description=recipe.description, root=root)
        echo(f"{name}: {entry['bytes'] / 1e6:.2f} MB, trained in {seconds:.0f} s, figures {entry['figures']}")
        out.append(entry)
    return out
