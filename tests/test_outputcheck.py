"""The stored-output check: tolerant where CPUs differ, strict where a result changes."""
from __future__ import annotations

import copy
import textwrap

import nbformat
import pytest

from course_lib.tooling.outputcheck import (
    DEFAULT_ATOL,
    DEFAULT_RTOL,
    cell_tolerance,
    compare_notebooks,
    compare_text,
    reduced_dispatch_env,
)
from course_lib.tooling.runner import bake_notebook, execute_notebook
from course_lib.tooling.runtime import FIGURES_MIME


def _nb(*cells):
    nb = nbformat.v4.new_notebook()
    for source, outputs in cells:
        c = nbformat.v4.new_code_cell(source)
        c.outputs = [nbformat.from_dict(o) for o in outputs]
        nb.cells.append(c)
    return nb


def _stdout(text):
    return {"output_type": "stream", "name": "stdout", "text": text}


def _display(data):
    return {"output_type": "display_data", "data": data, "metadata": {}}


# -- text -------------------------------------------------------------------------------------------
def test_rounding_noise_passes_and_a_moved_result_fails():
    assert compare_text("attention mass 0.0917054", "attention mass 0.0917053") is None
    assert compare_text("acc 0.917", "acc 0.918") is not None  # a visible change of a printed accuracy
    assert compare_text("acc 0.917", "acc 0.9171") is None


def test_words_must_match_exactly():
    why = compare_text("greedy: 'the cat'", "greedy: 'the hat'")
    assert why and "text differs" in why


def test_number_count_must_match():
    assert "numbers" in compare_text("1 2 3", "1 2")


def test_alignment_whitespace_may_change_with_number_width():
    assert compare_text("a     9.99  b", "a    10.00  b", atol=0.02) is None


def test_nan_and_inf_compare_by_identity():
    assert compare_text("loss nan", "loss nan") is None
    assert compare_text("loss inf", "loss 1e308") is not None


def test_memory_addresses_and_figure_sizes_are_sanitised():
    assert compare_text("<obj at 0x7f12ab34cd56>", "<obj at 0x7f0000000001>") is None
    assert compare_text("<Figure size 640x480 with 1 Axes>", "<Figure size 800x300 with 2 Axes>") is None


def test_cell_tolerance_directive():
    assert cell_tolerance("print(1)") == (DEFAULT_RTOL, DEFAULT_ATOL)
    assert cell_tolerance("# CHECK: rtol=0.05, atol=0.01\nprint(acc)") == (0.05, 0.01)
    with pytest.raises(ValueError, match="must set rtol"):
        cell_tolerance("# CHECK: loose please")
    with pytest.raises(ValueError, match=">= 0"):
        cell_tolerance("# CHECK: atol=-1")
    with pytest.raises(TypeError):
        cell_tolerance(None)


# -- notebooks --------------------------------------------------------------------------------------
def test_stdout_chunks_are_merged_and_stderr_and_widgets_ignored():
    stored = _nb(("print(x)", [_stdout("a = 0.5\n"), _stdout("b = 2\n")]))
    fresh = _nb(("print(x)", [_stdout("a = 0.5\nb"), {"output_type": "stream", "name": "stderr", "text": "warn"},
                              _stdout(" = 2\n"),
                              _display({"application/vnd.jupyter.widget-view+json": {"model_id": "x"}})]))
    assert compare_notebooks(stored, fresh) == []


def test_tolerance_of_a_cell_applies_to_its_numbers():
    stored = _nb(("acc = train()\nprint(acc)", [_stdout("0.95\n")]))
    fresh = _nb(("acc = train()\nprint(acc)", [_stdout("0.93\n")]))
    assert compare_notebooks(stored, fresh)
    loose = "# CHECK: atol=0.03\nacc = train()\nprint(acc)"
    assert compare_notebooks(_nb((loose, [_stdout("0.95\n")])), _nb((loose, [_stdout("0.93\n")]))) == []


def test_ignored_cells_are_skipped_but_errors_still_fail():
    src = "# NBVAL_IGNORE_OUTPUT\nt = time()"
    assert compare_notebooks(_nb((src, [_stdout("1.2 s")])), _nb((src, [_stdout("3.4 s")]))) == []
    err = {"output_type": "error", "ename": "ValueError", "evalue": "boom", "traceback": []}
    problems = compare_notebooks(_nb((src, [])), _nb((src, [err])))
    assert problems and problems[0].where == "error"


def test_published_figures_compare_by_name_and_tolerance():
    def figs(d):
        return _nb(("publish_figures(...)", [_display({FIGURES_MIME: d, "text/plain": "table"})]))

    assert compare_notebooks(figs({"acc": 0.9170541}), figs({"acc": 0.9170533})) == []
    assert compare_notebooks(figs({"acc": 0.917}), figs({"acc": 0.95}))
    assert compare_notebooks(figs({"acc": 0.917}), figs({"acc": 0.917, "cer": 0.1}))


