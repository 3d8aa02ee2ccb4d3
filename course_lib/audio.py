"""Audio signals for speech: test signals, framing, windows, quantization, STFT, decibels, resampling.

Every function takes audio shaped ``(..., time)`` (a torch tensor, or a numpy
array that is converted) and works on any number of leading batch axes.
Spectral outputs are shaped ``(..., n_freq, frames)`` as in torchaudio and
librosa, built from differentiable torch operations, so gradients flow back to
the waveform. The mel scale lives in :mod:`course_lib.mel`, cepstra in
:mod:`course_lib.cepstrum`, pitch in :mod:`course_lib.pitch`.

Defaults suit 16 kHz speech: a 25 ms window (``n_fft = win_length = 400``),
a 10 ms hop (``hop_length = 160``), centred frames with reflect padding.

Parity (measured in ``tests/test_audio.py``, float32 input):

==========================  ============================================  ==============
function                    reference                                     tolerance
==========================  ============================================  ==============
``frame``, ``window``       ``librosa.util.frame``, ``torch.*_window``     exact / 1e-6
``stft``, ``spectrogram``   ``librosa.stft``, torchaudio ``Spectrogram``   rel. 1e-4
``power_to_db`` & co.       ``librosa.power_to_db``, ``amplitude_to_DB``   abs. 1e-3 dB
``resample``                ``torchaudio.functional.resample``            abs. 1e-5
                            librosa (soxr), scipy ``resample_poly``       abs. 2e-3 (tone)
==========================  ============================================  ==============
"""
from __future__ import annotations

import math
import torch
from course_lib.checks import check_float, check_positive_int, check_sample_rate, check_tensor

__all__ = [
    "tone",
    "sweep",
    "frame",
    "window",
    "quantize",
    "stft",
    "stft_from_scratch",
    "spectrogram",
    "amplitude_to_db",
    "power_to_db",
    "resample",
]

_WINDOWS = ("hann", "hamming", "rectangular")


# --------------------------------------------------------------------------- helpers
def _audio(x, name: str = "x") -> torch.Tensor:
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


def _check_duration(seconds, sample_rate: int) -> int:
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"seconds must be a positive number, got {seconds!r}")
    n = int(round(seconds * sample_rate))
    if n < 1:
        raise ValueError(f"{seconds} s at {sample_rate} Hz is less than one sample; use a longer duration")
    return n


def _check_freq(f, name: str) -> float:
    if isinstance(f, bool) or not isinstance(f, (int, float)) or not math.isfinite(f) or f < 0:
        raise ValueError(f"{name} must be a finite frequency >= 0 Hz, got {f!r}")
    return float(f)


def _check_amplitude(amplitude) -> float:
    if isinstance(amplitude, bool) or not isinstance(amplitude, (int, float)) or not math.isfinite(amplitude) \
            or amplitude < 0:
        raise ValueError(f"amplitude must be a finite number >= 0 (1.0 = full scale), got {amplitude!r}")
    return float(amplitude)


