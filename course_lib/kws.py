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

Module 07's experiments, as one recipe for FULL, FAST and the checkpoints:

* :func:`kws_data`: the keyword corpus as features, split by speaker with the
  course's default speaker split (:func:`speaker_parts`), with the clean
  training clips and their simulated noisy/reverberant copies;
  :meth:`KWSData.run_data` gives each run of :data:`KWS_RUNS` its training
  set and augmentation, :func:`train_kws_run` trains it.
* :func:`command_task` / :func:`digit_task`: the commands task the transfer
  encoder learns (no digit labels) and the digits task it transfers to
  (with :func:`course_lib.models.few_shot_transfer`).
* :func:`sound_splits`: the environmental-sound clips for training and testing.
* Checkpoint recipes (``course checkpoints kws kws_clean kws_specaug kws_sim
  kws_commands sound``): trained on the FULL corpus, evaluated on data the
  FAST corpus holds that training never touched. Keywords: every clip of the
  FAST corpus by a *held-out* speaker (the dev and test speakers of the
  default split; training never sees their clips and no choice is made on
  them: runs train a fixed number of epochs). Sounds: the FAST corpus is the
  first 400 clips of the FULL one, so FULL training leaves those out and the
  checkpoint is scored on all 400.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn

from course_lib.augment import add_noise, add_reverb, spec_augment
from course_lib.checks import check_float, check_positive_int, check_sample_rate, check_tensor
from course_lib.data.text import COMMANDS, DIGITS
from course_lib.metrics import per_slice_accuracy
from course_lib.models import KWS_CNN, SOUND_CNN, AudioCNN, CNNConfig, FrontEnd, predict
from course_lib.training import History, TrainConfig, train_classifier

__all__ = [
    "build_noise_bank",
    "simulate_conditions",
    "spec_augment_transform",
    "KWSResult",
    "fit_and_score",
    "KWS_FRONT_END",
    "KWS_RUNS",
    "RUN_CHECKPOINTS",
    "COMMAND_CLASSES",
    "kws_train_config",
    "speaker_parts",
    "KWSData",
    "kws_data",
    "train_kws_run",
    "command_task",
    "digit_task",
    "train_commands_encoder",
    "few_shot_config",
    "few_shot_summary",
    "sound_splits",
    "sound_train_config",
    "train_sound_model",
    "kws_heldout",
    "sound_heldout",
    "load_trained",
    "evaluate_kws",
    "evaluate_commands",
    "evaluate_sound",
    "kws_checkpoint_recipe",
    "kws_clean_checkpoint_recipe",
    "kws_specaug_checkpoint_recipe",
    "kws_sim_checkpoint_recipe",
    "kws_commands_checkpoint_recipe",
    "sound_checkpoint_recipe",
]


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
    sample_rate = check_sample_rate(sample_rate)
    seconds = check_float(seconds, "seconds", min_value=0.0, min_inclusive=False)
    n = int(round(seconds * sample_rate))
    check_positive_int(n, "seconds * sample_rate")
    if not hasattr(sounds, "metadata") or not hasattr(sounds, "__getitem__"):
        raise TypeError(f"sounds must be the sound dataset (items with 'waveform', a metadata table), "
                        f"got {type(sounds).__name__}")  # fmt: skip
    sounds_sr = getattr(sounds, "sample_rate", None)
    if sounds_sr is not None and sounds_sr != sample_rate:
        raise ValueError(f"sounds is sampled at {sounds_sr} Hz but sample_rate is {sample_rate} Hz; "
                         f"resample the dataset or pass sample_rate={sounds_sr}")  # fmt: skip
    if isinstance(sound_names, str) or not isinstance(sound_names, (list, tuple)):
        raise TypeError(f"sound_names must be a list or tuple of class names, got {type(sound_names).__name__}")
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


