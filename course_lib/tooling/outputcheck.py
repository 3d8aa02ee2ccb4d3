"""The stored-output check: a fresh run of a lecture notebook must reproduce its stored outputs on any CPU.

nbval compares outputs character by character, which fails on a learner's
laptop as soon as a float is computed by another kernel (AVX-512 vs AVX2 vs
ARM NEON) and printed to the last digit. This checker compares what is stable
across machines:

* **text** (stdout, ``text/plain``, ``text/markdown``, ``text/html`` tables,
  ``text/latex``) token by token: the words and symbols exactly, every number
  within a tolerance ``|fresh - stored| <= atol + rtol * |stored|``;
* **published figures** (:data:`~course_lib.tooling.runtime.FIGURES_MIME`): the
  same names, each value within the tolerance;
* **pictures and players**: that a cell still shows the same number of images and
  audio players (their pixels and samples are not compared);
* **errors**: a fresh output that is an error always fails.

A cell sets its own tolerance with a comment line, visible to the reader::

    # CHECK: atol=0.02  (accuracy of a model retrained in this cell: kernels differ by a few clips)

and ``# NBVAL_IGNORE_OUTPUT`` (timings, progress bars) skips a cell's outputs;
nothing else is skipped. The default tolerance (``rtol=1e-3``, ``atol=1e-6``)
absorbs float noise in numbers printed at 3-4 significant digits and fails
when a library change moves a printed result.
"""
from __future__ import annotations

import json
import math
import platform
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from course_lib.tooling.runtime import FIGURES_MIME

__all__ = [
    "DEFAULT_RTOL",
    "DEFAULT_ATOL",
    "Mismatch",
    "cell_tolerance",
    "compare_text",
    "compare_notebooks",
    "check_notebook_outputs",
    "reduced_dispatch_env",
]

DEFAULT_RTOL = 1e-3
DEFAULT_ATOL = 1e-6

_IGNORE = "# NBVAL_IGNORE_OUTPUT"
_SKIP = "# NBVAL_SKIP"
_CHECK_RE = re.compile(r"^\s*#\s*CHECK:\s*(.*)$", re.M)
_NUMBER_RE = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|[-+]?\b(?:nan|inf)\b", re.I)
#: (pattern, replacement) applied to text before comparing (machine-specific details).
SANITIZE = (
    (re.compile(r"0x[0-9a-fA-F]{6,16}"), "0xADDRESS"),
    (re.compile(r"<Figure size \d+x\d+ with \d+ Axes>"), "<Figure>"),
)
#: MIME types whose content is not compared (only that the output exists).
_OPAQUE = ("image/png", "image/jpeg", "image/svg+xml", "application/pdf")
#: MIME types dropped altogether (interactive widgets: progress bars).
_DROPPED = ("application/vnd.jupyter.widget-view+json",)
_TEXT = ("text/plain", "text/markdown", "text/latex", "text/html")


@dataclass(frozen=True)
class Mismatch:
    """One difference between a stored and a fresh output."""

    cell: int  # 1-based index among the notebook's code cells
    where: str  # which output: "stdout", "text/plain", "figures", ...
    message: str

    def __str__(self) -> str:
        return f"code cell {self.cell} [{self.where}]: {self.message}"


def cell_tolerance(source: str) -> tuple[float, float]:
    """``(rtol, atol)`` of a cell: the defaults, or its ``# CHECK: rtol=..., atol=...`` line.

    Examples
    --------
    >>> cell_tolerance("x = 1")
    (0.001, 1e-06)
    >>> cell_tolerance("# CHECK: atol=0.02 (a retrained model)\\nprint(acc)")
    (0.001, 0.02)
    """
    if not isinstance(source, str):
        raise TypeError(f"source must be a str, got {type(source).__name__}")
    rtol, atol = DEFAULT_RTOL, DEFAULT_ATOL
    m = _CHECK_RE.search(source)
    if m:
        for key, value in re.findall(r"\b(rtol|atol)\s*=\s*([0-9.eE+-]+)", m.group(1)):
            try:
                v = float(value)
            except ValueError as exc:
                raise ValueError(f"bad CHECK tolerance {key}={value!r}") from exc
            if not math.isfinite(v) or v < 0:
                raise ValueError(f"CHECK tolerance {key} must be a finite number >= 0, got {value}")
            if key == "rtol":
                rtol = v
            else:
                atol = v
        if not re.search(r"\b(rtol|atol)\s*=", m.group(1)):
            raise ValueError(f"a '# CHECK:' line must set rtol= and/or atol=, got {m.group(0).strip()!r}")
    return rtol, atol