# --------------------------------------------------------------------------- test signals
def tone(
    freq,
    seconds: float,
    sample_rate: int = 16000,
    *,
    amplitude: float = 1.0,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """A sine tone (or a sum of tones) evaluated at the sample instants ``n / sample_rate``.

    ``x[n] = amplitude * sum_i sin(2 pi f_i n / sample_rate)``. No filter is
    applied: a frequency above ``sample_rate / 2`` aliases, as it would in a
    converter without an anti-alias filter (the phases are computed in float64).

    Parameters
    ----------
    freq : float or sequence of float
        Frequency in Hz, or several (their tones are added, each with ``amplitude``).
    seconds : float
        Duration; ``round(seconds * sample_rate)`` samples.
    sample_rate : int
        In Hz.
    amplitude : float
        Peak amplitude of each tone (1.0 = full scale).
    dtype : torch.dtype
        Floating output dtype.

    Returns
    -------
    torch.Tensor, shape ``(time,)``

    Examples
    --------
    >>> x = tone(1000.0, 0.01)
    >>> x.shape, round(float(x[4]), 4)         # 1 kHz at 16 kHz: 16 samples per cycle
    (torch.Size([160]), 1.0)
    >>> tone([1000.0, 1080.0], 1.0, amplitude=0.2).abs().max() <= 0.4
    tensor(True)
    """
    freqs = [freq] if isinstance(freq, (int, float)) and not isinstance(freq, bool) else freq
    try:
        freqs = [_check_freq(f, "freq") for f in freqs]
    except TypeError as exc:
        raise TypeError(f"freq must be a number or a sequence of numbers (Hz), got {type(freq).__name__}") from exc
    if not freqs:
        raise ValueError("freq must name at least one frequency")
    sample_rate = check_sample_rate(sample_rate)
    n = _check_duration(seconds, sample_rate)
    amplitude = _check_amplitude(amplitude)
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating torch.dtype such as torch.float32, got {dtype!r}")
    t = torch.arange(n, dtype=torch.float64) / sample_rate  # (time,) seconds
    x = sum(torch.sin(2.0 * math.pi * f * t) for f in freqs)
    return (amplitude * x).to(dtype)


def sweep(
    f0: float,
    f1: float,
    seconds: float,
    sample_rate: int = 16000,
    *,
    amplitude: float = 0.3,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """A linear chirp from ``f0`` to ``f1`` Hz, evaluated at the sample instants (no filter).

    The instantaneous frequency rises linearly, ``f(t) = f0 + (f1 - f0) t / T``,
    so the phase is ``2 pi (f0 t + (f1 - f0) t^2 / (2 T))``. Sampled at a rate
    below ``2 f1`` without a filter, the part above ``sample_rate / 2`` folds
    back (aliasing); generate it at a higher rate and :func:`resample` it to
    get the anti-aliased version.

    Parameters
    ----------
    f0, f1 : float
        Start and end frequencies in Hz (``f1 < f0`` sweeps down).
    seconds : float
        Duration ``T``.
    sample_rate : int
        In Hz.
    amplitude : float
        Peak amplitude (1.0 = full scale).
    dtype : torch.dtype
        Floating output dtype.

    Returns
    -------
    torch.Tensor, shape ``(time,)``

    Examples
    --------
    >>> x = sweep(100.0, 4000.0, 1.0)
    >>> x.shape, round(float(x.abs().max()), 3)
    (torch.Size([16000]), 0.3)
    """
    f0, f1 = _check_freq(f0, "f0"), _check_freq(f1, "f1")
    sample_rate = check_sample_rate(sample_rate)
    n = _check_duration(seconds, sample_rate)
    amplitude = _check_amplitude(amplitude)
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating torch.dtype such as torch.float32, got {dtype!r}")
    t = torch.arange(n, dtype=torch.float64) / sample_rate  # (time,) seconds
    phase = 2.0 * math.pi * (f0 * t + (f1 - f0) * t**2 / (2.0 * seconds))
    return (amplitude * torch.sin(phase)).to(dtype)


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


def stft_from_scratch(
    x,
    n_fft: int = 400,
    hop_length: int = 160,
    win_length: int | None = None,
    *,
    window_kind: str = "hann",
    center: bool = True,
) -> torch.Tensor:
    """The STFT written out: pad, cut into frames, window, multiply by the DFT matrix.

    ``X[k, t] = sum_n w[n] x[t * hop + n] exp(-2 pi i k n / n_fft)`` for the
    ``n_fft // 2 + 1`` bins ``k`` (a real signal's spectrum is symmetric).
    A window shorter than ``n_fft`` is zero-padded on both sides (centred), as
    ``torch.stft`` does. Same values as :func:`stft` (tested), only slower: an
    ``O(n_fft^2)`` matrix product per frame instead of an FFT. For teaching;
    use :func:`stft` in practice.

    Parameters
    ----------
    x : torch.Tensor or numpy.ndarray, shape ``(..., time)``
    n_fft, hop_length, win_length, window_kind, center
        As in :func:`stft` (``center`` pads with reflection).

    Returns
    -------
    torch.Tensor (complex), shape ``(..., n_fft // 2 + 1, frames)``

    Examples
    --------
    >>> x = torch.randn(2, 4000, generator=torch.Generator().manual_seed(0))
    >>> torch.allclose(stft_from_scratch(x), stft(x), atol=1e-3)
    True
    """
    x = _audio(x)
    n_fft, win_length, hop_length = _check_hop_and_window(n_fft, win_length, hop_length)
    length = x.shape[-1]
    if center:
        if length <= n_fft // 2:
            raise ValueError(f"audio has {length} samples; reflect padding with n_fft={n_fft} needs more than "
                             f"{n_fft // 2}. Use a smaller n_fft or a longer signal")
        flat = x.reshape(-1, 1, length)  # (..., time) -> (B, 1, time): reflect padding wants 3-D
        flat = torch.nn.functional.pad(flat, (n_fft // 2, n_fft // 2), mode="reflect")
        x = flat.reshape(*x.shape[:-1], -1)  # (B, 1, time + n_fft) -> (..., time + n_fft)
    elif length < n_fft:
        raise ValueError(f"audio has {length} samples, fewer than n_fft={n_fft} (center=False)")
    frames = frame(x, n_fft, hop_length)  # (..., n_fft, frames)
    left = (n_fft - win_length) // 2  # the window sits in the middle of the n_fft samples
    w = torch.nn.functional.pad(window(window_kind, win_length, dtype=torch.float64), (left, n_fft - win_length - left))
    k = torch.arange(n_fft // 2 + 1, dtype=torch.float64)[:, None]  # (F, 1) bins
    n = torch.arange(n_fft, dtype=torch.float64)[None, :]  # (1, n_fft) samples
    dft = torch.exp(-2j * math.pi * k * n / n_fft) * w[None, :]  # (F, n_fft): DFT rows times the window
    cdtype = torch.complex128 if x.dtype == torch.float64 else torch.complex64
    return torch.matmul(dft.to(cdtype).to(x.device), frames.to(cdtype))  # (F, n_fft) @ (..., n_fft, T) -> (..., F, T)


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
    check_float(rolloff, "rolloff")
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
