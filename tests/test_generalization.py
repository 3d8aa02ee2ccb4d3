"""Tests for course_lib.generalization: diagnosis, learning curves, regularisers, sizing."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.nn import functional as F
from course_lib.mel import clip_features
from course_lib import generalization as G
from course_lib import regularization as R
from course_lib.losses import cross_entropy
from course_lib.training import (
    EarlyStopping,
    History,
    TrainConfig,
    make_classifier,
    train_classifier,
)


# --------------------------------------------------------------------------
# diagnose_fit
# --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "train, dev, target, regime, first",
    [
        (0.15, 0.16, 0.0, "underfit", "bigger model"),
        (0.01, 0.12, 0.0, "overfit", "more data"),
        (0.15, 0.30, 0.0, "both", "bigger model"),
        (0.005, 0.01, 0.0, "good fit", "none"),
        # near human level: 15 % train is fine if humans get 14 %
        (0.15, 0.16, 0.14, "good fit", "none"),
        # a large dev error that is all variance: not underfit
        (0.02, 0.30, 0.0, "overfit", "more data"),
    ],
)
def test_diagnose_fit_regimes(train, dev, target, regime, first):
    d = G.diagnose_fit(train, dev, target_error=target)
    assert d.regime == regime
    assert d.first_remedy == first
    assert d.avoidable_bias == pytest.approx(train - target)
    assert d.variance == pytest.approx(dev - train)
    assert d.high_bias == (regime in ("underfit", "both"))
    assert d.high_variance == (regime in ("overfit", "both"))


def test_diagnose_fit_remedies_come_from_the_named_lists():
    both = G.diagnose_fit(0.2, 0.4)
    assert both.remedies == G.BIAS_REMEDIES + G.VARIANCE_REMEDIES
    assert G.diagnose_fit(0.0, 0.3).remedies == G.VARIANCE_REMEDIES
    assert G.diagnose_fit(0.0, 0.0).remedies == ()


def test_diagnose_fit_tol_is_the_threshold():
    assert G.diagnose_fit(0.0, 0.05, tol=0.1).regime == "good fit"
    assert G.diagnose_fit(0.0, 0.05, tol=0.01).regime == "overfit"


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(train_error=12.0, dev_error=0.2), ValueError, "fractions"),
        (dict(train_error=-0.1, dev_error=0.2), ValueError, r"train_error must be a fraction in \[0, 1\]"),
        (dict(train_error="0.1", dev_error=0.2), TypeError, "train_error must be a number"),
        (dict(train_error=0.1, dev_error=float("nan")), ValueError, "dev_error"),
        (dict(train_error=0.1, dev_error=0.2, target_error=2.0), ValueError, "target_error"),
        (dict(train_error=0.1, dev_error=0.2, tol=-1.0), ValueError, "tol must be"),
    ],
)
def test_diagnose_fit_bad_input(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        G.diagnose_fit(**kwargs)


# --------------------------------------------------------------------------
# learning curves
# --------------------------------------------------------------------------
def _blobs(n, seed, shift=1.5):
    g = np.random.default_rng(seed)
    y = g.integers(0, 2, n)
    X = g.normal(size=(n, 2)) + shift * y[:, None]
    return X.astype(np.float32), y


def test_learning_curve_matches_sklearn_fits_on_nested_subsets():
    from sklearn.linear_model import LogisticRegression

    X, y = _blobs(200, 0)
    Xd, yd = _blobs(300, 1)
    seen = []

    def fit(Xs, ys):
        seen.append(Xs.copy())
        clf = LogisticRegression().fit(Xs, ys)
        return clf.predict

    lc = G.learning_curve(fit, X, y, [20, 50, 200], dev=(Xd, yd), seed=3)
    assert lc.sizes.tolist() == [20, 50, 200]
    # nested: each subset starts with the previous one
    assert np.array_equal(seen[1][:20], seen[0]) and np.array_equal(seen[2][:50], seen[1])
    # the numbers are the errors of exactly those fits
    for Xs, tr, dv in zip(seen, lc.train_error, lc.dev_error):
        idx = [int(np.flatnonzero((X == row).all(1))[0]) for row in Xs]
        clf = LogisticRegression().fit(Xs, y[idx])
        assert tr == pytest.approx(np.mean(clf.predict(Xs) != y[idx]))
        assert dv == pytest.approx(np.mean(clf.predict(Xd) != yd))


def test_learning_curve_of_a_memoriser_shows_variance_shrinking_with_data():
    from sklearn.neighbors import KNeighborsClassifier

    X, y = _blobs(800, 0)
    Xd, yd = _blobs(800, 1)
    lc = G.learning_curve(lambda a, b: KNeighborsClassifier(1).fit(a, b).predict, X, y, [10, 800], dev=(Xd, yd))
    assert (lc.train_error == 0).all()  # 1-NN memorises its training set
    assert lc.dev_error[0] > 0.05 and lc.dev_error[-1] > 0.0
    assert lc.dev_error[-1] < lc.dev_error[0], "more data must shrink the memoriser's train-dev gap"


def test_learning_curve_is_seeded_and_accepts_scores_and_tensors():
    X, y = _blobs(100, 0)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def fit(Xs, ys):  # nearest class mean; returns (N, 2) scores
        mu = torch.stack([Xs[ys == k].mean(0) if (ys == k).any() else torch.zeros(2) for k in (0, 1)])
        return lambda Z: -torch.cdist(Z, mu)

    a = G.learning_curve(fit, Xt, yt, [10, 40], dev=(Xt, yt), seed=1)
    b = G.learning_curve(fit, Xt, yt, [10, 40], dev=(Xt, yt), seed=1)
    c = G.learning_curve(fit, Xt, yt, [10, 40], dev=(Xt, yt), seed=2)
    assert np.array_equal(a.train_error, b.train_error) and np.array_equal(a.dev_error, b.dev_error)
    assert not np.array_equal(a.train_error, c.train_error) or not np.array_equal(a.dev_error, c.dev_error)


def test_learning_curve_bad_input():
    X, y = _blobs(20, 0)
    fit = lambda a, b: (lambda Z: np.zeros(len(Z), dtype=int))  # noqa: E731
    with pytest.raises(ValueError, match=r"sizes must lie in \[1, 20\]"):
        G.learning_curve(fit, X, y, [5, 21], dev=(X, y))
    with pytest.raises(ValueError, match="same length"):
        G.learning_curve(fit, X[:10], y, [5], dev=(X, y))
    with pytest.raises(TypeError, match="fit_fn must be callable"):
        G.learning_curve(None, X, y, [5], dev=(X, y))
    with pytest.raises(TypeError, match="dev must be a tuple"):
        G.learning_curve(fit, X, y, [5], dev=X)
    with pytest.raises(ValueError, match="size must be a positive int"):
        G.learning_curve(fit, X, y, [0], dev=(X, y))
    with pytest.raises(ValueError, match=r"predict\(X\) must return labels of shape"):
        G.learning_curve(lambda a, b: (lambda Z: np.zeros((len(Z), 2, 2))), X, y, [5], dev=(X, y))


@pytest.mark.parametrize(
    "train, dev, target, regime, first",
    [
        ([0.0, 0.01, 0.02], [0.40, 0.30, 0.20], 0.0, "overfit", "more data"),  # dev still falling
        ([0.0, 0.0, 0.0], [0.21, 0.20, 0.20], 0.0, "overfit", "regularisation"),  # dev flat
        ([0.2, 0.3, 0.33], [0.5, 0.38, 0.35], 0.0, "underfit", "bigger model"),  # met on a high plateau
        ([0.2, 0.3, 0.33], [0.5, 0.38, 0.35], 0.32, "good fit", "none"),  # ... but humans get 32 %
        ([0.1, 0.2, 0.25], [0.6, 0.5, 0.45], 0.0, "both", "bigger model"),
    ],
)
def test_regime_from_curve(train, dev, target, regime, first):
    d = G.regime_from_curve([100, 200, 400], train, dev, target_error=target)
    assert (d.regime, d.first_remedy) == (regime, first)
    assert first == "none" or d.remedies[0] == first


def test_regime_from_curve_bad_input():
    with pytest.raises(ValueError, match="strictly increasing"):
        G.regime_from_curve([200, 100], [0.1, 0.1], [0.2, 0.2])
    with pytest.raises(ValueError, match="same non-zero length"):
        G.regime_from_curve([100, 200], [0.1], [0.2, 0.2])
    with pytest.raises(ValueError, match=r"dev_error must hold fractions"):
        G.regime_from_curve([100, 200], [0.1, 0.1], [20.0, 30.0])


# --------------------------------------------------------------------------
# penalties and weight decay
# --------------------------------------------------------------------------
def test_l2_penalty_under_sgd_is_torch_weight_decay():
    torch.manual_seed(0)
    a, b = nn.Linear(4, 3), nn.Linear(4, 3)
    b.load_state_dict(a.state_dict())
    X, y = torch.randn(16, 4), torch.randint(0, 3, (16,))
    opt_a = torch.optim.SGD([a.weight], lr=0.1)
    opt_b = torch.optim.SGD([b.weight], lr=0.1, weight_decay=0.3)
    for _ in range(5):
        for m, opt, pen in ((a, opt_a, True), (b, opt_b, False)):
            loss = F.cross_entropy(m(X), y) + (R.l2_penalty([m.weight], 0.3) if pen else 0.0)
            opt.zero_grad()
            loss.backward()
            opt.step()
    torch.testing.assert_close(a.weight, b.weight)


def _sklearn_stationarity(coef, X, y, lam, l1_ratio):
    """Subgradient optimality of sklearn's coef for 1/(2n)|y - Xw|^2 + our penalty."""
    w = torch.tensor(coef, dtype=torch.float64, requires_grad=True)
    Xt, yt = torch.tensor(X), torch.tensor(y)
    smooth = 0.5 * ((yt - Xt @ w) ** 2).mean() + (1 - l1_ratio) * R.l2_penalty([w], lam)
    (grad,) = torch.autograd.grad(smooth, w)
    # our L1 term: its gradient on the non-zero weights
    w2 = torch.tensor(coef, dtype=torch.float64, requires_grad=True)
    (g1,) = torch.autograd.grad(l1_ratio * R.l1_penalty([w2], lam), w2)
    nz = np.abs(coef) > 1e-10
    total = (grad + g1).numpy()
    assert np.abs(total[nz]).max(initial=0.0) < 1e-4
    assert (np.abs(grad.numpy()[~nz]) <= l1_ratio * lam + 1e-4).all()
    return nz


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5, 0.2])
def test_elastic_net_scaling_matches_sklearn(l1_ratio):
    from sklearn.linear_model import ElasticNet

    g = np.random.default_rng(0)
    X = g.normal(size=(80, 6))
    y = X @ np.array([2.0, -1.0, 0.0, 0.0, 0.5, 0.0]) + 0.1 * g.normal(size=80)
    lam = 0.2
    coef = ElasticNet(alpha=lam, l1_ratio=l1_ratio, fit_intercept=False, tol=1e-12, max_iter=100000).fit(X, y).coef_
    nz = _sklearn_stationarity(coef, X, y, lam, l1_ratio)
    assert 0 < nz.sum() < 6  # L1 zeroed some weights out
    w = torch.tensor(coef)
    en = R.elastic_net_penalty([w], lam, l1_ratio)
    ref = lam * (l1_ratio * np.abs(coef).sum() + 0.5 * (1 - l1_ratio) * (coef**2).sum())
    assert float(en) == pytest.approx(ref)


