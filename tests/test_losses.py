"""course_lib.losses against torch: values, gradients, bad input."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.calibration import log_softmax
from course_lib.losses import (
    LogisticRegression,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    focal_loss,
    info_nce,
    kl_divergence,
    nll_loss,
    sigmoid,
    sigmoid_focal_loss,
)


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _logits(n=7, k=5, seed=0, scale=3.0, dtype=torch.float64, grad=False):
    x = scale * torch.randn(n, k, generator=_gen(seed), dtype=dtype)
    return x.requires_grad_(grad)


def _targets(n=7, k=5, seed=1):
    return torch.randint(0, k, (n,), generator=_gen(seed))


def _same_value_and_grad(ours, theirs, x, atol=1e-10):
    """Compare two scalar losses of the leaf ``x`` and their gradients."""
    a = ours(x)
    (ga,) = torch.autograd.grad(a, x)
    b = theirs(x)
    (gb,) = torch.autograd.grad(b, x)
    torch.testing.assert_close(a, b, atol=atol, rtol=1e-7)
    torch.testing.assert_close(ga, gb, atol=atol, rtol=1e-7)


# ------------------------------------------------------------------ binary

def test_sigmoid_matches_torch_and_does_not_overflow():
    x = torch.linspace(-800, 800, 101, dtype=torch.float64)
    torch.testing.assert_close(sigmoid(x), torch.sigmoid(x))
    assert bool(torch.isfinite(sigmoid(torch.tensor([-1e4, 1e4]))).all())


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_on_probabilities_matches_torch(reduction):
    p = torch.rand(6, 3, generator=_gen(0), dtype=torch.float64).clamp(0.01, 0.99).requires_grad_()
    y = torch.randint(0, 2, (6, 3), generator=_gen(1)).double()
    ours = lambda t: binary_cross_entropy(t, y, reduction=reduction).sum()
    theirs = lambda t: F.binary_cross_entropy(t, y, reduction=reduction).sum()
    _same_value_and_grad(ours, theirs, p)


def test_bce_clamps_log_like_torch_at_exact_0_and_1():
    p = torch.tensor([0.0, 1.0, 0.0, 1.0])
    y = torch.tensor([1.0, 0.0, 0.0, 1.0])
    torch.testing.assert_close(
        binary_cross_entropy(p, y, reduction="none"), F.binary_cross_entropy(p, y, reduction="none")
    )


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_with_logits_matches_torch_including_huge_logits(reduction):
    z = torch.cat([_logits(4, 3).reshape(-1), torch.tensor([500.0, -500.0, 80.0, -80.0], dtype=torch.float64)])
    z.requires_grad_()
    y = torch.randint(0, 2, z.shape, generator=_gen(2)).double()
    ours = lambda t: binary_cross_entropy_with_logits(t, y, reduction=reduction).sum()
    theirs = lambda t: F.binary_cross_entropy_with_logits(t, y, reduction=reduction).sum()
    _same_value_and_grad(ours, theirs, z)
    assert bool(torch.isfinite(binary_cross_entropy_with_logits(z, y, reduction="none")).all())


def test_bce_with_logits_pos_weight_matches_torch():
    z = _logits(8, 3, grad=True)
    y = torch.randint(0, 2, (8, 3), generator=_gen(3)).double()
    pw = torch.tensor([1.0, 3.0, 0.5], dtype=torch.float64)
    _same_value_and_grad(
        lambda t: binary_cross_entropy_with_logits(t, y, pos_weight=pw),
        lambda t: F.binary_cross_entropy_with_logits(t, y, pos_weight=pw),
        z,
    )


def test_bce_with_logits_gradcheck():
    z = _logits(5, 2, grad=True)
    y = torch.rand(5, 2, generator=_gen(4), dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda t: binary_cross_entropy_with_logits(t, y), (z,))


def test_bce_bad_input():
    with pytest.raises(ValueError, match="probs must lie in"):
        binary_cross_entropy(torch.tensor([1.5]), torch.tensor([1.0]))
    with pytest.raises(ValueError, match="target must have the shape"):
        binary_cross_entropy_with_logits(torch.zeros(3), torch.zeros(2))
    with pytest.raises(ValueError, match=r"target must hold values in \[0, 1\]"):
        binary_cross_entropy_with_logits(torch.zeros(2), torch.tensor([0.0, 2.0]))
    with pytest.raises(TypeError, match="floating-point"):
        binary_cross_entropy_with_logits(torch.zeros(2, dtype=torch.long), torch.zeros(2))
    with pytest.raises(ValueError, match="reduction must be one of"):
        binary_cross_entropy_with_logits(torch.zeros(2), torch.zeros(2), reduction="avg")


# ------------------------------------------------------- logistic regression

def _blobs(m=80, seed=0):
    g = _gen(seed)
    y = torch.randint(0, 2, (m,), generator=g)
    X = torch.randn(m, 3, generator=g, dtype=torch.float64) + 1.5 * (2 * y[:, None].double() - 1) * torch.tensor(
        [1.0, -0.5, 0.0], dtype=torch.float64
    )
    return X, y


def test_logistic_gradient_equals_autograd():
    X, y = _blobs()
    w = torch.randn(3, generator=_gen(5), dtype=torch.float64, requires_grad=True)
    b = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(X @ w + b, y.double()) + 0.5 * 0.1 * (w @ w)
    gw, gb = torch.autograd.grad(loss, (w, b))
    dw, db = LogisticRegression.gradients(X, y.double(), w.detach(), b.detach(), l2=0.1)
    torch.testing.assert_close(dw, gw)
    torch.testing.assert_close(db, gb)


def test_logistic_regression_fits_like_sklearn():
    from sklearn.linear_model import LogisticRegression as SkLR

    X, y = _blobs(200, seed=1)
    ours = LogisticRegression(lr=0.5, n_iter=3000, l2=0.01).fit(X, y)
    # sklearn's C multiplies the summed loss: C = 1 / (m * l2) gives the same objective
    sk = SkLR(C=1.0 / (200 * 0.01), tol=1e-10, max_iter=10_000).fit(X.numpy(), y.numpy())
    np.testing.assert_allclose(ours.coef_.numpy(), sk.coef_[0], atol=1e-4)
    assert ours.intercept_ == pytest.approx(float(sk.intercept_[0]), abs=1e-4)
    assert ours.score(X, y) == pytest.approx(sk.score(X.numpy(), y.numpy()))


def test_logistic_regression_loss_decreases_and_fit_returns_self():
    X, y = _blobs()
    clf = LogisticRegression(lr=0.1, n_iter=50)
    assert clf.fit(X, y) is clf
    h = np.asarray(clf.loss_history_)
    assert len(h) == 51 and h[0] == pytest.approx(math.log(2))
    assert bool((np.diff(h) <= 1e-12).all())
    torch.testing.assert_close(clf.predict_proba(X), torch.sigmoid(X @ clf.coef_ + clf.intercept_))


def test_logistic_regression_bad_input():
    with pytest.raises(ValueError, match="binary labels"):
        LogisticRegression().fit(torch.zeros(3, 2), torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="y must have 3 labels"):
        LogisticRegression().fit(torch.zeros(3, 2), torch.tensor([0, 1]))
    with pytest.raises(RuntimeError, match="not fitted"):
        LogisticRegression().predict(torch.zeros(3, 2))
    with pytest.raises(ValueError, match="lr must be a positive"):
        LogisticRegression(lr=0.0)
    with pytest.raises(ValueError, match="X must have 2 dimensions"):
        LogisticRegression().fit(torch.zeros(3), torch.tensor([0, 1, 0]))


# ------------------------------------------------------------ multi-class

def test_log_softmax_matches_torch_and_is_stable():
    x = _logits(4, 6, scale=1000.0)
    torch.testing.assert_close(log_softmax(x), F.log_softmax(x, dim=-1))
    naive = torch.log(torch.softmax(x, dim=-1))
    assert not bool(torch.isfinite(naive).all())  # why the stable form exists
    assert bool(torch.isfinite(log_softmax(x)).all())


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
def test_nll_loss_matches_torch(reduction, weighted):
    lp = F.log_softmax(_logits(), dim=1).detach().requires_grad_()
    y = _targets()
    w = torch.tensor([1.0, 5.0, 0.2, 2.0, 0.0], dtype=torch.float64) if weighted else None
    _same_value_and_grad(
        lambda t: nll_loss(t, y, w, reduction=reduction).sum(),
        lambda t: F.nll_loss(t, y, w, reduction=reduction).sum(),
        lp,
    )


def test_weighted_nll_divides_by_weight_sum_not_count():
    lp = F.log_softmax(_logits(), dim=1)
    y = _targets()
    w = torch.linspace(0.5, 3.0, 5, dtype=torch.float64)
    per = -w[y] * lp[torch.arange(7), y]
    assert float(nll_loss(lp, y, w)) == pytest.approx(float(per.sum() / w[y].sum()))
    assert float(nll_loss(lp, y, w)) != pytest.approx(float(per.mean()))


def test_nll_ignore_index_matches_torch():
    lp = F.log_softmax(_logits(), dim=1)
    y = _targets().clone()
    y[[1, 4]] = -100
    w = torch.linspace(0.5, 3.0, 5, dtype=torch.float64)
    for weight in (None, w):
        torch.testing.assert_close(nll_loss(lp, y, weight), F.nll_loss(lp, y, weight))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.1, 0.5])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_matches_torch(reduction, smoothing, weighted):
    x = _logits(9, 4, grad=True)
    y = _targets(9, 4)
    w = torch.tensor([0.5, 2.0, 1.0, 3.0], dtype=torch.float64) if weighted else None
    _same_value_and_grad(
        lambda t: cross_entropy(t, y, w, label_smoothing=smoothing, reduction=reduction).sum(),
        lambda t: F.cross_entropy(t, y, w, label_smoothing=smoothing, reduction=reduction).sum(),
        x,
    )


@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_soft_targets_and_ignore_index_match_torch(smoothing):
    x = _logits(6, 3, grad=True)
    q = torch.softmax(torch.randn(6, 3, generator=_gen(9), dtype=torch.float64), dim=1)
    w = torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64)
    _same_value_and_grad(
        lambda t: cross_entropy(t, q, w, label_smoothing=smoothing),
        lambda t: F.cross_entropy(t, q, w, label_smoothing=smoothing),
        x,
    )
    y = _targets(6, 3).clone()
    y[2] = -100
    _same_value_and_grad(
        lambda t: cross_entropy(t, y, w, label_smoothing=smoothing),
        lambda t: F.cross_entropy(t, y, w, label_smoothing=smoothing),
        x,
    )


def test_label_smoothing_spreads_over_all_k_classes():
    x = _logits(5, 4)
    y = _targets(5, 4)
    eps, k = 0.2, 4
    soft = F.one_hot(y, k).double() * (1 - eps) + eps / k
    torch.testing.assert_close(cross_entropy(x, y, label_smoothing=eps), cross_entropy(x, soft))


def test_cross_entropy_stable_on_huge_logits():
    x = torch.tensor([[1000.0, -1000.0, 0.0], [0.0, 2000.0, -50.0]])
    y = torch.tensor([1, 1])
    ours = cross_entropy(x, y, reduction="none")
    torch.testing.assert_close(ours, F.cross_entropy(x, y, reduction="none"))
    assert ours.tolist() == [2000.0, 0.0]


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 12), k=st.integers(2, 9), seed=st.integers(0, 10_000), eps=st.floats(0.0, 1.0))
def test_cross_entropy_property_random_shapes(n, k, seed, eps):
    x = _logits(n, k, seed=seed, scale=5.0)
    y = torch.randint(0, k, (n,), generator=_gen(seed + 1))
    torch.testing.assert_close(cross_entropy(x, y, label_smoothing=eps), F.cross_entropy(x, y, label_smoothing=eps))


def test_cross_entropy_gradcheck_weighted_smoothed():
    x = _logits(4, 3, grad=True)
    y = _targets(4, 3)
    w = torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda t: cross_entropy(t, y, w, label_smoothing=0.1), (x,))


def test_class_losses_bad_input():
    x, y = torch.zeros(3, 4), torch.tensor([0, 1, 2])
    with pytest.raises(ValueError, match=r"target must hold class indices in \[0, 3\]"):
        cross_entropy(x, torch.tensor([0, 1, 4]))
    with pytest.raises(TypeError, match="integer class indices"):
        nll_loss(x, torch.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match=r"target must have shape \(3,\)"):
        cross_entropy(x, torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="weight must have one entry per class"):
        cross_entropy(x, y, torch.ones(3))
    with pytest.raises(ValueError, match="weight must be >= 0"):
        nll_loss(x, y, -torch.ones(4))
    with pytest.raises(ValueError, match=r"label_smoothing must lie in \[0, 1\]"):
        cross_entropy(x, y, label_smoothing=1.5)
    with pytest.raises(ValueError, match="logits must have 2 dimensions"):
        cross_entropy(torch.zeros(4), y)
    with pytest.raises(ValueError, match="soft targets must have the shape"):
        cross_entropy(x, torch.zeros(3, 3))
    with pytest.raises(ValueError, match="NaN or infinite"):
        cross_entropy(torch.full((3, 4), float("nan")), y)


# ------------------------------------------------------------------ focal

def _focal_reference(logits, target, gamma, alpha=None):
    """Focal loss written out directly from the paper's formula."""
    p = torch.softmax(logits, dim=1)
    pt = p[torch.arange(len(target)), target]
    a = alpha[target] if alpha is not None else 1.0
    return (-a * (1 - pt) ** gamma * torch.log(pt)).mean()


