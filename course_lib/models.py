"""Small CNNs on log-mel features for sound classification and keyword spotting.

A clip is turned into log-mel features ``(n_mels, frames)`` by a
:class:`FrontEnd` (wrapping :func:`course_lib.mel.log_mel`), and a batch
``(B, n_mels, frames)`` goes through an :class:`AudioCNN`:

* ``embed(x)``: the **encoder**. Input normalisation (BatchNorm over mel
  bands), a stack of conv blocks (3x3 conv, BatchNorm, ReLU, 2x2 max-pool;
  depthwise-separable after the first block when ``separable=True``) and a
  global average over frequency and time: ``(B, n_mels, frames) -> (B, D)``
  with ``D = channels[-1]``. Global pooling makes the encoder indifferent to
  where in the clip the sound or word sits, and to the clip length.
* ``head``: dropout and one linear layer, ``(B, D) -> (B, K)`` logits.

``forward(x) = head(embed(x))``. For transfer learning, build a new model
for the new task, copy a trained encoder into it with
:meth:`AudioCNN.load_encoder_from` and call :meth:`AudioCNN.freeze_encoder`:
its parameters stop learning and its BatchNorm statistics stay those of the
old task (the encoder is kept in eval mode even while the head trains).
:func:`few_shot_transfer` measures when that beats training from scratch.

Configs are frozen dataclasses: :class:`CNNConfig` (the model) and
:class:`FrontEnd` (the features). :data:`SOUND_CNN` and :data:`KWS_CNN` are
the configurations module 07 uses.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Mapping, Sequence

import operator

import pandas as pd
import torch
from torch import Tensor, nn

from course_lib.mel import log_mel
from course_lib.checks import check_positive_int, check_tensor

__all__ = [
    "FrontEnd",
    "CNNConfig",
    "SOUND_CNN",
    "KWS_CNN",
    "AudioCNN",
    "count_parameters",
    "dataset_features",
    "predict",
    "few_shot_transfer",
]


# --------------------------------------------------------------------------- features
@dataclass(frozen=True)
class FrontEnd:
    """Log-mel front end: how clips become ``(n_mels, frames)`` model inputs.

    Parameters
    ----------
    n_mels : int
        Mel bands.
    n_fft : int
        FFT size and window length in samples (400 = 25 ms at 16 kHz).
    hop_length : int
        Hop in samples (160 = 10 ms at 16 kHz).
    sample_rate : int
        In Hz.

    Examples
    --------
    >>> fe = FrontEnd(n_mels=40, hop_length=320)
    >>> fe(torch.zeros(3, 16000)).shape          # (B, time) -> (B, n_mels, frames)
    torch.Size([3, 40, 51])
    >>> fe.frames(16000)
    51
    """

    n_mels: int = 40
    n_fft: int = 400
    hop_length: int = 160
    sample_rate: int = 16000

    def __post_init__(self) -> None:
        for name in ("n_mels", "n_fft", "hop_length", "sample_rate"):
            check_positive_int(getattr(self, name), name)
        if self.hop_length > self.n_fft:
            raise ValueError(f"hop_length must be <= n_fft ({self.n_fft}), got {self.hop_length}")

    def frames(self, n_samples: int) -> int:
        """Frames of a clip of ``n_samples`` (centred STFT): ``1 + n_samples // hop_length``."""
        return 1 + check_positive_int(n_samples, "n_samples") // self.hop_length

    def __call__(self, waveform, *, batch_size: int = 512) -> Tensor:
        """``(..., time)`` audio -> ``(..., n_mels, frames)`` log-mel, computed in chunks of clips."""
        waveform = check_tensor(waveform, "waveform", min_ndim=1, floating=True)
        batch_size = check_positive_int(batch_size, "batch_size")
        kw = dict(sample_rate=self.sample_rate, n_fft=self.n_fft, hop_length=self.hop_length, n_mels=self.n_mels)
        if waveform.ndim == 1:
            return log_mel(waveform, **kw)
        flat = waveform.reshape(-1, waveform.shape[-1])  # (..., time) -> (N, time)
        with torch.no_grad():
            out = torch.cat([log_mel(flat[i : i + batch_size], **kw) for i in range(0, flat.shape[0], batch_size)])
        return out.reshape(*waveform.shape[:-1], *out.shape[-2:])


