"""The minimal training loop of the course, and the checks that keep it honest.

* :class:`TrainConfig`, :func:`make_classifier`, :func:`train_classifier`,
  :func:`evaluate`: the classifier template (seeded, explicit shapes, gradient
  clipping, train and dev metrics every epoch, ``model.train()``/``eval()``
  handled). :class:`History` holds the per-epoch numbers;
  :class:`EarlyStopping` is a ready-made callback.
* :class:`Standardizer`: feature normalisation fitted on the training split
  only (scikit-learn style).
* :func:`overfit_check`: the tiny-batch overfit test. A healthy setup drives
  the loss of 8-32 examples to almost zero; a broken one gets a report that
  names the likely cause (frozen parameters, zero learning rate, detached
  loss, wrong loss wiring, labels that do not match inputs, random layers
  active in eval mode).
* :func:`gradient_norm` and :class:`RMSNorm` (a from-scratch twin of
  ``torch.nn.RMSNorm``).

Shapes: features ``(B, F)``, integer class targets ``(B,)``, logits ``(B, K)``.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from course_lib.checks import check_positive_int, check_tensor
from course_lib.optim import warmup_cosine_lr

__all__ = [
    "TrainConfig",
    "History",
    "EarlyStopping",
    "make_classifier",
    "train_classifier",
    "evaluate",
    "make_optimizer",
    "gradient_norm",
    "mean_std_pool",
    "Standardizer",
    "RMSNorm",
    "rms_norm",
    "OverfitReport",
    "OverfitError",
    "overfit_check",
]

LossFn = Callable[[Tensor, Tensor], Tensor]
_OPTIMIZERS = ("sgd", "momentum", "adam", "adamw")
_SCHEDULES = ("constant", "cosine")
_NORMS = ("layer", "batch", "rms", "none")


# --------------------------------------------------------------------------
# configuration and history
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class TrainConfig:
    """Everything :func:`train_classifier` needs besides the model and data.

    Parameters
    ----------
    epochs : int
        Passes over the training split.
    lr : float
        Learning rate (> 0).
    batch_size : int
        Examples per optimisation step (mini-batch size).
    optimizer : str
        ``"adam"``, ``"adamw"``, ``"sgd"`` (plain) or ``"momentum"`` (SGD with
        momentum 0.9); all from ``torch.optim``.
    weight_decay : float
        L2 penalty passed to the optimizer (decoupled for ``"adamw"``).
    clip_norm : float or None
        Clip the global gradient norm to this value; ``None`` disables it.
    seed : int
        Seeds shuffling, dropout and anything else random inside training.
    schedule : str
        ``"constant"`` keeps ``lr``; ``"cosine"`` warms up linearly over the
        first 5 % of the steps, then decays to 0 along a cosine at the last
        step (:func:`course_lib.optim.warmup_cosine_lr`).

    Examples
    --------
    >>> TrainConfig(epochs=3).lr
    0.01
    >>> TrainConfig(optimizer="lbfgs")
    Traceback (most recent call last):
    ...
    ValueError: optimizer must be one of ('sgd', 'momentum', 'adam', 'adamw'), got 'lbfgs'
    """

    epochs: int = 20
    lr: float = 1e-2
    batch_size: int = 64
    optimizer: str = "adam"
    weight_decay: float = 0.0
    clip_norm: float | None = 1.0
    seed: int = 0
    schedule: str = "constant"

    def __post_init__(self) -> None:
        check_positive_int(self.epochs, "epochs")
        check_positive_int(self.batch_size, "batch_size")
        _check_float(self.lr, "lr", positive=True)
        _check_float(self.weight_decay, "weight_decay", positive=False)
        if self.clip_norm is not None:
            _check_float(self.clip_norm, "clip_norm", positive=True)
        if self.optimizer not in _OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {_OPTIMIZERS}, got {self.optimizer!r}")
        if self.schedule not in _SCHEDULES:
            raise ValueError(f"schedule must be one of {_SCHEDULES}, got {self.schedule!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise TypeError(f"seed must be an int, got {type(self.seed).__name__}")


def _check_float(value, name: str, *, positive: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if positive and value <= 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    if not positive and value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return float(value)


@dataclass
class History:
    """Per-epoch metrics of one training run (one entry per finished epoch).

    ``train_*`` are measured after each epoch on the whole training split in
    eval mode (dropout off), so they compare directly with ``dev_*``. The
    ``dev_*`` lists stay empty when no dev split was given. ``grad_norm`` is
    the mean pre-clipping gradient norm of the epoch's steps.
    """

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    dev_loss: list[float] = field(default_factory=list)
    dev_acc: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    steps: int = 0

    @property
    def epochs(self) -> int:
        """Number of finished epochs."""
        return len(self.train_loss)

    def best_epoch(self, metric: str = "dev_loss") -> int:
        """Index of the best epoch for ``metric`` (min for losses, max for accuracies)."""
        values = getattr(self, metric, None)
        if not isinstance(values, list):
            raise ValueError(f"metric must be one of train_loss, train_acc, dev_loss, dev_acc; got {metric!r}")
        if not values:
            raise ValueError(f"history has no {metric} values (was a dev split given?)")
        pick = min if metric.endswith("loss") else max
        return values.index(pick(values))

    def to_frame(self):
        """The history as a pandas DataFrame, one row per epoch."""
        import pandas as pd

        n = self.epochs
        cols = {"epoch": list(range(1, n + 1)), "train_loss": self.train_loss, "train_acc": self.train_acc}
        if self.dev_loss:
            cols.update(dev_loss=self.dev_loss, dev_acc=self.dev_acc)
        cols["grad_norm"] = self.grad_norm
        return pd.DataFrame(cols)


class EarlyStopping:
    """Callback that stops training when a dev metric stops improving.

    Parameters
    ----------
    patience : int
        Epochs without improvement before stopping.
    metric : str
        ``"dev_loss"`` (minimised) or ``"dev_acc"`` (maximised).
    restore_best : bool
        Put the best epoch's weights back into the model when training ends.

    Attributes
    ----------
    best_epoch_ : int
        Index of the best epoch seen.
    stopped_epoch_ : int or None
        The epoch after which training stopped, ``None`` if it ran out of epochs.

    Examples
    --------
    >>> stop = EarlyStopping(patience=2)
    >>> h = History(dev_loss=[1.0, 0.5, 0.6, 0.7])
    >>> [stop(i, History(dev_loss=h.dev_loss[: i + 1]), nn.Linear(1, 1)) for i in range(4)]
    [False, False, False, True]
    >>> stop.best_epoch_
    1
    """

    def __init__(self, patience: int = 5, metric: str = "dev_loss", restore_best: bool = True):
        self.patience = check_positive_int(patience, "patience")
        if metric not in ("dev_loss", "dev_acc"):
            raise ValueError(f"metric must be 'dev_loss' or 'dev_acc', got {metric!r}")
        self.metric = metric
        self.restore_best = bool(restore_best)
        self.best_epoch_ = -1
        self.stopped_epoch_: int | None = None
        self._best_value: float | None = None
        self._best_state: dict | None = None

    def __call__(self, epoch: int, history: History, model: nn.Module) -> bool:
        values = getattr(history, self.metric)
        if not values:
            raise ValueError("EarlyStopping needs a dev split: pass dev=(X_dev, y_dev) to train_classifier")
        value = values[-1]
        better = (
            self._best_value is None
            or (value < self._best_value if self.metric == "dev_loss" else value > self._best_value)
        )
        if better:
            self._best_value, self.best_epoch_ = value, epoch
            if self.restore_best:
                self._best_state = copy.deepcopy(model.state_dict())
        if epoch - self.best_epoch_ >= self.patience:
            self.stopped_epoch_ = epoch
            return True
        return False

    def on_train_end(self, model: nn.Module, history: History) -> None:
        """Restore the best weights (called by :func:`train_classifier`)."""
        if self.restore_best and self._best_state is not None:
            model.load_state_dict(self._best_state)


# --------------------------------------------------------------------------
# the model template
# --------------------------------------------------------------------------

def make_classifier(
    in_features: int,
    hidden: int,
    n_classes: int,
    *,
    dropout: float = 0.0,
    norm: str = "layer",
    seed: int | None = 0,
) -> nn.Module:
    """The course's minimal classifier: Linear -> norm -> ReLU -> Dropout -> Linear.

    Parameters
    ----------
    in_features, hidden, n_classes : int
        Input features ``F``, hidden units and classes ``K``.
    dropout : float
        Dropout probability after the activation, in ``[0, 1)``.
    norm : str
        ``"layer"`` (LayerNorm), ``"batch"`` (BatchNorm1d), ``"rms"``
        (:class:`RMSNorm`) or ``"none"``.
    seed : int or None
        Seeds the initial weights (the global generator is left untouched);
        ``None`` draws from the global generator.

    Returns
    -------
    nn.Sequential
        Maps ``(B, F)`` features to ``(B, K)`` logits.

    Examples
    --------
    >>> model = make_classifier(10, 16, 3)
    >>> model(torch.zeros(4, 10)).shape
    torch.Size([4, 3])
    >>> bool((make_classifier(10, 16, 3)[0].weight == model[0].weight).all())
    True
    """
    in_features = check_positive_int(in_features, "in_features")
    hidden = check_positive_int(hidden, "hidden")
    n_classes = check_positive_int(n_classes, "n_classes")
    _check_float(dropout, "dropout", positive=False)
    if not dropout < 1:
        raise ValueError(f"dropout must lie in [0, 1), got {dropout}")
    if norm not in _NORMS:
        raise ValueError(f"norm must be one of {_NORMS}, got {norm!r}")

    def build() -> nn.Module:
        norm_layer = {
            "layer": lambda: nn.LayerNorm(hidden),
            "batch": lambda: nn.BatchNorm1d(hidden),
            "rms": lambda: RMSNorm(hidden),
            "none": nn.Identity,
        }[norm]()
        return nn.Sequential(
            nn.Linear(in_features, hidden),  # (B, F) -> (B, H)
            norm_layer,
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, n_classes),  # (B, H) -> (B, K)
        )

    if seed is None:
        return build()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build()


def make_optimizer(
    params: Iterable[nn.Parameter], name: str, lr: float, weight_decay: float = 0.0
) -> torch.optim.Optimizer:
    """Build a ``torch.optim`` optimizer by name (see :class:`TrainConfig`).

    Examples
    --------
    >>> type(make_optimizer(nn.Linear(2, 1).parameters(), "momentum", 0.1)).__name__
    'SGD'
    """
    if name not in _OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {_OPTIMIZERS}, got {name!r}")
    params = list(params)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=weight_decay)
    if name == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=weight_decay)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)


def _check_split(split, name: str) -> tuple[Tensor, Tensor]:
    if not isinstance(split, (tuple, list)) or len(split) != 2:
        raise TypeError(f"{name} must be a tuple (X, y), got {type(split).__name__}")
    X = check_tensor(split[0], f"{name} X", min_ndim=2, floating=True)
    y = check_tensor(split[1], f"{name} y", ndim=1)
    if y.is_floating_point() or y.dtype == torch.bool:
        raise TypeError(f"{name} y must hold integer class indices (torch.long), got {y.dtype}")
    if X.shape[0] != y.shape[0]:
        raise ValueError(
            f"{name} X and y must have the same number of examples, got {X.shape[0]} and {y.shape[0]}"
        )
    if int(y.min()) < 0:
        raise ValueError(f"{name} y must be class indices >= 0, got min {int(y.min())}")
    return X, y.long()


def _check_logits(logits: Tensor, y: Tensor) -> None:
    assert logits.ndim == 2 and logits.shape[0] == y.shape[0], (
        f"model must map (B, F) to (B, K) logits; got {tuple(logits.shape)} for {y.shape[0]} targets"
    )
    assert int(y.max()) < logits.shape[1], (
        f"target class {int(y.max())} out of range for {logits.shape[1]} logits"
    )


@torch.no_grad()
def evaluate(
    model: nn.Module, X: Tensor, y: Tensor, *, loss_fn: LossFn | None = None, batch_size: int = 4096
) -> dict:
    """Loss, accuracy and error rate of ``model`` on ``(X, y)``, in eval mode.

    The model's previous train/eval mode is restored afterwards.

    Parameters
    ----------
    model : nn.Module
        Maps ``(B, F)`` to ``(B, K)`` logits.
    X : Tensor, shape (N, F)
    y : Tensor, shape (N,)
        Integer class indices.
    loss_fn : callable, optional
        ``loss_fn(logits, y) -> scalar`` (mean over the batch);
        ``F.cross_entropy`` by default.
    batch_size : int
        Examples per forward pass.

    Returns
    -------
    dict
        ``{"loss": float, "acc": float, "error": float}``.

    Examples
    --------
    >>> model = make_classifier(4, 8, 2)
    >>> m = evaluate(model, torch.zeros(6, 4), torch.zeros(6, dtype=torch.long))
    >>> sorted(m), round(m["acc"] + m["error"], 6)
    (['acc', 'error', 'loss'], 1.0)
    """
    X, y = _check_split((X, y), "evaluate")
    batch_size = check_positive_int(batch_size, "batch_size")
    loss_fn = F.cross_entropy if loss_fn is None else loss_fn
    was_training = model.training
    model.eval()
    total_loss, correct = 0.0, 0
    try:
        for start in range(0, X.shape[0], batch_size):
            xb, yb = X[start : start + batch_size], y[start : start + batch_size]
            logits = model(xb)
            _check_logits(logits, yb)
            total_loss += float(loss_fn(logits, yb)) * yb.shape[0]
            correct += int((logits.argmax(dim=-1) == yb).sum())
    finally:
        model.train(was_training)
    n = X.shape[0]
    return {"loss": total_loss / n, "acc": correct / n, "error": 1.0 - correct / n}


def gradient_norm(model_or_params, norm_type: float = 2.0) -> float:
    """Global norm of the current gradients (what ``clip_grad_norm_`` measures).

    Parameters without a gradient are skipped; with none at all it returns 0.0.

    Examples
    --------
    >>> lin = nn.Linear(2, 1)
    >>> lin(torch.ones(1, 2)).sum().backward()
    >>> round(gradient_norm(lin), 4)  # grads: weight [1, 1], bias [1]
    1.7321
    """
    params = model_or_params.parameters() if isinstance(model_or_params, nn.Module) else model_or_params
    _check_float(norm_type, "norm_type", positive=True)
    grads = [p.grad.detach() for p in params if p.grad is not None]
    if not grads:
        return 0.0
    norms = torch.stack([torch.linalg.vector_norm(g, norm_type) for g in grads])
    return float(torch.linalg.vector_norm(norms, norm_type))


def train_classifier(
    model: nn.Module,
    train: tuple[Tensor, Tensor],
    dev: tuple[Tensor, Tensor] | None,
    config: TrainConfig,
    *,
    loss_fn: LossFn | None = None,
    callbacks: Sequence[Callable] = (),
    progress: bool = False,
    batch_transform: Callable[[Tensor, torch.Generator], Tensor] | None = None,
    measure_train: bool = True,
) -> History:
    """Train a classifier with mini-batches; measure train and dev every epoch.

    Each epoch shuffles the training split (seeded by ``config.seed``), takes
    one optimiser step per mini-batch with the gradient norm clipped to
    ``config.clip_norm``, then measures loss and accuracy on the whole train
    and dev splits in eval mode (:func:`evaluate`).

    Parameters
    ----------
    model : nn.Module
        Maps ``(B, F)`` features to ``(B, K)`` logits; trained in place.
    train : tuple of Tensor
        ``(X, y)`` with ``X`` of shape ``(N, F)`` (float) and ``y`` ``(N,)`` (long);
        ``X`` may have any rank ``(N, ...)`` (e.g. log-mels ``(N, n_mels, frames)``
        for a CNN) as long as the model maps ``(B, ...)`` to ``(B, K)``.
    dev : tuple of Tensor or None
        The dev split, same layout; ``None`` skips dev metrics.
    config : TrainConfig
    loss_fn : callable, optional
        ``loss_fn(logits, y) -> scalar``; ``F.cross_entropy`` by default.
    callbacks : sequence of callables
        Each is called as ``cb(epoch, history, model)`` after every epoch;
        a truthy return stops training. A callback with an ``on_train_end``
        method gets ``on_train_end(model, history)`` at the end
        (e.g. :class:`EarlyStopping` restores the best weights).
    progress : bool
        Show a tqdm bar over epochs.
    batch_transform : callable, optional
        ``batch_transform(xb, generator) -> xb`` applied to every *training*
        mini-batch before the forward pass (augmentation such as
        :func:`course_lib.augment.spec_augment`); never to the train/dev
        measurements. ``generator`` is a ``torch.Generator`` seeded from
        ``config.seed``, so augmented runs are reproducible. It must keep
        the batch's shape.
    measure_train : bool
        ``True`` (default): after every epoch, measure the whole training
        split in eval mode. ``False``: record instead the running mean of
        the epoch's mini-batch losses and accuracies (train mode, augmented
        batches, weights still changing) -- free, but biased; for long runs
        where a second pass over the training set would cost a third of the
        time.

    Returns
    -------
    History

    Examples
    --------
    >>> X = torch.randn(64, 5, generator=torch.Generator().manual_seed(0))
    >>> y = (X[:, 0] > 0).long()
    >>> h = train_classifier(make_classifier(5, 16, 2), (X, y), None, TrainConfig(epochs=30, lr=0.05))
    >>> h.epochs, h.train_acc[-1] > 0.9
    (30, True)
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    if not isinstance(measure_train, bool):
        raise TypeError(f"measure_train must be a bool, got {type(measure_train).__name__}")
    if batch_transform is not None and not callable(batch_transform):
        raise TypeError(f"batch_transform must be callable (xb, generator) -> xb, got {type(batch_transform).__name__}")
    X, y = _check_split(train, "train")
    dev_split = _check_split(dev, "dev") if dev is not None else None
    if dev_split is not None and dev_split[0].shape[1:] != X.shape[1:]:
        raise ValueError(
            f"dev X must have the feature shape of train X {tuple(X.shape[1:])}, got {tuple(dev_split[0].shape[1:])}"
        )
    loss_fn = F.cross_entropy if loss_fn is None else loss_fn
    trainable = [p for p in model.parameters() if p.requires_grad]
    if not trainable:
        raise ValueError("model has no trainable parameters (all requires_grad=False)")
    optimizer = make_optimizer(trainable, config.optimizer, config.lr, config.weight_decay)
    history = History()
    n = X.shape[0]
    total_steps = config.epochs * math.ceil(n / config.batch_size)
    warmup_steps = max(1, total_steps // 20)
    gen = torch.Generator().manual_seed(config.seed)
    aug_gen = torch.Generator().manual_seed(config.seed + 1)  # augmentation draws, apart from shuffling
    epochs = range(config.epochs)
    if progress:
        from tqdm.auto import tqdm

        epochs = tqdm(epochs, desc="epochs")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)  # dropout masks and other in-model randomness
        for epoch in epochs:
            model.train()
            order = torch.randperm(n, generator=gen)
            norms = []
            run_loss, run_correct = 0.0, 0
            for start in range(0, n, config.batch_size):
                idx = order[start : start + config.batch_size]
                xb, yb = X[idx], y[idx]
                if batch_transform is not None:
                    shape = xb.shape
                    xb = batch_transform(xb, aug_gen)
                    if not isinstance(xb, Tensor) or xb.shape != shape:
                        raise ValueError(
                            f"batch_transform must return a tensor of the batch's shape {tuple(shape)}, "
                            f"got {getattr(xb, 'shape', type(xb).__name__)}"
                        )
                logits = model(xb)
                _check_logits(logits, yb)
                loss = loss_fn(logits, yb)
                assert loss.ndim == 0, f"loss_fn must return a scalar, got shape {tuple(loss.shape)}"
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if config.schedule == "cosine" and total_steps > warmup_steps:
                    for group in optimizer.param_groups:
                        group["lr"] = warmup_cosine_lr(history.steps, config.lr, warmup_steps, total_steps)
                if config.clip_norm is not None:
                    norms.append(float(nn.utils.clip_grad_norm_(trainable, config.clip_norm)))
                else:
                    norms.append(gradient_norm(trainable))
                optimizer.step()
                history.steps += 1
                if not measure_train:
                    run_loss += float(loss.detach()) * len(idx)
                    run_correct += int((logits.detach().argmax(-1) == yb).sum())
            if measure_train:
                tr = evaluate(model, X, y, loss_fn=loss_fn)
            else:
                tr = {"loss": run_loss / n, "acc": run_correct / n}
            history.train_loss.append(tr["loss"])
            history.train_acc.append(tr["acc"])
            history.grad_norm.append(sum(norms) / len(norms))
            if dev_split is not None:
                dv = evaluate(model, *dev_split, loss_fn=loss_fn)
                history.dev_loss.append(dv["loss"])
                history.dev_acc.append(dv["acc"])
            if progress:
                epochs.set_postfix(train_loss=f"{tr['loss']:.3f}")
            stop = False
            for cb in callbacks:
                stop = bool(cb(epoch, history, model)) or stop
            if stop:
                break
    for cb in callbacks:
        if hasattr(cb, "on_train_end"):
            cb.on_train_end(model, history)
    model.eval()
    return history