# --------------------------------------------------------------------------- module 07's experiments
#: Module 07's log-mel front end: 25 ms windows every 20 ms, ``(40, 51)`` per one-second clip.
KWS_FRONT_END = FrontEnd(n_mels=40, n_fft=400, hop_length=320)
#: The runs of the augmentation comparison: training data + augmentation (see :meth:`KWSData.run_data`).
KWS_RUNS: tuple[str, ...] = ("clean", "clean+specaug", "clean+sim+specaug", "multi+specaug")
#: The checkpoint of each run (``multi+specaug`` is the keyword spotter itself).
RUN_CHECKPOINTS: dict[str, str] = {"clean": "kws_clean", "clean+specaug": "kws_specaug",
                                   "clean+sim+specaug": "kws_sim", "multi+specaug": "kws"}  # fmt: skip
#: The commands task the transfer encoder learns: the 10 commands, ``unknown`` and ``silence`` (no digits).
COMMAND_CLASSES: tuple[str, ...] = COMMANDS + ("unknown", "silence")
_SPECAUG = dict(n_freq_masks=2, freq_mask_param=6, n_time_masks=2, time_mask_param=6)


def kws_train_config(fast: bool = False, *, seed: int = 0, epochs: int | None = None) -> TrainConfig:
    """The training settings of module 07's keyword runs (AdamW, cosine decay; 30 epochs in FULL, 8 in FAST).

    Examples
    --------
    >>> kws_train_config().epochs, kws_train_config(True).batch_size, kws_train_config(epochs=2).epochs
    (30, 32, 2)
    """
    if not isinstance(fast, bool):
        raise TypeError(f"fast must be a bool, got {type(fast).__name__}")
    epochs = (8 if fast else 30) if epochs is None else check_positive_int(epochs, "epochs")
    return TrainConfig(epochs=epochs, lr=3e-3, batch_size=32 if fast else 64, optimizer="adamw", weight_decay=1e-3,
                       seed=seed, schedule="cosine")  # fmt: skip


def speaker_parts(metadata: pd.DataFrame) -> dict[str, np.ndarray]:
    """Rows of each part of the course's default speaker split, plus ``heldout`` (dev and test speakers).

    Uses :func:`course_lib.data.splits.default_speaker_split` (a fixed 80/10/10
    split of the 128 speakers), so the FAST and FULL corpora agree on who is
    held out: a model trained on the FULL ``train`` speakers has never heard
    a ``heldout`` speaker of the FAST corpus.

    Parameters
    ----------
    metadata : pandas.DataFrame
        With a ``speaker`` column (``dataset.metadata``).

    Returns
    -------
    dict of str to numpy.ndarray
        Sorted int64 row positions for ``train``, ``dev``, ``test`` and ``heldout``.

    Examples
    --------
    >>> from course_lib.data.splits import default_speaker_split
    >>> spk = default_speaker_split()
    >>> meta = pd.DataFrame({"speaker": [spk["test"][0], spk["train"][0], spk["dev"][0]]})
    >>> {k: v.tolist() for k, v in speaker_parts(meta).items()}
    {'train': [1], 'dev': [2], 'test': [0], 'heldout': [0, 2]}
    """
    from course_lib.data.splits import default_speaker_split

    if not isinstance(metadata, pd.DataFrame) or "speaker" not in metadata.columns:
        raise TypeError("metadata must be a pandas DataFrame with a 'speaker' column (dataset.metadata)")
    spk = metadata["speaker"].astype(str).to_numpy()
    parts = {k: np.nonzero(np.isin(spk, v))[0].astype(np.int64) for k, v in default_speaker_split().items()}
    parts["heldout"] = np.union1d(parts["dev"], parts["test"]).astype(np.int64)
    return parts


@lru_cache(maxsize=2)
def _keyword_features(fast: bool):
    from course_lib.data.corpus import default_dataset

    dataset = default_dataset("keywords", fast=fast)
    parts = speaker_parts(dataset.metadata)
    X = KWS_FRONT_END(torch.stack([dataset[i]["waveform"] for i in range(len(dataset))]))  # (N, 40, 51)
    y = torch.tensor(dataset.metadata["target"].to_numpy(), dtype=torch.long)  # a copy (the column is read-only)
    return dataset, parts, X, y


