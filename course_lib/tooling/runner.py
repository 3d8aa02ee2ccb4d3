"""Execute course notebooks with papermill and summarise the run.

``course run`` calls :func:`run_notebooks`: each notebook is executed into
``build/`` (never over its source) with ``FAST`` and ``SEED`` injected, timed,
and its published figures collected into ``build/summary.json``.
``course bake`` calls :func:`bake_notebook`, which stores a FAST run's outputs
in a lecture notebook itself (what the stored-output check compares against).
"""
from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable

from course_lib.tooling.runtime import read_figures, repo_root

#: Kernel command-line flags: only errors from the kernel's own log (its warning that a local
#: TCP connection is unencrypted would otherwise interleave with the progress output).
KERNEL_QUIET = ("--IPKernelApp.log_level=ERROR",)

#: Environment every notebook kernel gets: one BLAS/OpenMP thread, so that a
#: run's numbers match the stored outputs (on another CPU within the check's tolerance).
DETERMINISTIC_ENV = {
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "PYTHONHASHSEED": "0",
    # MKL: the same code path and reduction order on every run on this CPU
    "MKL_CBWR": "AUTO,STRICT",
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
}


@dataclass
class NotebookResult:
    """One executed notebook, as written to ``build/summary.json``."""

    notebook: str
    status: str  # "ok" or "failed"
    seconds: float
    figures: dict = field(default_factory=dict)
    output: str = ""
    error: str = ""

    def to_record(self) -> dict:
        return asdict(self)


def kernel_env(fast: bool) -> dict:
    """The environment for a notebook kernel: venv first on PATH, FAST flag set."""
    env = dict(os.environ)
    env.update(DETERMINISTIC_ENV)
    env["COURSE_FAST"] = "1" if fast else "0"
    bindir = str(Path(sys.executable).parent)
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    return env


class _Env:
    """Temporarily replace ``os.environ`` (papermill's kernels inherit it)."""

    def __init__(self, env: dict):
        self.env = env

    def __enter__(self):
        self.saved = dict(os.environ)
        os.environ.clear()
        os.environ.update(self.env)

    def __exit__(self, *exc):
        os.environ.clear()
        os.environ.update(self.saved)


def _failing_cell(nb) -> str:
    """Describe the first cell whose output is an error (papermill marks it)."""
    added = {"injected-parameters", "papermill-error-cell-tag"}
    number = 0  # 1-based position in the source notebook (papermill's own cells skipped)
    for cell in nb.get("cells", []):
        if added & set(cell.get("metadata", {}).get("tags", [])):
            continue
        number += 1
        for out in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            if out.get("output_type") == "error":
                first = "".join(cell.get("source", "")).strip().splitlines()[:1]
                snippet = first[0][:60] if first else ""
                return f"cell {number} ({snippet!r}): {out.get('ename')}: {out.get('evalue')}"
    return ""


def output_path(notebook: Path, build_dir: Path) -> Path:
    """Where ``course run`` writes the executed copy of ``notebook``."""
    notebook = Path(notebook).resolve()
    root = repo_root()
    try:
        rel = notebook.relative_to(root)
    except ValueError:
        rel = Path("other") / notebook.name
    return Path(build_dir) / rel


def execute_notebook(
    notebook: Path,
    *,
    fast: bool = True,
    seed: int = 0,
    build_dir: Path | None = None,
    timeout: int = 1800,
    progress: bool = False,
    extra_env: dict | None = None,
) -> NotebookResult:
    """Execute one notebook with papermill into ``build_dir``.

    Parameters
    ----------
    notebook : Path
        The source notebook; it is never modified.
    fast, seed : bool, int
        Injected as ``FAST`` and ``SEED`` after the ``parameters`` cell.
    build_dir : Path, optional
        Output root (default ``<repo>/build``); the executed copy keeps the
        source's relative path under it.
    timeout : int
        Per-cell limit in seconds.
    extra_env : dict, optional
        Variables added to the kernel's environment (e.g.
        :func:`course_lib.tooling.outputcheck.reduced_dispatch_env`).
    """
    import nbformat
    import papermill as pm

    notebook = Path(notebook)
    if not notebook.is_file():
        raise ValueError(f"no such notebook: {notebook}")
    build_dir = Path(build_dir) if build_dir is not None else repo_root() / "build"
    out = output_path(notebook, build_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    status, error = "ok", ""
    env = kernel_env(fast)
    env.update(extra_env or {})
    with _Env(env):
        try:
            pm.execute_notebook(
                str(notebook),
                str(out),
                parameters={"FAST": bool(fast), "SEED": int(seed)},
                cwd=str(notebook.parent.resolve()),
                kernel_name="python3",
                progress_bar=progress,
                execution_timeout=timeout,
                log_output=False,
                extra_arguments=list(KERNEL_QUIET),
            )
        except Exception as exc:  # papermill raises after saving the partial output
            status = "failed"
            error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else ''}"
    seconds = time.perf_counter() - start
    figures: dict = {}
    if out.exists():
        nb = nbformat.read(out, as_version=4)
        figures = read_figures(nb)
        if status == "failed":
            error = _failing_cell(nb) or error
    return NotebookResult(
        notebook=str(_display_path(notebook)),
        status=status,
        seconds=round(seconds, 2),
        figures=figures,
        output=str(_display_path(out)),
        error=error,
    )


