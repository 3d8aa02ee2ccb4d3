"""The environment report of ``course env`` and module 00.

Two forms of the same report:

* ``environment_report()`` (``course env``): every value as this machine sees
  it, absolute paths included, for debugging your own setup;
* ``environment_report(portable=True)`` (module 00, and what you paste into a
  help request or a hand-in): paths are shown relative to the course checkout
  (``.venv/bin/python3``) or to your home folder (``~/.cache/ml-speech-course``),
  and any other path is replaced by ``<outside home and checkout>``, so the
  report shows no user name, mount point or machine layout.
"""
from __future__ import annotations

import os
import platform
import sys
from importlib import metadata
from pathlib import Path

from course_lib.tooling.runtime import data_cache_dir, fast_default, repo_root

__all__ = ["PACKAGES", "PATH_KEYS", "portable_path", "environment_report", "torch_pair_ok", "format_report"]

#: Packages whose versions the report lists, in this order.
PACKAGES = ["torch", "torchaudio", "numpy", "scipy", "librosa", "soundfile", "espeakng-loader",
            "matplotlib", "jupyterlab", "nbgrader", "papermill", "nbval"]

#: Report keys whose values are file-system paths.
PATH_KEYS = ("executable", "data_cache")

#: What a path outside the checkout and the home folder is replaced with in a portable report.
REDACTED = "<outside home and checkout>"


def portable_path(path: str | os.PathLike, *, root: str | os.PathLike | None = None,
                  home: str | os.PathLike | None = None) -> str:
    """A path as it can be shown on any machine: relative to the checkout, else to ``~``, else redacted.

    Parameters
    ----------
    path : str or os.PathLike
        An absolute path (a relative one is returned unchanged, in POSIX form).
    root : path, optional
        The course checkout (default: this one, :func:`course_lib.tooling.runtime.repo_root`).
    home : path, optional
        The home folder (default: ``Path.home()``).

    Returns
    -------
    str
        ``"<rel>"`` inside the checkout (``.venv/bin/python3``), ``"~/<rel>"``
        inside the home folder, else :data:`REDACTED`.

    Examples
    --------
    >>> portable_path("/home/ada/course/.venv/bin/python3", root="/home/ada/course", home="/home/ada")
    '.venv/bin/python3'
    >>> portable_path("/home/ada/.cache/ml-speech-course", root="/home/ada/course", home="/home/ada")
    '~/.cache/ml-speech-course'
    >>> portable_path("/opt/conda/bin/python", root="/home/ada/course", home="/home/ada")
    '<outside home and checkout>'
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    p = Path(path)
    if not p.is_absolute():
        return p.as_posix()
    root = Path(root) if root is not None else repo_root()
    home = Path(home) if home is not None else Path.home()
    # the checkout first: it usually sits inside the home folder
    for base, prefix in ((root, ""), (home, "~/")):
        try:
            rel = p.relative_to(base)
        except ValueError:
            continue
        text = rel.as_posix()
        return (prefix + text) if text != "." else (prefix.rstrip("/") or ".")
    return REDACTED


def environment_report(*, portable: bool = False) -> dict:
    """Versions, threads and data cache location, as a flat dict.

    Parameters
    ----------
    portable : bool
        Show paths as :func:`portable_path` does (relative to the checkout or
        to ``~``, otherwise redacted): the form to store in a notebook or to
        send to someone. Default ``False``: absolute paths, for ``course env``.

    Returns
    -------
    dict
        ``python``, ``platform``, ``executable``, one entry per package of
        :data:`PACKAGES`, ``cpu_count``, ``torch_threads``, ``cuda_available``,
        ``fast_mode``, ``data_cache``, ``data_cache_exists``.

    Examples
    --------
    >>> report = environment_report(portable=True)
    >>> report["python"] == platform.python_version()
    True
    >>> any(str(v).startswith("/") for k, v in report.items() if k in PATH_KEYS)
    False
    """
    if not isinstance(portable, bool):
        raise TypeError(f"portable must be a bool, got {type(portable).__name__}")
    import torch

    show = portable_path if portable else str
    report = {
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "executable": show(sys.executable),
    }
    for name in PACKAGES:
        try:
            report[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            report[name] = "not installed"
    report["cpu_count"] = os.cpu_count() or 1
    report["torch_threads"] = torch.get_num_threads()
    report["cuda_available"] = bool(torch.cuda.is_available())
    report["fast_mode"] = fast_default()
    cache = data_cache_dir()
    report["data_cache"] = show(cache)
    report["data_cache_exists"] = cache.is_dir()
    return report


def torch_pair_ok(report: dict) -> bool:
    """True when torch and torchaudio share a minor version (they must).

    Examples
    --------
    >>> torch_pair_ok({"torch": "2.11.0", "torchaudio": "2.11.0"})
    True
    >>> torch_pair_ok({"torch": "2.13.0", "torchaudio": "2.11.0"})
    False
    """
    if not isinstance(report, dict) or not isinstance(report.get("torch"), str) \
            or not isinstance(report.get("torchaudio"), str):
        raise TypeError("report must be a dict with 'torch' and 'torchaudio' version strings "
                        f"(environment_report()), got {type(report).__name__}")  # fmt: skip

    def minor(v: str) -> tuple:
        return tuple(v.split("+")[0].split(".")[:2])

    return minor(report["torch"]) == minor(report["torchaudio"])


def format_report(report: dict) -> str:
    """Aligned ``key  value`` lines.

    Examples
    --------
    >>> print(format_report({"python": "3.11.7", "fast_mode": True}))
    python     3.11.7
    fast_mode  True
    """
    if not isinstance(report, dict) or not report:
        raise ValueError(f"format_report expects report to be a non-empty dict (environment_report()), "
                         f"got {type(report).__name__}")  # fmt: skip
    width = max(len(k) for k in report)
    lines = [f"{k:<{width}}  {v}" for k, v in report.items()]
    if "torch" in report and "torchaudio" in report and not torch_pair_ok(report):
        lines.append("WARNING: torch and torchaudio minor versions differ; reinstall the pinned pair")
    return "\n".join(lines)
