"""Recording conditions: exact SNR, room impulse responses, devices, mu-law, condition draws."""
import math

import numpy as np
import pytest
import torch
import torchaudio.functional as AF
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import fftconvolve, welch
from course_lib.data import conditions as C
from course_lib.data.devices import DEVICES, apply_device, mu_law_decode, mu_law_encode
from course_lib.data.rooms import ROOMS, apply_rir, measure_rt60, synthetic_rir
from course_lib.data.conditions import Condition, apply_condition, draw_condition
from course_lib.data.noise import babble_noise, mix_at_snr, pink_noise, snr_db, white_noise

SR = 16000


def _tone(freq, n=SR, amp=0.5):
    return amp * torch.sin(2 * math.pi * freq * torch.arange(n, dtype=torch.float64) / SR).float()


def _band_energy_db(x: torch.Tensor, lo: float, hi: float) -> float:
    """Energy in [lo, hi) Hz relative to the total, in dB (Welch PSD)."""
    f, p = welch(x.double().numpy(), fs=SR, nperseg=1024)
    band = p[(f >= lo) & (f < hi)].sum()
    return 10 * math.log10(band / p.sum() + 1e-30)


# ----------------------------------------------------------------- noise
def test_white_noise_is_seeded_and_unit_variance():
    a, b, c = white_noise(20000, seed=3), white_noise(20000, seed=3), white_noise(20000, seed=4)
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert a.dtype == torch.float32 and abs(float(a.std()) - 1) < 0.03


def test_pink_noise_spectrum_falls_3db_per_octave():
    x = pink_noise(2**17, seed=0).double().numpy()
    f, p = welch(x, fs=SR, nperseg=4096)
    sel = (f > 50) & (f < 6000)
    slope = np.polyfit(np.log10(f[sel]), np.log10(p[sel]), 1)[0]  # 1/f power: slope -1
    assert -1.15 < slope < -0.85
    fw, pw = welch(white_noise(2**17, seed=0).double().numpy(), fs=SR, nperseg=4096)
    assert abs(np.polyfit(np.log10(fw[sel]), np.log10(pw[sel]), 1)[0]) < 0.1
    assert abs(float(pink_noise(1000, seed=1).pow(2).mean()) - 1) < 1e-5


def test_babble_sums_talkers_at_unit_rms():
    talkers = [_tone(200 + 100 * k, 3000) for k in range(4)]
    b = babble_noise(talkers, 8000, seed=0)
    assert b.shape == (8000,) and abs(float(b.pow(2).mean().sqrt()) - 1) < 1e-5
    assert torch.equal(b, babble_noise(talkers, 8000, seed=0))
    with pytest.raises(ValueError, match="non-empty sequence"):
        babble_noise([], 100)
    with pytest.raises(ValueError, match="silent"):
        babble_noise([torch.zeros(100)], 100)


# ----------------------------------------------------------------- SNR
@settings(max_examples=40, deadline=None)
@given(snr=st.floats(-10, 40), n=st.integers(64, 4000), seed=st.integers(0, 1000))
def test_mix_at_snr_is_exact(snr, n, seed):
    s = white_noise(n, seed=seed) * 0.3 + _tone(440, n)
    noise = pink_noise(n, seed=seed + 1)
    y = mix_at_snr(s, noise, snr)
    measured = float(snr_db(s, y - s))
    assert abs(measured - snr) < 0.01  # requirement: within 0.1 dB
    # only the noise is scaled: the residual is proportional to it (least-squares fit)
    r, nz = (y - s).double(), noise.double()
    scale = (r @ nz) / (nz @ nz)
    assert float((r - scale * nz).norm()) < 1e-5 * float(r.norm()) + 1e-6


def test_mix_at_snr_batched_with_per_item_snr():
    s = torch.stack([_tone(300), _tone(900, amp=0.05)])
    n = white_noise(SR, seed=0)  # (time,) broadcasts over the batch
    target = torch.tensor([0.0, 20.0])
    y = mix_at_snr(s, n, target)
    got = snr_db(s, y - s)
    assert torch.allclose(got, target.double(), atol=1e-3)


