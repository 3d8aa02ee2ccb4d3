"""Tests for course_lib.augment: masks, determinism, speed, pitch, noise and rooms."""
from __future__ import annotations

import math

import librosa
import numpy as np
import pytest
import torch
import torchaudio.functional as TF
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib import augment as G
from course_lib.pitch import pitch
from course_lib.data.rooms import measure_rt60
from course_lib.data.noise import snr_db, white_noise

SR = 16000


def harmonic(f0: float, seconds: float = 1.0, dtype=torch.float32) -> torch.Tensor:
    t = torch.arange(int(seconds * SR), dtype=torch.float64) / SR
    return sum(torch.sin(2 * math.pi * f0 * k * t) / k for k in range(1, 4)).to(dtype)


def runs(row: torch.Tensor) -> list[int]:
    """Lengths of the runs of True in a 1-D bool tensor."""
    out, n = [], 0
    for v in row.tolist() + [False]:
        if v:
            n += 1
        elif n:
            out.append(n)
            n = 0
    return out


# ------------------------------------------------------------------ SpecAugment
def test_freq_masks_cover_whole_bands_and_respect_width():
    m = G.spec_augment_masks((64, 80, 100), n_freq_masks=1, freq_mask_param=12, n_time_masks=0, time_mask_param=0, generator=1)
    bands = m.all(-1)  # (B, F): a band is either fully masked or not at all
    assert torch.equal(m.any(-1), bands)
    widths = bands.sum(-1)
    assert int(widths.max()) <= 12
    assert len(set(widths.tolist())) > 5  # widths vary across items
    for row in bands:
        assert len(runs(row)) <= 1  # one mask -> one contiguous run


def test_time_masks_count_and_width():
    m = G.spec_augment_masks((64, 40, 200), n_freq_masks=0, freq_mask_param=0, n_time_masks=3, time_mask_param=10, generator=2)
    cols = m.all(-2)  # (B, T)
    assert torch.equal(m.any(-2), cols)
    for row in cols:
        r = runs(row)
        assert len(r) <= 3
        assert sum(r) <= 30


def test_masks_respect_lengths():
    lengths = torch.tensor([10, 50, 100, 3])
    m = G.spec_augment_masks((4, 20, 100), n_freq_masks=0, freq_mask_param=0, n_time_masks=4, time_mask_param=30, lengths=lengths, generator=3)
    for i, n in enumerate(lengths.tolist()):
        assert not bool(m[i, :, n:].any()), f"item {i} masked in its padding"
    # with enough draws, masks do reach the valid part
    big = G.spec_augment_masks((200, 4, 100), n_freq_masks=0, freq_mask_param=0, n_time_masks=1, time_mask_param=30,
                               lengths=torch.full((200,), 40), generator=4)
    assert bool(big[:, 0, :40].any()) and not bool(big[:, :, 40:].any())


def test_zero_masks_is_identity():
    x = torch.randn(2, 40, 30)
    y = G.spec_augment(x, n_freq_masks=0, freq_mask_param=0, n_time_masks=0, time_mask_param=0, generator=0)
    assert torch.equal(x, y)


def test_spec_augment_values_and_determinism():
    x = torch.randn(3, 40, 60, generator=torch.Generator().manual_seed(0))
    a = G.spec_augment(x, generator=5)
    b = G.spec_augment(x, generator=5)
    c = G.spec_augment(x, generator=6)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    mask = G.spec_augment_masks(tuple(x.shape), generator=5)
    assert torch.equal(a[~mask], x[~mask])
    fill = x.mean(dim=(-2, -1), keepdim=True).expand_as(x)
    assert torch.equal(a[mask], fill[mask])
    z = G.spec_augment(x, mask_value=-1.0, generator=5)
    assert bool((z[mask] == -1).all())


def test_spec_augment_mean_fill_ignores_padding():
    x = torch.zeros(1, 10, 20)
    x[..., :10] = 2.0
    x[..., 10:] = 100.0  # padding
    y = G.spec_augment(x, n_freq_masks=2, freq_mask_param=5, n_time_masks=0, time_mask_param=0, lengths=torch.tensor([10]), generator=0)
    mask = G.spec_augment_masks(tuple(x.shape), n_freq_masks=2, freq_mask_param=5, n_time_masks=0, time_mask_param=0, lengths=torch.tensor([10]), generator=0)
    assert bool(mask.any())
    assert bool((y[mask] == 2.0).all())


def test_spec_augment_module_train_eval_and_sequence():
    aug = G.SpecAugment(seed=7)
    x = torch.randn(2, 80, 100)
    first, second = aug(x), aug(x)
    assert not torch.equal(first, second)  # a new draw per batch
    again = G.SpecAugment(seed=7)
    assert torch.equal(again(x), first)  # same seed -> same sequence
    aug.eval()
    assert aug(x) is x


