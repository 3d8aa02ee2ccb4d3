"""Synthesized environmental sounds: sirens, horns, engines, alarms, rain, wind...

Each class is a small parametric generator (pure NumPy) with seeded variety:
the pitch, speed, duration and texture are drawn from the seed, so two clips
of the same class differ the way two recordings would. Used as a sound
classification task (:func:`course_lib.data.corpus.sound_dataset`) and as
environmental background noise for speech.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from course_lib.checks import check_sample_rate

__all__ = ["SOUND_CLASSES", "synthesize_sound"]

#: The sound classes, in class-id order.
SOUND_CLASSES: tuple[str, ...] = (
    "siren",
    "car_horn",
    "engine",
    "alarm_beeps",
    "rain",
    "wind",
    "knock",
    "bark",
    "bird_chirp",
    "doorbell",
)


def _t(n: int, sr: int) -> np.ndarray:
    return np.arange(n) / sr


def _tone(freq: np.ndarray | float, n: int, sr: int, harmonics=(1.0,), phase: float = 0.0) -> np.ndarray:
    """Sum of harmonics following an instantaneous frequency (Hz, scalar or per sample)."""
    f = np.broadcast_to(np.asarray(freq, dtype=np.float64), (n,))
    ph = 2.0 * math.pi * np.cumsum(f) / sr + phase
    out = np.zeros(n)
    for k, amp in enumerate(harmonics, start=1):
        mask = f * k < sr / 2  # no aliasing
        out += amp * np.sin(k * ph) * mask
    return out


def _lowpass_noise(n: int, rng: np.random.Generator, cutoff: float, sr: int, order: int = 2) -> np.ndarray:
    from scipy.signal import butter, sosfilt

    sos = butter(order, min(cutoff, 0.45 * sr), btype="lowpass", fs=sr, output="sos")
    return sosfilt(sos, rng.standard_normal(n))


def _bandpass_noise(n: int, rng: np.random.Generator, lo: float, hi: float, sr: int) -> np.ndarray:
    from scipy.signal import butter, sosfilt

    sos = butter(2, [lo, min(hi, 0.45 * sr)], btype="bandpass", fs=sr, output="sos")
    return sosfilt(sos, rng.standard_normal(n))


def _siren(n, sr, rng):
    t = _t(n, sr)
    lo, hi = rng.uniform(500, 800), rng.uniform(1100, 1600)
    if rng.random() < 0.5:  # wail: slow sweep
        rate = rng.uniform(0.3, 0.8)
        f = lo + (hi - lo) * 0.5 * (1 - np.cos(2 * math.pi * rate * t + rng.uniform(0, 2 * math.pi)))
    else:  # yelp: fast saw sweep
        rate = rng.uniform(3.0, 6.0)
        f = lo + (hi - lo) * ((rate * t + rng.random()) % 1.0)
    return _tone(f, n, sr, harmonics=(1.0, 0.4, 0.2, 0.1))


def _car_horn(n, sr, rng):
    t = _t(n, sr)
    f0 = rng.uniform(350, 500)
    x = _tone(f0, n, sr, harmonics=(1, 0.8, 0.6, 0.5, 0.4, 0.3)) + _tone(f0 * 1.26, n, sr, harmonics=(1, 0.7, 0.5, 0.3))
    start, length = rng.uniform(0, 0.3), rng.uniform(0.3, 0.7)
    env = ((t > start) & (t < start + length)).astype(float)
    if rng.random() < 0.5:  # double honk
        s2 = start + length + rng.uniform(0.05, 0.15)
        env += ((t > s2) & (t < s2 + length * 0.6)).astype(float)
    return np.tanh(2.0 * x) * env


def _engine(n, sr, rng):
    t = _t(n, sr)
    f0 = rng.uniform(25, 60) * (1 + 0.1 * np.sin(2 * math.pi * rng.uniform(0.2, 1.0) * t))
    firing = _tone(f0, n, sr, harmonics=tuple(1.0 / k for k in range(1, 12)))
    rumble = _lowpass_noise(n, rng, rng.uniform(150, 400), sr)
    return firing + 0.5 * rumble / (np.std(rumble) + 1e-9)


def _alarm_beeps(n, sr, rng):
    t = _t(n, sr)
    f = rng.uniform(1800, 3500)
    period, duty = rng.uniform(0.15, 0.4), rng.uniform(0.3, 0.6)
    gate = (((t + rng.uniform(0, period)) % period) < duty * period).astype(float)
    return _tone(f, n, sr, harmonics=(1.0, 0.3)) * gate


def _rain(n, sr, rng):
    bed = _bandpass_noise(n, rng, 800, 8000, sr) * 0.3
    drops = np.zeros(n)
    count = int(rng.uniform(40, 150) * n / sr)
    pos = rng.integers(0, n, size=count)
    drops[pos] = rng.uniform(0.3, 1.0, size=count) * rng.choice([-1, 1], size=count)
    kernel_t = np.arange(int(0.004 * sr)) / sr
    kernel = np.exp(-kernel_t / 0.0008) * np.sin(2 * math.pi * rng.uniform(2000, 5000) * kernel_t)
    return bed / (np.std(bed) + 1e-9) * 0.3 + np.convolve(drops, kernel)[:n]


def _wind(n, sr, rng):
    t = _t(n, sr)
    noise = _lowpass_noise(n, rng, rng.uniform(300, 900), sr, order=4)
    gust = 0.5 + 0.5 * np.sin(2 * math.pi * rng.uniform(0.2, 1.0) * t + rng.uniform(0, 6.3))
    return noise / (np.std(noise) + 1e-9) * (0.3 + gust)


def _knock(n, sr, rng):
    out = np.zeros(n)
    k = int(rng.integers(2, 5))
    gap = rng.uniform(0.12, 0.25)
    start = rng.uniform(0.0, max(0.05, n / sr - k * gap - 0.1))
    f = rng.uniform(150, 400)
    length = int(0.08 * sr)
    tt = np.arange(length) / sr
    hit = np.exp(-tt / 0.015) * (np.sin(2 * math.pi * f * tt) + 0.5 * rng.standard_normal(length) * np.exp(-tt / 0.003))
    for i in range(k):
        p = int((start + i * gap) * sr)
        if p >= n:
            break
        seg = hit[: n - p]
        out[p : p + seg.shape[0]] += seg * rng.uniform(0.7, 1.0)
    return out


def _bark(n, sr, rng):
    out = np.zeros(n)
    k = int(rng.integers(1, 4))
    for i in range(k):
        dur = rng.uniform(0.12, 0.25)
        m = int(dur * sr)
        p = int(rng.uniform(0, max(1, n - m)))
        tt = np.arange(m) / sr
        f0 = rng.uniform(300, 700) * (1 + 0.6 * np.sin(math.pi * tt / dur))  # rise and fall
        src = _tone(f0, m, sr, harmonics=tuple(1.0 / k for k in range(1, 15)))
        src += 0.3 * rng.standard_normal(m)  # roughness
        env = np.sin(math.pi * tt / dur) ** 0.5
        from scipy.signal import lfilter

        fc = rng.uniform(900, 1600)  # one broad formant
        r = 0.97
        a = [1, -2 * r * math.cos(2 * math.pi * fc / sr), r * r]
        seg = lfilter([1 - r], a, src * env)
        seg = seg[: n - p]
        out[p : p + seg.shape[0]] += seg
    return out


def _bird_chirp(n, sr, rng):
    out = np.zeros(n)
    k = int(rng.integers(2, 6))
    for _ in range(k):
        dur = rng.uniform(0.05, 0.15)
        m = int(dur * sr)
        p = int(rng.uniform(0, max(1, n - m)))
        tt = np.arange(m) / sr
        f = rng.uniform(2500, 4500) + rng.uniform(-2000, 2000) * tt / dur
        seg = _tone(f, m, sr) * np.sin(math.pi * tt / dur) ** 2
        seg = seg[: n - p]
        out[p : p + seg.shape[0]] += seg
    return out


def _doorbell(n, sr, rng):
    t = _t(n, sr)
    f1 = rng.uniform(600, 900)
    f2 = f1 * rng.choice([0.8, 0.75, 0.84])  # ding-dong: a third or fourth down
    t2 = rng.uniform(0.3, 0.5)
    start = rng.uniform(0, 0.1)
    out = np.zeros(n)
    for f, s in ((f1, start), (f2, start + t2)):
        on = t >= s
        out += on * np.exp(-(t - s) * rng.uniform(3, 6)) * _tone(f, n, sr, harmonics=(1.0, 0.2, 0.15))
    return out


_GENERATORS = {
    "siren": _siren,
    "car_horn": _car_horn,
    "engine": _engine,
    "alarm_beeps": _alarm_beeps,
    "rain": _rain,
    "wind": _wind,
    "knock": _knock,
    "bark": _bark,
    "bird_chirp": _bird_chirp,
    "doorbell": _doorbell,
}
assert tuple(_GENERATORS) == SOUND_CLASSES


def _np_sound(name: str, n: int, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """One clip of class ``name``, peak-normalised to a random level in [0.3, 0.9]."""
    x = _GENERATORS[name](n, sample_rate, rng)
    peak = np.max(np.abs(x))
    if peak == 0:
        return x
    return x / peak * rng.uniform(0.3, 0.9)


def synthesize_sound(name: str, duration_s: float = 1.0, sample_rate: int = 16000, seed: int = 0) -> torch.Tensor:
    """Synthesize one environmental sound clip.

    Parameters
    ----------
    name : str
        One of :data:`SOUND_CLASSES`.
    duration_s : float
        Length in seconds, in (0, 30].
    sample_rate : int
        Hz, at least 8000.
    seed : int
        Draws the clip's parameters (pitch, timing, texture).

    Returns
    -------
    torch.Tensor
        ``(round(duration_s * sample_rate),)`` float32, peak in [0.3, 0.9].

    Examples
    --------
    >>> x = synthesize_sound("siren", 1.0, 16000, seed=0)
    >>> x.shape, x.dtype, 0.3 <= float(x.abs().max()) <= 0.9
    (torch.Size([16000]), torch.float32, True)
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    if name not in _GENERATORS:
        raise ValueError(f"unknown sound {name!r}; expected one of {list(SOUND_CLASSES)}")
    if isinstance(duration_s, bool) or not isinstance(duration_s, (int, float)):
        raise TypeError(f"duration_s must be a number of seconds, got {type(duration_s).__name__}")
    if not 0 < duration_s <= 30 or not math.isfinite(duration_s):
        raise ValueError(f"duration_s must lie in (0, 30] seconds, got {duration_s}")
    sample_rate = check_sample_rate(sample_rate)
    if sample_rate < 8000:
        raise ValueError(f"sample_rate must be at least 8000 Hz, got {sample_rate}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise TypeError(f"seed must be a non-negative int, got {seed!r}")
    n = int(round(duration_s * sample_rate))
    if n < 1:
        raise ValueError(f"duration_s * sample_rate must give at least one sample, got {n}")
    rng = np.random.default_rng([int(seed), SOUND_CLASSES.index(name)])
    return torch.from_numpy(_np_sound(name, n, sample_rate, rng).astype(np.float32))