def dataset_features(dataset, indices: Sequence[int] | None = None, front_end: FrontEnd | None = None) -> tuple[Tensor, Tensor]:
    """Log-mel features and class targets of (part of) an audio dataset.

    Parameters
    ----------
    dataset : course_lib.data.corpus.AudioDataset or sequence of items
        Items are dicts with ``waveform`` ``(time,)`` and an int ``target``;
        clips of one dataset share their length (one second here).
    indices : sequence of int, optional
        Which items (all by default).
    front_end : FrontEnd, optional
        ``FrontEnd()`` by default.

    Returns
    -------
    X : Tensor, shape (N, n_mels, frames)
    y : Tensor of int64, shape (N,)

    Examples
    --------
    >>> items = [{"waveform": torch.zeros(8000), "target": 3}, {"waveform": torch.ones(8000), "target": 1}]
    >>> X, y = dataset_features(items, front_end=FrontEnd(n_mels=20))
    >>> X.shape, y.tolist()
    (torch.Size([2, 20, 51]), [3, 1])
    """
    from course_lib.data.corpus import collate_audio

    front_end = FrontEnd() if front_end is None else front_end
    if not isinstance(front_end, FrontEnd):
        raise TypeError(f"front_end must be a FrontEnd, got {type(front_end).__name__}")
    if isinstance(dataset, (str, bytes)) or not hasattr(dataset, "__getitem__") or not hasattr(dataset, "__len__"):
        raise TypeError(f"dataset must be an indexable dataset of items, got {type(dataset).__name__}")
    if indices is not None and (isinstance(indices, (str, bytes)) or not hasattr(indices, "__iter__")):
        raise TypeError(f"indices must be a sequence of int, got {type(indices).__name__}")
    if indices is not None:
        try:
            indices = [operator.index(i) for i in indices]
        except TypeError:
            raise TypeError("indices must be a sequence of int item positions") from None
    indices = range(len(dataset)) if indices is None else indices
    if len(indices) == 0:
        raise ValueError("indices is empty; expected at least one item")
    dataset_sr = getattr(dataset, "sample_rate", None)
    if dataset_sr is not None and dataset_sr != front_end.sample_rate:
        raise ValueError(f"dataset is sampled at {dataset_sr} Hz but the front end expects "
                         f"{front_end.sample_rate} Hz; resample the clips or use FrontEnd(sample_rate={dataset_sr})")  # fmt: skip
    items = [dataset[i] for i in indices]
    for item in items[:1]:
        item_sr = item.get("sample_rate") if isinstance(item, dict) else None
        if item_sr is not None and item_sr != front_end.sample_rate:
            raise ValueError(f"dataset items are sampled at {item_sr} Hz but the front end expects "
                             f"{front_end.sample_rate} Hz; resample the clips first")  # fmt: skip
    batch = collate_audio(items)
    if int(batch["lengths"].min()) != batch["waveform"].shape[-1]:
        raise ValueError("clips must all have the same length (pad or crop them first)")
    target = batch["target"]
    if not isinstance(target, Tensor) or target.ndim != 1:
        raise ValueError("items must carry integer class targets (not transcripts)")
    return front_end(batch["waveform"]), target


# --------------------------------------------------------------------------- the CNN
@dataclass(frozen=True)
class CNNConfig:
    """Shape of an :class:`AudioCNN`.

    Parameters
    ----------
    n_mels : int
        Mel bands of the input (the front end's ``n_mels``).
    n_classes : int
        Output classes ``K``.
    channels : tuple of int
        Output channels of each conv block; the embedding size is the last.
    separable : bool
        Depthwise-separable blocks after the first (a 3x3 per-channel conv and
        a 1x1 channel mix, about 8x fewer weights than a full 3x3 conv): the
        usual choice for keyword spotting on small devices.
    dropout : float
        Dropout before the linear head, in ``[0, 1)``.

    Examples
    --------
    >>> CNNConfig(n_classes=5).channels
    (16, 32, 64)
    >>> CNNConfig(channels=())
    Traceback (most recent call last):
    ...
    ValueError: channels must be a non-empty tuple of positive ints, got ()
    """

    n_mels: int = 40
    n_classes: int = 10
    channels: tuple[int, ...] = (16, 32, 64)
    separable: bool = False
    dropout: float = 0.1

    def __post_init__(self) -> None:
        check_positive_int(self.n_mels, "n_mels")
        check_positive_int(self.n_classes, "n_classes")
        if not isinstance(self.channels, tuple) or not self.channels or any(
            isinstance(c, bool) or not isinstance(c, int) or c <= 0 for c in self.channels
        ):
            raise ValueError(f"channels must be a non-empty tuple of positive ints, got {self.channels!r}")
        if not isinstance(self.separable, bool):
            raise TypeError(f"separable must be a bool, got {type(self.separable).__name__}")
        if isinstance(self.dropout, bool) or not isinstance(self.dropout, (int, float)) or not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be a number in [0, 1), got {self.dropout!r}")

    def with_classes(self, n_classes: int) -> "CNNConfig":
        """The same architecture with another number of classes (a new head)."""
        return replace(self, n_classes=n_classes)


