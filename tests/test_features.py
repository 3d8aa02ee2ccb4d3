"""Tests for course_lib.features: keyword clips, MFCC statistics, the keyword CNN and the learning-curve checkpoint."""
from __future__ import annotations

import pytest
import torch

from course_lib import features as FE
from course_lib.audio import tone
from course_lib.cepstrum import deltas, mfcc
from course_lib.data.tts import speakers

SR = 16000


def test_speaker_split_is_disjoint_deterministic_and_mixed():
    test, pool = FE.speaker_split()
    test2, pool2 = FE.speaker_split()
    assert [s.speaker_id for s in test] == [s.speaker_id for s in test2]
    assert [s.speaker_id for s in pool] == [s.speaker_id for s in pool2]
    ids = {s.speaker_id for s in test} | {s.speaker_id for s in pool}
    assert len(ids) == len(speakers()) == len(test) + len(pool)
    assert len({s.accent for s in pool[:16]}) >= 4  # the first training speakers mix accents
    assert FE.speaker_split(seed=1)[0] != test


def test_word_clips_shapes_labels_and_determinism():
    waves, labels = FE.word_clips(["spk003", "spk070"], ("yes", "stop", "go"), seed=5)
    assert waves.shape == (6, SR) and waves.dtype == torch.float32
    assert labels.tolist() == [0, 1, 2, 0, 1, 2]
    again, _ = FE.word_clips(["spk003", "spk070"], ("yes", "stop", "go"), seed=5)
    other, _ = FE.word_clips(["spk003", "spk070"], ("yes", "stop", "go"), seed=6)
    assert torch.equal(waves, again) and not torch.equal(waves, other)
    half, _ = FE.word_clips(["spk003"], ("yes",), seed=5, seconds=0.5)
    assert half.shape == (1, SR // 2)


def test_word_clips_noise_level_is_within_the_snr_range():
    clean, _ = FE.word_clips(["spk010"], ("left",), seed=0, snr_db_range=(59.9, 60.0))
    noisy, _ = FE.word_clips(["spk010"], ("left",), seed=0, snr_db_range=(0.0, 0.1))
    noise = noisy - clean
    snr = 10 * torch.log10(clean.pow(2).sum() / noise.pow(2).sum())
    assert -0.5 < float(snr) < 0.6


def test_mfcc_stats_matches_its_definition_and_batches():
    x = torch.randn(3, 8000, generator=torch.Generator().manual_seed(0))
    c = mfcc(x)
    f = torch.cat([c, deltas(c)], dim=1)
    torch.testing.assert_close(FE.mfcc_stats(x), torch.cat([f.mean(-1), f.std(-1)], dim=1))
    torch.testing.assert_close(FE.mfcc_stats(x)[1:2], FE.mfcc_stats(x[1:2]))
    assert FE.mfcc_stats(x, n_mfcc=20).shape == (3, 80)


def test_keyword_cnn_normalization_is_part_of_the_model():
    model = FE.KeywordCNN(8)
    feats = 5.0 + 3.0 * torch.randn(10, 40, 101, generator=torch.Generator().manual_seed(1))
    model.fit_normalization(feats)
    assert abs(float(model.mean) - 5.0) < 0.05 and abs(float(model.std) - 3.0) < 0.05
    assert {"mean", "std"} <= set(model.state_dict())
    assert model(feats).shape == (10, 8)


def _toy(n_per_class=8):
    """Two classes of log-mel features that a CNN separates at once: a low tone vs a high tone."""
    gen = torch.Generator().manual_seed(0)
    waves = [tone(f, 1.0, amplitude=0.3) + 0.01 * torch.randn(SR, generator=gen)
             for f in [300.0] * n_per_class + [3000.0] * n_per_class]
    return FE.keyword_log_mel(torch.stack(waves)), torch.tensor([0] * n_per_class + [1] * n_per_class)


def test_train_keyword_cnn_learns_and_is_deterministic():
    feats, labels = _toy()
    cfg = FE.CurveConfig(steps=40, lr=1e-2)
    model, history = FE.train_keyword_cnn(feats, labels, cfg, seed=3, n_classes=2)
    assert not model.training and history.steps == 40
    assert float((model(feats).argmax(-1) == labels).float().mean()) == 1.0
    again, _ = FE.train_keyword_cnn(feats, labels, cfg, seed=3, n_classes=2)
    for a, b in zip(model.state_dict().values(), again.state_dict().values()):
        assert torch.equal(a, b)
    state = torch.random.get_rng_state()
    FE.train_keyword_cnn(feats, labels, FE.CurveConfig(steps=1), seed=4, n_classes=2)
    assert torch.equal(state, torch.random.get_rng_state())  # the caller's generator is untouched


def test_curve_cnns_train_and_evaluate_on_a_toy():
    feats_waves = torch.cat([tone(300.0, 1.0, amplitude=0.3)[None].repeat(8, 1), tone(3000.0, 1.0, amplitude=0.3)[None]
                             .repeat(8, 1)]) + 0.01 * torch.randn(16, SR, generator=torch.Generator().manual_seed(0))
    # speaker-major like word_clips: 2 "speakers" x 8 words; here word k of every speaker is class k % 2
    order = torch.arange(16).reshape(2, 8).T.reshape(-1)
    waves, labels = feats_waves[order], (torch.arange(16) // 8)[order] % 8
    curve = FE.train_curve_cnns(waves, labels, sizes=(1, 2), replicas=2, config=FE.CurveConfig(steps=3))
    assert sorted(curve.models) == ["n1_r0", "n1_r1", "n2_r0", "n2_r1"]
    table = FE.evaluate_curve_cnns(curve, waves, labels)
    assert table.shape == (4, 3) and table.acc.between(0, 1).all()
    assert set(FE.curve_figures(table)) == {"acc_cnn_n1", "acc_cnn_n2"}
    assert curve(FE.keyword_log_mel(waves[:3])).shape == (4, 3, 8)


def test_bad_feature_arguments():
    with pytest.raises(ValueError, match="speakers must be a non-empty list"):
        FE.word_clips([], seed=0)
    with pytest.raises(ValueError, match="words must be a non-empty list"):
        FE.word_clips(["spk000"], "yes", seed=0)
    with pytest.raises(TypeError, match="seed must be an int"):
        FE.word_clips(["spk000"], seed=None)
    with pytest.raises(ValueError, match=r"seconds must be a number in \(0, 10\]"):
        FE.word_clips(["spk000"], seed=0, seconds=0)
    with pytest.raises(ValueError, match="at least 320 samples"):
        FE.mfcc_stats(torch.zeros(2, 100))
    with pytest.raises(ValueError, match="2 dimension"):
        FE.mfcc_stats(torch.zeros(16000))
    with pytest.raises(ValueError, match="n_test must leave training speakers"):
        FE.speaker_split(n_test=128)
    with pytest.raises(ValueError, match="one entry per clip"):
        FE.train_keyword_cnn(torch.zeros(4, 40, 101), torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 8\)"):
        FE.train_keyword_cnn(torch.zeros(2, 40, 101), torch.tensor([0, 8]))
    with pytest.raises(TypeError, match="config must be a CurveConfig"):
        FE.train_keyword_cnn(torch.zeros(2, 40, 101), torch.tensor([0, 1]), {"steps": 3})
    with pytest.raises(ValueError, match="lr must be a float"):
        FE.CurveConfig(lr=2)
    with pytest.raises(ValueError, match="no CNN for 3 speakers"):
        FE.CurveCNNs((2,), 1).model(3)
    with pytest.raises(ValueError, match="fewer than the largest size"):
        FE.train_curve_cnns(torch.zeros(8, SR), torch.arange(8), sizes=(2,), replicas=1)
    with pytest.raises(TypeError, match="curve must be a CurveCNNs"):
        FE.evaluate_curve_cnns(FE.KeywordCNN(), torch.zeros(1, SR), torch.zeros(1, dtype=torch.long))


def test_features_checkpoint_loads_and_reaches_its_recorded_figures():
    from course_lib.tooling.checkpoints import RECIPES, checkpoint_entry, evaluate_checkpoint, get_recipe

    assert "features_curve" in RECIPES
    recipe = get_recipe("features_curve")
    checkpoint_entry("features_curve")  # raises with the command to run when it is missing
    recorded, measured = evaluate_checkpoint("features_curve")
    assert set(recorded) == set(measured) == {f"acc_cnn_n{n}" for n in FE.CURVE_SIZES}
    for key, value in recorded.items():
        assert abs(measured[key] - value) <= recipe.tolerance, (key, value, measured[key])


def test_curve_figures_rejects_a_non_table():
    from course_lib.features import curve_figures

    with pytest.raises(TypeError, match="table must be a pandas.DataFrame with 'n_speakers' and 'acc'"):
        curve_figures("table")
