"""Offline speech synthesis with espeak-ng, and the course's speakers.

The ``espeakng-loader`` package ships the espeak-ng shared library and its
voice data; this module drives it through :mod:`ctypes` in synchronous mode
(``AUDIO_OUTPUT_SYNCHRONOUS``): ``espeak_Synth`` returns once the text is
spoken, and a synth callback collects the 22050 Hz int16 samples. The result
is resampled to 16 kHz with a polyphase filter (320/441).

A *speaker* (:class:`Speaker`) is a fixed combination of an English accent, a
voice variant (formant/voice-quality preset), a speaking rate and a pitch.
:func:`speakers` lists the course's speakers in a stable order with stable ids.

espeak-ng keeps global state, so the library is initialised once per process
and every call holds a lock. espeak-ng also carries hidden state from one
utterance to the next, so each call (or batch, in the corpus builder) starts
from a freshly loaded library: the same request always gives the same bytes.
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import threading
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Sequence

import numpy as np
import torch

from course_lib.checks import check_sample_rate

__all__ = [
    "ESPEAK_SAMPLE_RATE",
    "ACCENTS",
    "VARIANTS",
    "Speaker",
    "speakers",
    "get_speaker",
    "synthesize",
    "synthesize_speaker",
    "synthesize_batch",
]

#: espeak-ng's native output rate in Hz.
ESPEAK_SAMPLE_RATE = 22050

# speak_lib.h values
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_POS_CHARACTER = 1
_ESPEAK_CHARS_UTF8 = 1
_ESPEAK_RATE, _ESPEAK_VOLUME, _ESPEAK_PITCH, _ESPEAK_RANGE, _ESPEAK_WORDGAP = 1, 2, 3, 4, 7
_EE_OK = 0

#: English accents shipped by espeak-ng (voice names accepted by espeak_SetVoiceByName).
ACCENTS: tuple[str, ...] = (
    "en-us",
    "en-gb",
    "en-gb-scotland",
    "en-gb-x-rp",
    "en-gb-x-gbclan",
    "en-gb-x-gbcwmd",
    "en-029",
    "en-us-nyc",
)

#: Voice variants (espeak-ng ``voices/!v`` presets) and their family.
VARIANTS: dict[str, str] = {
    "m1": "male", "m2": "male", "m3": "male", "m4": "male", "m5": "male", "m6": "male", "m7": "male",
    "f1": "female", "f2": "female", "f3": "female", "f4": "female", "f5": "female",
    "klatt": "klatt", "klatt2": "klatt", "klatt3": "klatt", "klatt4": "klatt",
}  # fmt: skip

# Accent labels whose espeak-ng voice file has another name.
_VOICE_FILE = {"en-gb": "en"}

_PITCH_RANGE = {"male": (30, 55), "female": (45, 75), "klatt": (35, 65)}


# espeak-ng keeps a pitch "flutter" position and an echo buffer across calls, so
# the same text would come out slightly differently depending on what was said
# before. The course speaks through copies of the voice variants with both
# switched off (and reseeds espeak's generator per call): same input, same bytes.
_VARIANT_PATCH = "\n// course_lib: deterministic output\nflutter 0\necho 0 0\n"
_PLAIN_VARIANT = "plain"


def _deterministic_data_dir() -> str:
    """espeak-ng data with patched voice variants (symlinks to everything else).

    Built once under the course's data cache (atomically: temp dir + rename).
    """
    import shutil
    import tempfile

    import espeakng_loader

    from course_lib.tooling.runtime import _share_cache_folder, data_cache_dir

    src = espeakng_loader.get_data_path()
    tag = hashlib.sha1((src + _VARIANT_PATCH).encode()).hexdigest()[:10]
    try:
        root = data_cache_dir()
        root.mkdir(parents=True, exist_ok=True)
        dest = root / f"espeak-ng-data-{tag}"
    except OSError:  # read-only home: fall back to a private temp folder
        dest = None
        root = None
    if dest is not None and (dest / "voices" / "!v" / _PLAIN_VARIANT).exists():
        _share_cache_folder(dest)  # folders made by older versions were owner-only
        return str(dest)
    tmp = tempfile.mkdtemp(prefix="espeak-ng-data-", dir=root)
    _share_cache_folder(tmp)  # the grader's sandboxed kernels (another user) read it
    for name in os.listdir(src):
        if name != "voices":
            os.symlink(os.path.join(src, name), os.path.join(tmp, name))
    os.makedirs(os.path.join(tmp, "voices", "!v"))
    for name in os.listdir(os.path.join(src, "voices")):
        if name != "!v":
            os.symlink(os.path.join(src, "voices", name), os.path.join(tmp, "voices", name))
    vdir = os.path.join(src, "voices", "!v")
    for name in os.listdir(vdir):
        with open(os.path.join(vdir, name), "rb") as f:
            text = f.read().decode("utf-8", errors="replace")
        with open(os.path.join(tmp, "voices", "!v", name), "w", encoding="utf-8") as f:
            f.write(text + _VARIANT_PATCH)
    with open(os.path.join(tmp, "voices", "!v", _PLAIN_VARIANT), "w", encoding="utf-8") as f:
        f.write("language variant\nname plain\n" + _VARIANT_PATCH)
    if dest is None:
        return tmp
    try:
        os.rename(tmp, dest)
    except OSError:  # another process won the race
        shutil.rmtree(tmp, ignore_errors=True)
    return str(dest)


class _Engine:
    """One loaded copy of espeak-ng (synchronous mode, samples via callback).

    espeak-ng keeps internal state from one utterance to the next (beyond the
    voice files), so an utterance's exact samples depend on what the library
    said before. A *fresh* engine (library unloaded with ``dlclose`` and loaded
    again) starts from the same state every time: :func:`_synth_batch` uses one
    per batch, so a given batch always gives the same bytes.
    """

    _CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)

    def __init__(self, data_dir: str) -> None:
        import espeakng_loader

        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetSynthCallback.argtypes = [self._CALLBACK]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [
            ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
            ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
        ]  # fmt: skip
        lib.espeak_Synchronize.restype = ctypes.c_int
        lib.espeak_Terminate.restype = ctypes.c_int
        lib.espeak_ng_SetRandSeed.restype = None
        lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
        rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data_dir.encode(), 0)
        if rate != ESPEAK_SAMPLE_RATE:
            raise RuntimeError(f"espeak-ng initialisation failed or changed rate (returned {rate})")
        self.lib = lib
        self.chunks: list[np.ndarray] = []
        self.voice: str | None = None
        self._cb = self._CALLBACK(self._collect)  # keep a reference: ctypes must not free it
        lib.espeak_SetSynthCallback(self._cb)

    def close(self) -> None:
        """Terminate espeak-ng and unload the library (its static state goes with it)."""
        import _ctypes

        self.lib.espeak_Terminate()
        _ctypes.dlclose(self.lib._handle)
        self.lib = None

    def _collect(self, wav, n, events) -> int:
        if n > 0 and wav:
            self.chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
        return 0  # 0 = continue synthesis

    def synth(self, text: str, voice: str, rate: int, pitch: int, pitch_range: int) -> np.ndarray:
        lib = self.lib
        accent, _, variant = voice.partition("+")
        name = _VOICE_FILE.get(accent.lower(), accent) + "+" + (variant or _PLAIN_VARIANT)
        if name != self.voice:  # loading a voice reads its dictionary: skip when unchanged
            self.voice = None
            if lib.espeak_SetVoiceByName(name.encode()) != _EE_OK:
                raise ValueError(f"espeak-ng does not know the voice {voice!r}; try e.g. 'en-us+f3'")
            self.voice = name
        for param, value in ((_ESPEAK_RATE, rate), (_ESPEAK_PITCH, pitch), (_ESPEAK_RANGE, pitch_range),
                             (_ESPEAK_VOLUME, 100), (_ESPEAK_WORDGAP, 0)):  # fmt: skip
            lib.espeak_SetParameter(param, int(value), 0)
        self.chunks = []
        data = text.encode("utf-8") + b"\0"
        key = f"{name}|{rate}|{pitch}|{pitch_range}|".encode() + data
        lib.espeak_ng_SetRandSeed(int.from_bytes(hashlib.sha256(key).digest()[:4], "little"))
        err = lib.espeak_Synth(data, len(data), 0, _POS_CHARACTER, 0, _ESPEAK_CHARS_UTF8, None, None)
        lib.espeak_Synchronize()
        if err != _EE_OK:
            raise RuntimeError(f"espeak_Synth failed with code {err}")
        out = np.concatenate(self.chunks) if self.chunks else np.zeros(0, dtype=np.int16)
        self.chunks = []
        return out


_ENGINE: _Engine | None = None
_ENGINE_PID: int | None = None
_DATA_DIR: str | None = None
_ENGINE_LOCK = threading.RLock()  # espeak-ng is global state: one caller at a time


def _fresh_engine() -> _Engine:
    """Unload the current engine (if any) and load a new one; call with the lock held."""
    global _ENGINE, _ENGINE_PID, _DATA_DIR
    if _DATA_DIR is None:
        _DATA_DIR = _deterministic_data_dir()
    if _ENGINE is not None:
        _ENGINE.close()  # also in a forked child: it owns a copy of the loaded library
        _ENGINE = None
    _ENGINE = _Engine(_DATA_DIR)
    _ENGINE_PID = os.getpid()
    return _ENGINE


def _synth_batch(requests, sample_rate: int = 16000) -> list[np.ndarray]:
    """Synthesize ``(text, voice, rate, pitch, pitch_range)`` requests with one fresh engine.

    The same list of requests always gives the same float32 arrays (16 kHz,
    silence trimmed): the engine is reloaded first, then used in order.
    """
    with _ENGINE_LOCK:
        engine = _fresh_engine()
        raw = [engine.synth(*req) for req in requests]
    return [_postprocess(r, req[0], sample_rate) for r, req in zip(raw, requests)]


def _check_text(text) -> str:
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    if not text.strip():
        raise ValueError("text is empty; give at least one word to speak")
    return text


def _check_int_range(value, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if not low <= value <= high:
        raise ValueError(f"{name} must lie in [{low}, {high}], got {value}")
    return int(value)


@lru_cache(maxsize=4)
def _resampler(sample_rate: int) -> tuple[int, int, np.ndarray]:
    """Up/down factors and the anti-aliasing FIR (scipy's resample_poly default design, cached)."""
    from scipy.signal import firwin

    g = int(np.gcd(sample_rate, ESPEAK_SAMPLE_RATE))
    up, down = sample_rate // g, ESPEAK_SAMPLE_RATE // g
    max_rate = max(up, down)
    taps = firwin(2 * 10 * max_rate + 1, 1.0 / max_rate, window=("kaiser", 5.0))
    return up, down, taps


def _postprocess(raw: np.ndarray, text: str, sample_rate: int) -> np.ndarray:
    """int16 at 22050 Hz -> float32 at ``sample_rate``, leading/trailing silence trimmed."""
    from scipy.signal import resample_poly

    if raw.size == 0 or not np.any(raw):
        raise ValueError(f"espeak-ng produced no audio for {text!r}")
    x = raw.astype(np.float64) / 32768.0
    loud = np.nonzero(np.abs(x) > 0.01 * np.abs(x).max())[0]
    pad = int(0.01 * ESPEAK_SAMPLE_RATE)
    x = x[max(loud[0] - pad, 0) : loud[-1] + pad + 1]
    if sample_rate != ESPEAK_SAMPLE_RATE:
        up, down, taps = _resampler(sample_rate)
        x = resample_poly(x, up, down, window=taps)
    return x.astype(np.float32)


def synthesize(
    text: str,
    voice: str = "en-us",
    *,
    rate: int = 175,
    pitch: int = 50,
    pitch_range: int = 50,
    sample_rate: int = 16000,
) -> torch.Tensor:
    """Speak ``text`` with espeak-ng; mono float32 audio, silence trimmed.

    Parameters
    ----------
    text : str
        What to say (UTF-8).
    voice : str
        An espeak-ng voice name: an accent from :data:`ACCENTS`, optionally
        with a variant from :data:`VARIANTS` after ``+`` (``"en-gb+f3"``).
    rate : int
        Speaking rate in words per minute, in [80, 450].
    pitch : int
        Base pitch, 0-100 (espeak's scale; 50 is the voice's default).
    pitch_range : int
        Intonation range, 0-100 (0 = monotone).
    sample_rate : int
        Output rate in Hz (polyphase resampling from espeak's 22050 Hz).

    Returns
    -------
    torch.Tensor
        ``(time,)`` float32 in [-1, 1].

    Examples
    --------
    >>> x = synthesize("yes", "en-us+f3")
    >>> x.dtype, x.ndim, 0.1 < x.shape[0] / 16000 < 1.0
    (torch.float32, 1, True)
    """
    text = _check_text(text)
    if not isinstance(voice, str) or not voice:
        raise TypeError(f"voice must be a non-empty str such as 'en-us+f3', got {voice!r}")
    rate = _check_int_range(rate, "rate", 80, 450)
    pitch = _check_int_range(pitch, "pitch", 0, 100)
    pitch_range = _check_int_range(pitch_range, "pitch_range", 0, 100)
    sample_rate = check_sample_rate(sample_rate)
    if sample_rate < 8000:
        raise ValueError(f"sample_rate must be at least 8000 Hz, got {sample_rate}")
    return torch.from_numpy(_synth_batch([(text, voice, rate, pitch, pitch_range)], sample_rate)[0])


# --------------------------------------------------------------------------- speakers
@dataclass(frozen=True)
class Speaker:
    """One synthetic speaker: accent x variant x rate x pitch.

    Attributes
    ----------
    speaker_id : str
        Stable id, e.g. ``"spk017"``.
    accent : str
        espeak-ng English voice (:data:`ACCENTS`).
    variant : str
        Voice variant (:data:`VARIANTS`).
    family : str
        Variant family: ``male``, ``female`` or ``klatt``.
    rate : int
        Words per minute.
    pitch : int
        espeak pitch 0-100.
    pitch_range : int
        espeak intonation range 0-100.
    """

    speaker_id: str
    accent: str
    variant: str
    family: str
    rate: int
    pitch: int
    pitch_range: int

    @property
    def voice(self) -> str:
        """The espeak-ng voice name, ``accent+variant``."""
        return f"{self.accent}+{self.variant}"

    def as_dict(self) -> dict:
        """The attributes as a plain dict (with ``voice``)."""
        return {**asdict(self), "voice": self.voice}


def _stable_uniform(key: str, low: int, high: int) -> int:
    """An int in [low, high] from a hash of ``key`` (stable across versions and platforms)."""
    h = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "little")
    return low + h % (high - low + 1)


