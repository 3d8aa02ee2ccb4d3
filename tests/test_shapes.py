"""course_lib.shapes: masks, masked reductions, collation, shape checks, label encodings."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.shapes import (
    assert_shape,
    binary_decode,
    binary_encode,
    embedding_lookup,
    integer_encode,
    lengths_to_mask,
    masked_mean,
    masked_softmax,
    multi_hot,
    one_hot,
    ordinal_decode,
    ordinal_encode,
    pad_collate,
    soft_labels,
)

lengths_lists = st.lists(st.integers(min_value=0, max_value=9), min_size=1, max_size=6)


# --------------------------------------------------------------------------
# lengths_to_mask
# --------------------------------------------------------------------------

@given(lengths_lists, st.integers(min_value=0, max_value=3))
@settings(max_examples=40, deadline=None)
def test_mask_counts_and_prefix(lengths, extra):
    lens = torch.tensor(lengths)
    mask = lengths_to_mask(lens, max_len=max(lengths) + extra)
    assert mask.dtype == torch.bool
    assert mask.shape == (len(lengths), max(lengths) + extra)
    assert mask.sum(dim=1).tolist() == lengths
    # valid frames come first: the mask never goes False -> True along time
    assert not bool((mask[:, 1:] & ~mask[:, :-1]).any())


def test_mask_matches_pad_sequence_reference():
    seqs = [torch.ones(n) for n in (3, 5, 1)]
    ref = torch.nn.utils.rnn.pad_sequence(seqs, batch_first=True, padding_value=0.0).bool()
    assert torch.equal(lengths_to_mask(torch.tensor([3, 5, 1])), ref)


def test_mask_accepts_numpy():
    assert lengths_to_mask(np.array([2, 0])).tolist() == [[True, True], [False, False]]
    assert lengths_to_mask(np.array([1]), max_len=np.int64(2)).tolist() == [[True, False]]


@pytest.mark.parametrize(
    "lengths, kwargs, exc, match",
    [
        (torch.tensor([1.0, 2.0]), {}, TypeError, "integer tensor"),
        (torch.tensor([[1, 2]]), {}, ValueError, r"shape \(N,\)"),
        (torch.tensor([3, -1]), {}, ValueError, ">= 0"),
        (torch.tensor([5, 1]), {"max_len": 4}, ValueError, r"\[0, 4\]"),
        (torch.tensor([], dtype=torch.long), {}, ValueError, "empty"),
        ([1, 2], {}, TypeError, "torch.Tensor or numpy.ndarray"),
        (torch.tensor([1, 2]), {"max_len": 2.5}, ValueError, "max_len"),
    ],
)
def test_mask_bad_input(lengths, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        lengths_to_mask(lengths, **kwargs)


# --------------------------------------------------------------------------
# masked_mean
# --------------------------------------------------------------------------

@given(lengths_lists.filter(lambda ls: max(ls) > 0), st.integers(min_value=1, max_value=4))
@settings(max_examples=40, deadline=None)
def test_masked_mean_equals_per_item_mean(lengths, n_feat):
    g = torch.Generator().manual_seed(len(lengths) * 10 + n_feat)
    seqs = [torch.randn(n, n_feat, generator=g) for n in lengths]
    padded, lens, mask = pad_collate(seqs, padding_value=123.0)  # loud padding
    got = masked_mean(padded, mask, dim=1)
    for b, s in enumerate(seqs):
        want = s.mean(dim=0) if s.shape[0] else torch.zeros(n_feat)
        torch.testing.assert_close(got[b], want)


def test_masked_mean_differs_from_naive_mean_over_padding():
    x = torch.tensor([[[2.0], [4.0], [0.0], [0.0]]])
    mask = lengths_to_mask(torch.tensor([2]), 4)
    assert masked_mean(x, mask).item() == 3.0
    assert x.mean(dim=1).item() == 1.5


def test_masked_mean_over_batch_axis_and_empty_rows():
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    mask = torch.tensor([[True, False], [True, False]])
    assert masked_mean(x, mask, dim=0).tolist() == [2.0, 0.0]
    assert masked_mean(x, mask, dim=-1).tolist() == [1.0, 3.0]


def test_masked_mean_gradient_ignores_padding():
    x = torch.randn(2, 5, 3, dtype=torch.float64, requires_grad=True)
    mask = lengths_to_mask(torch.tensor([5, 2]))
    masked_mean(x, mask).sum().backward()
    assert torch.all(x.grad[1, 2:] == 0)
    torch.testing.assert_close(x.grad[1, :2], torch.full((2, 3), 0.5, dtype=torch.float64))
    x2 = torch.randn(2, 4, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: masked_mean(t, lengths_to_mask(torch.tensor([4, 1]))), (x2,))


@pytest.mark.parametrize(
    "x, mask, dim, exc, match",
    [
        (torch.ones(2, 3, 4), torch.ones(2, 4, dtype=torch.bool), 1, ValueError, "leading shape"),
        (torch.ones(2, 3, 4), torch.ones(2, 3), 1, TypeError, "bool tensor"),
        (torch.ones(2, 3, 4), torch.ones(2, 3, dtype=torch.bool), 2, ValueError, "mask's axes"),
        (torch.ones(2, 3, dtype=torch.long), torch.ones(2, 3, dtype=torch.bool), 1, TypeError, "floating"),
        (torch.ones(2, 3), torch.ones(2, 3, dtype=torch.bool), 1.0, TypeError, "dim must be an int"),
    ],
)
def test_masked_mean_bad_input(x, mask, dim, exc, match):
    with pytest.raises(exc, match=match):
        masked_mean(x, mask, dim=dim)


# --------------------------------------------------------------------------
# masked_softmax
# --------------------------------------------------------------------------

def test_masked_softmax_matches_minus_inf_reference():
    g = torch.Generator().manual_seed(0)
    scores = torch.randn(3, 2, 4, 6, generator=g)  # (B, H, T_q, T_k)
    key_mask = lengths_to_mask(torch.tensor([6, 3, 1]))[:, None, None, :]  # (B, 1, 1, T_k)
    ref = torch.softmax(scores.masked_fill(~key_mask, float("-inf")), dim=-1)
    got = masked_softmax(scores, key_mask, dim=-1)
    torch.testing.assert_close(got, ref)
    assert torch.all(got.masked_select(~key_mask.expand_as(got)) == 0)


def test_masked_softmax_fully_masked_row_is_zero_not_nan():
    scores = torch.randn(2, 3)
    mask = torch.tensor([[False, False, False], [True, False, True]])
    ref = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1)
    assert torch.isnan(ref[0]).all()  # the naive reference breaks ...
    got = masked_softmax(scores, mask)
    assert torch.all(got[0] == 0) and torch.isfinite(got).all()  # ... ours does not
    torch.testing.assert_close(got[1], ref[1])


def test_masked_softmax_large_scores_and_dim0():
    scores = torch.tensor([[1000.0, 3.0], [1000.0, 1.0]])
    mask = torch.tensor([[True, True], [True, True]])
    torch.testing.assert_close(masked_softmax(scores, mask, dim=0), torch.softmax(scores, dim=0))


def test_masked_softmax_bad_input():
    with pytest.raises(ValueError, match="does not broadcast"):
        masked_softmax(torch.ones(2, 3), torch.ones(2, 4, dtype=torch.bool))
    with pytest.raises(TypeError, match="bool tensor"):
        masked_softmax(torch.ones(2, 3), torch.ones(2, 3))
    with pytest.raises(ValueError, match="dim must be"):
        masked_softmax(torch.ones(2, 3), torch.ones(2, 3, dtype=torch.bool), dim=2)


# --------------------------------------------------------------------------
# pad_collate
# --------------------------------------------------------------------------

@given(lengths_lists)
@settings(max_examples=40, deadline=None)
def test_pad_collate_matches_pad_sequence_and_keeps_order(lengths):
    g = torch.Generator().manual_seed(sum(lengths))
    seqs = [torch.randn(n, 3, generator=g) for n in lengths]
    padded, lens, mask = pad_collate(seqs, padding_value=-1.0)
    ref = torch.nn.utils.rnn.pad_sequence(seqs, batch_first=True, padding_value=-1.0)
    assert torch.equal(padded, ref)
    assert lens.tolist() == lengths and lens.dtype == torch.long
    assert torch.equal(mask, lengths_to_mask(lens, padded.shape[1]))


def test_pad_collate_1d_and_int_sequences():
    padded, lens, mask = pad_collate([torch.tensor([1, 2, 3]), torch.tensor([4])])
    assert padded.tolist() == [[1, 2, 3], [4, 0, 0]] and padded.dtype == torch.int64
    assert mask.tolist() == [[True, True, True], [True, False, False]]


@pytest.mark.parametrize(
    "seqs, exc, match",
    [
        ([], ValueError, "empty"),
        (torch.ones(2, 3), TypeError, "list or tuple"),
        ([torch.ones(2, 3), torch.ones(2, 4)], ValueError, "trailing shape"),
        ([torch.ones(2, 3), torch.ones(2, 3, dtype=torch.float64)], TypeError, "share a dtype"),
        ([torch.tensor(1.0)], ValueError, "time axis"),
        ([[1.0, 2.0]], TypeError, "torch.Tensor or numpy.ndarray"),
    ],
)
def test_pad_collate_bad_input(seqs, exc, match):
    with pytest.raises(exc, match=match):
        pad_collate(seqs)


# --------------------------------------------------------------------------
# assert_shape
# --------------------------------------------------------------------------

def test_assert_shape_binds_and_chains():
    dims = assert_shape(torch.zeros(4, 10, 80), "B T F")
    assert dims == {"B": 4, "T": 10, "F": 80}
    assert assert_shape(torch.zeros(4, 10), "B T", **dims) == dims
    assert assert_shape(torch.zeros(4, 1, 80), "B 1 F", **dims) == dims
    assert assert_shape(torch.zeros(2, 3, 4, 10, 10), "... T T") == {"T": 10}
    assert assert_shape(np.zeros((4, 7)), "B *", B=4) == {"B": 4}


@pytest.mark.parametrize(
    "shape, spec, known, match",
    [
        ((4, 80, 10), "B T F", {"T": 10}, r"axis T \(position 1 of 'B T F'\) must have size 10, got 80"),
        ((4,), "B 1", {}, r"must have 2 dimensions"),
        ((4, 3), "B 1", {}, r"axis 1 of 'B 1' must have size 1, got 3"),
        ((5, 5, 6), "B T T", {}, r"axis T \(position 2 of 'B T T'\) must have size 5, got 6"),
        ((3,), "... B T", {}, "at least 2 dimensions"),
        ((3, 2), "B ... T", {}, "may only come first"),
        ((3, 2), "B T-1", {}, "must be a name"),
    ],
)
def test_assert_shape_errors_name_axis_and_sizes(shape, spec, known, match):
    with pytest.raises(ValueError, match=match):
        assert_shape(torch.zeros(shape), spec, **known)


def test_assert_shape_catches_the_b_vs_b1_broadcast():
    per_item_loss = torch.rand(8)  # (B,)
    weights = torch.rand(8, 1)  # (B, 1): a classic slip
    silent = per_item_loss * weights  # broadcasts to (8, 8) without complaint
    assert silent.shape == (8, 8)
    dims = assert_shape(per_item_loss, "B")
    # a reduction afterwards hides the bug (right shape, wrong numbers) ...
    assert silent.mean(dim=1).shape == per_item_loss.shape
    assert not torch.allclose(silent.mean(dim=1), per_item_loss * weights[:, 0])
    # ... an assertion on the product catches it where it happens
    with pytest.raises(ValueError, match=r"must have 1 dimensions \('B'\), got shape \(8, 8\)"):
        assert_shape(silent, "B", **dims)


def test_assert_shape_type_errors():
    with pytest.raises(TypeError, match="tensor or array"):
        assert_shape([1, 2], "B")
    with pytest.raises(TypeError, match="spec must be a string"):
        assert_shape(torch.zeros(2), ["B"])
    with pytest.raises(TypeError, match="non-negative int"):
        assert_shape(torch.zeros(2), "B", B=2.0)


# --------------------------------------------------------------------------
# label encodings
# --------------------------------------------------------------------------

def test_one_hot_matches_torch():
    labels = torch.tensor([0, 3, 1, 3])
    assert torch.equal(one_hot(labels, 5), F.one_hot(labels, 5).float())


def test_integer_encode_matches_sklearn():
    from sklearn.preprocessing import LabelEncoder

    words = ["yes", "no", "stop", "yes", "go", "no"]
    codes, classes = integer_encode(words)
    enc = LabelEncoder().fit(words)
    assert codes.tolist() == enc.transform(words).tolist()
    assert classes == list(enc.classes_)
    codes2, classes2 = integer_encode(words, classes=["yes", "no", "stop", "go"])
    assert [classes2[c] for c in codes2] == words


def test_ordinal_roundtrip_and_one_bit_neighbours():
    labels = torch.arange(5)
    codes = ordinal_encode(labels, 5)
    assert codes.shape == (5, 4)
    assert torch.equal(ordinal_decode(codes), labels)
    # neighbouring classes differ in exactly one position; distance grows with rank gap
    dist = torch.cdist(codes, codes, p=1)
    assert torch.equal(dist, (labels[:, None] - labels[None, :]).abs().float())
    from sklearn.preprocessing import OrdinalEncoder

    levels = [["quiet"], ["loud"], ["normal"]]
    ordenc = OrdinalEncoder(categories=[["quiet", "normal", "loud"]]).fit(levels)
    ranks = torch.tensor(ordenc.transform(levels)[:, 0].astype(int))
    assert ordinal_encode(ranks, 3).tolist() == [[0, 0], [1, 1], [1, 0]]


def test_binary_roundtrip_and_width():
    for n_classes, width in [(1, 1), (2, 1), (3, 2), (8, 3), (9, 4), (1000, 10)]:
        labels = torch.arange(n_classes)
        bits = binary_encode(labels, n_classes)
        assert bits.shape == (n_classes, width)
        assert torch.equal(binary_decode(bits), labels)
    assert binary_encode(torch.tensor([6]), 8).tolist() == [[1.0, 1.0, 0.0]]


def test_multi_hot_matches_sklearn():
    from sklearn.preprocessing import MultiLabelBinarizer

    sets = [[0, 2], [], [1, 2, 3], [3]]
    ref = MultiLabelBinarizer(classes=range(4)).fit_transform(sets)
    assert multi_hot(sets, 4).tolist() == ref.astype(float).tolist()


def test_soft_labels_match_torch_and_temperature_flattens():
    logits = torch.tensor([[4.0, 1.0, 0.0], [0.0, 0.0, 3.0]])
    torch.testing.assert_close(soft_labels(logits, 2.0), torch.softmax(logits / 2.0, dim=1))
    ent = lambda p: -(p * p.log()).sum(dim=1)  # noqa: E731
    assert torch.all(ent(soft_labels(logits, 4.0)) > ent(soft_labels(logits, 1.0)))
    assert torch.equal(soft_labels(logits, 1.0).argmax(1), logits.argmax(1))


def test_embedding_lookup_equals_one_hot_matmul_and_nn_embedding():
    g = torch.Generator().manual_seed(1)
    weight = torch.randn(6, 4, generator=g)
    labels = torch.tensor([5, 0, 2, 2])
    got = embedding_lookup(labels, weight)
    torch.testing.assert_close(got, one_hot(labels, 6) @ weight)
    torch.testing.assert_close(got, F.embedding(labels, weight))


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: one_hot(torch.tensor([0, 3]), 3), ValueError, r"\[0, 2\] for num_classes=3"),
        (lambda: one_hot(torch.tensor([0.0]), 3), TypeError, "integer tensor"),
        (lambda: one_hot(torch.tensor([0]), 0), ValueError, "positive int"),
        (lambda: integer_encode("yes"), TypeError, "list or tuple"),
        (lambda: integer_encode(["yes", "up"], classes=["yes"]), ValueError, "not in classes"),
        (lambda: integer_encode([]), ValueError, "empty"),
        (lambda: ordinal_encode(torch.tensor([0]), 1), ValueError, "at least 2"),
        (lambda: ordinal_encode(torch.tensor([-1]), 3), ValueError, r"\[0, 2\]"),
        (lambda: binary_encode(torch.tensor([8]), 8), ValueError, r"\[0, 7\]"),
        (lambda: multi_hot([[0, 5]], 3), ValueError, r"ints in \[0, 2\]"),
        (lambda: multi_hot([], 3), TypeError, "non-empty list"),
        (lambda: multi_hot(["ab"], 3), TypeError, "list of class indices"),
        (lambda: soft_labels(torch.ones(2, 3), 0.0), ValueError, "positive finite"),
        (lambda: soft_labels(torch.ones(3), 1.0), ValueError, "2 dimensions"),
        (lambda: embedding_lookup(torch.tensor([6]), torch.ones(6, 2)), ValueError, r"\[0, 5\]"),
        (lambda: embedding_lookup(torch.tensor([0]), torch.ones(6)), ValueError, "2 dimensions"),
    ],
)
def test_encoding_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_plot_mask_shows_the_mask():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from course_lib.plots.data import plot_mask

    mask = lengths_to_mask(torch.tensor([4, 2, 3]))
    ax = plot_mask(mask, lengths=[4, 2, 3])
    assert np.array_equal(ax.images[0].get_array(), mask.numpy())
    assert ax.get_xlabel() == "frame t"
    with pytest.raises(ValueError, match="2-D bool"):
        plot_mask(torch.ones(2, 3))
    plt.close("all")


def test_plot_mask_validates_rank_before_lengths():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from course_lib.plots.data import plot_mask

    with pytest.raises(ValueError, match="mask must be a 2-D bool array"):
        plot_mask(torch.tensor(True), lengths=[1])
    with pytest.raises(ValueError, match=r"lengths must hold one frame count in \[0, T\]"):
        plot_mask(torch.ones(2, 3, dtype=torch.bool), lengths=[4, 1])
    with pytest.raises(TypeError, match="mask must be a 2-D bool array"):
        plot_mask("mask")
    plt.close("all")