# --------------------------------------------------------------------------
# normalisation
# --------------------------------------------------------------------------

def mean_std_pool(features: Tensor) -> Tensor:
    """Clip-level summary of frame features: each band's mean and std over time.

    Turns spectral features ``(..., n_mels, frames)`` into a fixed-size
    vector ``(..., 2 * n_mels)`` (means first, then standard deviations), the
    input of the minimal classifier template.

    Examples
    --------
    >>> x = torch.tensor([[[1.0, 3.0], [2.0, 2.0]]])  # (1, n_mels=2, frames=2)
    >>> mean_std_pool(x).tolist()
    [[2.0, 2.0, 1.0, 0.0]]
    """
    features = check_tensor(features, "features", min_ndim=2, floating=True)
    if features.shape[-1] < 2:
        raise ValueError(f"features must have at least 2 frames (last axis), got shape {tuple(features.shape)}")
    mean = features.mean(dim=-1)  # (..., n_mels, frames) -> (..., n_mels)
    std = features.std(dim=-1, unbiased=False)
    return torch.cat([mean, std], dim=-1)  # (..., 2 * n_mels)


class Standardizer:
    """Zero-mean, unit-variance features, with statistics from ``fit`` only.

    Fit it on the training split; apply the same ``mean_`` and ``std_`` to
    dev, test and serving inputs. Statistics are taken over every axis but
    the last (features), so ``(N, F)`` and ``(B, T, F)`` both work.

    Parameters
    ----------
    eps : float
        Floor on the standard deviation (constant features stay finite).

    Attributes
    ----------
    mean_, std_ : Tensor, shape (F,)

    Examples
    --------
    >>> s = Standardizer().fit(torch.tensor([[0.0, 10.0], [2.0, 30.0]]))
    >>> s.mean_.tolist(), s.std_.tolist()
    ([1.0, 20.0], [1.0, 10.0])
    >>> s.transform(torch.tensor([[1.0, 40.0]])).tolist()
    [[0.0, 2.0]]
    """

    def __init__(self, eps: float = 1e-8):
        self.eps = _check_float(eps, "eps", positive=True)

    def fit(self, X) -> "Standardizer":
        X = check_tensor(X, "X", min_ndim=2, floating=True)
        flat = X.reshape(-1, X.shape[-1])  # (..., F) -> (N, F)
        if flat.shape[0] < 2:
            raise ValueError(f"X must hold at least 2 examples to estimate a std, got shape {tuple(X.shape)}")
        self.mean_ = flat.mean(dim=0)
        self.std_ = flat.std(dim=0, unbiased=False).clamp_min(self.eps)
        return self

    def _check_fitted(self, X) -> Tensor:
        if not hasattr(self, "mean_"):
            raise RuntimeError("Standardizer is not fitted yet: call fit(X_train) first")
        X = check_tensor(X, "X", min_ndim=1, floating=True)
        if X.shape[-1] != self.mean_.shape[0]:
            raise ValueError(f"X must have {self.mean_.shape[0]} features (last axis), got shape {tuple(X.shape)}")
        return X

    def transform(self, X) -> Tensor:
        X = self._check_fitted(X)
        return (X - self.mean_.to(X.dtype)) / self.std_.to(X.dtype)

    def fit_transform(self, X) -> Tensor:
        return self.fit(X).transform(X)

    def inverse_transform(self, Z) -> Tensor:
        Z = self._check_fitted(Z)
        return Z * self.std_.to(Z.dtype) + self.mean_.to(Z.dtype)


