"""The course's own speech corpus: keywords, sentences and sounds, made offline.

Every clip is synthesized by espeak-ng (:mod:`course_lib.data.tts`) as one of the
course's speakers, then passed through a recording condition
(:mod:`course_lib.conditions`: room, noise at an SNR, device, session day).
Three tasks share one item format:

- :func:`keyword_dataset`: one-second clips in the spirit of Speech Commands
  (:data:`KEYWORD_CLASSES`: 10 commands, 10 digits, ``unknown``, ``silence``);
- :func:`sentence_dataset`: short commands, digit strings and phrases for ASR
  (transcripts over :data:`CHARS`);
- :func:`sound_dataset`: environmental sounds (:data:`course_lib.data.sounds.SOUND_CLASSES`).

Each returns an :class:`AudioDataset` whose items are dicts with ``waveform``
(float32 ``(time,)``), ``sample_rate`` (16000), ``label``, ``target`` and
``meta``; ``.metadata`` is a pandas DataFrame with one row per clip and
``.classes`` the class names (the character vocabulary for sentences).
:func:`collate_audio` pads a list of items into a batch.

Generation is deterministic (same arguments, same bytes), runs on two worker
processes, and is cached under :func:`course_lib.tooling.runtime.data_cache_dir`
(``COURSE_DATA_DIR``), keyed by the arguments and :data:`GENERATOR_VERSION`.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Sequence
import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset
from course_lib.data import conditions as C
from course_lib.data import devices as D
from course_lib.data import noise as N
from course_lib.checks import check_positive_int, check_sample_rate
from course_lib.tooling.runtime import _share_cache_folder, data_cache_dir
from course_lib.data.sounds import SOUND_CLASSES, _np_sound
from course_lib.data.tts import Speaker, _synth_batch, speakers as all_speakers
from course_lib.data.text import COMMANDS, DIGITS, CHARS, make_sentence, text_to_ids

__all__ = [
    "GENERATOR_VERSION",
    "SAMPLE_RATE",
    "COMMANDS",
    "DIGITS",
    "UNKNOWN_WORDS",
    "KEYWORD_CLASSES",
    "DEFAULT_SIZES",
    "DEFAULT_DATASETS",
    "AudioDataset",
    "keyword_dataset",
    "sentence_dataset",
    "sound_dataset",
    "default_dataset",
    "collate_audio",
    "build_default",
]

#: Bump when anything changes the generated audio or metadata: caches regenerate.
GENERATOR_VERSION = 2
#: Every clip's sample rate in Hz.
SAMPLE_RATE = 16000

#: Words that make up the ``unknown`` class.
UNKNOWN_WORDS: tuple[str, ...] = (
    "bed", "bird", "cat", "dog", "happy", "house", "marvin", "sheila", "tree", "wow",
    "backward", "forward", "follow", "learn", "visual", "apple", "window", "music", "table", "yellow",
)  # fmt: skip
#: Keyword task classes, in target-id order.
KEYWORD_CLASSES: tuple[str, ...] = COMMANDS + DIGITS + ("unknown", "silence")



_TASK_CODE = {"keywords": 1, "sentences": 2, "sounds": 3}
_CHUNK = 128  # clips per worker task (fixed: the bytes must not depend on the number of workers)
_SPEECH_RMS = 10.0 ** (-23.0 / 20.0)  # active speech level before the device gain
_FLOOR_RMS = 10.0 ** (-66.0 / 20.0)  # the low-level noise floor clips are padded with

#: Sizes the notebooks use by default.
DEFAULT_SIZES: dict[str, dict[str, int]] = {
    "fast": {"keywords": 1200, "sentences": 300, "sounds": 400, "sentences_test": 60},
    "full": {"keywords": 8000, "sentences": 4000, "sounds": 2000, "sentences_test": 400},
}


def _default_datasets() -> dict[str, dict[str, dict[str, Any]]]:
    out = {}
    for mode, sizes in DEFAULT_SIZES.items():
        out[mode] = {
            "keywords": {"task": "keywords", "n": sizes["keywords"], "seed": 0, "conditions": "mixed"},
            "sentences": {"task": "sentences", "n": sizes["sentences"], "seed": 0, "conditions": "mixed"},
            "sounds": {"task": "sounds", "n": sizes["sounds"], "seed": 0, "conditions": "mixed"},
            # module 08's test slice: unseen speakers, 10 dB SNR, reverberant room
            "sentences_test": {
                "task": "sentences", "n": sizes["sentences_test"], "seed": 1, "conditions": "clean",
                "snr_db": 10.0, "room": "reverberant", "speakers": "test",
            },  # fmt: skip
        }
    return out


#: Keyword arguments of the default datasets, per mode (``fast``/``full``); see :func:`default_dataset`.
DEFAULT_DATASETS: dict[str, dict[str, dict[str, Any]]] = _default_datasets()


_BABBLE_TEXTS = (
    "the meeting starts at nine and we should not be late",
    "could you pass me the salt and the pepper please",
    "i think it will rain later so take an umbrella",
    "we bought a new car last week and it drives very well",
    "the children played in the garden until it got dark",
    "my sister lives in a small town near the coast",
)


#: Babble talkers: (sentence, speaker id) pairs; a clip's babble mixes 3-5 of them.
_BABBLE_BANK: tuple[tuple[str, str], ...] = tuple(
    (_BABBLE_TEXTS[k % len(_BABBLE_TEXTS)], f"spk{(11 * k + 3) % 128:03d}") for k in range(12)
)


def _babble_req(k: int) -> tuple:
    from course_lib.data.tts import get_speaker

    text, sid = _BABBLE_BANK[k]
    return _req(text, get_speaker(sid))


@lru_cache(maxsize=2)
def _pink_bank(seconds: int = 40) -> np.ndarray:
    """A fixed stretch of pink noise; clips take random excerpts (cheaper than one FFT per clip)."""
    return N._np_pink(seconds * SAMPLE_RATE, np.random.default_rng(20240101))


def _pink_excerpt(rng: np.random.Generator, n: int) -> np.ndarray:
    bank = _pink_bank()
    if n > bank.shape[0]:
        return N._np_pink(n, rng)
    start = int(rng.integers(0, bank.shape[0] - n + 1))
    x = bank[start : start + n]
    return x / max(np.sqrt(np.mean(x**2)), 1e-12)


# --------------------------------------------------------------------------- planning
def _speaker_pool(speakers: Sequence[str] | str | None) -> list[Speaker]:
    table = {s.speaker_id: s for s in all_speakers()}
    if speakers is None:
        return list(table.values())
    if isinstance(speakers, str):
        from course_lib.data.splits import default_speaker_split

        split = default_speaker_split()
        if speakers not in split:
            raise ValueError(f"speakers as a str must name a default split {sorted(split)}, got {speakers!r}")
        speakers = split[speakers]
    if isinstance(speakers, (np.ndarray, pd.Series, pd.Index, set, frozenset)):
        speakers = sorted(speakers.tolist() if hasattr(speakers, "tolist") else speakers)
    if not isinstance(speakers, Sequence) or len(speakers) == 0:
        raise ValueError("speakers must be a non-empty list of speaker ids (e.g. ['spk000', 'spk005'])")
    unknown = [s for s in speakers if s not in table]
    if unknown:
        raise ValueError(f"unknown speaker ids {unknown[:5]}; ids run from spk000 to spk{len(table) - 1:03d}")
    return [table[s] for s in sorted(set(speakers))]


def _req(text: str, spk: Speaker) -> tuple:
    return (text, spk.voice, spk.rate, spk.pitch, spk.pitch_range)


def _plan(task: str, n: int, seed: int, conds: str, overrides: dict, pool: list[Speaker]) -> list[dict]:
    plans = []
    for i in range(n):
        rng = np.random.default_rng([seed, _TASK_CODE[task], i])
        p: dict[str, Any] = {"index": i, "clip_id": f"{task[:3]}-{seed}-{i:06d}"}
        if task == "keywords":
            target = int(rng.integers(len(KEYWORD_CLASSES)))
            label = KEYWORD_CLASSES[target]
            text = UNKNOWN_WORDS[int(rng.integers(len(UNKNOWN_WORDS)))] if label == "unknown" else label
            p.update(label=label, target=target, text="" if label == "silence" else text)
        elif task == "sentences":
            text = make_sentence(rng)
            p.update(label=text, target=-1, text=text)
        else:
            target = int(rng.integers(len(SOUND_CLASSES)))
            p.update(label=SOUND_CLASSES[target], target=target, text="")
        spk = pool[int(rng.integers(len(pool)))]
        p["speaker"] = spk
        cond = C.draw_condition(rng, conds, **overrides)
        if task == "sounds" and cond.noise == "environment" and overrides.get("noise") is None:
            cond = C.Condition(**{**cond.as_dict(), "noise": "pink"})
        p["condition"] = cond
        p["noise_source"] = ""
        if cond.noise == "babble":
            # 3-5 talkers from the babble bank, never the clip's own speaker
            bank = [k for k, (_, sid) in enumerate(_BABBLE_BANK) if sid != spk.speaker_id]
            picks = sorted(int(k) for k in rng.choice(bank, size=int(rng.integers(3, 6)), replace=False))
            p["babble"] = [_babble_req(k) for k in picks]
            p["noise_source"] = " ".join(_BABBLE_BANK[k][1] for k in picks)
        elif cond.noise == "environment":
            p["noise_source"] = SOUND_CLASSES[int(rng.integers(len(SOUND_CLASSES)))]
        p["render_seed"] = [seed, _TASK_CODE[task], i, 1]
        plans.append(p)
    return plans


# --------------------------------------------------------------------------- rendering (worker side, NumPy only)
def _render_chunk(args: tuple[str, list[dict]]) -> list[tuple[np.ndarray, dict]]:
    task, plans = args
    requests = set()
    for p in plans:
        if p["text"] and task != "sounds":
            requests.add(_req(p["text"], p["speaker"]))
        requests.update(p.get("babble", []))
    order = sorted(requests, key=lambda r: (r[1], r[2], r[3], r[4], r[0]))  # group by voice
    audio = dict(zip(order, _synth_batch(order, SAMPLE_RATE))) if order else {}
    return [_render_one(task, p, audio) for p in plans]


def _render_one(task: str, p: dict, audio: dict) -> tuple[np.ndarray, dict]:
    rng = np.random.default_rng(p["render_seed"])
    cond: C.Condition = p["condition"]
    sr = SAMPLE_RATE
    meta_extra: dict[str, Any] = {}
    if task == "keywords":
        n = sr
        x = np.zeros(n)
        if p["text"]:
            speech = audio[_req(p["text"], p["speaker"])].astype(np.float64)
            speech = speech[:n]
            speech *= _SPEECH_RMS / max(np.sqrt(np.mean(speech**2)), 1e-9)
            offset = int(rng.integers(0, n - speech.shape[0] + 1))
            x[offset : offset + speech.shape[0]] = speech
            meta_extra.update(offset_s=offset / sr, speech_s=speech.shape[0] / sr)
        else:
            meta_extra.update(offset_s=0.0, speech_s=0.0)
    elif task == "sentences":
        speech = audio[_req(p["text"], p["speaker"])].astype(np.float64)
        speech *= _SPEECH_RMS / max(np.sqrt(np.mean(speech**2)), 1e-9)
        lead, tail = int(rng.uniform(0.1, 0.35) * sr), int(rng.uniform(0.1, 0.35) * sr)
        x = np.concatenate([np.zeros(lead), speech, np.zeros(tail)])
        n = x.shape[0]
        meta_extra.update(offset_s=lead / sr, speech_s=speech.shape[0] / sr)
    else:
        n = sr
        x = _np_sound(p["label"], n, sr, rng)
        x *= _SPEECH_RMS / max(np.sqrt(np.mean(x**2)), 1e-9)
        meta_extra.update(offset_s=0.0, speech_s=0.0)
    x = x + _FLOOR_RMS * _pink_excerpt(rng, n)

    noise = None
    if cond.noise == "babble":
        talkers = [audio[r] for r in p["babble"]]
        noise = N._np_babble(talkers, n, rng)
    elif cond.noise == "environment":
        noise = _np_sound(p["noise_source"], n, sr, rng)
    elif cond.noise == "white":
        noise = N._np_white(n, rng)
    elif cond.noise == "pink":
        noise = _pink_excerpt(rng, n)

    if task == "keywords" and not p["text"]:
        # silence/background: the noise at the level it would have under speech
        if noise is not None:
            level = _SPEECH_RMS * 10.0 ** (-cond.snr_db / 20.0)
            x = x + noise * level / max(np.sqrt(np.mean(noise**2)), 1e-12)
        y = D._np_device(x, D.DEVICES[cond.device], sr, cond.gain_db)
    else:
        y = C._np_apply_condition(x, cond, sr, rng, noise)
    clip_frac = float(np.mean(np.abs(y) >= 0.999))
    pcm = np.clip(np.round(y * 32767.0), -32768, 32767).astype(np.int16)
    spk: Speaker = p["speaker"]
    meta = {
        "clip_id": p["clip_id"],
        "index": p["index"],
        "label": p["label"],
        "target": p["target"],
        "text": p["text"],
        "speaker": spk.speaker_id if task != "sounds" else "none",
        "accent": spk.accent if task != "sounds" else "none",
        "variant": spk.variant if task != "sounds" else "none",
        "family": spk.family if task != "sounds" else "none",
        "pitch": spk.pitch if task != "sounds" else -1,
        "rate": spk.rate if task != "sounds" else -1,
        "pitch_range": spk.pitch_range if task != "sounds" else -1,
        "condition": cond.slice,
        **{k: v for k, v in cond.as_dict().items() if k != "slice"},
        "noise_source": p["noise_source"],
        "clip_frac": round(clip_frac, 5),
        **meta_extra,
        "n_samples": int(pcm.shape[0]),
    }
    return pcm, meta


# --------------------------------------------------------------------------- dataset
def _check_dataset_fields(metadata, classes, task, sample_rate, required: Sequence[str]) -> int:
    """Shared validation of a dataset's metadata table, class names, task and sample rate."""
    if not isinstance(metadata, pd.DataFrame):
        raise TypeError(f"metadata must be a pandas.DataFrame (one row per clip), got {type(metadata).__name__}")
    missing = [c for c in required if c not in metadata.columns]
    if missing and (len(metadata) or "offset" in required):
        raise ValueError(f"metadata must have the columns {list(required)}; missing {missing}")
    if isinstance(classes, (str, bytes)) or not isinstance(classes, (Sequence, np.ndarray, pd.Index)):
        raise TypeError(f"classes must be a sequence of class names, got {type(classes).__name__}")
    if len(classes) == 0:
        raise ValueError("classes is empty; expected the class names in target order")
    if not isinstance(task, str):
        raise TypeError(f"task must be a str, got {type(task).__name__}")
    return check_sample_rate(sample_rate)