@settings(max_examples=25, deadline=None)
@given(batch=st.integers(1, 4), n_freq=st.integers(10, 80), n_frames=st.integers(1, 120), seed=st.integers(0, 10_000))
def test_mask_property_bounds(batch, n_freq, n_frames, seed):
    lengths = torch.randint(0, n_frames + 1, (batch,), generator=torch.Generator().manual_seed(seed))
    kw = dict(lengths=lengths, generator=seed)
    time_only = G.spec_augment_masks((batch, n_freq, n_frames), n_freq_masks=0, freq_mask_param=0,
                                     n_time_masks=2, time_mask_param=15, **kw)
    freq_only = G.spec_augment_masks((batch, n_freq, n_frames), n_freq_masks=2, freq_mask_param=10,
                                     n_time_masks=0, time_mask_param=0, **kw)
    for i, n in enumerate(lengths.tolist()):
        assert not bool(time_only[i, :, n:].any())
        assert int(time_only[i, 0].sum()) <= min(30, n)
        assert int(freq_only[i, :, 0].sum()) <= 20


# ------------------------------------------------------------------ speed perturbation
@pytest.mark.parametrize("factor", [0.9, 1.1, 1.25, 0.8])
def test_speed_perturb_changes_duration_and_pitch_by_factor(factor):
    x = harmonic(150.0)
    y = G.speed_perturb(x, SR, factor)
    assert y.shape[-1] == math.ceil(x.shape[-1] / factor)
    f0, voiced = pitch(y, SR)
    assert abs(float(f0[voiced].median()) / (150.0 * factor) - 1) < 0.01


def test_speed_perturb_matches_torchaudio_speed():
    x = torch.randn(2, 8000, generator=torch.Generator().manual_seed(1))
    ours = G.speed_perturb(x, SR, 1.1)
    ref, _ = TF.speed(x, SR, 1.1)
    assert ours.shape == ref.shape
    torch.testing.assert_close(ours, ref, atol=1e-5, rtol=0)


def test_random_speed_perturb_deterministic_and_covers_choices():
    x = torch.randn(4000)
    seen = {G.random_speed_perturb(x, SR, generator=s)[1] for s in range(30)}
    assert seen == {0.9, 1.0, 1.1}
    a, fa = G.random_speed_perturb(x, SR, generator=3)
    b, fb = G.random_speed_perturb(x, SR, generator=3)
    assert fa == fb and torch.equal(a, b)


