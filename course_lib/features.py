"""Traditional vs learned features, compared on one small keyword task at several data sizes.

* **traditional**: MFCCs and their deltas summarised per clip (:func:`mfcc_stats`,
  mean and standard deviation over time), then a linear model;
* **learned**: a small CNN on the log-mel spectrogram (:class:`KeywordCNN`),
  which learns its own features from the examples it gets.

The task: eight words (:data:`WORDS`) spoken by the course's synthetic
speakers (:func:`word_clips`), one second each, with pink noise at 0-20 dB SNR;
test speakers are never trained on (:func:`speaker_split`). The learning curve
trains both on the first 2, 4, ... 96 training speakers. The CNNs of the curve
are a committed checkpoint (:func:`features_checkpoint_recipe`, made with
``course checkpoints features_curve``); the linear models train in a second.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from torch import nn

from course_lib.augment import add_noise
from course_lib.cepstrum import deltas, mfcc
from course_lib.checks import check_positive_int, check_sample_rate, check_tensor
from course_lib.data.noise import pink_noise
from course_lib.data.tts import Speaker, speakers as all_speakers, synthesize_batch
from course_lib.mel import log_mel

__all__ = [
    "WORDS",
    "CURVE_SIZES",
    "speaker_split",
    "word_clips",
    "mfcc_stats",
    "keyword_log_mel",
    "KeywordCNN",
    "CurveConfig",
    "train_keyword_cnn",
    "curve_train_clips",
    "curve_test_clips",
    "CurveCNNs",
    "train_curve_cnns",
    "evaluate_curve_cnns",
    "curve_figures",
    "features_checkpoint_recipe",
]

#: The eight keywords of the task, in label order.
WORDS: tuple[str, ...] = ("yes", "no", "up", "down", "left", "right", "stop", "go")
#: Training speakers at each point of the learning curve (nested: each set holds the previous one).
CURVE_SIZES: tuple[int, ...] = (2, 4, 8, 16, 32, 96)
_N_TEST = 32
_SR = 16000


# --------------------------------------------------------------------------- data
def speaker_split(n_test: int = _N_TEST, seed: int = 0) -> tuple[list[Speaker], list[Speaker]]:
    """Test speakers and the ordered pool of training speakers, disjoint.

    A seeded permutation of the 128 speakers (:func:`course_lib.data.tts.speakers`):
    the first ``n_test`` are the test speakers, the rest the training pool, in
    order, so that "the first ``n`` training speakers" is a nested family that
    mixes accents and voices.

    Parameters
    ----------
    n_test : int
        Test speakers (1 to 127).
    seed : int

    Returns
    -------
    test, pool : list of Speaker

    Examples
    --------
    >>> test, pool = speaker_split()
    >>> len(test), len(pool), set(s.speaker_id for s in test).isdisjoint(s.speaker_id for s in pool)
    (32, 96, True)
    """
    spk = all_speakers()
    n_test = check_positive_int(n_test, "n_test")
    if n_test >= len(spk):
        raise ValueError(f"n_test must leave training speakers: at most {len(spk) - 1}, got {n_test}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    order = np.random.default_rng(seed).permutation(len(spk))
    return [spk[i] for i in order[:n_test]], [spk[i] for i in order[n_test:]]


def word_clips(speakers: Sequence[Speaker | str], words: Sequence[str] = WORDS, *, seed: int,
               snr_db_range: tuple[float, float] = (0.0, 20.0), seconds: float = 1.0,
               sample_rate: int = _SR) -> tuple[torch.Tensor, torch.Tensor]:
    """Every word spoken by every speaker, cut or padded to ``seconds``, in pink noise.

    Synthesized in one espeak-ng session (:func:`course_lib.data.tts.synthesize_batch`),
    each clip starts with its word and is zero-padded (or cut) to the same
    length; then pink noise is mixed in at an SNR drawn uniformly from
    ``snr_db_range`` per clip (:func:`course_lib.augment.add_noise`).
    The same arguments always give the same samples.

    Parameters
    ----------
    speakers : sequence of Speaker or str
        Speakers or their ids.
    words : sequence of str
        The vocabulary; a clip's label is its word's index here.
    seed : int
        Seeds the noise (excerpts and SNRs).
    snr_db_range : (float, float)
        SNR range in dB.
    seconds : float
        Clip length.
    sample_rate : int

    Returns
    -------
    waves : torch.Tensor, shape ``(N, time)``, float32
        ``N = len(speakers) * len(words)``, speaker-major (all words of the first speaker first).
    labels : torch.Tensor of int64, shape ``(N,)``

    Examples
    --------
    >>> waves, labels = word_clips(["spk000", "spk001"], ("yes", "no"), seed=0)
    >>> tuple(waves.shape), labels.tolist()
    ((4, 16000), [0, 1, 0, 1])
    """
    if isinstance(speakers, str) or not isinstance(speakers, Sequence) or len(speakers) == 0:
        raise ValueError(f"speakers must be a non-empty list of Speaker or ids, got {speakers!r}")
    if isinstance(words, str) or len(words) == 0 or not all(isinstance(w, str) and w.strip() for w in words):
        raise ValueError(f"words must be a non-empty list of non-empty strings, got {words!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    sample_rate = check_sample_rate(sample_rate)
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 < seconds <= 10:
        raise ValueError(f"seconds must be a number in (0, 10], got {seconds!r}")
    n = int(round(seconds * sample_rate))
    texts = [w for _ in speakers for w in words]
    who = [s for s in speakers for _ in words]
    waves = synthesize_batch(texts, who, sample_rate=sample_rate)
    clips = torch.stack([torch.nn.functional.pad(w[:n], (0, n - min(n, w.shape[0]))) for w in waves])
    labels = torch.arange(len(words)).repeat(len(speakers))
    noisy, _ = add_noise(clips, pink_noise(4 * sample_rate, seed=seed), snr_db_range=snr_db_range, generator=seed)
    return noisy, labels


# --------------------------------------------------------------------------- features
def mfcc_stats(x, sample_rate: int = _SR, *, n_mfcc: int = 13, n_mels: int = 40) -> torch.Tensor:
    """Clip-level traditional features: mean and std over time of MFCCs and their deltas.

    ``c = mfcc(x)`` (``n_mfcc`` coefficients, 25 ms window, 10 ms hop),
    ``f = [c; deltas(c)]``, then ``[mean_t f; std_t f]``: a fixed-size vector
    per clip, whatever its length, for a linear or Gaussian model.

    Parameters
    ----------
    x : torch.Tensor or numpy.ndarray, shape ``(N, time)``
        Clips (at least 2 frames long).
    sample_rate : int
    n_mfcc, n_mels : int
        As in :func:`course_lib.cepstrum.mfcc`.

    Returns
    -------
    torch.Tensor, shape ``(N, 4 * n_mfcc)``
        Means of the MFCCs, means of the deltas, then their standard deviations.

    Examples
    --------
    >>> mfcc_stats(torch.randn(3, 16000, generator=torch.Generator().manual_seed(0))).shape
    torch.Size([3, 52])
    """
    x = check_tensor(x, "x", ndim=2, floating=True)
    if x.shape[-1] < 2 * 160:
        raise ValueError(f"clips need at least 320 samples (two 10 ms frames), got {x.shape[-1]}")
    c = mfcc(x, sample_rate, n_mfcc=n_mfcc, n_mels=n_mels)  # (N, n_mfcc, frames)
    f = torch.cat([c, deltas(c)], dim=1)  # (N, 2 n_mfcc, frames)
    return torch.cat([f.mean(-1), f.std(-1)], dim=1)  # (N, 4 n_mfcc)


def keyword_log_mel(x, sample_rate: int = _SR, *, n_mels: int = 40) -> torch.Tensor:
    """The CNN's input: a 40-band log-mel spectrogram, ``(N, time) -> (N, n_mels, frames)``.

    Examples
    --------
    >>> keyword_log_mel(torch.zeros(2, 16000)).shape
    torch.Size([2, 40, 101])
    """
    x = check_tensor(x, "x", ndim=2, floating=True)
    return log_mel(x, sample_rate, n_mels=n_mels)


# --------------------------------------------------------------------------- the learned side
class KeywordCNN(nn.Module):
    """A three-layer CNN on log-mel features, with its input normalisation built in.

    ``(B, n_mels, frames)`` log-mel -> standardised with the training set's
    mean and std (buffers, set by :meth:`fit_normalization`) -> three strided
    convolutions (8, 16, 32 channels) -> global max pooling over frequency and
    time -> a linear layer to ``n_classes`` logits. About 6 300 parameters.

    Parameters
    ----------
    n_classes : int

    Examples
    --------
    >>> model = KeywordCNN(8)
    >>> model(torch.zeros(2, 40, 101)).shape
    torch.Size([2, 8])
    >>> sum(p.numel() for p in model.parameters())
    6280
    """

    def __init__(self, n_classes: int = len(WORDS)) -> None:
        super().__init__()
        n_classes = check_positive_int(n_classes, "n_classes")
        self.register_buffer("mean", torch.zeros(()))
        self.register_buffer("std", torch.ones(()))
        self.net = nn.Sequential(
            nn.Conv2d(1, 8, 5, stride=2, padding=2), nn.ReLU(),
            nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),
            nn.AdaptiveMaxPool2d(1), nn.Flatten(),  # (B, 32, f, t) -> (B, 32)
            nn.Linear(32, n_classes),
        )

    def fit_normalization(self, feats: torch.Tensor) -> "KeywordCNN":
        """Set the input mean and std from training features ``(N, n_mels, frames)``; returns self."""
        feats = check_tensor(feats, "feats", ndim=3, floating=True)
        self.mean.fill_(float(feats.mean()))
        self.std.fill_(max(float(feats.std()), 1e-6))
        return self

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        """``(B, n_mels, frames)`` log-mel -> ``(B, n_classes)`` logits."""
        z = (feats - self.mean) / self.std
        return self.net(z.unsqueeze(1))  # (B, F, T) -> (B, 1, F, T)


@dataclass(frozen=True)
class CurveConfig:
    """How each CNN of the learning curve is trained.

    Every curve point takes about the same number of optimiser steps
    (``steps`` mini-batches of ``batch_size``, rounded to whole epochs), so
    that a larger training set is not also a longer training: Adam at ``lr``
    with a warm-up + cosine schedule, gradient norm clipped to 1.

    Examples
    --------
    >>> CurveConfig().steps
    1500
    """

    steps: int = 1500
    lr: float = 3e-3
    batch_size: int = 32

    def __post_init__(self):
        check_positive_int(self.steps, "steps")
        check_positive_int(self.batch_size, "batch_size")
        if not (isinstance(self.lr, float) and 0 < self.lr < 1):
            raise ValueError(f"lr must be a float in (0, 1), got {self.lr!r}")


def train_keyword_cnn(feats: torch.Tensor, labels: torch.Tensor, config: CurveConfig = CurveConfig(), *,
                      seed: int = 0, n_classes: int = len(WORDS), progress: bool = False,
                      measure_train: bool = False):
    """Train a :class:`KeywordCNN` on log-mel features for about ``config.steps`` steps.

    Training runs whole epochs: the number of epochs closest to
    ``config.steps / ceil(N / batch_size)`` (at least one); ``history.steps``
    says how many steps were taken.

    Parameters
    ----------
    feats : torch.Tensor, shape ``(N, n_mels, frames)``
        Log-mel features (:func:`keyword_log_mel`), not normalised: the model
        takes its normalisation from them.
    labels : torch.Tensor of int64, shape ``(N,)``
        Class indices in ``[0, n_classes)``.
    config : CurveConfig
    seed : int
        Seeds the initialisation and the shuffling.
    n_classes : int
    progress : bool
        Show a progress bar.
    measure_train : bool
        Record the training loss and accuracy after every epoch (``history.train_loss``);
        off by default (it costs a pass over the data per epoch).

    Returns
    -------
    model : KeywordCNN
        Trained, in eval mode.
    history : course_lib.training.History

    Examples
    --------
    >>> feats = torch.randn(16, 40, 101, generator=torch.Generator().manual_seed(0))
    >>> model, history = train_keyword_cnn(feats, torch.arange(16) % 8, CurveConfig(steps=2))
    >>> history.steps
    2
    """
    from course_lib.training import TrainConfig, train_classifier

    feats = check_tensor(feats, "feats", ndim=3, floating=True)
    labels = check_tensor(labels, "labels", ndim=1, dtypes=(torch.int64,))
    if labels.shape[0] != feats.shape[0]:
        raise ValueError(f"labels must have one entry per clip ({feats.shape[0]}), got {labels.shape[0]}")
    n_classes = check_positive_int(n_classes, "n_classes")
    if int(labels.min()) < 0 or int(labels.max()) >= n_classes:
        raise ValueError(f"labels must lie in [0, {n_classes}), got [{int(labels.min())}, {int(labels.max())}]")
    if not isinstance(config, CurveConfig):
        raise TypeError(f"config must be a CurveConfig, got {type(config).__name__}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    per_epoch = math.ceil(feats.shape[0] / config.batch_size)
    epochs = max(1, round(config.steps / per_epoch))
    with torch.random.fork_rng(devices=[]):  # seeded initialisation, the caller's generator untouched
        torch.manual_seed(seed)
        model = KeywordCNN(n_classes)
    model.fit_normalization(feats)
    cfg = TrainConfig(epochs=epochs, lr=config.lr, batch_size=config.batch_size, seed=seed, schedule="cosine")
    history = train_classifier(model, (feats, labels), None, cfg, progress=progress, measure_train=measure_train)
    model.eval()
    return model, history


# --------------------------------------------------------------------------- the learning curve
def curve_test_clips() -> tuple[torch.Tensor, torch.Tensor]:
    """The learning curve's test clips: every word by the 32 test speakers, in noise (noise seed 1).

    Always the same bytes (fixed speakers and seeds); about two seconds to make.

    Returns
    -------
    waves : torch.Tensor, shape ``(256, 16000)``
    labels : torch.Tensor of int64, shape ``(256,)``
    """
    test, _ = speaker_split()
    return word_clips(test, seed=1)


def curve_train_clips(n_speakers: int = max(CURVE_SIZES)) -> tuple[torch.Tensor, torch.Tensor]:
    """Training clips of the first ``n_speakers`` pool speakers, in noise (noise seed 0).

    The 96-speaker set is made once and cut, so that the first ``8 n`` clips
    of it are exactly the clips of ``curve_train_clips(n)`` for every ``n``
    (nested training sets, identical clips).

    Returns
    -------
    waves : torch.Tensor, shape ``(8 n_speakers, 16000)``
        Speaker-major.
    labels : torch.Tensor of int64, shape ``(8 n_speakers,)``
    """
    n_speakers = check_positive_int(n_speakers, "n_speakers")
    _, pool = speaker_split()
    if n_speakers > len(pool):
        raise ValueError(f"the training pool holds {len(pool)} speakers, got n_speakers={n_speakers}")
    waves, labels = word_clips(pool[: max(CURVE_SIZES)], seed=0)
    k = n_speakers * len(WORDS)
    return waves[:k], labels[:k]


def _key(n_speakers: int, replica: int) -> str:
    return f"n{n_speakers}_r{replica}"


class CurveCNNs(nn.Module):
    """The CNNs of the learning curve: ``replicas`` :class:`KeywordCNN` per training size.

    Replica ``r`` of every size is trained with seed ``base_seed + r``
    (initialisation and shuffling), so the spread over replicas shows the
    training noise.

    Parameters
    ----------
    sizes : sequence of int
        Training speakers per curve point.
    replicas : int
        CNNs per point.

    Examples
    --------
    >>> curve = CurveCNNs((2, 4), replicas=1)
    >>> sorted(curve.models), curve.model(4, 0)(torch.zeros(1, 40, 101)).shape
    (['n2_r0', 'n4_r0'], torch.Size([1, 8]))
    """

    def __init__(self, sizes: Sequence[int] = CURVE_SIZES, replicas: int = 3) -> None:
        super().__init__()
        if isinstance(sizes, (int, str)) or not sizes:
            raise ValueError(f"sizes must be a non-empty sequence of ints, got {sizes!r}")
        self.sizes = tuple(check_positive_int(n, "size") for n in sizes)
        self.replicas = check_positive_int(replicas, "replicas")
        self.models = nn.ModuleDict({_key(n, r): KeywordCNN(len(WORDS))
                                     for n in self.sizes for r in range(self.replicas)})

    def model(self, n_speakers: int, replica: int = 0) -> KeywordCNN:
        """The CNN trained on the first ``n_speakers`` speakers (replica ``replica``)."""
        key = _key(n_speakers, replica)
        if key not in self.models:
            raise ValueError(f"no CNN for {n_speakers} speakers, replica {replica}; have {sorted(self.models)}")
        return self.models[key]

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        """Logits of every CNN: ``(B, n_mels, frames) -> (n_models, B, n_classes)``."""
        return torch.stack([m(feats) for m in self.models.values()])


def train_curve_cnns(train_waves: torch.Tensor, train_labels: torch.Tensor, sizes: Sequence[int] = CURVE_SIZES,
                     replicas: int = 3, config: CurveConfig = CurveConfig(), *, seed: int = 0,
                     progress: bool = False) -> CurveCNNs:
    """Train every CNN of the learning curve (the FULL recipe; tens of seconds of CPU per CNN).

    Parameters
    ----------
    train_waves, train_labels : torch.Tensor
        :func:`curve_train_clips` (speaker-major; the first ``8 n`` clips train size ``n``).
    sizes : sequence of int
    replicas : int
    config : CurveConfig
    seed : int
        Replica ``r`` trains with ``seed + r``.
    progress : bool
        Show a progress bar over the CNNs.

    Returns
    -------
    CurveCNNs
        In eval mode.
    """
    from tqdm.auto import tqdm

    train_waves = check_tensor(train_waves, "train_waves", ndim=2, floating=True)
    curve = CurveCNNs(sizes, replicas)
    if max(curve.sizes) * len(WORDS) > train_waves.shape[0]:
        raise ValueError(f"train_waves hold {train_waves.shape[0] // len(WORDS)} speakers, "
                         f"fewer than the largest size {max(curve.sizes)}")
    feats = keyword_log_mel(train_waves)
    jobs = [(n, r) for n in curve.sizes for r in range(curve.replicas)]
    for n, r in tqdm(jobs, desc="CNNs", disable=not progress):
        k = n * len(WORDS)
        model, _ = train_keyword_cnn(feats[:k], train_labels[:k], config, seed=seed + r)
        curve.models[_key(n, r)].load_state_dict(model.state_dict())
    return curve.eval()


@torch.no_grad()
def evaluate_curve_cnns(curve: CurveCNNs, test_waves: torch.Tensor, test_labels: torch.Tensor):
    """Test accuracy of every CNN of the curve.

    Returns
    -------
    pandas.DataFrame
        One row per CNN: ``n_speakers``, ``replica``, ``acc``.

    Examples
    --------
    >>> table = evaluate_curve_cnns(CurveCNNs((2,), 1), torch.zeros(8, 16000), torch.arange(8))
    >>> table.columns.tolist(), len(table)
    (['n_speakers', 'replica', 'acc'], 1)
    """
    import pandas as pd

    if not isinstance(curve, CurveCNNs):
        raise TypeError(f"curve must be a CurveCNNs, got {type(curve).__name__}")
    test_labels = check_tensor(test_labels, "test_labels", ndim=1)
    feats = keyword_log_mel(test_waves)
    if feats.shape[0] != test_labels.shape[0]:
        raise ValueError(f"test_labels must have one entry per clip ({feats.shape[0]}), got {test_labels.shape[0]}")
    was_training = curve.training
    curve.eval()
    rows = []
    for n in curve.sizes:
        for r in range(curve.replicas):
            pred = curve.model(n, r)(feats).argmax(-1)
            rows.append({"n_speakers": n, "replica": r, "acc": float((pred == test_labels).float().mean())})
    curve.train(was_training)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- checkpoint
def curve_figures(table) -> dict:
    """``{"acc_cnn_n2": mean accuracy over replicas, ...}`` from :func:`evaluate_curve_cnns`'s table.

    Examples
    --------
    >>> import pandas as pd
    >>> curve_figures(pd.DataFrame({"n_speakers": [2, 2], "replica": [0, 1], "acc": [0.5, 0.7]}))
    {'acc_cnn_n2': 0.6}
    """
    import pandas as pd

    if not isinstance(table, pd.DataFrame) or not {"n_speakers", "acc"} <= set(table.columns):
        raise TypeError(f"table must be a pandas.DataFrame with 'n_speakers' and 'acc' columns "
                        f"(from evaluate_curve_cnns), got {type(table).__name__}")  # fmt: skip
    mean = table.groupby("n_speakers").acc.mean()
    return {f"acc_cnn_n{int(n)}": round(float(a), 4) for n, a in mean.items()}


def features_checkpoint_recipe():
    """The checkpoint ``features_curve``: the learning curve's CNNs (6 sizes x 3 replicas).

    Made with ``course checkpoints features_curve`` (18 CNNs: many minutes of CPU);
    evaluated on the 32 test speakers (mean accuracy per size over the replicas,
    a few seconds).
    """
    from course_lib.tooling.checkpoints import CheckpointRecipe

    def train(seed: int):
        waves, labels = curve_train_clips()
        curve = train_curve_cnns(waves, labels, seed=seed, progress=True)
        return curve, curve_figures(evaluate_curve_cnns(curve, *curve_test_clips()))

    def evaluate(curve):
        return curve_figures(evaluate_curve_cnns(curve, *curve_test_clips()))

    return CheckpointRecipe(
        name="features_curve",
        description="06: KeywordCNN learning curve, 2-96 training speakers x 3 replicas, 8 words in noise",
        build=CurveCNNs,
        train=train,
        evaluate=evaluate,
        tolerance=0.02,
        half=False,
    )