class AudioDataset(Dataset):
    """Clips stored as one int16 array with offsets; items are dicts.

    Attributes
    ----------
    metadata : pandas.DataFrame
        One row per clip (``clip_id``, ``label``, ``target``, ``speaker``,
        ``accent``, ``device``, ``room``, ``rt60_s``, ``noise``, ``snr_db``,
        ``session``, ...), index ``0..len-1``.
    classes : list of str
        Class names in target order (keywords, sounds) or :data:`CHARS` (sentences).
    task : str
        ``keywords``, ``sentences``, ``sounds`` or a real corpus name.
    sample_rate : int
    """

    def __init__(self, audio: np.ndarray, metadata: pd.DataFrame, classes: Sequence[str], task: str,
                 sample_rate: int = SAMPLE_RATE, audio_path: str | None = None) -> None:  # fmt: skip
        sample_rate = _check_dataset_fields(metadata, classes, task, sample_rate, ("offset", "n_samples"))
        if audio is None and audio_path is None:
            raise TypeError("audio must be a 1-D int16 numpy array (or None with audio_path), got None")
        if audio is not None:
            if not isinstance(audio, np.ndarray):
                raise TypeError(f"audio must be a 1-D int16 numpy array, got {type(audio).__name__}")
            if audio.ndim != 1 or audio.dtype != np.int16:
                raise ValueError(f"audio must be a 1-D int16 numpy array, got dtype {audio.dtype}, "
                                 f"shape {audio.shape}")  # fmt: skip
            if len(metadata) and int((metadata["offset"] + metadata["n_samples"]).max()) > audio.shape[0]:
                raise ValueError(f"audio holds {audio.shape[0]} samples but metadata's offset + n_samples "
                                 f"reaches {int((metadata['offset'] + metadata['n_samples']).max())}")  # fmt: skip
        self._audio = audio
        self._audio_path = audio_path
        self.metadata = metadata.reset_index(drop=True)
        self.classes = list(classes)
        self.task = task
        self.sample_rate = sample_rate
        cols = [c for c in self.metadata.columns if c not in ("offset",)]
        self._meta = self.metadata[cols].to_dict("records")
        self._offsets = self.metadata["offset"].to_numpy(dtype=np.int64)
        self._lengths = self.metadata["n_samples"].to_numpy(dtype=np.int64)

    def __len__(self) -> int:
        return len(self.metadata)

    def __getstate__(self) -> dict:  # DataLoader workers: reopen the memory map instead of copying
        state = self.__dict__.copy()
        if self._audio_path is not None:
            state["_audio"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        if self._audio is None:
            self._audio = np.memmap(self._audio_path, dtype=np.int16, mode="r")

    def waveform(self, i: int) -> torch.Tensor:
        """Clip ``i`` as float32 ``(time,)`` in [-1, 1]."""
        off, n = int(self._offsets[i]), int(self._lengths[i])
        return torch.from_numpy(self._audio[off : off + n].astype(np.float32) * np.float32(1.0 / 32768.0))

    def __getitem__(self, i: int) -> dict:
        if isinstance(i, (np.integer,)):
            i = int(i)
        if not isinstance(i, int):
            raise TypeError(f"index must be an int, got {type(i).__name__}; use .subset(indices) for many")
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(f"index {i} out of range for {len(self)} clips")
        meta = dict(self._meta[i])
        label = meta["label"]
        if self.task in ("sentences", "librispeech", "fleurs"):
            target: Any = torch.tensor(text_to_ids(label), dtype=torch.long)
        else:
            target = int(meta["target"])
        return {"waveform": self.waveform(i), "sample_rate": self.sample_rate, "label": label,
                "target": target, "meta": meta}  # fmt: skip

    @property
    def labels(self) -> list[str]:
        """Every clip's label (keyword, transcript or class name)."""
        return self.metadata["label"].tolist()

    @property
    def targets(self) -> np.ndarray:
        """Every clip's integer target (-1 for sentences)."""
        return self.metadata["target"].to_numpy()

    def subset(self, indices) -> "AudioDataset":
        """A dataset over the given rows (e.g. a split's index array), sharing the audio.

        Examples
        --------
        >>> # ds.subset(np.nonzero(ds.metadata["device"] == "telephone")[0])
        """
        idx = np.asarray(indices)
        if idx.dtype == bool:
            if idx.shape != (len(self),):
                raise ValueError(f"a boolean mask must have shape ({len(self)},), got {idx.shape}")
            idx = np.nonzero(idx)[0]
        if idx.ndim != 1 or (idx.size and not np.issubdtype(idx.dtype, np.integer)):
            raise TypeError(f"indices must be a 1-D integer array or boolean mask, got dtype {idx.dtype}, shape {idx.shape}")
        if idx.size and (idx.min() < 0 or idx.max() >= len(self)):
            raise IndexError(f"indices must lie in [0, {len(self) - 1}]")
        return AudioDataset(self._audio, self.metadata.iloc[idx], self.classes, self.task,
                            self.sample_rate, self._audio_path)  # fmt: skip

    def __repr__(self) -> str:
        return f"AudioDataset(task={self.task!r}, clips={len(self)}, classes={len(self.classes)})"


def collate_audio(batch: Sequence[dict]) -> dict:
    """Pad a list of items into a batch.

    Parameters
    ----------
    batch : sequence of dict
        Items of an :class:`AudioDataset` (``waveform`` ``(time,)`` float32).

    Returns
    -------
    dict
        ``waveform`` ``(B, T)`` zero-padded float32; ``lengths`` ``(B,)`` int64
        sample counts; ``sample_rate``; ``label`` (list); ``target``: ``(B,)``
        int64 for class targets, or ``(B, S)`` padded char ids with
        ``target_lengths`` ``(B,)`` for transcripts; ``meta`` (list of dicts).

    Examples
    --------
    >>> items = [{"waveform": torch.ones(3), "sample_rate": 16000, "label": "yes", "target": 0, "meta": {}},
    ...          {"waveform": torch.ones(5), "sample_rate": 16000, "label": "no", "target": 1, "meta": {}}]
    >>> b = collate_audio(items)
    >>> b["waveform"].shape, b["lengths"].tolist(), b["target"].tolist()
    (torch.Size([2, 5]), [3, 5], [0, 1])
    """
    if isinstance(batch, dict) or not isinstance(batch, Sequence) or len(batch) == 0:
        raise ValueError("batch must be a non-empty list of dataset items (dicts)")
    for k, item in enumerate(batch):
        if not isinstance(item, dict) or "waveform" not in item:
            raise TypeError(f"batch[{k}] must be a dict with a 'waveform', got {type(item).__name__}")
        w = item["waveform"]
        if not isinstance(w, torch.Tensor) or w.ndim != 1 or not w.is_floating_point():
            raise ValueError(f"batch[{k}]['waveform'] must be a 1-D float tensor (time,), got "
                             f"{getattr(w, 'shape', type(w).__name__)}")  # fmt: skip
    rates = {item.get("sample_rate", SAMPLE_RATE) for item in batch}
    if len(rates) != 1:
        raise ValueError(f"all items must share one sample rate, got {sorted(rates)}; resample first")
    lengths = torch.tensor([item["waveform"].shape[0] for item in batch], dtype=torch.long)
    wave = torch.zeros(len(batch), int(lengths.max()), dtype=batch[0]["waveform"].dtype)
    for k, item in enumerate(batch):
        wave[k, : lengths[k]] = item["waveform"]
    out: dict[str, Any] = {"waveform": wave, "lengths": lengths, "sample_rate": rates.pop(),
                           "label": [item.get("label") for item in batch]}  # fmt: skip
    targets = [item.get("target") for item in batch]
    if all(isinstance(t, (int, np.integer)) and not isinstance(t, bool) for t in targets):
        out["target"] = torch.tensor(targets, dtype=torch.long)
    elif all(isinstance(t, torch.Tensor) and t.ndim == 1 for t in targets):
        tl = torch.tensor([t.shape[0] for t in targets], dtype=torch.long)
        padded = torch.zeros(len(batch), int(tl.max()) if len(tl) else 0, dtype=torch.long)
        for k, t in enumerate(targets):
            padded[k, : t.shape[0]] = t
        out["target"], out["target_lengths"] = padded, tl
    else:
        out["target"] = targets
    out["meta"] = [item.get("meta", {}) for item in batch]
    return out


# --------------------------------------------------------------------------- cache
def _check_args(n, seed, conditions, snr_db, room, device, noise, n_workers, n_name: str = "n_clips"):
    n = check_positive_int(n, n_name)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise TypeError(f"seed must be a non-negative int, got {seed!r}")
    valid = ["mixed", *C.SLICES]
    if not isinstance(conditions, str) or conditions not in valid:
        raise ValueError(f"conditions must be one of {valid}, got {conditions!r}")
    C.draw_condition(0, conditions, snr_db=snr_db, room=room, device=device, noise=noise)  # validates the overrides
    if n_workers is not None:
        check_positive_int(n_workers, "n_workers")
    return n, int(seed)


def _cache_root(cache_dir) -> Path:
    if cache_dir is None:
        return data_cache_dir()
    if not isinstance(cache_dir, (str, os.PathLike)):
        raise TypeError(f"cache_dir must be a path, got {type(cache_dir).__name__}")
    return Path(cache_dir)


def _load(folder: Path, task: str, classes: Sequence[str]) -> AudioDataset:
    meta = pd.read_csv(folder / "metadata.csv", keep_default_na=False, na_values={"snr_db": ["nan", "NaN", ""]})
    meta["snr_db"] = meta["snr_db"].astype(float)
    for col in ("text", "noise_source", "label"):
        meta[col] = meta[col].astype(str)
    audio = np.memmap(folder / "audio.int16", dtype=np.int16, mode="r")
    return AudioDataset(audio, meta, classes, task, SAMPLE_RATE, str(folder / "audio.int16"))


def _generate(task: str, n: int, seed: int, conds: str, overrides: dict, pool: list[Speaker], folder: Path,
              n_workers: int, progress: bool, echo: Callable[[str], None] | None) -> None:  # fmt: skip
    plans = _plan(task, n, seed, conds, overrides, pool)
    chunks = [(task, plans[i : i + _CHUNK]) for i in range(0, n, _CHUNK)]
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp-", dir=folder.parent))
    _share_cache_folder(tmp)  # other users (the grader's sandboxed kernels) read the data
    try:
        metas: list[dict] = []
        offset = 0
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=n, desc=f"generating {task}", unit="clip")
        with open(tmp / "audio.int16", "wb") as f:
            for results in _map_chunks(chunks, n_workers):
                for pcm, meta in results:
                    f.write(pcm.tobytes())
                    meta["offset"] = offset
                    offset += pcm.shape[0]
                    metas.append(meta)
                if bar is not None:
                    bar.update(len(results))
        if bar is not None:
            bar.close()
        pd.DataFrame(metas).to_csv(tmp / "metadata.csv", index=False)
        info = {"generator_version": GENERATOR_VERSION, "task": task, "n": n, "seed": seed,
                "conditions": conds, "overrides": overrides, "speakers": [s.speaker_id for s in pool],
                "total_samples": offset, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}  # fmt: skip
        (tmp / "info.json").write_text(json.dumps(info, indent=1))
        if folder.exists():  # a stale or broken cache: move it away first
            trash = Path(tempfile.mkdtemp(prefix=f".{folder.name}.old-", dir=folder.parent))
            try:
                os.replace(folder, trash / "old")
            except FileNotFoundError:  # another process moved it meanwhile
                pass
            shutil.rmtree(trash, ignore_errors=True)
        try:
            os.replace(tmp, folder)
        except OSError:  # another process finished the same cache first: keep theirs
            if not (folder / "info.json").exists():
                raise
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _map_chunks(chunks, n_workers: int):
    """Render chunks in order, on a pool of worker processes when it pays."""
    if n_workers <= 1 or len(chunks) <= 1:
        for c in chunks:
            yield _render_chunk(c)
        return
    import multiprocessing as mp

    ctx = mp.get_context("fork" if sys.platform.startswith("linux") else "spawn")
    with ctx.Pool(min(n_workers, len(chunks))) as pool:
        yield from pool.imap(_render_chunk, chunks)


