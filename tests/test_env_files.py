"""pyproject.toml, environment.yml and constraints.txt describe one stack."""
from __future__ import annotations

import re
import tomllib

import yaml

from helpers import ROOT

PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([A-Za-z0-9_.+\-]+)$")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(lines) -> dict:
    out = {}
    for line in lines:
        m = PIN.match(line.strip())
        assert m, f"not an exact pin: {line!r}"
        out[_norm(m.group(1))] = m.group(2)
    return out


def pyproject_pins() -> dict:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    project = data["project"]
    return _pins(project["dependencies"] + project["optional-dependencies"]["dev"])


def conda_pins() -> dict:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    return _pins([p for p in pip_section if not p.startswith("-e")])


def test_every_dependency_is_pinned_exactly():
    assert pyproject_pins()  # _pins asserts each line is name==version


def test_pyproject_and_environment_yml_agree():
    py, conda = pyproject_pins(), conda_pins()
    only_py = {k: v for k, v in py.items() if conda.get(k) != v}
    only_conda = {k: v for k, v in conda.items() if py.get(k) != v}
    assert not only_py and not only_conda, f"drift: pyproject {only_py} vs environment.yml {only_conda}"


def test_environment_yml_python_matches_requires_python():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    py = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    minimum = data["project"]["requires-python"].lstrip(">=")
    assert tuple(map(int, py.split("=")[1].split("."))) >= tuple(map(int, minimum.split(".")))


def test_constraints_agree_with_pins():
    constraints = _pins(line for line in (ROOT / "constraints.txt").read_text().splitlines()
                        if line.strip() and not line.startswith("#"))
    for name, version in pyproject_pins().items():
        assert constraints.get(name) == version, f"constraints.txt has {name}=={constraints.get(name)}, pyproject {version}"


def test_torch_and_torchaudio_are_a_matched_pair():
    pins = pyproject_pins()
    minor = lambda v: v.split("+")[0].split(".")[:2]  # noqa: E731
    assert minor(pins["torch"]) == minor(pins["torchaudio"])


def test_installed_stack_is_the_pinned_one():
    from importlib import metadata

    for name in ("torch", "torchaudio", "nbgrader", "papermill", "librosa", "numpy"):
        assert metadata.version(name).split("+")[0] == pyproject_pins()[name]


def test_torchaudio_native_ops_load():
    import torch
    import torchaudio.functional as F

    log_probs = torch.randn(1, 6, 4).log_softmax(-1)
    path, _ = F.forced_align(log_probs, torch.tensor([[1, 2]], dtype=torch.int32), blank=0)
    assert path.shape == (1, 6)
    logits = torch.randn(1, 5, 3, 4)
    loss = F.rnnt_loss(logits, torch.tensor([[1, 2]], dtype=torch.int32),
                       torch.tensor([5], dtype=torch.int32), torch.tensor([2], dtype=torch.int32))
    assert torch.isfinite(loss)