@dataclass
class KWSData:
    """Module 07's keyword corpus as log-mel features, split by speaker (what :func:`kws_data` returns).

    Attributes
    ----------
    fast : bool
    dataset : course_lib.data.corpus.AudioDataset
    parts : dict of str to numpy.ndarray
        Row positions of ``train``, ``dev``, ``test``, ``heldout`` (:func:`speaker_parts`).
    train, dev, heldout : (X, y)
        Features ``(N, 40, 51)`` and targets ``(N,)`` (indices in ``KEYWORD_CLASSES``).
    heldout_slices : list of str
        Recording condition of each held-out clip.
    clean_waveforms, simulated_waveforms : torch.Tensor, shape (N_clean, 16000)
        The clean training clips, and a copy of each through a simulated room and noise
        (:func:`simulate_conditions`).
    clean, simulated : (X, y)
        Their features (same targets).
    noise_bank : list of torch.Tensor
        The noise recordings the simulation drew from (:func:`build_noise_bank`).
    """

    fast: bool
    dataset: object
    parts: dict
    train: tuple
    dev: tuple
    heldout: tuple
    heldout_slices: list
    clean_waveforms: Tensor
    simulated_waveforms: Tensor
    clean: tuple
    simulated: tuple
    noise_bank: list = field(repr=False, default_factory=list)

    def run_data(self, run: str) -> tuple[tuple[Tensor, Tensor], Callable | None]:
        """Training set and batch augmentation of one run of :data:`KWS_RUNS`.

        ``clean``: the clean training clips, no augmentation; ``clean+specaug``:
        the same with SpecAugment; ``clean+sim+specaug``: the clean clips plus
        their simulated copies, with SpecAugment; ``multi+specaug``: every
        training clip (the corpus' own mix of conditions), with SpecAugment.
        """
        if run not in KWS_RUNS:
            raise ValueError(f"run must be one of {KWS_RUNS}, got {run!r}")
        specaug = None if run == "clean" else spec_augment_transform(**_SPECAUG)
        if run in ("clean", "clean+specaug"):
            return self.clean, specaug
        if run == "clean+sim+specaug":
            return (torch.cat([self.clean[0], self.simulated[0]]), torch.cat([self.clean[1], self.simulated[1]])), specaug
        return self.train, specaug


@lru_cache(maxsize=2)
def kws_data(fast: bool = True, seed: int = 0) -> KWSData:
    """Module 07's keyword corpus (FAST or FULL), as features split by held-out speakers; cached per process.

    The split is the course's default speaker split (fixed, whatever ``seed``);
    ``seed`` draws the noise bank and the simulated conditions. Do not modify
    the tensors it returns (they are shared by later calls).

    Parameters
    ----------
    fast : bool
        The FAST (1200 clips) or FULL (8000 clips) keyword corpus.
    seed : int

    Returns
    -------
    KWSData
    """
    from course_lib.data.corpus import collate_audio, default_dataset

    if not isinstance(fast, bool):
        raise TypeError(f"fast must be a bool, got {type(fast).__name__}")
    dataset, parts, X, y = _keyword_features(fast)
    meta = dataset.metadata
    train_spk = set(meta["speaker"].iloc[parts["train"]])
    fast_meta = _keyword_features(True)[0].metadata if not fast else meta
    fast_heldout = set(fast_meta["speaker"].iloc[speaker_parts(fast_meta)["heldout"]])
    assert not train_spk & fast_heldout, "training speakers must never be held-out speakers of the FAST corpus"
    clean_idx = parts["train"][meta["condition"].to_numpy()[parts["train"]] == "clean"]
    clean_w = torch.stack([dataset[int(i)]["waveform"] for i in clean_idx])
    talk = collate_audio([dataset[int(i)] for i in parts["train"][:24]])["waveform"]
    bank = build_noise_bank(talk, default_dataset("sounds", fast=fast), sample_rate=KWS_FRONT_END.sample_rate,
                            seed=seed)  # fmt: skip
    sim_w = simulate_conditions(clean_w, bank, generator=seed)
    y_clean = y[clean_idx]
    return KWSData(
        fast=fast, dataset=dataset, parts=parts,
        train=(X[parts["train"]], y[parts["train"]]), dev=(X[parts["dev"]], y[parts["dev"]]),
        heldout=(X[parts["heldout"]], y[parts["heldout"]]),
        heldout_slices=meta["condition"].iloc[parts["heldout"]].tolist(),
        clean_waveforms=clean_w, simulated_waveforms=sim_w,
        clean=(X[clean_idx], y_clean), simulated=(KWS_FRONT_END(sim_w), y_clean), noise_bank=bank,
    )  # fmt: skip