@pytest.mark.parametrize(
    "signal, noise, snr, exc, match",
    [
        (torch.zeros(100), torch.ones(100), 0.0, ValueError, "zero energy"),
        (torch.ones(100), torch.zeros(100), 0.0, ValueError, "zero energy"),
        (torch.ones(100), torch.ones(50), 0.0, ValueError, "same number of samples"),
        (torch.ones(100, dtype=torch.int32), torch.ones(100), 0.0, TypeError, "floating-point"),
        (torch.tensor([1.0, float("nan")]), torch.ones(2), 0.0, ValueError, "NaN"),
        (torch.ones(0), torch.ones(0), 0.0, ValueError, "empty"),
        ([1.0, 2.0], torch.ones(2), 0.0, TypeError, "torch.Tensor or numpy"),
        (torch.ones(10), torch.ones(10), float("inf"), ValueError, "finite"),
        (torch.ones(2, 10), torch.ones(3, 10), 0.0, ValueError, "broadcast"),
    ],
)
def test_mix_at_snr_bad_input(signal, noise, snr, exc, match):
    with pytest.raises(exc, match=match):
        mix_at_snr(signal, noise, snr)


# ----------------------------------------------------------------- rooms
def test_measure_rt60_on_an_exact_exponential_decay():
    t = torch.arange(2 * SR, dtype=torch.float64) / SR
    for rt60 in (0.25, 0.6, 1.5):
        h = torch.exp(-3 * math.log(10) * t / rt60)  # energy -60 dB at rt60
        assert measure_rt60(h, SR) == pytest.approx(rt60, rel=1e-3)
        assert measure_rt60(h, SR, db_range=(-5, -35)) == pytest.approx(rt60, rel=1e-3)


@pytest.mark.parametrize("rt60", [0.2, 0.4, 0.8, 1.2])
def test_synthetic_rir_reaches_its_rt60(rt60):
    measured = [measure_rt60(synthetic_rir(rt60, SR, seed=s), SR) for s in range(3)]
    assert np.mean(measured) == pytest.approx(rt60, rel=0.1)


def test_synthetic_rir_shape_direct_path_and_drr():
    h = synthetic_rir(0.5, SR, seed=0, drr_db=3.0)
    assert h.shape == (int(round(1.2 * 0.5 * SR)),) and float(h[0]) == 1.0
    reverb = float(h[1:].double().pow(2).sum())
    assert 10 * math.log10(1.0 / reverb) == pytest.approx(3.0, abs=0.01)
    assert torch.equal(h, synthetic_rir(0.5, SR, seed=0, drr_db=3.0))
    assert not torch.equal(h, synthetic_rir(0.5, SR, seed=1, drr_db=3.0))


def test_apply_rir_matches_scipy_convolution():
    x = white_noise(3000, seed=0)
    h = synthetic_rir(0.1, SR, seed=0)
    ref = fftconvolve(x.double().numpy(), h.double().numpy())[: x.shape[0]]
    y = apply_rir(x, h)
    assert y.shape == x.shape and y.dtype == x.dtype
    np.testing.assert_allclose(y.numpy(), ref, atol=1e-5)
    batch = torch.stack([x, 2 * x])
    yb = apply_rir(batch, h)
    assert torch.allclose(yb[1], 2 * y, atol=1e-5)


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: synthetic_rir(0.0), ValueError, "rt60_s must be > 0"),
        (lambda: synthetic_rir(5.0), ValueError, "<= 3.0"),
        (lambda: synthetic_rir("0.5"), TypeError, "real number"),
        (lambda: synthetic_rir(0.5, 0), ValueError, "positive"),
        (lambda: synthetic_rir(0.5, seed=-1), ValueError, "non-negative"),
        (lambda: apply_rir(torch.ones(10), torch.ones(0)), ValueError, "empty"),
        (lambda: apply_rir(torch.ones(10, dtype=torch.int64), torch.ones(3)), TypeError, "floating"),
        (lambda: measure_rt60(torch.ones(2, 10)), ValueError, "1 dimensions"),
        (lambda: measure_rt60(torch.ones(10), db_range=(-25, -5)), ValueError, "0 > start > end"),
    ],
)
def test_room_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# ----------------------------------------------------------------- devices
def test_telephone_has_no_energy_above_4khz():
    x = 0.3 * white_noise(SR, seed=0).clamp(-3, 3) / 3
    y = apply_device(x, "telephone", SR)
    assert y.shape == x.shape
    assert _band_energy_db(y, 4100, 8000) < -40
    assert _band_energy_db(x, 4100, 8000) > -4  # the input had plenty there
    assert _band_energy_db(y, 0, 250) < -20  # and the 300 Hz high-pass acts


