"""Measuring speed: matrix-multiply throughput and how it scales with threads.

Module 00 measures how fast a machine multiplies matrices, the operation that
dominates most of the course's training time; later modules time models the
same way. A matrix product of two ``(n, n)`` matrices costs ``2 n^3``
floating-point operations (``n^3`` multiply-adds), so its throughput in
GFLOP/s is ``2 n^3 * repeats / seconds / 1e9``.

Timings differ between machines and between runs on one machine: a notebook
cell that prints them starts with ``# NBVAL_IGNORE_OUTPUT``.
"""
from __future__ import annotations

import time
from typing import Sequence

import torch

from course_lib.checks import check_positive_int

__all__ = ["matmul_flops", "matmul_gflops", "thread_scaling"]


def matmul_flops(n: int) -> int:
    """Floating-point operations of one ``(n, n) @ (n, n)`` product: ``2 n^3``.

    Examples
    --------
    >>> matmul_flops(512)
    268435456
    """
    n = check_positive_int(n, "n")
    return 2 * n ** 3


def matmul_gflops(n: int = 512, repeats: int = 5, *, dtype: torch.dtype = torch.float32, seed: int = 0) -> float:
    """Throughput of a square matrix multiply on this machine, in GFLOP/s.

    Multiplies two random ``(n, n)`` matrices once to warm up (allocations,
    kernel selection), then ``repeats`` times under a wall-clock timer, with
    the threads torch is set to use (``torch.get_num_threads()``).

    Parameters
    ----------
    n : int
        Matrix size (default 512: 0.27 GFLOP per product).
    repeats : int
        Timed products (default 5).
    dtype : torch.dtype
        A floating dtype (default float32).
    seed : int
        Seed of the random matrices (the values do not change the speed; the
        seed keeps the function free of global state).

    Returns
    -------
    float
        GFLOP/s (higher is faster). Differs between runs: never compare it exactly.

    Examples
    --------
    >>> matmul_gflops(64, repeats=2) > 0
    True
    """
    n = check_positive_int(n, "n")
    repeats = check_positive_int(repeats, "repeats")
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating torch.dtype, got {dtype!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(n, n, generator=g, dtype=dtype)
    b = torch.randn(n, n, generator=g, dtype=dtype)
    a @ b  # warm-up
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    seconds = max(time.perf_counter() - start, 1e-9)
    return matmul_flops(n) * repeats / seconds / 1e9


def thread_scaling(threads: Sequence[int], n: int = 512, repeats: int = 5) -> dict[int, float]:
    """Matrix-multiply GFLOP/s with each number of threads; torch's setting is restored afterwards.

    Parameters
    ----------
    threads : sequence of int
        Thread counts to try (e.g. ``[1, os.cpu_count()]``); duplicates are merged.
    n, repeats : int
        As in :func:`matmul_gflops`.

    Returns
    -------
    dict of int to float
        Thread count -> GFLOP/s, in increasing thread order.

    Examples
    --------
    >>> before = torch.get_num_threads()
    >>> speeds = thread_scaling([1], n=64, repeats=2)
    >>> list(speeds), torch.get_num_threads() == before
    ([1], True)
    """
    if isinstance(threads, (str, bytes)) or not isinstance(threads, Sequence) or len(threads) == 0:
        raise TypeError(f"threads must be a non-empty sequence of positive ints, got {threads!r}")
    counts = sorted({check_positive_int(t, "threads[i]") for t in threads})
    before = torch.get_num_threads()
    speeds = {}
    try:
        for t in counts:
            torch.set_num_threads(t)
            speeds[t] = matmul_gflops(n, repeats)
    finally:
        torch.set_num_threads(before)
    return speeds
