"""Recording conditions: microphones, telephone channels, rooms, noise, sessions.

A clip of speech reaches a model through a *room* (an impulse response), mixed
with *noise* at some signal-to-noise ratio, picked up by a *device* (a
microphone's frequency response, a narrow-band telephone codec, a gain that may
clip) during a *session* (a day, for time-based holdouts). This module holds
the primitives other modules import:

- :func:`white_noise`, :func:`pink_noise`, :func:`babble_noise`
- :func:`mix_at_snr` (exact SNR), :func:`snr_db`
- :func:`synthetic_rir`, :func:`apply_rir`, :func:`measure_rt60`
- :func:`apply_device`, :func:`mu_law_encode`, :func:`mu_law_decode`
- :class:`Condition`, :func:`draw_condition`, :func:`apply_condition`

Audio is a floating tensor ``(..., time)``; noise generators return ``(n,)``
float32 tensors. Internally the heavy lifting runs in NumPy (``_np_*``
functions) so that the corpus builder's worker processes never touch torch.
"""
from __future__ import annotations

import math
from functools import lru_cache
from dataclasses import asdict, dataclass
from typing import Mapping, Sequence

import numpy as np
import torch

from course_lib.checks import as_tensor, check_positive_int, check_sample_rate, check_tensor

__all__ = [
    "DEVICES",
    "ROOMS",
    "SLICES",
    "NOISE_TYPES",
    "Device",
    "Condition",
    "white_noise",
    "pink_noise",
    "babble_noise",
    "mix_at_snr",
    "snr_db",
    "synthetic_rir",
    "apply_rir",
    "measure_rt60",
    "apply_device",
    "mu_law_encode",
    "mu_law_decode",
    "draw_condition",
    "apply_condition",
]


# --------------------------------------------------------------------------- helpers
def _rng(seed) -> np.random.Generator:
    """A NumPy generator from an int seed (>= 0) or an existing generator."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be a non-negative int or numpy.random.Generator, got {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed}")
    return np.random.default_rng(int(seed))


def _check_audio(x, name: str = "signal") -> torch.Tensor:
    """Validate a floating ``(..., time)`` audio tensor."""
    return check_tensor(x, name, min_ndim=1, floating=True)


def _check_number(value, name: str, *, low: float | None = None, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if low is not None and value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    if high is not None and value > high:
        raise ValueError(f"{name} must be <= {high}, got {value}")
    return value


# --------------------------------------------------------------------------- noise
def _np_white(n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal(n)


def _np_pink(n: int, rng: np.random.Generator) -> np.ndarray:
    """1/f noise by shaping white noise's spectrum with 1/sqrt(f); unit RMS."""
    white = rng.standard_normal(n)
    spec = np.fft.rfft(white)
    freqs = np.arange(spec.shape[0], dtype=np.float64)
    freqs[0] = 1.0  # keep DC finite (it is removed below anyway)
    spec = spec / np.sqrt(freqs)
    spec[0] = 0.0
    pink = np.fft.irfft(spec, n=n)
    rms = np.sqrt(np.mean(pink**2))
    return pink / rms if rms > 0 else pink


def white_noise(n: int, seed: int | np.random.Generator = 0) -> torch.Tensor:
    """Gaussian white noise with unit variance.

    Parameters
    ----------
    n : int
        Number of samples.
    seed : int or numpy.random.Generator

    Returns
    -------
    torch.Tensor
        ``(n,)`` float32.

    Examples
    --------
    >>> x = white_noise(16000, seed=0)
    >>> x.shape, x.dtype, round(float(x.std()), 1)
    (torch.Size([16000]), torch.float32, 1.0)
    """
    n = check_positive_int(n, "n")
    return torch.from_numpy(_np_white(n, _rng(seed)).astype(np.float32))


