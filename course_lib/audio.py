"""Audio features for speech: framing, STFT, mel scale, log-mel, MFCC, pitch, resampling.

Every function takes audio shaped ``(..., time)`` (a torch tensor, or a numpy
array that is converted) and works on any number of leading batch axes.
Spectral outputs are shaped ``(..., n_freq, frames)`` or ``(..., n_mels,
frames)`` as in torchaudio and librosa. The feature path (``stft`` ->
``spectrogram`` -> ``mel_spectrogram`` -> ``log_mel`` / ``mfcc``) is built from
differentiable torch operations, so gradients flow back to the waveform.

Defaults suit 16 kHz speech: a 25 ms window (``n_fft = win_length = 400``),
a 10 ms hop (``hop_length = 160``), centred frames with reflect padding.

Parity (measured in ``tests/test_audio.py``, float32 input unless noted):

==========================  =========================================  ==============
function                    reference                                  tolerance
==========================  =========================================  ==============
``frame``, ``window``       ``librosa.util.frame``, ``torch.*_window``  exact / 1e-6
``stft``, ``spectrogram``   ``librosa.stft``, torchaudio ``Spectrogram``  rel. 1e-4
``mel_filterbank``          ``librosa.filters.mel``                    abs. 1e-6
                            ``torchaudio.functional.melscale_fbanks``  abs. 1e-5
``mel_spectrogram``         librosa ``melspectrogram``, torchaudio     rel. 1e-4
``power_to_db`` & co.       ``librosa.power_to_db``, ``amplitude_to_DB``  abs. 1e-3 dB
``log_mel``                 torchaudio ``MelSpectrogram`` + ``log``     abs. 1e-3
``mfcc``                    ``librosa.feature.mfcc``, torchaudio MFCC   abs. 1e-3
``deltas``                  torchaudio ``compute_deltas`` (librosa      abs. 1e-5
                            ``delta`` on interior frames)
``resample``                ``torchaudio.functional.resample``         abs. 1e-5
                            librosa (soxr), scipy ``resample_poly``    abs. 2e-3 (tone)
``pitch`` (YIN)             ``librosa.yin``                            median 1 %
==========================  =========================================  ==============

The settings must match for parity: HTK mel without normalisation is
torchaudio's default (and ours); librosa defaults to Slaney with area
normalisation and pads with zeros (pass ``pad_mode="reflect"``).
"""
from __future__ import annotations

import math
import numpy as np
import torch
from torch import nn

from course_lib.checks import (
    as_tensor,
    check_positive_int,
    check_sample_rate,
    check_tensor,
)

__all__ = [
    "frame",
    "window",
    "quantize",
    "stft",
    "spectrogram",
    "hz_to_mel",
    "mel_to_hz",
    "mel_filterbank",
    "mel_spectrogram",
    "amplitude_to_db",
    "power_to_db",
    "log_mel",
    "dct_matrix",
    "mfcc_from_log_mel",
    "mfcc",
    "cepstral_envelope",
    "deltas",
    "pitch",
    "resample",
    "MelSpectrogram",
    "LogMel",
    "MFCC",
]

_WINDOWS = ("hann", "hamming", "rectangular")


# --------------------------------------------------------------------------- helpers
def _audio(x, name: str = "audio") -> torch.Tensor:
    """Validate ``(..., time)`` floating audio and return it as a tensor."""
    return check_tensor(x, name, min_ndim=1, floating=True)


def _check_hop_and_window(n_fft, win_length, hop_length) -> tuple[int, int, int]:
    n_fft = check_positive_int(n_fft, "n_fft")
    win_length = n_fft if win_length is None else check_positive_int(win_length, "win_length")
    hop_length = check_positive_int(hop_length, "hop_length")
    if win_length > n_fft:
        raise ValueError(f"win_length must be <= n_fft ({n_fft}), got {win_length}")
    return n_fft, win_length, hop_length


def _check_choice(value, name: str, choices) -> str:
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")
    return value


# --------------------------------------------------------------------------- framing
def frame(x, frame_length: int, hop_length: int) -> torch.Tensor:
    """Cut audio into overlapping frames (no padding), like ``librosa.util.frame``.

    Parameters
    ----------
    x : torch.Tensor or numpy.ndarray, shape ``(..., time)``
    frame_length : int
        Samples per frame.
    hop_length : int
        Samples between the starts of consecutive frames.

    Returns
    -------
    torch.Tensor, shape ``(..., frame_length, n_frames)``
        ``n_frames = 1 + (time - frame_length) // hop_length``; a view of ``x``.

    Examples
    --------
    >>> frame(torch.arange(6.0), 4, 2)
    tensor([[0., 2.],
            [1., 3.],
            [2., 4.],
            [3., 5.]])
    """
    x = check_tensor(x, "x", min_ndim=1)
    frame_length = check_positive_int(frame_length, "frame_length")
    hop_length = check_positive_int(hop_length, "hop_length")
    if x.shape[-1] < frame_length:
        raise ValueError(
            f"x has {x.shape[-1]} samples, fewer than frame_length={frame_length}; "
            f"pad the signal or use a shorter frame"
        )
    # (..., time) -> (..., n_frames, frame_length) -> (..., frame_length, n_frames)
    return x.unfold(-1, frame_length, hop_length).transpose(-1, -2)