@lru_cache(maxsize=1)
def _speaker_list() -> tuple[Speaker, ...]:
    out = []
    for i, (accent, variant) in enumerate((a, v) for a in ACCENTS for v in VARIANTS):
        family = VARIANTS[variant]
        lo, hi = _PITCH_RANGE[family]
        sid = f"spk{i:03d}"
        out.append(
            Speaker(
                speaker_id=sid,
                accent=accent,
                variant=variant,
                family=family,
                rate=_stable_uniform(sid + "/rate", 130, 210),
                pitch=_stable_uniform(sid + "/pitch", lo, hi),
                pitch_range=_stable_uniform(sid + "/range", 30, 80),
            )
        )
    return tuple(out)


def speakers() -> list[Speaker]:
    """The course's speakers: every accent x variant, with a stable rate and pitch.

    The list and its ids never change for a given ``course_lib`` version:
    rate, pitch and range come from a hash of the id, not from a random
    generator.

    Returns
    -------
    list of Speaker
        128 speakers, ``spk000`` ... ``spk127``.

    Examples
    --------
    >>> spk = speakers()
    >>> len(spk), spk[0].speaker_id, spk[0].voice
    (128, 'spk000', 'en-us+m1')
    """
    return list(_speaker_list())


def get_speaker(speaker_id: str) -> Speaker:
    """Look a speaker up by id.

    Examples
    --------
    >>> get_speaker("spk017").accent
    'en-gb'
    """
    if not isinstance(speaker_id, str):
        raise TypeError(f"speaker_id must be a str like 'spk017', got {type(speaker_id).__name__}")
    table = {s.speaker_id: s for s in _speaker_list()}
    if speaker_id not in table:
        raise ValueError(f"unknown speaker {speaker_id!r}; ids run from spk000 to spk{len(table) - 1:03d}")
    return table[speaker_id]


