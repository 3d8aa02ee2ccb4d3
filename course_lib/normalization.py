"""Feature and activation normalisation: pooling, a train-only standardizer, RMSNorm.

* :func:`mean_std_pool` turns ``(B, T, F)`` frames into ``(B, 2F)`` clip vectors.
* :class:`Standardizer`: feature normalisation fitted on the training split
  only (scikit-learn style).
* :func:`rms_norm` and :class:`RMSNorm` (a from-scratch twin of ``torch.nn.RMSNorm``).
"""
from __future__ import annotations

from typing import Sequence
import torch
from torch import Tensor, nn
from course_lib.checks import check_positive_int, check_tensor
import math

__all__ = [
    "mean_std_pool",
    "Standardizer",
    "RMSNorm",
    "rms_norm",
]

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
