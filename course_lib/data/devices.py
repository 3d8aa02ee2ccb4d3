"""Devices: microphone responses, the narrow-band telephone channel (mu-law), gain and clipping.
"""
from __future__ import annotations

import math
from functools import lru_cache
from dataclasses import dataclass
import numpy as np
import torch
from course_lib.checks import check_float, check_positive_int, check_sample_rate, check_tensor
from course_lib.data.noise import _check_audio, _check_number

__all__ = [
    "DEVICES",
    "Device",
    "apply_device",
    "mu_law_encode",
    "mu_law_decode",
]

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

    def __post_init__(self) -> None:
        if not isinstance(self.name, str):
            raise TypeError(f"name must be a str, got {type(self.name).__name__}")
        for field in ("highpass_hz", "lowpass_hz", "clip_fraction"):
            check_float(getattr(self, field), field, min_value=0.0, allow_none=True)
        check_float(self.peak_hz, "peak_hz", min_value=0.0, min_inclusive=False)
        check_float(self.peak_db, "peak_db")
        if not isinstance(self.narrowband, bool):
            raise TypeError(f"narrowband must be a bool, got {type(self.narrowband).__name__}")


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
