"""How a notebook learns its run mode and reports its headline figures.

Every lecture and solution notebook starts with a ``parameters`` cell::

    FAST = fast_default()   # True unless the environment says COURSE_FAST=0
    SEED = 0

papermill (``course run``) overrides ``FAST`` and ``SEED`` by injecting a cell
after it; JupyterLab cannot inject, so they read ``COURSE_FAST``
from the environment through :func:`fast_default`.

The last cell publishes the numbers the notebook measured with
:func:`publish_figures`; ``course run`` reads them back from the executed
notebook and writes them to ``build/summary.json``.
"""
from __future__ import annotations

import json
import math
import os
import random
from pathlib import Path
from typing import Any, Mapping

#: MIME type under which :func:`publish_figures` stores the figures in a notebook.
FIGURES_MIME = "application/vnd.course.figures+json"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def fast_default(env: Mapping[str, str] | None = None) -> bool:
    """Return the FAST flag from ``COURSE_FAST`` (default ``True``).

    Parameters
    ----------
    env : mapping, optional
        Where to read the variable; ``os.environ`` by default.

    Examples
    --------
    >>> fast_default({})
    True
    >>> fast_default({"COURSE_FAST": "0"})
    False
    """
    env = os.environ if env is None else env
    raw = env.get("COURSE_FAST", "1").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ValueError(f"COURSE_FAST must be one of 1/0/true/false, got {raw!r}")


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's global generators.

    Library functions never rely on this (each takes its own ``seed``); it is
    for notebook code that calls torch layers whose initialisation uses the
    global generator.

    Examples
    --------
    >>> import torch
    >>> seed_everything(3); a = torch.rand(2)
    >>> seed_everything(3); b = torch.rand(2)
    >>> bool((a == b).all())
    True
    """
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _plain(value: Any) -> Any:
    """Turn numpy/torch scalars into JSON numbers; reject non-finite floats."""
    if hasattr(value, "item") and callable(value.item):
        value = value.item()
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"figure values must be finite, got {value!r}")
        return float(f"{value:.6g}")
    raise TypeError(
        f"figure values must be numbers, strings or booleans, got {type(value).__name__}"
    )


def figures_table(figures: Mapping[str, Any]) -> str:
    """Format figures as an aligned two-column text table.

    Examples
    --------
    >>> print(figures_table({"acc_clean": 0.97, "train_s": 12.5}))
    figure     value
    acc_clean  0.97
    train_s    12.5
    """
    if not isinstance(figures, Mapping):
        raise TypeError(f"figures must be a dict of name -> value, got {type(figures).__name__}")
    width = max([len("figure")] + [len(k) for k in figures])
    lines = [f"{'figure':<{width}}  value"]
    lines += [f"{k:<{width}}  {v}" for k, v in figures.items()]
    return "\n".join(lines)


def publish_figures(figures: Mapping[str, Any], *, display: bool = True) -> dict | None:
    """Publish a notebook's headline figures (call it in the last cell).

    The figures are shown as a table and stored in the cell output under
    :data:`FIGURES_MIME`, where ``course run`` finds them. Names carry their
    unit (``acc_clean``, ``train_s``, ``cer_10db``).

    Parameters
    ----------
    figures : mapping of str to number, str or bool
        The measured values. Non-finite numbers are rejected.
    display : bool
        Show them with IPython's display (default). ``False`` only returns them.

    Returns
    -------
    dict or None
        With ``display=False``, the cleaned figures (floats rounded to 6
        significant digits). With ``display=True`` nothing, so that the
        notebook shows the table once and not a second copy as a dict.

    Examples
    --------
    >>> publish_figures({"acc": 0.5}, display=False)
    {'acc': 0.5}
    """
    if not isinstance(figures, Mapping) or not figures:
        raise ValueError(f"publish_figures expects figures to be a non-empty dict of name -> value, "
                         f"got {type(figures).__name__}")  # fmt: skip
    clean = {}
    for key, value in figures.items():
        if not isinstance(key, str) or not key:
            raise TypeError(f"figure names must be non-empty strings, got {key!r}")
        clean[key] = _plain(value)
    if display:
        from IPython.display import display as ipy_display

        ipy_display({FIGURES_MIME: clean, "text/plain": figures_table(clean)}, raw=True)
        return None
    return clean


def read_figures(nb: Any) -> dict:
    """Collect the figures a notebook published (from its stored outputs).

    Parameters
    ----------
    nb : nbformat.NotebookNode or dict
        An executed notebook.
    """
    if not isinstance(nb, Mapping):
        raise TypeError(f"nb must be a notebook (nbformat.NotebookNode or dict), got {type(nb).__name__}")
    found: dict = {}
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            data = out.get("data", {})
            if FIGURES_MIME in data:
                payload = data[FIGURES_MIME]
                if isinstance(payload, str):
                    payload = json.loads(payload)
                found.update(payload)
    return found


def repo_root() -> Path:
    """The course checkout that holds ``notebooks/`` (the package's parent)."""
    return Path(__file__).resolve().parents[2]


def data_cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where the course's generated data lives.

    ``COURSE_DATA_DIR`` when set, else ``~/.cache/ml-speech-course``. The
    folder is not created here.

    Examples
    --------
    >>> str(data_cache_dir({"COURSE_DATA_DIR": "/tmp/x"}))
    '/tmp/x'
    """
    env = os.environ if env is None else env
    raw = env.get("COURSE_DATA_DIR")
    if raw:
        return Path(raw).expanduser()
    return Path.home() / ".cache" / "ml-speech-course"


def _share_cache_folder(path: str | os.PathLike) -> None:
    """Make a generated cache folder readable by every user (``rwxr-xr-x``).

    ``tempfile.mkdtemp`` creates folders only their owner may read; the
    grader's sandboxed kernels run as another user and must read the data
    (never write it). Folders the current user does not own are left alone.
    """
    try:
        if os.stat(path).st_mode & 0o055 != 0o055:
            os.chmod(path, 0o755)
    except OSError:
        pass