def _torchvision_sigmoid_focal(inputs, targets, alpha=0.25, gamma=2.0):
    """torchvision.ops.sigmoid_focal_loss, written out (torchvision is not installed)."""
    p = torch.sigmoid(inputs)
    ce = F.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce * ((1 - p_t) ** gamma)
    if alpha >= 0:
        loss = (alpha * targets + (1 - alpha) * (1 - targets)) * loss
    return loss.mean()


def test_focal_with_gamma_zero_is_cross_entropy():
    x = _logits(grad=True)
    y = _targets()
    _same_value_and_grad(lambda t: focal_loss(t, y, gamma=0.0), lambda t: F.cross_entropy(t, y), x)


@pytest.mark.parametrize("gamma", [0.5, 1.0, 2.0, 5.0])
def test_focal_matches_reference_value_and_gradient(gamma):
    x = _logits(grad=True)
    y = _targets()
    alpha = torch.tensor([0.25, 1.0, 2.0, 0.5, 1.5], dtype=torch.float64)
    _same_value_and_grad(
        lambda t: focal_loss(t, y, gamma=gamma, alpha=alpha), lambda t: _focal_reference(t, y, gamma, alpha), x
    )
    assert torch.autograd.gradcheck(lambda t: focal_loss(t, y, gamma=gamma), (x,))


