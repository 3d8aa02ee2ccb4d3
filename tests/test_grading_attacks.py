"""`course grade` against submissions that try to fool it (00_welcome).

* a correct answer that writes warnings and stderr in the test cells scores
  full marks;
* code that changes how IPython runs later cells (input transformers, AST
  transformers, a replaced ``run_cell``, trace functions, events, patched
  ``builtins``) is ``flagged`` with the reason, and its wrong answer still
  loses the points (the hidden tests run with the machinery put back);
* a submission that looks for the gradebook, the solutions, the git history
  and the other submissions finds nothing, cannot write outside its working
  copy, and its score never passes the maximum (the 2997/6 attack).
"""
from __future__ import annotations

import json
import secrets
from pathlib import Path

import nbformat
import pytest

from helpers import ROOT, grade_id, solved_release
from course_lib.tooling.grading import Isolation, _git_dirs, grade_submissions
from course_lib.tooling.sandbox import MAX_PROCESSES

A = "00_welcome"
PLANTED = f"/tmp/course-attack-{secrets.token_hex(6)}"  # the kernel's /tmp is its own
NB = f"{A}.ipynb"

# 20 log10 -> 10 log10: loses part 3 (2 points) unless the hidden tests are fooled
WRONG_PEAK = "import math\ndef peak_dbfs(w):\n    return 10 * math.log10(float(w.abs().max()))\n"

WARNS = '''import math, sys, warnings
def peak_dbfs(waveform):
    warnings.warn("learner's own warning", UserWarning)
    warnings.warn("a library's deprecation", DeprecationWarning, stacklevel=2)
    print("debug: computing a peak", file=sys.stderr)
    peak = float(waveform.abs().max())
    return -math.inf if peak == 0.0 else 20.0 * math.log10(peak)
'''

HOOKS = {
    "cleanup": WRONG_PEAK + (
        "def _pass_asserts(lines):\n"
        "    return [('pass\\n' if l.lstrip().startswith('assert') else l) for l in lines]\n"
        "get_ipython().input_transformers_cleanup.append(_pass_asserts)\n"),
    "post": WRONG_PEAK + (
        "def _pass_asserts(lines):\n"
        "    return [('pass\\n' if l.lstrip().startswith('assert') else l) for l in lines]\n"
        "get_ipython().input_transformers_post.append(_pass_asserts)\n"),
    # the attribute names are built at run time: only the guard in the kernel can see this one
    "hidden_cleanup": WRONG_PEAK + (
        "def _pass_asserts(lines):\n"
        "    return [('pass\\n' if l.lstrip().startswith('assert') else l) for l in lines]\n"
        "getattr(get_ipython(), 'input_' + 'transformers' + '_cleanup').append(_pass_asserts)\n"),
    "ast": WRONG_PEAK + (
        "import ast\n"
        "class _NoAssert(ast.NodeTransformer):\n"
        "    def visit_Assert(self, node):\n"
        "        return ast.Pass()\n"
        "get_ipython().ast_transformers.append(_NoAssert())\n"),
    "run_cell": WRONG_PEAK + (
        "_ip = get_ipython()\n"
        "_orig = _ip.run_cell\n"
        "def _run(raw_cell, *a, **k):\n"
        "    return _orig('pass' if 'assert' in raw_cell else raw_cell, *a, **k)\n"
        "_ip.run_cell = _run\n"),
    "settrace": WRONG_PEAK + "import sys\nsys.settrace(lambda *a: None)\n",
    "events": WRONG_PEAK + (
        "def _pre(info):\n"
        "    globals()['peak_dbfs'] = lambda w: 20 * math.log10(float(w.abs().max()))\n"
        "get_ipython().events.register('pre_run_cell', _pre)\n"),
    "builtins": WRONG_PEAK + "import builtins\nbuiltins.abs = lambda x: 0.0\n",
}