def test_pictures_and_players_are_counted_not_compared():
    png = _display({"image/png": "AAAA", "text/plain": "<Figure size 640x480 with 1 Axes>"})
    png2 = _display({"image/png": "BBBB", "text/plain": "<Figure size 640x480 with 1 Axes>"})
    audio = _display({"text/html": '<audio controls="controls"><source src="data:audio/wav;base64,AAA"/></audio>',
                      "text/plain": "<IPython.lib.display.Audio object>"})
    audio2 = copy.deepcopy(audio)
    audio2["data"]["text/html"] = audio2["data"]["text/html"].replace("AAA", "BBB")
    assert compare_notebooks(_nb(("plot()", [png, audio])), _nb(("plot()", [png2, audio2]))) == []
    assert compare_notebooks(_nb(("plot()", [png, audio])), _nb(("plot()", [audio2])))  # the figure went missing


def test_injected_parameters_cell_is_skipped():
    stored = _nb(("FAST = True", []), ("print(1)", [_stdout("1\n")]))
    fresh = _nb(("FAST = True", []), ("FAST = True", []), ("print(1)", [_stdout("1\n")]))
    fresh.cells[1].metadata["tags"] = ["injected-parameters"]
    assert compare_notebooks(stored, fresh) == []


def test_a_different_cell_count_fails():
    assert compare_notebooks(_nb(("a", [])), _nb(("a", []), ("b", [])))[0].where == "cells"


def test_reduced_dispatch_env_names_torch_mkl_onednn():
    env = reduced_dispatch_env()
    assert env["ATEN_CPU_CAPABILITY"] == "default"
    assert {"MKL_ENABLE_INSTRUCTIONS", "DNNL_MAX_CPU_ISA"} <= set(env)


# -- end to end: a deliberately changed library output fails the check -----------------------------
PROBE = textwrap.dedent("""
    import torch
    from course_lib.mel import log_mel
    t = torch.arange(16000) / 16000
    x = 0.5 * torch.sin(2 * torch.pi * 440 * t)
    lm = log_mel(x, 16000, n_mels=40)
    print(f"log-mel mean {lm.mean():.3f} dB-ish, max {lm.max():.3f}")
""")

PATCH = textwrap.dedent("""
    import course_lib.mel as _mel
    _orig = _mel.mel_filterbank
    def _scaled(*args, **kwargs):
        return 1.05 * _orig(*args, **kwargs)   # a library change: filters 5 % louder
    _mel.mel_filterbank = _scaled
""")


@pytest.mark.notebook
def test_a_changed_library_output_fails_the_check(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("FAST = True\nSEED = 0"), nbformat.v4.new_code_cell(PROBE)]
    nb.cells[0].metadata["tags"] = ["parameters"]
    stored = tmp_path / "probe.ipynb"
    nbformat.write(nb, stored)
    bake_notebook(stored)

    same = execute_notebook(stored, build_dir=tmp_path / "same", extra_env=reduced_dispatch_env())
    assert same.status == "ok", same.error
    fresh = nbformat.read(tmp_path / "same" / "other" / "probe.ipynb", as_version=4)
    assert compare_notebooks(nbformat.read(stored, as_version=4), fresh) == []

    patch_dir = tmp_path / "patch"
    patch_dir.mkdir()
    (patch_dir / "sitecustomize.py").write_text(PATCH)
    import os

    changed = execute_notebook(stored, build_dir=tmp_path / "changed",
                               extra_env={"PYTHONPATH": str(patch_dir) + os.pathsep + os.environ.get("PYTHONPATH", "")})
    assert changed.status == "ok", changed.error
    fresh = nbformat.read(tmp_path / "changed" / "other" / "probe.ipynb", as_version=4)
    problems = compare_notebooks(nbformat.read(stored, as_version=4), fresh)
    assert problems and problems[0].where == "stdout", problems


def test_compare_notebooks_and_read_figures_reject_a_non_notebook():
    from course_lib.tooling.runtime import figures_table, read_figures

    with pytest.raises(TypeError, match="stored must be a notebook"):
        compare_notebooks("stored.ipynb", {"cells": []})
    with pytest.raises(TypeError, match="nb must be a notebook"):
        read_figures(None)
    with pytest.raises(TypeError, match="figures must be a dict"):
        figures_table("acc")


def test_source_of_and_publish_figures_name_the_argument():
    from course_lib.tooling.display import source_of
    from course_lib.tooling.runtime import publish_figures

    with pytest.raises(TypeError, match="source_of expects obj to be a function, method or class, got str"):
        source_of("collapse")
    with pytest.raises(ValueError, match="publish_figures expects figures to be a non-empty dict"):
        publish_figures([])


def test_compare_text_validates_its_tolerances():
    with pytest.raises(TypeError, match="rtol must be a number >= 0"):
        compare_text("1.0", "1.0", rtol="loose")
    with pytest.raises(TypeError, match="stored and fresh must be str"):
        compare_text(None, "1.0")
