"""Data augmentation for speech: SpecAugment, speed and pitch perturbation, noise, reverberation.

Waveform augmentations take audio shaped ``(..., time)``; SpecAugment takes
features shaped ``(..., n_mels, frames)`` (``(B, F, T)`` when ``lengths``
are given). Every random function takes a ``generator`` (a
``torch.Generator`` or an int seed), so the same seed gives the same bytes.
Noise and room primitives come from :mod:`course_lib.conditions`
(``mix_at_snr``, ``synthetic_rir``, ``apply_rir``); this module only draws
their random parameters.

- :func:`spec_augment_masks` / :func:`spec_augment` / :class:`SpecAugment`:
  frequency and time masks (Park et al., 2019), respecting per-item lengths.
- :func:`speed_perturb` / :func:`random_speed_perturb`: play faster or slower
  (duration and pitch change together), by resampling.
- :func:`time_stretch`: duration changes, pitch stays (phase vocoder).
- :func:`pitch_shift`: pitch changes, duration stays (time stretch + resample).
- :func:`add_noise`, :func:`add_reverb`: noise at a random SNR, a random room.
"""
from __future__ import annotations

import math
from fractions import Fraction

import torch
from torch import nn

from course_lib.audio import resample, window
from course_lib.checks import as_tensor, check_lengths, check_positive_int, check_sample_rate, check_tensor

__all__ = [
    "spec_augment_masks",
    "spec_augment",
    "SpecAugment",
    "speed_perturb",
    "random_speed_perturb",
    "time_stretch",
    "pitch_shift",
    "add_noise",
    "add_reverb",
]


# --------------------------------------------------------------------------- helpers
def _generator(generator) -> torch.Generator:
    """A torch.Generator from an int seed or an existing generator."""
    if isinstance(generator, torch.Generator):
        return generator
    if isinstance(generator, bool) or not isinstance(generator, int):
        raise TypeError(
            f"generator must be a torch.Generator or an int seed, got {type(generator).__name__}"
        )
    if generator < 0:
        raise ValueError(f"seed must be >= 0, got {generator}")
    return torch.Generator().manual_seed(generator)


def _non_negative_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be a non-negative int, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must be a non-negative int, got {value}")
    return value


