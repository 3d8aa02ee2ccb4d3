"""Every benchmark script runs in FAST mode and ends with one JSON object of numeric figures."""
import json
import os
import subprocess
import sys

import pytest
from helpers import ROOT

BENCHMARKS = sorted(p.name for p in (ROOT / "benchmarks").glob("*.py"))


def test_every_topic_has_a_benchmark():
    assert {"corpus.py", "features.py", "kws.py", "asr.py"} <= set(BENCHMARKS)


@pytest.mark.parametrize("script", BENCHMARKS)
def test_benchmark_fast_prints_json_figures_last(script):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    res = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script)], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=600)  # fmt: skip
    assert res.returncode == 0, res.stderr[-3000:]
    lines = [line for line in res.stdout.splitlines() if line.strip()]
    assert len(lines) >= 2, "a readable table must come before the JSON line"
    figures = json.loads(lines[-1])
    assert isinstance(figures, dict) and figures
    for name, value in figures.items():
        assert isinstance(value, (int, float)) and not isinstance(value, bool), (name, value)
