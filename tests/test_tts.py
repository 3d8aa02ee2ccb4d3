"""espeak-ng synthesis through ctypes, and the course's speakers."""
import hashlib

import librosa
import numpy as np
import pytest
import torch
from scipy.signal import resample_poly

from course_lib.data import tts
from course_lib.data.tts import ACCENTS, VARIANTS, Speaker, get_speaker, speakers, synthesize, synthesize_speaker


def _hash(x: torch.Tensor) -> str:
    return hashlib.sha256(x.numpy().tobytes()).hexdigest()


# ----------------------------------------------------------------- speakers
def test_at_least_120_distinct_speakers_with_stable_ids():
    spk = speakers()
    assert len(spk) >= 120
    ids = [s.speaker_id for s in spk]
    assert ids == [f"spk{i:03d}" for i in range(len(spk))]
    combos = {(s.accent, s.variant, s.rate, s.pitch) for s in spk}
    assert len(combos) == len(spk)
    assert {s.accent for s in spk} == set(ACCENTS) and len(ACCENTS) >= 6
    assert {s.family for s in spk} == {"male", "female", "klatt"}
    for s in spk:
        assert 130 <= s.rate <= 210 and 0 <= s.pitch <= 100 and 0 <= s.pitch_range <= 100
        assert s.family == VARIANTS[s.variant]
    assert speakers() == spk  # deterministic


def test_speaker_snapshot_never_changes():
    # ids are used for splits in every later module: these must stay as they are
    assert get_speaker("spk000") == Speaker("spk000", "en-us", "m1", "male", 190, 35, 68)
    assert get_speaker("spk017") == Speaker("spk017", "en-gb", "m2", "male", 146, 52, 73)
    assert get_speaker("spk127") == Speaker("spk127", "en-us-nyc", "klatt4", "klatt", 167, 52, 62)
    assert get_speaker("spk017").voice == "en-gb+m2"
    assert set(get_speaker("spk005").as_dict()) >= {"speaker_id", "accent", "variant", "rate", "pitch", "voice"}


def test_get_speaker_bad_input():
    with pytest.raises(ValueError, match="unknown speaker"):
        get_speaker("spk999")
    with pytest.raises(TypeError, match="must be a str"):
        get_speaker(17)


# ----------------------------------------------------------------- synthesis
def test_synthesize_output_format():
    x = synthesize("seven", "en-us+f3")
    assert x.dtype == torch.float32 and x.ndim == 1
    assert 0.2 < x.shape[0] / 16000 < 1.0
    assert float(x.abs().max()) <= 1.0 and float(x.abs().max()) > 0.05
    assert torch.isfinite(x).all()
    # silence is trimmed: the first and last 10 ms are quiet relative to the peak
    edge = int(0.005 * 16000)
    assert float(x[:edge].abs().max()) < 0.3 * float(x.abs().max())


def test_synthesis_is_byte_identical_whatever_came_before():
    a = synthesize_speaker("left", "spk003")
    synthesize("something completely different", "en-029+klatt2", rate=300, pitch=90)
    b = synthesize_speaker("left", "spk003")
    assert _hash(a) == _hash(b)
    batch1 = tts._synth_batch([("yes", "en-us+m1", 170, 40, 50), ("no", "en-gb+f2", 150, 60, 50)])
    synthesize("noise in between", "en-gb-scotland+m3")
    batch2 = tts._synth_batch([("yes", "en-us+m1", 170, 40, 50), ("no", "en-gb+f2", 150, 60, 50)])
    assert all(np.array_equal(p, q) for p, q in zip(batch1, batch2))


def test_sample_rate_conversion_matches_scipy_resample_poly():
    raw = tts._fresh_engine().synth("go", "en-us+m3", 175, 50, 50)
    ours = tts._postprocess(raw, "go", 16000)
    # the trimmed native audio, resampled with scipy's default polyphase design
    native = tts._postprocess(raw, "go", tts.ESPEAK_SAMPLE_RATE).astype(np.float64)
    ref = resample_poly(native, 320, 441).astype(np.float32)
    np.testing.assert_allclose(ours, ref, atol=1e-6)
    assert native.shape[0] * 320 // 441 - 1 <= ours.shape[0] <= native.shape[0] * 320 // 441 + 1


def test_voices_differ_in_pitch_and_rate():
    def f0(x):
        f = librosa.yin(x.numpy(), fmin=60, fmax=500, sr=16000, frame_length=1024)
        return float(np.median(f))

    male = synthesize("a", "en-us+m1", pitch=30, rate=150)
    female = synthesize("a", "en-us+f3", pitch=70, rate=150)
    assert f0(female) > 1.3 * f0(male)
    slow = synthesize("one two three four", "en-us+m1", rate=110)
    fast = synthesize("one two three four", "en-us+m1", rate=260)
    assert slow.shape[0] > 1.5 * fast.shape[0]
    assert _hash(synthesize("yes", "en-gb+m1")) != _hash(synthesize("yes", "en-us+m1"))  # accents differ


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"text": ""}, ValueError, "text is empty"),
        ({"text": 5}, TypeError, "text must be a str"),
        ({"voice": "xx-nowhere"}, ValueError, "does not know the voice"),
        ({"rate": 10}, ValueError, r"rate must lie in \[80, 450\]"),
        ({"pitch": 101}, ValueError, "pitch must lie"),
        ({"pitch_range": 1.5}, TypeError, "pitch_range must be an int"),
        ({"sample_rate": 4000}, ValueError, "at least 8000"),
        ({"sample_rate": 16000.0}, TypeError, "int in Hz"),
    ],
)
def test_synthesize_bad_input(kwargs, exc, match):
    args = {"text": "yes", "voice": "en-us", **kwargs}
    with pytest.raises(exc, match=match):
        synthesize(args.pop("text"), args.pop("voice"), **args)


def test_synthesize_speaker_bad_input():
    with pytest.raises(TypeError, match="Speaker or an id"):
        synthesize_speaker("yes", 3)


def test_synthesize_batch_matches_and_is_deterministic():
    texts, who = ["yes", "stop", "yes"], ["spk000", "spk040", "spk000"]
    a = tts.synthesize_batch(texts, who)
    b = tts.synthesize_batch(texts, [get_speaker(s) for s in who])
    assert [_hash(x) for x in a] == [_hash(x) for x in b]
    assert all(x.dtype == torch.float32 and x.ndim == 1 for x in a)
    with pytest.raises(ValueError, match="one speaker per text"):
        tts.synthesize_batch(["yes", "no"], ["spk000"])
    with pytest.raises(ValueError, match="non-empty list"):
        tts.synthesize_batch("yes", ["spk000"])
