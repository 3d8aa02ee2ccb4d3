"""Benchmark: the small CTC recognizer of module 08, trained and scored on unseen speakers.

Usage::

    python benchmarks/asr.py          # FAST smoke test (a tiny model, a few dozen steps; < 60 s)
    python benchmarks/asr.py --full   # the real recognizer (course_lib.asr.asr_recipe(fast=False))

Data (``course_lib.asr.asr_datasets``): training sentences by the default split's
*train* speakers in mixed recording conditions; test sentences by the unseen *test*
speakers, clean and at 10 dB SNR in a reverberant room (the same sentences and
speakers in both slices). Decoders: greedy, and prefix beam search (beam 8) with a
character 6-gram LM fitted on the training transcripts. Prints a table and, as its
last line, one JSON object: CER/WER per slice and decoder, the training time
(``asr_train_s``, optimiser steps only) and the feature-extraction time.
"""
from __future__ import annotations

import argparse
import json
import time

import torch


def main(argv: list[str] | None = None) -> dict:
    from course_lib.asr import CTCRecognizer, asr_datasets, asr_recipe, dataset_features, train_ctc, transcribe
    from course_lib.decoding import CharNgramLM
    from course_lib.runtime import seed_everything
    from course_lib.wer import cer, error_counts, wer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="train the FULL recognizer (minutes)")
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads (default 2)")
    parser.add_argument("--beam", type=int, default=8, help="beam width of prefix beam search")
    parser.add_argument("--alpha", type=float, default=0.5, help="LM weight")
    parser.add_argument("--beta", type=float, default=1.0, help="bonus per output character")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    fast = not args.full

    data = asr_datasets(fast, progress=False)
    model_cfg, train_cfg = asr_recipe(fast)
    t0 = time.perf_counter()
    sets = {name: dataset_features(ds, model_cfg.n_mels) for name, ds in data.items()}
    features_s = time.perf_counter() - t0

    seed_everything(train_cfg.seed)
    model = CTCRecognizer(model_cfg)
    history = train_ctc(model, sets["train"], train_cfg, progress=False)
    lm = CharNgramLM(order=6).fit(sets["train"]["texts"])

    figures: dict = {}
    rows = []
    for slice_name, key in (("test_clean", "clean"), ("test_noisy", "noisy_10db_reverb")):
        refs = sets[slice_name]["texts"]
        for dec, suffix in (("greedy", ""), ("beam+LM", "_beam_lm")):
            t1 = time.perf_counter()
            if dec == "greedy":
                hyps = transcribe(model, sets[slice_name]["feats"])
            else:
                hyps = transcribe(model, sets[slice_name]["feats"], decoder="beam", beam_width=args.beam, lm=lm,
                                  alpha=args.alpha, beta=args.beta)  # fmt: skip
            dec_s = time.perf_counter() - t1
            c, w = cer(refs, hyps), wer(refs, hyps)
            counts = error_counts(refs, hyps, "word")
            rows.append((slice_name, dec, c, w, counts["substitutions"], counts["deletions"], counts["insertions"], dec_s))
            short = "noisy" if key != "clean" and suffix else key
            figures[f"cer_{short}{suffix}"] = round(c, 4)
            figures[f"wer_{short}{suffix}"] = round(w, 4)
    figures["asr_train_s"] = round(history.seconds, 1)
    figures["features_s"] = round(features_s, 1)
    figures["train_steps"] = history.steps
    figures["epochs"] = train_cfg.epochs
    figures["n_train_utts"] = len(sets["train"]["feats"])
    figures["n_test_utts"] = len(sets["test_clean"]["feats"])
    figures["params"] = sum(p.numel() for p in model.parameters())
    figures["threads"] = torch.get_num_threads()

    print(f"CTC recognizer ({'FAST' if fast else 'FULL'}): {figures['params']:,} parameters, "
          f"{figures['n_train_utts']} training utterances, {history.steps} steps "
          f"({train_cfg.epochs} epochs max, batch {train_cfg.batch_size}), {figures['threads']} threads")
    print(f"training {history.seconds:.1f} s, features {features_s:.1f} s; unseen speakers, "
          f"{figures['n_test_utts']} utterances per slice")
    print(f"{'slice':<12}{'decoder':<10}{'CER':>8}{'WER':>8}{'S':>6}{'D':>6}{'I':>6}{'decode s':>10}")
    for s, d, c, w, S, D, I, sec in rows:
        print(f"{s:<12}{d:<10}{c:>8.4f}{w:>8.4f}{S:>6d}{D:>6d}{I:>6d}{sec:>10.1f}")
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main()
