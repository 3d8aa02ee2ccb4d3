"""Keyword-spotting recipe: multi-condition augmentation and one train-and-evaluate run.

Module 07 and ``benchmarks/kws.py`` run the same experiments; the steps they
share live here, built from the library's parts:

* :func:`simulate_conditions`: waveform augmentation for *multi-condition
  training*: random rooms (:func:`course_lib.augment.add_reverb`) and noise
  at a random SNR (:func:`course_lib.augment.add_noise`) drawn from a bank of
  noise recordings, so that a model trained on clean clips also hears noisy
  and far-field versions of them.
* :func:`spec_augment_transform`: a ``batch_transform`` for
  :func:`course_lib.training.train_classifier` that applies SpecAugment
  (:func:`course_lib.augment.spec_augment`) to each training batch.
* :func:`fit_and_score`: train an :class:`course_lib.models.AudioCNN` on
  log-mel features and report the per-slice accuracy on a test set
  (:func:`course_lib.metrics.per_slice_accuracy`).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Sequence

import pandas as pd
import torch
from torch import Tensor

from course_lib.augment import add_noise, add_reverb, spec_augment
from course_lib.checks import check_positive_int, check_tensor
from course_lib.metrics import per_slice_accuracy
from course_lib.models import AudioCNN, CNNConfig
from course_lib.training import History, TrainConfig, train_classifier

__all__ = ["build_noise_bank", "simulate_conditions", "spec_augment_transform", "KWSResult", "fit_and_score"]


def _generator(generator) -> torch.Generator:
    if isinstance(generator, torch.Generator):
        return generator
    if isinstance(generator, bool) or not isinstance(generator, int) or generator < 0:
        raise TypeError(f"generator must be a torch.Generator or a non-negative int seed, got {generator!r}")
    return torch.Generator().manual_seed(generator)


def _probability(p, name: str) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"{name} must be a probability in [0, 1], got {p!r}")
    return float(p)


def build_noise_bank(
    talkers: Tensor,
    sounds,
    *,
    sample_rate: int = 16000,
    seconds: float = 4.0,
    sound_names: Sequence[str] = ("engine", "rain", "siren", "wind"),
    seed: int = 0,
) -> list[Tensor]:
    """The noise recordings :func:`simulate_conditions` draws from in module 07 and its benchmark.

    Pink and white noise (``seconds`` long, seeded), three babbles (the mean
    of each third of ``talkers``), and the first clip of each class in
    ``sound_names`` from the environmental-sound dataset.

    Parameters
    ----------
    talkers : torch.Tensor, shape (N, time)
        Speech clips of *training* speakers, ``N`` divisible by 3 (e.g. 24: three 8-talker babbles).
    sounds : course_lib.data.corpus.AudioDataset
        The sound dataset (items with ``waveform``; ``metadata["label"]``).
    sample_rate : int
    seconds : float
    sound_names : sequence of str
    seed : int

    Returns
    -------
    list of torch.Tensor, each (time,)

    Examples
    --------
    >>> import pandas as pd
    >>> class Sounds:  # a stand-in for the sound dataset
    ...     metadata = pd.DataFrame({"label": ["rain", "siren", "rain"]})
    ...     def __getitem__(self, i):
    ...         return {"waveform": torch.full((100,), float(i))}
    >>> bank = build_noise_bank(torch.ones(6, 50), Sounds(), seconds=0.01, sound_names=("siren",))
    >>> [tuple(b.shape) for b in bank], float(bank[-1][0])
    ([(160,), (160,), (50,), (50,), (50,), (100,)], 1.0)
    """
    from course_lib.data.noise import pink_noise, white_noise

    talkers = check_tensor(talkers, "talkers", ndim=2, floating=True)
    if talkers.shape[0] % 3:
        raise ValueError(f"talkers must hold a multiple of 3 clips (three babbles), got {talkers.shape[0]}")
    n = int(round(seconds * sample_rate))
    check_positive_int(n, "seconds * sample_rate")
    labels = list(sounds.metadata["label"])
    missing = [name for name in sound_names if name not in labels]
    if missing:
        raise ValueError(f"sounds has no clips of {missing}; its classes are {sorted(set(labels))}")
    babbles = [g.sum(0) / g.shape[0] for g in talkers.chunk(3)]  # each: the mean of N/3 talkers
    return [pink_noise(n, seed=seed), white_noise(n, seed=seed), *babbles,
            *[sounds[labels.index(name)]["waveform"] for name in sound_names]]  # fmt: skip


def simulate_conditions(
    waveforms,
    noises: Sequence[Tensor],
    *,
    snr_db_range: tuple[float, float] = (0.0, 20.0),
    rt60_range: tuple[float, float] = (0.2, 0.9),
    p_reverb: float = 0.5,
    p_noise: float = 0.9,
    group: int = 16,
    generator,
) -> Tensor:
    """Noisy and reverberant copies of clean clips (multi-condition training data).

    Clips are processed in groups of ``group``: with probability
    ``p_reverb`` a group goes through one random room (RT60 drawn from
    ``rt60_range``), then with probability ``p_noise`` each clip gets a random
    excerpt of one noise recording from ``noises`` (one per group) at an SNR
    drawn per clip from ``snr_db_range``. Peaks above full scale are scaled
    back to 1.

    Parameters
    ----------
    waveforms : torch.Tensor, shape (N, time)
        Clean clips (non-silent).
    noises : sequence of torch.Tensor, each (noise_time,)
        Noise recordings (pink/white noise, babble, environmental sounds).
    snr_db_range, rt60_range : (float, float)
        In dB and seconds.
    p_reverb, p_noise : float
        Probabilities of a room (per group) and of noise (per clip).
    group : int
        Clips sharing a room and a noise recording.
    generator : torch.Generator or int

    Returns
    -------
    torch.Tensor, shape (N, time)

    Examples
    --------
    >>> from course_lib.data.noise import pink_noise
    >>> x = torch.sin(torch.arange(4000) * 0.1).repeat(4, 1)
    >>> y = simulate_conditions(x, [pink_noise(8000)], p_reverb=1.0, p_noise=1.0, generator=0)
    >>> y.shape, bool((y != x).all(-1).all()), float(y.abs().max()) <= 1.0
    (torch.Size([4, 4000]), True, True)
    """
    gen = _generator(generator)
    waveforms = check_tensor(waveforms, "waveforms", ndim=2, floating=True)
    if isinstance(noises, Tensor) or not isinstance(noises, Sequence) or len(noises) == 0:
        raise ValueError("noises must be a non-empty list of 1-D noise recordings")
    noises = [check_tensor(n, f"noises[{k}]", ndim=1, floating=True) for k, n in enumerate(noises)]
    p_reverb, p_noise = _probability(p_reverb, "p_reverb"), _probability(p_noise, "p_noise")
    group = check_positive_int(group, "group")
    out = []
    for start in range(0, waveforms.shape[0], group):
        x = waveforms[start : start + group]
        if float(torch.rand((), generator=gen)) < p_reverb:
            x, _ = add_reverb(x, rt60_range=rt60_range, generator=gen)
        noise = noises[int(torch.randint(len(noises), (), generator=gen))]
        noisy, _ = add_noise(x, noise, snr_db_range=snr_db_range, generator=gen)
        keep = torch.rand(x.shape[0], generator=gen) < p_noise  # (G,) which clips get noise
        x = torch.where(keep[:, None], noisy.to(x.dtype), x)
        peak = x.abs().amax(dim=-1, keepdim=True).clamp_min(1.0)
        out.append(x / peak)
    return torch.cat(out).to(waveforms.dtype)


def spec_augment_transform(
    n_freq_masks: int = 2, freq_mask_param: int = 6, n_time_masks: int = 2, time_mask_param: int = 6
) -> Callable[[Tensor, torch.Generator], Tensor]:
    """A ``batch_transform`` for :func:`course_lib.training.train_classifier` applying SpecAugment.

    Masked cells take each clip's mean (the neutral value of log-mel
    features). Widths are in mel bands and frames.

    Examples
    --------
    >>> t = spec_augment_transform(1, 4, 1, 4)
    >>> x = torch.randn(2, 40, 51)
    >>> y = t(x, torch.Generator().manual_seed(0))
    >>> y.shape, bool((y != x).any())
    (torch.Size([2, 40, 51]), True)
    """
    kw = dict(n_freq_masks=n_freq_masks, freq_mask_param=freq_mask_param,
              n_time_masks=n_time_masks, time_mask_param=time_mask_param)  # fmt: skip
    for name, value in kw.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a non-negative int, got {value!r}")

    def transform(xb: Tensor, generator: torch.Generator) -> Tensor:
        return spec_augment(xb, generator=generator, **kw)

    return transform


@dataclass
class KWSResult:
    """What :func:`fit_and_score` returns."""

    model: AudioCNN
    history: History
    table: pd.DataFrame  #: per-slice accuracy (``accuracy``, ``n``) with an ``all`` row
    predictions: Tensor  #: (N_test,) predicted classes
    train_s: float  #: wall-clock training time in seconds


def fit_and_score(
    train: tuple[Tensor, Tensor],
    test: tuple[Tensor, Tensor],
    test_slices: Sequence[str],
    config: CNNConfig,
    train_config: TrainConfig,
    *,
    dev: tuple[Tensor, Tensor] | None = None,
    batch_transform: Callable[[Tensor, torch.Generator], Tensor] | None = None,
    model: AudioCNN | None = None,
    callbacks: Sequence[Callable] = (),
    progress: bool = False,
    measure_train: bool = True,
) -> KWSResult:
    """Train an :class:`AudioCNN` on log-mel features and score it per test slice.

    Parameters
    ----------
    train, test : (X, y)
        Features ``(N, n_mels, frames)`` and targets ``(N,)``.
    test_slices : sequence of str
        The slice of each test clip (e.g. its recording condition).
    config : CNNConfig
        Used to build a fresh model (seeded by ``train_config.seed``) unless
        ``model`` is given.
    train_config : TrainConfig
    dev : (X, y), optional
        Measured every epoch.
    batch_transform : callable, optional
        Augmentation of training batches (:func:`spec_augment_transform`).
    model : AudioCNN, optional
        A prepared model (e.g. with a frozen, pretrained encoder).
    callbacks : sequence of callables
        Passed to :func:`course_lib.training.train_classifier` (e.g.
        :class:`course_lib.training.EarlyStopping` on ``dev``, which keeps the
        best epoch's weights).
    progress : bool
    measure_train : bool
        Passed to :func:`course_lib.training.train_classifier`; ``False``
        skips the per-epoch pass over the whole training set.

    Returns
    -------
    KWSResult

    Examples
    --------
    >>> g = torch.Generator().manual_seed(0)
    >>> X, y = torch.randn(32, 20, 11, generator=g), torch.arange(32) % 2
    >>> X[y == 1, :5] += 3.0                         # class 1: loud low bands
    >>> res = fit_and_score((X, y), (X, y), ["a"] * 32, CNNConfig(n_mels=20, n_classes=2, channels=(4,)),
    ...                     TrainConfig(epochs=15, lr=0.05, batch_size=8))
    >>> float(res.table.loc["all", "accuracy"]) > 0.9
    True
    """
    if model is None:
        if not isinstance(config, CNNConfig):
            raise TypeError(f"config must be a CNNConfig, got {type(config).__name__}")
        model = AudioCNN(config, seed=train_config.seed)
    start = time.perf_counter()
    history = train_classifier(model, train, dev, train_config, batch_transform=batch_transform,
                               callbacks=callbacks, progress=progress, measure_train=measure_train)
    train_s = time.perf_counter() - start
    X_test, y_test = test
    model.eval()
    with torch.no_grad():
        pred = torch.cat([model(X_test[i : i + 1024]).argmax(-1) for i in range(0, X_test.shape[0], 1024)])
    table = per_slice_accuracy(y_test, pred, list(test_slices))
    return KWSResult(model=model, history=history, table=table, predictions=pred, train_s=train_s)