def test_penalties_on_a_module_skip_biases_and_norm_parameters():
    m = make_classifier(3, 4, 2)
    weights = [m[0].weight, m[4].weight]
    with torch.no_grad():
        assert float(R.l1_penalty(m, 1.0)) == pytest.approx(sum(float(w.abs().sum()) for w in weights))
        assert float(R.l2_penalty(m, 2.0)) == pytest.approx(sum(float((w**2).sum()) for w in weights))


def test_penalty_bad_input():
    with pytest.raises(ValueError, match="lam must be a finite number >= 0"):
        R.l2_penalty(torch.ones(2), -1.0)
    with pytest.raises(TypeError, match="params must hold tensors"):
        R.l1_penalty([1.0, 2.0], 0.1)
    with pytest.raises(ValueError, match="params is empty"):
        R.l1_penalty([], 0.1)
    with pytest.raises(ValueError, match=r"l1_ratio must be a number in \[0, 1\]"):
        R.elastic_net_penalty(torch.ones(2), 0.1, l1_ratio=1.5)


def test_penalized_loss_adds_the_penalty_in_training_mode_only():
    m = nn.Linear(3, 2)
    loss_fn = R.penalized_loss(m, lambda mod: R.l2_penalty(mod, 0.5))
    logits, y = torch.randn(4, 2), torch.tensor([0, 1, 0, 1])
    plain = F.cross_entropy(logits, y)
    torch.testing.assert_close(loss_fn(logits, y), plain + R.l2_penalty(m, 0.5))
    m.eval()
    torch.testing.assert_close(loss_fn(logits, y), plain)
    with pytest.raises(TypeError, match="penalty must be callable"):
        R.penalized_loss(m, 0.1)