def test_telephone_is_mu_law_quantised_at_8khz():
    x = _tone(1000, amp=0.5)
    y = apply_device(x, "telephone", SR)
    # the error of 8-bit mu-law is far above float precision but well below the signal
    err = float((y - apply_device(x, "headset", SR)).pow(2).mean())
    assert 1e-7 < err < 0.05


def test_mu_law_matches_torchaudio():
    x = torch.linspace(-1, 1, 1001)
    for q in (256, 16):
        codes = mu_law_encode(x, q)
        assert torch.equal(codes, AF.mu_law_encoding(x, q).long())
        assert torch.allclose(mu_law_decode(codes, q), AF.mu_law_decoding(codes, q), atol=1e-6)
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        mu_law_encode(torch.tensor([1.5]))
    with pytest.raises(TypeError, match="integer"):
        mu_law_decode(torch.tensor([0.5]))
    with pytest.raises(ValueError, match=r"\[0, 255\]"):
        mu_law_decode(torch.tensor([256]))


def test_clipping_device_bounds():
    x = _tone(300, amp=0.8)
    y = apply_device(x, "clipping", SR)
    peak = float(y.abs().max())
    assert peak <= 0.8 + 1e-6
    assert float((y.abs() > 0.99 * peak).float().mean()) > 0.3  # flat tops: many samples at the bound
    loud = apply_device(x, "studio", SR, gain_db=12.0)
    assert float(loud.abs().max()) <= 1.0 and float((loud.abs() >= 1.0).float().mean()) > 0.3


def test_gain_and_flat_device():
    x = _tone(500, amp=0.1)
    assert torch.allclose(apply_device(x, "studio", SR), x, atol=1e-7)
    assert torch.allclose(apply_device(x, "studio", SR, gain_db=20 * math.log10(2)), 2 * x, atol=1e-6)


def test_microphone_responses_shape_the_spectrum():
    low, mid = _tone(80), _tone(1000)
    for name in ("laptop", "cheap_mic"):
        ratio_in = float(low.pow(2).mean() / mid.pow(2).mean())
        out_low = float(apply_device(low, name, SR)[4000:].pow(2).mean())
        out_mid = float(apply_device(mid, name, SR)[4000:].pow(2).mean())
        assert out_low / out_mid < 0.1 * ratio_in  # high-pass: 80 Hz loses > 10 dB against 1 kHz
    assert len({name for name in DEVICES}) >= 6


@pytest.mark.parametrize(
    "args, exc, match",
    [
        ((torch.ones(100), "walkie"), ValueError, "unknown device"),
        ((torch.ones(100), 3), TypeError, "device_name must be a str"),
        ((torch.ones(100), "studio", 4000), ValueError, "at least 8000"),
        ((torch.ones(100), "studio", 16000.0), TypeError, "int in Hz"),
        ((torch.ones(0), "studio"), ValueError, "empty"),
        ((torch.tensor([float("inf")]), "studio"), ValueError, "NaN or infinite"),
    ],
)
def test_apply_device_bad_input(args, exc, match):
    with pytest.raises(exc, match=match):
        apply_device(*args)