# ------------------------------------------------------------------ time stretch and pitch shift
def test_phase_vocoder_matches_torchaudio():
    x = torch.randn(2, 8000, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    spec = torch.stft(x, 512, 128, window=torch.hann_window(512, dtype=torch.float64), return_complex=True)
    advance = torch.linspace(0, math.pi * 128, 257, dtype=torch.float64)[:, None]
    for rate in (0.8, 1.3):
        torch.testing.assert_close(G._phase_vocoder(spec, rate, 128), TF.phase_vocoder(spec, rate, advance), atol=1e-8, rtol=0)


@pytest.mark.parametrize("rate", [0.8, 1.25])
def test_time_stretch_keeps_pitch(rate):
    x = harmonic(200.0)
    y = G.time_stretch(x, rate)
    assert y.shape[-1] == round(x.shape[-1] / rate)
    f0, voiced = pitch(y, SR)
    assert abs(float(f0[voiced].median()) / 200.0 - 1) < 0.01


@pytest.mark.parametrize("steps", [-5.0, -2.0, 3.0, 7.0])
def test_pitch_shift_moves_f0_by_ratio_and_keeps_length(steps):
    x = harmonic(150.0)
    y = G.pitch_shift(x, SR, steps)
    assert y.shape == x.shape
    f0, voiced = pitch(y, SR)
    expected = 150.0 * 2 ** (steps / 12)
    assert abs(float(f0[voiced][5:-5].median()) / expected - 1) < 0.01


def test_pitch_shift_agrees_with_librosa_on_f0():
    x = harmonic(180.0)
    ours = G.pitch_shift(x, SR, 4.0)
    ref = librosa.effects.pitch_shift(x.numpy(), sr=SR, n_steps=4.0)
    f_ours, _ = pitch(ours, SR)
    f_ref, _ = pitch(torch.from_numpy(ref), SR)
    assert abs(float(f_ours[10:-10].median() / f_ref[10:-10].median()) - 1) < 0.005


def test_pitch_shift_batch_equals_items():
    x = torch.stack([harmonic(120.0, 0.5), harmonic(220.0, 0.5)])
    y = G.pitch_shift(x, SR, 2.0)
    for i in range(2):
        torch.testing.assert_close(y[i], G.pitch_shift(x[i], SR, 2.0), atol=1e-5, rtol=0)


# ------------------------------------------------------------------ noise and reverb
def test_add_noise_hits_drawn_snr_per_item():
    x = torch.stack([harmonic(100.0, 0.5), 0.1 * harmonic(300.0, 0.5)])
    noise = white_noise(3000, seed=1)  # shorter than x: tiled
    y, snr = G.add_noise(x, noise, snr_db_range=(0.0, 10.0), generator=2)
    assert snr.shape == (2,)
    assert bool(((snr >= 0) & (snr <= 10)).all())
    torch.testing.assert_close(snr_db(x, y - x), snr, atol=1e-3, rtol=0)
    y2, snr2 = G.add_noise(x, noise, snr_db_range=(0.0, 10.0), generator=2)
    assert torch.equal(y, y2) and torch.equal(snr, snr2)


def test_add_reverb_draws_rt60_in_range_and_is_deterministic():
    x = torch.zeros(SR)
    x[0] = 1.0  # an impulse: the output is the room's response
    y, rt60 = G.add_reverb(x, SR, rt60_range=(0.3, 0.6), generator=4)
    assert 0.3 <= rt60 <= 0.6
    assert abs(measure_rt60(y, SR) - rt60) < 0.1
    y2, rt2 = G.add_reverb(x, SR, rt60_range=(0.3, 0.6), generator=4)
    assert rt2 == rt60 and torch.equal(y, y2)


# ------------------------------------------------------------------ bad input
def test_bad_input():
    with pytest.raises(TypeError, match="generator must be a torch.Generator or an int seed"):
        G.spec_augment(torch.ones(4, 10), generator=None)
    with pytest.raises(ValueError, match="seed must be >= 0"):
        G.spec_augment(torch.ones(4, 10), generator=-1)
    with pytest.raises(ValueError, match="at least 2 dimension"):
        G.spec_augment(torch.ones(10), generator=0)
    with pytest.raises(ValueError, match="freq_mask_param must be <= the number of bands"):
        G.spec_augment(torch.ones(8, 10), freq_mask_param=9, generator=0)
    with pytest.raises(ValueError, match="n_time_masks must be a non-negative int"):
        G.spec_augment(torch.ones(20, 10), n_time_masks=-1, generator=0)
    with pytest.raises(ValueError, match="lengths must lie in"):
        G.spec_augment(torch.ones(2, 20, 10), lengths=torch.tensor([5, 11]), generator=0)
    with pytest.raises(ValueError, match=r"lengths need \(B, F, T\)"):
        G.spec_augment(torch.ones(20, 10), lengths=torch.tensor([5]), generator=0)
    with pytest.raises(ValueError, match="mask_value must be a number or 'mean'"):
        G.spec_augment(torch.ones(20, 10), mask_value="zero", generator=0)
    with pytest.raises(ValueError, match=r"factor must lie in \[0.5, 2.0\]"):
        G.speed_perturb(torch.ones(100), SR, 3.0)
    with pytest.raises(ValueError, match="factors must be a non-empty tuple"):
        G.random_speed_perturb(torch.ones(100), SR, factors=(), generator=0)
    with pytest.raises(ValueError, match=r"n_semitones must lie in \[-12, 12\]"):
        G.pitch_shift(torch.ones(1000), SR, 13.0)
    with pytest.raises(TypeError, match="floating-point"):
        G.time_stretch(torch.ones(1000, dtype=torch.int32), 1.1)
    with pytest.raises(ValueError, match="snr_db_range must satisfy"):
        G.add_noise(torch.ones(100), torch.ones(100), snr_db_range=(10.0, 0.0), generator=0)
    with pytest.raises(ValueError, match="noise must have 1 dimensions"):
        G.add_noise(torch.ones(100), torch.ones(2, 100), generator=0)
    with pytest.raises(ValueError, match="rt60_range must start above 0"):
        G.add_reverb(torch.ones(100), SR, rt60_range=(0.0, 0.5), generator=0)
    with pytest.raises(ValueError, match="NaN or infinite"):
        G.speed_perturb(torch.tensor([float("nan")] * 10), SR, 1.1)


def test_spec_augment_accepts_numpy_lengths_and_features():
    x = np.random.default_rng(0).standard_normal((2, 20, 30)).astype(np.float32)
    lengths = np.array([30, 12])
    y = G.spec_augment(x, lengths=lengths, generator=0)
    ref = G.spec_augment(torch.from_numpy(x), lengths=torch.from_numpy(lengths), generator=0)
    assert torch.equal(y, ref)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_spec_augment_rejects_a_non_finite_mask_value(bad):
    with pytest.raises(ValueError, match="mask_value must be a finite number or 'mean'"):
        G.SpecAugment(mask_value=bad)
    with pytest.raises(ValueError, match="mask_value must be a finite number or 'mean'"):
        G.spec_augment(torch.ones(20, 10), mask_value=bad, generator=0)
