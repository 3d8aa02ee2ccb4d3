"""Recording conditions: microphones, telephone channels, rooms, noise, sessions.

A clip of speech reaches a model through a *room* (an impulse response), mixed
with *noise* at some signal-to-noise ratio, picked up by a *device* (a
microphone's frequency response, a narrow-band telephone codec, a gain that may
clip) during a *session* (a day, for time-based holdouts). The primitives live
beside this module: noise and SNR in :mod:`course_lib.data.noise`, impulse
responses in :mod:`course_lib.data.rooms`, microphones and telephone channels in
:mod:`course_lib.data.devices`. This module draws and applies whole conditions:
:class:`Condition`, :data:`SLICES`, :func:`draw_condition`, :func:`apply_condition`.

Audio is a floating tensor ``(..., time)``; noise generators return ``(n,)``
float32 tensors. Internally the heavy lifting runs in NumPy (``_np_*``
functions) so that the corpus builder's worker processes never touch torch.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Mapping
import numpy as np
import torch
from course_lib.checks import check_sample_rate, check_tensor
from course_lib.data.noise import _rng, _check_number, _np_white, _np_pink, _np_mix_at_snr
from course_lib.data.rooms import ROOMS, _np_rir, _np_apply_rir
from course_lib.data.devices import DEVICES, _np_device

__all__ = [
    "SLICES",
    "NOISE_TYPES",
    "Condition",
    "draw_condition",
    "apply_condition",
]

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