def rms_norm(x: Tensor, normalized_shape: Sequence[int] | int, weight: Tensor | None = None, eps: float | None = None) -> Tensor:
    """Root-mean-square normalisation over the trailing ``normalized_shape`` axes.

    ``y = x / sqrt(mean(x**2) + eps) * weight``; no mean subtraction and no
    bias (unlike LayerNorm). ``eps=None`` uses ``torch.finfo(x.dtype).eps``
    like ``torch.nn.functional.rms_norm``.

    Examples
    --------
    >>> rms_norm(torch.tensor([[3.0, 4.0]]), 2, eps=0.0).mul(12.5 ** 0.5).round().tolist()  # rms = sqrt(12.5)
    [[3.0, 4.0]]
    """
    x = check_tensor(x, "x", min_ndim=1, floating=True)
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if tuple(x.shape[x.ndim - len(shape):]) != shape or len(shape) > x.ndim:
        raise ValueError(f"x must end with normalized_shape {shape}, got shape {tuple(x.shape)}")
    eps = torch.finfo(x.dtype).eps if eps is None else _check_float(eps, "eps", positive=False)
    dims = tuple(range(-len(shape), 0))
    y = x * torch.rsqrt(x.pow(2).mean(dim=dims, keepdim=True) + eps)
    return y if weight is None else y * weight


