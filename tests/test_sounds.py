"""Synthesized environmental sounds."""
import numpy as np
import pytest
import torch
from scipy.signal import welch

from course_lib.data.sounds import SOUND_CLASSES, synthesize_sound

SR = 16000


def _centroid(x: torch.Tensor) -> float:
    f, p = welch(x.double().numpy(), fs=SR, nperseg=1024)
    return float((f * p).sum() / p.sum())


def test_at_least_eight_classes_all_valid_and_seeded():
    assert len(SOUND_CLASSES) >= 8 and len(set(SOUND_CLASSES)) == len(SOUND_CLASSES)
    for name in SOUND_CLASSES:
        a = synthesize_sound(name, 1.0, SR, seed=0)
        assert a.shape == (SR,) and a.dtype == torch.float32 and torch.isfinite(a).all()
        assert 0.3 - 1e-6 <= float(a.abs().max()) <= 0.9 + 1e-6
        assert torch.equal(a, synthesize_sound(name, 1.0, SR, seed=0))
        assert not torch.equal(a, synthesize_sound(name, 1.0, SR, seed=1))  # parametric variety


def test_classes_have_their_characteristic_spectra():
    def mean_centroid(name):
        return np.mean([_centroid(synthesize_sound(name, 1.0, SR, seed=s)) for s in range(4)])

    assert mean_centroid("engine") < 800  # low rumble
    assert mean_centroid("alarm_beeps") > 1500  # high beeps
    assert mean_centroid("bird_chirp") > 2000
    assert mean_centroid("wind") < 1000
    assert mean_centroid("rain") > 1500
    # the siren's pitch moves: the dominant frequency differs between halves of a clip
    x = synthesize_sound("siren", 2.0, SR, seed=3).numpy()
    peak = [np.argmax(np.abs(np.fft.rfft(seg))) for seg in (x[:4000], x[12000:16000])]
    assert peak[0] != peak[1]


def test_other_durations_and_rates():
    assert synthesize_sound("knock", 0.5, 8000, seed=2).shape == (4000,)


@pytest.mark.parametrize(
    "args, exc, match",
    [
        (("thunder",), ValueError, "unknown sound"),
        ((3,), TypeError, "name must be a str"),
        (("rain", 0.0), ValueError, r"duration_s must lie in \(0, 30\]"),
        (("rain", "1"), TypeError, "number of seconds"),
        (("rain", 1.0, 4000), ValueError, "at least 8000"),
        (("rain", 1.0, 16000, -1), TypeError, "non-negative int"),
    ],
)
def test_bad_input(args, exc, match):
    with pytest.raises(exc, match=match):
        synthesize_sound(*args)