def pink_noise(n: int, seed: int | np.random.Generator = 0) -> torch.Tensor:
    """Pink (1/f) noise: power falls 3 dB per octave; unit RMS, zero mean.

    Parameters
    ----------
    n : int
        Number of samples (at least 2).
    seed : int or numpy.random.Generator

    Returns
    -------
    torch.Tensor
        ``(n,)`` float32.

    Examples
    --------
    >>> x = pink_noise(16000, seed=1)
    >>> x.shape, round(float(x.pow(2).mean().sqrt()), 3)
    (torch.Size([16000]), 1.0)
    """
    n = check_positive_int(n, "n")
    if n < 2:
        raise ValueError(f"n must be at least 2 for pink noise, got {n}")
    return torch.from_numpy(_np_pink(n, _rng(seed)).astype(np.float32))


def _np_babble(utterances: Sequence[np.ndarray], n: int, rng: np.random.Generator) -> np.ndarray:
    out = np.zeros(n, dtype=np.float64)
    for utt in utterances:
        utt = np.asarray(utt, dtype=np.float64)
        rms = np.sqrt(np.mean(utt**2))
        if rms == 0:
            continue
        reps = int(np.ceil((n + utt.shape[0]) / utt.shape[0]))
        looped = np.tile(utt / rms, reps)
        start = int(rng.integers(0, utt.shape[0]))
        out += looped[start : start + n]
    rms = np.sqrt(np.mean(out**2))
    return out / rms if rms > 0 else out


def babble_noise(utterances: Sequence[torch.Tensor], n: int, seed: int | np.random.Generator = 0) -> torch.Tensor:
    """Babble: several talkers' speech summed, each looped from a random start.

    Each utterance is scaled to unit RMS before summing, so every talker is
    equally loud; the sum is scaled to unit RMS.

    Parameters
    ----------
    utterances : sequence of torch.Tensor
        1-D float waveforms (other speakers' speech), at least one.
    n : int
        Output length in samples.
    seed : int or numpy.random.Generator

    Returns
    -------
    torch.Tensor
        ``(n,)`` float32.

    Examples
    --------
    >>> talkers = [white_noise(800, seed=s) for s in range(3)]
    >>> babble_noise(talkers, 2000, seed=0).shape
    torch.Size([2000])
    """
    n = check_positive_int(n, "n")
    if isinstance(utterances, torch.Tensor) or not isinstance(utterances, Sequence) or len(utterances) == 0:
        raise ValueError("utterances must be a non-empty sequence of 1-D waveforms")
    arrays = [check_tensor(u, f"utterances[{i}]", ndim=1, floating=True).double().numpy() for i, u in enumerate(utterances)]
    out = _np_babble(arrays, n, _rng(seed))
    if not np.any(out):
        raise ValueError("all utterances are silent; babble needs speech with non-zero energy")
    return torch.from_numpy(out.astype(np.float32))


# --------------------------------------------------------------------------- SNR
def _np_mix_at_snr(signal: np.ndarray, noise: np.ndarray, snr: float) -> np.ndarray:
    p_sig = np.mean(signal.astype(np.float64) ** 2)
    p_noise = np.mean(noise.astype(np.float64) ** 2)
    scale = math.sqrt(p_sig / (p_noise * 10.0 ** (snr / 10.0)))
    return signal + scale * noise


