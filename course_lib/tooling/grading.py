"""Release, check and grade the course's nbgrader assignments.

* :func:`release` runs ``nbgrader generate_assignment`` for every assignment:
  ``solutions/`` (nbgrader's source) becomes ``exercises/`` (its release).
* :func:`check_notebook` runs a learner's notebook and says which graded
  parts pass (``course check``).
* :func:`grade_submissions` autogrades ``SUBMISSIONS/<student>/<assignment>/``
  one submission at a time, each in its own temporary course directory that
  holds a private copy of the gradebook and no ``solutions/``. A submission
  that crashes, loops or kills its kernel is reported as such and never stops
  or changes the grading of the others. Submission files are only read.
"""
from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from course_lib.tooling.runtime import repo_root
from course_lib.tooling.runner import DETERMINISTIC_ENV

#: Seconds a single cell may run during grading before it is interrupted.
CELL_TIMEOUT = 60
#: Seconds one whole submission may take (kernel start, all cells, nbgrader).
SUBMISSION_TIMEOUT = 600
#: Columns of the grade CSV (a stable interface; see CONVENTIONS.md).
CSV_COLUMNS = ["student", "assignment", "score", "max_score", "manual_max", "status", "detail"]

_ERROR_NAMES_TIMEOUT = {"CellTimeoutError", "TimeoutError", "KeyboardInterrupt"}  # interrupt_on_timeout


def nbgrader_env() -> dict:
    """Environment for nbgrader subprocesses: the venv's bin first on PATH.

    nbgrader shells out to ``alembic``; without the venv on PATH it fails.
    """
    env = dict(os.environ)
    env.update(DETERMINISTIC_ENV)
    env["COURSE_FAST"] = "1"
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def assignments(root: Path | None = None) -> list[str]:
    """Names of the assignments in ``solutions/`` (``NN_topic`` folders)."""
    root = Path(root) if root is not None else repo_root()
    return sorted(p.name for p in (root / "solutions").glob("[0-9][0-9]_*") if p.is_dir())


def _nbgrader(args: list[str], *, cwd: Path, timeout: float | None = None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "nbgrader", *args]
    return subprocess.run(
        cmd, cwd=str(cwd), env=nbgrader_env(), capture_output=True, text=True, timeout=timeout
    )


def _course_flags(root: Path, db: Path, *, source: str = "solutions", release: str = "exercises") -> list[str]:
    return [
        f"--CourseDirectory.root={root}",
        f"--CourseDirectory.source_directory={source}",
        f"--CourseDirectory.release_directory={release}",
        f"--CourseDirectory.db_url=sqlite:///{db}",
        "--CourseDirectory.course_id=ml-speech",
    ]