def train_kws_run(run: str, data: KWSData, config: TrainConfig | None = None, *, progress: bool = False) -> KWSResult:
    """Train ``KWS_CNN`` as one run of :data:`KWS_RUNS` and score it on the held-out speakers.

    A fixed number of epochs (no early stopping): the dev speakers are only
    watched (``history.dev_acc``), so they stay as unseen as the test speakers.
    """
    if not isinstance(data, KWSData):
        raise TypeError(f"data must be a KWSData (kws_data(...)), got {type(data).__name__}")
    config = kws_train_config(data.fast) if config is None else config
    train, transform = data.run_data(run)
    return fit_and_score(train, data.heldout, data.heldout_slices, KWS_CNN, config, dev=data.dev,
                         batch_transform=transform, progress=progress, measure_train=False)  # fmt: skip


def _task(X, y, classes: Sequence[str], name: str) -> tuple[Tensor, Tensor]:
    from course_lib.data.corpus import KEYWORD_CLASSES

    X = check_tensor(X, "X", min_ndim=2, floating=True)
    y = check_tensor(y, "y", ndim=1)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"X and y must hold the same clips, got {X.shape[0]} and {y.shape[0]}")
    if y.dtype != torch.long or int(y.min()) < 0 or int(y.max()) >= len(KEYWORD_CLASSES):
        raise ValueError(f"y must be int64 indices in KEYWORD_CLASSES (0..{len(KEYWORD_CLASSES) - 1}) for {name}")
    remap = torch.full((len(KEYWORD_CLASSES),), -1, dtype=torch.long)
    remap[[KEYWORD_CLASSES.index(c) for c in classes]] = torch.arange(len(classes))
    new = remap[y]
    keep = new >= 0
    return X[keep], new[keep]


def command_task(X, y) -> tuple[Tensor, Tensor]:
    """The clips of the commands task and their targets in :data:`COMMAND_CLASSES` (digits dropped).

    Examples
    --------
    >>> from course_lib.data.corpus import KEYWORD_CLASSES
    >>> y = torch.tensor([KEYWORD_CLASSES.index(w) for w in ("go", "seven", "silence")])
    >>> command_task(torch.zeros(3, 4, 5), y)[1].tolist()
    [9, 11]
    """
    return _task(X, y, COMMAND_CLASSES, "the commands task")


def digit_task(X, y) -> tuple[Tensor, Tensor]:
    """The digit clips and their digit (0-9) as target.

    Examples
    --------
    >>> from course_lib.data.corpus import KEYWORD_CLASSES
    >>> y = torch.tensor([KEYWORD_CLASSES.index(w) for w in ("go", "seven", "zero")])
    >>> digit_task(torch.zeros(3, 4, 5), y)[1].tolist()
    [7, 0]
    """
    return _task(X, y, DIGITS, "the digits task")