def window(
    kind: str = "hann",
    length: int = 400,
    *,
    periodic: bool = True,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """A tapering window for the STFT.

    Parameters
    ----------
    kind : {"hann", "hamming", "rectangular"}
    length : int
        Window length in samples.
    periodic : bool
        ``True`` (default) gives the DFT-even window used for spectral analysis
        (``scipy.signal.get_window`` with ``fftbins=True``, librosa's choice);
        ``False`` gives the symmetric window used for filter design.
    dtype : torch.dtype

    Returns
    -------
    torch.Tensor, shape ``(length,)``

    Examples
    --------
    >>> window("hann", 4)
    tensor([0.0000, 0.5000, 1.0000, 0.5000])
    >>> window("hamming", 3, periodic=False)
    tensor([0.0800, 1.0000, 0.0800])
    """
    _check_choice(kind, "kind", _WINDOWS)
    length = check_positive_int(length, "length")
    if kind == "rectangular":
        return torch.ones(length, dtype=dtype)
    # w[n] = a - (1 - a) cos(2 pi n / N), N = length (periodic) or length - 1 (symmetric)
    a = 0.5 if kind == "hann" else 0.54
    denom = length if periodic else max(length - 1, 1)
    n = torch.arange(length, dtype=torch.float64)
    w = a - (1.0 - a) * torch.cos(2.0 * math.pi * n / denom)
    if length == 1:
        w = torch.ones(1, dtype=torch.float64)
    return w.to(dtype)


def quantize(x, bits: int = 16) -> torch.Tensor:
    """Uniform quantization of ``[-1, 1)`` audio to ``bits`` bits (then back to float).

    Each sample becomes the nearest of the ``2 ** bits`` levels
    ``k / 2 ** (bits - 1)``, ``k = -2 ** (bits - 1) ... 2 ** (bits - 1) - 1``
    (what writing a ``bits``-bit PCM file does); values outside are clipped.
    The rounding error is at most half a step, ``2 ** -bits``, so each bit adds
    about 6 dB of signal-to-quantization-noise ratio.

    Parameters
    ----------
    x : torch.Tensor or numpy.ndarray, shape ``(..., time)``
        Floating audio, nominally in ``[-1, 1)``.
    bits : int
        Bit depth, 1 to 32.

    Returns
    -------
    torch.Tensor, same shape and dtype as ``x``

    Examples
    --------
    >>> quantize(torch.tensor([0.3, -0.9, 1.0]), bits=2)
    tensor([ 0.5000, -1.0000,  0.5000])
    """
    x = _audio(x)
    bits = check_positive_int(bits, "bits")
    if bits > 32:
        raise ValueError(f"bits must be in [1, 32], got {bits}")
    scale = 2.0 ** (bits - 1)
    q = torch.clamp(torch.round(x.double() * scale), -scale, scale - 1) / scale
    return q.to(x.dtype)


# --------------------------------------------------------------------------- STFT
def stft(
    x,
    n_fft: int = 400,
    hop_length: int = 160,
    win_length: int | None = None,
    *,
    window_kind: str = "hann",
    center: bool = True,
    pad_mode: str = "reflect",
) -> torch.Tensor:
    """Short-time Fourier transform (complex), computed with ``torch.stft``.

    Parameters
    ----------
    x : torch.Tensor or numpy.ndarray, shape ``(..., time)``
        Floating-point audio.
    n_fft : int
        FFT size; gives ``n_fft // 2 + 1`` frequency bins spaced ``sr / n_fft`` Hz.
    hop_length : int
        Samples between frames (160 = 10 ms at 16 kHz).
    win_length : int, optional
        Window length (default ``n_fft``); zero-padded to ``n_fft`` when shorter.
    window_kind : {"hann", "hamming", "rectangular"}
    center : bool
        Pad ``n_fft // 2`` samples on both sides so that frame ``t`` is centred
        on sample ``t * hop_length``.
    pad_mode : {"reflect", "constant", "replicate", "circular"}
        How to pad when ``center`` is true.

    Returns
    -------
    torch.Tensor (complex), shape ``(..., n_fft // 2 + 1, frames)``
        ``frames = 1 + time // hop_length`` when centred, else
        ``1 + (time - n_fft) // hop_length``.

    Examples
    --------
    >>> stft(torch.zeros(16000)).shape
    torch.Size([201, 101])
    >>> stft(torch.zeros(2, 3, 1000), n_fft=256, hop_length=128).shape
    torch.Size([2, 3, 129, 8])
    """
    x = _audio(x)
    n_fft, win_length, hop_length = _check_hop_and_window(n_fft, win_length, hop_length)
    _check_choice(pad_mode, "pad_mode", ("reflect", "constant", "replicate", "circular"))
    length = x.shape[-1]
    if center and pad_mode == "reflect" and length <= n_fft // 2:
        raise ValueError(
            f"audio has {length} samples; reflect padding with n_fft={n_fft} needs more than "
            f"{n_fft // 2}. Use a smaller n_fft, pad_mode='constant', or a longer signal"
        )
    if not center and length < n_fft:
        raise ValueError(f"audio has {length} samples, fewer than n_fft={n_fft} (center=False)")
    win = window(window_kind, win_length, dtype=x.dtype).to(x.device)
    lead = x.shape[:-1]
    flat = x.reshape(-1, length)  # (..., time) -> (B, time)
    spec = torch.stft(
        flat,
        n_fft=n_fft,
        hop_length=hop_length,
        win_length=win_length,
        window=win,
        center=center,
        pad_mode=pad_mode,
        normalized=False,
        onesided=True,
        return_complex=True,
    )
    return spec.reshape(*lead, spec.shape[-2], spec.shape[-1])  # (B, F, T) -> (..., F, T)


def spectrogram(
    x,
    n_fft: int = 400,
    hop_length: int = 160,
    win_length: int | None = None,
    *,
    power: float = 2.0,
    window_kind: str = "hann",
    center: bool = True,
    pad_mode: str = "reflect",
) -> torch.Tensor:
    """Magnitude (``power=1``) or power (``power=2``) spectrogram ``|STFT| ** power``.

    Parameters
    ----------
    x : torch.Tensor or numpy.ndarray, shape ``(..., time)``
    n_fft, hop_length, win_length, window_kind, center, pad_mode
        As in :func:`stft`.
    power : float
        Exponent applied to the magnitude (positive).

    Returns
    -------
    torch.Tensor, shape ``(..., n_fft // 2 + 1, frames)``

    Examples
    --------
    >>> t = torch.arange(16000) / 16000
    >>> spec = spectrogram(torch.sin(2 * math.pi * 1000 * t))
    >>> int(spec[:, 50].argmax()) * 16000 / 400   # bin -> Hz
    1000.0
    """
    if isinstance(power, bool) or not isinstance(power, (int, float)) or not power > 0:
        raise ValueError(f"power must be a positive number (1 = magnitude, 2 = power), got {power!r}")
    spec = stft(x, n_fft, hop_length, win_length, window_kind=window_kind, center=center, pad_mode=pad_mode)
    if power == 1:
        return spec.abs()
    if power == 2:
        # |z|^2 = re^2 + im^2: no sqrt (whose gradient is infinite at 0), and about
        # 3x faster than view_as_real(spec).pow(2).sum(-1) or spec.abs().pow(2)
        return torch.addcmul(spec.real * spec.real, spec.imag, spec.imag)
    return spec.abs().pow(power)


# --------------------------------------------------------------------------- mel scale
_SLANEY_F_SP = 200.0 / 3.0  # Hz per mel below 1 kHz
_SLANEY_MIN_LOG_HZ = 1000.0
_SLANEY_MIN_LOG_MEL = _SLANEY_MIN_LOG_HZ / _SLANEY_F_SP  # 15 mel
_SLANEY_LOGSTEP = math.log(6.4) / 27.0


def _freqs(f, name: str):
    """Accept float, numpy array or tensor; return (float64 tensor, rebuild fn)."""
    if isinstance(f, bool):
        raise TypeError(f"{name} must be a number, numpy array or tensor, got bool")
    if isinstance(f, (int, float)):
        return torch.tensor(float(f), dtype=torch.float64), lambda t: float(t)
    if isinstance(f, np.ndarray):
        t = check_tensor(f.astype(np.float64), name, nonempty=False)
        return t, lambda r: r.numpy()
    if isinstance(f, torch.Tensor):
        t = check_tensor(f, name, nonempty=False)
        dtype = f.dtype if f.is_floating_point() else torch.float64
        return t.to(torch.float64), lambda r: r.to(dtype)
    raise TypeError(f"{name} must be a number, numpy array or tensor, got {type(f).__name__}")


def hz_to_mel(f, *, htk: bool = False):
    """Convert frequencies in Hz to mels.

    HTK: ``m = 2595 log10(1 + f / 700)`` (equivalently ``1127 ln(1 + f / 700)``).
    Slaney (librosa's default, ``htk=False``): linear ``f / (200/3)`` below
    1 kHz, logarithmic above (27 mel per factor 6.4).

    Parameters
    ----------
    f : float, numpy.ndarray or torch.Tensor
        Frequencies in Hz (non-negative).
    htk : bool

    Returns
    -------
    Same type as ``f``: mels.

    Examples
    --------
    >>> round(hz_to_mel(1000.0, htk=True), 3)
    999.986
    >>> hz_to_mel(1000.0)
    15.0
    """
    t, back = _freqs(f, "f")
    if bool((t < 0).any()):
        raise ValueError(f"frequencies must be >= 0 Hz, got min {float(t.min())}")
    if htk:
        return back(2595.0 * torch.log10(1.0 + t / 700.0))
    mel = t / _SLANEY_F_SP
    log_part = _SLANEY_MIN_LOG_MEL + torch.log(t.clamp_min(_SLANEY_MIN_LOG_HZ) / _SLANEY_MIN_LOG_HZ) / _SLANEY_LOGSTEP
    return back(torch.where(t >= _SLANEY_MIN_LOG_HZ, log_part, mel))


def mel_to_hz(m, *, htk: bool = False):
    """Convert mels back to Hz (the inverse of :func:`hz_to_mel`).

    Parameters
    ----------
    m : float, numpy.ndarray or torch.Tensor
        Mels (non-negative).
    htk : bool

    Returns
    -------
    Same type as ``m``: frequencies in Hz.

    Examples
    --------
    >>> round(mel_to_hz(hz_to_mel(440.0, htk=True), htk=True), 6)
    440.0
    >>> mel_to_hz(15.0)
    1000.0
    """
    t, back = _freqs(m, "m")
    if bool((t < 0).any()):
        raise ValueError(f"mels must be >= 0, got min {float(t.min())}")
    if htk:
        return back(700.0 * (10.0 ** (t / 2595.0) - 1.0))
    hz = t * _SLANEY_F_SP
    log_part = _SLANEY_MIN_LOG_HZ * torch.exp(_SLANEY_LOGSTEP * (t - _SLANEY_MIN_LOG_MEL))
    return back(torch.where(t >= _SLANEY_MIN_LOG_MEL, log_part, hz))


def mel_filterbank(
    sample_rate: int = 16000,
    n_fft: int = 400,
    n_mels: int = 80,
    *,
    f_min: float = 0.0,
    f_max: float | None = None,
    htk: bool = True,
    norm: str | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Triangular mel filters that map an STFT's bins to mel bands.

    Filter ``m`` rises linearly from mel point ``m`` to ``m + 1`` and falls to
    ``m + 2``, where ``n_mels + 2`` points are equally spaced in mel between
    ``f_min`` and ``f_max``; the weights are evaluated at the ``n_fft // 2 + 1``
    bin frequencies ``k * sample_rate / n_fft``.

    Parameters
    ----------
    sample_rate : int
        In Hz.
    n_fft : int
        FFT size of the spectrogram the filters apply to.
    n_mels : int
        Number of mel bands.
    f_min, f_max : float
        Band edges in Hz; ``f_max`` defaults to ``sample_rate / 2``.
    htk : bool
        HTK mel formula (default, torchaudio's default) or Slaney's
        (``False``, librosa's default).
    norm : {None, "slaney"}
        ``"slaney"`` divides each triangle by its width in Hz / 2 so that every
        filter has the same area (constant energy per band for white noise).
    dtype : torch.dtype

    Returns
    -------
    torch.Tensor, shape ``(n_mels, n_fft // 2 + 1)``
        Apply as ``fb @ spec`` to a ``(..., n_freq, frames)`` spectrogram.
        (``librosa.filters.mel`` has this shape; torchaudio's
        ``melscale_fbanks`` returns the transpose.)

    Examples
    --------
    >>> fb = mel_filterbank(16000, 400, 40)
    >>> fb.shape
    torch.Size([40, 201])
    >>> bool((fb >= 0).all()), round(float(fb.max()), 2)
    (True, 1.0)
    """
    sample_rate = check_sample_rate(sample_rate)
    n_fft = check_positive_int(n_fft, "n_fft")
    n_mels = check_positive_int(n_mels, "n_mels")
    nyquist = sample_rate / 2.0
    f_max = nyquist if f_max is None else float(f_max)
    f_min = float(f_min)
    if not 0.0 <= f_min < f_max <= nyquist:
        raise ValueError(
            f"need 0 <= f_min < f_max <= sample_rate / 2 = {nyquist:g} Hz, got f_min={f_min:g}, f_max={f_max:g}"
        )
    _check_choice(norm, "norm", (None, "slaney"))
    bin_hz = torch.linspace(0.0, nyquist, n_fft // 2 + 1, dtype=torch.float64)
    mel_pts = torch.linspace(hz_to_mel(f_min, htk=htk), hz_to_mel(f_max, htk=htk), n_mels + 2, dtype=torch.float64)
    hz_pts = mel_to_hz(mel_pts, htk=htk)
    widths = hz_pts[1:] - hz_pts[:-1]  # (n_mels + 1,)
    ramps = hz_pts[:, None] - bin_hz[None, :]  # (n_mels + 2, n_freq)
    rising = -ramps[:-2] / widths[:-1, None]
    falling = ramps[2:] / widths[1:, None]
    fb = torch.clamp(torch.minimum(rising, falling), min=0.0)
    if norm == "slaney":
        fb = fb * (2.0 / (hz_pts[2:] - hz_pts[:-2]))[:, None]
    return fb.to(dtype)


def mel_spectrogram(
    x,
    sample_rate: int = 16000,
    n_fft: int = 400,
    hop_length: int = 160,
    win_length: int | None = None,
    n_mels: int = 80,
    *,
    f_min: float = 0.0,
    f_max: float | None = None,
    power: float = 2.0,
    htk: bool = True,
    norm: str | None = None,
    center: bool = True,
    pad_mode: str = "reflect",
    window_kind: str = "hann",
) -> torch.Tensor:
    """Mel spectrogram: the power spectrogram pooled by :func:`mel_filterbank`.

    Parameters
    ----------
    x : torch.Tensor or numpy.ndarray, shape ``(..., time)``
    sample_rate : int
        In Hz.
    n_fft, hop_length, win_length, center, pad_mode, window_kind
        As in :func:`stft`.
    n_mels, f_min, f_max, htk, norm
        As in :func:`mel_filterbank`.
    power : float
        1 for magnitude, 2 for power (default).

    Returns
    -------
    torch.Tensor, shape ``(..., n_mels, frames)``

    Examples
    --------
    >>> mel_spectrogram(torch.randn(2, 16000), n_mels=40).shape
    torch.Size([2, 40, 101])
    """
    sample_rate = check_sample_rate(sample_rate)
    spec = spectrogram(  # validates x (in stft)
        x, n_fft, hop_length, win_length, power=power, window_kind=window_kind, center=center, pad_mode=pad_mode
    )
    fb = mel_filterbank(sample_rate, n_fft, n_mels, f_min=f_min, f_max=f_max, htk=htk, norm=norm, dtype=spec.dtype)
    return torch.matmul(fb.to(spec.device), spec)  # (M, F) @ (..., F, T) -> (..., M, T)


# --------------------------------------------------------------------------- decibels
def _spec(x, name: str) -> torch.Tensor:
    x = check_tensor(x, name, min_ndim=1, floating=True)
    if bool((x < 0).any()):
        raise ValueError(f"{name} must be non-negative (a magnitude or power), got min {float(x.min()):.3g}")
    return x


def _to_db(x: torch.Tensor, scale: float, ref, amin: float, top_db: float | None) -> torch.Tensor:
    if not (isinstance(amin, (int, float)) and amin > 0):
        raise ValueError(f"amin must be a positive number, got {amin!r}")
    if top_db is not None and not (isinstance(top_db, (int, float)) and top_db >= 0):
        raise ValueError(f"top_db must be None or a non-negative number of dB, got {top_db!r}")
    db = scale * torch.log10(torch.clamp(x, min=amin))
    if ref == "max":
        # one reference per spectrogram (the last two axes)
        peak = x.amax(dim=(-2, -1), keepdim=True) if x.ndim >= 2 else x.amax(dim=-1, keepdim=True)
        db = db - scale * torch.log10(torch.clamp(peak, min=amin))
    elif isinstance(ref, (int, float)) and not isinstance(ref, bool) and ref > 0:
        db = db - scale * math.log10(max(amin, float(ref)))
    else:
        raise ValueError(f"ref must be a positive number or 'max', got {ref!r}")
    if top_db is not None:
        dims = (-2, -1) if db.ndim >= 2 else (-1,)
        floor = db.amax(dim=dims, keepdim=True) - top_db
        db = torch.maximum(db, floor)
    return db


def power_to_db(x, *, ref: float | str = 1.0, amin: float = 1e-10, top_db: float | None = 80.0) -> torch.Tensor:
    """Power to decibels: ``10 log10(max(x, amin) / ref)``, floored ``top_db`` below the peak.

    Parameters
    ----------
    x : torch.Tensor or numpy.ndarray, shape ``(..., freq, frames)``
        Non-negative power values.
    ref : float or "max"
        0 dB reference; ``"max"`` uses each spectrogram's own peak.
    amin : float
        Smallest power considered (avoids ``log(0)``).
    top_db : float or None
        Clip to at most this many dB below the peak of each spectrogram (the
        last two axes, like librosa on one spectrogram); ``None`` keeps all.

    Returns
    -------
    torch.Tensor, same shape as ``x``

    Examples
    --------
    >>> power_to_db(torch.tensor([[1.0, 0.01, 0.0]]), top_db=None)
    tensor([[   0.,  -20., -100.]])
    >>> power_to_db(torch.tensor([[1.0, 0.01, 0.0]]), top_db=30.0)
    tensor([[  0., -20., -30.]])
    """
    x = _spec(x, "x")
    return _to_db(x, 10.0, ref, amin, top_db)


def amplitude_to_db(x, *, ref: float | str = 1.0, amin: float = 1e-5, top_db: float | None = 80.0) -> torch.Tensor:
    """Amplitude to decibels: ``20 log10(max(x, amin) / ref)`` (as librosa's ``amplitude_to_db``).

    Parameters
    ----------
    x : torch.Tensor or numpy.ndarray, shape ``(..., freq, frames)``
        Non-negative magnitudes.
    ref, top_db
        As in :func:`power_to_db`.
    amin : float
        Smallest amplitude considered.

    Returns
    -------
    torch.Tensor, same shape as ``x``

    Examples
    --------
    >>> amplitude_to_db(torch.tensor([[1.0, 0.1]]))
    tensor([[  0., -20.]])
    """
    x = _spec(x, "x")
    return _to_db(x, 20.0, ref, amin, top_db)


def log_mel(
    x,
    sample_rate: int = 16000,
    n_fft: int = 400,
    hop_length: int = 160,
    win_length: int | None = None,
    n_mels: int = 80,
    *,
    eps: float = 1e-6,
    f_min: float = 0.0,
    f_max: float | None = None,
    htk: bool = True,
    norm: str | None = None,
    center: bool = True,
    pad_mode: str = "reflect",
) -> torch.Tensor:
    """Log-mel features ``ln(mel_power + eps)``, the usual input of speech models.

    Natural log of the power mel spectrogram plus a small floor ``eps`` (smooth,
    so gradients exist everywhere). For decibels use ``power_to_db(mel_spectrogram(x))``;
    the two differ by the factor ``10 / ln 10`` and the floor.

    Parameters
    ----------
    x : torch.Tensor or numpy.ndarray, shape ``(..., time)``
    sample_rate, n_fft, hop_length, win_length, n_mels, f_min, f_max, htk, norm, center, pad_mode
        As in :func:`mel_spectrogram`.
    eps : float
        Floor added before the log (positive).

    Returns
    -------
    torch.Tensor, shape ``(..., n_mels, frames)``

    Examples
    --------
    >>> feats = log_mel(torch.zeros(1600))
    >>> feats.shape, round(float(feats.max()), 3)
    (torch.Size([80, 11]), -13.816)
    """
    if not (isinstance(eps, (int, float)) and eps > 0):
        raise ValueError(f"eps must be a positive number, got {eps!r}")
    mel = mel_spectrogram(
        x, sample_rate, n_fft, hop_length, win_length, n_mels,
        f_min=f_min, f_max=f_max, htk=htk, norm=norm, center=center, pad_mode=pad_mode,
    )
    return torch.log(mel + eps)


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


# --------------------------------------------------------------------------- pitch
def pitch(
    x,
    sample_rate: int = 16000,
    *,
    f_min: float = 60.0,
    f_max: float = 500.0,
    frame_length: int = 1024,
    hop_length: int = 160,
    method: str = "yin",
    threshold: float = 0.2,
    center: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Fundamental frequency per frame, with a voicing decision.

    ``method="yin"`` (de Cheveigné and Kawahara, 2002): for each frame, the
    difference function ``d(tau) = sum_j (x_j - x_{j+tau})^2`` over the first
    half of the frame, normalised by its running mean (the CMND); the period is
    the first lag where the CMND dips below ``threshold`` (else its global
    minimum), refined by parabolic interpolation. ``method="autocorr"`` picks
    the first peak of the normalised autocorrelation within 10 % of the highest
    one instead (the highest alone often sits at two or three periods). The lag search
    covers ``[sample_rate / f_max, sample_rate / f_min]``.

    Parameters
    ----------
    x : torch.Tensor or numpy.ndarray, shape ``(..., time)``
    sample_rate : int
        In Hz.
    f_min, f_max : float
        Search range in Hz.
    frame_length : int
        Analysis frame in samples; must exceed ``2 * sample_rate / f_min``.
    hop_length : int
    method : {"yin", "autocorr"}
    threshold : float
        YIN: CMND level under which a frame counts as voiced (0.1-0.2 usual;
        0.2 marks most voiced frames of the course's synthetic speech).
        autocorr: voiced when the normalised autocorrelation peak exceeds
        ``max(0.5, 1 - threshold)``.
    center : bool
        Centre frames on ``t * hop_length`` (zero padding), like librosa.

    Returns
    -------
    f0 : torch.Tensor, shape ``(..., frames)``
        Estimated f0 in Hz (an estimate is given for every frame).
    voiced : torch.Tensor of bool, shape ``(..., frames)``

    Examples
    --------
    >>> t = torch.arange(8000) / 16000
    >>> f0, voiced = pitch(torch.sin(2 * math.pi * 220 * t))
    >>> round(float(f0[10]), 1), bool(voiced[10])
    (220.0, True)
    """
    x = _audio(x)
    sample_rate = check_sample_rate(sample_rate)
    frame_length = check_positive_int(frame_length, "frame_length")
    hop_length = check_positive_int(hop_length, "hop_length")
    _check_choice(method, "method", ("yin", "autocorr"))
    if not (0 < f_min < f_max <= sample_rate / 2):
        raise ValueError(f"need 0 < f_min < f_max <= sample_rate / 2, got f_min={f_min}, f_max={f_max}")
    if not 0 < threshold < 1:
        raise ValueError(f"threshold must lie in (0, 1), got {threshold}")
    win = frame_length // 2
    min_lag = max(1, int(math.floor(sample_rate / f_max)))
    max_lag = int(math.ceil(sample_rate / f_min))
    if max_lag > frame_length - win - 1:
        raise ValueError(
            f"frame_length={frame_length} is too short for f_min={f_min} Hz: need frame_length > "
            f"{2 * max_lag + 1} samples (two periods); raise frame_length or f_min"
        )
    work = x.to(torch.float64)
    if center:
        work = torch.nn.functional.pad(work, (frame_length // 2, frame_length // 2))
    if work.shape[-1] < frame_length:
        raise ValueError(f"audio has {x.shape[-1]} samples, too short for frame_length={frame_length}")
    frames = work.unfold(-1, frame_length, hop_length)  # (..., n_frames, frame_length)
    n_lags = max_lag + 1
    # autocorrelation of the first `win` samples against lags 0..max_lag, via FFT
    n_fft = 1 << (frame_length + win).bit_length()
    head = torch.fft.rfft(frames[..., :win], n_fft)
    full = torch.fft.rfft(frames, n_fft)
    acf = torch.fft.irfft(full * head.conj(), n_fft)[..., :n_lags]  # (..., n_frames, n_lags)
    energy = torch.cumsum(frames.pow(2), dim=-1)
    energy = torch.nn.functional.pad(energy, (1, 0))  # energy[k] = sum_{j<k} x_j^2
    lags = torch.arange(n_lags)
    e0 = energy[..., win : win + 1]  # sum over the first window
    e_tau = energy[..., lags + win] - energy[..., lags]  # window shifted by tau
    diff = (e0 + e_tau - 2.0 * acf).clamp_min(0.0)
    if method == "yin":
        running = torch.cumsum(diff[..., 1:], dim=-1) / torch.arange(1, n_lags, dtype=diff.dtype)
        cmnd = torch.ones_like(diff)
        cmnd[..., 1:] = diff[..., 1:] / running.clamp_min(1e-12)
        score = cmnd[..., min_lag : max_lag + 1]
        below = score < threshold
        # first dip below threshold: walk down to the local minimum after it
        first = torch.where(below.any(-1), below.float().argmax(-1), score.argmin(-1))
        idx = first.clone()
        for _ in range(max_lag - min_lag):
            nxt = (idx + 1).clamp(max=score.shape[-1] - 1)
            go = score.gather(-1, nxt[..., None])[..., 0] < score.gather(-1, idx[..., None])[..., 0]
            if not bool(go.any()):
                break
            idx = torch.where(go, nxt, idx)
        best = score.gather(-1, idx[..., None])[..., 0]
        voiced = best < threshold
        curve = score
    else:
        norm = torch.sqrt(e0 * e_tau).clamp_min(1e-12)
        r = acf / norm
        curve = -r[..., min_lag : max_lag + 1]
        # the first local peak within 10 % of the best one (avoids octave-down errors)
        peak = torch.ones_like(curve, dtype=torch.bool)
        peak[..., 1:] &= curve[..., 1:] <= curve[..., :-1]
        peak[..., :-1] &= curve[..., :-1] <= curve[..., 1:]
        good = peak & (-curve >= 0.9 * (-curve).amax(-1, keepdim=True))
        idx = torch.where(good.any(-1), good.float().argmax(-1), curve.argmin(-1))
        best = -curve.gather(-1, idx[..., None])[..., 0]
        voiced = best > max(0.5, 1.0 - threshold)
    # parabolic interpolation around the chosen lag
    left = curve.gather(-1, (idx - 1).clamp(min=0)[..., None])[..., 0]
    mid = curve.gather(-1, idx[..., None])[..., 0]
    right = curve.gather(-1, (idx + 1).clamp(max=curve.shape[-1] - 1)[..., None])[..., 0]
    denom = left - 2.0 * mid + right
    inner = (idx > 0) & (idx < curve.shape[-1] - 1) & (denom.abs() > 1e-12)
    shift = torch.where(inner, 0.5 * (left - right) / torch.where(inner, denom, torch.ones_like(denom)), 0.0)
    period = (idx + min_lag).to(torch.float64) + shift.clamp(-1.0, 1.0)
    silent = e0[..., 0] <= 1e-10 * win
    voiced = voiced & ~silent
    f0 = (sample_rate / period).to(x.dtype)
    return f0, voiced


# --------------------------------------------------------------------------- resampling
def _sinc_kernels(orig: int, new: int, zeros: int, rolloff: float, dtype: torch.dtype) -> tuple[torch.Tensor, int]:
    """Polyphase windowed-sinc kernels, one per output phase: ``(new, 1, taps)``."""
    cutoff = min(orig, new) * rolloff  # in units where the input rate is `orig`
    half = math.ceil(zeros * orig / cutoff)  # one-sided support in input samples
    # time (in input samples) from each output phase to each tap
    taps = torch.arange(-half, half + orig, dtype=torch.float64) / orig
    phase = torch.arange(0, -new, -1, dtype=torch.float64)[:, None] / new
    t = (phase + taps) * cutoff  # in zero crossings of the low-pass sinc
    t = t.clamp(-zeros, zeros)
    hann = torch.cos(t * math.pi / zeros / 2) ** 2
    arg = t * math.pi
    sinc = torch.where(arg == 0, torch.ones_like(arg), torch.sin(arg) / torch.where(arg == 0, 1.0, arg))
    kernels = sinc * hann * (cutoff / orig)
    return kernels[:, None, :].to(dtype), half


def resample(x, orig_sr: int, new_sr: int, *, lowpass_zeros: int = 6, rolloff: float = 0.99) -> torch.Tensor:
    """Change the sample rate with a polyphase Hann-windowed-sinc filter.

    The ratio is reduced by the gcd to ``new / orig``; each of the ``new``
    output phases has its own low-pass kernel (cut-off ``rolloff`` times the
    lower Nyquist frequency, ``lowpass_zeros`` zero crossings per side), and a
    strided convolution computes them all. The output has
    ``ceil(time * new / orig)`` samples. Same design as
    ``torchaudio.functional.resample`` (its default ``sinc_interp_hann``).

    Parameters
    ----------
    x : torch.Tensor or numpy.ndarray, shape ``(..., time)``
    orig_sr, new_sr : int
        Sample rates in Hz (or any integers with the right ratio).
    lowpass_zeros : int
        Filter half-length in zero crossings (sharper and slower when larger).
    rolloff : float
        Cut-off as a fraction of the lower Nyquist frequency, in (0, 1].

    Returns
    -------
    torch.Tensor, shape ``(..., ceil(time * new_sr / orig_sr))``

    Examples
    --------
    >>> resample(torch.randn(2, 16000), 16000, 8000).shape
    torch.Size([2, 8000])
    """
    x = _audio(x)
    orig_sr = check_sample_rate(orig_sr, name="orig_sr")
    new_sr = check_sample_rate(new_sr, name="new_sr")
    lowpass_zeros = check_positive_int(lowpass_zeros, "lowpass_zeros")
    if not 0 < rolloff <= 1:
        raise ValueError(f"rolloff must lie in (0, 1], got {rolloff}")
    if orig_sr == new_sr:
        return x.clone()
    g = math.gcd(orig_sr, new_sr)
    orig, new = orig_sr // g, new_sr // g
    kernels, half = _sinc_kernels(orig, new, lowpass_zeros, rolloff, x.dtype)
    shape = x.shape
    flat = x.reshape(-1, 1, shape[-1])  # (..., time) -> (B, 1, time)
    flat = torch.nn.functional.pad(flat, (half, half + orig))
    out = torch.nn.functional.conv1d(flat, kernels.to(x.device), stride=orig)  # (B, new, blocks)
    out = out.transpose(1, 2).reshape(flat.shape[0], -1)  # (B, new, blocks) -> (B, blocks * new)
    target = math.ceil(new * shape[-1] / orig)
    return out[:, :target].reshape(*shape[:-1], -1)


# --------------------------------------------------------------------------- modules
class MelSpectrogram(nn.Module):
    """``nn.Module`` form of :func:`mel_spectrogram` (filterbank and window kept as buffers).

    Examples
    --------
    >>> MelSpectrogram(n_mels=40)(torch.randn(3, 16000)).shape
    torch.Size([3, 40, 101])
    """

    def __init__(
        self,
        sample_rate: int = 16000,
        n_fft: int = 400,
        hop_length: int = 160,
        win_length: int | None = None,
        n_mels: int = 80,
        *,
        f_min: float = 0.0,
        f_max: float | None = None,
        htk: bool = True,
        norm: str | None = None,
        center: bool = True,
        pad_mode: str = "reflect",
    ) -> None:
        super().__init__()
        n_fft, win_length, hop_length = _check_hop_and_window(n_fft, win_length, hop_length)
        self.sample_rate, self.n_fft, self.hop_length, self.win_length = sample_rate, n_fft, hop_length, win_length
        self.center, self.pad_mode = center, pad_mode
        self.register_buffer("fb", mel_filterbank(sample_rate, n_fft, n_mels, f_min=f_min, f_max=f_max, htk=htk, norm=norm))
        self.register_buffer("win", window("hann", win_length))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(..., time)`` audio -> ``(..., n_mels, frames)`` power mel spectrogram."""
        x = _audio(x)
        length = x.shape[-1]
        if self.center and self.pad_mode == "reflect" and length <= self.n_fft // 2:
            raise ValueError(f"audio has {length} samples; need more than n_fft // 2 = {self.n_fft // 2}")
        flat = x.reshape(-1, length)  # (..., time) -> (B, time)
        spec = torch.stft(
            flat, self.n_fft, self.hop_length, self.win_length, self.win.to(x.dtype),
            center=self.center, pad_mode=self.pad_mode, return_complex=True,
        )
        power = torch.addcmul(spec.real * spec.real, spec.imag, spec.imag)  # |z|^2, (B, F, T)
        mel = torch.matmul(self.fb.to(x.dtype), power)  # (M, F) @ (B, F, T) -> (B, M, T)
        return mel.reshape(*x.shape[:-1], mel.shape[-2], mel.shape[-1])


class LogMel(MelSpectrogram):
    """``nn.Module`` form of :func:`log_mel`: ``ln(mel + eps)``, shape ``(..., n_mels, frames)``.

    Examples
    --------
    >>> LogMel(n_mels=80)(torch.randn(2, 8000)).shape
    torch.Size([2, 80, 51])
    """

    def __init__(self, *args, eps: float = 1e-6, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not (isinstance(eps, (int, float)) and eps > 0):
            raise ValueError(f"eps must be a positive number, got {eps!r}")
        self.eps = float(eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(..., time)`` audio -> ``(..., n_mels, frames)`` log-mel."""
        return torch.log(super().forward(x) + self.eps)


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
