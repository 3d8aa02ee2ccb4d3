"""The nbgrader round trip of every assignment.

* the committed release (`exercises/`) equals a fresh `course release`;
* the structure follows AUTHORING.md (parts, points, hidden tests, asserts);
* the solutions score full marks and the unmodified release scores zero;
* every wrong answer in `tests/mutants/<assignment>.py` loses the points of
  the test cells it names (so hidden tests catch more than the blank stub).
"""
from __future__ import annotations

import ast
import shutil

import nbformat
import pytest
from nbclient import NotebookClient

from helpers import ROOT, assignment_names, grade_id, load_mutants
from course_lib.tooling.grading import grade_submissions, release
from course_lib.tooling.runner import _Env, kernel_env

ASSIGNMENTS = assignment_names()


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader") or {}


def _source(assignment: str):
    return nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)


def test_there_are_assignments():
    assert "00_welcome" in ASSIGNMENTS


def test_release_in_sync(tmp_path):
    """`exercises/` must be exactly what `course release` generates now."""
    out = release(root=ROOT, out_root=tmp_path)
    fresh = {p.relative_to(out): p for p in out.rglob("*") if p.is_file()}
    committed = {p.relative_to(ROOT / "exercises"): p for p in (ROOT / "exercises").rglob("*")
                 if p.is_file() and ".ipynb_checkpoints" not in p.parts}
    assert sorted(fresh) == sorted(committed), "exercises/ has extra or missing files; run `course release`"
    for rel, path in fresh.items():
        assert path.read_bytes() == committed[rel].read_bytes(), (
            f"exercises/{rel} differs from a fresh release; run `course release` (never edit exercises/ by hand)"
        )


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_structure(assignment):
    nb = _source(assignment)
    cells = nb.cells
    assert any("parameters" in c.metadata.get("tags", []) for c in cells), "no parameters cell"
    tests = [c for c in cells if _meta(c).get("grade") and not _meta(c).get("solution") and c.cell_type == "code"]
    answers = [c for c in cells if _meta(c).get("solution") and c.cell_type == "code"]
    minimum = 2 if assignment.startswith("00_") else 3
    assert len(tests) >= minimum, f"{assignment}: {len(tests)} autograded parts, need {minimum}"
    assert len(answers) >= minimum
    ids = [grade_id(c) for c in cells if grade_id(c)]
    assert len(ids) == len(set(ids)), "duplicate grade_id"
    for cell in tests:
        src = cell.source
        assert "### BEGIN HIDDEN TESTS" in src and "### END HIDDEN TESTS" in src, grade_id(cell)
        assert _meta(cell).get("points", 0) > 0, grade_id(cell)
        tree = ast.parse(src)
        assert isinstance(tree.body[-1], (ast.Assert, ast.For, ast.If, ast.With, ast.Try)), (
            f"{grade_id(cell)} must end with an assert statement, not a value (read as partial credit)"
        )
        assert not isinstance(tree.body[-1], ast.Expr)
    for cell in answers:
        assert "### BEGIN SOLUTION" in cell.source, grade_id(cell)
    # no private files next to the notebook: nbgrader would publish them
    extra = [p.name for p in (ROOT / "solutions" / assignment).iterdir()
             if p.suffix != ".ipynb" and p.name not in (".ipynb_checkpoints", "__pycache__")]
    assert extra == [], f"files in solutions/{assignment} are copied into the release: {extra}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_mutants_are_declared(assignment):
    mutants = load_mutants(assignment)
    assert len(mutants) >= 3, f"tests/mutants/{assignment}.py needs at least 3 wrong answers"
    ids = {grade_id(c) for c in _source(assignment).cells}
    for m in mutants:
        assert m["cell"] in ids, f"mutant {m['name']!r}: no cell {m['cell']!r}"
        assert m["must_fail"] and set(m["must_fail"]) <= ids, m["name"]


@pytest.mark.grading
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_roundtrip_solution_full_release_zero(assignment, tmp_path):
    subs = tmp_path / "submissions"
    shutil.copytree(ROOT / "solutions" / assignment, subs / "solution" / assignment)
    shutil.copytree(ROOT / "exercises" / assignment, subs / "release" / assignment)
    rows = {r.student: r for r in grade_submissions(subs, tmp_path / "grades.csv", root=ROOT, echo=lambda *a: None)}
    sol, rel = rows["solution"], rows["release"]
    assert sol.max_score > 0
    assert (sol.status, sol.score) == ("graded", sol.max_score), sol.detail
    assert rel.status == "graded", rel.detail
    assert rel.score == 0.0, f"the unmodified release scored {rel.score}: a test passes without an answer"


def _has_error(cell) -> bool:
    return any(o.get("output_type") == "error" for o in cell.get("outputs", []))


@pytest.mark.grading
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_hidden_tests_catch_wrong_answers(assignment, tmp_path):
    """Run the solution once, then swap each wrong answer in and re-run its tests.

    One kernel per assignment: the notebook runs top to bottom, then for each
    mutant the answer cell is re-executed with the wrong code, the named test
    cells are re-executed and must error, and the right answer is restored.
    """
    import copy

    source = _source(assignment)
    work = tmp_path / assignment
    shutil.copytree(ROOT / "solutions" / assignment, work)
    index = {grade_id(c): i for i, c in enumerate(source.cells) if grade_id(c)}
    nb = copy.deepcopy(source)
    survivors = []
    with _Env(kernel_env(True)):
        client = NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                                resources={"metadata": {"path": str(work)}})
        with client.setup_kernel():
            for i, cell in enumerate(nb.cells):
                if cell.cell_type == "code":
                    client.execute_cell(cell, i)
            broken = [grade_id(c) for c in nb.cells if c.cell_type == "code" and _has_error(c)]
            assert not broken, f"the solution itself fails: {broken}"
            for mutant in load_mutants(assignment):
                at = index[mutant["cell"]]
                wrong = copy.deepcopy(source.cells[at])
                wrong.source = mutant["source"]
                client.execute_cell(wrong, at)
                missed = []
                for gid in mutant["must_fail"]:
                    test = copy.deepcopy(source.cells[index[gid]])
                    client.execute_cell(test, index[gid])
                    if not _has_error(test):
                        missed.append(gid)
                if missed:
                    survivors.append(f"{mutant['name']!r} passes {missed}")
                client.execute_cell(copy.deepcopy(source.cells[at]), at)  # restore the right answer
    assert not survivors, "wrong answers the tests do not catch: " + "; ".join(survivors)
