"""The mel scale: Hz <-> mel, the triangular filterbank, mel spectrograms and log-mel features.

Input audio is ``(..., time)``; outputs are ``(..., n_mels, frames)`` as in
torchaudio and librosa. HTK mel without normalisation is torchaudio's default
(and ours); librosa defaults to Slaney with area normalisation and pads with
zeros (pass ``pad_mode="reflect"``) -- the settings must match for parity.

==========================  =========================================  ==============
function                    reference                                  tolerance
==========================  =========================================  ==============
``mel_filterbank``          ``librosa.filters.mel``                    abs. 1e-6
                            ``torchaudio.functional.melscale_fbanks``  abs. 1e-5
``mel_spectrogram``         librosa ``melspectrogram``, torchaudio     rel. 1e-4
``log_mel``                 torchaudio ``MelSpectrogram`` + ``log``     abs. 1e-3
==========================  =========================================  ==============
"""
from __future__ import annotations

import math
import numpy as np
import torch
from torch import nn
from course_lib.checks import check_float, check_positive_int, check_sample_rate, check_tensor
from course_lib.audio import _audio, _check_choice, _check_hop_and_window, spectrogram
from course_lib.audio import window

__all__ = [
    "clip_features",
    "hz_to_mel",
    "mel_to_hz",
    "mel_filterbank",
    "mel_spectrogram",
    "log_mel",
    "MelSpectrogram",
    "LogMel",
]

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
    check_float(f_min, "f_min", min_value=0.0)
    check_float(f_max, "f_max", allow_none=True)
    spec = spectrogram(  # validates x (in stft)
        x, n_fft, hop_length, win_length, power=power, window_kind=window_kind, center=center, pad_mode=pad_mode
    )
    fb = mel_filterbank(sample_rate, n_fft, n_mels, f_min=f_min, f_max=f_max, htk=htk, norm=norm, dtype=spec.dtype)
    return torch.matmul(fb.to(spec.device), spec)  # (M, F) @ (..., F, T) -> (..., M, T)


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


def clip_features(
    waves: torch.Tensor,
    sample_rate: int = 16000,
    *,
    n_mels: int = 40,
    half_window: int = 36,
    n_segments: int = 4,
) -> torch.Tensor:
    """Fixed-size clip vectors for a small MLP: pooled log-mel around the energy centre.

    A keyword sits at a random offset in its clip. For each clip the
    log-mel spectrogram (:func:`course_lib.mel.log_mel`, 10 ms hop) is
    cropped to ``2 * half_window`` frames centred on the clip's energy
    centre (the softmax-weighted mean frame of the log energy, clamped so
    that the window stays inside the clip); the crop is cut into
    ``n_segments`` equal parts and pooled: the mean of each band per part,
    then the standard deviation of each band over the whole crop.

    Parameters
    ----------
    waves : torch.Tensor, shape (N, time), floating
        Waveforms in [-1, 1], all the same length.
    sample_rate : int
        In Hz (default 16000).
    n_mels : int
        Mel bands ``F`` (default 40).
    half_window : int
        Half the crop, in frames (default 36: 0.72 s at a 10 ms hop).
    n_segments : int
        Time parts the crop is averaged over; must divide ``2 * half_window``.

    Returns
    -------
    torch.Tensor, shape (N, (n_segments + 1) * n_mels)
        ``n_segments * n_mels`` segment means (band-major: band 0's
        segments first), then ``n_mels`` standard deviations; (N, 200) with
        the defaults.

    Examples
    --------
    >>> waves = torch.zeros(2, 16000); waves[:, 3000:6000] = 0.1 * torch.randn(2, 3000, generator=torch.Generator().manual_seed(0))
    >>> clip_features(waves).shape
    torch.Size([2, 200])
    """
    waves = check_tensor(waves, "waves", ndim=2, floating=True)
    sample_rate = check_sample_rate(sample_rate)
    n_mels = check_positive_int(n_mels, "n_mels")
    half_window = check_positive_int(half_window, "half_window")
    n_segments = check_positive_int(n_segments, "n_segments")
    if (2 * half_window) % n_segments:
        raise ValueError(
            f"n_segments must divide the window of 2 * half_window = {2 * half_window} frames, got {n_segments}"
        )
    lm = log_mel(waves, sample_rate, n_mels=n_mels)  # (N, time) -> (N, F, T)
    n_frames = lm.shape[-1]
    if n_frames < 2 * half_window:
        hop = 160  # log_mel's default hop_length, in samples
        raise ValueError(
            f"waves are too short for the window: need at least {2 * half_window} frames "
            f"(about {(2 * half_window - 1) * hop} samples at a {hop}-sample hop), got {n_frames} frames "
            f"from {waves.shape[-1]} samples; pad the clips or lower half_window"
        )
    energy = lm.logsumexp(dim=1)  # (N, F, T) -> (N, T)
    frames = torch.arange(n_frames, dtype=lm.dtype)
    centre = (torch.softmax(energy, dim=-1) * frames).sum(-1).round().long()  # (N,)
    centre = centre.clamp(half_window, n_frames - half_window)
    idx = centre[:, None] + torch.arange(-half_window, half_window)[None, :]  # (N, 2 * half_window)
    crop = torch.gather(lm, 2, idx[:, None, :].expand(-1, n_mels, -1))  # (N, F, 2 * half_window)
    segments = torch.stack([s.mean(-1) for s in crop.chunk(n_segments, dim=-1)], dim=-1)  # (N, F, n_segments)
    return torch.cat([segments.flatten(1), crop.std(-1)], dim=1)  # (N, (n_segments + 1) * F)