def test_l1_in_training_makes_weights_sparser():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(256, 20, generator=g)
    y = (X[:, 0] + X[:, 1] > 0).long()  # only 2 of 20 features matter
    cfg = TrainConfig(epochs=40, lr=0.02, batch_size=64, optimizer="sgd", clip_norm=None)
    sizes = []
    for lam in (0.0, 0.05):
        m = nn.Linear(20, 2)
        torch.nn.init.constant_(m.weight, 0.1)
        train_classifier(m, (X, y), None, cfg, loss_fn=R.penalized_loss(m, lambda mod, lam=lam: R.l1_penalty(mod, lam)))
        sizes.append(float(m.weight.detach()[:, 2:].abs().mean()))
    assert sizes[1] < 0.2 * sizes[0]


def test_decoupled_decay_then_adam_equals_adamw():
    torch.manual_seed(0)
    base = nn.Linear(5, 3)
    a, b, c = (nn.Linear(5, 3) for _ in range(3))
    for m in (a, b, c):
        m.load_state_dict(base.state_dict())
    X, y = torch.randn(32, 5), torch.randint(0, 3, (32,))
    lr, wd = 0.05, 0.5
    opt_a = torch.optim.Adam(a.parameters(), lr=lr)  # ours: decay, then plain Adam
    opt_b = torch.optim.AdamW(b.parameters(), lr=lr, weight_decay=wd)
    opt_c = torch.optim.Adam(c.parameters(), lr=lr, weight_decay=wd)  # L2 inside Adam
    for _ in range(20):
        for m, opt in ((a, opt_a), (b, opt_b), (c, opt_c)):
            opt.zero_grad()
            F.cross_entropy(m(X), y).backward()
            if m is a:
                R.decoupled_weight_decay_(list(a.parameters()), lr, wd)
            opt.step()
    for pa, pb in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(pa, pb)
    assert not torch.allclose(a.weight, c.weight, atol=1e-3)


def test_decoupled_decay_bad_input():
    with pytest.raises(ValueError, match="weight_decay must be a finite number >= 0"):
        R.decoupled_weight_decay_([torch.ones(2)], 0.1, -0.1)
    with pytest.raises(TypeError, match="params must be an nn.Module"):
        R.decoupled_weight_decay_(3, 0.1, 0.1)