def test_focal_downweights_easy_examples_more_than_hard():
    x = torch.tensor([[4.0, 0.0], [0.2, 0.0]], dtype=torch.float64)  # easy, hard
    y = torch.tensor([0, 0])
    ratio = focal_loss(x, y, reduction="none") / cross_entropy(x, y, reduction="none")
    assert float(ratio[0]) < 0.01 < 0.1 < float(ratio[1])


@pytest.mark.parametrize("alpha", [0.25, 0.5])
@pytest.mark.parametrize("gamma", [0.0, 2.0])
def test_sigmoid_focal_matches_torchvision_style_reference(alpha, gamma):
    z = _logits(6, 3, grad=True)
    y = torch.randint(0, 2, (6, 3), generator=_gen(7)).double()
    _same_value_and_grad(
        lambda t: sigmoid_focal_loss(t, y, gamma=gamma, alpha=alpha),
        lambda t: _torchvision_sigmoid_focal(t, y, alpha=alpha, gamma=gamma),
        z,
    )


def test_focal_bad_input():
    with pytest.raises(ValueError, match="gamma must be a float >= 0"):
        focal_loss(torch.zeros(2, 3), torch.tensor([0, 1]), gamma=-1.0)
    with pytest.raises(ValueError, match=r"alpha must lie in \[0, 1\]"):
        sigmoid_focal_loss(torch.zeros(2), torch.zeros(2), alpha=2.0)


