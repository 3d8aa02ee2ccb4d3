"""Noise and signal-to-noise ratio: white, pink and babble noise; mixing at an exact SNR.

Audio is a floating tensor ``(..., time)``; noise generators return ``(n,)``
float32 tensors. The heavy lifting runs in NumPy (``_np_*`` functions) so
that the corpus builder's worker processes never touch torch.
"""
from __future__ import annotations

import math
from typing import Sequence
import numpy as np
import torch
from course_lib.checks import check_positive_int, check_tensor

__all__ = [
    "white_noise",
    "pink_noise",
    "babble_noise",
    "mix_at_snr",
    "snr_db",
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
        batch_shape = tuple(signal.shape[:-1])
        try:
            fits = tuple(torch.broadcast_shapes(snr.shape, batch_shape)) == batch_shape
        except RuntimeError:
            fits = False
        if not fits:
            raise ValueError(
                f"snr_db must broadcast to signal.shape[:-1] = {batch_shape} (one SNR per item), "
                f"got shape {tuple(snr.shape)}"
            )
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
