"""The committed FULL results file: every FULL figure with its date, machine, versions and seed.

FULL runs take minutes, so CI never makes them; their figures are recorded once
in ``results/full.json`` (committed) by the command that measures them:

* ``course run --full [NOTEBOOK ...]`` records each notebook's published figures;
* ``python benchmarks/NAME.py --full`` records the benchmark's figures
  (:func:`emit_benchmark` prints the last JSON line and records it).

Lessons that discuss FULL results read them from here with
:func:`full_figures` -- never from typed prose -- so a sentence about a FULL
figure is checked against the file by code (:mod:`course_lib.tooling.claims`).

File layout: one entry per source, keyed by its path relative to the
repository (``"notebooks/07_sound_and_keyword_classification.ipynb"``,
``"benchmarks/kws.py"``)::

    {"benchmarks/kws.py": {"figures": {...}, "seed": 0, "seconds": 131.2,
                           "date": "2026-11-29T15:00:00+00:00",
                           "machine": {...}, "versions": {...}}}
"""
from __future__ import annotations

import datetime as _dt
import json
import math
import os
import platform
from importlib import metadata
from pathlib import Path
from typing import Any, Mapping

from course_lib.tooling.runtime import _plain, repo_root

__all__ = ["results_path", "machine_info", "record_full", "full_entry", "full_figures", "emit_benchmark"]

_VERSIONS = ("torch", "torchaudio", "numpy", "scipy", "librosa")


def results_path(root: Path | None = None) -> Path:
    """``results/full.json`` of the checkout (or of ``root``)."""
    return Path(root if root is not None else repo_root()) / "results" / "full.json"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith(("model name", "hardware")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info() -> dict:
    """The machine a FULL figure was measured on (no host names or paths).

    Examples
    --------
    >>> sorted(machine_info())
    ['cores', 'cpu', 'os', 'python', 'threads']
    """
    threads = os.environ.get("OMP_NUM_THREADS")
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count() or 1,
        "threads": int(threads) if threads and threads.isdigit() else None,
        "os": platform.system() + " " + platform.machine(),
        "python": platform.python_version(),
    }


def _versions() -> dict:
    out = {}
    for name in _VERSIONS:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _key(source: str | Path, root: Path) -> str:
    p = Path(source)
    if p.is_absolute():
        try:
            p = p.resolve().relative_to(root.resolve())
        except ValueError as exc:
            raise ValueError(f"{source} is not inside the course checkout {root}") from exc
    key = p.as_posix()
    if not (key.startswith("notebooks/") or key.startswith("benchmarks/") or key.startswith("solutions/")):
        raise ValueError(f"results are keyed by notebooks/..., solutions/... or benchmarks/... paths, got {key!r}")
    return key


def _read(path: Path) -> dict:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON ({exc}); restore it with git") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{path} must hold a JSON object, got {type(data).__name__}")
    return data


def record_full(source: str | Path, figures: Mapping[str, Any], *, seed: int, seconds: float | None = None,
                root: Path | None = None) -> dict:
    """Record (replace) the FULL figures of one notebook or benchmark.

    Parameters
    ----------
    source : str or Path
        ``notebooks/NN_topic.ipynb`` or ``benchmarks/NAME.py`` (relative or absolute).
    figures : mapping
        Name -> number/str/bool, as published; non-finite numbers are rejected.
    seed : int
        The seed of the run.
    seconds : float, optional
        Wall-clock time of the run.
    root : Path, optional
        The checkout (default: this one).

    Returns
    -------
    dict
        The entry written.
    """
    root = Path(root) if root is not None else repo_root()
    if not isinstance(figures, Mapping) or not figures:
        raise ValueError(f"figures must be a non-empty mapping, got {figures!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    if seconds is not None and (not isinstance(seconds, (int, float)) or not math.isfinite(seconds) or seconds < 0):
        raise ValueError(f"seconds must be a finite number >= 0, got {seconds!r}")
    key = _key(source, root)
    entry = {
        "figures": {str(k): _plain(v) for k, v in figures.items()},
        "seed": seed,
        "seconds": None if seconds is None else round(float(seconds), 1),
        "date": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
        "machine": machine_info(),
        "versions": _versions(),
    }
    path = results_path(root)
    data = _read(path)
    data[key] = entry
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(dict(sorted(data.items())), indent=1, sort_keys=False) + "\n")
    tmp.replace(path)
    return entry


def full_entry(source: str | Path, *, root: Path | None = None) -> dict:
    """The whole recorded entry (figures, date, machine, versions, seed) of a source."""
    root = Path(root) if root is not None else repo_root()
    key = _key(source, root)
    data = _read(results_path(root))
    if key not in data:
        how = f"course run --full {key}" if key.endswith(".ipynb") else f"python {key} --full"
        raise KeyError(f"no FULL results recorded for {key} in {results_path(root)}; run `{how}`")
    return data[key]


def full_figures(source: str | Path, *, root: Path | None = None) -> dict:
    """The FULL figures recorded for a notebook or benchmark.

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> _ = record_full("benchmarks/demo.py", {"acc": 0.91}, seed=0, root=root)
    >>> full_figures("benchmarks/demo.py", root=root)
    {'acc': 0.91}
    """
    return dict(full_entry(source, root=root)["figures"])


def emit_benchmark(source: str | Path, figures: Mapping[str, Any], *, full: bool, seed: int,
                   seconds: float | None = None) -> None:
    """A benchmark's last step: record FULL figures, then print them as the last line (JSON)."""
    clean = {str(k): _plain(v) for k, v in figures.items()}
    if full:
        record_full(source, clean, seed=seed, seconds=seconds)
    print(json.dumps(clean))