# -------------------------------------------------------------- KL, InfoNCE

@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides:UserWarning")
@pytest.mark.parametrize("reduction", ["batchmean", "sum", "mean", "none"])
def test_kl_divergence_matches_torch_kl_div(reduction):
    p_log = F.log_softmax(_logits(seed=3), dim=1)
    q_log = F.log_softmax(_logits(seed=4), dim=1).detach().requires_grad_()
    _same_value_and_grad(
        lambda t: kl_divergence(p_log, t, reduction=reduction).sum(),
        lambda t: F.kl_div(t, p_log, reduction=reduction, log_target=True).sum(),
        q_log,
    )


def test_kl_divergence_properties():
    p = F.log_softmax(_logits(seed=3), dim=1)
    q = F.log_softmax(_logits(seed=4), dim=1)
    assert float(kl_divergence(p, p)) == pytest.approx(0.0, abs=1e-12)
    assert float(kl_divergence(p, q)) > 0
    assert float(kl_divergence(p, q)) != pytest.approx(float(kl_divergence(q, p)))  # not symmetric
    # a zero-probability class in p contributes nothing (0 log 0 = 0)
    p0 = torch.log(torch.tensor([[0.0, 0.5, 0.5]], dtype=torch.float64))
    q0 = torch.log(torch.tensor([[0.2, 0.4, 0.4]], dtype=torch.float64))
    assert float(kl_divergence(p0, q0)) == pytest.approx(math.log(0.5 / 0.4))


def test_kl_bad_input():
    with pytest.raises(ValueError, match="same shape"):
        kl_divergence(torch.zeros(2, 3), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="must hold log-probabilities"):
        kl_divergence(torch.softmax(torch.randn(2, 3), 1), torch.full((2, 3), -1.0))
    with pytest.raises(ValueError, match="reduction must be one of"):
        kl_divergence(torch.zeros(2, 3), torch.zeros(2, 3), reduction="avg")