def train_commands_encoder(data: KWSData, config: TrainConfig | None = None, *, progress: bool = False) -> KWSResult:
    """Train ``KWS_CNN`` on the commands task (:data:`COMMAND_CLASSES`, no digit labels) with SpecAugment.

    Every training clip of a command, ``unknown`` or ``silence``; scored on the
    held-out speakers' command clips. Its encoder is what transfer starts from.
    """
    if not isinstance(data, KWSData):
        raise TypeError(f"data must be a KWSData (kws_data(...)), got {type(data).__name__}")
    config = kws_train_config(data.fast) if config is None else config
    heldout = command_task(*data.heldout)
    return fit_and_score(command_task(*data.train), heldout, ["commands"] * len(heldout[1]),
                         KWS_CNN.with_classes(len(COMMAND_CLASSES)), config, dev=command_task(*data.dev),
                         batch_transform=spec_augment_transform(**_SPECAUG), progress=progress,
                         measure_train=False)  # fmt: skip


def few_shot_config(fast: bool = False, *, seed: int = 0, epochs: int | None = None) -> TrainConfig:
    """Training settings of the few-shot heads and scratch networks (batches of 16; 60 epochs in FULL, 20 in FAST)."""
    if not isinstance(fast, bool):
        raise TypeError(f"fast must be a bool, got {type(fast).__name__}")
    epochs = (20 if fast else 60) if epochs is None else check_positive_int(epochs, "epochs")
    return TrainConfig(epochs=epochs, lr=3e-3, batch_size=16, optimizer="adamw", weight_decay=1e-3, seed=seed)


def few_shot_summary(results: pd.DataFrame, n_test: int, *, confidence: float = 0.95) -> pd.DataFrame:
    """Mean few-shot accuracy per (labels per class, model), its spread over draws and a Wilson interval.

    Parameters
    ----------
    results : pandas.DataFrame
        One row per (shots, draw, model) with ``labels_per_class``, ``model``,
        ``draw`` and ``accuracy``, as :func:`course_lib.models.few_shot_transfer` returns.
    n_test : int
        Test clips behind each accuracy.
    confidence : float
        Level of the interval.

    Returns
    -------
    pandas.DataFrame
        Index ``(labels_per_class, model)``; columns ``accuracy`` (mean over
        draws), ``min`` and ``max`` (over draws), ``draws``, and ``low``/``high``:
        the Wilson interval (:func:`course_lib.metrics.wilson_interval`) of the
        mean accuracy on ``n_test`` clips (the test set's sampling noise; the
        draw-to-draw spread is ``min``/``max``).

    Examples
    --------
    >>> r = pd.DataFrame({"labels_per_class": [5, 5], "draw": [0, 1], "model": ["a", "a"], "accuracy": [0.6, 0.8]})
    >>> few_shot_summary(r, 100).round(3).to_dict("records")
    [{'accuracy': 0.7, 'min': 0.6, 'max': 0.8, 'draws': 2, 'low': 0.604, 'high': 0.781}]
    """
    from course_lib.metrics import wilson_interval

    missing = {"labels_per_class", "model", "draw", "accuracy"} - set(getattr(results, "columns", []))
    if not isinstance(results, pd.DataFrame) or missing:
        raise ValueError(f"results must be few_shot_transfer's table; missing columns {sorted(missing)}")
    if results.empty:
        raise ValueError("results is empty: run few_shot_transfer with at least one draw")
    n_test = check_positive_int(n_test, "n_test")
    table = results.groupby(["labels_per_class", "model"], sort=False)["accuracy"].agg(
        accuracy="mean", min="min", max="max", draws="size")
    k = np.round(table["accuracy"].to_numpy() * n_test).astype(np.int64)  # the mean as correct clips
    table["low"], table["high"] = wilson_interval(k, np.full(len(k), n_test), confidence=confidence)
    return table.sort_index(level=0, sort_remaining=False)


