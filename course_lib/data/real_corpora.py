"""Loaders for real corpora on local disk, with the course corpus's item format.

Nothing here downloads: point a loader at a folder you already have.

- :func:`speech_commands`: Google Speech Commands v0.02
  (``<root>/<word>/<speaker>_nohash_<n>.wav``, ``validation_list.txt``,
  ``testing_list.txt``, ``_background_noise_/*.wav``), mapped to
  :data:`course_lib.data.corpus.KEYWORD_CLASSES` (other words -> ``unknown``,
  one-second background slices -> ``silence``);
- :func:`librispeech`: LibriSpeech
  (``<root>/<subset>/<speaker>/<chapter>/<speaker>-<chapter>-<utt>.flac`` and
  ``<speaker>-<chapter>.trans.txt``);
- :func:`fleurs`: FLEURS as published on the Hugging Face hub
  (``<root>/<lang>/{train,dev,test}.tsv``, header-less, columns
  ``id, file_name, raw_transcription, transcription, phonemes, num_samples,
  gender``; audio extracted to ``<root>/<lang>/audio/<split>/<file_name>``).

Each returns a :class:`FileAudioDataset`: items are dicts with ``waveform``
(float32 ``(time,)`` at ``sample_rate``), ``sample_rate``, ``label``,
``target`` and ``meta``, like :class:`course_lib.data.corpus.AudioDataset`, so
:func:`course_lib.data.corpus.collate_audio` and :mod:`course_lib.data.splits` work on
both. Audio is read with ``soundfile`` when an item is requested.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

from course_lib.checks import check_instance, check_int, check_sample_rate
from course_lib.data.text import CHARS, normalize_transcript, text_to_ids
from course_lib.data.corpus import KEYWORD_CLASSES, _check_dataset_fields
from course_lib.data.text import COMMANDS, DIGITS

__all__ = ["FileAudioDataset", "read_audio", "speech_commands", "librispeech", "fleurs"]


def read_audio(path: str | os.PathLike, sample_rate: int = 16000, *, start: int = 0, frames: int = -1) -> torch.Tensor:
    """Read an audio file with ``soundfile`` as mono float32 at ``sample_rate``.

    Multi-channel audio is averaged; other rates are resampled with a
    polyphase filter (``scipy.signal.resample_poly``).

    Parameters
    ----------
    path : path
    sample_rate : int
        Wanted rate in Hz.
    start, frames : int
        Read ``frames`` samples from ``start`` (in the file's own rate); -1 = to the end.

    Returns
    -------
    torch.Tensor
        ``(time,)`` float32.

    Examples
    --------
    >>> import tempfile, soundfile as sf
    >>> path = Path(tempfile.mkdtemp()) / "tone.wav"
    >>> sf.write(path, np.zeros((8000, 2), dtype=np.float32), 8000)
    >>> read_audio(path, 16000).shape
    torch.Size([16000])
    """
    import soundfile as sf

    sample_rate = check_sample_rate(sample_rate)
    start = check_int(start, "start", min_value=0)
    frames = check_int(frames, "frames")
    if frames < -1:
        raise ValueError(f"frames must be -1 (read to the end) or a count >= 0, got {frames}")
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no audio file at {path}")
    data, sr = sf.read(str(path), start=start, frames=frames, dtype="float32", always_2d=True)
    x = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
    if sr != sample_rate:
        from math import gcd

        from scipy.signal import resample_poly

        g = gcd(sr, sample_rate)
        x = resample_poly(x.astype(np.float64), sample_rate // g, sr // g).astype(np.float32)
    return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))


class FileAudioDataset(Dataset):
    """Clips listed in a metadata table (one row per clip, a ``path`` column), read on demand.

    Attributes
    ----------
    metadata : pandas.DataFrame
        ``clip_id``, ``path``, ``label``, ``target``, ``speaker`` and corpus
        fields; optional ``start``/``frames`` columns read part of a file.
    classes : list of str
    task : str
    sample_rate : int
    """

    def __init__(self, metadata: pd.DataFrame, classes: Sequence[str], task: str, sample_rate: int = 16000,
                 pad_to: int | None = None) -> None:  # fmt: skip
        sample_rate = _check_dataset_fields(metadata, classes, task, sample_rate, ("path", "label"))
        if pad_to is not None:
            pad_to = check_int(pad_to, "pad_to", min_value=1)
        self.metadata = metadata.reset_index(drop=True)
        self.classes = list(classes)
        self.task = task
        self.sample_rate = sample_rate
        self.pad_to = pad_to
        self._meta = self.metadata.to_dict("records")

    def __len__(self) -> int:
        return len(self.metadata)

    def __getitem__(self, i: int) -> dict:
        if isinstance(i, np.integer):
            i = int(i)
        if not isinstance(i, int):
            raise TypeError(f"index must be an int, got {type(i).__name__}")
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(f"index {i} out of range for {len(self)} clips")
        meta = dict(self._meta[i])
        start, frames = int(meta.get("start", 0) or 0), int(meta.get("frames", -1) or -1)
        wave = read_audio(meta["path"], self.sample_rate, start=start, frames=frames)
        if self.pad_to is not None:
            wave = torch.nn.functional.pad(wave[: self.pad_to], (0, max(0, self.pad_to - wave.shape[0])))
        target: Any = int(meta["target"]) if self.task == "speech_commands" else torch.tensor(
            text_to_ids(meta["label"]), dtype=torch.long
        )
        return {"waveform": wave, "sample_rate": self.sample_rate, "label": meta["label"], "target": target, "meta": meta}

    @property
    def labels(self) -> list[str]:
        """Every clip's label."""
        return self.metadata["label"].tolist()

    def subset(self, indices) -> "FileAudioDataset":
        """A dataset over the given rows (index array or boolean mask)."""
        idx = np.asarray(indices)
        if idx.dtype == bool:
            idx = np.nonzero(idx)[0]
        return FileAudioDataset(self.metadata.iloc[idx], self.classes, self.task, self.sample_rate, self.pad_to)

    def __repr__(self) -> str:
        return f"FileAudioDataset(task={self.task!r}, clips={len(self)})"


def _check_root(root) -> Path:
    if not isinstance(root, (str, os.PathLike)):
        raise TypeError(f"root must be a path to a local copy of the corpus, got {type(root).__name__}")
    root = Path(root).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"corpus folder {root} does not exist (nothing is downloaded; copy the corpus there)")
    return root