def synthesize_speaker(text: str, speaker: Speaker | str, *, sample_rate: int = 16000) -> torch.Tensor:
    """Speak ``text`` as one of the course's speakers.

    Parameters
    ----------
    text : str
    speaker : Speaker or str
        A :class:`Speaker` or its id.
    sample_rate : int

    Returns
    -------
    torch.Tensor
        ``(time,)`` float32.

    Examples
    --------
    >>> synthesize_speaker("go", "spk005").ndim
    1
    """
    if isinstance(speaker, str):
        speaker = get_speaker(speaker)
    if not isinstance(speaker, Speaker):
        raise TypeError(f"speaker must be a Speaker or an id str, got {type(speaker).__name__}")
    return synthesize(
        text, speaker.voice, rate=speaker.rate, pitch=speaker.pitch, pitch_range=speaker.pitch_range, sample_rate=sample_rate
    )


def synthesize_batch(texts: Sequence[str], speakers_: Sequence[Speaker | str], *, sample_rate: int = 16000) -> list[torch.Tensor]:
    """Speak many texts, each as a given speaker, in one engine session (fast).

    Much faster than calling :func:`synthesize_speaker` in a loop (the library
    is reloaded once, not per call); the same lists always give the same bytes.

    Parameters
    ----------
    texts : sequence of str
    speakers_ : sequence of Speaker or str
        One speaker (or id) per text.
    sample_rate : int

    Returns
    -------
    list of torch.Tensor
        ``(time,)`` float32 waveforms, in order.

    Examples
    --------
    >>> waves = synthesize_batch(["yes", "no"], ["spk000", "spk040"])
    >>> [w.ndim for w in waves]
    [1, 1]
    """
    if isinstance(texts, str) or not isinstance(texts, Sequence) or len(texts) == 0:
        raise ValueError("texts must be a non-empty list of strings")
    if isinstance(speakers_, (str, Speaker)) or not isinstance(speakers_, Sequence) or len(speakers_) != len(texts):
        raise ValueError(f"speakers_ must be a list with one speaker per text ({len(texts)}), got {speakers_!r:.80}")
    sample_rate = check_sample_rate(sample_rate)
    if sample_rate < 8000:
        raise ValueError(f"sample_rate must be at least 8000 Hz, got {sample_rate}")
    requests = []
    for text, spk in zip(texts, speakers_):
        spk = get_speaker(spk) if isinstance(spk, str) else spk
        if not isinstance(spk, Speaker):
            raise TypeError(f"speakers must be Speaker objects or ids, got {type(spk).__name__}")
        requests.append((_check_text(text), spk.voice, spk.rate, spk.pitch, spk.pitch_range))
    return [torch.from_numpy(x) for x in _synth_batch(requests, sample_rate)]