@lru_cache(maxsize=2)
def sound_splits(fast: bool = True, seed: int = 0) -> dict[str, tuple[Tensor, Tensor]]:
    """The environmental sounds as ``(X, y)`` features to train on: ``train``, ``dev`` and ``test``; cached.

    FULL: ``train`` and ``dev`` (85/15, random) are the FULL clips that the
    FAST corpus does not hold, and ``test`` is :func:`sound_heldout` (the FAST
    corpus: the FULL corpus' first clips, never trained on). FAST: a random
    70/15/15 split of the FAST corpus (the smoke run). Sounds have no
    speakers, so random splits are fine.
    """
    from course_lib.data.corpus import default_dataset
    from course_lib.data.splits import random_split
    from course_lib.models import dataset_features

    small = default_dataset("sounds", fast=True)
    if fast:
        parts = random_split(small.metadata, (0.7, 0.15, 0.15), seed=seed)
        X, y = sound_heldout()  # the whole FAST corpus, as features
        return {k: (X[parts[k]], y[parts[k]]) for k in ("train", "dev", "test")}
    big = default_dataset("sounds", fast=False)
    pool = np.nonzero(~big.metadata["clip_id"].isin(set(small.metadata["clip_id"])).to_numpy())[0]
    parts = random_split(big.metadata.iloc[pool].reset_index(drop=True), (0.85, 0.15, 0.0), seed=seed)
    out = {k: dataset_features(big, pool[parts[k]], KWS_FRONT_END) for k in ("train", "dev")}
    out["test"] = sound_heldout()
    return out


def sound_train_config(fast: bool = False, *, seed: int = 0, epochs: int | None = None) -> TrainConfig:
    """Training settings of the sound CNN (AdamW, cosine decay, batches of 32; 34 epochs in FULL, 12 in FAST)."""
    if not isinstance(fast, bool):
        raise TypeError(f"fast must be a bool, got {type(fast).__name__}")
    epochs = (12 if fast else 34) if epochs is None else check_positive_int(epochs, "epochs")
    return TrainConfig(epochs=epochs, lr=3e-3, batch_size=32, optimizer="adamw", weight_decay=1e-3, seed=seed,
                       schedule="cosine")  # fmt: skip


def train_sound_model(splits: Mapping[str, tuple[Tensor, Tensor]], config: TrainConfig, *,
                      progress: bool = False) -> KWSResult:  # fmt: skip
    """Train ``SOUND_CNN`` on ``splits["train"]`` (``dev`` watched, fixed epochs), scored on ``splits["test"]``."""
    if not isinstance(splits, Mapping) or not {"train", "dev", "test"} <= set(splits):
        raise ValueError("splits must map 'train', 'dev' and 'test' to (X, y), as sound_splits(...) returns")
    return fit_and_score(splits["train"], splits["test"], ["all"] * len(splits["test"][1]), SOUND_CNN, config,
                         dev=splits["dev"], progress=progress, measure_train=False)  # fmt: skip


# --------------------------------------------------------------------------- checkpoints
@lru_cache(maxsize=1)
def kws_heldout() -> tuple[Tensor, Tensor, list]:
    """``(X, y, conditions)`` of every FAST keyword clip by a held-out speaker: what checkpoints are scored on."""
    dataset, parts, X, y = _keyword_features(True)
    return X[parts["heldout"]], y[parts["heldout"]], dataset.metadata["condition"].iloc[parts["heldout"]].tolist()


@lru_cache(maxsize=1)
def sound_heldout() -> tuple[Tensor, Tensor]:
    """``(X, y)`` of every clip of the FAST sound corpus (which FULL training leaves out)."""
    from course_lib.data.corpus import default_dataset
    from course_lib.models import dataset_features

    return dataset_features(default_dataset("sounds", fast=True), None, KWS_FRONT_END)


def load_trained(name: str) -> AudioCNN:
    """The trained model of checkpoint ``name`` (``kws``, ``kws_clean``... ``sound``), in eval mode.

    Builds today's architecture with the recipe's ``build`` and loads the
    committed weights into it (:func:`course_lib.tooling.checkpoints.load_checkpoint`).
    """
    from course_lib.tooling.checkpoints import get_recipe, load_checkpoint

    model = get_recipe(name).build()
    load_checkpoint(name, model)
    return model


def _figures(table: pd.DataFrame) -> dict:
    return {f"acc_{name}": round(float(acc), 4) for name, acc in table["accuracy"].items()}