ATTACK = '''import glob, json, os, sqlite3
found, wrote, read = [], [], {}
here = os.path.abspath(".")
places = [os.path.join(os.path.dirname(here), *[".."] * k, "gradebook.db") for k in range(6)]
places += glob.glob("/tmp/*/gradebook.db") + glob.glob("/tmp/*/*/gradebook.db") + glob.glob("/tmp/*/*/*/gradebook.db")
places += [os.path.join(%(root)r, "build", "gradebook.db")]
for db in places:
    if os.path.isfile(db):
        found.append(db)
        try:
            with sqlite3.connect(db) as con:
                con.execute("UPDATE grade SET auto_score = 999")
                wrote.append(db)
        except Exception as exc:
            pass
for name, path in {"solutions": %(solution)r, "git": %(git)r, "others": %(others)r,
                   "job": os.path.dirname(here), "grader": os.path.dirname(os.path.dirname(here))}.items():
    try:
        with open(path) if os.path.isfile(path) else open(os.path.join(path, sorted(os.listdir(path))[0])) as fh:
            read[name] = fh.read(40)
    except Exception as exc:
        read[name] = "denied: " + type(exc).__name__
try:
    with open(os.path.join(%(mine)r, "planted.txt"), "w") as fh:
        fh.write("x")
    read["write_submission"] = "written"
except Exception as exc:
    read["write_submission"] = "denied: " + type(exc).__name__
try:
    with open(%(planted)r, "w") as fh:
        fh.write("x")
except Exception as exc:
    pass
import resource
read["nproc"] = resource.getrlimit(resource.RLIMIT_NPROC)[0]
read["uid"] = os.getuid()
print("ATTACK", json.dumps({"found": found, "wrote": wrote, "read": read}))
'''


def _with(nb, gid, source):
    for cell in nb.cells:
        if grade_id(cell) == gid:
            cell.source = source
            return nb
    raise KeyError(gid)


def _write(folder, nb):
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / NB)


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    subs = tmp_path_factory.mktemp("submissions")
    _write(subs / "warns" / A, _with(solved_release(A), "peak_dbfs", WARNS))
    for name, source in HOOKS.items():
        _write(subs / f"hook_{name}" / A, _with(solved_release(A), "peak_dbfs", source))
    attack = ATTACK % {"root": str(ROOT), "solution": str(ROOT / "solutions" / A / NB),
                       "git": str(_git_dirs(ROOT)[-1]), "others": str(subs / "warns" / A / NB),
                       "mine": str(subs / "attacker" / A), "planted": PLANTED}
    _write(subs / "attacker" / A, _with(solved_release(A), "peak_dbfs", WRONG_PEAK + attack))
    keep = tmp_path_factory.mktemp("keep")
    lines = []
    rows = grade_submissions(subs, tmp_path_factory.mktemp("out") / "grades.csv", cell_timeout=30,
                             total_timeout=300, keep=keep, root=ROOT, jobs=2, echo=lines.append)
    return {r.student: r for r in rows}, keep, lines, subs


def _cells(keep, student):
    nb = nbformat.read(keep / student / A / NB, as_version=4)
    return {grade_id(c): c for c in nb.cells if grade_id(c)}


@pytest.mark.grading
def test_warnings_and_stderr_never_cost_points(attacked):
    rows, keep, _, _ = attacked
    row = rows["warns"]
    assert (row.status, row.score) == ("graded", 6.0), row.detail
    # the test cell did write to stderr (the warnings and the print), and passed anyway
    test = _cells(keep, "warns")["test_peak_dbfs"]
    stderr = "".join(o.get("text", "") for o in test.outputs if o.get("name") == "stderr")
    assert "learner's own warning" in stderr and "deprecation" in stderr and "debug:" in stderr


@pytest.mark.grading
@pytest.mark.parametrize("hook", sorted(HOOKS))
def test_kernel_tampering_is_flagged_and_does_not_pass(attacked, hook):
    rows, _, _, _ = attacked
    row = rows[f"hook_{hook}"]
    assert row.status == "flagged", (row.status, row.detail)
    if hook != "events":  # an event hook has already redefined the answer when the guard runs
        assert row.score == 4.0, f"the wrong part 3 must still fail: {row.detail}"
    assert "kernel machinery changed" in row.detail or "execution machinery" in row.detail


@pytest.mark.grading
def test_hidden_hook_is_caught_in_the_kernel(attacked):
    # no static pattern names the attribute: the guard cell sees the changed list
    row = attacked[0]["hook_hidden_cleanup"]
    assert "input_transformers_cleanup changed" in row.detail, row.detail


