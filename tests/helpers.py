"""Shared test helpers: the checkout's paths and notebook surgery."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent


def assignment_names() -> list[str]:
    return sorted(p.name for p in (ROOT / "solutions").glob("[0-9][0-9]_*") if p.is_dir())


def lecture_notebooks() -> list[Path]:
    return sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def load_mutants(assignment: str) -> list[dict]:
    path = ROOT / "tests" / "mutants" / f"{assignment}.py"
    if not path.is_file():
        return []
    spec = importlib.util.spec_from_file_location(f"mutants_{assignment}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.MUTANTS)


def grade_id(cell) -> str | None:
    return (cell.get("metadata", {}).get("nbgrader") or {}).get("grade_id")


def replace_cell(nb, gid: str, source: str):
    """Return a copy of ``nb`` whose cell ``gid`` has a new source."""
    import copy

    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if grade_id(cell) == gid:
            cell.source = source
            return nb
    raise KeyError(f"no cell with grade_id {gid!r}")


def strip_solution_markers(source: str) -> str:
    """The solution code of an nbgrader answer cell, markers removed."""
    return "\n".join(
        line for line in source.splitlines()
        if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")
    )


def solved_release(assignment: str):
    """The release notebook with every answer cell filled from the solution."""
    name = f"{assignment}.ipynb"
    release = nbformat.read(ROOT / "exercises" / assignment / name, as_version=4)
    source = nbformat.read(ROOT / "solutions" / assignment / name, as_version=4)
    answers = {grade_id(c): c.source for c in source.cells
               if grade_id(c) and (c.metadata.get("nbgrader") or {}).get("solution")}
    for cell in release.cells:
        gid = grade_id(cell)
        if gid in answers:
            cell.source = strip_solution_markers(answers[gid])
    return release

