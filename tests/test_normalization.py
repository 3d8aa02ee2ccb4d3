"""CMVN by whose statistics (utterance, speaker, causal stream) and the clip-vector mean removal."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.mel import clip_features
from course_lib.normalization import (
    RunningCMVN,
    apply_cmvn,
    causal_cmvn,
    cmvn_stats,
    speaker_cmvn,
    speaker_stats,
    stream_means,
    subtract_band_means,
    utterance_cmvn,
)


def _frames(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


# ---------------------------------------------------------------- per utterance
def test_utterance_cmvn_zero_mean_unit_variance_per_band():
    x = 3.0 + 2.0 * _frames(4, 5, 50)                       # (B, F, T)
    y = utterance_cmvn(x, variance=True, eps=0.0)
    assert torch.allclose(y.mean(-1), torch.zeros(4, 5, dtype=x.dtype), atol=1e-12)
    assert torch.allclose(y.var(-1, unbiased=False), torch.ones(4, 5, dtype=x.dtype), atol=1e-10)
    assert torch.allclose(utterance_cmvn(x).mean(-1), torch.zeros(4, 5, dtype=x.dtype), atol=1e-12)


def test_utterance_cmvn_removes_a_per_band_offset_and_is_batch_consistent():
    x = _frames(3, 4, 20)
    offset = torch.tensor([1.0, -2.0, 5.0, 0.3], dtype=x.dtype)[None, :, None]   # a gain / smooth channel in log
    assert torch.allclose(utterance_cmvn(x + offset), utterance_cmvn(x), atol=1e-12)
    item_by_item = torch.stack([utterance_cmvn(x[i]) for i in range(3)])
    assert torch.allclose(utterance_cmvn(x), item_by_item, atol=1e-12)


def test_utterance_cmvn_with_lengths_ignores_padding_and_zeroes_it():
    x = _frames(2, 3, 10)
    lengths = torch.tensor([10, 6])
    padded = x.clone()
    padded[1, :, 6:] = 99.0                                 # garbage in the padding
    y = utterance_cmvn(padded, lengths, variance=True)
    assert torch.allclose(y[1, :, :6], utterance_cmvn(x[1, :, :6], variance=True), atol=1e-12)
    assert bool((y[1, :, 6:] == 0).all())
    mean, var = cmvn_stats(padded, lengths)
    assert torch.allclose(mean[1], x[1, :, :6].mean(-1)) and torch.allclose(var[1], x[1, :, :6].var(-1, unbiased=False))


def test_apply_cmvn_matches_formula():
    x = _frames(2, 3, 7)
    mean, var = torch.tensor([0.5, -1.0, 2.0], dtype=x.dtype), torch.tensor([1.0, 4.0, 0.25], dtype=x.dtype)
    expected = (x - mean[:, None]) / torch.sqrt(var[:, None] + 1e-5)
    assert torch.allclose(apply_cmvn(x, mean, var), expected)


def test_cmvn_bad_input():
    with pytest.raises(ValueError, match=r"at least 2 dimension"):
        utterance_cmvn(torch.zeros(5))
    with pytest.raises(TypeError, match="floating"):
        utterance_cmvn(torch.zeros(2, 3, dtype=torch.long))
    with pytest.raises(ValueError, match="lengths needs x of shape"):
        utterance_cmvn(torch.zeros(3, 4), lengths=torch.tensor([2]))
    with pytest.raises(ValueError, match="at least 1 valid frame"):
        utterance_cmvn(torch.zeros(1, 3, 4), lengths=torch.tensor([0]))
    with pytest.raises(ValueError, match="mean must have 3 bands"):
        apply_cmvn(torch.zeros(3, 4), torch.zeros(2))
    with pytest.raises(ValueError, match="var must be >= 0"):
        apply_cmvn(torch.zeros(3, 4), torch.zeros(3), -torch.ones(3))


# ---------------------------------------------------------------- per speaker
def test_speaker_stats_pool_all_frames_of_a_speaker():
    x = _frames(5, 3, 8)
    spk = ["a", "b", "a", "c", "a"]
    mean, var = speaker_stats(x, spk)
    pooled = torch.cat([x[0], x[2], x[4]], dim=-1)          # (F, 3 * T)
    for i in (0, 2, 4):
        assert torch.allclose(mean[i], pooled.mean(-1)) and torch.allclose(var[i], pooled.var(-1, unbiased=False))
    assert torch.allclose(mean[1], x[1].mean(-1))           # a speaker with one utterance: per-utterance stats
    y = speaker_cmvn(x, np.array(spk))
    assert torch.allclose(torch.cat([y[0], y[2], y[4]], -1).mean(-1), torch.zeros(3, dtype=x.dtype), atol=1e-12)


def test_speaker_cmvn_bad_input():
    with pytest.raises(ValueError, match="one id per utterance"):
        speaker_cmvn(torch.zeros(2, 3, 4), ["a"])
    with pytest.raises(TypeError, match="sequence"):
        speaker_cmvn(torch.zeros(2, 3, 4), "ab")


# ---------------------------------------------------------------- causal / streaming
def test_causal_cmvn_matches_the_recursion_and_uses_no_future_frames():
    x = _frames(3, 30)                                       # (F, T)
    m0 = torch.tensor([0.1, -0.2, 0.3], dtype=x.dtype)
    y = causal_cmvn(x, decay=0.9, init_mean=m0)
    m = m0.clone()
    for t in range(30):
        m = 0.9 * m + 0.1 * x[:, t]
        assert torch.allclose(y[:, t], x[:, t] - m)
    changed = x.clone()
    changed[:, 20:] += 100.0                                 # a loud event later on
    assert torch.equal(causal_cmvn(changed, decay=0.9, init_mean=m0)[:, :20], y[:, :20])


def test_causal_cmvn_converges_to_utterance_stats_on_a_stationary_stream():
    x = 5.0 + 2.0 * _frames(2, 4000)
    y = causal_cmvn(x, decay=0.99, variance=True)
    tail = y[:, 2000:]
    assert tail.mean().abs() < 0.1 and (tail.std() - 1.0).abs() < 0.1


@settings(max_examples=25, deadline=None)
@given(cuts=st.lists(st.integers(1, 39), min_size=0, max_size=4, unique=True), variance=st.booleans())
def test_running_cmvn_chunk_by_chunk_equals_whole_stream(cuts, variance):
    x = _frames(4, 40, seed=1)
    m0, v0 = torch.zeros(4, dtype=x.dtype), torch.ones(4, dtype=x.dtype)
    whole = causal_cmvn(x, decay=0.95, init_mean=m0, init_var=v0, variance=variance)
    norm = RunningCMVN(4, decay=0.95, mean=m0, var=v0, variance=variance)
    bounds = [0, *sorted(cuts), 40]
    chunks = [norm(x[:, a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
    assert torch.allclose(torch.cat(chunks, dim=-1), whole, atol=1e-10)
    assert norm.frames_seen_ == 40


def test_running_cmvn_update_closed_form_equals_the_loop():
    x = _frames(3, 25, seed=2)
    norm = RunningCMVN(3, decay=0.8, mean=torch.zeros(3, dtype=x.dtype)).update(x)
    m, s = torch.zeros(3, dtype=x.dtype), torch.zeros(3, dtype=x.dtype)
    for t in range(25):
        m, s = 0.8 * m + 0.2 * x[:, t], 0.8 * s + 0.2 * x[:, t] ** 2
    assert torch.allclose(norm.mean_, m) and torch.allclose(norm.var_, (s - m**2).clamp_min(0))


def test_running_cmvn_starts_from_first_frame_without_a_start():
    x = _frames(2, 5)
    norm = RunningCMVN(2, decay=0.9)
    assert norm.mean_ is None
    assert torch.allclose(norm(x), causal_cmvn(x, decay=0.9))


def test_stream_means_reads_state_before_each_utterance_in_time_order():
    x = _frames(4, 2, 6)
    init = torch.zeros(2, dtype=x.dtype)
    out = stream_means(x, ["s", "t", "s", "s"], init_mean=init, decay=0.9, order=[30, 0, 10, 20])
    # stream s is heard in the order rows 2, 3, 0
    norm = RunningCMVN(2, decay=0.9, mean=init)
    assert torch.equal(out[2], init)
    norm.update(x[2])
    assert torch.allclose(out[3], norm.mean_)
    norm.update(x[3])
    assert torch.allclose(out[0], norm.mean_)
    assert torch.equal(out[1], init)


def test_causal_bad_input():
    with pytest.raises(ValueError, match="decay must lie in"):
        causal_cmvn(torch.zeros(2, 3), decay=1.0)
    with pytest.raises(ValueError, match="init_mean must have 2 bands"):
        causal_cmvn(torch.zeros(2, 3), init_mean=torch.zeros(3))
    with pytest.raises(ValueError, match="init_var needs init_mean"):
        causal_cmvn(torch.zeros(2, 3), init_var=torch.ones(2))
    with pytest.raises(ValueError, match=r"frames must have shape \(2, T\)"):
        RunningCMVN(2)(torch.zeros(3, 4))
    with pytest.raises(ValueError, match="init_mean must have shape"):
        stream_means(torch.zeros(2, 3, 4), ["a", "b"], init_mean=torch.zeros(2))


# ---------------------------------------------------------------- clip vectors
def test_subtract_band_means_equals_cmn_of_the_frames_before_pooling():
    x = 0.05 * torch.randn(3, 16000, generator=torch.Generator().manual_seed(0))
    x[:, 4000:9000] *= 8.0                                   # a louder "word"
    quiet = x * 10 ** (-20 / 20)                             # the same clips 20 dB lower: -4.6 nats in every band
    from course_lib.mel import log_mel

    def cmn(w):
        return subtract_band_means(clip_features(w), cmvn_stats(log_mel(w, 16000, n_mels=40))[0])

    raw_gap = (clip_features(quiet) - clip_features(x)).abs().max()
    assert raw_gap > 4.0
    assert torch.allclose(cmn(quiet), cmn(x), atol=2e-3)   # equal up to log_mel's floor eps


def test_subtract_band_means_layout_and_bad_input():
    v = torch.arange(10.0)[None, :]                          # F = 2, 4 segments, then 2 stds
    out = subtract_band_means(v, torch.tensor([1.0, 2.0]))
    assert out.tolist() == [[-1.0, 0.0, 1.0, 2.0, 2.0, 3.0, 4.0, 5.0, 8.0, 9.0]]
    with pytest.raises(ValueError, match="columns for 3 bands"):
        subtract_band_means(v, torch.zeros(3))
    with pytest.raises(ValueError, match="rows"):
        subtract_band_means(v, torch.zeros(2, 2))


def test_rms_norm_module_rejects_a_none_shape():
    from course_lib.normalization import RMSNorm

    with pytest.raises(TypeError, match="normalized_shape must be an int or a sequence of int"):
        RMSNorm(None)


def test_running_cmvn_names_its_own_arguments():
    from course_lib.normalization import RunningCMVN

    with pytest.raises(TypeError, match="mean must be a torch.Tensor or numpy.ndarray, got str"):
        RunningCMVN(3, mean="zeros")
    with pytest.raises(ValueError, match="var needs mean"):
        RunningCMVN(3, var=torch.ones(3))