def _sanitize(text: str) -> str:
    for pattern, repl in SANITIZE:
        text = pattern.sub(repl, text)
    return text


def _split(text: str) -> tuple[list[str], list[str]]:
    """Words between numbers, and the numbers (as written)."""
    words, numbers, last = [], [], 0
    for m in _NUMBER_RE.finditer(text):
        words.append(text[last:m.start()])
        numbers.append(m.group(0))
        last = m.end()
    words.append(text[last:])
    return words, numbers


def _close(a: float, b: float, rtol: float, atol: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= atol + rtol * abs(b)


def compare_text(stored: str, fresh: str, *, rtol: float = DEFAULT_RTOL, atol: float = DEFAULT_ATOL) -> str | None:
    """``None`` when two texts agree (words exactly, numbers within tolerance), else why not.

    Examples
    --------
    >>> compare_text("acc 0.9170 on 60 clips", "acc 0.9171 on 60 clips") is None
    True
    >>> compare_text("acc 0.917", "acc 0.951")
    'number 1: stored 0.917, fresh 0.951 (tolerance 0.000918)'
    >>> compare_text("clean 0.9", "noisy 0.9")
    "text differs: stored 'clean ' vs fresh 'noisy '"
    """
    if not isinstance(stored, str) or not isinstance(fresh, str):
        raise TypeError(f"compare_text compares two strings: stored and fresh must be str, "
                        f"got {type(stored).__name__} and {type(fresh).__name__}")  # fmt: skip
    for name, tol in (("rtol", rtol), ("atol", atol)):
        if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not tol >= 0:
            raise TypeError(f"{name} must be a number >= 0, got {tol!r}")
    stored, fresh = _sanitize(stored), _sanitize(fresh)
    if stored == fresh:
        return None
    w1, n1 = _split(stored)
    w2, n2 = _split(fresh)
    # whitespace runs may differ where a number got wider (aligned tables): compare words modulo spacing
    norm = [re.sub(r"[ \t]+", " ", w) for w in w1], [re.sub(r"[ \t]+", " ", w) for w in w2]
    if len(n1) != len(n2):
        return f"text differs: stored has {len(n1)} numbers, fresh has {len(n2)}"
    if norm[0] != norm[1]:
        for a, b in zip(norm[0], norm[1]):
            if a != b:
                return f"text differs: stored {a[:60]!r} vs fresh {b[:60]!r}"
    for i, (a, b) in enumerate(zip(n1, n2), 1):
        fa, fb = float(a), float(b)
        if not _close(fb, fa, rtol, atol):
            return f"number {i}: stored {a}, fresh {b} (tolerance {atol + rtol * abs(fa):.3g})"
    return None


def _join(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _canonical(outputs: Iterable[dict]) -> list[tuple[str, Any]]:
    """A cell's outputs as (kind, content): stdout runs merged, widgets dropped, pictures counted."""
    out: list[tuple[str, Any]] = []
    buffer: list[str] = []

    def flush():
        if buffer:
            out.append(("stdout", "".join(buffer)))
            buffer.clear()

    for o in outputs:
        kind = o.get("output_type")
        if kind == "stream":
            if o.get("name") == "stdout":
                buffer.append(_join(o.get("text", "")))
            continue  # stderr (warnings, progress) is not a result
        flush()
        if kind == "error":
            out.append(("error", f"{o.get('ename')}: {o.get('evalue')}"))
            continue
        data = {k: v for k, v in o.get("data", {}).items() if k not in _DROPPED}
        if not data:
            continue
        if FIGURES_MIME in data:
            payload = data[FIGURES_MIME]
            out.append(("figures", json.loads(payload) if isinstance(payload, str) else dict(payload)))
            continue
        opaque = [k for k in _OPAQUE if k in data]
        if opaque:
            out.append(("picture", opaque[0]))
            continue
        html = _join(data.get("text/html", ""))
        if "<audio" in html:
            out.append(("audio", html.count("<audio")))
            continue
        for mime in _TEXT:
            if mime in data:
                out.append((mime, _join(data[mime])))
                break
        else:
            out.append((sorted(data)[0], None))
    flush()
    return out


def _compare_figures(stored: dict, fresh: dict, rtol: float, atol: float) -> str | None:
    if set(stored) != set(fresh):
        return f"figure names differ: stored only {sorted(set(stored) - set(fresh))}, fresh only {sorted(set(fresh) - set(stored))}"
    for k in stored:
        a, b = stored[k], fresh[k]
        if isinstance(a, (int, float)) and not isinstance(a, bool) and isinstance(b, (int, float)) \
                and not isinstance(b, bool):
            if not _close(float(b), float(a), rtol, atol):
                return f"{k}: stored {a}, fresh {b} (tolerance {atol + rtol * abs(a):.3g})"
        elif a != b:
            return f"{k}: stored {a!r}, fresh {b!r}"
    return None


def _code_cells(nb) -> list:
    return [c for c in nb.get("cells", []) if c.get("cell_type") == "code"
            and "injected-parameters" not in c.get("metadata", {}).get("tags", [])]


def compare_notebooks(stored, fresh) -> list[Mismatch]:
    """Compare a fresh run of a notebook with its stored outputs; return every mismatch.

    Parameters
    ----------
    stored, fresh : nbformat.NotebookNode or dict
        The committed notebook and an executed copy of it (papermill's injected
        parameters cell is skipped).
    """
    for name, nb in (("stored", stored), ("fresh", fresh)):
        if not isinstance(nb, Mapping):
            raise TypeError(f"{name} must be a notebook (nbformat.NotebookNode or dict), got {type(nb).__name__}")
    a, b = _code_cells(stored), _code_cells(fresh)
    if len(a) != len(b):
        return [Mismatch(0, "cells", f"stored has {len(a)} code cells, fresh has {len(b)}")]
    problems: list[Mismatch] = []
    for i, (ca, cb) in enumerate(zip(a, b), 1):
        src = _join(ca.get("source", ""))
        if src.lstrip().startswith((_IGNORE, _SKIP)):
            errors = [o for o in cb.get("outputs", []) if o.get("output_type") == "error"]
            if errors:
                problems.append(Mismatch(i, "error", f"{errors[0].get('ename')}: {errors[0].get('evalue')}"))
            continue
        rtol, atol = cell_tolerance(src)
        oa, ob = _canonical(ca.get("outputs", [])), _canonical(cb.get("outputs", []))
        for kind, content in ob:
            if kind == "error":
                problems.append(Mismatch(i, "error", content))
        if any(k == "error" for k, _ in ob):
            continue
        if [k for k, _ in oa] != [k for k, _ in ob]:
            problems.append(Mismatch(i, "outputs", f"stored {[k for k, _ in oa]}, fresh {[k for k, _ in ob]}"))
            continue
        for (kind, x), (_, y) in zip(oa, ob):
            if kind == "figures":
                why = _compare_figures(x, y, rtol, atol)
            elif kind in ("stdout",) + _TEXT:
                why = compare_text(x, y, rtol=rtol, atol=atol)
            else:  # pictures, players: presence only
                why = None if x == y else f"stored {x}, fresh {y}"
            if why:
                problems.append(Mismatch(i, kind, why))
    return problems


def check_notebook_outputs(stored_path: Path, fresh_path: Path) -> list[Mismatch]:
    """:func:`compare_notebooks` on two notebook files."""
    import nbformat

    return compare_notebooks(nbformat.read(Path(stored_path), as_version=4),
                             nbformat.read(Path(fresh_path), as_version=4))


def reduced_dispatch_env() -> dict[str, str]:
    """Environment variables that force torch, MKL, oneDNN and NumPy down to baseline CPU kernels.

    A run under them computes with other instructions and reduction orders than
    a default run on a modern CPU, as a learner's older or different laptop
    would: the stored outputs must still pass the check.

    Examples
    --------
    >>> reduced_dispatch_env()["ATEN_CPU_CAPABILITY"]
    'default'
    """
    env = {
        "ATEN_CPU_CAPABILITY": "default",  # torch's own vectorised kernels: no AVX2/AVX-512
        "MKL_ENABLE_INSTRUCTIONS": "SSE4_2",  # BLAS/LAPACK/FFT in MKL
        "MKL_CBWR": "SSE4_2,STRICT",
        "DNNL_MAX_CPU_ISA": "SSE41",  # oneDNN (convolutions, some matmuls)
        "ONEDNN_MAX_CPU_ISA": "SSE41",
    }
    if platform.machine().lower() in ("x86_64", "amd64"):
        env["NPY_DISABLE_CPU_FEATURES"] = "X86_V3 X86_V4"  # NumPy's AVX2/AVX-512 dispatch
    return env
