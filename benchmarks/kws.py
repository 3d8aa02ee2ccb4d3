"""Keyword spotting, sound classification and transfer benchmark (module 07's FULL figures).

Runs module 07's recipe (``course_lib.kws``, the same functions the notebook and
the checkpoints use) on log-mel features of the course corpus:

* the four keyword runs of the augmentation comparison (``KWS_RUNS``: clean
  clips only, + SpecAugment, + simulated rooms and noise, every clip in its
  recording condition + SpecAugment), timed, scored per recording condition on
  the **held-out speakers** (dev and test speakers of the default split; a
  fixed number of epochs, so no choice is made on them);
* the commands encoder (commands, unknown, silence; no digit labels) and the
  environmental-sound CNN (trained on the clips the FAST corpus does not hold,
  scored on the FAST corpus' clips);
* few-shot digits: a new head on each frozen encoder against the whole network
  from scratch, 5 and 20 labelled clips per digit, several draws.

Usage: ``python benchmarks/kws.py [--full]``. Prints tables, then as its last
line one JSON object of figures (accuracies in [0, 1], gains in accuracy points
as fractions, times in s). ``--full`` records them in ``results/full.json``.
"""
from __future__ import annotations

import argparse
import os
import time

import pandas as pd
import torch

from course_lib.kws import (
    KWS_RUNS,
    digit_task,
    few_shot_config,
    kws_data,
    kws_train_config,
    sound_splits,
    sound_train_config,
    train_commands_encoder,
    train_kws_run,
    train_sound_model,
)
from course_lib.models import count_parameters, few_shot_transfer
from course_lib.tooling.results import emit_benchmark


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="FULL sizes and epochs (else a quick FAST smoke run)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    fast, seed = not args.full, args.seed
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    t0 = time.perf_counter()

    data = kws_data(fast, seed)
    feat_s = time.perf_counter() - t0
    cfg = kws_train_config(fast, seed=seed, epochs=3 if fast else None)
    runs = {run: train_kws_run(run, data, cfg) for run in KWS_RUNS}
    commands = train_commands_encoder(data, cfg)
    sound = train_sound_model(sound_splits(fast, seed), sound_train_config(fast, seed=seed, epochs=4 if fast else None))
    few_cfg = few_shot_config(fast, seed=seed, epochs=5 if fast else None)
    transfer = few_shot_transfer(
        digit_task(*data.train), digit_task(*data.heldout),
        {"scratch": None, "frozen commands encoder": commands.model, "frozen sound encoder": sound.model},
        few_cfg, shots=(5, 20), draws=2 if fast else 5, seed=seed,
    )  # fmt: skip

    table = pd.concat({run: r.table["accuracy"] for run, r in runs.items()}, axis=1)
    table["n"] = runs["clean"].table["n"]
    print(f"mode {'FAST' if fast else 'FULL'}: {len(data.train[1])} training clips ({len(data.clean[1])} clean), "
          f"{len(data.heldout[1])} clips of held-out speakers, {cfg.epochs} epochs, {torch.get_num_threads()} "
          f"threads, features and simulation {feat_s:.1f} s")  # fmt: skip
    print(table.round(3).to_string())
    summary = transfer.groupby(["labels_per_class", "model"])["accuracy"].agg(["mean", "min", "max"])
    print(summary.round(3).to_string())
    print(f"KWS_CNN {count_parameters(runs['multi+specaug'].model)} parameters; commands accuracy "
          f"{commands.table.loc['all', 'accuracy']:.3f}; sound accuracy {sound.table.loc['all', 'accuracy']:.3f}")

    gain = table["clean+sim+specaug"] - table["clean"]
    spec = table["clean+specaug"] - table["clean"]
    acc = summary["mean"]
    pair = transfer.pivot_table(index=["labels_per_class", "draw"], columns="model", values="accuracy")
    margin5 = (pair["frozen commands encoder"] - pair["scratch"]).loc[5]
    figures = {f"kws_acc_{s}": round(float(table.loc[s, "multi+specaug"]), 4) for s in table.index}
    figures.update({f"clean_acc_{s}": round(float(table.loc[s, "clean"]), 4) for s in table.index})
    figures.update({f"aug_gain_{s}": round(float(gain[s]), 4) for s in table.index})
    figures.update({f"specaug_gain_{s}": round(float(spec[s]), 4) for s in table.index})
    figures.update({
        "kws_train_s": round(runs["multi+specaug"].train_s, 1),
        "kws_train_clips": int(len(data.train[1])),
        "kws_heldout_clips": int(len(data.heldout[1])),
        "kws_epochs": cfg.epochs,
        "commands_acc": round(float(commands.table.loc["all", "accuracy"]), 4),
        "sound_acc": round(float(sound.table.loc["all", "accuracy"]), 4),
        "transfer_acc_5": round(float(acc[(5, "frozen commands encoder")]), 4),
        "scratch_acc_5": round(float(acc[(5, "scratch")]), 4),
        "sound_encoder_acc_5": round(float(acc[(5, "frozen sound encoder")]), 4),
        "transfer_acc_20": round(float(acc[(20, "frozen commands encoder")]), 4),
        "scratch_acc_20": round(float(acc[(20, "scratch")]), 4),
        "sound_encoder_acc_20": round(float(acc[(20, "frozen sound encoder")]), 4),
        "transfer_gain_5_min": round(float(margin5.min()), 4),
        "transfer_draws": int(transfer["draw"].nunique()),
        "total_s": round(time.perf_counter() - t0, 1),
    })  # fmt: skip
    emit_benchmark("benchmarks/kws.py", figures, full=args.full, seed=seed, seconds=time.perf_counter() - t0)


if __name__ == "__main__":
    main()
