"""Matrix-multiply throughput (module 00): the arithmetic, the thread setting restored, bad input."""
from __future__ import annotations

import math

import pytest
import torch

from course_lib.profiling import matmul_flops, matmul_gflops, thread_scaling


def test_flop_count_is_two_n_cubed():
    assert matmul_flops(1) == 2
    assert matmul_flops(10) == 2000


def test_gflops_is_positive_and_finite():
    v = matmul_gflops(32, repeats=2)
    assert v > 0 and math.isfinite(v)


def test_gflops_uses_its_own_generator():
    torch.manual_seed(5)
    a = torch.rand(3)
    torch.manual_seed(5)
    matmul_gflops(16, repeats=1)
    assert torch.equal(torch.rand(3), a)  # the global generator was not drawn from


def test_gflops_float64():
    assert matmul_gflops(16, repeats=1, dtype=torch.float64) > 0


def test_thread_scaling_restores_the_setting_and_sorts():
    before = torch.get_num_threads()
    speeds = thread_scaling([2, 1, 1], n=32, repeats=1)
    assert list(speeds) == [1, 2]
    assert all(v > 0 for v in speeds.values())
    assert torch.get_num_threads() == before


@pytest.mark.parametrize("kwargs, err, match", [
    ({"n": 0}, ValueError, "n must be a positive int"),
    ({"n": 2.5}, TypeError, "n must be a positive int"),
    ({"repeats": -1}, ValueError, "repeats must be a positive int"),
    ({"dtype": torch.int64}, TypeError, "floating torch.dtype"),
    ({"seed": "0"}, TypeError, "seed must be an int"),
])
def test_bad_input(kwargs, err, match):
    with pytest.raises(err, match=match):
        matmul_gflops(**{"n": 8, "repeats": 1, **kwargs})


def test_thread_scaling_bad_input():
    with pytest.raises(TypeError, match="non-empty sequence"):
        thread_scaling([])
    with pytest.raises(ValueError, match="positive int"):
        thread_scaling([0])
