"""Tests for course_lib.speech: sustained vowels, their spectra, envelopes and MFCCs (the source-filter view)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from course_lib import speech as SP
from course_lib.audio import tone
from course_lib.cepstrum import mfcc

SR = 16000


@pytest.fixture(scope="module")
def ah_low() -> torch.Tensor:
    return SP.sustained_vowel("a", "en-us+m3", pitch=15)


@pytest.fixture(scope="module")
def ah_high() -> torch.Tensor:
    return SP.sustained_vowel("a", "en-us+m3", pitch=85)


def test_sustained_vowel_is_deterministic_and_steady(ah_low):
    again = SP.sustained_vowel("a", "en-us+m3", pitch=15)
    assert torch.equal(ah_low, again)
    frames, f0 = SP.steady_voiced_frames(ah_low)
    assert len(frames) >= 20
    assert float(f0.max() / f0.min()) < 1.05  # monotone: the steady part holds one pitch


def test_vowel_pitch_setting_moves_f0_about_an_octave(ah_low, ah_high):
    lo, hi = SP.vowel_spectrum(ah_low), SP.vowel_spectrum(ah_high)
    assert 1.8 < hi.f0_hz / lo.f0_hz < 2.4
    assert lo.log_power_db.shape == (1025,) and lo.freqs_hz[-1] == SR / 2


def test_vowel_spectrum_shows_harmonics_at_multiples_of_f0():
    # a synthetic "vowel": harmonics of 150 Hz -> spectral peaks every 150 Hz
    x = tone([150.0 * k for k in range(1, 11)], 1.0, amplitude=0.05)
    vs = SP.vowel_spectrum(x)
    assert abs(vs.f0_hz - 150.0) < 2.0
    band = (vs.freqs_hz > 100) & (vs.freqs_hz < 1000)
    spec = vs.log_power_db.numpy()[band]
    import scipy.signal

    peaks, _ = scipy.signal.find_peaks(spec, prominence=10)
    np.testing.assert_allclose(vs.freqs_hz[band][peaks], 150.0 * np.arange(1, 7), atol=8.0)


def test_envelope_peaks_of_a_known_envelope():
    k = torch.arange(1025.0)
    env = -10 * torch.cos(2 * math.pi * k / 2048 * 4)  # peaks at 2 and 6 kHz
    np.testing.assert_allclose(SP.envelope_peaks(env), [2000.0, 6000.0])
    assert len(SP.envelope_peaks(env, n_peaks=1)) == 1


def test_envelope_moves_less_than_harmonics(ah_low, ah_high):
    lo, hi = SP.vowel_spectrum(ah_low), SP.vowel_spectrum(ah_high)
    shift = np.abs(SP.envelope_peaks(hi.log_power_db) / SP.envelope_peaks(lo.log_power_db) - 1)
    assert shift.max() < 0.3 < hi.f0_hz / lo.f0_hz - 1


def test_vowel_mfcc_is_the_mean_over_steady_frames(ah_low):
    frames, _ = SP.steady_voiced_frames(ah_low)
    expected = mfcc(ah_low)[1:, frames].mean(-1)
    torch.testing.assert_close(SP.vowel_mfcc(ah_low), expected)


def test_vowel_distance_table_mfcc_move_less_with_pitch_than_with_vowel():
    table = SP.vowel_distance_table(["en-gb+f3"], ("a", "i", "u"))
    row = table.iloc[0]
    assert row.mfcc_pitch_max < row.mfcc_vowel_min
    assert row.mfcc_ratio < row.spec_ratio
    assert 100 < row.f0_low_hz < row.f0_high_hz < 300


def test_bad_speech_arguments():
    with pytest.raises(ValueError, match="vowel must be one of"):
        SP.sustained_vowel("y")
    with pytest.raises(ValueError, match="voiced frames found"):
        SP.steady_voiced_frames(torch.zeros(8000))
    with pytest.raises(ValueError, match=r"shaped \(time,\)"):
        SP.steady_voiced_frames(torch.zeros(2, 8000))
    with pytest.raises(ValueError, match="n_mfcc must be >= 2"):
        SP.vowel_mfcc(tone(150.0, 0.5), n_mfcc=1)
    with pytest.raises(ValueError, match="prominence_db must be a positive"):
        SP.envelope_peaks(torch.zeros(1025), prominence_db=0)
    with pytest.raises(ValueError, match="voices must be a non-empty list"):
        SP.vowel_distance_table("en-us+m3")
    with pytest.raises(ValueError, match="two different vowels"):
        SP.vowel_distance_table(["en-us+m3"], ("a", "a"))
    with pytest.raises(ValueError, match="two different espeak pitch"):
        SP.vowel_distance_table(["en-us+m3"], pitches=(50, 50))