def _range(value, name: str, low: float, high: float) -> tuple[float, float]:
    try:
        a, b = (float(v) for v in value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a (low, high) pair of numbers, got {value!r}") from None
    if not (low <= a <= b <= high):
        raise ValueError(f"{name} must satisfy {low} <= low <= high <= {high}, got ({a}, {b})")
    return a, b


def _uniform(gen: torch.Generator, low: float, high: float, size: tuple[int, ...] = ()) -> torch.Tensor:
    return low + (high - low) * torch.rand(size, generator=gen, dtype=torch.float64)


# --------------------------------------------------------------------------- SpecAugment
def spec_augment_masks(
    shape: tuple[int, ...],
    *,
    n_freq_masks: int = 2,
    freq_mask_param: int = 15,
    n_time_masks: int = 2,
    time_mask_param: int = 20,
    lengths=None,
    generator,
) -> torch.Tensor:
    """Draw SpecAugment masks: ``True`` where a feature value is to be replaced.

    Each of ``n_freq_masks`` frequency masks covers ``f ~ U{0..freq_mask_param}``
    consecutive bands starting at ``U{0..F - f}``; each of ``n_time_masks``
    time masks covers ``t ~ U{0..min(time_mask_param, length)}`` frames starting
    at ``U{0..length - t}``, so it never falls in the padding. Items of a batch
    get independent masks; masks may overlap.

    Parameters
    ----------
    shape : tuple of int
        ``(..., F, T)`` shape of the features.
    n_freq_masks, n_time_masks : int
        How many masks of each kind (0 disables).
    freq_mask_param, time_mask_param : int
        Largest width in bands / frames.
    lengths : torch.Tensor, optional
        ``(B,)`` valid frame counts for ``(B, F, T)`` features.
    generator : torch.Generator or int
        Source of randomness (an int is used as a seed).

    Returns
    -------
    torch.Tensor of bool, shape ``shape``

    Examples
    --------
    >>> m = spec_augment_masks((80, 100), n_freq_masks=1, freq_mask_param=10,
    ...                        n_time_masks=0, time_mask_param=0, generator=0)
    >>> rows = m.all(-1)            # a frequency mask covers every frame of its bands
    >>> int(rows.sum()) <= 10, bool((m.any(-1) == rows).all())
    (True, True)
    """
    gen = _generator(generator)
    if not isinstance(shape, (tuple, list, torch.Size)) or len(shape) < 2 or any(
        isinstance(s, bool) or not isinstance(s, int) or s <= 0 for s in shape
    ):
        raise ValueError(f"shape must be a (..., F, T) tuple of positive ints, got {shape!r}")
    n_freq_masks = _non_negative_int(n_freq_masks, "n_freq_masks")
    n_time_masks = _non_negative_int(n_time_masks, "n_time_masks")
    freq_mask_param = _non_negative_int(freq_mask_param, "freq_mask_param")
    time_mask_param = _non_negative_int(time_mask_param, "time_mask_param")
    *lead, n_freq, n_frames = shape
    if freq_mask_param > n_freq:
        raise ValueError(f"freq_mask_param must be <= the number of bands ({n_freq}), got {freq_mask_param}")
    batch = math.prod(lead)
    if lengths is None:
        lengths = torch.full((batch,), n_frames, dtype=torch.long)
    else:
        if len(lead) != 1:
            raise ValueError(f"lengths need (B, F, T) features, got shape {tuple(shape)}")
        lengths = check_lengths(lengths, batch, n_frames)
    bands = torch.arange(n_freq)
    frames = torch.arange(n_frames)
    mask = torch.zeros(batch, n_freq, n_frames, dtype=torch.bool)
    for _ in range(n_freq_masks):
        width = torch.randint(0, freq_mask_param + 1, (batch,), generator=gen)
        start = (torch.rand(batch, generator=gen, dtype=torch.float64) * (n_freq - width + 1)).long()
        hit = (bands[None] >= start[:, None]) & (bands[None] < (start + width)[:, None])  # (B, F)
        mask |= hit[:, :, None]
    for _ in range(n_time_masks):
        cap = torch.clamp(lengths, max=time_mask_param)
        width = (torch.rand(batch, generator=gen, dtype=torch.float64) * (cap + 1)).long()
        start = (torch.rand(batch, generator=gen, dtype=torch.float64) * (lengths - width + 1)).long()
        hit = (frames[None] >= start[:, None]) & (frames[None] < (start + width)[:, None])  # (B, T)
        mask |= hit[:, None, :]
    return mask.reshape(shape)


def spec_augment(
    spec,
    *,
    n_freq_masks: int = 2,
    freq_mask_param: int = 15,
    n_time_masks: int = 2,
    time_mask_param: int = 20,
    lengths=None,
    mask_value: float | str = "mean",
    generator,
) -> torch.Tensor:
    """SpecAugment: hide random bands and frame spans of a (log-mel) spectrogram.

    Parameters
    ----------
    spec : torch.Tensor or numpy.ndarray, shape ``(..., F, T)``
        Features; ``(B, F, T)`` when ``lengths`` is given.
    n_freq_masks, freq_mask_param, n_time_masks, time_mask_param, lengths, generator
        As in :func:`spec_augment_masks`.
    mask_value : float or "mean"
        What the masked cells become. ``"mean"`` (default) uses each item's
        mean over its valid frames: for log-mel features 0 is not silence but
        an arbitrary level, the mean is neutral.

    Returns
    -------
    torch.Tensor, same shape as ``spec`` (a new tensor; ``spec`` is unchanged)

    Examples
    --------
    >>> x = torch.ones(2, 40, 50)
    >>> y = spec_augment(x, n_freq_masks=1, freq_mask_param=5, n_time_masks=1,
    ...                  time_mask_param=5, mask_value=0.0, generator=0)
    >>> y.shape, bool((y == 0).any()), bool((x == 1).all())
    (torch.Size([2, 40, 50]), True, True)
    """
    spec = check_tensor(spec, "spec", min_ndim=2, floating=True)
    mask_value = _check_mask_value(mask_value)
    mask = spec_augment_masks(
        tuple(spec.shape),
        n_freq_masks=n_freq_masks,
        freq_mask_param=freq_mask_param,
        n_time_masks=n_time_masks,
        time_mask_param=time_mask_param,
        lengths=lengths,
        generator=generator,
    ).to(spec.device)
    if mask_value == "mean":
        if lengths is None:
            fill = spec.mean(dim=(-2, -1), keepdim=True)
        else:
            lengths = as_tensor(lengths, "lengths").to(spec.device)  # validated by spec_augment_masks
            valid = torch.arange(spec.shape[-1], device=spec.device)[None] < lengths[:, None]  # (B, T)
            count = (valid.sum(-1) * spec.shape[-2]).clamp_min(1)
            fill = (spec * valid[:, None, :]).sum(dim=(-2, -1)) / count
            fill = fill[:, None, None]
        return torch.where(mask, fill.to(spec.dtype), spec)
    return spec.masked_fill(mask, mask_value)


def _check_mask_value(mask_value) -> float | str:
    """``"mean"`` or a finite number (a NaN or infinite fill would poison every masked cell)."""
    if isinstance(mask_value, str) and mask_value == "mean":
        return mask_value
    if isinstance(mask_value, bool) or not isinstance(mask_value, (int, float)):
        raise ValueError(f"mask_value must be a number or 'mean', got {mask_value!r}")
    if not math.isfinite(mask_value):
        raise ValueError(f"mask_value must be a finite number or 'mean', got {mask_value}")
    return float(mask_value)


class SpecAugment(nn.Module):
    """``nn.Module`` form of :func:`spec_augment`: active in training mode only.

    It owns a ``torch.Generator`` seeded once at construction, so successive
    batches get different masks and a rerun with the same seed the same ones.

    Parameters
    ----------
    n_freq_masks, freq_mask_param, n_time_masks, time_mask_param, mask_value
        As in :func:`spec_augment`.
    seed : int

    Examples
    --------
    >>> aug = SpecAugment(n_freq_masks=1, freq_mask_param=8, n_time_masks=1, time_mask_param=8)
    >>> x = torch.randn(2, 40, 60)
    >>> bool((aug(x) != x).any()), bool((aug.eval()(x) == x).all())
    (True, True)
    """

    def __init__(
        self,
        n_freq_masks: int = 2,
        freq_mask_param: int = 15,
        n_time_masks: int = 2,
        time_mask_param: int = 20,
        *,
        mask_value: float | str = "mean",
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.kwargs = dict(
            n_freq_masks=_non_negative_int(n_freq_masks, "n_freq_masks"),
            freq_mask_param=_non_negative_int(freq_mask_param, "freq_mask_param"),
            n_time_masks=_non_negative_int(n_time_masks, "n_time_masks"),
            time_mask_param=_non_negative_int(time_mask_param, "time_mask_param"),
            mask_value=_check_mask_value(mask_value),
        )
        self.generator = _generator(seed)

    def forward(self, spec: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """``(..., F, T)`` features -> masked features (identity in eval mode)."""
        if not self.training:
            return spec
        return spec_augment(spec, lengths=lengths, generator=self.generator, **self.kwargs)


# --------------------------------------------------------------------------- speed
def _check_factor(factor, name: str = "factor") -> Fraction:
    if isinstance(factor, bool) or not isinstance(factor, (int, float)):
        raise TypeError(f"{name} must be a number, got {type(factor).__name__}")
    if not 0.5 <= factor <= 2.0:
        raise ValueError(f"{name} must lie in [0.5, 2.0], got {factor}")
    return Fraction(factor).limit_denominator(100)


def speed_perturb(x, sample_rate: int, factor: float) -> torch.Tensor:
    """Play audio ``factor`` times faster: duration / factor, every frequency x factor.

    The signal is reinterpreted as sampled at ``factor * sample_rate`` and
    resampled back to ``sample_rate`` (Kaldi-style speed perturbation); the
    factor is rounded to a fraction with denominator <= 100.

    Parameters
    ----------
    x : torch.Tensor or numpy.ndarray, shape ``(..., time)``
    sample_rate : int
        In Hz (only validated: the ratio alone matters).
    factor : float
        In [0.5, 2]; 1.1 = 10 % faster and higher.

    Returns
    -------
    torch.Tensor, shape ``(..., ceil(time / factor))``

    Examples
    --------
    >>> speed_perturb(torch.randn(16000), 16000, 1.25).shape
    torch.Size([12800])
    """
    x = check_tensor(x, "x", min_ndim=1, floating=True)
    check_sample_rate(sample_rate)
    frac = _check_factor(factor)
    if frac == 1:
        return x.clone()
    return resample(x, frac.numerator, frac.denominator)


def random_speed_perturb(
    x, sample_rate: int, *, factors: tuple[float, ...] = (0.9, 1.0, 1.1), generator
) -> tuple[torch.Tensor, float]:
    """Speed-perturb with a factor drawn uniformly from ``factors``.

    Parameters
    ----------
    x : torch.Tensor or numpy.ndarray, shape ``(..., time)``
    sample_rate : int
    factors : tuple of float
        The choices (each in [0.5, 2]).
    generator : torch.Generator or int

    Returns
    -------
    y : torch.Tensor, shape ``(..., ceil(time / factor))``
    factor : float
        The factor drawn (to rescale lengths and alignments).

    Examples
    --------
    >>> y, f = random_speed_perturb(torch.randn(1000), 16000, generator=0)
    >>> f in (0.9, 1.0, 1.1), y.shape[-1] == math.ceil(1000 / f)
    (True, True)
    """
    gen = _generator(generator)
    if not isinstance(factors, (tuple, list)) or not factors:
        raise ValueError(f"factors must be a non-empty tuple of numbers, got {factors!r}")
    for f in factors:
        _check_factor(f, "each factor")
    factor = float(factors[int(torch.randint(len(factors), (1,), generator=gen))])
    return speed_perturb(x, sample_rate, factor), factor


# --------------------------------------------------------------------------- time stretch and pitch shift
def time_stretch(x, rate: float, *, n_fft: int = 512, hop_length: int = 128) -> torch.Tensor:
    """Change duration without changing pitch (phase vocoder).

    STFT (Hann window), then output frame ``j`` reads the input at fractional
    position ``j * rate``: magnitudes are interpolated linearly between the two
    neighbouring frames and phases are accumulated from each bin's measured
    instantaneous frequency (its phase advance between the two frames, wrapped
    around the advance expected of the bin's centre frequency). Inverse STFT
    gives the new waveform, about ``time / rate`` samples long. The frames of
    the output are the same as ``torchaudio.functional.phase_vocoder``'s.

    Parameters
    ----------
    x : torch.Tensor or numpy.ndarray, shape ``(..., time)``
    rate : float
        Speed-up factor in [0.5, 2] (> 1 shorter, < 1 longer).
    n_fft, hop_length : int
        Analysis frame and hop in samples.

    Returns
    -------
    torch.Tensor, shape ``(..., round(time / rate))``

    Examples
    --------
    >>> time_stretch(torch.randn(16000), 2.0).shape
    torch.Size([8000])
    """
    x = check_tensor(x, "x", min_ndim=1, floating=True)
    _check_factor(rate, "rate")
    n_fft = check_positive_int(n_fft, "n_fft")
    hop_length = check_positive_int(hop_length, "hop_length")
    length = x.shape[-1]
    if length <= n_fft // 2:
        raise ValueError(f"x has {length} samples; need more than n_fft // 2 = {n_fft // 2}")
    win = window("hann", n_fft, dtype=x.dtype)
    flat = x.reshape(-1, length)  # (..., time) -> (B, time)
    spec = torch.stft(flat, n_fft, hop_length, window=win, center=True, return_complex=True)  # (B, F, T)
    out = _phase_vocoder(spec, float(rate), hop_length)
    target = round(length / float(rate))
    y = torch.istft(out, n_fft, hop_length, window=win, center=True, length=target)
    return y.reshape(*x.shape[:-1], target)


def _phase_vocoder(spec: torch.Tensor, rate: float, hop_length: int) -> torch.Tensor:
    """(B, F, T) complex -> (B, F, ceil(T / rate)) complex, time-scaled."""
    n_freq = spec.shape[-2]
    steps = torch.arange(0, spec.shape[-1], rate, dtype=torch.float64)
    # expected phase advance per hop of each bin's centre frequency
    advance = torch.linspace(0, math.pi * hop_length, n_freq, dtype=torch.float64)[:, None]
    padded = torch.nn.functional.pad(spec, (0, 2))
    lo = steps.floor().long()
    frac = (steps - lo).to(spec.real.dtype)
    a, b = padded[..., lo], padded[..., lo + 1]
    mag = (1 - frac) * a.abs() + frac * b.abs()
    dphase = (b.angle() - a.angle()).double() - advance
    dphase = dphase - 2 * math.pi * torch.round(dphase / (2 * math.pi))
    increments = (advance + dphase).to(spec.real.dtype)
    phase0 = spec[..., :1].angle()
    # phase of output frame j = phase of input frame 0 + sum of increments before j
    phase = torch.cat([phase0, phase0 + torch.cumsum(increments[..., :-1], dim=-1)], dim=-1)
    return torch.polar(mag, phase)


def pitch_shift(x, sample_rate: int, n_semitones: float, *, n_fft: int = 512, hop_length: int = 128) -> torch.Tensor:
    """Shift pitch by ``n_semitones`` keeping the duration (librosa's method).

    With ``ratio = 2 ** (n_semitones / 12)``: :func:`time_stretch` by
    ``1 / ratio`` (``ratio`` times longer, same pitch), then resample by
    ``ratio`` (back to the original duration, every frequency times
    ``ratio``), then trim or zero-pad to the input length. Formants move with
    the pitch, as in ``librosa.effects.pitch_shift``.

    Parameters
    ----------
    x : torch.Tensor or numpy.ndarray, shape ``(..., time)``
    sample_rate : int
        In Hz (validated; the ratio alone matters).
    n_semitones : float
        In [-12, 12]; +12 is one octave up.
    n_fft, hop_length : int
        Phase-vocoder frame and hop.

    Returns
    -------
    torch.Tensor, same shape as ``x``

    Examples
    --------
    >>> pitch_shift(torch.randn(8000), 16000, 3.0).shape
    torch.Size([8000])
    """
    x = check_tensor(x, "x", min_ndim=1, floating=True)
    check_sample_rate(sample_rate)
    if isinstance(n_semitones, bool) or not isinstance(n_semitones, (int, float)):
        raise TypeError(f"n_semitones must be a number, got {type(n_semitones).__name__}")
    if not -12 <= n_semitones <= 12:
        raise ValueError(f"n_semitones must lie in [-12, 12], got {n_semitones}")
    if n_semitones == 0:
        return x.clone()
    ratio = 2.0 ** (n_semitones / 12.0)
    stretched = time_stretch(x, 1.0 / ratio, n_fft=n_fft, hop_length=hop_length)
    frac = Fraction(ratio).limit_denominator(1000)
    shifted = resample(stretched, frac.numerator, frac.denominator)
    length = x.shape[-1]
    if shifted.shape[-1] >= length:
        return shifted[..., :length]
    return torch.nn.functional.pad(shifted, (0, length - shifted.shape[-1]))


# --------------------------------------------------------------------------- noise and rooms
def add_noise(x, noise, *, snr_db_range: tuple[float, float] = (0.0, 20.0), generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Add noise at an SNR drawn uniformly from ``snr_db_range`` (per item).

    A random excerpt of ``noise`` as long as ``x`` is taken (the noise is
    tiled first when it is shorter), then mixed with
    :func:`course_lib.data.noise.mix_at_snr`.

    Parameters
    ----------
    x : torch.Tensor or numpy.ndarray, shape ``(..., time)``
        Clean audio with non-zero energy.
    noise : torch.Tensor or numpy.ndarray, shape ``(noise_time,)``
        A noise recording (any length).
    snr_db_range : (float, float)
        Low and high SNR in dB, within [-20, 60].
    generator : torch.Generator or int

    Returns
    -------
    y : torch.Tensor, shape ``(..., time)``
    snr_db : torch.Tensor, shape ``(...)``
        The SNRs drawn, in dB.

    Examples
    --------
    >>> from course_lib.data.noise import white_noise, snr_db
    >>> s = torch.sin(torch.arange(8000) * 0.05)
    >>> y, snr = add_noise(s, white_noise(4000), snr_db_range=(5.0, 15.0), generator=0)
    >>> bool(abs(snr_db(s, y - s) - snr) < 1e-3), 5.0 <= float(snr) <= 15.0
    (True, True)
    """
    from course_lib.data.noise import mix_at_snr

    gen = _generator(generator)
    x = check_tensor(x, "x", min_ndim=1, floating=True)
    noise = check_tensor(noise, "noise", ndim=1, floating=True)
    low, high = _range(snr_db_range, "snr_db_range", -20.0, 60.0)
    length = x.shape[-1]
    if noise.shape[-1] < length:
        noise = noise.repeat(math.ceil(length / noise.shape[-1]))
    lead = x.shape[:-1]
    batch = math.prod(lead)
    starts = torch.randint(0, noise.shape[-1] - length + 1, (batch,), generator=gen)
    pieces = torch.stack([noise[s : s + length] for s in starts.tolist()]).reshape(*lead, length)
    snr = _uniform(gen, low, high, tuple(lead))
    return mix_at_snr(x, pieces.to(x.dtype), snr), snr


def add_reverb(
    x, sample_rate: int = 16000, *, rt60_range: tuple[float, float] = (0.2, 0.8), drr_db: float = 3.0, generator
) -> tuple[torch.Tensor, float]:
    """Convolve with a synthetic room whose RT60 is drawn uniformly from ``rt60_range``.

    Uses :func:`course_lib.data.rooms.synthetic_rir` (seeded from
    ``generator``) and :func:`course_lib.data.rooms.apply_rir`; the output
    keeps the input length. One room per call (every item of a batch shares it).

    Parameters
    ----------
    x : torch.Tensor or numpy.ndarray, shape ``(..., time)``
    sample_rate : int
        In Hz.
    rt60_range : (float, float)
        Reverberation time range in seconds, within (0, 3].
    drr_db : float
        Direct-to-reverberant ratio of the room, in dB.
    generator : torch.Generator or int

    Returns
    -------
    y : torch.Tensor, shape ``(..., time)``
    rt60_s : float
        The reverberation time drawn.

    Examples
    --------
    >>> y, rt60 = add_reverb(torch.randn(8000), 16000, generator=0)
    >>> y.shape, 0.2 <= rt60 <= 0.8
    (torch.Size([8000]), True)
    """
    from course_lib.data.rooms import apply_rir, synthetic_rir

    gen = _generator(generator)
    x = check_tensor(x, "x", min_ndim=1, floating=True)
    sample_rate = check_sample_rate(sample_rate)
    low, high = _range(rt60_range, "rt60_range", 0.0, 3.0)
    if low <= 0:
        raise ValueError(f"rt60_range must start above 0 s, got ({low}, {high})")
    rt60 = float(_uniform(gen, low, high))
    seed = int(torch.randint(0, 2**31 - 1, (1,), generator=gen))
    rir = synthetic_rir(rt60, sample_rate, seed, drr_db=drr_db)
    return apply_rir(x, rir.to(x.dtype)), rt60
