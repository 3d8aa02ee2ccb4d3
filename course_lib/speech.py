"""The source-filter view of speech, measured on sustained vowels.

Voiced speech is a *source* (the glottal pulses at f0, harmonics at ``k f0``)
shaped by a *filter* (the vocal tract, whose resonances -- the formants --
depend on the vowel). These helpers make the course's test material for that
view: a sustained vowel at a chosen pitch (:func:`sustained_vowel`), its
average spectrum and f0 (:func:`vowel_spectrum`), the peaks of its cepstral
envelope (:func:`envelope_peaks`), its mean MFCC vector (:func:`vowel_mfcc`),
and the experiment that asks how far MFCCs move when the pitch changes
compared with when the vowel changes (:func:`vowel_distance_table`).

Audio is ``(time,)`` float32 at 16 kHz from espeak-ng (:mod:`course_lib.data.tts`),
monotone (``pitch_range=0``) and slow, so that the middle of the vowel is steady.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from course_lib.audio import _audio, spectrogram
from course_lib.cepstrum import cepstral_envelope, mfcc
from course_lib.checks import check_positive_int, check_sample_rate, check_tensor
from course_lib.data.tts import synthesize
from course_lib.pitch import pitch as estimate_pitch

__all__ = [
    "VOWELS",
    "sustained_vowel",
    "steady_voiced_frames",
    "VowelSpectrum",
    "vowel_spectrum",
    "envelope_peaks",
    "vowel_mfcc",
    "vowel_distance_table",
]

#: Vowel label -> the text espeak-ng sustains it from (English spellings: "ah", "ee", "oo").
VOWELS: dict[str, str] = {"a": "aaaah", "i": "eeee", "u": "ooooo"}

_HOP = 160  # samples between frames (10 ms at 16 kHz) for every frame-level measure here


def _check_vowel(vowel) -> str:
    if vowel not in VOWELS:
        raise ValueError(f"vowel must be one of {sorted(VOWELS)}, got {vowel!r}")
    return vowel


def sustained_vowel(vowel: str = "a", voice: str = "en-us+m3", *, pitch: int = 50,
                    sample_rate: int = 16000) -> torch.Tensor:
    """A sustained vowel spoken by espeak-ng, monotone, at a chosen pitch.

    Parameters
    ----------
    vowel : {"a", "i", "u"}
        Which vowel (:data:`VOWELS`).
    voice : str
        espeak-ng voice, ``accent+variant`` (``"en-gb+f3"``).
    pitch : int
        espeak's pitch setting, 0-100 (15 and 85 are about an octave apart).
    sample_rate : int
        In Hz.

    Returns
    -------
    torch.Tensor, shape ``(time,)``, float32

    Examples
    --------
    >>> x = sustained_vowel("a", "en-us+m3", pitch=15)
    >>> x.ndim, 0.5 < x.shape[0] / 16000 < 1.5
    (1, True)
    """
    _check_vowel(vowel)
    return synthesize(VOWELS[vowel], voice, pitch=pitch, pitch_range=0, rate=80, sample_rate=sample_rate)


def steady_voiced_frames(x, sample_rate: int = 16000, *, f_min: float = 50.0,
                         f_max: float = 500.0) -> tuple[torch.Tensor, torch.Tensor]:
    """The steady part of a sustained vowel: the middle half of its voiced frames.

    Frames are 10 ms apart and centred (frame ``t`` on sample ``160 t``), like
    :func:`course_lib.audio.spectrogram` with ``hop_length=160``; voicing and f0
    come from YIN (:func:`course_lib.pitch.pitch`).

    Parameters
    ----------
    x : torch.Tensor or numpy.ndarray, shape ``(time,)``
    sample_rate : int
    f_min, f_max : float
        Pitch search range in Hz.

    Returns
    -------
    frames : torch.Tensor of int64, shape ``(n_steady,)``
        Indices of the steady frames.
    f0 : torch.Tensor, shape ``(n_steady,)``
        Their f0 in Hz.

    Raises
    ------
    ValueError
        When fewer than 4 frames are voiced (not a vowel, or f0 outside the range).

    Examples
    --------
    >>> frames, f0 = steady_voiced_frames(sustained_vowel("i", pitch=85))
    >>> len(frames) > 10, 100 < float(f0.median()) < 200
    (True, True)
    """
    x = _audio(x)
    if x.ndim != 1:
        raise ValueError(f"x must be one signal shaped (time,), got shape {tuple(x.shape)}")
    sample_rate = check_sample_rate(sample_rate)
    f0, voiced = estimate_pitch(x, sample_rate, f_min=f_min, f_max=f_max, hop_length=_HOP)
    idx = torch.nonzero(voiced).flatten()
    if idx.numel() < 4:
        raise ValueError(
            f"only {idx.numel()} voiced frames found (need 4): is this a vowel, with f0 in [{f_min}, {f_max}] Hz?"
        )
    n = idx.numel()
    steady = idx[n // 4 : n - n // 4]
    return steady, f0[steady]


@dataclass(frozen=True)
class VowelSpectrum:
    """The average spectrum of a vowel's steady part.

    Attributes
    ----------
    log_power_db : torch.Tensor, shape ``(n_fft // 2 + 1,)``
        Mean power spectrum in dB (10 log10 of the power, float32).
    freqs_hz : numpy.ndarray, shape ``(n_fft // 2 + 1,)``
        Bin frequencies.
    f0_hz : float
        Median f0 over the steady frames.
    n_frames : int
        Frames averaged.
    """

    log_power_db: torch.Tensor
    freqs_hz: np.ndarray
    f0_hz: float
    n_frames: int


def vowel_spectrum(x, sample_rate: int = 16000, *, n_fft: int = 2048) -> VowelSpectrum:
    """Mean log power spectrum and f0 of a sustained vowel's steady part.

    A long window (``n_fft = 2048``: 128 ms, 7.8 Hz bins) resolves the
    individual harmonics, so the spectrum shows both the source (harmonics at
    ``k f0``) and the filter (their envelope).

    Parameters
    ----------
    x : torch.Tensor or numpy.ndarray, shape ``(time,)``
    sample_rate : int
    n_fft : int
        FFT size and window length.

    Returns
    -------
    VowelSpectrum

    Examples
    --------
    >>> vs = vowel_spectrum(sustained_vowel("a", pitch=15))
    >>> vs.log_power_db.shape, round(vs.f0_hz / 10) * 10
    (torch.Size([1025]), 60)
    """
    x = _audio(x)
    sample_rate = check_sample_rate(sample_rate)
    n_fft = check_positive_int(n_fft, "n_fft")
    frames, f0 = steady_voiced_frames(x, sample_rate)
    spec = spectrogram(x, n_fft=n_fft, hop_length=_HOP)  # (n_freq, frames) power
    mean = spec[:, frames].mean(-1)  # (n_freq,)
    return VowelSpectrum(
        log_power_db=10 * torch.log10(mean + 1e-10),
        freqs_hz=np.arange(n_fft // 2 + 1) * sample_rate / n_fft,
        f0_hz=float(f0.median()),
        n_frames=int(frames.numel()),
    )


def envelope_peaks(log_power_db, sample_rate: int = 16000, *, n_coeffs: int = 30, n_peaks: int = 3,
                   prominence_db: float = 3.0) -> np.ndarray:
    """Frequencies of the first peaks of a spectrum's cepstral envelope (formant estimates).

    The envelope keeps the first ``n_coeffs`` cepstral coefficients
    (:func:`course_lib.cepstrum.cepstral_envelope`); its interior peaks with at least
    ``prominence_db`` of prominence are the vocal tract's resonances, roughly.

    Parameters
    ----------
    log_power_db : torch.Tensor or numpy.ndarray, shape ``(n_freq,)``
        A one-sided log power spectrum (``n_freq = n_fft // 2 + 1``).
    sample_rate : int
    n_coeffs : int
        Cepstral coefficients kept (below the pitch period in samples).
    n_peaks : int
        At most this many peaks, lowest first.
    prominence_db : float
        Minimum prominence of a peak, in the spectrum's units.

    Returns
    -------
    numpy.ndarray, shape ``(<= n_peaks,)``
        Peak frequencies in Hz.

    Examples
    --------
    >>> k = torch.arange(1025.0)
    >>> envelope_peaks(-10 * torch.cos(2 * torch.pi * k / 2048 * 4))   # peaks at 2 and 6 kHz
    array([2000., 6000.])
    """
    import scipy.signal

    s = check_tensor(log_power_db, "log_power_db", ndim=1, floating=True)
    sample_rate = check_sample_rate(sample_rate)
    n_peaks = check_positive_int(n_peaks, "n_peaks")
    if not (isinstance(prominence_db, (int, float)) and prominence_db > 0):
        raise ValueError(f"prominence_db must be a positive number, got {prominence_db!r}")
    env = cepstral_envelope(s, n_coeffs).numpy()
    peaks, _ = scipy.signal.find_peaks(env, prominence=prominence_db)  # interior peaks only (not 0 Hz)
    return (peaks * sample_rate / (2 * (s.shape[0] - 1)))[:n_peaks]


def vowel_mfcc(x, sample_rate: int = 16000, *, n_mfcc: int = 13, n_mels: int = 40) -> torch.Tensor:
    """Mean MFCC vector (c1 ... c_{n_mfcc-1}) over a sustained vowel's steady part.

    c0 (the level) is left out: it says how loud, not which vowel.

    Parameters
    ----------
    x : torch.Tensor or numpy.ndarray, shape ``(time,)``
    sample_rate : int
    n_mfcc, n_mels : int
        As in :func:`course_lib.cepstrum.mfcc` (25 ms window, 10 ms hop).

    Returns
    -------
    torch.Tensor, shape ``(n_mfcc - 1,)``

    Examples
    --------
    >>> vowel_mfcc(sustained_vowel("u")).shape
    torch.Size([12])
    """
    x = _audio(x)
    n_mfcc = check_positive_int(n_mfcc, "n_mfcc")
    if n_mfcc < 2:
        raise ValueError(f"n_mfcc must be >= 2 (c0 is dropped), got {n_mfcc}")
    frames, _ = steady_voiced_frames(x, sample_rate)
    c = mfcc(x, sample_rate, n_mfcc=n_mfcc, n_mels=n_mels)  # (n_mfcc, frames)
    return c[1:, frames].mean(-1)


def vowel_distance_table(voices: Sequence[str], vowels: Sequence[str] = ("a", "i", "u"),
                         pitches: tuple[int, int] = (15, 85), *, sample_rate: int = 16000):
    """Does a pitch change or a vowel change move a representation more? One row per voice.

    For each voice, every vowel is spoken at two pitches. Two representations
    are compared: the mean MFCC vector (:func:`vowel_mfcc`, c1-c12) and the
    fine log spectrum (:func:`vowel_spectrum`, 0-4 kHz, dB). For each, the
    Euclidean distance between

    * the same vowel at the two pitches (``pitch`` distances, one per vowel), and
    * two different vowels at the same pitch (``vowel`` distances, one per pair and pitch).

    Parameters
    ----------
    voices : sequence of str
        espeak-ng voices.
    vowels : sequence of str
        At least two of :data:`VOWELS`.
    pitches : (int, int)
        The two espeak pitch settings.
    sample_rate : int

    Returns
    -------
    pandas.DataFrame
        Columns ``voice``, ``f0_low_hz``, ``f0_high_hz``, ``mfcc_pitch_max``,
        ``mfcc_vowel_min``, ``mfcc_ratio`` (mean pitch / mean vowel distance),
        ``spec_ratio`` (the same on the fine spectrum).

    Examples
    --------
    >>> table = vowel_distance_table(["en-us+m3"], ("a", "i"))
    >>> bool(table.mfcc_ratio.iloc[0] < table.spec_ratio.iloc[0])
    True
    """
    import pandas as pd

    if isinstance(voices, str) or not voices:
        raise ValueError(f"voices must be a non-empty list of espeak voices, got {voices!r}")
    vowels = [_check_vowel(v) for v in vowels]
    if len(set(vowels)) < 2:
        raise ValueError(f"need at least two different vowels, got {vowels!r}")
    if len(pitches) != 2 or pitches[0] == pitches[1]:
        raise ValueError(f"pitches must be two different espeak pitch settings, got {pitches!r}")
    rows = []
    for voice in voices:
        mf, sp, f0 = {}, {}, {}
        for v in vowels:
            for p in pitches:
                x = sustained_vowel(v, voice, pitch=p, sample_rate=sample_rate)
                mf[v, p] = vowel_mfcc(x, sample_rate)
                spec = vowel_spectrum(x, sample_rate)
                sp[v, p] = spec.log_power_db[spec.freqs_hz <= 4000]
                f0[v, p] = spec.f0_hz

        def dist(rep, a, b):
            return float((rep[a] - rep[b]).norm())

        lo, hi = pitches
        pairs = [((a, p), (b, p)) for a, b in itertools.combinations(vowels, 2) for p in pitches]
        m_pitch = [dist(mf, (v, lo), (v, hi)) for v in vowels]
        m_vowel = [dist(mf, a, b) for a, b in pairs]
        s_pitch = [dist(sp, (v, lo), (v, hi)) for v in vowels]
        s_vowel = [dist(sp, a, b) for a, b in pairs]
        rows.append({
            "voice": voice,
            "f0_low_hz": float(np.median([f0[v, lo] for v in vowels])),
            "f0_high_hz": float(np.median([f0[v, hi] for v in vowels])),
            "mfcc_pitch_max": max(m_pitch),
            "mfcc_vowel_min": min(m_vowel),
            "mfcc_ratio": float(np.mean(m_pitch) / np.mean(m_vowel)),
            "spec_ratio": float(np.mean(s_pitch) / np.mean(s_vowel)),
        })
    return pd.DataFrame(rows)
