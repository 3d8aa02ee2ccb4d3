"""Tests for course_lib.audio: parity with librosa and torchaudio, gradients,
batch consistency, properties and bad input.

Tolerances (float32 input):
- filterbanks: 1e-6 absolute against librosa, 1e-5 against torchaudio
  (torchaudio builds them in float32);
- spectrogram / mel spectrogram: 1e-4 relative to the peak value;
- dB and MFCC: 1e-3 dB and 1e-3 absolute (MFCC values are in the hundreds);
- deltas: 1e-5 absolute;
- resample: 1e-5 absolute against torchaudio (same filter design); the
  interior of a band-limited tone within 2e-3 of librosa's soxr and scipy's
  polyphase resamplers;
- pitch: median within 1 % of librosa.yin on harmonic tones.
"""
from __future__ import annotations

import math

import librosa
import numpy as np
import pytest
import scipy.signal
import torch
import torchaudio.functional as TF
import torchaudio.transforms as TT
from hypothesis import given, settings
from hypothesis import strategies as st
from course_lib import audio as A
from course_lib import cepstrum as CEP
from course_lib import mel as M
from course_lib import pitch as PITCH
SR = 16000


@pytest.fixture(scope="module")
def noise() -> torch.Tensor:
    gen = torch.Generator().manual_seed(0)
    return 0.1 * torch.randn(8000, generator=gen)


def tone(freq: float, seconds: float = 0.5, sr: int = SR, harmonics: int = 1) -> torch.Tensor:
    t = torch.arange(int(seconds * sr), dtype=torch.float64) / sr
    y = sum(torch.sin(2 * math.pi * freq * k * t) / k for k in range(1, harmonics + 1))
    return y.float()


def rel_err(a, b) -> float:
    a, b = torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)
    return float((a - b).abs().max() / b.abs().max())


# ------------------------------------------------------------------ framing, windows, STFT
def test_frame_matches_librosa(noise):
    ours = A.frame(noise, 400, 160)
    ref = librosa.util.frame(noise.numpy(), frame_length=400, hop_length=160)
    assert ours.shape == ref.shape
    np.testing.assert_array_equal(ours.numpy(), ref)


@pytest.mark.parametrize("kind,fn", [("hann", torch.hann_window), ("hamming", torch.hamming_window)])
@pytest.mark.parametrize("periodic", [True, False])
def test_window_matches_torch_and_scipy(kind, fn, periodic):
    ours = A.window(kind, 401, periodic=periodic)
    torch.testing.assert_close(ours, fn(401, periodic=periodic), atol=1e-6, rtol=0)
    ref = scipy.signal.get_window(kind, 401, fftbins=periodic)
    np.testing.assert_allclose(ours.numpy(), ref, atol=1e-6)


@pytest.mark.parametrize("n_fft,hop,win", [(400, 160, None), (512, 128, 400), (256, 64, 256)])
@pytest.mark.parametrize("center", [True, False])
def test_stft_matches_librosa(noise, n_fft, hop, win, center):
    ours = A.stft(noise, n_fft, hop, win, center=center)
    ref = librosa.stft(noise.numpy(), n_fft=n_fft, hop_length=hop, win_length=win, center=center, pad_mode="reflect")
    assert ours.shape == ref.shape
    assert rel_err(ours.abs(), np.abs(ref)) < 1e-4
    assert rel_err(torch.view_as_real(ours), torch.view_as_real(torch.from_numpy(ref))) < 1e-4


@pytest.mark.parametrize("power", [1.0, 2.0])
def test_spectrogram_matches_torchaudio(noise, power):
    ours = A.spectrogram(noise, 400, 160, power=power)
    ref = TT.Spectrogram(n_fft=400, hop_length=160, power=power)(noise)
    assert rel_err(ours, ref) < 1e-4