@pytest.mark.parametrize("temperature", [0.05, 0.1, 1.0])
@pytest.mark.parametrize("symmetric", [False, True])
def test_info_nce_matches_cross_entropy_over_similarities(temperature, symmetric):
    q = torch.randn(8, 16, generator=_gen(0), dtype=torch.float64, requires_grad=True)
    k = torch.randn(8, 16, generator=_gen(1), dtype=torch.float64)

    def reference(t):
        sim = F.normalize(t, dim=1) @ F.normalize(k, dim=1).T / temperature
        labels = torch.arange(8)
        loss = F.cross_entropy(sim, labels)
        return 0.5 * (loss + F.cross_entropy(sim.T, labels)) if symmetric else loss

    _same_value_and_grad(lambda t: info_nce(t, k, temperature, symmetric=symmetric), reference, q)
    assert torch.autograd.gradcheck(lambda t: info_nce(t, k, temperature), (q,))


def test_info_nce_prefers_matched_pairs():
    q = torch.randn(16, 8, generator=_gen(2))
    noisy = q + 0.1 * torch.randn(16, 8, generator=_gen(3))
    assert float(info_nce(q, noisy)) < float(info_nce(q, noisy.roll(1, dims=0)))
    assert float(info_nce(q, noisy)) < math.log(16)


def test_info_nce_bad_input():
    with pytest.raises(ValueError, match="same shape"):
        info_nce(torch.zeros(4, 3), torch.zeros(5, 3))
    with pytest.raises(ValueError, match="temperature must be a float > 0"):
        info_nce(torch.ones(4, 3), torch.ones(4, 3), temperature=0.0)


def test_logistic_regression_gradients_validate_their_inputs():
    X, y, w = torch.randn(5, 3, dtype=torch.float64), torch.tensor([0.0, 1, 1, 0, 1], dtype=torch.float64), torch.zeros(3, dtype=torch.float64)
    with pytest.raises(TypeError, match="X must be a torch.Tensor or numpy.ndarray, got str"):
        LogisticRegression.gradients("X", y, w, 0.0)
    with pytest.raises(TypeError, match="X must be a floating-point tensor"):
        LogisticRegression.gradients(X.long(), y, w, 0.0)
    with pytest.raises(ValueError, match="X contains NaN or infinite values"):
        LogisticRegression.gradients(X.masked_fill(torch.eye(5, 3, dtype=torch.bool), float("nan")), y, w, 0.0)
    with pytest.raises(ValueError, match="w must have 3 weights"):
        LogisticRegression.gradients(X, y, torch.zeros(2, dtype=torch.float64), 0.0)
    with pytest.raises(ValueError, match="y must have 5 labels"):
        LogisticRegression.gradients(X, y[:4], w, 0.0)
    with pytest.raises(TypeError, match="l2 must be a finite number >= 0"):
        LogisticRegression.gradients(X, y, w, 0.0, l2=None)


def test_fit_matches_a_loop_over_gradients():
    X = torch.randn(40, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    y = (X[:, 0] > 0).double()
    model = LogisticRegression(lr=0.5, n_iter=30, l2=0.01).fit(X, y)
    w, b = torch.zeros(2, dtype=torch.float64), torch.zeros((), dtype=torch.float64)
    for _ in range(30):
        dw, db = LogisticRegression.gradients(X, y, w, b, 0.01)
        w, b = w - 0.5 * dw, b - 0.5 * db
    assert torch.equal(model.coef_, w) and model.intercept_ == float(b)


def test_nll_loss_and_cross_entropy_reject_a_non_int_ignore_index():
    logits, target = torch.randn(3, 4), torch.tensor([0, 3, 1])
    with pytest.raises(TypeError, match="ignore_index must be an int"):
        nll_loss(torch.log_softmax(logits, -1), target, ignore_index=None)
    with pytest.raises(TypeError, match="ignore_index must be an int"):
        cross_entropy(logits, target, ignore_index=None)


def test_bce_with_logits_rejects_a_non_numeric_pos_weight():
    z, t = torch.randn(4), torch.tensor([0.0, 1.0, 1.0, 0.0])
    with pytest.raises(TypeError, match="pos_weight must be a number or a tensor of numbers, got str"):
        binary_cross_entropy_with_logits(z, t, pos_weight="3")
    with pytest.raises(ValueError, match="pos_weight contains NaN"):
        binary_cross_entropy_with_logits(z, t, pos_weight=float("nan"))
    assert torch.allclose(binary_cross_entropy_with_logits(z, t, pos_weight=np.array(2.0)),
                          binary_cross_entropy_with_logits(z, t, pos_weight=2.0))