# --------------------------------------------------------------------------
# dropout
# --------------------------------------------------------------------------
@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_statistics_match_nn_dropout(p):
    x = torch.full((200_000,), 2.0)
    ours = R.dropout(x, p, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(0)
    ref = nn.Dropout(p).train()(x)
    # same set of values: 0 and x / (1 - p)
    assert set(ours.unique().tolist()) == set(ref.unique().tolist())
    zero_ours, zero_ref = float((ours == 0).float().mean()), float((ref == 0).float().mean())
    se = math.sqrt(p * (1 - p) / x.numel())
    assert abs(zero_ours - p) < 5 * se and abs(zero_ref - p) < 5 * se
    # expectation preserved (inverted dropout)
    assert float(ours.mean()) == pytest.approx(2.0, rel=5 * se / (1 - p) + 1e-3)


def test_dropout_eval_and_p0_are_identity_and_layer_follows_mode():
    x = torch.randn(3, 4)
    assert R.dropout(x, 0.5, training=False) is x
    assert torch.equal(R.dropout(x, 0.0), x)
    layer = R.InvertedDropout(0.5)
    assert not torch.equal(layer(torch.ones(1000)), torch.ones(1000))
    assert torch.equal(layer.eval()(x), x)


def test_dropout_gradient_is_mask_over_keep_probability():
    x = torch.randn(50, dtype=torch.float64, requires_grad=True)
    out = R.dropout(x, 0.4, generator=torch.Generator().manual_seed(1))
    out.sum().backward()
    mask = (out.detach() != 0).double()
    torch.testing.assert_close(x.grad, mask / 0.6)


def test_dropout_is_seeded():
    a = R.dropout(torch.ones(100), 0.5, generator=torch.Generator().manual_seed(3))
    b = R.dropout(torch.ones(100), 0.5, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b)


def test_dropout_bad_input():
    with pytest.raises(ValueError, match=r"p must lie in \[0, 1\), got 1.0"):
        R.dropout(torch.ones(2), 1.0)
    with pytest.raises(TypeError, match="floating-point"):
        R.dropout(torch.ones(2, dtype=torch.long), 0.5)
    with pytest.raises(TypeError, match="p must be a float"):
        R.InvertedDropout("0.5")


# --------------------------------------------------------------------------
# early stopping
# --------------------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(
    values=st.lists(st.floats(0.0, 5.0, allow_nan=False), min_size=1, max_size=30),
    patience=st.integers(1, 6),
)
def test_early_stopping_epoch_agrees_with_the_training_callback(values, patience):
    best, stop = R.early_stopping_epoch(values, patience)
    cb = EarlyStopping(patience=patience, restore_best=False)
    model = nn.Linear(1, 1)
    cb_stop = len(values) - 1
    for epoch in range(len(values)):
        if cb(epoch, History(dev_loss=list(values[: epoch + 1])), model):
            cb_stop = epoch
            break
    assert (best, stop) == (cb.best_epoch_, cb_stop)
    assert values[best] == min(values[: stop + 1])


def test_early_stopping_epoch_modes_and_min_delta():
    acc = [0.5, 0.7, 0.71, 0.69, 0.68]
    assert R.early_stopping_epoch(acc, 2, mode="max") == (2, 4)
    assert R.early_stopping_epoch(acc, 2, mode="max", min_delta=0.05) == (1, 3)
    with pytest.raises(ValueError, match="mode must be 'min' or 'max'"):
        R.early_stopping_epoch(acc, 2, mode="best")
    with pytest.raises(ValueError, match="values is empty"):
        R.early_stopping_epoch([], 2)
    with pytest.raises(ValueError, match="patience must be a positive int"):
        R.early_stopping_epoch(acc, 0)


# --------------------------------------------------------------------------
# mixup, label smoothing, noise
# --------------------------------------------------------------------------
def test_mixup_uses_one_lambda_for_inputs_and_labels():
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 5, (32,), generator=g)
    x = F.one_hot(y, 5).float()  # inputs that *are* the labels
    xm, ym, lam = R.mixup(x, y, 5, alpha=0.4, generator=g)
    torch.testing.assert_close(xm, ym)
    torch.testing.assert_close(ym.sum(-1), torch.ones(32))
    assert 0.0 <= lam <= 1.0


def test_mixup_lambda_follows_beta_alpha_alpha():
    from scipy import stats

    g = torch.Generator().manual_seed(0)
    x, y = torch.zeros(4, 1), torch.tensor([0, 1, 0, 1])
    lams = np.array([R.mixup(x, y, 2, alpha=0.3, generator=g)[2] for _ in range(3000)])
    assert stats.kstest(lams, stats.beta(0.3, 0.3).cdf).pvalue > 1e-3


def test_mixup_is_seeded_and_validates():
    x, y = torch.randn(8, 3), torch.arange(8) % 2
    a = R.mixup(x, y, 2, generator=torch.Generator().manual_seed(1))
    b = R.mixup(x, y, 2, generator=torch.Generator().manual_seed(1))
    assert torch.equal(a[0], b[0]) and a[2] == b[2]
    with pytest.raises(ValueError, match="alpha must be > 0"):
        R.mixup(x, y, 2, alpha=0.0)
    with pytest.raises(ValueError, match=r"y must lie in \[0, 1\]"):
        R.mixup(x, y + 1, 2)
    with pytest.raises(ValueError, match=r"y must have shape \(8,\)"):
        R.mixup(x, y[:4], 2)


