"""The environment report of ``course env`` and module 00."""
from __future__ import annotations

import os
import platform
import sys
from importlib import metadata

from course_lib.tooling.runtime import data_cache_dir, fast_default

#: Packages whose versions the report lists, in this order.
PACKAGES = ["torch", "torchaudio", "numpy", "scipy", "librosa", "soundfile", "espeakng-loader",
            "matplotlib", "jupyterlab", "nbgrader", "papermill", "nbval"]


def environment_report() -> dict:
    """Versions, threads and data cache location, as a flat dict.

    Examples
    --------
    >>> report = environment_report()
    >>> report["python"] == platform.python_version()
    True
    """
    import torch

    report = {
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "executable": sys.executable,
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
    report["data_cache"] = str(cache)
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
    def minor(v: str) -> tuple:
        return tuple(v.split("+")[0].split(".")[:2])

    return minor(report["torch"]) == minor(report["torchaudio"])


def format_report(report: dict) -> str:
    """Aligned ``key  value`` lines."""
    width = max(len(k) for k in report)
    lines = [f"{k:<{width}}  {v}" for k, v in report.items()]
    if "torch" in report and "torchaudio" in report and not torch_pair_ok(report):
        lines.append("WARNING: torch and torchaudio minor versions differ; reinstall the pinned pair")
    return "\n".join(lines)