def mix_at_snr(signal: torch.Tensor, noise: torch.Tensor, snr_db: float | torch.Tensor) -> torch.Tensor:
    """Add ``noise`` to ``signal``, scaled so the mixture has exactly ``snr_db``.

    The SNR is ``10 log10(P_signal / P_noise)`` with powers averaged over the
    time axis (per item for batched input). The signal is left unchanged; only
    the noise is scaled.

    Parameters
    ----------
    signal : torch.Tensor
        ``(..., time)`` floating audio with non-zero energy.
    noise : torch.Tensor
        Same shape as ``signal`` or broadcastable to it (e.g. ``(time,)``),
        with non-zero energy.
    snr_db : float or torch.Tensor
        Target SNR in dB; a tensor must broadcast to ``signal.shape[:-1]``.

    Returns
    -------
    torch.Tensor
        ``(..., time)`` mixture, same dtype as ``signal``.

    Examples
    --------
    >>> s, n = torch.sin(torch.arange(16000) * 0.1), white_noise(16000, seed=0)
    >>> y = mix_at_snr(s, n, 10.0)
    >>> round(float(snr_db(s, y - s)), 3)
    10.0
    """
    signal = _check_audio(signal, "signal")
    noise = _check_audio(noise, "noise")
    if noise.shape[-1] != signal.shape[-1]:
        raise ValueError(
            f"noise must have the same number of samples as signal ({signal.shape[-1]}), "
            f"got {noise.shape[-1]}; crop or loop the noise first"
        )
    try:
        torch.broadcast_shapes(noise.shape, signal.shape)
    except RuntimeError:
        raise ValueError(
            f"noise shape {tuple(noise.shape)} does not broadcast to signal shape {tuple(signal.shape)}"
        ) from None
    if isinstance(snr_db, torch.Tensor):
        snr = check_tensor(snr_db, "snr_db").double()
    else:
        snr = torch.tensor(_check_number(snr_db, "snr_db"), dtype=torch.float64)
    s64, n64 = signal.double(), noise.double()
    p_sig = s64.pow(2).mean(dim=-1)
    p_noise = n64.pow(2).mean(dim=-1)
    if bool((p_sig == 0).any()):
        raise ValueError("signal has zero energy (all zeros); the SNR is undefined")
    if bool((p_noise == 0).any()):
        raise ValueError("noise has zero energy (all zeros); it cannot be scaled to an SNR")
    scale = torch.sqrt(p_sig / (p_noise * torch.pow(10.0, snr / 10.0)))
    return (s64 + scale.unsqueeze(-1) * n64).to(signal.dtype)


