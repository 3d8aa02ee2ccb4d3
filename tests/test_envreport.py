"""The environment report: complete for `course env`, portable (no machine paths) for notebooks and hand-ins."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from course_lib.tooling.envreport import (
    PACKAGES, PATH_KEYS, REDACTED, environment_report, format_report, portable_path, torch_pair_ok,
)
from course_lib.tooling.runtime import repo_root


def test_report_lists_every_package_and_the_run_settings():
    report = environment_report()
    for key in ("python", "platform", "executable", "cpu_count", "torch_threads", "cuda_available",
                "fast_mode", "data_cache", "data_cache_exists", *PACKAGES):
        assert key in report


def test_default_report_keeps_absolute_paths_for_course_env():
    report = environment_report()
    assert report["executable"] == sys.executable
    assert Path(report["data_cache"]).is_absolute()


def test_portable_report_shows_no_absolute_path(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))   # outside home and checkout
    report = environment_report(portable=True)
    for key in PATH_KEYS:
        value = report[key]
        assert not value.startswith("/") and ":\\" not in value, f"{key} shows a machine path: {value}"
    data = tmp_path / "data"
    if not data.is_relative_to(Path.home()) and not data.is_relative_to(repo_root()):
        assert report["data_cache"] == REDACTED
    text = format_report(report)
    assert str(Path.home()) + "/" not in text and str(repo_root()) not in text


def test_portable_report_differs_from_the_full_one_only_in_paths():
    full, portable = environment_report(), environment_report(portable=True)
    assert full.keys() == portable.keys()
    assert {k for k in full if full[k] != portable[k]} <= set(PATH_KEYS)


@pytest.mark.parametrize("path, want", [
    ("/home/ada/course/.venv/bin/python3", ".venv/bin/python3"),
    ("/home/ada/course", "."),
    ("/home/ada/.cache/ml-speech-course", "~/.cache/ml-speech-course"),
    ("/home/ada", "~"),
    ("/home/adam/x", REDACTED),                 # a sibling of home is not inside it
    ("/opt/conda/bin/python", REDACTED),
    ("relative/path", "relative/path"),
])
def test_portable_path_cases(path, want):
    assert portable_path(path, root="/home/ada/course", home="/home/ada") == want


def test_checkout_wins_over_home_when_nested():
    assert portable_path("/home/ada/course/x", root="/home/ada/course", home="/home/ada") == "x"


def test_bad_input():
    with pytest.raises(TypeError, match="path must be a str"):
        portable_path(3)
    with pytest.raises(TypeError, match="portable must be a bool"):
        environment_report(portable="yes")
    with pytest.raises(ValueError, match="non-empty dict"):
        format_report({})


def test_format_warns_on_a_mismatched_torch_pair():
    text = format_report({"torch": "2.13.0", "torchaudio": "2.11.0"})
    assert "WARNING" in text
    assert torch_pair_ok({"torch": "2.11.0+cpu", "torchaudio": "2.11.1"})


def test_format_report_and_torch_pair_ok_reject_a_non_dict_report():
    from course_lib.tooling.envreport import format_report, torch_pair_ok

    with pytest.raises(ValueError, match="format_report expects report to be a non-empty dict"):
        format_report("report")
    with pytest.raises(TypeError, match="report must be a dict with 'torch' and 'torchaudio'"):
        torch_pair_ok({"torch": "2.11.0"})