def release(
    names: Iterable[str] | None = None,
    *,
    root: Path | None = None,
    out_root: Path | None = None,
) -> Path:
    """Generate the student release of each assignment.

    Parameters
    ----------
    names : iterable of str, optional
        Assignments to release (default: all in ``solutions/``).
    root : Path, optional
        The course checkout (default: this one).
    out_root : Path, optional
        Write the release to ``out_root/exercises`` instead of the checkout's
        ``exercises/`` (used by the sync test).

    Returns
    -------
    Path
        The folder that now holds the release.
    """
    root = Path(root) if root is not None else repo_root()
    names = list(names) if names is not None else assignments(root)
    if not names:
        raise ValueError(f"no assignments found under {root / 'solutions'}")
    work = Path(tempfile.mkdtemp(prefix="course-release-"))
    try:
        shutil.copytree(root / "solutions", work / "solutions",
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        for name in names:
            if not (work / "solutions" / name).is_dir():
                raise ValueError(f"unknown assignment {name!r}; known: {assignments(root)}")
            res = _nbgrader(
                ["generate_assignment", name, "--force", "--create", *_course_flags(work, work / "gradebook.db")],
                cwd=work,
            )
            if res.returncode != 0:
                raise RuntimeError(f"nbgrader generate_assignment {name} failed:\n{res.stdout}\n{res.stderr}")
        target = (Path(out_root) if out_root is not None else root) / "exercises"
        target.mkdir(parents=True, exist_ok=True)
        for name in names:
            dest = target / name
            if dest.exists():
                shutil.rmtree(dest)
            shutil.copytree(work / "exercises" / name, dest)
        return target
    finally:
        shutil.rmtree(work, ignore_errors=True)


# --------------------------------------------------------------------------
# course check
# --------------------------------------------------------------------------

@dataclass
class PartResult:
    grade_id: str
    points: float
    passed: bool
    message: str = ""


def _nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def _is_test_cell(cell) -> bool:
    meta = _nbgrader_meta(cell)
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def _first_error(cell):
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return out
    return None


def check_notebook(path: Path, *, timeout: int = CELL_TIMEOUT) -> list[PartResult]:
    """Run a learner's exercise notebook and report each autograded part.

    The notebook file is not modified: a copy is executed in memory, in the
    notebook's own folder. A part passes when its test cell runs without error.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    from course_lib.tooling.runner import _Env, kernel_env

    path = Path(path)
    if not path.is_file() or path.suffix != ".ipynb":
        raise ValueError(f"expected a path to an .ipynb exercise notebook, got {path}")
    nb = nbformat.read(path, as_version=4)
    if not any(_is_test_cell(c) for c in nb.cells):
        raise ValueError(f"{path} has no autograded test cells; is it an exercise notebook?")
    with _Env(kernel_env(True)):
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            allow_errors=True,
            interrupt_on_timeout=True,
            resources={"metadata": {"path": str(path.parent.resolve())}},
        )
        try:
            # the kernel's own log lines (not the notebook's output) stay out of the caller's stderr
            client.execute(stderr=subprocess.DEVNULL)
        except DeadKernelError as exc:
            msg = f"the kernel died ({exc})"
            return [PartResult(_nbgrader_meta(c).get("grade_id", "?"), float(_nbgrader_meta(c).get("points", 0)),
                               False, msg) for c in nb.cells if _is_test_cell(c)]
    results = []
    for cell in nb.cells:
        if not _is_test_cell(cell):
            continue
        meta = _nbgrader_meta(cell)
        err = _first_error(cell)
        if err is None and not cell.get("outputs") and cell.get("execution_count") is None:
            results.append(PartResult(meta.get("grade_id", "?"), float(meta.get("points", 0)), False, "not run"))
            continue
        msg = "" if err is None else f"{err.get('ename')}: {err.get('evalue')}"[:200]
        results.append(PartResult(meta.get("grade_id", "?"), float(meta.get("points", 0)), err is None, msg))
    return results


def format_check(results: list[PartResult]) -> str:
    """Lines like ``PASS  test_mel (2 pts)`` / ``FAIL  test_x (1 pts): AssertionError: ...``."""
    lines = []
    for r in results:
        tag = "PASS" if r.passed else "FAIL"
        tail = "" if r.passed else f": {r.message}"
        lines.append(f"{tag}  {r.grade_id} ({r.points:g} pts){tail}")
    passed = sum(r.points for r in results if r.passed)
    total = sum(r.points for r in results)
    lines.append(f"{passed:g} of {total:g} visible-test points pass (hidden tests run at grading)")
    return "\n".join(lines)


# --------------------------------------------------------------------------
# course grade
# --------------------------------------------------------------------------

@dataclass
class GradeRow:
    student: str
    assignment: str
    score: float = 0.0
    max_score: float = 0.0
    manual_max: float = 0.0
    status: str = "graded"  # graded | timeout | crashed | flagged | missing
    detail: str = ""
    seconds: float = 0.0
    autograded: dict = field(default_factory=dict)  # grade_id -> (score, max)

    def record(self) -> dict:
        return {
            "student": self.student,
            "assignment": self.assignment,
            "score": f"{self.score:g}",
            "max_score": f"{self.max_score:g}",
            "manual_max": f"{self.manual_max:g}",
            "status": self.status,
            "detail": self.detail,
        }


class _Master:
    """A private gradebook made once from ``solutions/`` (hidden tests inside)."""

    def __init__(self, root: Path, names: list[str]):
        self.root = root
        self.dir = Path(tempfile.mkdtemp(prefix="course-master-"))
        self.db = self.dir / "gradebook.db"
        shutil.copytree(root / "solutions", self.dir / "solutions",
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        for name in names:
            res = _nbgrader(["generate_assignment", name, "--force", "--create",
                             *_course_flags(self.dir, self.db)], cwd=self.dir)
            if res.returncode != 0:
                raise RuntimeError(f"could not build the gradebook for {name}:\n{res.stderr[-2000:]}")
        # keep only what grading needs (the gradebook and the release); the
        # source's protected cells are remembered so that the instructors' own
        # solution notebook is not flagged, then the solutions are deleted
        import nbformat

        self.source_locked = {
            (name, nb.name): _locked_sources(nbformat.read(nb, as_version=4))
            for name in names
            for nb in (self.dir / "solutions" / name).glob("*.ipynb")
        }
        shutil.rmtree(self.dir / "solutions")

    def release_dir(self, name: str) -> Path:
        return self.dir / "exercises" / name

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def _locked_sources(release_nb) -> dict:
    """grade_id -> source of every cell a learner must not change."""
    out = {}
    for cell in release_nb.cells:
        meta = _nbgrader_meta(cell)
        if meta.get("grade_id") and (meta.get("locked") or _is_test_cell(cell)) and not meta.get("solution"):
            out[meta["grade_id"]] = cell.source
    return out


def _tampered(submitted_path: Path, release_path: Path, alt: dict | None = None) -> list[str]:
    """grade_ids of locked or test cells that were edited or removed.

    A cell counts as unchanged when it equals the release's version or, for
    the instructors' own solution notebook, the source's (with hidden tests).
    """
    import nbformat

    try:
        sub = nbformat.read(submitted_path, as_version=4)
    except Exception as exc:  # unreadable JSON is reported by the grader
        return [f"unreadable notebook ({type(exc).__name__})"]
    want = _locked_sources(nbformat.read(release_path, as_version=4))
    alt = alt or {}
    have = {}
    for cell in sub.cells:
        gid = _nbgrader_meta(cell).get("grade_id")
        if gid:
            have[gid] = cell.source
    bad = []
    for gid, src in want.items():
        if gid not in have:
            bad.append(f"{gid} (removed)")
        elif have[gid].strip() not in (src.strip(), alt.get(gid, src).strip()):
            bad.append(f"{gid} (edited)")
    return bad


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def grade_one(
    master: _Master,
    student: str,
    assignment: str,
    submission: Path,
    *,
    cell_timeout: int = CELL_TIMEOUT,
    total_timeout: int = SUBMISSION_TIMEOUT,
    keep: Path | None = None,
) -> GradeRow:
    """Autograde one submission folder in its own temporary course directory."""
    import nbformat
    from nbgrader.api import Gradebook, MissingEntry

    row = GradeRow(student, assignment)
    start = time.perf_counter()
    release = master.release_dir(assignment)
    expected = sorted(p.name for p in release.glob("*.ipynb"))
    present = [n for n in expected if (submission / n).is_file()]
    # max scores from the gradebook, so that even a missing submission shows them
    with Gradebook(f"sqlite:///{master.db}") as gb:
        assign = gb.find_assignment(assignment)
        for nb_entry in assign.notebooks:
            for cell in nb_entry.grade_cells:
                if cell.cell_type == "code":
                    row.max_score += cell.max_score
                else:
                    row.manual_max += cell.max_score
    if not present:
        row.status, row.detail = "missing", f"no {', '.join(expected)} in {submission}"
        return row

    work = Path(tempfile.mkdtemp(prefix="course-grade-"))
    try:
        shutil.copy2(master.db, work / "gradebook.db")
        dest = work / "submitted" / student / assignment
        shutil.copytree(submission, dest, symlinks=False,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        # support files of the release (no notebooks, so no solutions)
        src = work / "source" / assignment
        src.mkdir(parents=True)
        for f in release.iterdir():
            if f.is_file() and f.suffix != ".ipynb":
                shutil.copy2(f, src / f.name)
        tampered = []
        for name in present:
            tampered += _tampered(dest / name, release / name, master.source_locked.get((assignment, name)))
        flags = [
            f"--CourseDirectory.root={work}",
            f"--CourseDirectory.db_url=sqlite:///{work / 'gradebook.db'}",
            "--CourseDirectory.course_id=ml-speech",
            f"--Execute.timeout={int(cell_timeout)}",
            "--Execute.interrupt_on_timeout=True",
        ]
        cmd = [sys.executable, "-m", "nbgrader", "autograde", assignment,
               f"--student={student}", "--create", "--force", *flags]
        proc = subprocess.Popen(cmd, cwd=str(work), env=nbgrader_env(), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True)
        timed_out = False
        try:
            log, _ = proc.communicate(timeout=total_timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            log, _ = proc.communicate()
            timed_out = True
        _kill_group(proc)  # no kernel outlives its grading
        autograded = work / "autograded" / student / assignment
        errors, cell_timeouts = [], []
        for name in present:
            path = autograded / name
            if not path.is_file():
                continue
            nb = nbformat.read(path, as_version=4)
            for cell in nb.cells:
                err = _first_error(cell) if cell.cell_type == "code" else None
                if err is None:
                    continue
                gid = _nbgrader_meta(cell).get("grade_id", f"cell {nb.cells.index(cell)}")
                if err.get("ename") in _ERROR_NAMES_TIMEOUT:
                    cell_timeouts.append(gid)
                else:
                    errors.append(f"{gid}: {err.get('ename')}")
        graded = False
        try:
            with Gradebook(f"sqlite:///{work / 'gradebook.db'}") as gb:
                sub = gb.find_submission(assignment, student)
                for nb_entry in sub.notebooks:
                    for grade in nb_entry.grades:
                        if grade.cell_type == "code":
                            row.autograded[grade.name] = (grade.score, grade.max_score)
                row.score = float(sum(s for s, _ in row.autograded.values()))
                graded = bool(row.autograded) and all((autograded / n).is_file() for n in present)
        except MissingEntry:
            graded = False
        died = "DeadKernelError" in log or "Kernel died" in log or "kernel died" in log.lower()
        details = []
        if timed_out:
            row.status = "timeout"
            details.append(f"grading stopped after {total_timeout} s (whole submission)")
            row.score = 0.0 if not graded else row.score
        elif not graded or died:
            row.status = "crashed"
            reason = "the kernel died" if died else "nbgrader could not grade it"
            tail = [ln for ln in log.strip().splitlines() if "ERROR" in ln or "Error" in ln][-2:]
            details.append(reason + (": " + " | ".join(t.strip()[:160] for t in tail) if tail else ""))
            if not graded:
                row.score = 0.0
        elif cell_timeouts:
            row.status = "timeout"
            details.append(f"cell(s) over {cell_timeout} s were interrupted: {', '.join(cell_timeouts)}")
        if tampered:
            if row.status == "graded":
                row.status = "flagged"
            details.append("protected cells changed (restored for grading): " + ", ".join(tampered))
        if errors:
            details.append("errors in " + "; ".join(errors[:8]))
        missing_nbs = sorted(set(expected) - set(present))
        if missing_nbs:
            details.append(f"missing notebooks: {', '.join(missing_nbs)}")
        row.detail = " | ".join(details)
        if keep is not None:
            target = Path(keep) / student / assignment
            target.mkdir(parents=True, exist_ok=True)
            if autograded.is_dir():
                for f in autograded.glob("*.ipynb"):
                    shutil.copy2(f, target / f.name)
            (target / "nbgrader.log").write_text(log)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        row.seconds = round(time.perf_counter() - start, 2)
    return row


def find_submissions(submissions: Path, known: list[str], only: list[str] | None = None):
    """Yield ``(student, assignment, folder)``; a student lacking a wanted assignment gets ``folder=None``."""
    submissions = Path(submissions)
    if not submissions.is_dir():
        raise ValueError(f"SUBMISSIONS_DIR must be a folder of <student>/<assignment>/, got {submissions}")
    wanted = only or known
    unknown = [a for a in wanted if a not in known]
    if unknown:
        raise ValueError(f"unknown assignment(s) {unknown}; known: {known}")
    for student_dir in sorted(p for p in submissions.iterdir() if p.is_dir() and not p.name.startswith(".")):
        present = {p.name for p in student_dir.iterdir() if p.is_dir()}
        for a in wanted:
            if a in present:
                yield student_dir.name, a, student_dir / a
            elif only:
                yield student_dir.name, a, None


def grade_submissions(
    submissions: Path,
    out_csv: Path,
    *,
    only: list[str] | None = None,
    cell_timeout: int = CELL_TIMEOUT,
    total_timeout: int = SUBMISSION_TIMEOUT,
    keep: Path | None = None,
    root: Path | None = None,
    echo=print,
) -> list[GradeRow]:
    """Grade every ``<student>/<assignment>/`` folder and write the CSV.

    The CSV has the columns :data:`CSV_COLUMNS`; ``score`` and ``max_score``
    count autograded points, ``manual_max`` the points left to a human.
    """
    root = Path(root) if root is not None else repo_root()
    submissions = Path(submissions).resolve()
    out_csv = Path(out_csv).resolve()
    if submissions in out_csv.parents:
        raise ValueError(f"write the CSV outside the submissions folder, got {out_csv}")
    known = assignments(root)
    todo = list(find_submissions(submissions, known, only))
    names = sorted({a for _, a, _ in todo})
    rows: list[GradeRow] = []
    master = _Master(root, names) if names else None
    try:
        for student, assignment, folder in todo:
            if folder is None:
                row = GradeRow(student, assignment, status="missing", detail="no submission folder")
            else:
                row = grade_one(master, student, assignment, folder, cell_timeout=cell_timeout,
                                total_timeout=total_timeout, keep=keep)
            rows.append(row)
            echo(f"{student:>16} {assignment:<32} {row.status:<8} {row.score:g}/{row.max_score:g}"
                 + (f"  {row.detail}" if row.detail else ""))
    finally:
        if master is not None:
            master.cleanup()
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    with open(out_csv, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow(row.record())
    return rows
