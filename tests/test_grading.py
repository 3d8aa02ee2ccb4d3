"""`course grade` and `course check` on awkward submissions.

A folder of submissions of 00_welcome: a correct one, the unmodified release,
one that raises, one that loops forever, one that kills its kernel, one that
edits a test cell, and one with no notebook. Each gets the right score and
status, the others are unaffected, and every submission file stays
byte-identical.
"""
from __future__ import annotations

import csv
import hashlib
import subprocess
import sys

import nbformat
import pytest

from helpers import ROOT, grade_id, solved_release
from course_lib.tooling.grading import CSV_COLUMNS, grade_submissions

A = "00_welcome"
NB = f"{A}.ipynb"


def _write(folder, nb):
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / NB)


def _with(nb, gid, source):
    for cell in nb.cells:
        if grade_id(cell) == gid:
            cell.source = source
            return nb
    raise KeyError(gid)


def _digest(folder):
    return {p.relative_to(folder): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    subs = tmp_path_factory.mktemp("submissions")
    _write(subs / "correct" / A, solved_release(A))
    _write(subs / "blank" / A, nbformat.read(ROOT / "exercises" / A / NB, as_version=4))
    _write(subs / "raises" / A, _with(solved_release(A), "seconds_to_samples",
                                      "raise RuntimeError('my code is broken')"))
    _write(subs / "loops" / A, _with(solved_release(A), "same_minor",
                                     "while True:\n    pass"))
    _write(subs / "killer" / A, _with(solved_release(A), "seconds_to_samples",
                                      "import os\nos._exit(1)"))
    wrong_and_tampered = _with(solved_release(A), "peak_dbfs",
                               "import math\ndef peak_dbfs(w):\n    return 10 * math.log10(float(w.abs().max()))")
    wrong_and_tampered = _with(wrong_and_tampered, "test_peak_dbfs", "assert True")
    _write(subs / "tamperer" / A, wrong_and_tampered)
    (subs / "empty" / A).mkdir(parents=True)
    (subs / "empty" / A / "notes.txt").write_text("forgot the notebook")
    before = _digest(subs)
    out = tmp_path_factory.mktemp("out") / "grades.csv"
    rows = grade_submissions(subs, out, cell_timeout=20, total_timeout=240, root=ROOT, echo=lambda *a: None)
    return {r.student: r for r in rows}, out, before, _digest(subs)


@pytest.mark.grading
def test_each_submission_gets_its_own_result(graded):
    rows, _, _, _ = graded
    got = {s: (r.status, r.score) for s, r in rows.items()}
    assert got["correct"] == ("graded", 6.0)
    assert got["blank"] == ("graded", 0.0)
    assert got["raises"] == ("graded", 4.0)            # part 1 lost, parts 2-3 fine
    assert got["loops"] == ("timeout", 4.0)            # the loop is interrupted, the rest graded
    assert got["killer"][0] == "crashed" and got["killer"][1] == 0.0
    assert got["tamperer"] == ("flagged", 4.0)         # test restored: the wrong answer loses part 3
    assert got["empty"] == ("missing", 0.0)
    assert all(r.max_score == 6.0 for r in rows.values())
    assert all(r.manual_max == 2.0 for r in rows.values())


@pytest.mark.grading
def test_details_say_why(graded):
    rows, _, _, _ = graded
    assert "RuntimeError" in rows["raises"].detail
    assert "same_minor" in rows["loops"].detail
    assert "kernel died" in rows["killer"].detail
    assert "test_peak_dbfs (edited)" in rows["tamperer"].detail
    assert NB in rows["empty"].detail


@pytest.mark.grading
def test_submissions_untouched_and_csv_complete(graded):
    rows, out, before, after = graded
    assert before == after, "a submission file was changed, added or removed"
    with open(out) as fh:
        table = list(csv.DictReader(fh))
    assert list(table[0].keys()) == CSV_COLUMNS
    assert {r["student"] for r in table} == set(rows)
    assert {r["status"] for r in table} == {"graded", "timeout", "crashed", "flagged", "missing"}


def test_csv_inside_submissions_is_refused(tmp_path):
    (tmp_path / "s").mkdir()
    with pytest.raises(ValueError, match="outside the submissions folder"):
        grade_submissions(tmp_path / "s", tmp_path / "s" / "grades.csv", root=ROOT)


def test_unknown_assignment_is_refused(tmp_path):
    (tmp_path / "s").mkdir()
    with pytest.raises(ValueError, match="unknown assignment"):
        grade_submissions(tmp_path / "s", tmp_path / "g.csv", only=["99_nope"], root=ROOT)


def _course(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "course_lib.tooling.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.grading
def test_course_check_reports_parts_and_exit_code(tmp_path):
    blank = tmp_path / "blank.ipynb"
    nbformat.write(nbformat.read(ROOT / "exercises" / A / NB, as_version=4), blank)
    res = _course("check", str(blank))
    assert res.returncode == 1
    assert "FAIL  test_seconds_to_samples" in res.stdout and "NotImplementedError" in res.stdout
    good = tmp_path / "good.ipynb"
    nbformat.write(solved_release(A), good)
    before = good.read_bytes()
    res = _course("check", str(good))
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.count("PASS") == 3
    assert good.read_bytes() == before, "course check must not modify the notebook"


def test_course_check_rejects_non_exercise(tmp_path):
    res = _course("check", str(tmp_path / "missing.ipynb"))
    assert res.returncode == 2 and "expected a path to an .ipynb" in res.stderr