def test_mixup_wrapper_loss_equals_soft_target_cross_entropy():
    torch.manual_seed(0)
    inner = nn.Linear(3, 4)
    wrapped = R.Mixup(inner, alpha=0.5, seed=0)
    x, y = torch.randn(10, 3), torch.randint(0, 4, (10,))
    logits = wrapped(x)
    lam, perm = wrapped.lam_, wrapped.perm_
    torch.testing.assert_close(logits, inner(lam * x + (1 - lam) * x[perm]))
    soft = lam * F.one_hot(y, 4).float() + (1 - lam) * F.one_hot(y[perm], 4).float()
    torch.testing.assert_close(wrapped.loss(logits, y), F.cross_entropy(logits, soft))
    wrapped.eval()
    torch.testing.assert_close(wrapped(x), inner(x))
    torch.testing.assert_close(wrapped.loss(inner(x), y), F.cross_entropy(inner(x), y))


@pytest.mark.parametrize("eps", [0.0, 0.1, 0.3])
def test_smooth_labels_matches_torch_label_smoothing(eps):
    g = torch.Generator().manual_seed(0)
    logits, y = torch.randn(7, 4, generator=g), torch.randint(0, 4, (7,), generator=g)
    ours = cross_entropy(logits, R.smooth_labels(y, 4, eps))  # soft targets, no smoothing flag
    torch.testing.assert_close(ours, cross_entropy(logits, y, label_smoothing=eps))
    torch.testing.assert_close(ours, F.cross_entropy(logits, y, label_smoothing=eps))


def test_smooth_labels_bad_input():
    with pytest.raises(ValueError, match=r"eps must lie in \[0, 1\)"):
        R.smooth_labels(torch.tensor([0]), 3, 1.0)
    with pytest.raises(TypeError, match="integer class indices"):
        R.smooth_labels(torch.tensor([0.0]), 3, 0.1)


def test_gaussian_noise_statistics_seed_and_layer():
    x = torch.full((100_000,), 3.0)
    out = R.add_gaussian_noise(x, 0.2, generator=torch.Generator().manual_seed(0))
    assert float((out - x).std()) == pytest.approx(0.2, rel=0.02)
    assert abs(float((out - x).mean())) < 0.005
    again = R.add_gaussian_noise(x, 0.2, generator=torch.Generator().manual_seed(0))
    assert torch.equal(out, again)
    assert R.add_gaussian_noise(x, 0.0) is x
    layer = R.GaussianNoise(0.2, seed=0)
    assert not torch.equal(layer(x), x)
    assert torch.equal(layer.eval()(x), x)
    with pytest.raises(ValueError, match="std must be a finite number >= 0"):
        R.add_gaussian_noise(x, -1.0)


# --------------------------------------------------------------------------
# max-norm
# --------------------------------------------------------------------------
@settings(max_examples=30, deadline=None)
@given(rows=st.integers(1, 6), cols=st.integers(1, 6), c=st.floats(0.1, 3.0), seed=st.integers(0, 100))
def test_max_norm_matches_torch_renorm(rows, cols, c, seed):
    w = 2 * torch.randn(rows, cols, generator=torch.Generator().manual_seed(seed))
    ours = R.max_norm(w, c)
    torch.testing.assert_close(ours, torch.renorm(w, p=2, dim=0, maxnorm=c))
    assert (ours.norm(dim=1) <= c + 1e-5).all()