def _dataset(task: str, n: int, seed: int, conditions: str, snr_db, room, device, noise, speakers, cache_dir,
             n_workers, progress: bool, echo=None) -> AudioDataset:  # fmt: skip
    n, seed = _check_args(n, seed, conditions, snr_db, room, device, noise, n_workers,
                          n_name="n_utts" if task == "sentences" else "n_clips")  # fmt: skip
    pool = _speaker_pool(speakers)
    overrides = {"snr_db": None if snr_db is None else float(snr_db), "room": room, "device": device, "noise": noise}
    classes = {"keywords": KEYWORD_CLASSES, "sentences": CHARS, "sounds": SOUND_CLASSES}[task]
    key = json.dumps({"v": GENERATOR_VERSION, "task": task, "n": n, "seed": seed, "conditions": conditions,
                      "overrides": overrides, "speakers": [s.speaker_id for s in pool]}, sort_keys=True)  # fmt: skip
    digest = hashlib.sha1(key.encode()).hexdigest()[:12]
    root = _cache_root(cache_dir)
    root.mkdir(parents=True, exist_ok=True)
    folder = root / f"{task}-n{n}-seed{seed}-{conditions}-{digest}"
    info_path = folder / "info.json"
    if info_path.exists():
        try:
            info = json.loads(info_path.read_text())
            size = (folder / "audio.int16").stat().st_size
            if info.get("generator_version") == GENERATOR_VERSION and size == 2 * info["total_samples"]:
                _share_cache_folder(folder)  # folders cached by older versions were owner-only
                return _load(folder, task, classes)
        except (OSError, ValueError, KeyError):
            pass  # broken cache: regenerate
    for stale in root.glob(f".{folder.name}.tmp-*"):  # left by a build that was killed hours ago
        try:
            if time.time() - stale.stat().st_mtime > 6 * 3600:
                shutil.rmtree(stale, ignore_errors=True)
        except OSError:
            pass
    workers = n_workers if n_workers is not None else max(1, min(2, os.cpu_count() or 1))
    if echo is not None:
        echo(f"generating {n} {task} clips (seed {seed}, {conditions}) into {folder}")
    _generate(task, n, seed, conditions, overrides, pool, folder, workers, progress, echo)
    return _load(folder, task, classes)


