"""Train/dev/test splits: by speaker, by time, and the leaky random one.

Later modules evaluate on speakers never seen in training. Two ways to get
there:

- split the *speakers* first (:func:`speaker_split`, :func:`default_speaker_split`)
  and generate each part with ``speakers=`` (``keyword_dataset(..., speakers="test")``);
- split an existing metadata table (:func:`split_by_speaker`), which returns
  row indices for ``dataset.subset(...)``.

:func:`split_by_time` holds out the latest sessions; :func:`random_split`
ignores speakers (the leaky baseline module 10 measures).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Sequence

import numpy as np
import pandas as pd

__all__ = ["SPLIT_NAMES", "speaker_split", "default_speaker_split", "split_by_speaker", "split_by_time", "random_split"]

#: Names of the three parts, in order.
SPLIT_NAMES = ("train", "dev", "test")


def _check_fractions(fractions) -> tuple[float, float, float]:
    if not isinstance(fractions, (tuple, list)) or len(fractions) != 3:
        raise ValueError(f"fractions must be 3 numbers (train, dev, test), got {fractions!r}")
    try:
        f = tuple(float(x) for x in fractions)
    except (TypeError, ValueError):
        raise TypeError(f"fractions must be numbers, got {fractions!r}") from None
    if any(not np.isfinite(x) or x < 0 for x in f) or abs(sum(f) - 1.0) > 1e-6:
        raise ValueError(f"fractions must be non-negative and sum to 1, got {fractions!r} (sum {sum(f):.4g})")
    return f  # type: ignore[return-value]


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise TypeError(f"seed must be a non-negative int, got {seed!r}")
    return int(seed)


def _counts(n: int, fractions: tuple[float, float, float]) -> list[int]:
    """Split n items by fractions; every part with a positive fraction gets at least one when possible."""
    counts = [int(round(n * f)) for f in fractions]
    for k, f in enumerate(fractions):
        if f > 0 and counts[k] == 0:
            counts[k] = 1
    while sum(counts) > n:  # take back from the largest part
        counts[int(np.argmax(counts))] -= 1
    counts[0] += n - sum(counts)
    return counts


def _check_meta(metadata, column: str) -> pd.DataFrame:
    if not isinstance(metadata, pd.DataFrame):
        raise TypeError(f"metadata must be a pandas DataFrame (dataset.metadata), got {type(metadata).__name__}")
    if column not in metadata.columns:
        raise ValueError(f"metadata has no {column!r} column; columns are {list(metadata.columns)}")
    if len(metadata) == 0:
        raise ValueError("metadata is empty")
    return metadata


def speaker_split(speaker_ids: Sequence[str], fractions=(0.8, 0.1, 0.1), seed: int = 0) -> dict[str, list[str]]:
    """Assign speakers (not clips) to train/dev/test.

    Parameters
    ----------
    speaker_ids : sequence of str
        Distinct ids (duplicates are merged).
    fractions : (float, float, float)
        Shares of speakers for train, dev, test; sum to 1.
    seed : int

    Returns
    -------
    dict
        ``{"train": [...], "dev": [...], "test": [...]}``, each sorted, disjoint.

    Examples
    --------
    >>> parts = speaker_split([f"spk{i:03d}" for i in range(10)], (0.6, 0.2, 0.2), seed=0)
    >>> [len(parts[k]) for k in ("train", "dev", "test")]
    [6, 2, 2]
    """
    if isinstance(speaker_ids, str) or not isinstance(speaker_ids, (Sequence, np.ndarray, pd.Series)):
        raise TypeError(f"speaker_ids must be a sequence of ids, got {type(speaker_ids).__name__}")
    ids = sorted({str(s) for s in speaker_ids})
    fr = _check_fractions(fractions)
    if len(ids) < sum(f > 0 for f in fr):
        raise ValueError(f"need at least {sum(f > 0 for f in fr)} distinct speakers for fractions {fractions}, got {len(ids)}")
    rng = np.random.default_rng(_check_seed(seed))
    order = [ids[k] for k in rng.permutation(len(ids))]
    counts = _counts(len(ids), fr)
    out, start = {}, 0
    for name, c in zip(SPLIT_NAMES, counts):
        out[name] = sorted(order[start : start + c])
        start += c
    return out


@lru_cache(maxsize=1)
def _default_split() -> dict[str, tuple[str, ...]]:
    from course_lib.data.tts import speakers

    parts = speaker_split([s.speaker_id for s in speakers()], (0.8, 0.1, 0.1), seed=0)
    return {k: tuple(v) for k, v in parts.items()}


def default_speaker_split() -> dict[str, list[str]]:
    """The course's fixed 80/10/10 speaker split of :func:`course_lib.data.tts.speakers`.

    Examples
    --------
    >>> parts = default_speaker_split()
    >>> sum(len(v) for v in parts.values()), len(set(parts["train"]) & set(parts["test"]))
    (128, 0)
    """
    return {k: list(v) for k, v in _default_split().items()}


def split_by_speaker(metadata: pd.DataFrame, fractions=(0.8, 0.1, 0.1), seed: int = 0, *,
                     column: str = "speaker") -> dict[str, np.ndarray]:  # fmt: skip
    """Row indices of a speaker-disjoint train/dev/test split.

    Speakers are shuffled and cut by ``fractions`` (of speakers, not clips),
    so no speaker appears in two parts.

    Parameters
    ----------
    metadata : pandas.DataFrame
        One row per clip (e.g. ``dataset.metadata``).
    fractions : (float, float, float)
    seed : int
    column : str
        The speaker column.

    Returns
    -------
    dict of str to numpy.ndarray
        Sorted int64 row positions for ``"train"``, ``"dev"``, ``"test"``.

    Examples
    --------
    >>> meta = pd.DataFrame({"speaker": ["a", "a", "b", "c", "c", "d"]})
    >>> parts = split_by_speaker(meta, (0.5, 0.25, 0.25), seed=0)
    >>> sorted(np.concatenate(list(parts.values())).tolist())
    [0, 1, 2, 3, 4, 5]
    """
    meta = _check_meta(metadata, column)
    spk = meta[column].astype(str).to_numpy()
    parts = speaker_split(np.unique(spk).tolist(), fractions, seed)
    return {name: np.nonzero(np.isin(spk, parts[name]))[0].astype(np.int64) for name in SPLIT_NAMES}


def split_by_time(metadata: pd.DataFrame, fractions=(0.8, 0.1, 0.1), *, column: str = "session") -> dict[str, np.ndarray]:
    """Row indices of a time-based split: earliest sessions train, latest test.

    Whole sessions stay together; the cut points are the session values at the
    cumulative ``fractions`` of clips.

    Examples
    --------
    >>> meta = pd.DataFrame({"session": [0, 0, 1, 2, 3, 3, 4, 5, 6, 7]})
    >>> {k: v.tolist() for k, v in split_by_time(meta, (0.6, 0.2, 0.2)).items()}
    {'train': [0, 1, 2, 3, 4, 5], 'dev': [6, 7], 'test': [8, 9]}
    """
    meta = _check_meta(metadata, column)
    fr = _check_fractions(fractions)
    t = meta[column].to_numpy()
    order = np.argsort(t, kind="stable")
    n = len(t)
    cut1 = t[order[min(int(round(fr[0] * n)), n - 1)]]
    cut2 = t[order[min(int(round((fr[0] + fr[1]) * n)), n - 1)]]
    train = t < cut1
    dev = (t >= cut1) & (t < cut2)
    test = t >= cut2
    if fr[2] == 0:
        dev |= test
        test[:] = False
    return {"train": np.nonzero(train)[0], "dev": np.nonzero(dev)[0], "test": np.nonzero(test)[0]}


def random_split(metadata: pd.DataFrame, fractions=(0.8, 0.1, 0.1), seed: int = 0) -> dict[str, np.ndarray]:
    """Row indices of a clip-level random split (speakers leak across parts).

    Examples
    --------
    >>> parts = random_split(pd.DataFrame({"x": range(10)}), (0.8, 0.1, 0.1), seed=0)
    >>> [len(parts[k]) for k in ("train", "dev", "test")]
    [8, 1, 1]
    """
    if not isinstance(metadata, pd.DataFrame) or len(metadata) == 0:
        raise TypeError("metadata must be a non-empty pandas DataFrame")
    fr = _check_fractions(fractions)
    rng = np.random.default_rng(_check_seed(seed))
    order = rng.permutation(len(metadata))
    counts = _counts(len(metadata), fr)
    out, start = {}, 0
    for name, c in zip(SPLIT_NAMES, counts):
        out[name] = np.sort(order[start : start + c]).astype(np.int64)
        start += c
    return out