class RMSNorm(nn.Module):
    """RMSNorm layer with a learnable gain, equal to ``torch.nn.RMSNorm``.

    Parameters
    ----------
    normalized_shape : int or tuple of int
        The trailing axes to normalise over (usually the feature size).
    eps : float or None
        Added to the mean square; ``None`` uses the dtype's machine epsilon.
    elementwise_affine : bool
        Learn a per-feature gain (initialised to ones).

    Examples
    --------
    >>> norm = RMSNorm(4)
    >>> x = torch.randn(2, 3, 4, generator=torch.Generator().manual_seed(0))
    >>> torch.allclose(norm(x), nn.RMSNorm(4)(x), atol=1e-6)
    True
    """

    def __init__(self, normalized_shape: int | Sequence[int], eps: float | None = None, elementwise_affine: bool = True):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        for s in shape:
            check_positive_int(s, "normalized_shape")
        self.normalized_shape = shape
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(shape)) if elementwise_affine else None

    def forward(self, x: Tensor) -> Tensor:
        return rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.weight is not None}"


# --------------------------------------------------------------------------
# the tiny-batch overfit test
# --------------------------------------------------------------------------

class OverfitError(AssertionError):
    """Raised by :meth:`OverfitReport.raise_if_failed`."""


@dataclass
class OverfitReport:
    """What :func:`overfit_check` found.

    Attributes
    ----------
    passed : bool
        The setup memorised the tiny batch.
    cause : str
        ``"ok"`` or a short key: ``"no_trainable_parameters"``,
        ``"detached_loss"``, ``"no_gradients"``, ``"parameters_unchanged"``,
        ``"diverged"``, ``"nondeterministic_eval"``,
        ``"loss_accuracy_mismatch"``, ``"loss_stuck"``, ``"underfit"``.
    message : str
        A sentence that names the likely cause and what to check.
    losses, grad_norms : list of float
        Loss and pre-step gradient norm at every step.
    initial_loss, final_loss, final_acc : float
        Loss before training, and loss/accuracy after it (eval mode).
    param_change : float
        Relative change of the parameters, ``||theta_end - theta_0|| / ||theta_0||``.
    """

    passed: bool
    cause: str
    message: str
    losses: list[float] = field(default_factory=list)
    grad_norms: list[float] = field(default_factory=list)
    initial_loss: float = float("nan")
    final_loss: float = float("nan")
    final_acc: float = float("nan")
    param_change: float = 0.0

    def __str__(self) -> str:
        return ("PASS: " if self.passed else "FAIL: ") + self.message

    def raise_if_failed(self) -> "OverfitReport":
        """Raise :class:`OverfitError` with the message when the check failed."""
        if not self.passed:
            raise OverfitError(self.message)
        return self