_DOC_ARGS = """
    seed : int
        Same seed and size give byte-identical audio.
    conditions : str
        ``"mixed"`` (a slice drawn per clip, recorded in ``meta["condition"]``)
        or one slice: ``"clean"``, ``"noisy"``, ``"far"``, ``"telephone"``, ``"device"``.
    snr_db : float, optional
        Fix the SNR of every clip (noise type drawn unless ``noise`` is given).
    room : str, optional
        Fix the room: ``"dry"``, ``"small"``, ``"office"``, ``"reverberant"``.
    device : str, optional
        Fix the device (a key of :data:`course_lib.data.devices.DEVICES`).
    noise : str, optional
        Fix the noise type: ``"none"``, ``"white"``, ``"pink"``, ``"babble"``, ``"environment"``.
    speakers : list of str or str, optional
        Speaker ids to draw from (e.g. one split of
        :func:`course_lib.data.splits.speaker_split`), or ``"train"``/``"dev"``/``"test"``
        for the default speaker split; all speakers when None.
    cache_dir : path, optional
        Cache folder; :func:`course_lib.tooling.runtime.data_cache_dir` by default.
    n_workers : int, optional
        Worker processes for generation (default: up to 2).
    progress : bool
        Show a progress bar while generating.
"""


def keyword_dataset(n_clips: int, *, seed: int = 0, conditions: str = "mixed", snr_db: float | None = None,
                    room: str | None = None, device: str | None = None, noise: str | None = None,
                    speakers: Sequence[str] | str | None = None, cache_dir: str | os.PathLike | None = None,
                    n_workers: int | None = None, progress: bool = False) -> AudioDataset:  # fmt: skip
    """One-second keyword clips (Speech Commands style), generated once and cached.

    Classes (:data:`KEYWORD_CLASSES`) are drawn uniformly: 10 commands, 10
    digits, ``unknown`` (a word from :data:`UNKNOWN_WORDS`) and ``silence``
    (background only). The word sits at a random offset, padded with a
    low-level noise floor. ``meta["snr_db"]`` is measured over the whole
    one-second clip (speech plus the quiet around it), as
    :func:`course_lib.data.noise.mix_at_snr` defines it; for ``silence`` it
    is the level the noise would have under speech.

    Parameters
    ----------
    n_clips : int
    {args}
    Returns
    -------
    AudioDataset
        Items: ``waveform`` (16000,) float32, ``sample_rate``, ``label``,
        ``target`` (index in :data:`KEYWORD_CLASSES`), ``meta``.

    Examples
    --------
    >>> import shutil, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> ds = keyword_dataset(4, seed=0, conditions="clean", cache_dir=folder)
    >>> item = ds[0]
    >>> item["waveform"].shape, item["sample_rate"], item["label"] in ds.classes
    (torch.Size([16000]), 16000, True)
    >>> del ds; shutil.rmtree(folder)
    """
    return _dataset("keywords", n_clips, seed, conditions, snr_db, room, device, noise, speakers, cache_dir,
                    n_workers, progress)  # fmt: skip


