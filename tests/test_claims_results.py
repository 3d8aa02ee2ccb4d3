"""Claims as code and the FULL results file."""
from __future__ import annotations

import json
import math
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch

from course_lib.tooling.claims import ClaimError, claim, claim_greater, claim_within
from course_lib.tooling.results import emit_benchmark, full_entry, full_figures, record_full, results_path

ROOT = Path(__file__).resolve().parent.parent


# -- claims ---------------------------------------------------------------------------------------------
def test_claim_prints_when_it_holds(capsys):
    assert claim("augmentation helps", True) == "claim holds: augmentation helps"
    assert capsys.readouterr().out == "claim holds: augmentation helps\n"
    claim("quiet", True, quiet=True)
    assert capsys.readouterr().out == ""


def test_claim_fails_with_its_sentence_and_evidence():
    with pytest.raises(ClaimError, match=r"claim does not hold: far-field improves \(aug=0.5, base=0.6\)"):
        claim("far-field improves", 0.5 > 0.6, aug=0.5, base=0.6)


def test_claim_accepts_numpy_and_torch_booleans():
    claim("numpy", np.bool_(True), quiet=True)
    claim("torch", torch.tensor(True), quiet=True)
    with pytest.raises(ClaimError):
        claim("torch false", torch.tensor(1.0) > 2, quiet=True)


@pytest.mark.parametrize("holds", [1, 0.0, "yes", None, torch.tensor([True, False])])
def test_claim_needs_a_boolean(holds):
    with pytest.raises((TypeError, ValueError, RuntimeError)):
        claim("x", holds)


@pytest.mark.parametrize("text", ["", "   ", None, 3])
def test_claim_needs_a_sentence(text):
    with pytest.raises(TypeError, match="sentence"):
        claim(text, True)


def test_nan_evidence_is_an_error():
    with pytest.raises(ValueError, match="NaN"):
        claim("x", True, acc=float("nan"))


def test_claim_greater_and_within():
    claim_greater("a beats b", 0.9, 0.8, margin=0.05, quiet=True)
    with pytest.raises(ClaimError):
        claim_greater("a beats b by the margin", 0.9, 0.86, margin=0.05, quiet=True)
    with pytest.raises(ValueError, match="finite"):
        claim_greater("nan", math.nan, 0.1)
    claim_within("in range", 0.5, 0.0, 1.0, quiet=True)
    with pytest.raises(ClaimError):
        claim_within("in range", 1.5, 0.0, 1.0, quiet=True)
    with pytest.raises(ValueError, match="low"):
        claim_within("bad range", 0.5, 1.0, 0.0)


# -- the FULL results file ------------------------------------------------------------------------------
def test_record_and_read_back(tmp_path):
    entry = record_full("benchmarks/kws.py", {"acc": np.float32(0.98), "n": 3}, seed=0, seconds=12.34, root=tmp_path)
    assert entry["figures"] == {"acc": 0.98, "n": 3} and entry["seconds"] == 12.3
    assert {"date", "machine", "versions", "seed"} <= set(entry)
    assert entry["versions"]["torch"] == torch.__version__.split("+")[0]
    record_full("notebooks/07_x.ipynb", {"acc": 0.5}, seed=1, root=tmp_path)
    data = json.loads(results_path(tmp_path).read_text())
    assert list(data) == sorted(data)
    assert full_figures("benchmarks/kws.py", root=tmp_path) == {"acc": 0.98, "n": 3}
    assert full_entry("notebooks/07_x.ipynb", root=tmp_path)["seed"] == 1


def test_missing_entry_says_how_to_make_it(tmp_path):
    with pytest.raises(KeyError, match="python benchmarks/asr.py --full"):
        full_figures("benchmarks/asr.py", root=tmp_path)
    with pytest.raises(KeyError, match="course run --full notebooks/08_x.ipynb"):
        full_figures("notebooks/08_x.ipynb", root=tmp_path)


@pytest.mark.parametrize("figures", [{}, None, {"acc": float("nan")}, {"acc": float("inf")}])
def test_bad_figures(figures, tmp_path):
    with pytest.raises((ValueError, TypeError)):
        record_full("benchmarks/kws.py", figures, seed=0, root=tmp_path)


def test_bad_keys_and_seed(tmp_path):
    with pytest.raises(ValueError, match="keyed by"):
        record_full("elsewhere/x.py", {"a": 1}, seed=0, root=tmp_path)
    with pytest.raises(TypeError, match="seed"):
        record_full("benchmarks/x.py", {"a": 1}, seed=0.5, root=tmp_path)
    with pytest.raises(ValueError, match="seconds"):
        record_full("benchmarks/x.py", {"a": 1}, seed=0, seconds=-1, root=tmp_path)


def test_emit_benchmark_prints_json_last_and_records_only_full(tmp_path, monkeypatch, capsys):
    import course_lib.tooling.results as R

    monkeypatch.setattr(R, "repo_root", lambda: tmp_path)
    emit_benchmark("benchmarks/demo.py", {"acc": 0.5}, full=False, seed=0)
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == {"acc": 0.5}
    assert not results_path(tmp_path).exists()
    emit_benchmark("benchmarks/demo.py", {"acc": 0.5}, full=True, seed=0)
    assert full_figures("benchmarks/demo.py", root=tmp_path) == {"acc": 0.5}


def test_committed_results_file_is_complete_and_traceable():
    """Every recorded FULL entry names its date, machine, versions and seed."""
    path = results_path(ROOT)
    if not path.exists():
        pytest.skip("no FULL results recorded yet")
    data = json.loads(path.read_text())
    for key, entry in data.items():
        assert re.match(r"^(notebooks|benchmarks|solutions)/", key)
        assert entry["figures"] and {"date", "machine", "versions", "seed"} <= set(entry), key
        assert (ROOT / key).exists(), f"results for {key}, which does not exist"


def test_lecture_prose_quotes_no_full_figure_by_hand():
    """Notebook markdown must not restate a FULL figure as a typed number (read it from the results file)."""
    path = results_path(ROOT)
    if not path.exists():
        pytest.skip("no FULL results recorded yet")
    data = json.loads(path.read_text())
    for nb_path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(nb_path, as_version=4)
        prose = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        typed = set(re.findall(r"\b\d+\.\d{2,}\b", prose))
        for entry in data.values():
            for value in entry["figures"].values():
                if isinstance(value, float) and 0 < abs(value) < 1e6:
                    for digits in (3, 4):
                        text = f"{value:.{digits}f}"
                        assert text not in typed, (
                            f"{nb_path.name} types the FULL figure {text} in its prose: print it from "
                            "full_figures() instead")