def _flat_params(params: list[Tensor]) -> Tensor:
    return torch.cat([p.detach().reshape(-1).clone() for p in params]) if params else torch.zeros(0)


def overfit_check(
    model,
    batch,
    *,
    steps: int = 200,
    lr: float = 1e-2,
    loss_fn: LossFn | None = None,
    optimizer: str | Callable = "adam",
    target_loss: float = 0.05,
    seed: int = 0,
) -> OverfitReport:
    """The tiny-batch overfit test: can this setup memorise a handful of examples?

    Trains ``model`` for ``steps`` full-batch steps on 8-32 examples and
    checks, in order: that there are trainable parameters, that the loss has
    a ``grad_fn`` and gradients arrive, that the parameters move, that the
    loss stays finite, that the model is deterministic in eval mode, that the
    loss reaches ``target_loss`` and the eval-mode accuracy reaches 100 %,
    and that loss and accuracy agree. The first failed check names the likely
    cause in the report's ``message``.

    Parameters
    ----------
    model : nn.Module or callable
        The model, or a zero-argument function that builds it.
    batch : tuple (X, y) or callable
        The tiny batch, ``X`` of shape ``(B, ...)`` and ``y`` of shape ``(B,)``;
        or a function ``step -> (X, y)`` standing in for a data pipeline (it is
        called at every step, so a pipeline that shuffles inputs and labels
        separately is caught).
    steps : int
        Optimisation steps.
    lr : float
        Learning rate (>= 0; 0 is allowed so that it can be diagnosed).
    loss_fn : callable, optional
        ``loss_fn(logits, y) -> scalar``; ``F.cross_entropy`` by default.
    optimizer : str or callable
        A name for :func:`make_optimizer`, or ``f(params, lr) -> Optimizer``.
    target_loss : float
        The loss the batch must reach.
    seed : int
        Seeds in-model randomness (dropout) during the check.

    Returns
    -------
    OverfitReport
        Call ``.raise_if_failed()`` to turn a failure into an exception.

    Examples
    --------
    >>> g = torch.Generator().manual_seed(0)
    >>> X, y = torch.randn(16, 8, generator=g), torch.randint(0, 3, (16,), generator=g)
    >>> overfit_check(make_classifier(8, 32, 3), (X, y), steps=100).passed
    True
    >>> frozen = make_classifier(8, 32, 3).requires_grad_(False)
    >>> overfit_check(frozen, (X, y)).cause
    'no_trainable_parameters'
    """
    if not isinstance(model, nn.Module):
        if not callable(model):
            raise TypeError(f"model must be an nn.Module or a function that builds one, got {type(model).__name__}")
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = model()
        if not isinstance(model, nn.Module):
            raise TypeError(f"model function must return an nn.Module, got {type(model).__name__}")
    steps = check_positive_int(steps, "steps")
    lr = _check_float(lr, "lr", positive=False)
    target_loss = _check_float(target_loss, "target_loss", positive=True)
    loss_fn = F.cross_entropy if loss_fn is None else loss_fn
    get_batch = batch if callable(batch) else (lambda step: batch)
    X0, y0 = _check_split(get_batch(0), "batch")
    if not 1 <= X0.shape[0] <= 256:
        raise ValueError(f"batch must be tiny (8-32 examples is typical, at most 256), got {X0.shape[0]}")

    def report(passed, cause, message, **kw) -> OverfitReport:
        return OverfitReport(passed, cause, message, losses=losses, grad_norms=grad_norms, **kw)

    losses: list[float] = []
    grad_norms: list[float] = []
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        n_all = sum(1 for _ in model.parameters())
        return report(
            False, "no_trainable_parameters",
            f"no trainable parameters: all {n_all} parameter tensors have requires_grad=False "
            "(frozen by requires_grad_(False), or a freeze meant for a backbone hit the whole model)",
        )
    if isinstance(optimizer, str):
        opt = make_optimizer(params, optimizer, lr if lr > 0 else 0.0)
    else:
        opt = optimizer(params, lr)
    theta0 = _flat_params(params)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for step in range(steps):
            model.train()
            X, y = _check_split(get_batch(step), "batch")
            logits = model(X)
            _check_logits(logits, y)
            loss = loss_fn(logits, y)
            if not isinstance(loss, Tensor) or loss.ndim != 0:
                raise TypeError(f"loss_fn must return a scalar tensor, got {type(loss).__name__}")
            if loss.grad_fn is None:
                return report(
                    False, "detached_loss",
                    "loss has no grad_fn: it is detached from the parameters, so backward() cannot reach them "
                    "(a .detach()/.item()/numpy round trip, torch.no_grad() around the forward pass, "
                    "or a loss computed from argmax'd logits or hard predictions)",
                    initial_loss=float(loss),
                )
            losses.append(float(loss.detach()))
            if not math.isfinite(losses[-1]):
                return report(
                    False, "diverged",
                    f"loss became {losses[-1]} at step {step}: the learning rate is too high, or the loss "
                    "takes log of 0 (use logits with F.cross_entropy, not log(softmax))",
                    initial_loss=losses[0],
                )
            opt.zero_grad(set_to_none=True)
            loss.backward()
            missing = sum(1 for p in params if p.grad is None)
            if missing == len(params):
                return report(
                    False, "no_gradients",
                    "no parameter received a gradient (grads are None): the loss does not depend on the "
                    "trainable parameters; check that the model's output reaches the loss",
                    initial_loss=losses[0],
                )
            grad_norms.append(gradient_norm(params))
            opt.step()

    theta1 = _flat_params(params)
    change = float(torch.linalg.vector_norm(theta1 - theta0) / torch.linalg.vector_norm(theta0).clamp_min(1e-12))
    model.eval()
    with torch.no_grad():
        out_a, out_b = model(X0), model(X0)
        final_loss = float(loss_fn(out_a, y0))
        final_acc = float((out_a.argmax(dim=-1) == y0).float().mean())
    model.train()
    common = dict(initial_loss=losses[0], final_loss=final_loss, final_acc=final_acc, param_change=change)
    max_grad = max(grad_norms) if grad_norms else 0.0
    if change == 0.0:
        if max_grad == 0.0:
            msg = ("parameters did not change and every gradient is zero: the loss is flat in the parameters "
                   "(dead activations, a constant loss, or targets that the loss ignores)")
        else:
            msg = (f"parameters did not change although gradients are non-zero (max norm {max_grad:.3g}): "
                   f"the learning rate is zero (lr={lr}) or the optimizer holds other parameters than the model's")
        return report(False, "parameters_unchanged", msg, **common)
    if not math.isfinite(final_loss):
        return report(False, "diverged", f"final loss is {final_loss}: lower the learning rate", **common)
    if not torch.allclose(out_a, out_b):
        return report(
            False, "nondeterministic_eval",
            "the model gives different outputs for the same input in eval mode: a random layer ignores "
            "model.eval() (e.g. F.dropout(x, p) without training=self.training, or noise added unconditionally)",
            **common,
        )
    reached = final_loss <= target_loss
    if final_acc == 1.0 and reached:
        return report(
            True, "ok",
            f"memorised {X0.shape[0]} examples: loss {losses[0]:.3g} -> {final_loss:.3g}, accuracy 100%",
            **common,
        )
    if reached and final_acc < 1.0:
        return report(
            False, "loss_accuracy_mismatch",
            f"the loss reached {final_loss:.3g} but accuracy is only {final_acc:.0%}: the loss is not measuring "
            "what accuracy measures; check the loss wiring (targets passed to the loss, argument order, "
            "which output the loss reads)",
            **common,
        )
    chance = math.log(int(logits.shape[1])) if logits.shape[1] > 1 else 0.0
    tail = losses[-max(1, steps // 10):]
    if sum(tail) / len(tail) > 0.8 * chance and chance > 0:
        return report(
            False, "loss_stuck",
            f"loss stayed near chance level (log K = {chance:.3g}; last steps {sum(tail) / len(tail):.3g}) "
            "although parameters moved: the labels do not match the inputs (inputs and labels shuffled "
            "separately, a misaligned join), or the learning rate is far too small",
            **common,
        )
    return report(
        False, "underfit",
        f"loss only went from {losses[0]:.3g} to {final_loss:.3g} (target {target_loss}) with accuracy "
        f"{final_acc:.0%}: train longer or with a better learning rate, check that dropout/augmentation are off "
        "for this test and that the model is large enough",
        **common,
    )