def sentence_dataset(n_utts: int, *, seed: int = 0, conditions: str = "mixed", snr_db: float | None = None,
                     room: str | None = None, device: str | None = None, noise: str | None = None,
                     speakers: Sequence[str] | str | None = None, cache_dir: str | os.PathLike | None = None,
                     n_workers: int | None = None, progress: bool = False) -> AudioDataset:  # fmt: skip
    """Spoken sentences for ASR (commands, digit strings, short phrases), cached.

    Transcripts are normalized (:func:`normalize_transcript`) over
    :data:`CHARS`; ``.classes`` is :data:`CHARS` and ``target`` the
    transcript's character ids (a LongTensor, no blanks).

    Parameters
    ----------
    n_utts : int
    {args}
    Returns
    -------
    AudioDataset

    Examples
    --------
    >>> import shutil, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> ds = sentence_dataset(2, seed=0, snr_db=10.0, room="reverberant", cache_dir=folder)
    >>> item = ds[0]
    >>> from course_lib.data.text import ids_to_text
    >>> ids_to_text(item["target"]) == item["label"], item["meta"]["snr_db"], item["meta"]["room"]
    (True, 10.0, 'reverberant')
    >>> del ds; shutil.rmtree(folder)
    """
    return _dataset("sentences", n_utts, seed, conditions, snr_db, room, device, noise, speakers, cache_dir,
                    n_workers, progress)  # fmt: skip