# --------------------------------------------------------------------------- Speech Commands
_SC_SUBSETS = ("training", "validation", "testing")


def _subset_of(key: str) -> str:
    """Background windows go to a subset by a stable hash (10 % test, 10 % validation)."""
    h = int(hashlib.sha1(key.encode()).hexdigest()[:8], 16) % 10
    return "testing" if h == 0 else "validation" if h == 1 else "training"


def speech_commands(root: str | os.PathLike, subset: str = "training", *, sample_rate: int = 16000,
                    n_silence: int | None = None, seed: int = 0) -> FileAudioDataset:  # fmt: skip
    """Google Speech Commands v0.02 from a local folder, as the course's keyword task.

    Parameters
    ----------
    root : path
        The extracted archive (holds the word folders and the two list files).
    subset : str
        ``"training"``, ``"validation"`` or ``"testing"`` (the official lists;
        training is every file in neither list).
    sample_rate : int
        Output rate in Hz (the corpus is recorded at 16 kHz).
    n_silence : int, optional
        How many one-second background slices to add as ``silence``; by
        default about one class's share of the subset.
    seed : int
        Which background slices are picked.

    Returns
    -------
    FileAudioDataset
        Clips padded to one second; ``.classes`` is
        :data:`course_lib.data.corpus.KEYWORD_CLASSES`; words outside the commands
        and digits are ``unknown`` (``meta["word"]`` keeps the word);
        ``meta["speaker"]`` is the hash before ``_nohash_``.

    Examples
    --------
    >>> speech_commands("/no/such/folder")
    Traceback (most recent call last):
    ...
    FileNotFoundError: corpus folder /no/such/folder does not exist (nothing is downloaded; copy the corpus there)
    """
    root = _check_root(root)
    if subset not in _SC_SUBSETS:
        raise ValueError(f"subset must be one of {list(_SC_SUBSETS)}, got {subset!r}")
    sample_rate = check_sample_rate(sample_rate)
    lists = {}
    for name in ("validation", "testing"):
        f = root / f"{name}_list.txt"
        if not f.is_file():
            raise FileNotFoundError(f"{f} is missing; is {root} a Speech Commands v0.02 folder?")
        lists[name] = {line.strip() for line in f.read_text().splitlines() if line.strip()}
    known = set(COMMANDS) | set(DIGITS)
    rows = []
    for word_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("_")):
        for wav in sorted(word_dir.glob("*.wav")):
            rel = f"{word_dir.name}/{wav.name}"
            which = "validation" if rel in lists["validation"] else "testing" if rel in lists["testing"] else "training"
            if which != subset:
                continue
            label = word_dir.name if word_dir.name in known else "unknown"
            speaker = wav.stem.split("_nohash_")[0]
            rows.append({"clip_id": rel, "path": str(wav), "label": label, "target": KEYWORD_CLASSES.index(label),
                         "word": word_dir.name, "speaker": speaker, "subset": subset, "start": 0, "frames": -1})  # fmt: skip
    if not rows:
        raise ValueError(f"no .wav files of subset {subset!r} under {root}")
    bg = root / "_background_noise_"
    windows = []
    if bg.is_dir():
        import soundfile as sf

        for wav in sorted(bg.glob("*.wav")):
            info = sf.info(str(wav))
            step = info.samplerate  # one-second windows in the file's own rate
            for k in range(info.frames // step):
                key = f"{wav.name}:{k}"
                if _subset_of(key) == subset:
                    windows.append((wav, k * step, step, key))
    want = len(rows) // (len(KEYWORD_CLASSES) - 1) if n_silence is None else int(n_silence)
    if want < 0:
        raise ValueError(f"n_silence must be >= 0, got {n_silence}")
    if windows and want:
        rng = np.random.default_rng(seed)
        picks = rng.choice(len(windows), size=min(want, len(windows)), replace=False)
        for j in sorted(picks):
            wav, start, frames, key = windows[int(j)]
            rows.append({"clip_id": f"_background_noise_/{key}", "path": str(wav), "label": "silence",
                         "target": KEYWORD_CLASSES.index("silence"), "word": "_background_noise_",
                         "speaker": "none", "subset": subset, "start": start, "frames": frames})  # fmt: skip
    meta = pd.DataFrame(rows)
    return FileAudioDataset(meta, KEYWORD_CLASSES, "speech_commands", sample_rate, pad_to=sample_rate)


# --------------------------------------------------------------------------- LibriSpeech
def librispeech(root: str | os.PathLike, subset: str = "dev-clean", *, sample_rate: int = 16000) -> FileAudioDataset:
    """LibriSpeech utterances from a local folder, as the course's sentence task.

    Parameters
    ----------
    root : path
        The folder holding the subsets (e.g. ``LibriSpeech/``).
    subset : str
        ``dev-clean``, ``test-other``, ``train-clean-100``...
    sample_rate : int

    Returns
    -------
    FileAudioDataset
        ``label`` is the normalized transcript (:func:`course_lib.data.text.normalize_transcript`),
        ``target`` its :data:`course_lib.data.text.CHARS` ids; ``meta`` has
        ``speaker``, ``chapter``, ``text_raw``.

    Examples
    --------
    >>> librispeech(3)
    Traceback (most recent call last):
    ...
    TypeError: root must be a path to a local copy of the corpus, got int
    """
    root = _check_root(root)
    if not isinstance(subset, str):
        raise TypeError(f"subset must be a str such as 'dev-clean', got {type(subset).__name__}")
    base = root / subset
    if not base.is_dir():
        found = sorted(p.name for p in root.iterdir() if p.is_dir())
        raise FileNotFoundError(f"no subset folder {base}; found {found}")
    sample_rate = check_sample_rate(sample_rate)
    rows = []
    for trans in sorted(base.glob("*/*/*.trans.txt")):
        speaker, chapter = trans.parent.parent.name, trans.parent.name
        for line in trans.read_text().splitlines():
            if not line.strip():
                continue
            utt, _, text = line.strip().partition(" ")
            audio = trans.parent / f"{utt}.flac"
            if not audio.is_file():
                raise FileNotFoundError(f"{trans} lists {utt} but {audio} is missing")
            rows.append({"clip_id": utt, "path": str(audio), "label": normalize_transcript(text), "target": -1,
                         "text_raw": text, "speaker": speaker, "chapter": chapter, "subset": subset})  # fmt: skip
    if not rows:
        raise ValueError(f"no *.trans.txt files under {base}")
    return FileAudioDataset(pd.DataFrame(rows), CHARS, "librispeech", sample_rate)


# --------------------------------------------------------------------------- FLEURS
_FLEURS_COLUMNS = ("id", "file_name", "raw_transcription", "transcription", "phonemes", "num_samples", "gender")
_FLEURS_SPLITS = ("train", "dev", "test")


def fleurs(root: str | os.PathLike, lang: str = "en_us", split: str = "test", *, sample_rate: int = 16000) -> FileAudioDataset:
    """FLEURS utterances of one language from a local folder, as the course's sentence task.

    Parameters
    ----------
    root : path
        The folder holding one sub-folder per language (``en_us/``...), each
        with ``train.tsv``, ``dev.tsv``, ``test.tsv`` and ``audio/<split>/``.
    lang : str
        FLEURS language config, e.g. ``"en_us"``.
    split : str
        ``"train"``, ``"dev"`` or ``"test"``.
    sample_rate : int

    Returns
    -------
    FileAudioDataset
        ``label`` is the normalized ``transcription``; ``meta`` has ``id``
        (the sentence id shared across languages), ``gender``, ``text_raw``.
        FLEURS has no speaker ids: ``meta["speaker"]`` is ``"unknown"``.

    Examples
    --------
    >>> fleurs("/no/such/folder")
    Traceback (most recent call last):
    ...
    FileNotFoundError: corpus folder /no/such/folder does not exist (nothing is downloaded; copy the corpus there)
    """
    root = _check_root(root)
    if split not in _FLEURS_SPLITS:
        raise ValueError(f"split must be one of {list(_FLEURS_SPLITS)}, got {split!r}")
    if not isinstance(lang, str) or not lang:
        raise TypeError(f"lang must be a FLEURS config name such as 'en_us', got {lang!r}")
    sample_rate = check_sample_rate(sample_rate)
    tsv = root / lang / f"{split}.tsv"
    if not tsv.is_file():
        raise FileNotFoundError(f"{tsv} is missing; expected <root>/<lang>/{{train,dev,test}}.tsv")
    table = pd.read_csv(tsv, sep="\t", header=None, quoting=3, dtype=str, keep_default_na=False)
    if table.shape[1] != len(_FLEURS_COLUMNS):
        raise ValueError(f"{tsv} has {table.shape[1]} columns, expected {len(_FLEURS_COLUMNS)}: {list(_FLEURS_COLUMNS)}")
    table.columns = list(_FLEURS_COLUMNS)
    audio_dir = root / lang / "audio" / split
    rows = []
    for rec in table.to_dict("records"):
        path = audio_dir / rec["file_name"]
        if not path.is_file():
            raise FileNotFoundError(f"{tsv} lists {rec['file_name']} but {path} is missing (extract audio/{split}.tar.gz)")
        rows.append({"clip_id": Path(rec["file_name"]).stem, "path": str(path), "id": rec["id"],
                     "label": normalize_transcript(rec["transcription"]), "target": -1,
                     "text_raw": rec["raw_transcription"], "gender": rec["gender"].lower(),
                     "num_samples": int(rec["num_samples"]), "speaker": "unknown", "lang": lang, "split": split})  # fmt: skip
    return FileAudioDataset(pd.DataFrame(rows), CHARS, "fleurs", sample_rate)