# ----------------------------------------------------------------- conditions
def test_draw_condition_respects_overrides_and_slices():
    c = draw_condition(0, "clean", snr_db=10.0, room="reverberant")
    lo, hi = ROOMS["reverberant"]["rt60_low"], ROOMS["reverberant"]["rt60_high"]
    assert c.snr_db == 10.0 and c.noise != "none" and lo <= c.rt60_s <= hi
    tel = draw_condition(1, "telephone")
    assert tel.device == "telephone" and tel.slice == "telephone"
    clean = [draw_condition(s, "clean") for s in range(20)]
    assert all(k.noise == "none" and k.room == "dry" and math.isnan(k.snr_db) for k in clean)
    mixed = {draw_condition(s, "mixed").slice for s in range(200)}
    assert mixed == set(C.SLICES)
    assert draw_condition(5, "noisy") == draw_condition(5, "noisy")
    sessions = [draw_condition(s).session for s in range(300)]
    assert min(sessions) >= 0 and max(sessions) < C.N_SESSION_DAYS


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"conditions": "underwater"}, "conditions must be one of"),
        ({"room": "cave"}, "room must be one of"),
        ({"device": "tin can"}, "device must be one of"),
        ({"noise": "traffic"}, "noise must be one of"),
        ({"snr_db": 10.0, "noise": "none"}, "noise='none'"),
    ],
)
def test_draw_condition_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        draw_condition(0, **kwargs)


def test_apply_condition_adds_noise_at_the_recorded_snr():
    speech = _tone(300, amp=0.1) * (torch.arange(SR) % 4000 < 2000)
    c = Condition("noisy", "studio", 0.0, "dry", 0.0, float("inf"), "pink", 7.5, 3, "2024-01-04T10:00:00")
    y = apply_condition(speech, c, SR, seed=0)
    assert float(snr_db(speech, y - speech)) == pytest.approx(7.5, abs=0.1)
    far = Condition("far", "studio", 0.0, "reverberant", 0.9, -2.0, "none", float("nan"), 3, "x")
    yr = apply_condition(speech, far, SR, seed=0)
    tail = slice(2000, 2600)  # after the tone stops, the room keeps ringing
    assert float(yr[tail].abs().max()) > 10 * float(speech[tail].abs().max() + 1e-6)
    with pytest.raises(ValueError, match="needs a noise waveform"):
        apply_condition(speech, Condition(**{**c.as_dict(), "noise": "babble"}), SR)
    with pytest.raises(TypeError, match="Condition"):
        apply_condition(speech, {"device": "studio"}, SR)
    assert C.condition_from_meta(c.as_dict()) == c


def test_energy_decay_plot_reports_the_rt60():
    import matplotlib

    matplotlib.use("Agg")
    from course_lib.plots.audio import plot_energy_decay

    ax = plot_energy_decay(synthetic_rir(0.6, SR, seed=2), SR)
    assert ax.get_xlabel() == "time (ms)" and "RT60" in ax.get_legend().get_texts()[0].get_text()


def test_mix_at_snr_rejects_an_snr_vector_that_does_not_match_the_batch():
    s, n = torch.sin(torch.arange(1600) * 0.1), white_noise(1600, seed=0)
    with pytest.raises(ValueError, match=r"snr_db must broadcast to signal.shape\[:-1\] = \(\)"):
        mix_at_snr(s, n, torch.tensor([0.0, 10.0]))
    batch = torch.stack([s, s])
    out = mix_at_snr(batch, n, torch.tensor([0.0, 10.0]))  # one SNR per item: fine
    assert out.shape == batch.shape
    assert [round(float(v), 3) for v in snr_db(batch, out - batch)] == [0.0, 10.0]


def test_plot_spectrogram_validates_its_arguments():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from course_lib.plots.audio import plot_spectrogram

    with pytest.raises(TypeError, match="spec_db must be an array of numbers"):
        plot_spectrogram(None)
    with pytest.raises(ValueError, match="spec_db contains NaN"):
        plot_spectrogram(np.full((4, 5), np.nan))
    with pytest.raises(ValueError, match="sample_rate must be positive"):
        plot_spectrogram(np.zeros((4, 5)), sample_rate=0)
    with pytest.raises(TypeError, match="colorbar must be a bool"):
        plot_spectrogram(np.zeros((4, 5)), colorbar="yes")
    plt.close("all")


def test_device_validates_its_fields():
    from course_lib.data.devices import Device

    with pytest.raises(TypeError, match="lowpass_hz must be a real number"):
        Device("phone", lowpass_hz="3400")
    with pytest.raises(ValueError, match="peak_hz must be > 0.0"):
        Device("phone", peak_hz=0.0)
    with pytest.raises(ValueError, match="peak_db must be a finite number"):
        Device("phone", peak_db=float("nan"))
    assert all(isinstance(d, Device) for d in DEVICES.values())