def sound_dataset(n_clips: int, *, seed: int = 0, conditions: str = "mixed", snr_db: float | None = None,
                  room: str | None = None, device: str | None = None, noise: str | None = None,
                  cache_dir: str | os.PathLike | None = None, n_workers: int | None = None,
                  progress: bool = False) -> AudioDataset:  # fmt: skip
    """One-second environmental sound clips (:data:`course_lib.data.sounds.SOUND_CLASSES`), cached.

    Parameters
    ----------
    n_clips : int
    {args}
    Returns
    -------
    AudioDataset
        ``target`` is the index in ``.classes``; ``meta["speaker"]`` is ``"none"``.

    Examples
    --------
    >>> import shutil, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> ds = sound_dataset(3, seed=0, cache_dir=folder)
    >>> ds[0]["label"] in ds.classes, len(ds.classes) >= 8
    (True, True)
    >>> del ds; shutil.rmtree(folder)
    """
    return _dataset("sounds", n_clips, seed, conditions, snr_db, room, device, noise, None, cache_dir,
                    n_workers, progress)  # fmt: skip


_NO_SPEAKERS = _DOC_ARGS[: _DOC_ARGS.index("    speakers :")] + _DOC_ARGS[_DOC_ARGS.index("    cache_dir :") :]
for _f, _args in ((keyword_dataset, _DOC_ARGS), (sentence_dataset, _DOC_ARGS), (sound_dataset, _NO_SPEAKERS)):
    _f.__doc__ = _f.__doc__.replace("    {args}\n", _args.lstrip("\n") + "\n")
