"""Cepstra: the DCT, MFCCs, the cepstral (vocal-tract) envelope and delta features.

Inputs are log-mel features ``(..., n_mels, frames)`` or audio ``(..., time)``;
MFCCs are ``(..., n_mfcc, frames)``. Parity (``tests/test_audio.py``):
``mfcc`` equals ``librosa.feature.mfcc`` and torchaudio's MFCC within abs. 1e-3;
``deltas`` equals torchaudio ``compute_deltas`` within abs. 1e-5.
"""
from __future__ import annotations

import math
import torch
from torch import nn
from course_lib.checks import (
    check_positive_int,
    check_tensor,
)
from course_lib.audio import power_to_db
from course_lib.mel import MelSpectrogram, mel_spectrogram

__all__ = [
    "dct_matrix",
    "mfcc_from_log_mel",
    "mfcc",
    "cepstral_envelope",
    "deltas",
    "MFCC",
]

# --------------------------------------------------------------------------- cepstra
def dct_matrix(n_in: int, n_out: int | None = None, *, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Orthonormal DCT-II matrix (``scipy.fft.dct(..., type=2, norm="ortho")``).

    ``D[k, n] = s_k cos(pi k (2n + 1) / (2 N))`` with ``s_0 = sqrt(1/N)`` and
    ``s_k = sqrt(2/N)`` otherwise, so that ``D @ D.T = I``.

    Parameters
    ----------
    n_in : int
        Input length ``N`` (e.g. the number of mel bands).
    n_out : int, optional
        Number of coefficients kept (``<= n_in``, default ``n_in``).
    dtype : torch.dtype

    Returns
    -------
    torch.Tensor, shape ``(n_out, n_in)``

    Examples
    --------
    >>> d = dct_matrix(4)
    >>> torch.allclose(d @ d.T, torch.eye(4), atol=1e-6)
    True
    """
    n_in = check_positive_int(n_in, "n_in")
    n_out = n_in if n_out is None else check_positive_int(n_out, "n_out")
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating torch.dtype, got {dtype!r}")
    if n_out > n_in:
        raise ValueError(f"n_out must be <= n_in ({n_in}), got {n_out}")
    n = torch.arange(n_in, dtype=torch.float64)
    k = torch.arange(n_out, dtype=torch.float64)[:, None]
    d = torch.cos(math.pi * k * (2 * n + 1) / (2 * n_in)) * math.sqrt(2.0 / n_in)
    d[0] /= math.sqrt(2.0)
    return d.to(dtype)


def mfcc_from_log_mel(log_mel_spec, n_mfcc: int = 13) -> torch.Tensor:
    """MFCCs: the orthonormal DCT-II of a log-mel spectrogram along the mel axis.

    Parameters
    ----------
    log_mel_spec : torch.Tensor or numpy.ndarray, shape ``(..., n_mels, frames)``
        Log-mel features (in dB for librosa/torchaudio-compatible values).
    n_mfcc : int
        Coefficients kept (``<= n_mels``).

    Returns
    -------
    torch.Tensor, shape ``(..., n_mfcc, frames)``

    Examples
    --------
    >>> mfcc_from_log_mel(torch.ones(40, 3), n_mfcc=2)   # flat spectrum: all energy in c0
    tensor([[6.3246, 6.3246, 6.3246],
            [0.0000, 0.0000, 0.0000]])
    """
    s = check_tensor(log_mel_spec, "log_mel_spec", min_ndim=2, floating=True)
    n_mfcc = check_positive_int(n_mfcc, "n_mfcc")
    if n_mfcc > s.shape[-2]:
        raise ValueError(f"n_mfcc must be <= n_mels ({s.shape[-2]}), got {n_mfcc}")
    d = dct_matrix(s.shape[-2], n_mfcc, dtype=s.dtype).to(s.device)
    return torch.matmul(d, s)  # (C, M) @ (..., M, T) -> (..., C, T)


def mfcc(
    x,
    sample_rate: int = 16000,
    n_mfcc: int = 13,
    n_fft: int = 400,
    hop_length: int = 160,
    win_length: int | None = None,
    n_mels: int = 40,
    *,
    f_min: float = 0.0,
    f_max: float | None = None,
    htk: bool = True,
    norm: str | None = None,
    top_db: float | None = 80.0,
    center: bool = True,
    pad_mode: str = "reflect",
) -> torch.Tensor:
    """Mel-frequency cepstral coefficients of audio.

    ``mfcc_from_log_mel(power_to_db(mel_spectrogram(x), top_db=top_db), n_mfcc)``:
    the same recipe as ``librosa.feature.mfcc`` and ``torchaudio.transforms.MFCC``
    (dB log-mel, orthonormal DCT-II). Coefficient 0 is the frame's overall
    level; the low coefficients describe the smooth spectral envelope.

    Parameters
    ----------
    x : torch.Tensor or numpy.ndarray, shape ``(..., time)``
    sample_rate, n_fft, hop_length, win_length, n_mels, f_min, f_max, htk, norm, center, pad_mode
        As in :func:`mel_spectrogram`.
    n_mfcc : int
        Coefficients kept.
    top_db : float or None
        As in :func:`power_to_db` (80 dB like librosa and torchaudio).

    Returns
    -------
    torch.Tensor, shape ``(..., n_mfcc, frames)``

    Examples
    --------
    >>> mfcc(torch.randn(16000)).shape
    torch.Size([13, 101])
    """
    mel = mel_spectrogram(
        x, sample_rate, n_fft, hop_length, win_length, n_mels,
        f_min=f_min, f_max=f_max, htk=htk, norm=norm, center=center, pad_mode=pad_mode,
    )
    return mfcc_from_log_mel(power_to_db(mel, top_db=top_db), n_mfcc)


def cepstral_envelope(log_magnitude, n_coeffs: int = 30) -> torch.Tensor:
    """Smooth a log-magnitude spectrum by keeping its low-quefrency cepstrum (liftering).

    The real cepstrum is the inverse Fourier transform of the log magnitude;
    the slowly varying vocal-tract envelope lives in its first coefficients,
    the fine harmonic structure of the source at the quefrency ``1 / f0``.
    Keeping the first ``n_coeffs`` coefficients (and their mirror images) and
    transforming back gives the envelope, with the harmonics smoothed away.
    Choose ``n_coeffs`` below the pitch period in samples (``sample_rate / f0``).

    Parameters
    ----------
    log_magnitude : torch.Tensor or numpy.ndarray, shape ``(..., n_freq)``
        One-sided log-magnitude spectra (``n_freq = n_fft // 2 + 1``), any log base.
    n_coeffs : int
        Cepstral coefficients kept (1 keeps only the mean level).

    Returns
    -------
    torch.Tensor, shape ``(..., n_freq)``
        The smoothed log magnitude, in the input's units.

    Examples
    --------
    >>> k = torch.arange(257.0)
    >>> smooth = torch.cos(2 * math.pi * k / 512 * 3)        # already smooth: kept
    >>> torch.allclose(cepstral_envelope(smooth, 10), smooth, atol=1e-5)
    True
    """
    s = check_tensor(log_magnitude, "log_magnitude", min_ndim=1, floating=True)
    n_coeffs = check_positive_int(n_coeffs, "n_coeffs")
    n_freq = s.shape[-1]
    if n_freq < 2:
        raise ValueError(f"log_magnitude needs at least 2 frequency bins, got {n_freq}")
    n_fft = 2 * (n_freq - 1)
    if n_coeffs > n_fft // 2:
        raise ValueError(f"n_coeffs must be <= n_fft // 2 = {n_fft // 2}, got {n_coeffs}")
    ceps = torch.fft.irfft(s, n_fft)  # real, even cepstrum (..., n_fft)
    lifter = torch.zeros(n_fft, dtype=ceps.dtype, device=ceps.device)
    lifter[:n_coeffs] = 1.0
    lifter[n_fft - n_coeffs + 1 :] = 1.0  # mirror images of coefficients 1..n_coeffs-1
    return torch.fft.rfft(ceps * lifter, n_fft).real


def deltas(x, width: int = 5) -> torch.Tensor:
    """Regression deltas along the last (frame) axis.

    ``d_t = sum_{n=1}^{N} n (c_{t+n} - c_{t-n}) / (2 sum n^2)`` with
    ``N = (width - 1) // 2``; edge frames are repeated (torchaudio's
    ``compute_deltas``). librosa's ``delta`` gives the same values away from
    the first and last ``N`` frames (it fits a polynomial at the edges).

    Parameters
    ----------
    x : torch.Tensor or numpy.ndarray, shape ``(..., features, frames)``
    width : int
        Odd window length >= 3.

    Returns
    -------
    torch.Tensor, same shape as ``x``

    Examples
    --------
    >>> deltas(torch.arange(6.0)[None])
    tensor([[0.5000, 0.8000, 1.0000, 1.0000, 0.8000, 0.5000]])
    """
    x = check_tensor(x, "x", min_ndim=1, floating=True)
    width = check_positive_int(width, "width")
    if width < 3 or width % 2 == 0:
        raise ValueError(f"width must be an odd int >= 3, got {width}")
    n = (width - 1) // 2
    shape = x.shape
    flat = x.reshape(-1, 1, shape[-1])  # (..., T) -> (B, 1, T)
    padded = torch.nn.functional.pad(flat, (n, n), mode="replicate")
    kernel = torch.arange(-n, n + 1, dtype=x.dtype, device=x.device).view(1, 1, -1)
    denom = 2.0 * sum(i * i for i in range(1, n + 1))
    out = torch.nn.functional.conv1d(padded, kernel) / denom
    return out.reshape(shape)


class MFCC(nn.Module):
    """``nn.Module`` form of :func:`mfcc`, shape ``(..., n_mfcc, frames)``.

    Examples
    --------
    >>> MFCC(n_mfcc=13)(torch.randn(16000)).shape
    torch.Size([13, 101])
    """

    def __init__(self, sample_rate: int = 16000, n_mfcc: int = 13, n_mels: int = 40, top_db: float | None = 80.0, **mel_kwargs) -> None:
        super().__init__()
        self.mel = MelSpectrogram(sample_rate, n_mels=n_mels, **mel_kwargs)
        self.n_mfcc = check_positive_int(n_mfcc, "n_mfcc")
        self.top_db = top_db
        self.register_buffer("dct", dct_matrix(n_mels, n_mfcc))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(..., time)`` audio -> ``(..., n_mfcc, frames)``."""
        db = power_to_db(self.mel(x), top_db=self.top_db)
        return torch.matmul(self.dct.to(db.dtype), db)  # (C, M) @ (..., M, T) -> (..., C, T)
