"""Keyword spotting and sound classification benchmark (module 07's FULL figures).

Trains, on log-mel features of the course corpus:

* the keyword spotter (``KWS_CNN``, 22 classes) on every training speaker's
  clips (the corpus' mix of conditions) with SpecAugment, timed, and scored
  per recording condition on **unseen speakers** (a speaker-disjoint 80/10/10
  split);
* the same network on the clean training clips only, without and with
  noise/room simulation plus SpecAugment: the augmentation gain per slice;
* the environmental-sound CNN (``SOUND_CNN``) on a random 70/15/15 split.

Usage: ``python benchmarks/kws.py [--full]``. Prints a table, then as its
last line one JSON object of figures (accuracies in [0, 1], times in s).
"""
from __future__ import annotations

import argparse
import os
import time

import pandas as pd
import torch

from course_lib.data.corpus import collate_audio, default_dataset
from course_lib.kws import build_noise_bank, fit_and_score, simulate_conditions, spec_augment_transform
from course_lib.models import KWS_CNN, SOUND_CNN, FrontEnd, count_parameters, dataset_features
from course_lib.data.splits import random_split, split_by_speaker
from course_lib.training import EarlyStopping, TrainConfig
from course_lib.tooling.results import emit_benchmark

SR = 16000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="FULL sizes and epochs (else a quick FAST run)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    fast = not args.full
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    front = FrontEnd(n_mels=40, n_fft=400, hop_length=320)
    epochs = 6 if fast else 30
    seed = args.seed
    t0 = time.perf_counter()

    # keywords, split by speaker
    kws = default_dataset("keywords", fast=fast)
    meta = kws.metadata
    parts = split_by_speaker(meta, (0.8, 0.1, 0.1), seed=seed)
    assert not set(meta["speaker"].iloc[parts["train"]]) & set(meta["speaker"].iloc[parts["test"]])
    feats = {k: dataset_features(kws, parts[k], front) for k in ("train", "dev", "test")}
    slices = meta["condition"].iloc[parts["test"]].tolist()
    cfg = TrainConfig(epochs=epochs, lr=3e-3, batch_size=64, optimizer="adamw", weight_decay=1e-3, seed=seed,
                      schedule="cosine")
    specaug = spec_augment_transform(n_freq_masks=2, freq_mask_param=6, n_time_masks=2, time_mask_param=6)
    feat_s = time.perf_counter() - t0

    def keep_best():  # every run keeps its best epoch on the dev speakers
        return dict(dev=feats["dev"], callbacks=[EarlyStopping(patience=epochs, metric="dev_acc")], measure_train=False)

    main_run = fit_and_score(feats["train"], feats["test"], slices, KWS_CNN, cfg, batch_transform=specaug,
                             **keep_best())

    # the augmentation gain: the same clean clips, without and with simulated conditions + SpecAugment
    clean_idx = parts["train"][meta["condition"].to_numpy()[parts["train"]] == "clean"]
    clean_w = collate_audio([kws[int(i)] for i in clean_idx])["waveform"]
    y_clean = torch.as_tensor(meta["target"].to_numpy()[clean_idx])
    sounds = default_dataset("sounds", fast=fast)
    talk = collate_audio([kws[int(i)] for i in parts["train"][:24]])["waveform"]
    bank = build_noise_bank(talk, sounds, sample_rate=SR, seed=seed)
    X_clean = front(clean_w)
    X_sim = front(simulate_conditions(clean_w, bank, generator=seed))
    base = fit_and_score((X_clean, y_clean), feats["test"], slices, KWS_CNN, cfg, **keep_best())
    aug = fit_and_score((torch.cat([X_clean, X_sim]), torch.cat([y_clean, y_clean])), feats["test"], slices,
                        KWS_CNN, cfg, batch_transform=specaug, **keep_best())

    # environmental sounds
    s_parts = random_split(sounds.metadata, (0.7, 0.15, 0.15), seed=seed)
    s_tr = dataset_features(sounds, s_parts["train"], front)
    s_te = dataset_features(sounds, s_parts["test"], front)
    s_cfg = TrainConfig(epochs=epochs + 4, lr=3e-3, batch_size=32, optimizer="adamw", weight_decay=1e-3, seed=seed,
                        schedule="cosine")
    sound = fit_and_score(s_tr, s_te, ["all"] * len(s_te[1]), SOUND_CNN, s_cfg, measure_train=False)

    table = pd.concat({"multi+specaug": main_run.table["accuracy"], "clean": base.table["accuracy"],
                       "clean+sim+specaug": aug.table["accuracy"], "n": main_run.table["n"]}, axis=1)  # fmt: skip
    print(f"mode {'FAST' if fast else 'FULL'}: {len(parts['train'])} training clips, {len(parts['test'])} test clips "
          f"(unseen speakers), {epochs} epochs, {torch.get_num_threads()} threads, features {feat_s:.1f} s")
    print(table.round(3).to_string())
    print(f"KWS_CNN {count_parameters(main_run.model)} parameters; sound CNN {count_parameters(sound.model)}; "
          f"sound accuracy {sound.table.loc['all', 'accuracy']:.3f}")
    gain = table["clean+sim+specaug"] - table["clean"]
    figures = {
        "kws_acc_clean": round(float(table.loc["clean", "multi+specaug"]), 4),
        "kws_acc_noisy": round(float(table.loc["noisy", "multi+specaug"]), 4),
        "kws_acc_far": round(float(table.loc["far", "multi+specaug"]), 4),
        "kws_acc_all": round(float(table.loc["all", "multi+specaug"]), 4),
        "aug_gain_noisy": round(float(gain["noisy"]), 4),
        "aug_gain_far": round(float(gain["far"]), 4),
        "kws_train_s": round(main_run.train_s, 1),
        "kws_train_clips": len(parts["train"]),
        "kws_epochs": epochs,
        "kws_best_epoch": main_run.history.best_epoch("dev_acc") + 1,
        "sound_acc": round(float(sound.table.loc["all", "accuracy"]), 4),
        "total_s": round(time.perf_counter() - t0, 1),
    }
    emit_benchmark("benchmarks/kws.py", figures, full=args.full, seed=getattr(args, "seed", 0))


if __name__ == "__main__":
    main()