def _check_model(model) -> None:
    """Before building any held-out data: a model is an ``nn.Module``."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a trained AudioCNN (torch.nn.Module), got {type(model).__name__}")


def evaluate_kws(model: AudioCNN) -> dict:
    """Per-condition accuracy of a 22-class keyword model on :func:`kws_heldout` (seconds)."""
    _check_model(model)
    X, y, slices = kws_heldout()
    return _figures(per_slice_accuracy(y, predict(model, X), slices))


def evaluate_commands(model: AudioCNN) -> dict:
    """Accuracy of a commands-task model (:data:`COMMAND_CLASSES`) on the command clips of :func:`kws_heldout`."""
    _check_model(model)
    X, y, _ = kws_heldout()
    Xc, yc = command_task(X, y)
    return {"acc_commands": round(float((predict(model, Xc) == yc).double().mean()), 4)}


def evaluate_sound(model: AudioCNN) -> dict:
    """Accuracy of a sound model on :func:`sound_heldout`."""
    _check_model(model)
    X, y = sound_heldout()
    return {"acc_all": round(float((predict(model, X) == y).double().mean()), 4)}


def _train_figures(result: KWSResult) -> dict:
    figures = {f"full_heldout_{k}": v for k, v in _figures(result.table).items()}
    return {**figures, "epochs": result.history.epochs, "train_s": round(result.train_s, 1)}


def _recipe(name: str, description: str, build: Callable, train: Callable, evaluate: Callable, tolerance: float):
    from course_lib.tooling.checkpoints import CheckpointRecipe

    return CheckpointRecipe(name=name, description=description, build=build, train=train, evaluate=evaluate,
                            tolerance=tolerance)  # fmt: skip


def _kws_recipe(run: str):
    def train(seed: int):
        result = train_kws_run(run, kws_data(False, seed), kws_train_config(False, seed=seed))
        return result.model, _train_figures(result)

    return _recipe(RUN_CHECKPOINTS[run], f"KWS_CNN keyword spotter, run {run!r} of module 07 (FULL training speakers)",
                   lambda: AudioCNN(KWS_CNN), train, evaluate_kws, 0.05)  # fmt: skip


def kws_checkpoint_recipe():
    """``kws``: the keyword spotter as trained in FULL (every training clip, mixed conditions, SpecAugment)."""
    return _kws_recipe("multi+specaug")


def kws_clean_checkpoint_recipe():
    """``kws_clean``: the same network trained on the clean training clips only (the augmentation baseline)."""
    return _kws_recipe("clean")


def kws_specaug_checkpoint_recipe():
    """``kws_specaug``: the clean training clips with SpecAugment."""
    return _kws_recipe("clean+specaug")


def kws_sim_checkpoint_recipe():
    """``kws_sim``: the clean training clips plus simulated rooms and noise, with SpecAugment."""
    return _kws_recipe("clean+sim+specaug")


def kws_commands_checkpoint_recipe():
    """``kws_commands``: the encoder transfer starts from, trained on the commands task (no digit labels)."""

    def train(seed: int):
        result = train_commands_encoder(kws_data(False, seed), kws_train_config(False, seed=seed))
        return result.model, _train_figures(result)

    return _recipe("kws_commands", "KWS_CNN on the commands task (commands, unknown, silence; no digits): "
                   "the transfer encoder", lambda: AudioCNN(KWS_CNN.with_classes(len(COMMAND_CLASSES))), train,
                   evaluate_commands, 0.05)  # fmt: skip


def sound_checkpoint_recipe():
    """``sound``: the environmental-sound CNN (trained on the FULL clips the FAST corpus does not hold)."""

    def train(seed: int):
        splits = sound_splits(False, seed)
        result = train_sound_model(splits, sound_train_config(False, seed=seed))
        return result.model, {**_train_figures(result), "train_clips": int(splits["train"][1].shape[0])}

    return _recipe("sound", "SOUND_CNN environmental-sound classifier of module 07 (10 classes)",
                   lambda: AudioCNN(SOUND_CNN), train, evaluate_sound, 0.03)  # fmt: skip