def test_max_norm_on_conv_weights_matches_renorm():
    w = torch.randn(4, 2, 3, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(R.max_norm(w, 1.0), torch.renorm(w, 2, 0, 1.0))


def test_max_norm_hook_keeps_rows_inside_the_ball_during_training():
    g = torch.Generator().manual_seed(0)
    X, y = torch.randn(128, 6, generator=g), torch.randint(0, 3, (128,), generator=g)
    m = make_classifier(6, 16, 3)
    handles = R.add_max_norm_hook(m, 0.5)
    train_classifier(m, (X, y), None, TrainConfig(epochs=3, lr=0.1, batch_size=32))
    m(X)  # the hook projects before use
    for lin in (m[0], m[4]):
        assert lin.weight.norm(dim=1).max() <= 0.5 + 1e-5
    for h in handles:
        h.remove()


def test_apply_max_norm_and_bad_input():
    m = nn.Linear(3, 2)
    nn.init.constant_(m.weight, 5.0)
    R.apply_max_norm_(m, 2.0)
    torch.testing.assert_close(m.weight.norm(dim=1), torch.full((2,), 2.0))
    with pytest.raises(ValueError, match="max_value must be > 0"):
        R.max_norm(torch.ones(2, 2), 0.0)
    with pytest.raises(ValueError, match="weight must have at least 2 dimension"):
        R.max_norm(torch.ones(3), 1.0)


# --------------------------------------------------------------------------
# dev/test sizing
# --------------------------------------------------------------------------
def test_split_sizes_schemes():
    assert G.split_sizes(10_000, "80/10/10") == (8000, 1000, 1000)
    assert G.split_sizes(1_000_000, "98/1/1") == (980_000, 10_000, 10_000)
    assert G.split_sizes(10, (0.5, 0.25, 0.25)) == (6, 2, 2)


@given(n=st.integers(1, 10**7), scheme=st.sampled_from(sorted(G.SPLIT_SCHEMES)))
def test_split_sizes_sum_to_n(n, scheme):
    tr, dv, te = G.split_sizes(n, scheme)
    assert tr + dv + te == n and min(tr, dv, te) >= 0
    assert dv == math.floor(G.SPLIT_SCHEMES[scheme][1] * n + 1e-9)


def test_split_sizes_bad_input():
    with pytest.raises(ValueError, match="scheme must be one of"):
        G.split_sizes(100, "70/30")
    with pytest.raises(ValueError, match="summing to 1"):
        G.split_sizes(100, (0.5, 0.5, 0.5))
    with pytest.raises(ValueError, match="n must be a positive int"):
        G.split_sizes(0)


@pytest.mark.parametrize("acc, n", [(0.9, 100), (0.95, 10_000), (0.5, 37)])
def test_accuracy_standard_error_is_the_binomial_one(acc, n):
    from scipy import stats

    assert G.accuracy_standard_error(acc, n) == pytest.approx(stats.binom(n, acc).std() / n)


def test_accuracy_standard_error_matches_simulation():
    g = np.random.default_rng(0)
    accs = g.binomial(100, 0.9, size=20_000) / 100  # 20k dev sets of 100 clips
    assert accs.std() == pytest.approx(G.accuracy_standard_error(0.9, 100), rel=0.03)


@given(acc=st.floats(0.01, 0.99), se=st.floats(1e-3, 0.1))
def test_dev_size_for_standard_error_is_the_smallest_n(acc, se):
    n = G.dev_size_for_standard_error(acc, se)
    assert G.accuracy_standard_error(acc, n) <= se * (1 + 1e-9)
    if n > 1:
        assert G.accuracy_standard_error(acc, n - 1) > se * (1 - 1e-6)


def test_sizing_bad_input():
    with pytest.raises(ValueError, match="acc must be a fraction"):
        G.accuracy_standard_error(90.0, 100)
    with pytest.raises(TypeError, match="n must be a positive int"):
        G.accuracy_standard_error(0.9, 100.0)
    with pytest.raises(ValueError, match="se must be > 0"):
        G.dev_size_for_standard_error(0.9, 0.0)


# --------------------------------------------------------------------------
# plots
# --------------------------------------------------------------------------
def test_plot_helpers_return_labelled_axes():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from course_lib.plots.training import plot_history, plot_learning_curve

    ax = plot_learning_curve([10, 100, 1000], [0.0, 0.02, 0.05], [0.5, 0.3, 0.1], target_error=0.03)
    assert ax.get_xscale() == "log" and "error" in ax.get_ylabel() and ax.get_title()
    assert len(ax.lines) == 3
    h = History(train_loss=[1.0, 0.5, 0.2], train_acc=[0.5, 0.8, 0.95], dev_loss=[1.0, 0.7, 0.9], dev_acc=[0.5, 0.7, 0.65])
    ax2 = plot_history(h, metric="loss", mark_best=True)
    assert ax2.get_xlabel() == "epoch" and "nats" in ax2.get_ylabel()
    assert "(2)" in ax2.get_legend().get_texts()[-1].get_text()  # best dev epoch, 1-based
    with pytest.raises(ValueError, match="same non-zero length"):
        plot_learning_curve([10, 100], [0.1], [0.2, 0.1])
    with pytest.raises(ValueError, match="mark_best needs dev values"):
        plot_history(History(train_acc=[0.5], train_loss=[1.0]), metric="error", mark_best=True)
    plt.close("all")


# --------------------------------------------------------------------------
# adaptors for the training loop
# --------------------------------------------------------------------------
def test_adaptors_train_with_the_course_loop():
    g = torch.Generator().manual_seed(0)
    X, y = torch.randn(96, 6, generator=g), torch.randint(0, 3, (96,), generator=g)
    cfg = TrainConfig(epochs=3, lr=0.01, batch_size=32)
    mix = R.Mixup(make_classifier(6, 8, 3), alpha=0.4, seed=0)
    h = train_classifier(mix, (X, y), (X, y), cfg, loss_fn=mix.loss)
    assert h.epochs == 3 and all(math.isfinite(v) for v in h.dev_loss)
    noisy = nn.Sequential(R.GaussianNoise(0.5, seed=0), make_classifier(6, 8, 3))
    h2 = train_classifier(noisy, (X, y), (X, y), cfg)
    assert h2.epochs == 3
    # evaluation runs in eval mode: the noise layer is off, so evaluation is deterministic
    from course_lib.training import evaluate

    assert evaluate(noisy, X, y) == evaluate(noisy, X, y)


def test_adaptors_bad_input():
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        R.Mixup(lambda x: x)
    with pytest.raises(ValueError, match="alpha must be > 0"):
        R.Mixup(nn.Linear(2, 2), alpha=0.0)
    with pytest.raises(ValueError, match="std must be a finite number >= 0"):
        R.GaussianNoise(-0.1)
    with pytest.raises(ValueError, match="max_value must be > 0"):
        R.add_max_norm_hook(nn.Linear(2, 2), 0.0)
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        R.decay_parameters([torch.ones(2, 2)])
    wrapped = R.Mixup(nn.Linear(2, 2))
    wrapped(torch.randn(4, 2))
    with pytest.raises(RuntimeError, match="batch of the last forward"):
        wrapped.loss(torch.randn(3, 2), torch.tensor([0, 1, 0]))


def test_early_stopping_epoch_matches_a_real_run_with_the_callback():
    """The pure replay agrees with the callback on a real run, and the restored model is the best one."""
    from course_lib.training import evaluate

    g = torch.Generator().manual_seed(1)
    X, y = torch.randn(64, 10, generator=g), torch.randint(0, 4, (64,), generator=g)
    Xd, yd = torch.randn(64, 10, generator=g), torch.randint(0, 4, (64,), generator=g)  # unlearnable dev
    model = make_classifier(10, 64, 4)
    stop = EarlyStopping(patience=3)
    h = train_classifier(model, (X, y), (Xd, yd), TrainConfig(epochs=40, lr=0.01, batch_size=16), callbacks=[stop])
    best, stopped = R.early_stopping_epoch(h.dev_loss, 3)
    assert h.epochs < 40, "the dev loss of random labels must stop improving"
    assert (best, stopped) == (stop.best_epoch_, h.epochs - 1)
    assert evaluate(model, Xd, yd)["loss"] == pytest.approx(min(h.dev_loss), rel=1e-5)


# --------------------------------------------------------------------------
# clip features
# --------------------------------------------------------------------------
def _burst_clips(starts, n=16000, length=3200, seed=0):
    """(N, n) near-silent clips, each with a loud noise burst at its start sample."""
    g = torch.Generator().manual_seed(seed)
    waves = 1e-4 * torch.randn(len(starts), n, generator=g)
    for i, s in enumerate(starts):
        waves[i, s : s + length] += 0.3 * torch.randn(length, generator=g)
    return waves


def test_clip_features_shape_and_layout():
    waves = _burst_clips([2000, 9000])
    out = clip_features(waves)
    assert out.shape == (2, 200) and out.dtype == torch.float32
    assert clip_features(waves, n_mels=20, half_window=30, n_segments=3).shape == (2, 4 * 20)
    # batch vs item by item
    for i in range(2):
        torch.testing.assert_close(clip_features(waves[i : i + 1])[0], out[i], rtol=1e-4, atol=1e-4)


def test_clip_features_window_follows_the_energy_centre():
    """The same clip shifted by a whole number of hops gives the same vector (the crop moves
    with the word), where a fixed window would not; the vector holds the crop's statistics."""
    from course_lib.mel import log_mel

    clip = _burst_clips([5600])[0]                               # a 0.2 s burst, frames ~35-55
    waves = torch.stack([clip, torch.roll(clip, 10 * 160)])     # the same word, 10 frames (0.1 s) later
    a, b = clip_features(waves)
    torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-3)
    lm = log_mel(waves, 16000, n_mels=40)                        # (2, 40, T)
    fixed = lm[:, :, :72].reshape(2, 40, 4, 18).mean(-1)         # 4 segments of a window fixed at the start
    assert (fixed[0] - fixed[1]).abs().max() > 1.0
    # the 4 segment means (band-major) and the stds are those of the 72 frames around the centre
    energy = lm[0].logsumexp(0)
    centre = int((torch.softmax(energy, -1) * torch.arange(lm.shape[-1])).sum().round())
    assert 35 <= centre <= 56                                    # inside the burst
    crop = lm[0, :, centre - 36 : centre + 36]
    torch.testing.assert_close(a[:160].view(40, 4), crop.reshape(40, 4, 18).mean(-1), rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(a[160:], crop.std(-1), rtol=1e-4, atol=1e-4)


def test_clip_features_window_stays_inside_the_clip():
    """A burst at the very end: the window is clamped, not wrapped or padded."""
    waves = _burst_clips([16000 - 1600, 0], length=1600)
    out = clip_features(waves)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize(
    "waves, kwargs, exc, match",
    [
        (torch.zeros(16000), {}, ValueError, r"waves must have 2 dimensions, got shape \(16000,\)"),
        (torch.zeros(2, 3, 16000), {}, ValueError, "waves must have 2 dimensions"),
        (torch.zeros(2, 16000, dtype=torch.int16), {}, TypeError, "waves must be a floating-point tensor, got dtype torch.int16"),
        (torch.full((1, 16000), float("nan")), {}, ValueError, "waves contains NaN"),
        (torch.zeros(2, 8000), {}, ValueError, r"too short for the window: need at least 72 frames .* got 51 frames"),
        (torch.zeros(0, 16000), {}, ValueError, "waves is empty"),
        (torch.zeros(2, 16000), {"n_segments": 5}, ValueError, "n_segments must divide the window of 2 \\* half_window = 72"),
        (torch.zeros(2, 16000), {"half_window": 0}, ValueError, "half_window must be a positive int, got 0"),
        (torch.zeros(2, 16000), {"sample_rate": 16000.0}, TypeError, "sample_rate must be an int"),
        ([[0.0] * 16000], {}, TypeError, "waves must be a torch.Tensor or numpy.ndarray, got list"),
    ],
)
def test_clip_features_bad_input(waves, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        clip_features(waves, **kwargs)


# ---------------------------------------------------------------- equal steps, stratified train-dev
def test_cycle_to_steps_gives_exact_steps_and_full_passes():
    from course_lib.generalization import cycle_to_steps
    from course_lib.training import TrainConfig, make_classifier, train_classifier

    X, y = torch.randn(38, 4, generator=torch.Generator().manual_seed(0)), torch.arange(38) % 3
    Xr, yr = cycle_to_steps(X, y, steps=20, batch_size=16, seed=1)
    assert Xr.shape == (320, 4) and yr.shape == (320,)
    counts = torch.bincount((Xr[:, None, :] == X[None]).all(-1).float().argmax(1), minlength=38)
    assert int(counts.min()) >= 8 and int(counts.max()) <= 9            # 320 / 38 = 8.4 passes
    assert torch.equal(cycle_to_steps(X, y, 20, 16, seed=1)[0], Xr)   # seeded
    for n in (10, 38):
        h = train_classifier(make_classifier(4, 8, 3), cycle_to_steps(X[:n], y[:n], 20, 16), None,
                             TrainConfig(epochs=1, batch_size=16), measure_train=False)
        assert h.steps == 20
    with pytest.raises(ValueError, match="same length"):
        cycle_to_steps(X, y[:5], 3, 2)
    with pytest.raises(ValueError, match="steps must be a positive int"):
        cycle_to_steps(X, y, 0, 2)


def test_stratified_holdout_keeps_the_class_mix():
    from course_lib.generalization import stratified_holdout

    labels = np.array(["silence"] * 20 + ["yes"] * 100 + ["no"] * 80)
    mask = stratified_holdout(labels, 0.15, seed=3)
    assert [int(mask[labels == k].sum()) for k in ("silence", "yes", "no")] == [3, 15, 12]
    assert np.array_equal(mask, stratified_holdout(list(labels), 0.15, seed=3))
    assert not np.array_equal(mask, stratified_holdout(labels, 0.15, seed=4))
    assert stratified_holdout(torch.tensor([0, 0, 1, 1]), 0.0).sum() == 0
    with pytest.raises(ValueError, match=r"fraction must lie in \[0, 1\)"):
        stratified_holdout(labels, 1.0)
    with pytest.raises(ValueError, match="non-empty 1-D"):
        stratified_holdout([], 0.1)


def test_mixup_loss_rejects_bad_logits_and_labels():
    mix = R.Mixup(nn.Linear(4, 3))
    logits = torch.randn(4, 3)
    with pytest.raises(ValueError, match=r"y must hold class indices in \[0, 2\]"):
        mix.loss(logits, torch.tensor([0, 1, 2, 3]))
    with pytest.raises(ValueError, match=r"y must hold class indices in \[0, 2\]"):
        mix.loss(logits, torch.tensor([0, 1, -1, 0]))
    with pytest.raises(TypeError, match="y must be an integer tensor"):
        mix.loss(logits, torch.tensor([0.0, 1.0, 2.0, 0.0]))
    with pytest.raises(TypeError, match="logits must be a floating-point tensor"):
        mix.loss(logits.long(), torch.tensor([0, 1, 2, 0]))
    with pytest.raises(ValueError, match="logits must have 2 dimensions"):
        mix.loss(logits[0], torch.tensor([0, 1, 2, 0]))


def test_early_stopping_epoch_rejects_a_string():
    with pytest.raises(TypeError, match="values must be a sequence of numbers"):
        R.early_stopping_epoch("0.5 0.4", patience=2)


def test_plots_training_validate_their_arguments():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from course_lib.plots.training import plot_curves, plot_history, plot_learning_curve, plot_loss_surface_paths
    from course_lib.optim import ravine

    with pytest.raises(TypeError, match="sizes must hold numbers"):
        plot_learning_curve(["a", "b"], [0.1, 0.2], [0.2, 0.3])
    with pytest.raises(ValueError, match="dev_err contains NaN"):
        plot_learning_curve([10, 100], [0.1, 0.2], [0.2, float("nan")])
    with pytest.raises(TypeError, match="history must be a course_lib.training.History"):
        plot_history("history")
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes or None"):
        plot_curves({"a": [1.0, 2.0]}, ax="left")
    with pytest.raises(TypeError, match=r"curves\['a'\] must hold numbers"):
        plot_curves({"a": ["x"]})
    with pytest.raises(ValueError, match=r"xlim must be a pair \(low, high\)"):
        plot_loss_surface_paths(ravine, {"sgd": [[0.0, 0.0], [1.0, 1.0]]}, xlim=(2.0, -2.0))
    with pytest.raises(TypeError, match="surface must be a callable"):
        plot_loss_surface_paths("ravine", {"sgd": [[0.0, 0.0]]})
    plt.close("all")


def test_penalties_reject_integer_weights():
    with pytest.raises(TypeError, match="params must be floating-point tensors"):
        R.l2_penalty([torch.ones(3, dtype=torch.long)], 0.1)
    with pytest.raises(TypeError, match="params must be floating-point tensors"):
        R.decoupled_weight_decay_([torch.ones(3, dtype=torch.long)], lr=0.1, weight_decay=0.1)
