"""`course run`: papermill into build/, FAST/SEED injected, failures named, summary.json."""
from __future__ import annotations

import json
import subprocess
import sys

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from helpers import ROOT
from course_lib.tooling.runner import execute_notebook, read_figures, run_notebooks, summary_table
from course_lib.tooling.runtime import fast_default, figures_table, publish_figures


def _notebook(path, body: str):
    params = new_code_cell("from course_lib.tooling.runtime import fast_default\nFAST = fast_default()\nSEED = 0")
    params.metadata["tags"] = ["parameters"]
    nb = new_notebook(cells=[new_markdown_cell("# t"), params, new_code_cell(body)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


@pytest.mark.notebook
def test_run_injects_parameters_and_collects_figures(tmp_path):
    src = _notebook(tmp_path / "ok.ipynb", "from course_lib.tooling.runtime import publish_figures\n"
                    "publish_figures({'fast': FAST, 'seed': SEED, 'x_s': 1.5})")
    before = src.read_bytes()
    res = execute_notebook(src, fast=False, seed=7, build_dir=tmp_path / "build")
    assert res.status == "ok", res.error
    assert res.figures == {"fast": False, "seed": 7, "x_s": 1.5}
    assert src.read_bytes() == before, "the source notebook must never be written"
    assert (tmp_path / "build").rglob("ok.ipynb")


@pytest.mark.notebook
def test_failing_notebook_names_the_cell_and_cli_exits_nonzero(tmp_path):
    bad = _notebook(tmp_path / "bad.ipynb", "x = 1\nraise ValueError('planted failure')")
    results = run_notebooks([bad], build_dir=tmp_path / "build", echo=lambda *a: None)
    assert results[0].status == "failed"
    assert "cell 3" in results[0].error and "planted failure" in results[0].error
    summary = json.loads((tmp_path / "build" / "summary.json").read_text())
    record = summary["notebooks"][0]
    assert {"notebook", "status", "seconds", "figures"} <= set(record) and record["status"] == "failed"
    assert "failed" in summary_table(results)
    cli = subprocess.run([sys.executable, "-m", "course_lib.tooling.cli", "run", str(bad), "--build-dir",
                          str(tmp_path / "b2")], capture_output=True, text=True, timeout=300)
    assert cli.returncode != 0
    assert "planted failure" in cli.stderr
    assert "without encryption" not in cli.stderr, "the kernel's own log warnings must stay out of course run"


def test_fast_default_reads_environment():
    assert fast_default({"COURSE_FAST": "0"}) is False
    assert fast_default({"COURSE_FAST": "true"}) is True
    with pytest.raises(ValueError, match="COURSE_FAST"):
        fast_default({"COURSE_FAST": "maybe"})


def test_publish_figures_validates_and_roundtrips():
    with pytest.raises(ValueError, match="finite"):
        publish_figures({"acc": float("nan")}, display=False)
    with pytest.raises(ValueError, match="non-empty"):
        publish_figures({}, display=False)
    with pytest.raises(TypeError, match="numbers, strings or booleans"):
        publish_figures({"acc": [1, 2]}, display=False)
    nb = {"cells": [{"cell_type": "code", "outputs": [
        {"output_type": "display_data", "data": {"application/vnd.course.figures+json": {"a": 1}}}]}]}
    assert read_figures(nb) == {"a": 1}
    assert "a" in figures_table({"a": 1})


@pytest.mark.parametrize("command", ["run", "release", "check", "grade", "env", "data", "bake"])
def test_every_command_documents_itself(command):
    res = subprocess.run([sys.executable, "-m", "course_lib.tooling.cli", command, "--help"],
                         capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert res.returncode == 0 and "usage: course" in res.stdout


def test_course_env_prints_versions():
    res = subprocess.run([sys.executable, "-m", "course_lib.tooling.cli", "env"], capture_output=True,
                         text=True, timeout=120, cwd=ROOT)
    assert res.returncode == 0
    for key in ("torch", "torchaudio", "torch_threads", "data_cache"):
        assert key in res.stdout
