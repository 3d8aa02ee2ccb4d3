"""course_lib.metrics: accuracy, confusion matrix, confused pairs and per-slice accuracy vs scikit-learn;
the Wilson and paired-bootstrap intervals vs scipy."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from course_lib.metrics import (
    accuracy,
    confusion_matrix,
    most_confused_pairs,
    paired_accuracy_difference,
    per_slice_accuracy,
    wilson_interval,
)


def _data(n=200, k=5, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    p = np.where(rng.random(n) < 0.6, y, rng.integers(0, k, n))
    return y, p


# ------------------------------------------------------------ correctness vs sklearn
@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 60), k=st.integers(1, 7), seed=st.integers(0, 10_000))
def test_confusion_matrix_and_accuracy_match_sklearn(n, k, seed):
    y, p = _data(n, k, seed)
    cm = confusion_matrix(torch.from_numpy(y), torch.from_numpy(p), k)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # sklearn warns when one label is seen
        ref = skm.confusion_matrix(y, p, labels=list(range(k)))
    np.testing.assert_array_equal(cm, ref)
    assert cm.dtype == np.int64
    assert accuracy(y, p) == pytest.approx(skm.accuracy_score(y, p))


def test_confusion_matrix_rows_are_truth_not_prediction():
    # two clips of class 0 both predicted 1: row 0, column 1
    cm = confusion_matrix(np.array([0, 0]), np.array([1, 1]), 2)
    assert cm[0, 1] == 2 and cm[1, 0] == 0


def test_confusion_matrix_normalized_matches_sklearn():
    y, p = _data(300, 6, 1)
    y[y == 5] = 4  # class 5 absent from the truth: a zero row stays zero
    ref = skm.confusion_matrix(y, p, labels=list(range(6)), normalize="true")
    ref = np.nan_to_num(ref)
    np.testing.assert_allclose(confusion_matrix(y, p, 6, normalize="true"), ref, atol=1e-12)
    # diagonal of the row-normalised matrix = per-class recall
    rec = skm.recall_score(y, p, labels=list(range(5)), average=None, zero_division=0)
    np.testing.assert_allclose(np.diag(confusion_matrix(y, p, 6, normalize="true"))[:5], rec)


def test_most_confused_pairs_orders_off_diagonal_cells():
    cm = np.array([[10, 4, 1], [0, 9, 7], [2, 0, 3]])
    table = most_confused_pairs(cm, ["a", "b", "c"], k=3)
    assert list(zip(table["true"], table["predicted"])) == [("b", "c"), ("a", "b"), ("c", "a")]
    assert table["value"].tolist() == [7, 4, 2]
    np.testing.assert_allclose(table["share"], [round(7 / 16, 3), round(4 / 15, 3), round(2 / 5, 3)])
    # the diagonal and zero cells never appear, whatever k
    assert len(most_confused_pairs(cm, ["a", "b", "c"], k=50)) == 4
    assert most_confused_pairs(np.eye(3), ["a", "b", "c"]).empty


def test_per_slice_accuracy_matches_sklearn_per_group():
    y, p = _data(400, 4, 2)
    slices = np.random.default_rng(3).choice(["clean", "noisy", "far"], size=400)
    table = per_slice_accuracy(torch.from_numpy(y), torch.from_numpy(p), list(slices))
    assert list(table.index) == ["clean", "far", "noisy", "all"]
    for name in ["clean", "far", "noisy"]:
        sel = slices == name
        assert table.loc[name, "accuracy"] == pytest.approx(skm.accuracy_score(y[sel], p[sel]))
        assert table.loc[name, "n"] == sel.sum()
    # "all" is the micro average over clips, not the mean of the slice accuracies
    assert table.loc["all", "accuracy"] == pytest.approx(skm.accuracy_score(y, p))
    assert table.loc["all", "n"] == 400
    assert "all" not in per_slice_accuracy(y, p, pd.Series(slices), overall=False).index


# ------------------------------------------------------------------ bad input
def test_bad_input_messages():
    y = np.array([0, 1, 2])
    with pytest.raises(ValueError, match="same length"):
        accuracy(y, y[:2])
    with pytest.raises(TypeError, match="integer class indices"):
        accuracy(y.astype(float), y)
    with pytest.raises(ValueError, match=">= 0"):
        confusion_matrix(np.array([0, -1]), np.array([0, 0]), 2)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 1\]"):
        confusion_matrix(y, y, 2)
    with pytest.raises(ValueError, match="positive int"):
        confusion_matrix(y, y, 0)
    with pytest.raises(ValueError, match="normalize"):
        confusion_matrix(y, y, 3, normalize="all")
    with pytest.raises(ValueError, match="must have 1 dimensions"):
        confusion_matrix(np.zeros((2, 2), dtype=int), np.zeros((2, 2), dtype=int), 2)
    with pytest.raises(ValueError, match="empty"):
        accuracy(np.array([], dtype=int), np.array([], dtype=int))
    with pytest.raises(TypeError, match="torch.Tensor or numpy.ndarray"):
        accuracy([0, 1], [0, 1])
    with pytest.raises(ValueError, match="square"):
        most_confused_pairs(np.zeros((2, 3)), ["a", "b"])
    with pytest.raises(ValueError, match="sequence of 2 names"):
        most_confused_pairs(np.zeros((2, 2)), ["a"])
    with pytest.raises(ValueError, match="negative"):
        most_confused_pairs(-np.ones((2, 2)), ["a", "b"])
    with pytest.raises(ValueError, match="one label per clip"):
        per_slice_accuracy(y, y, ["a", "b"])
    with pytest.raises(TypeError, match="sequence of slice labels"):
        per_slice_accuracy(y, y, "abc")
    with pytest.raises(ValueError, match="missing labels"):
        per_slice_accuracy(y, y, ["a", None, "b"])


def test_plot_confusion_matrix_colours_rows_and_rejects_bad_shapes():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from course_lib.plots.evaluation import plot_confusion_matrix

    cm = confusion_matrix(np.array([0, 0, 0, 1]), np.array([0, 0, 1, 1]), 2)
    ax = plot_confusion_matrix(cm, ["yes", "no"], title="t")
    shown = ax.images[0].get_array()
    np.testing.assert_allclose(np.asarray(shown), [[2 / 3, 1 / 3], [0.0, 1.0]])  # row shares
    assert ax.get_title() == "t" and [t.get_text() for t in ax.texts] == ["2", "1", "1"]
    plt.close("all")
    with pytest.raises(ValueError, match="square"):
        plot_confusion_matrix(np.zeros((2, 3)), ["a", "b"])
    with pytest.raises(ValueError, match="name the 2 rows"):
        plot_confusion_matrix(np.zeros((2, 2)), ["a"])



# ------------------------------------------------------------------ intervals
@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 400), frac=st.floats(0.0, 1.0), confidence=st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_wilson_interval_matches_scipy(n, frac, confidence):
    from scipy.stats import binomtest

    k = int(round(frac * n))
    ref = binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
    low, high = wilson_interval(k, n, confidence=confidence)
    assert low == pytest.approx(ref.low, abs=1e-9) and high == pytest.approx(ref.high, abs=1e-9)
    assert 0.0 <= low <= k / n <= high <= 1.0


def test_wilson_interval_formula_by_hand_and_vectorised():
    # 20 of 25 at 95 %: z = 1.959964, centre (0.8 + z^2/50) / (1 + z^2/25), half-width as in the docstring
    z = 1.959963984540054
    centre = (0.8 + z * z / 50) / (1 + z * z / 25)
    half = z / (1 + z * z / 25) * np.sqrt(0.8 * 0.2 / 25 + z * z / (4 * 25 * 25))
    assert wilson_interval(20, 25) == pytest.approx((centre - half, centre + half))
    low, high = wilson_interval(np.array([0, 5, 10]), np.array([10, 10, 10]))
    assert low[0] == 0.0 and high[2] == 1.0 and low[1] == pytest.approx(1 - high[1])  # symmetric around 0.5
    # narrower with more clips, wider at a higher level
    assert np.diff(wilson_interval(80, 100)) < np.diff(wilson_interval(8, 10))
    assert np.diff(wilson_interval(8, 10, confidence=0.99)) > np.diff(wilson_interval(8, 10))


def test_per_slice_accuracy_with_confidence_adds_wilson_columns():
    y, p = _data(300, 4, 5)
    slices = np.random.default_rng(1).choice(["clean", "far"], size=300)
    table = per_slice_accuracy(y, p, list(slices), confidence=0.9)
    assert list(table.columns) == ["accuracy", "n", "low", "high"]
    for name, row in table.iterrows():
        k = int(round(row["accuracy"] * row["n"]))
        assert (row["low"], row["high"]) == pytest.approx(wilson_interval(k, int(row["n"]), confidence=0.9))
    assert list(per_slice_accuracy(y, p, list(slices)).columns) == ["accuracy", "n"]  # unchanged by default


def test_paired_bootstrap_matches_scipy_bootstrap():
    from scipy.stats import bootstrap

    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 150)
    a = np.where(rng.random(150) < 0.8, y, (y + 1) % 3)
    b = np.where(rng.random(150) < 0.6, y, (y + 1) % 3)
    t = paired_accuracy_difference(y, a, b, n_resamples=20000, seed=1)
    ref = bootstrap(((a == y).astype(float), (b == y).astype(float)), lambda u, v, axis: u.mean(axis) - v.mean(axis),
                    paired=True, vectorized=True, n_resamples=20000, method="percentile", random_state=2)
    assert t.loc["all", "difference"] == pytest.approx(np.mean(a == y) - np.mean(b == y))
    assert t.loc["all", "low"] == pytest.approx(ref.confidence_interval.low, abs=0.01)
    assert t.loc["all", "high"] == pytest.approx(ref.confidence_interval.high, abs=0.01)


def test_paired_bootstrap_per_slice_seeded_and_paired():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 200)
    slices = rng.choice(["clean", "noisy"], size=200)
    t1 = paired_accuracy_difference(y, y, 1 - y, list(slices), seed=4)
    pd.testing.assert_frame_equal(t1, paired_accuracy_difference(y, y, 1 - y, list(slices), seed=4))
    assert list(t1.index) == ["clean", "noisy", "all"] and int(t1.loc["all", "n"]) == 200
    assert (t1["difference"] == 1.0).all() and (t1["low"] == 1.0).all()  # always right vs always wrong
    # the same model against itself: a zero-width interval at 0 (pairing removes the shared noise)
    p = rng.integers(0, 2, 200)
    t2 = paired_accuracy_difference(y, p, p)
    assert (t2[["difference", "low", "high"]].to_numpy() == 0).all()


def test_interval_bad_input():
    with pytest.raises(ValueError, match=r"k must lie in \[0, n\]"):
        wilson_interval(5, 4)
    with pytest.raises(ValueError, match="n must be >= 1"):
        wilson_interval(0, 0)
    with pytest.raises(TypeError, match="integer counts"):
        wilson_interval(0.5, 4)
    with pytest.raises(ValueError, match="confidence must be a level"):
        wilson_interval(1, 4, confidence=95)
    y = np.array([0, 1, 1])
    with pytest.raises(ValueError, match="same length"):
        paired_accuracy_difference(y, y, y[:2])
    with pytest.raises(ValueError, match="one label per clip"):
        paired_accuracy_difference(y, y, y, ["a"])
    with pytest.raises(ValueError, match="positive int"):
        paired_accuracy_difference(y, y, y, n_resamples=0)


def test_confusion_matrix_names_the_out_of_range_argument_and_its_plot_validates():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from course_lib.plots.evaluation import plot_confusion_matrix, plot_few_shot

    with pytest.raises(ValueError, match=r"y_pred labels must lie in \[0, 1\]"):
        confusion_matrix(np.array([0, 1]), np.array([0, 5]), 2)
    with pytest.raises(ValueError, match="cm contains NaN"):
        plot_confusion_matrix(np.array([[1.0, float("nan")], [0.0, 1.0]]), ["a", "b"])
    with pytest.raises(ValueError, match="cm must hold counts >= 0"):
        plot_confusion_matrix(np.array([[1.0, -1.0], [0.0, 1.0]]), ["a", "b"])
    with pytest.raises(TypeError, match="classes must be a sequence of str"):
        plot_confusion_matrix(np.eye(2), "ab")
    with pytest.raises(TypeError, match="annotate must be a bool or None"):
        plot_confusion_matrix(np.eye(2), ["a", "b"], annotate="yes")
    with pytest.raises(TypeError, match="results must be a pandas DataFrame"):
        plot_few_shot("results")
    plt.close("all")