del _f, _args


def default_dataset(name: str, fast: bool = True, *, cache_dir=None, progress: bool = False) -> AudioDataset:
    """One of the datasets the notebooks use by default (:data:`DEFAULT_DATASETS`).

    Parameters
    ----------
    name : str
        ``keywords``, ``sentences``, ``sounds`` or ``sentences_test`` (unseen
        speakers at 10 dB SNR in a reverberant room).
    fast : bool
        FAST (CI-sized) or FULL sizes (:data:`DEFAULT_SIZES`).

    Examples
    --------
    >>> sorted(DEFAULT_DATASETS["fast"])
    ['keywords', 'sentences', 'sentences_test', 'sounds']
    """
    mode = "fast" if fast else "full"
    if name not in DEFAULT_DATASETS[mode]:
        raise ValueError(f"name must be one of {sorted(DEFAULT_DATASETS[mode])}, got {name!r}")
    kw = dict(DEFAULT_DATASETS[mode][name])
    task, n = kw.pop("task"), kw.pop("n")
    fn = {"keywords": keyword_dataset, "sentences": sentence_dataset, "sounds": sound_dataset}[task]
    return fn(n, cache_dir=cache_dir, progress=progress, **kw)


def build_default(fast: bool = True, echo: Callable[[str], None] | None = print, *, cache_dir=None) -> dict[str, AudioDataset]:
    """Generate (or find in the cache) every default dataset; ``course run`` calls it first.

    Parameters
    ----------
    fast : bool
        FAST sizes, or the FULL ones as well when False.
    echo : callable, optional
        Progress messages (``print`` by default; None for silence).
    cache_dir : path, optional

    Returns
    -------
    dict of str to AudioDataset
    """
    out = {}
    modes = ["fast"] if fast else ["fast", "full"]
    for mode in modes:
        for name in DEFAULT_DATASETS[mode]:
            t0 = time.perf_counter()
            kw = dict(DEFAULT_DATASETS[mode][name])
            task, n = kw.pop("task"), kw.pop("n")
            ds = _dataset(task, n, kw.pop("seed"), kw.pop("conditions"), kw.pop("snr_db", None), kw.pop("room", None),
                          kw.pop("device", None), kw.pop("noise", None), kw.pop("speakers", None), cache_dir, None,
                          False, echo)  # fmt: skip
            if echo is not None:
                echo(f"corpus {mode}/{name}: {len(ds)} clips ready ({time.perf_counter() - t0:.1f} s)")
            out[f"{mode}/{name}"] = ds
    return out