def _display_path(path: Path) -> Path:
    path = Path(path).resolve()
    try:
        return path.relative_to(repo_root())
    except ValueError:
        return path


def discover_notebooks(root: Path | None = None) -> list[Path]:
    """Every lecture notebook, then every solution notebook, in course order."""
    root = Path(root) if root is not None else repo_root()
    lectures = sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    solutions = sorted((root / "solutions").glob("[0-9][0-9]_*/*.ipynb"))
    return lectures + solutions


def run_notebooks(
    notebooks: Iterable[Path],
    *,
    fast: bool = True,
    seed: int = 0,
    build_dir: Path | None = None,
    timeout: int = 1800,
    echo=print,
) -> list[NotebookResult]:
    """Execute notebooks one by one with a progress bar; write ``summary.json``."""
    from tqdm.auto import tqdm

    notebooks = [Path(n) for n in notebooks]
    build_dir = Path(build_dir) if build_dir is not None else repo_root() / "build"
    results = []
    bar = tqdm(notebooks, desc="notebooks", unit="nb", file=sys.stderr)
    for nb in bar:
        bar.set_postfix_str(nb.name)
        res = execute_notebook(nb, fast=fast, seed=seed, build_dir=build_dir, timeout=timeout)
        results.append(res)
        mark = "ok" if res.status == "ok" else f"FAILED: {res.error}"
        bar.write(f"  {res.notebook}: {mark} ({res.seconds:.1f} s)")
        if not fast and res.status == "ok" and res.figures and _in_checkout(nb):
            from course_lib.tooling.results import record_full

            record_full(Path(nb).resolve(), res.figures, seed=seed, seconds=res.seconds)
    write_summary(results, build_dir / "summary.json", fast=fast, seed=seed)
    return results


def _in_checkout(nb: Path) -> bool:
    try:
        rel = Path(nb).resolve().relative_to(repo_root())
    except ValueError:
        return False
    return rel.parts[0] in ("notebooks", "solutions")


def write_summary(results: list[NotebookResult], path: Path, *, fast: bool, seed: int) -> None:
    """Write ``build/summary.json``: one record per notebook (stable interface)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "mode": "fast" if fast else "full",
        "seed": seed,
        "notebooks": [r.to_record() for r in results],
    }
    path.write_text(json.dumps(payload, indent=2) + "\n")


def summary_table(results: list[NotebookResult]) -> str:
    """A plain-text table: notebook, status, seconds, headline figures."""
    rows = [("notebook", "status", "seconds", "figures")]
    for r in results:
        figs = ", ".join(f"{k}={v}" for k, v in r.figures.items()) or "-"
        rows.append((r.notebook, r.status, f"{r.seconds:.1f}", figs))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = []
    for row in rows:
        lines.append("  ".join(row[i].ljust(widths[i]) for i in range(3)) + "  " + row[3])
    return "\n".join(lines)


def bake_notebook(notebook: Path, *, timeout: int = 600) -> float:
    """Execute a notebook in FAST mode and store the outputs in the file itself.

    This is the author's step before committing a lecture notebook, so that
    the stored-output check has outputs to compare. Authoring metadata (jupytext) is dropped.
    Returns the wall time in seconds.
    """
    import nbformat
    from nbclient import NotebookClient

    notebook = Path(notebook)
    nb = nbformat.read(notebook, as_version=4)
    clean_metadata(nb)
    start = time.perf_counter()
    with _Env(kernel_env(True)):
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            resources={"metadata": {"path": str(notebook.parent.resolve())}},
            extra_arguments=list(KERNEL_QUIET),
        )
        client.execute()
    nbformat.write(nb, notebook)
    return time.perf_counter() - start


def clean_metadata(nb) -> None:
    """Drop authoring-tool metadata; keep tags, nbgrader and nbval metadata."""
    nb.metadata.pop("jupytext", None)
    nb.metadata.pop("papermill", None)
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    for cell in nb.cells:
        for key in ("lines_to_next_cell", "lines_to_end_of_cell_marker", "papermill", "execution"):
            cell.metadata.pop(key, None)