#: Environmental sounds: 10 classes, full 3x3 convolutions.
SOUND_CNN = CNNConfig(n_mels=40, n_classes=10, channels=(16, 32, 64), separable=False, dropout=0.1)
#: Keyword spotting: 22 classes (commands, digits, unknown, silence). Four blocks starting narrow
#: (8 channels at full resolution) keep training cheap on a CPU; ``separable=True`` would save weights,
#: but depthwise convolutions are slow on CPUs.
KWS_CNN = CNNConfig(n_mels=40, n_classes=22, channels=(8, 16, 32, 64), separable=False, dropout=0.1)


def _block(c_in: int, c_out: int, separable: bool) -> nn.Sequential:
    if not separable:
        return nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)
        )
    return nn.Sequential(
        nn.Conv2d(c_in, c_in, 3, padding=1, groups=c_in, bias=False),  # depthwise: one 3x3 filter per channel
        nn.BatchNorm2d(c_in),
        nn.ReLU(inplace=True),
        nn.Conv2d(c_in, c_out, 1, bias=False),  # pointwise: mixes channels
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


class AudioCNN(nn.Module):
    """A small CNN classifier on log-mel features, split into encoder and head.

    Parameters
    ----------
    config : CNNConfig
    seed : int or None
        Seeds the initial weights without touching the global generator
        (``None`` draws from it).

    Attributes
    ----------
    encoder : nn.ModuleList
        The conv blocks (used by :meth:`embed`).
    head : nn.Sequential
        Dropout and ``Linear(D, K)``.
    embed_dim : int
        ``D = config.channels[-1]``.

    Examples
    --------
    >>> model = AudioCNN(SOUND_CNN)
    >>> x = torch.randn(4, 40, 101)                       # (B, n_mels, frames)
    >>> model.embed(x).shape, model(x).shape
    (torch.Size([4, 64]), torch.Size([4, 10]))
    >>> count_parameters(AudioCNN(SOUND_CNN)), count_parameters(AudioCNN(KWS_CNN))
    (24138, 26014)
    >>> count_parameters(AudioCNN(KWS_CNN).freeze_encoder(), trainable_only=True)  # the head only
    1430
    """

    def __init__(self, config: CNNConfig, *, seed: int | None = 0) -> None:
        super().__init__()
        if not isinstance(config, CNNConfig):
            raise TypeError(f"config must be a CNNConfig, got {type(config).__name__}")
        self.config = config
        self.embed_dim = config.channels[-1]
        self._frozen = False
        with torch.random.fork_rng(devices=[], enabled=seed is not None):
            if seed is not None:
                torch.manual_seed(seed)
            self.input_norm = nn.BatchNorm1d(config.n_mels)  # per-band scale of the log-mels
            blocks, c_in = [], 1
            for k, c_out in enumerate(config.channels):
                blocks.append(_block(c_in, c_out, config.separable and k > 0))
                c_in = c_out
            self.encoder = nn.ModuleList(blocks)
            self.head = nn.Sequential(nn.Dropout(config.dropout), nn.Linear(self.embed_dim, config.n_classes))

    def embed(self, x: Tensor) -> Tensor:
        """Encoder: ``(B, n_mels, frames)`` log-mels -> ``(B, D)`` clip embeddings."""
        x = check_tensor(x, "x", ndim=3, floating=True)
        if x.shape[1] != self.config.n_mels:
            raise ValueError(
                f"x must be (B, n_mels={self.config.n_mels}, frames), got shape {tuple(x.shape)}; "
                "check the front end's n_mels"
            )
        h = self.input_norm(x).unsqueeze(1)  # (B, M, T) -> (B, 1, M, T)
        for block in self.encoder:
            h = block(h)
            if min(h.shape[-2:]) >= 2:
                h = nn.functional.max_pool2d(h, 2)  # halve frequency and time
        return h.mean(dim=(-2, -1))  # global average: (B, C, M', T') -> (B, C)

    def forward(self, x: Tensor) -> Tensor:
        """``(B, n_mels, frames)`` -> ``(B, K)`` logits."""
        return self.head(self.embed(x))

    def encoder_modules(self) -> list[nn.Module]:
        """The modules :meth:`embed` uses (input norm and conv blocks)."""
        return [self.input_norm, self.encoder]

    def freeze_encoder(self) -> "AudioCNN":
        """Stop the encoder from learning: no gradients, BatchNorm statistics kept.

        Afterwards ``model.train()`` only puts the head in training mode.
        Returns the model.
        """
        for module in self.encoder_modules():
            module.requires_grad_(False)
            module.eval()
        self._frozen = True
        return self

    def train(self, mode: bool = True) -> "AudioCNN":
        """As ``nn.Module.train``, but a frozen encoder stays in eval mode."""
        super().train(mode)
        if self._frozen:
            for module in self.encoder_modules():
                module.eval()
        return self

    def load_encoder_from(self, other: "AudioCNN") -> "AudioCNN":
        """Copy the encoder weights (and BatchNorm statistics) of a trained model; returns self."""
        if not isinstance(other, AudioCNN):
            raise TypeError(f"other must be an AudioCNN, got {type(other).__name__}")
        mine, theirs = self.config, other.config
        if (mine.n_mels, mine.channels, mine.separable) != (theirs.n_mels, theirs.channels, theirs.separable):
            raise ValueError(
                "encoders differ: need the same n_mels, channels and separable, got "
                f"{(mine.n_mels, mine.channels, mine.separable)} and {(theirs.n_mels, theirs.channels, theirs.separable)}"
            )
        self.input_norm.load_state_dict(other.input_norm.state_dict())
        self.encoder.load_state_dict(other.encoder.state_dict())
        return self


def count_parameters(model: nn.Module, *, trainable_only: bool = False) -> int:
    """Number of parameters (weights and biases) of a model.

    Examples
    --------
    >>> count_parameters(nn.Linear(10, 3))
    33
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def predict(model: nn.Module, X: Tensor, *, batch_size: int = 512) -> Tensor:
    """Predicted classes of a classifier, in eval mode and without gradients, in chunks of clips.

    Parameters
    ----------
    model : nn.Module
        Maps ``(B, ...)`` inputs to ``(B, K)`` logits (an :class:`AudioCNN` on ``(B, n_mels, frames)``).
    X : torch.Tensor, shape (N, ...)
    batch_size : int
        Clips per forward pass.

    Returns
    -------
    torch.Tensor of int64, shape (N,)
        ``argmax`` of the logits. The model is left in eval mode.

    Examples
    --------
    >>> predict(nn.Linear(3, 2), torch.eye(3)).shape
    torch.Size([3])
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    X = check_tensor(X, "X", min_ndim=2, floating=True)
    batch_size = check_positive_int(batch_size, "batch_size")
    model.eval()
    with torch.no_grad():
        return torch.cat([model(X[i : i + batch_size]).argmax(-1) for i in range(0, X.shape[0], batch_size)])


def few_shot_transfer(
    train: tuple[Tensor, Tensor],
    test: tuple[Tensor, Tensor],
    encoders: Mapping[str, AudioCNN | None],
    train_config,
    *,
    shots: Sequence[int] = (5, 20),
    draws: int = 3,
    config: CNNConfig = KWS_CNN,
    seed: int = 0,
    progress: bool = False,
) -> pd.DataFrame:
    """Few labels: heads on frozen encoders against whole networks trained from scratch, over several draws.

    For each number of labelled clips per class in ``shots`` and each draw,
    ``shots`` clips per class are drawn from ``train`` (the same clips for
    every model of the draw), and each entry of ``encoders`` is trained on them:

    * ``None``: an :class:`AudioCNN` of ``config`` (with ``K`` classes) trained
      from scratch, every weight;
    * a trained :class:`AudioCNN`: its encoder copied and frozen
      (:meth:`AudioCNN.freeze_encoder`), a new linear head trained. The frozen
      encoder's embeddings are computed once (it is in eval mode, so they never
      change) and the head trains on them: the same result as training the
      whole frozen model, far cheaper.

    Parameters
    ----------
    train, test : (X, y)
        Features ``(N, n_mels, frames)`` and targets in ``[0, K)``.
    encoders : mapping of str to AudioCNN or None
        Model name -> encoder to freeze (``None``: from scratch).
    train_config : course_lib.training.TrainConfig
        Settings of every training (epochs, learning rate...).
    shots : sequence of int
        Labelled clips per class.
    draws : int
        Independent draws of the labelled clips per ``shots`` (the spread
        across draws shows how much the result depends on which few clips).
    config : CNNConfig
        The scratch network's architecture.
    seed : int
        Seeds the draws and the new weights.
    progress : bool
        A tqdm bar over the draws.

    Returns
    -------
    pandas.DataFrame
        One row per (shots, draw, model): ``labels_per_class``, ``draw``,
        ``model``, ``trainable_params``, ``accuracy`` (on ``test``).

    Examples
    --------
    >>> from course_lib.training import TrainConfig
    >>> g = torch.Generator().manual_seed(0)
    >>> X, y = torch.randn(40, 8, 9, generator=g), torch.arange(40) % 2
    >>> X[y == 1, :3] += 3.0
    >>> enc = AudioCNN(CNNConfig(n_mels=8, n_classes=2, channels=(4,)))
    >>> t = few_shot_transfer((X, y), (X, y), {"scratch": None, "frozen": enc}, TrainConfig(epochs=3, batch_size=4),
    ...                       shots=(2,), draws=2, config=CNNConfig(n_mels=8, n_classes=2, channels=(4,)))
    >>> t[["labels_per_class", "draw", "model", "trainable_params"]].values.tolist()
    [[2, 0, 'scratch', 70], [2, 0, 'frozen', 10], [2, 1, 'scratch', 70], [2, 1, 'frozen', 10]]
    """
    from course_lib.metrics import accuracy
    from course_lib.training import train_classifier

    if not isinstance(train, (tuple, list)) or len(train) != 2:
        raise TypeError(f"train must be a tuple (X, y), got {type(train).__name__}")
    X, y = train
    X = check_tensor(X, "train X", ndim=3, floating=True)
    if not isinstance(test, (tuple, list)) or len(test) != 2:
        raise TypeError(f"test must be a tuple (X, y), got {type(test).__name__}")
    Xt, yt = test
    n_classes = int(max(int(y.max()), int(yt.max()))) + 1
    draws = check_positive_int(draws, "draws")
    if isinstance(shots, (int, str)) or not shots:
        raise ValueError(f"shots must be a non-empty sequence of ints, got {shots!r}")
    for k in range(n_classes):
        if int((y == k).sum()) < max(shots):
            raise ValueError(f"class {k} has {int((y == k).sum())} training clips, fewer than shots={max(shots)}")
    if not isinstance(encoders, Mapping) or not encoders:
        raise ValueError("encoders must map model names to a trained AudioCNN or None (scratch)")
    frozen = {}
    for name, enc in encoders.items():
        if enc is None:
            continue
        if not isinstance(enc, AudioCNN):
            raise TypeError(f"encoders[{name!r}] must be an AudioCNN or None, got {type(enc).__name__}")
        enc.eval()
        with torch.no_grad():
            frozen[name] = (torch.cat([enc.embed(X[i : i + 512]) for i in range(0, X.shape[0], 512)]),
                            torch.cat([enc.embed(Xt[i : i + 512]) for i in range(0, Xt.shape[0], 512)]))  # fmt: skip
    jobs = [(s, d) for s in shots for d in range(draws)]
    if progress:
        from tqdm.auto import tqdm

        jobs = tqdm(jobs, desc="few-shot draws")
    rows = []
    for s, d in jobs:
        g = torch.Generator().manual_seed(seed * 100_003 + 1000 * s + d)
        pick = torch.cat([torch.nonzero(y == k).flatten()[torch.randperm(int((y == k).sum()), generator=g)[:s]]
                          for k in range(n_classes)])  # fmt: skip
        for name, enc in encoders.items():
            if enc is None:
                model = AudioCNN(config.with_classes(n_classes), seed=seed)
                train_classifier(model, (X[pick], y[pick]), None, train_config, measure_train=False)
                acc = accuracy(yt, predict(model, Xt))
            else:
                model = AudioCNN(enc.config.with_classes(n_classes), seed=seed).load_encoder_from(enc).freeze_encoder()
                E, Et = frozen[name]  # (N, D) embeddings of the frozen encoder
                train_classifier(model.head, (E[pick], y[pick]), None, train_config, measure_train=False)
                acc = accuracy(yt, predict(model.head, Et))
            rows.append({"labels_per_class": int(s), "draw": d, "model": name,
                         "trainable_params": count_parameters(model, trainable_only=True), "accuracy": acc})  # fmt: skip
    return pd.DataFrame(rows)
