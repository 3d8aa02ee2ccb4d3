"""course_lib.models (front end, AudioCNN, transfer helpers) and course_lib.kws (augmentation recipe)."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from course_lib.mel import log_mel
from course_lib.data.noise import pink_noise, snr_db
from course_lib.kws import fit_and_score, simulate_conditions, spec_augment_transform
from course_lib.models import (
    KWS_CNN,
    SOUND_CNN,
    AudioCNN,
    CNNConfig,
    FrontEnd,
    count_parameters,
    dataset_features,
    few_shot_transfer,
    predict,
)
from course_lib.training import TrainConfig, train_classifier


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


# ------------------------------------------------------------------ front end
def test_front_end_equals_log_mel_and_chunks_do_not_matter():
    x = torch.randn(5, 8000, generator=_gen())
    fe = FrontEnd(n_mels=32, hop_length=200)
    want = log_mel(x, n_mels=32, hop_length=200)
    torch.testing.assert_close(fe(x, batch_size=2), want)
    torch.testing.assert_close(fe(x[0]), want[0])
    assert fe(x).shape[-1] == fe.frames(8000)


def test_dataset_features_stacks_items():
    items = [{"waveform": torch.randn(4000, generator=_gen(k)), "target": k % 3} for k in range(4)]
    X, y = dataset_features(items, [3, 1], FrontEnd(n_mels=16))
    assert X.shape == (2, 16, 26) and y.tolist() == [0, 1]
    torch.testing.assert_close(X[0], log_mel(items[3]["waveform"], n_mels=16))


# ------------------------------------------------------------------ the CNN
@pytest.mark.parametrize("config", [SOUND_CNN, KWS_CNN, CNNConfig(n_mels=20, n_classes=3, channels=(8,))])
def test_cnn_shapes_and_embed_head_split(config):
    model = AudioCNN(config).eval()
    x = torch.randn(3, config.n_mels, 37, generator=_gen())
    z = model.embed(x)
    assert z.shape == (3, config.channels[-1])
    torch.testing.assert_close(model(x), model.head(z))
    # global pooling: any clip length works
    assert model(torch.randn(2, config.n_mels, 101, generator=_gen())).shape == (2, config.n_classes)


def test_parameter_count_matches_a_hand_count():
    cfg = CNNConfig(n_mels=10, n_classes=4, channels=(8, 16), separable=True)
    # input BN 2*10; block 1: conv 1*8*9 + BN 16; block 2 (separable): dw 8*9 + BN 16 + pw 8*16 + BN 32; head 16*4+4
    want = 20 + (72 + 16) + (72 + 16 + 128 + 32) + 68
    assert count_parameters(AudioCNN(cfg)) == want
    assert count_parameters(AudioCNN(cfg).freeze_encoder(), trainable_only=True) == 68


def test_seeded_init_and_global_rng_untouched():
    state = torch.random.get_rng_state()
    a, b = AudioCNN(KWS_CNN, seed=3), AudioCNN(KWS_CNN, seed=3)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    c = AudioCNN(KWS_CNN, seed=4)
    assert not all(torch.equal(p, q) for p, q in zip(a.parameters(), c.parameters()))


def test_frozen_encoder_keeps_weights_and_batchnorm_statistics():
    g = _gen(1)
    X, y = torch.randn(48, 20, 21, generator=g), torch.randint(0, 3, (48,), generator=g)
    cfg = CNNConfig(n_mels=20, n_classes=3, channels=(8, 8))
    source = AudioCNN(cfg, seed=0)
    train_classifier(source, (X, y), None, TrainConfig(epochs=2, batch_size=16))
    target = AudioCNN(cfg.with_classes(2), seed=5).load_encoder_from(source).freeze_encoder()
    enc_before = {k: v.clone() for k, v in target.state_dict().items() if not k.startswith("head")}
    head_before = target.head[1].weight.clone()
    target.train()
    assert not target.input_norm.training and not target.encoder.training and target.head.training
    train_classifier(target, (X + 2.0, y % 2), None, TrainConfig(epochs=2, batch_size=16))
    after = target.state_dict()
    assert all(torch.equal(v, after[k]) for k, v in enc_before.items()), "encoder weights or BN stats moved"
    assert not torch.equal(head_before, target.head[1].weight), "the head must learn"
    torch.testing.assert_close(target.eval().embed(X), source.eval().embed(X))


def test_cnn_learns_a_separable_toy_task():
    g = _gen(2)
    X, y = torch.randn(64, 20, 16, generator=g), torch.arange(64) % 2
    X[y == 1, 10:] += 2.0  # class 1: energy in the upper bands
    model = AudioCNN(CNNConfig(n_mels=20, n_classes=2, channels=(8, 16)), seed=0)
    h = train_classifier(model, (X, y), None, TrainConfig(epochs=10, lr=0.01, batch_size=16))
    assert h.train_acc[-1] > 0.95


def test_model_bad_input():
    with pytest.raises(TypeError, match="CNNConfig"):
        AudioCNN({"n_mels": 40})
    with pytest.raises(ValueError, match="channels must be"):
        CNNConfig(channels=(8, 0))
    with pytest.raises(ValueError, match="dropout"):
        CNNConfig(dropout=1.0)
    with pytest.raises(ValueError, match="n_classes must be a positive int"):
        CNNConfig(n_classes=0)
    with pytest.raises(ValueError, match=r"\(B, n_mels=40, frames\)"):
        AudioCNN(SOUND_CNN)(torch.zeros(2, 64, 10))
    with pytest.raises(ValueError, match="3 dimensions"):
        AudioCNN(SOUND_CNN)(torch.zeros(40, 10))
    with pytest.raises(ValueError, match="encoders differ"):
        AudioCNN(KWS_CNN).load_encoder_from(AudioCNN(SOUND_CNN))
    with pytest.raises(ValueError, match="hop_length must be <= n_fft"):
        FrontEnd(n_fft=256, hop_length=400)
    with pytest.raises(TypeError, match="floating-point"):
        FrontEnd()(torch.zeros(2, 400, dtype=torch.long))
    with pytest.raises(ValueError, match="indices is empty"):
        dataset_features([{"waveform": torch.zeros(400), "target": 0}], [])
    with pytest.raises(TypeError, match="model must be an nn.Module"):
        count_parameters("model")


# ------------------------------------------------------------------ predict and few-shot transfer
def test_predict_is_argmax_in_eval_mode_in_chunks():
    model = AudioCNN(CNNConfig(n_mels=20, n_classes=4, channels=(4,)), seed=0).train()
    X = torch.randn(7, 20, 11, generator=_gen(3))
    got = predict(model, X, batch_size=3)
    assert not model.training and got.dtype == torch.int64
    with torch.no_grad():
        torch.testing.assert_close(got, model(X).argmax(-1))
    with pytest.raises(ValueError, match="positive int"):
        predict(model, X, batch_size=0)


def _few_shot_data():
    g = _gen(4)
    X, y = torch.randn(60, 20, 11, generator=g), torch.arange(60) % 3
    X[y == 1, :6] += 2.0
    X[y == 2, 12:] += 2.0
    return X, y


def test_few_shot_frozen_head_equals_training_the_whole_frozen_model():
    X, y = _few_shot_data()
    cfg = CNNConfig(n_mels=20, n_classes=3, channels=(8, 8))
    enc = AudioCNN(cfg.with_classes(5), seed=1)
    train_classifier(enc, (X, y), None, TrainConfig(epochs=2, batch_size=16))
    tc = TrainConfig(epochs=4, batch_size=4, lr=0.01)
    table = few_shot_transfer((X, y), (X, y), {"frozen": enc}, tc, shots=(3,), draws=1, config=cfg, seed=0)
    # the same draw, trained the slow way: the whole model with a frozen encoder
    g = torch.Generator().manual_seed(1000 * 3 + 0)
    pick = torch.cat([torch.nonzero(y == k).flatten()[torch.randperm(int((y == k).sum()), generator=g)[:3]]
                      for k in range(3)])
    slow = AudioCNN(cfg, seed=0).load_encoder_from(enc).freeze_encoder()
    train_classifier(slow, (X[pick], y[pick]), None, tc, measure_train=False)
    assert table.loc[0, "accuracy"] == pytest.approx(float((predict(slow, X) == y).double().mean()))
    assert table.loc[0, "trainable_params"] == 8 * 3 + 3  # the head only


def test_few_shot_scratch_trains_everything_and_draws_differ():
    X, y = _few_shot_data()
    cfg = CNNConfig(n_mels=20, n_classes=3, channels=(4,))
    tc = TrainConfig(epochs=2, batch_size=4)
    table = few_shot_transfer((X, y), (X, y), {"scratch": None}, tc, shots=(2, 5), draws=2, config=cfg)
    assert table["labels_per_class"].tolist() == [2, 2, 5, 5] and table["draw"].tolist() == [0, 1, 0, 1]
    assert (table["trainable_params"] == count_parameters(AudioCNN(cfg))).all()
    pd_again = few_shot_transfer((X, y), (X, y), {"scratch": None}, tc, shots=(2, 5), draws=2, config=cfg)
    assert table.equals(pd_again)  # seeded


def test_few_shot_bad_input():
    X, y = _few_shot_data()
    tc = TrainConfig(epochs=1)
    with pytest.raises(ValueError, match="fewer than shots=50"):
        few_shot_transfer((X, y), (X, y), {"s": None}, tc, shots=(50,))
    with pytest.raises(ValueError, match="encoders must map"):
        few_shot_transfer((X, y), (X, y), {}, tc)
    with pytest.raises(TypeError, match="AudioCNN or None"):
        few_shot_transfer((X, y), (X, y), {"s": "model"}, tc, shots=(2,))
    with pytest.raises(ValueError, match="shots must be"):
        few_shot_transfer((X, y), (X, y), {"s": None}, tc, shots=5)


# ------------------------------------------------------------------ kws recipe
def test_simulate_conditions_adds_noise_at_the_drawn_snr_range_and_is_seeded():
    x = 0.3 * torch.sin(torch.arange(8000) * 0.07).repeat(6, 1)
    noise = pink_noise(16000, seed=1)
    y = simulate_conditions(x, [noise], snr_db_range=(10.0, 10.0), p_reverb=0.0, p_noise=1.0, generator=0)
    measured = snr_db(x, y - x)
    assert y.dtype == x.dtype
    torch.testing.assert_close(measured.double(), torch.full((6,), 10.0, dtype=torch.float64), atol=0.05, rtol=0)
    y2 = simulate_conditions(x, [noise], snr_db_range=(10.0, 10.0), p_reverb=0.0, p_noise=1.0, generator=0)
    assert torch.equal(y, y2)
    clean = simulate_conditions(x, [noise], p_reverb=0.0, p_noise=0.0, generator=0)
    assert torch.equal(clean, x)
    reverb_only = simulate_conditions(x, [noise], p_reverb=1.0, p_noise=0.0, generator=0)
    assert reverb_only.shape == x.shape and bool((reverb_only != x).any(-1).all()), "a room must change every clip"
    with pytest.raises(ValueError, match="p_noise must be a probability"):
        simulate_conditions(x, [noise], p_noise=1.5, generator=0)
    with pytest.raises(ValueError, match="non-empty list"):
        simulate_conditions(x, [], generator=0)
    with pytest.raises(ValueError, match="2 dimensions"):
        simulate_conditions(x[0], [noise], generator=0)


def test_spec_augment_transform_masks_whole_bands_and_frames():
    t = spec_augment_transform(n_freq_masks=1, freq_mask_param=3, n_time_masks=0, time_mask_param=0)
    x = torch.randn(8, 20, 30, generator=_gen(3))
    y = t(x, _gen(0))
    changed = y != x  # (B, F, T)
    assert bool((changed.any(-1) == changed.all(-1)).all()), "a frequency mask covers every frame of its bands"
    assert int(changed.all(-1).sum(-1).max()) <= 3
    assert bool(changed.any()), "with one mask of up to 3 bands on each of 8 clips, some band must be masked"
    assert torch.equal(t(x, _gen(0)), y)
    with pytest.raises(ValueError, match="freq_mask_param must be a non-negative int"):
        spec_augment_transform(freq_mask_param=-1)


def test_fit_and_score_reports_slices():
    g = _gen(4)
    X, y = torch.randn(40, 20, 11, generator=g), torch.arange(40) % 2
    X[y == 1, :5] += 3.0
    res = fit_and_score((X, y), (X[:10], y[:10]), ["a"] * 5 + ["b"] * 5, CNNConfig(n_mels=20, n_classes=2, channels=(4,)),
                        TrainConfig(epochs=5, lr=0.05, batch_size=8))
    assert list(res.table.index) == ["a", "b", "all"] and res.table.loc["all", "n"] == 10
    assert res.predictions.shape == (10,) and res.train_s > 0 and res.history.epochs == 5


def test_build_noise_bank_parts_and_bad_input():
    import pandas as pd

    from course_lib.kws import build_noise_bank

    class Sounds:
        metadata = pd.DataFrame({"label": ["rain", "wind", "rain"]})

        def __getitem__(self, i):
            return {"waveform": torch.full((40,), float(i))}

    talk = torch.arange(6 * 10, dtype=torch.float32).reshape(6, 10)
    bank = build_noise_bank(talk, Sounds(), sample_rate=100, seconds=0.5, sound_names=("wind", "rain"), seed=2)
    assert len(bank) == 2 + 3 + 2 and bank[0].shape == (50,) and not torch.equal(bank[0], bank[1])
    torch.testing.assert_close(bank[2], talk[:2].mean(0))  # the first babble: the first third of the talkers
    assert float(bank[5][0]) == 1.0 and float(bank[6][0]) == 0.0  # the first clip of each named class
    with pytest.raises(ValueError, match="multiple of 3"):
        build_noise_bank(talk[:5], Sounds())
    with pytest.raises(ValueError, match=r"no clips of \['siren'\]"):
        build_noise_bank(talk, Sounds(), sound_names=("siren",))


def test_dataset_features_rejects_clips_at_another_sample_rate():
    import numpy as np
    import pandas as pd

    from course_lib.data.corpus import AudioDataset
    from course_lib.models import dataset_features

    meta = pd.DataFrame({"offset": [0, 800], "n_samples": [800, 800], "label": ["yes", "no"], "target": [0, 1]})
    ds = AudioDataset(np.zeros(1600, dtype=np.int16), meta, ["yes", "no"], "keywords", sample_rate=8000)
    with pytest.raises(ValueError, match="dataset is sampled at 8000 Hz but the front end expects 16000 Hz"):
        dataset_features(ds)
    items = [{"waveform": torch.zeros(800), "target": 0, "sample_rate": 8000}]
    with pytest.raises(ValueError, match="dataset items are sampled at 8000 Hz"):
        dataset_features(items)
    with pytest.raises(TypeError, match="indices must be a sequence of int"):
        dataset_features(items, indices=["a"])


def test_few_shot_transfer_rejects_splits_that_are_not_pairs():
    from course_lib.models import few_shot_transfer

    with pytest.raises(TypeError, match=r"train must be a tuple \(X, y\)"):
        few_shot_transfer(None, (torch.zeros(2, 40, 10), torch.tensor([0, 1])), {}, None)