@pytest.mark.grading
def test_submission_cannot_reach_gradebook_solutions_or_others(attacked):
    rows, keep, _, subs = attacked
    row = rows["attacker"]
    assert row.score <= row.max_score and row.score == 4.0, row.detail
    out = "".join(o.get("text", "") for o in _cells(keep, "attacker")["peak_dbfs"].outputs
                  if o.get("output_type") == "stream")
    report = json.loads(out.split("ATTACK ", 1)[1].splitlines()[0])
    assert report["wrote"] == [], report  # no gradebook exists while learners' code runs
    iso = Isolation.detect()
    if not (iso.user and iso.namespace):
        pytest.skip(f"this machine gives the grader no OS isolation ({iso.reason})")
    for what in ("solutions", "git", "others", "job", "grader", "write_submission"):
        assert report["read"][what].startswith("denied"), (what, report)
    assert not (subs / "attacker" / A / "planted.txt").exists()
    assert not Path(PLANTED).exists(), "the kernel wrote into the grader's /tmp"
    assert report["read"]["uid"] != 0 and report["read"]["nproc"] == MAX_PROCESSES  # no fork bomb


@pytest.mark.grading
def test_throughput_is_reported(attacked):
    rows, _, lines, _ = attacked
    thr = grade_submissions.last_throughput
    assert thr.submissions == len(rows) and thr.jobs == 2
    assert thr.notebook_s > 0 and thr.overhead_s > 0 and thr.wall_s > thr.per_submission_s > 0
    assert lines[-1] == thr.line() and "s per submission" in lines[-1]


@pytest.mark.grading
def test_without_isolation_the_score_is_still_the_graders(tmp_path):
    subs = tmp_path / "subs"
    attack = ATTACK % {"root": str(ROOT), "solution": str(ROOT / "solutions" / A / NB),
                       "git": str(ROOT / ".git"), "others": str(subs), "mine": str(tmp_path / "elsewhere"),
                       "planted": str(tmp_path / "planted.txt")}
    # the old attack: give every grade 999 points in any gradebook in reach
    _write(subs / "attacker" / A, _with(solved_release(A), "peak_dbfs", WRONG_PEAK + attack))
    lines = []
    rows = grade_submissions(subs, tmp_path / "g.csv", root=ROOT, isolation="none", cell_timeout=30,
                             echo=lines.append)
    assert (rows[0].status, rows[0].score, rows[0].max_score) == ("flagged", 4.0, 6.0), rows[0].detail
    assert "gradebook" in rows[0].detail  # the learner's code names it: an instructor looks
    warnings = [ln for ln in lines if "WARNING" in ln]
    assert len(warnings) == 1 and "your own user" in warnings[0]


def test_isolation_and_jobs_are_validated(tmp_path):
    (tmp_path / "s").mkdir()
    with pytest.raises(ValueError, match="isolation must be 'auto' or 'none'"):
        Isolation.detect("container")
    with pytest.raises(ValueError, match="jobs must be a positive int"):
        grade_submissions(tmp_path / "s", tmp_path / "g.csv", root=ROOT, jobs=0)


def test_guard_line_is_read_across_stream_messages_and_forgeries_fail():
    from course_lib.tooling.tamper import compare, read_guard

    def cell(*texts):
        return {"outputs": [{"output_type": "stream", "name": "stdout", "text": t} for t in texts]}

    fp = {"cleanup": ["a@1"], "trace": "None", "builtins": [], "builtins_missing": [], "methods": {}, "events": {}}
    line = "COURSE-GUARD n0 " + json.dumps(fp) + "\n"
    assert read_guard(cell(line[:20], line[20:]), "n0") == fp  # the kernel split one print in two messages
    assert read_guard(cell(line), "other-nonce") is None  # a line made up without the nonce
    assert read_guard(cell(line, line), "n0") is None  # a second line printed for the guard
    assert read_guard(cell("nothing\n"), "n0") is None
    changed = dict(fp, cleanup=["a@1", "f@2"], trace="<function>", builtins=["abs"])
    assert compare(fp, fp) == []
    assert compare(fp, changed) == ["builtins: abs", "input_transformers_cleanup changed", "sys.settrace changed"]
