"""Rooms: synthetic impulse responses (RT60, direct-to-reverberant ratio), convolution, RT60 measurement.
"""
from __future__ import annotations

import math
import numpy as np
import torch
from course_lib.checks import check_sample_rate, check_tensor
from course_lib.data.noise import _rng, _check_audio, _check_number

__all__ = [
    "ROOMS",
    "synthetic_rir",
    "apply_rir",
    "measure_rt60",
]

# --------------------------------------------------------------------------- rooms
#: Named rooms: (low, high) RT60 in seconds and the direct-to-reverberant ratio in dB.
ROOMS: dict[str, dict[str, float]] = {
    "dry": {"rt60_low": 0.0, "rt60_high": 0.0, "drr_db": float("inf")},
    "small": {"rt60_low": 0.15, "rt60_high": 0.3, "drr_db": 8.0},
    "office": {"rt60_low": 0.3, "rt60_high": 0.6, "drr_db": 3.0},
    "reverberant": {"rt60_low": 0.7, "rt60_high": 1.2, "drr_db": -2.0},
}


def _np_rir(rt60: float, sample_rate: int, rng: np.random.Generator, drr_db: float, n_early: int = 6) -> np.ndarray:
    length = max(int(round(1.2 * rt60 * sample_rate)), int(0.05 * sample_rate))
    t = np.arange(length) / sample_rate
    decay = np.exp(-3.0 * math.log(10.0) * t / rt60)  # amplitude: -60 dB of energy at t = rt60
    tail = rng.standard_normal(length) * decay
    onset = int(0.004 * sample_rate)  # diffuse tail starts 4 ms after the direct sound
    tail[:onset] = 0.0
    early = np.zeros(length)
    delays = rng.integers(int(0.002 * sample_rate), int(0.03 * sample_rate), size=n_early)
    gains = rng.uniform(0.3, 0.8, size=n_early) * rng.choice([-1.0, 1.0], size=n_early)
    np.add.at(early, delays, gains * decay[delays])
    reverb = tail + early * np.sqrt(np.sum(tail**2) / max(np.sum(early**2), 1e-12)) * 0.5
    reverb *= math.sqrt(10.0 ** (-drr_db / 10.0) / np.sum(reverb**2))
    reverb[0] = 1.0  # the direct path, at lag 0 so that speech keeps its position
    return reverb


def synthetic_rir(
    rt60_s: float,
    sample_rate: int = 16000,
    seed: int | np.random.Generator = 0,
    *,
    drr_db: float = 3.0,
) -> torch.Tensor:
    """A synthetic room impulse response: direct path, early reflections, decaying tail.

    The diffuse tail is Gaussian noise under an exponential envelope whose
    energy falls by 60 dB after ``rt60_s`` seconds; a few early reflections
    (2-30 ms) sit on top. The direct path is a unit impulse at lag 0 and the
    reverberant part is scaled to the requested direct-to-reverberant ratio.

    Parameters
    ----------
    rt60_s : float
        Reverberation time in seconds, in (0, 3].
    sample_rate : int
        Hz.
    seed : int or numpy.random.Generator
    drr_db : float
        Direct-to-reverberant energy ratio in dB (lower = farther talker).

    Returns
    -------
    torch.Tensor
        ``(n_taps,)`` float32 with ``n_taps = max(1.2 * rt60_s, 0.05) * sample_rate``.

    Examples
    --------
    >>> h = synthetic_rir(0.5, 16000, seed=0)
    >>> h.shape, float(h[0])
    (torch.Size([9600]), 1.0)
    >>> round(measure_rt60(h, 16000), 1)
    0.5
    """
    rt60 = _check_number(rt60_s, "rt60_s", low=0.0, high=3.0)
    if rt60 <= 0:
        raise ValueError(f"rt60_s must be > 0 seconds (use no RIR for a dry room), got {rt60}")
    sample_rate = check_sample_rate(sample_rate)
    drr = _check_number(drr_db, "drr_db", low=-30.0, high=60.0)
    return torch.from_numpy(_np_rir(rt60, sample_rate, _rng(seed), drr).astype(np.float32))


def _np_apply_rir(signal: np.ndarray, rir: np.ndarray) -> np.ndarray:
    n = signal.shape[-1]
    size = 1 << int(np.ceil(np.log2(n + rir.shape[-1] - 1)))
    out = np.fft.irfft(np.fft.rfft(signal, size) * np.fft.rfft(rir, size), size)
    return out[..., :n]


def apply_rir(signal: torch.Tensor, rir: torch.Tensor) -> torch.Tensor:
    """Convolve audio with a room impulse response (FFT), keeping the input length.

    Parameters
    ----------
    signal : torch.Tensor
        ``(..., time)`` floating audio.
    rir : torch.Tensor
        ``(taps,)`` or ``(..., taps)`` broadcastable to the signal's leading axes.

    Returns
    -------
    torch.Tensor
        ``(..., time)``: the first ``time`` samples of the full convolution.

    Examples
    --------
    >>> x = torch.zeros(8); x[0] = 1.0
    >>> apply_rir(x, torch.tensor([1.0, 0.5])).tolist()
    [1.0, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    """
    signal = _check_audio(signal, "signal")
    rir = check_tensor(rir, "rir", min_ndim=1, floating=True)
    n = signal.shape[-1]
    size = 1 << int(math.ceil(math.log2(n + rir.shape[-1] - 1)))
    spec = torch.fft.rfft(signal.double(), size) * torch.fft.rfft(rir.double(), size)
    return torch.fft.irfft(spec, size)[..., :n].to(signal.dtype)


def measure_rt60(rir: torch.Tensor, sample_rate: int = 16000, *, db_range: tuple[float, float] = (-5.0, -25.0)) -> float:
    """Reverberation time from an impulse response by Schroeder backward integration.

    Fits a line to the energy decay curve between ``db_range`` (T20 by
    default) and extrapolates it to -60 dB.

    Parameters
    ----------
    rir : torch.Tensor
        ``(taps,)`` impulse response.
    sample_rate : int
    db_range : (float, float)
        Start and end of the fit in dB, e.g. ``(-5, -35)`` for T30.

    Returns
    -------
    float
        RT60 in seconds.

    Examples
    --------
    >>> t = torch.arange(16000) / 16000
    >>> from course_lib.data.noise import white_noise
    >>> h = torch.exp(-3 * math.log(10) * t / 0.4) * white_noise(16000, seed=0)
    >>> round(measure_rt60(h, 16000), 2)
    0.4
    """
    rir = check_tensor(rir, "rir", ndim=1, floating=True)
    sample_rate = check_sample_rate(sample_rate)
    hi, lo = float(db_range[0]), float(db_range[1])
    if not 0 > hi > lo:
        raise ValueError(f"db_range must be (start, end) with 0 > start > end, got {db_range}")
    energy = rir.double().pow(2).numpy()
    edc = np.cumsum(energy[::-1])[::-1]
    if edc[0] <= 0:
        raise ValueError("rir has zero energy")
    edc_db = 10.0 * np.log10(np.maximum(edc / edc[0], 1e-300))
    sel = np.nonzero((edc_db <= hi) & (edc_db >= lo))[0]
    if sel.size < 2:
        raise ValueError(f"the decay curve does not span {hi} to {lo} dB; the response is too short")
    t = sel / sample_rate
    slope, _ = np.polyfit(t, edc_db[sel], 1)  # dB per second (negative)
    return float(-60.0 / slope)