def snr_db(signal: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """Signal-to-noise ratio ``10 log10(P_signal / P_noise)`` in dB over the time axis.

    Parameters
    ----------
    signal, noise : torch.Tensor
        ``(..., time)`` floating audio of the same shape.

    Returns
    -------
    torch.Tensor
        ``(...)`` SNR in dB (float64).

    Examples
    --------
    >>> s = torch.ones(100); float(snr_db(s, 0.1 * s))
    20.0
    """
    signal = _check_audio(signal, "signal")
    noise = _check_audio(noise, "noise")
    if signal.shape != noise.shape:
        raise ValueError(f"signal and noise must have the same shape, got {tuple(signal.shape)} and {tuple(noise.shape)}")
    p_n = noise.double().pow(2).mean(-1)
    if bool((p_n == 0).any()):
        raise ValueError("noise has zero energy; the SNR is infinite")
    return 10.0 * torch.log10(signal.double().pow(2).mean(-1) / p_n)


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


# --------------------------------------------------------------------------- devices
@dataclass(frozen=True)
class Device:
    """A capture device: band limits, one resonance, narrow-band codec, clipping.

    Attributes
    ----------
    name : str
    highpass_hz, lowpass_hz : float or None
        Band edges (2nd/4th order Butterworth); None = no filter.
    peak_hz, peak_db : float
        A resonance (peaking filter, Q = 1.5); ``peak_db = 0`` = none.
    narrowband : bool
        Telephone channel: 300-3400 Hz at 8 kHz with 8-bit mu-law companding.
    clip_fraction : float or None
        Overdriven input: clip at this fraction of the signal's own peak, then
        bring the peak back to full scale.
    description : str
    """

    name: str
    highpass_hz: float | None = None
    lowpass_hz: float | None = None
    peak_hz: float = 1000.0
    peak_db: float = 0.0
    narrowband: bool = False
    clip_fraction: float | None = None
    description: str = ""


#: The devices the corpus draws from.
DEVICES: dict[str, Device] = {
    d.name: d
    for d in [
        Device("studio", description="flat studio microphone"),
        Device("headset", 100.0, 7000.0, 2500.0, 2.0, description="close-talking headset"),
        Device("laptop", 250.0, 6000.0, 3000.0, 6.0, description="laptop built-in microphone, peaky and thin"),
        Device("smartphone", 150.0, 7500.0, 5000.0, 4.0, description="phone microphone, bright"),
        Device("smart_speaker", 120.0, 6500.0, 1200.0, -4.0, description="far-field speaker microphone, dull mids"),
        Device("cheap_mic", 400.0, 4500.0, 2000.0, 8.0, description="cheap electret microphone, narrow and resonant"),
        Device("telephone", narrowband=True, description="8 kHz narrow-band telephone channel, 300-3400 Hz, mu-law"),
        Device("clipping", 80.0, None, clip_fraction=0.3, description="overdriven preamp: hard clipping"),
    ]
}


def _peaking_sos(freq: float, gain_db: float, q: float, sample_rate: int) -> np.ndarray:
    """RBJ cookbook peaking equaliser as one second-order section."""
    a = 10.0 ** (gain_db / 40.0)
    w0 = 2.0 * math.pi * freq / sample_rate
    alpha = math.sin(w0) / (2.0 * q)
    b = np.array([1.0 + alpha * a, -2.0 * math.cos(w0), 1.0 - alpha * a])
    den = np.array([1.0 + alpha / a, -2.0 * math.cos(w0), 1.0 - alpha / a])
    return np.concatenate([b / den[0], den / den[0]])[None, :]


@lru_cache(maxsize=64)
def _device_sos(device: Device, sample_rate: int) -> np.ndarray | None:
    """The device's filter as second-order sections (designed once per rate)."""
    from scipy import signal as sps

    nyq = sample_rate / 2.0
    sections = []
    if device.highpass_hz is not None and device.highpass_hz < nyq * 0.9:
        sections.append(sps.butter(2, device.highpass_hz, btype="highpass", fs=sample_rate, output="sos"))
    if device.lowpass_hz is not None and device.lowpass_hz < nyq * 0.95:
        sections.append(sps.butter(4, device.lowpass_hz, btype="lowpass", fs=sample_rate, output="sos"))
    if device.peak_db != 0.0 and device.peak_hz < nyq * 0.9:
        sections.append(_peaking_sos(device.peak_hz, device.peak_db, 1.5, sample_rate))
    return np.concatenate(sections) if sections else None


@lru_cache(maxsize=4)
def _telephone_sos() -> np.ndarray:
    from scipy import signal as sps

    return sps.butter(4, [300.0, 3400.0], btype="bandpass", fs=8000, output="sos")


def _np_mu_law_encode(x: np.ndarray, q: int) -> np.ndarray:
    mu = q - 1.0
    y = np.sign(x) * np.log1p(mu * np.abs(x)) / math.log1p(mu)
    return ((y + 1.0) / 2.0 * mu + 0.5).astype(np.int64)


def _np_mu_law_decode(codes: np.ndarray, q: int) -> np.ndarray:
    mu = q - 1.0
    y = codes.astype(np.float64) / mu * 2.0 - 1.0
    return np.sign(y) * (np.exp(np.abs(y) * math.log1p(mu)) - 1.0) / mu


def _np_device(x: np.ndarray, device: Device, sample_rate: int, gain_db: float) -> np.ndarray:
    from scipy import signal as sps

    x = np.asarray(x, dtype=np.float64)
    if device.narrowband:
        g = math.gcd(8000, sample_rate)
        y = sps.resample_poly(x, 8000 // g, sample_rate // g, axis=-1)
        y = sps.sosfilt(_telephone_sos(), y, axis=-1) * 10.0 ** (gain_db / 20.0)
        y = _np_mu_law_decode(_np_mu_law_encode(np.clip(y, -1.0, 1.0), 256), 256)
        y = sps.resample_poly(y, sample_rate // g, 8000 // g, axis=-1)
        n = x.shape[-1]
        if y.shape[-1] < n:
            y = np.concatenate([y, np.zeros(y.shape[:-1] + (n - y.shape[-1],))], axis=-1)
        return np.clip(y[..., :n], -1.0, 1.0)
    sos = _device_sos(device, sample_rate)
    y = sps.sosfilt(sos, x, axis=-1) if sos is not None else x.copy()
    if device.clip_fraction is not None:
        peak = np.max(np.abs(x), axis=-1, keepdims=True)  # the input's peak
        level = np.maximum(peak * device.clip_fraction, 1e-12)
        y = np.clip(y, -level, level) / level * np.minimum(peak, 1.0)
    y = y * 10.0 ** (gain_db / 20.0)
    return np.clip(y, -1.0, 1.0)


def apply_device(signal: torch.Tensor, device_name: str, sample_rate: int = 16000, *, gain_db: float = 0.0) -> torch.Tensor:
    """Pass audio through a capture device from :data:`DEVICES`, then a gain and full-scale clipping.

    ``"telephone"`` resamples to 8 kHz, band-passes 300-3400 Hz, quantises
    with 8-bit mu-law and comes back to ``sample_rate`` (so nothing is left
    above 4 kHz). ``"clipping"`` clips at 30 % of the signal's peak. Every
    device ends with ``gain_db`` and a clip to [-1, 1] (an ADC's full scale).

    Parameters
    ----------
    signal : torch.Tensor
        ``(..., time)`` floating audio in [-1, 1].
    device_name : str
        A key of :data:`DEVICES`.
    sample_rate : int
        Hz, at least 8000.
    gain_db : float
        Input gain in dB applied before the final clip.

    Returns
    -------
    torch.Tensor
        ``(..., time)``, same dtype as ``signal``.

    Examples
    --------
    >>> x = 0.5 * torch.sin(torch.arange(16000) * 2 * math.pi * 1000 / 16000)
    >>> y = apply_device(x, "clipping")
    >>> round(float(y.abs().max()), 2)
    0.5
    >>> apply_device(x, "telephone").shape
    torch.Size([16000])
    """
    signal = _check_audio(signal, "signal")
    if not isinstance(device_name, str):
        raise TypeError(f"device_name must be a str, got {type(device_name).__name__}")
    if device_name not in DEVICES:
        raise ValueError(f"unknown device {device_name!r}; expected one of {sorted(DEVICES)}")
    sample_rate = check_sample_rate(sample_rate)
    if sample_rate < 8000:
        raise ValueError(f"sample_rate must be at least 8000 Hz, got {sample_rate} Hz")
    gain = _check_number(gain_db, "gain_db", low=-60.0, high=60.0)
    y = _np_device(signal.double().numpy(), DEVICES[device_name], sample_rate, gain)
    return torch.from_numpy(y).to(signal.dtype)


def mu_law_encode(x: torch.Tensor, quantization_channels: int = 256) -> torch.Tensor:
    """Mu-law companding to integer codes in ``[0, quantization_channels - 1]``.

    Same convention as :func:`torchaudio.functional.mu_law_encoding`.

    Parameters
    ----------
    x : torch.Tensor
        ``(..., time)`` floating audio in [-1, 1].
    quantization_channels : int
        Number of codes (256 for 8-bit telephone audio).

    Returns
    -------
    torch.Tensor
        ``(..., time)`` int64 codes.

    Examples
    --------
    >>> mu_law_encode(torch.tensor([-1.0, 0.0, 1.0])).tolist()
    [0, 128, 255]
    """
    x = _check_audio(x, "x")
    q = check_positive_int(quantization_channels, "quantization_channels")
    if q < 2:
        raise ValueError(f"quantization_channels must be at least 2, got {q}")
    if bool((x.abs() > 1.0).any()):
        raise ValueError(f"x must lie in [-1, 1], got max |x| = {float(x.abs().max()):.4g}; normalise or clip first")
    return torch.from_numpy(_np_mu_law_encode(x.double().numpy(), q))


def mu_law_decode(codes: torch.Tensor, quantization_channels: int = 256) -> torch.Tensor:
    """Invert :func:`mu_law_encode`: integer codes back to float32 audio in [-1, 1].

    Parameters
    ----------
    codes : torch.Tensor
        ``(..., time)`` integer codes in ``[0, quantization_channels - 1]``.
    quantization_channels : int

    Returns
    -------
    torch.Tensor
        ``(..., time)`` float32.

    Examples
    --------
    >>> [round(v, 3) for v in mu_law_decode(torch.tensor([0, 128, 255])).tolist()]
    [-1.0, 0.0, 1.0]
    """
    codes = check_tensor(codes, "codes", min_ndim=1)
    if codes.is_floating_point() or codes.dtype == torch.bool:
        raise TypeError(f"codes must be an integer tensor, got {codes.dtype}")
    q = check_positive_int(quantization_channels, "quantization_channels")
    if int(codes.min()) < 0 or int(codes.max()) > q - 1:
        raise ValueError(f"codes must lie in [0, {q - 1}], got [{int(codes.min())}, {int(codes.max())}]")
    return torch.from_numpy(_np_mu_law_decode(codes.numpy(), q).astype(np.float32))


# --------------------------------------------------------------------------- conditions
#: Noise types a condition may carry.
NOISE_TYPES = ("none", "white", "pink", "babble", "environment")

#: Named slices: how a condition is drawn. ``mixed`` draws one slice per clip.
SLICES: dict[str, dict] = {
    "clean": {"devices": ["studio", "headset"], "rooms": ["dry"], "noises": ["none"], "snr": (30.0, 40.0)},
    "noisy": {
        "devices": ["studio", "headset", "smartphone", "laptop"],
        "rooms": ["dry", "small"],
        "noises": ["white", "pink", "babble", "environment"],
        "snr": (0.0, 15.0),
    },
    "far": {
        "devices": ["smart_speaker", "laptop"],
        "rooms": ["office", "reverberant"],
        "noises": ["none", "pink", "babble", "environment"],
        "snr": (5.0, 20.0),
    },
    "telephone": {
        "devices": ["telephone"],
        "rooms": ["dry", "small"],
        "noises": ["none", "pink", "babble"],
        "snr": (10.0, 25.0),
    },
    "device": {
        "devices": ["laptop", "smartphone", "cheap_mic", "clipping"],
        "rooms": ["dry", "small"],
        "noises": ["none", "pink"],
        "snr": (15.0, 30.0),
    },
}
#: Probabilities of the slices in ``mixed`` mode.
MIXED_WEIGHTS: dict[str, float] = {"clean": 0.3, "noisy": 0.25, "far": 0.2, "telephone": 0.15, "device": 0.1}
#: Number of session days a corpus spans (for time-based holdouts).
N_SESSION_DAYS = 90


@dataclass(frozen=True)
class Condition:
    """How one clip was recorded (all of it goes into the clip's metadata).

    Attributes
    ----------
    slice : str
        The slice it was drawn from (``clean``, ``noisy``, ``far``, ``telephone``, ``device``).
    device : str
        A key of :data:`DEVICES`.
    gain_db : float
        Input gain in dB.
    room : str
        A key of :data:`ROOMS`.
    rt60_s : float
        0 for a dry room.
    drr_db : float
        Direct-to-reverberant ratio (inf for a dry room).
    noise : str
        One of :data:`NOISE_TYPES`.
    snr_db : float
        NaN when ``noise == "none"``.
    session : int
        Session day index in ``[0, N_SESSION_DAYS)``.
    timestamp : str
        ISO time of the session.
    """

    slice: str
    device: str
    gain_db: float
    room: str
    rt60_s: float
    drr_db: float
    noise: str
    snr_db: float
    session: int
    timestamp: str

    def as_dict(self) -> dict:
        """The fields as a plain dict."""
        return asdict(self)


def draw_condition(
    seed: int | np.random.Generator,
    conditions: str = "mixed",
    *,
    snr_db: float | None = None,
    room: str | None = None,
    device: str | None = None,
    noise: str | None = None,
) -> Condition:
    """Draw a recording condition from a named slice, with optional fixed parts.

    In ``mixed`` mode the slice is drawn per clip with :data:`MIXED_WEIGHTS`;
    later session days see slightly more telephone and far-field clips (a mild
    drift, so that time-based holdouts differ from random ones).

    Parameters
    ----------
    seed : int or numpy.random.Generator
    conditions : str
        ``mixed`` or a key of :data:`SLICES`.
    snr_db : float, optional
        Fix the SNR (noise becomes mandatory: pink/babble/white/environment drawn
        unless ``noise`` is given).
    room : str, optional
        Fix the room (a key of :data:`ROOMS`).
    device : str, optional
        Fix the device (a key of :data:`DEVICES`).
    noise : str, optional
        Fix the noise type (one of :data:`NOISE_TYPES`).

    Returns
    -------
    Condition

    Examples
    --------
    >>> c = draw_condition(0, "clean", snr_db=10.0, room="reverberant")
    >>> c.room, c.snr_db, c.noise != "none", c.rt60_s >= 0.7
    ('reverberant', 10.0, True, True)
    """
    rng = _rng(seed)
    valid = ["mixed", *SLICES]
    if not isinstance(conditions, str) or conditions not in valid:
        raise ValueError(f"conditions must be one of {valid}, got {conditions!r}")
    if room is not None and room not in ROOMS:
        raise ValueError(f"room must be one of {sorted(ROOMS)}, got {room!r}")
    if device is not None and device not in DEVICES:
        raise ValueError(f"device must be one of {sorted(DEVICES)}, got {device!r}")
    if noise is not None and noise not in NOISE_TYPES:
        raise ValueError(f"noise must be one of {list(NOISE_TYPES)}, got {noise!r}")
    if snr_db is not None:
        snr_db = _check_number(snr_db, "snr_db", low=-20.0, high=80.0)
        if noise == "none":
            raise ValueError("snr_db was given but noise='none'; pick a noise type or drop snr_db")
    session = int(rng.integers(0, N_SESSION_DAYS))
    hour = int(rng.integers(7, 23))
    minute = int(rng.integers(0, 60))
    if conditions == "mixed":
        names = list(MIXED_WEIGHTS)
        w = np.array([MIXED_WEIGHTS[k] for k in names])
        drift = session / (N_SESSION_DAYS - 1)  # 0 -> 1 over the sessions
        w = w * np.array([1.0 - 0.3 * drift if k in ("clean", "noisy") else 1.0 + 0.6 * drift for k in names])
        name = names[int(rng.choice(len(names), p=w / w.sum()))]
    else:
        name = conditions
    spec = SLICES[name]
    dev = device or spec["devices"][int(rng.integers(len(spec["devices"])))]
    gain = float(np.round(rng.uniform(-6.0, 6.0), 2))
    room_name = room or spec["rooms"][int(rng.integers(len(spec["rooms"])))]
    r = ROOMS[room_name]
    rt60 = float(np.round(rng.uniform(r["rt60_low"], r["rt60_high"]), 3)) if r["rt60_high"] > 0 else 0.0
    if noise is not None:
        noise_type = noise
    elif snr_db is not None:
        noise_type = ["white", "pink", "babble", "environment"][int(rng.integers(4))]
    else:
        noise_type = spec["noises"][int(rng.integers(len(spec["noises"])))]
    snr_draw = float(np.round(rng.uniform(*spec["snr"]), 2))
    snr = float("nan") if noise_type == "none" else (snr_db if snr_db is not None else snr_draw)
    day = np.datetime64("2024-01-01") + np.timedelta64(session, "D")
    stamp = f"{day}T{hour:02d}:{minute:02d}:00"
    return Condition(name, dev, gain, room_name, rt60, float(r["drr_db"]), noise_type, snr, session, stamp)


def _np_apply_condition(
    speech: np.ndarray,
    cond: Condition,
    sample_rate: int,
    rng: np.random.Generator,
    noise: np.ndarray | None = None,
) -> np.ndarray:
    x = np.asarray(speech, dtype=np.float64)
    if cond.rt60_s > 0:
        x = _np_apply_rir(x, _np_rir(cond.rt60_s, sample_rate, rng, cond.drr_db))
    if cond.noise != "none":
        if noise is None:
            if cond.noise == "white":
                noise = _np_white(x.shape[-1], rng)
            elif cond.noise == "pink":
                noise = _np_pink(x.shape[-1], rng)
            else:
                raise ValueError(f"noise type {cond.noise!r} needs a noise waveform; pass noise=")
        if np.mean(x**2) > 0:
            x = _np_mix_at_snr(x, np.asarray(noise, dtype=np.float64), cond.snr_db)
    return _np_device(x, DEVICES[cond.device], sample_rate, cond.gain_db)


def apply_condition(
    signal: torch.Tensor,
    condition: Condition,
    sample_rate: int = 16000,
    *,
    noise: torch.Tensor | None = None,
    seed: int | np.random.Generator = 0,
) -> torch.Tensor:
    """Render a :class:`Condition`: room, then noise at the SNR, then the device and gain.

    Parameters
    ----------
    signal : torch.Tensor
        ``(time,)`` floating speech in [-1, 1].
    condition : Condition
    sample_rate : int
    noise : torch.Tensor, optional
        ``(time,)`` noise waveform; required for ``babble`` and ``environment``
        noise, generated from ``seed`` for ``white`` and ``pink``.
    seed : int or numpy.random.Generator
        Draws the impulse response and generated noise.

    Returns
    -------
    torch.Tensor
        ``(time,)`` float32 in [-1, 1].

    Examples
    --------
    >>> x = 0.1 * torch.sin(torch.arange(16000) * 0.2)
    >>> c = draw_condition(3, "far", noise="pink")
    >>> apply_condition(x, c, seed=0).shape
    torch.Size([16000])
    """
    signal = check_tensor(signal, "signal", ndim=1, floating=True)
    if not isinstance(condition, Condition):
        raise TypeError(f"condition must be a Condition (see draw_condition), got {type(condition).__name__}")
    sample_rate = check_sample_rate(sample_rate)
    if noise is not None:
        noise = check_tensor(noise, "noise", ndim=1, floating=True)
        if noise.shape[-1] != signal.shape[-1]:
            raise ValueError(f"noise must have {signal.shape[-1]} samples like signal, got {noise.shape[-1]}")
        noise = noise.double().numpy()
    y = _np_apply_condition(signal.double().numpy(), condition, sample_rate, _rng(seed), noise)
    return torch.from_numpy(y.astype(np.float32))


def condition_from_meta(meta: Mapping) -> Condition:
    """Rebuild a :class:`Condition` from a clip's metadata dict.

    Examples
    --------
    >>> c = draw_condition(1, "noisy")
    >>> condition_from_meta(c.as_dict()) == c
    True
    """
    fields = Condition.__dataclass_fields__
    missing = [k for k in fields if k not in meta]
    if missing:
        raise ValueError(f"meta lacks condition fields {missing}")
    return Condition(**{k: meta[k] for k in fields})
