"""course_lib.kws: module 07's experiment recipe (speaker parts, tasks, runs) and its trained checkpoints.

The checkpoint tests load each committed checkpoint into today's architecture and
re-measure it on the FAST corpus' held-out data (``course data`` builds it).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from course_lib.data.corpus import KEYWORD_CLASSES
from course_lib.data.splits import default_speaker_split
from course_lib.kws import (
    COMMAND_CLASSES,
    KWS_RUNS,
    RUN_CHECKPOINTS,
    command_task,
    digit_task,
    few_shot_summary,
    kws_train_config,
    speaker_parts,
)
from course_lib.tooling.checkpoints import RECIPES, checkpoint_dir, checkpoint_entry, evaluate_checkpoint, get_recipe

CHECKPOINTS = ["kws", "kws_clean", "kws_specaug", "kws_sim", "kws_commands", "sound"]


# ------------------------------------------------------------------ speakers and tasks
def test_speaker_parts_follow_the_default_split_and_hold_out_dev_and_test():
    spk = default_speaker_split()
    ids = [s for part in spk.values() for s in part]
    meta = pd.DataFrame({"speaker": ids * 2})
    parts = speaker_parts(meta)
    for name in ("train", "dev", "test"):
        assert set(meta["speaker"].iloc[parts[name]]) == set(spk[name])
    np.testing.assert_array_equal(parts["heldout"], np.union1d(parts["dev"], parts["test"]))
    assert not set(meta["speaker"].iloc[parts["train"]]) & set(meta["speaker"].iloc[parts["heldout"]])
    with pytest.raises(TypeError, match="'speaker' column"):
        speaker_parts(pd.DataFrame({"x": [1]}))


def test_command_and_digit_tasks_partition_the_keyword_classes():
    y = torch.arange(len(KEYWORD_CLASSES))
    X = torch.randn(len(y), 4, 5)
    Xc, yc = command_task(X, y)
    Xd, yd = digit_task(X, y)
    assert len(yc) + len(yd) == len(KEYWORD_CLASSES)
    assert [COMMAND_CLASSES[int(k)] for k in yc] == [c for c in KEYWORD_CLASSES if c in COMMAND_CLASSES]
    assert yd.tolist() == list(range(10)) and torch.equal(Xd, X[10:20])
    with pytest.raises(ValueError, match="same clips"):
        command_task(X, y[:3])
    with pytest.raises(ValueError, match="int64 indices"):
        digit_task(X, y + 5)


def test_train_config_and_runs():
    assert kws_train_config(False, seed=3).seed == 3 and kws_train_config(True).epochs == 8
    assert set(RUN_CHECKPOINTS) == set(KWS_RUNS) and set(RUN_CHECKPOINTS.values()) <= set(CHECKPOINTS)
    with pytest.raises(TypeError, match="fast must be a bool"):
        kws_train_config("yes")


def test_few_shot_summary_means_draws_and_gives_wilson_intervals():
    from course_lib.metrics import wilson_interval

    r = pd.DataFrame({"labels_per_class": [20, 20, 5, 5, 5, 5], "draw": [0, 1, 0, 1, 0, 1],
                      "model": ["a", "a", "a", "a", "b", "b"], "accuracy": [0.9, 0.7, 0.5, 0.3, 0.2, 0.2]})
    t = few_shot_summary(r, 50)
    assert list(t.index) == [(5, "a"), (5, "b"), (20, "a")]          # shots ascending, models in order
    assert t.loc[(20, "a"), "accuracy"] == pytest.approx(0.8) and t.loc[(5, "a"), "min"] == 0.3
    assert t.loc[(5, "b"), "draws"] == 2
    low, high = wilson_interval(40, 50)
    assert (t.loc[(20, "a"), "low"], t.loc[(20, "a"), "high"]) == pytest.approx((low, high))
    assert (t["low"] <= t["accuracy"]).all() and (t["accuracy"] <= t["high"]).all()
    with pytest.raises(ValueError, match="missing columns"):
        few_shot_summary(r.drop(columns="draw"), 50)
    with pytest.raises(ValueError, match="empty"):
        few_shot_summary(r.iloc[:0], 50)
    with pytest.raises(ValueError, match="n_test"):
        few_shot_summary(r, 0)


# ------------------------------------------------------------------ checkpoints
def test_every_module_07_checkpoint_is_registered_and_small():
    assert set(CHECKPOINTS) <= set(RECIPES)
    total = 0
    for name in CHECKPOINTS:
        entry = checkpoint_entry(name)
        path = checkpoint_dir() / entry["file"]
        assert path.is_file() and path.stat().st_size == entry["bytes"]
        total += entry["bytes"]
    assert total < 2_000_000, f"module 07's checkpoints take {total / 1e6:.2f} MB"


@pytest.mark.parametrize("name", CHECKPOINTS)
def test_checkpoint_loads_into_todays_architecture_and_reaches_its_figures(name):
    recipe = get_recipe(name)
    recorded, measured = evaluate_checkpoint(name)
    assert set(recorded) == set(measured)
    for key, value in recorded.items():
        assert abs(measured[key] - value) <= recipe.tolerance, (name, key, value, measured[key])


def test_recorded_figures_show_what_the_lesson_teaches():
    acc = {name: checkpoint_entry(name)["figures"] for name in CHECKPOINTS}
    # simulated rooms and noise help the noisy and far-field slices of held-out speakers
    assert acc["kws_sim"]["acc_noisy"] > acc["kws_clean"]["acc_noisy"] + 0.1
    assert acc["kws_sim"]["acc_far"] > acc["kws_clean"]["acc_far"] + 0.05
    # trained models: far above chance (1/22 keywords, 1/12 commands, 1/10 sounds)
    assert acc["kws"]["acc_all"] > 0.8 and acc["kws_commands"]["acc_commands"] > 0.8
    assert acc["sound"]["acc_all"] > 0.8


def test_build_noise_bank_rejects_sounds_at_another_sample_rate():
    from course_lib.kws import build_noise_bank

    class Sounds:  # a stand-in for the sound dataset, recorded at 8 kHz
        sample_rate = 8000
        metadata = pd.DataFrame({"label": ["siren"]})

        def __getitem__(self, i):
            return {"waveform": torch.full((100,), 0.1)}

    with pytest.raises(ValueError, match="sounds is sampled at 8000 Hz but sample_rate is 16000 Hz"):
        build_noise_bank(torch.ones(3, 50), Sounds(), seconds=0.01, sound_names=("siren",))
    with pytest.raises(TypeError, match="sounds must be the sound dataset"):
        build_noise_bank(torch.ones(3, 50), "sounds", seconds=0.01)


@pytest.mark.parametrize("name", ["evaluate_kws", "evaluate_commands", "evaluate_sound"])
def test_evaluators_reject_a_non_model_before_building_held_out_data(name):
    import course_lib.kws as K

    with pytest.raises(TypeError, match="model must be a trained AudioCNN"):
        getattr(K, name)("model")