def test_parseval_full_stft():
    """With a rectangular window, hop = n_fft and no padding, energy is preserved (Parseval)."""
    x = torch.randn(4, 1024, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    spec = A.spectrogram(x, n_fft=256, hop_length=256, window_kind="rectangular", center=False)
    # one-sided: bins 1..N/2-1 stand for two, DC and Nyquist for one
    weights = torch.full((129, 1), 2.0, dtype=torch.float64)
    weights[0] = weights[-1] = 1.0
    energy_freq = (spec * weights).sum(dim=(-2, -1)) / 256
    torch.testing.assert_close(energy_freq, x.pow(2).sum(-1))


# ------------------------------------------------------------------ mel scale and filterbanks
@pytest.mark.parametrize("htk", [True, False])
def test_hz_mel_match_librosa(htk):
    f = np.array([0.0, 50.0, 440.0, 999.0, 1000.0, 1001.0, 4000.0, 8000.0])
    np.testing.assert_allclose(M.hz_to_mel(f, htk=htk), librosa.hz_to_mel(f, htk=htk), rtol=1e-10)
    m = librosa.hz_to_mel(f, htk=htk)
    np.testing.assert_allclose(M.mel_to_hz(m, htk=htk), librosa.mel_to_hz(m, htk=htk), rtol=1e-10, atol=1e-9)


def test_hz_to_mel_types_roundtrip():
    assert isinstance(M.hz_to_mel(440.0), float)
    assert M.hz_to_mel(torch.tensor([440.0])).dtype == torch.float32
    assert M.hz_to_mel(np.array([440.0])).dtype == np.float64
    # the two HTK constants describe the same curve: 2595 log10 = 1127 ln
    assert M.hz_to_mel(3000.0, htk=True) == pytest.approx(1127.0 * math.log(1 + 3000 / 700), rel=1e-4)


@settings(max_examples=50, deadline=None)
@given(f=st.floats(min_value=0.0, max_value=48000.0, allow_nan=False), htk=st.booleans())
def test_mel_roundtrip_property(f, htk):
    assert M.mel_to_hz(M.hz_to_mel(f, htk=htk), htk=htk) == pytest.approx(f, rel=1e-9, abs=1e-6)


@settings(max_examples=30, deadline=None)
@given(a=st.floats(0.0, 20000.0), b=st.floats(0.0, 20000.0), htk=st.booleans())
def test_mel_is_monotonic(a, b, htk):
    # strict only for a gap float64 can resolve: log10(1 + 6e-213 / 700) rounds to 0 (hypothesis found it)
    if a + 1e-6 < b:
        assert M.hz_to_mel(a, htk=htk) < M.hz_to_mel(b, htk=htk)
    elif a <= b:
        assert M.hz_to_mel(a, htk=htk) <= M.hz_to_mel(b, htk=htk)


@pytest.mark.parametrize("htk", [True, False])
@pytest.mark.parametrize("norm", [None, "slaney"])
@pytest.mark.parametrize("sr,n_fft,n_mels,f_min,f_max", [(16000, 400, 40, 0.0, None), (16000, 512, 80, 20.0, 7600.0), (8000, 256, 23, 0.0, 4000.0)])
def test_mel_filterbank_matches_librosa_and_torchaudio(htk, norm, sr, n_fft, n_mels, f_min, f_max):
    ours = M.mel_filterbank(sr, n_fft, n_mels, f_min=f_min, f_max=f_max, htk=htk, norm=norm)
    lib = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=f_min, fmax=f_max, htk=htk, norm=norm)
    assert ours.shape == lib.shape == (n_mels, n_fft // 2 + 1)
    np.testing.assert_allclose(ours.numpy(), lib, atol=1e-6)
    ta = TF.melscale_fbanks(
        n_fft // 2 + 1, f_min, f_max if f_max else sr / 2, n_mels, sr, norm=norm, mel_scale="htk" if htk else "slaney"
    )
    torch.testing.assert_close(ours, ta.T, atol=1e-5, rtol=0)  # torchaudio: (n_freq, n_mels)


def test_slaney_norm_equal_area():
    fb = M.mel_filterbank(16000, 4096, 40, htk=True, norm="slaney", dtype=torch.float64)
    area = fb.sum(-1) * (16000 / 4096)  # Riemann sum over Hz
    assert float(area.std() / area.mean()) < 0.02


# ------------------------------------------------------------------ mel, dB, log-mel, MFCC
@pytest.mark.parametrize(
    "kwargs",
    [
        dict(n_fft=400, hop_length=160, n_mels=80),
        dict(n_fft=512, hop_length=128, win_length=400, n_mels=40, f_min=20.0, f_max=7600.0),
        dict(n_fft=400, hop_length=160, n_mels=40, center=False),
    ],
)
def test_mel_spectrogram_matches_torchaudio(noise, kwargs):
    ours = M.mel_spectrogram(noise, SR, **kwargs)
    ta_kwargs = dict(kwargs)
    ref = TT.MelSpectrogram(SR, pad_mode="reflect", **ta_kwargs)(noise)
    assert ours.shape == ref.shape
    assert rel_err(ours, ref) < 1e-4


@pytest.mark.parametrize("htk,norm", [(True, None), (False, "slaney"), (True, "slaney")])
@pytest.mark.parametrize("center", [True, False])
def test_mel_spectrogram_matches_librosa(noise, htk, norm, center):
    ours = M.mel_spectrogram(noise, SR, 512, 128, n_mels=64, htk=htk, norm=norm, center=center)
    ref = librosa.feature.melspectrogram(
        y=noise.numpy(), sr=SR, n_fft=512, hop_length=128, n_mels=64, htk=htk, norm=norm, center=center, pad_mode="reflect"
    )
    assert ours.shape == ref.shape
    assert rel_err(ours, ref) < 1e-4


@pytest.mark.parametrize("top_db", [None, 80.0, 40.0])
@pytest.mark.parametrize("ref", [1.0, 0.01, "max"])
def test_power_to_db_matches_librosa(noise, top_db, ref):
    mel = M.mel_spectrogram(noise)
    ours = A.power_to_db(mel, ref=ref, top_db=top_db)
    lib = librosa.power_to_db(mel.numpy(), ref=np.max if ref == "max" else ref, top_db=top_db)
    np.testing.assert_allclose(ours.numpy(), lib, atol=1e-3)


def test_power_to_db_matches_torchaudio_batched(noise):
    mel = M.mel_spectrogram(torch.stack([noise, 0.01 * noise]))
    ours = A.power_to_db(mel, top_db=80.0)
    # torchaudio clamps (..., channel, freq, time) jointly: give it one item per batch row
    ref = torch.stack([TF.amplitude_to_DB(m[None], 10.0, 1e-10, 0.0, 80.0)[0] for m in mel])
    torch.testing.assert_close(ours, ref, atol=1e-3, rtol=0)


def test_amplitude_to_db_matches_librosa(noise):
    mag = A.spectrogram(noise, power=1.0)
    for ref, top_db in [(1.0, 80.0), ("max", None), (0.5, 60.0)]:
        ours = A.amplitude_to_db(mag, ref=ref, top_db=top_db)
        lib = librosa.amplitude_to_db(mag.numpy(), ref=np.max if ref == "max" else ref, top_db=top_db)
        np.testing.assert_allclose(ours.numpy(), lib, atol=1e-3)


def test_log_mel_matches_torchaudio_log(noise):
    ours = M.log_mel(noise, n_mels=80)
    ref = torch.log(TT.MelSpectrogram(SR, n_fft=400, hop_length=160, n_mels=80)(noise) + 1e-6)
    torch.testing.assert_close(ours, ref, atol=1e-3, rtol=0)


@pytest.mark.parametrize("n_mfcc,n_mels", [(13, 40), (20, 64)])
def test_mfcc_matches_torchaudio(noise, n_mfcc, n_mels):
    ours = CEP.mfcc(noise, SR, n_mfcc, n_mels=n_mels)
    ref = TT.MFCC(SR, n_mfcc, melkwargs=dict(n_fft=400, hop_length=160, n_mels=n_mels))(noise)
    torch.testing.assert_close(ours, ref, atol=1e-3, rtol=0)


@pytest.mark.parametrize("htk,norm", [(True, None), (False, "slaney")])
def test_mfcc_matches_librosa(noise, htk, norm):
    ours = CEP.mfcc(noise, SR, 13, n_mels=40, htk=htk, norm=norm)
    ref = librosa.feature.mfcc(
        y=noise.numpy(), sr=SR, n_mfcc=13, n_fft=400, hop_length=160, n_mels=40, htk=htk, mel_norm=norm, pad_mode="reflect"
    )
    np.testing.assert_allclose(ours.numpy(), ref, atol=1e-3)


def test_dct_matrix_matches_scipy_and_torchaudio():
    import scipy.fft

    d = CEP.dct_matrix(40, 13, dtype=torch.float64)
    ref = scipy.fft.dct(np.eye(40), type=2, norm="ortho", axis=0)[:13]
    np.testing.assert_allclose(d.numpy(), ref, atol=1e-12)
    torch.testing.assert_close(d.float(), TF.create_dct(13, 40, "ortho").T, atol=1e-6, rtol=0)


def test_deltas_match_torchaudio_and_librosa_interior():
    gen = torch.Generator().manual_seed(2)
    feats = torch.randn(2, 13, 50, generator=gen)
    for width in (3, 5, 9):
        ours = CEP.deltas(feats, width)
        torch.testing.assert_close(ours, TF.compute_deltas(feats, win_length=width), atol=1e-5, rtol=0)
        n = (width - 1) // 2
        lib = librosa.feature.delta(feats.numpy(), width=width)
        np.testing.assert_allclose(ours[..., n:-n].numpy(), lib[..., n:-n], atol=1e-5)


def test_deltas_of_a_ramp_is_its_slope():
    ramp = 3.0 * torch.arange(20.0)
    assert torch.allclose(CEP.deltas(ramp)[2:-2], torch.full((16,), 3.0))


# ------------------------------------------------------------------ batch consistency
@pytest.mark.parametrize(
    "fn",
    [
        lambda x: A.stft(x).abs(),
        lambda x: M.mel_spectrogram(x, n_mels=40),
        lambda x: M.log_mel(x),
        lambda x: CEP.mfcc(x),
        lambda x: A.resample(x, 16000, 11025),
        lambda x: PITCH.pitch(x)[0],
        lambda x: M.LogMel()(x),
        lambda x: CEP.MFCC()(x),
    ],
)
def test_batch_equals_item_by_item(fn):
    gen = torch.Generator().manual_seed(3)
    batch = 0.1 * torch.randn(2, 3, 4000, generator=gen)
    out = fn(batch)
    assert out.shape[:2] == (2, 3)
    for i in range(2):
        for j in range(3):
            torch.testing.assert_close(out[i, j], fn(batch[i, j]), atol=1e-4, rtol=1e-4)


def test_modules_equal_functions(noise):
    torch.testing.assert_close(M.MelSpectrogram(n_mels=40)(noise), M.mel_spectrogram(noise, n_mels=40))
    torch.testing.assert_close(M.LogMel(n_mels=40, eps=1e-5)(noise), M.log_mel(noise, n_mels=40, eps=1e-5))
    torch.testing.assert_close(CEP.MFCC(n_mfcc=20, n_mels=40)(noise), CEP.mfcc(noise, n_mfcc=20, n_mels=40))
    assert "fb" in dict(M.LogMel().named_buffers())


def test_numpy_input_accepted(noise):
    torch.testing.assert_close(M.log_mel(noise.numpy()), M.log_mel(noise))


# ------------------------------------------------------------------ gradients
def test_gradcheck_log_mel_and_mfcc():
    x = torch.randn(300, dtype=torch.float64, generator=torch.Generator().manual_seed(4), requires_grad=True)
    assert torch.autograd.gradcheck(lambda y: M.log_mel(y, n_fft=64, hop_length=32, n_mels=8), (x,))
    assert torch.autograd.gradcheck(lambda y: CEP.mfcc(y, n_fft=64, hop_length=32, n_mels=8, n_mfcc=4, top_db=None), (x,))
    assert torch.autograd.gradcheck(lambda y: A.spectrogram(y, 64, 32, power=2.0), (x,))


def test_log_mel_gradient_finite_on_silence():
    x = torch.zeros(1600, requires_grad=True)
    M.log_mel(x).sum().backward()
    assert torch.isfinite(x.grad).all()


def test_resample_is_differentiable():
    x = torch.randn(200, dtype=torch.float64, generator=torch.Generator().manual_seed(5), requires_grad=True)
    assert torch.autograd.gradcheck(lambda y: A.resample(y, 3, 2), (x,))


# ------------------------------------------------------------------ resample
@pytest.mark.parametrize("orig,new", [(16000, 8000), (8000, 16000), (44100, 16000), (16000, 22050), (16000, 17600)])
def test_resample_matches_torchaudio(noise, orig, new):
    ours = A.resample(noise, orig, new)
    ref = TF.resample(noise, orig, new)
    assert ours.shape == ref.shape
    torch.testing.assert_close(ours, ref, atol=1e-5, rtol=0)


@pytest.mark.parametrize("orig,new", [(16000, 8000), (16000, 22050), (22050, 16000)])
def test_resample_tone_matches_librosa_and_scipy(orig, new):
    x = tone(440.0, 1.0, orig)
    ours = A.resample(x, orig, new).numpy()
    soxr = librosa.resample(x.numpy(), orig_sr=orig, target_sr=new, res_type="soxr_hq")
    poly = scipy.signal.resample_poly(x.numpy(), new // math.gcd(orig, new), orig // math.gcd(orig, new))
    inner = slice(200, len(ours) - 200)  # edges differ: each library pads differently
    np.testing.assert_allclose(ours[inner], soxr[inner], atol=2e-3)
    np.testing.assert_allclose(ours[inner], poly[inner], atol=2e-3)


def test_resample_removes_content_above_new_nyquist():
    x = tone(6000.0, 1.0, 16000)
    y = A.resample(x, 16000, 8000)  # 6 kHz is above the new 4 kHz Nyquist: must vanish
    assert float(y[200:-200].abs().max()) < 0.01


@settings(max_examples=20, deadline=None)
@given(length=st.integers(10, 3000), orig=st.sampled_from([8000, 16000, 22050, 44100]), new=st.sampled_from([8000, 16000, 24000]))
def test_resample_length_property(length, orig, new):
    y = A.resample(torch.zeros(length), orig, new)
    assert y.shape[-1] == math.ceil(length * new / orig)


# ------------------------------------------------------------------ pitch
@pytest.mark.parametrize("f0", [85.0, 120.0, 210.0, 330.0])
def test_pitch_yin_matches_librosa(f0):
    x = tone(f0, 1.0, harmonics=4)
    ours, voiced = PITCH.pitch(x, SR, f_min=60.0, f_max=500.0, frame_length=1024, hop_length=160)
    ref = librosa.yin(x.numpy(), fmin=60.0, fmax=500.0, sr=SR, frame_length=1024, hop_length=160)
    assert ours.shape == ref.shape
    inner = slice(5, -5)
    assert float(voiced[inner].float().mean()) == 1.0
    assert abs(float(ours[inner].median()) / np.median(ref[inner]) - 1) < 0.01
    assert abs(float(ours[inner].median()) / f0 - 1) < 0.005


@pytest.mark.parametrize("f0", [100.0, 250.0])
def test_pitch_autocorr_finds_the_fundamental(f0):
    est, voiced = PITCH.pitch(tone(f0, 0.5, harmonics=3), method="autocorr")
    assert abs(float(est[5:-5].median()) / f0 - 1) < 0.01
    assert bool(voiced[5:-5].all())


def test_pitch_unvoiced_on_noise_and_silence():
    gen = torch.Generator().manual_seed(6)
    _, v_noise = PITCH.pitch(torch.randn(16000, generator=gen))
    _, v_silence = PITCH.pitch(torch.zeros(16000))
    assert float(v_noise.float().mean()) < 0.2
    assert not bool(v_silence.any())


def test_pitch_follows_a_glide():
    t = torch.arange(16000, dtype=torch.float64) / SR
    freq = 100 + 100 * t  # 100 Hz -> 200 Hz in one second
    x = torch.sin(2 * math.pi * torch.cumsum(freq, 0) / SR).float()
    est, _ = PITCH.pitch(x)
    times = torch.arange(est.shape[-1]) * 160 / SR
    expected = 100 + 100 * times
    assert float(((est - expected).abs() / expected)[5:-5].max()) < 0.02


# ------------------------------------------------------------------ bad input
def test_bad_input_errors(noise):
    with pytest.raises(TypeError, match="floating-point"):
        A.stft(torch.ones(1000, dtype=torch.int16))
    with pytest.raises(TypeError, match="torch.Tensor or numpy.ndarray"):
        M.log_mel([0.0] * 1000)
    with pytest.raises(ValueError, match="NaN or infinite"):
        M.log_mel(torch.tensor([0.0, float("nan")] * 500))
    with pytest.raises(ValueError, match="empty"):
        M.mel_spectrogram(torch.zeros(0))
    with pytest.raises(ValueError, match="at least 1 dimension"):
        A.stft(torch.tensor(1.0))
    with pytest.raises(ValueError, match="reflect padding"):
        A.stft(torch.zeros(100), n_fft=400)
    with pytest.raises(ValueError, match="fewer than n_fft"):
        A.stft(torch.zeros(100), n_fft=400, center=False)
    with pytest.raises(ValueError, match="win_length must be <= n_fft"):
        A.stft(noise, n_fft=256, win_length=400)
    with pytest.raises(ValueError, match="n_fft must be a positive int, got 0"):
        A.spectrogram(noise, n_fft=0)
    with pytest.raises(TypeError, match="hop_length must be a positive int"):
        A.spectrogram(noise, hop_length=1.5)
    with pytest.raises(ValueError, match="power must be a positive number"):
        A.spectrogram(noise, power=0)
    with pytest.raises(ValueError, match="pad_mode must be one of"):
        A.stft(noise, pad_mode="mirror")
    with pytest.raises(ValueError, match="kind must be one of"):
        A.window("blackman", 10)


def test_bad_mel_arguments():
    with pytest.raises(ValueError, match="sample_rate must be positive"):
        M.mel_filterbank(0, 400, 40)
    with pytest.raises(TypeError, match="sample_rate must be an int"):
        M.mel_filterbank(16000.0, 400, 40)
    with pytest.raises(ValueError, match="f_max <= sample_rate / 2 = 8000"):
        M.mel_filterbank(16000, 400, 40, f_max=9000.0)
    with pytest.raises(ValueError, match="f_min < f_max"):
        M.mel_filterbank(16000, 400, 40, f_min=5000.0, f_max=4000.0)
    with pytest.raises(ValueError, match="norm must be one of"):
        M.mel_filterbank(16000, 400, 40, norm="area")
    with pytest.raises(ValueError, match="frequencies must be >= 0"):
        M.hz_to_mel(-1.0)
    with pytest.raises(ValueError, match="mels must be >= 0"):
        M.mel_to_hz(np.array([-3.0]))
    with pytest.raises(TypeError, match="must be a number"):
        M.hz_to_mel("440")


def test_bad_db_mfcc_deltas_pitch_resample(noise):
    with pytest.raises(ValueError, match="non-negative"):
        A.power_to_db(torch.tensor([[-1.0, 1.0]]))
    with pytest.raises(ValueError, match="ref must be a positive number or 'max'"):
        A.power_to_db(torch.ones(2, 2), ref=0.0)
    with pytest.raises(ValueError, match="top_db must be None or a non-negative"):
        A.amplitude_to_db(torch.ones(2, 2), top_db=-5.0)
    with pytest.raises(ValueError, match="n_mfcc must be <= n_mels"):
        CEP.mfcc(noise, n_mfcc=50, n_mels=40)
    with pytest.raises(ValueError, match="at least 2 dimension"):
        CEP.mfcc_from_log_mel(torch.ones(40))
    with pytest.raises(ValueError, match="odd int >= 3"):
        CEP.deltas(torch.ones(3, 10), width=4)
    with pytest.raises(ValueError, match="too short for f_min"):
        PITCH.pitch(noise, f_min=20.0, frame_length=1024)
    with pytest.raises(ValueError, match="method must be one of"):
        PITCH.pitch(noise, method="crepe")
    with pytest.raises(ValueError, match="threshold must lie in"):
        PITCH.pitch(noise, threshold=1.5)
    with pytest.raises(ValueError, match="orig_sr must be positive"):
        A.resample(noise, 0, 8000)
    with pytest.raises(TypeError, match="new_sr must be an int"):
        A.resample(noise, 16000, 8000.0)
    with pytest.raises(ValueError, match="rolloff must lie in"):
        A.resample(noise, 16000, 8000, rolloff=1.5)
    with pytest.raises(ValueError, match="eps must be a positive number"):
        M.LogMel(eps=0)


# ------------------------------------------------------------------ quantization and cepstral envelope
def test_quantize_16_bit_matches_int16_pcm(noise):
    x = noise.clamp(-1, 1)
    pcm = np.clip(np.round(x.numpy().astype(np.float64) * 32768), -32768, 32767).astype(np.int16)
    np.testing.assert_array_equal(A.quantize(x, 16).numpy(), pcm.astype(np.float32) / 32768)


@pytest.mark.parametrize("bits", [4, 8, 12])
def test_quantize_snr_is_about_6_db_per_bit(bits):
    x = 0.5 * tone(997.0, 1.0).double()  # half scale: no clipping even at 4 bits
    err = A.quantize(x, bits) - x
    snr = 10 * math.log10(float(x.pow(2).mean() / err.pow(2).mean()))
    assert abs(snr - (6.02 * bits + 1.76 + 20 * math.log10(0.5))) < 1.0
    assert float(err.abs().max()) <= 2.0 ** -bits + 1e-12


def test_cepstral_envelope_matches_numpy_liftering():
    gen = torch.Generator().manual_seed(8)
    logmag = torch.randn(3, 257, generator=gen, dtype=torch.float64)
    ceps = np.fft.irfft(logmag.numpy(), 512)
    ceps[:, 20:-19] = 0.0
    ref = np.fft.rfft(ceps, 512).real
    np.testing.assert_allclose(CEP.cepstral_envelope(logmag, 20).numpy(), ref, atol=1e-10)


def test_cepstral_envelope_removes_harmonics():
    """A comb of harmonics under a smooth envelope: liftering recovers the envelope."""
    k = torch.arange(513, dtype=torch.float64)
    smooth = 20 * torch.exp(-(((k - 60) / 40) ** 2)) + 10 * torch.exp(-(((k - 200) / 50) ** 2))
    comb = 15 * torch.cos(2 * math.pi * k / 16)  # harmonic ripple with a period of 16 bins
    env = CEP.cepstral_envelope(smooth + comb, 30)
    assert float((env - smooth).abs().max()) < 1.0
    assert float((smooth + comb - smooth).abs().max()) > 10  # the ripple was large


def test_bad_quantize_and_envelope():
    with pytest.raises(ValueError, match=r"bits must be in \[1, 32\]"):
        A.quantize(torch.zeros(4), 40)
    with pytest.raises(TypeError, match="bits must be a positive int"):
        A.quantize(torch.zeros(4), 8.0)
    with pytest.raises(ValueError, match="n_coeffs must be <= n_fft // 2"):
        CEP.cepstral_envelope(torch.zeros(5), 10)
    with pytest.raises(ValueError, match="at least 2 frequency bins"):
        CEP.cepstral_envelope(torch.zeros(1), 1)


# ------------------------------------------------------------------ test signals, the written-out STFT and YIN
def test_tone_matches_numpy_and_sums_frequencies():
    x = A.tone(440.0, 0.25, amplitude=0.5)
    n = np.arange(4000)
    np.testing.assert_allclose(x.numpy(), 0.5 * np.sin(2 * np.pi * 440 * n / SR), atol=1e-6)
    both = A.tone([440.0, 1000.0], 0.25, dtype=torch.float64)
    torch.testing.assert_close(both, A.tone(440.0, 0.25, dtype=torch.float64) + A.tone(1000.0, 0.25, dtype=torch.float64))
    assert both.dtype == torch.float64 and x.dtype == torch.float32


def test_tone_above_nyquist_aliases():
    # f and f_s - f give the same samples up to the sign: what an unfiltered converter records
    torch.testing.assert_close(A.tone(11000.0, 0.1), -A.tone(5000.0, 0.1), atol=1e-5, rtol=0)
    peak = int(torch.fft.rfft(A.tone(15000.0, 1.0, dtype=torch.float64)).abs().argmax())
    assert peak == 1000  # 1 Hz bins: 15 kHz folds to 1 kHz at 16 kHz


def test_sweep_instantaneous_frequency_is_linear():
    x = A.sweep(500.0, 3500.0, 1.0, amplitude=1.0, dtype=torch.float64)
    spec = A.spectrogram(x, n_fft=1024, hop_length=1600)  # frames at 0, 0.1, ... 1.0 s
    peak_hz = spec.argmax(0).double() * SR / 1024
    expected = 500.0 + 3000.0 * torch.arange(spec.shape[-1], dtype=torch.float64) * 0.1
    assert float((peak_hz[1:-1] - expected[1:-1]).abs().max()) < 20.0  # within about a bin (15.6 Hz)
    assert float(x.abs().max()) <= 1.0


def test_sweep_sampled_naively_aliases_and_resample_filters():
    naive = A.sweep(100.0, 15000.0, 2.0, SR)
    proper = A.resample(A.sweep(100.0, 15000.0, 2.0, 48000), 48000, SR)
    tail = slice(int(1.5 * SR), None)  # above 11 kHz
    ratio_db = 10 * math.log10(float(proper[tail].pow(2).mean() / naive[tail].pow(2).mean()))
    assert ratio_db < -40


@pytest.mark.parametrize("n_fft,hop,win,center", [(400, 160, None, True), (512, 128, 400, True),
                                                  (4096, 160, 400, True), (256, 64, 256, False), (401, 100, 333, True)])
def test_stft_from_scratch_equals_stft(noise, n_fft, hop, win, center):
    ours = A.stft_from_scratch(noise, n_fft, hop, win, center=center)
    ref = A.stft(noise, n_fft, hop, win, center=center)
    assert ours.shape == ref.shape and ours.dtype == ref.dtype
    assert rel_err(torch.view_as_real(ours), torch.view_as_real(ref)) < 1e-5


def test_stft_from_scratch_batched_and_float64(noise):
    batch = torch.stack([noise, 2 * noise]).double()
    out = A.stft_from_scratch(batch)
    assert out.dtype == torch.complex128
    torch.testing.assert_close(out[1], 2 * A.stft_from_scratch(noise.double()))


def test_bad_test_signal_and_stft_arguments(noise):
    with pytest.raises(ValueError, match="seconds must be a positive number"):
        A.tone(440.0, 0.0)
    with pytest.raises(ValueError, match="less than one sample"):
        A.tone(440.0, 1e-6)
    with pytest.raises(ValueError, match="freq must be a finite frequency"):
        A.tone(-1.0, 1.0)
    with pytest.raises(TypeError, match="freq must be a number or a sequence"):
        A.tone(None, 1.0)
    with pytest.raises(ValueError, match="at least one frequency"):
        A.tone([], 1.0)
    with pytest.raises(ValueError, match="amplitude must be a finite number"):
        A.sweep(100.0, 200.0, 1.0, amplitude=float("nan"))
    with pytest.raises(TypeError, match="floating torch.dtype"):
        A.sweep(100.0, 200.0, 1.0, dtype=torch.int16)
    with pytest.raises(ValueError, match="f1 must be a finite frequency"):
        A.sweep(100.0, float("inf"), 1.0)
    with pytest.raises(ValueError, match="reflect padding"):
        A.stft_from_scratch(torch.zeros(100), n_fft=400)
    with pytest.raises(ValueError, match="fewer than n_fft"):
        A.stft_from_scratch(torch.zeros(100), n_fft=400, center=False)
    with pytest.raises(ValueError, match="win_length must be <= n_fft"):
        A.stft_from_scratch(noise, n_fft=256, win_length=400)


def test_yin_difference_matches_definition_and_pitch():
    x = tone(180.0, 0.2, harmonics=4).double()
    frame = x[:1024]
    d = PITCH.yin_difference(frame, 267, window=512)
    direct = np.array([np.sum((frame[:512].numpy() - frame[t:t + 512].numpy()) ** 2) for t in range(268)])
    np.testing.assert_allclose(d.numpy(), direct, rtol=1e-10, atol=1e-9)
    cm = PITCH.yin_cmnd(d)
    first = 32 + int(torch.nonzero(cm[32:] < 0.2).flatten()[0])
    while cm[first + 1] < cm[first]:
        first += 1
    f0, _ = PITCH.pitch(x, SR)
    assert abs(SR / first / 180.0 - 1) < 0.02
    assert abs(float(f0[5]) / 180.0 - 1) < 0.01


def test_yin_cmnd_definition():
    d = torch.tensor([0.0, 4.0, 2.0, 6.0, 0.5], dtype=torch.float64)
    expected = [1.0, 1.0, 2.0 / 3.0, 6.0 / 4.0, 0.5 / 3.125]
    np.testing.assert_allclose(PITCH.yin_cmnd(d).numpy(), expected)


def test_bad_yin_arguments():
    with pytest.raises(ValueError, match="window \\+ max_lag"):
        PITCH.yin_difference(torch.zeros(100), 80, window=50)
    with pytest.raises(ValueError, match="1 dimension"):
        PITCH.yin_difference(torch.zeros(2, 100), 10)
    with pytest.raises(ValueError, match="non-negative"):
        PITCH.yin_cmnd(torch.tensor([0.0, -1.0]))


def test_numeric_hyper_parameters_are_validated_by_name():
    x = 0.1 * torch.randn(1600, generator=torch.Generator().manual_seed(0))
    with pytest.raises(TypeError, match="f_min must be a real number"):
        PITCH.pitch(x, f_min="low")
    with pytest.raises(TypeError, match="threshold must be a real number"):
        PITCH.pitch(x, threshold=None)
    with pytest.raises(TypeError, match="rolloff must be a real number"):
        A.resample(x, 16000, 8000, rolloff="0.9")
    with pytest.raises(TypeError, match="dtype must be a floating torch.dtype"):
        CEP.dct_matrix(4, dtype="float32")
    with pytest.raises(TypeError, match="f_min must be a real number"):
        M.log_mel(x, f_min=None)
    with pytest.raises(TypeError, match="x must be a floating-point tensor"):
        A.stft(x.long())  # audio functions name their parameter x
