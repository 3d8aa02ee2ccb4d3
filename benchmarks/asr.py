"""Benchmark: the small CTC recognizer of module 08, trained and scored on unseen speakers.

Usage::

    python benchmarks/asr.py          # FAST smoke test (a tiny model, a few dozen steps; < 60 s)
    python benchmarks/asr.py --full   # the real recognizer (course_lib.asr.asr_recipe(fast=False))

Data (``course_lib.asr.asr_datasets``): training sentences by the default split's
*train* speakers in mixed recording conditions; test sentences by the unseen *test*
speakers, clean and at 10 dB SNR in a reverberant room (the same sentences and
speakers in both slices). Decoders: greedy, and prefix beam search with a character
n-gram LM fitted on the training transcripts (``course_lib.asr.decoder_recipe``: beam
16 and an 8-gram in FULL), its weight ``alpha`` and length bonus ``beta`` chosen by
CER on the *dev* speakers (``tune_decoder``), never on the test speakers. Prints a
table and, as its last line, one JSON object: CER/WER per slice and decoder, the
training time (``asr_train_s``, optimiser steps only), the feature-extraction time,
the chosen ``alpha``/``beta`` and the share of test sentences whose exact text also
occurs in the training transcripts (the LM has seen them).
"""
from __future__ import annotations

import argparse
import time

import torch


def main(argv: list[str] | None = None) -> dict:
    from course_lib.asr import (CTCRecognizer, asr_datasets, asr_recipe, utterance_features, decoder_recipe, train_ctc,
                                transcribe, tune_decoder)  # fmt: skip
    from course_lib.decoding import CharNgramLM
    from course_lib.models import count_parameters
    from course_lib.tooling.runtime import seed_everything
    from course_lib.wer import cer, error_counts, wer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="train the FULL recognizer (minutes)")
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads (default 2)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    fast = not args.full

    data = asr_datasets(fast, progress=False)
    model_cfg, train_cfg = asr_recipe(fast)
    t0 = time.perf_counter()
    sets = {name: utterance_features(ds, model_cfg.n_mels) for name, ds in data.items()}
    features_s = time.perf_counter() - t0

    seed_everything(train_cfg.seed)
    model = CTCRecognizer(model_cfg)
    history = train_ctc(model, sets["train"], train_cfg, progress=False)
    dec_cfg, grid = decoder_recipe(fast)
    lm = CharNgramLM(order=dec_cfg.lm_order).fit(sets["train"]["texts"])
    t1 = time.perf_counter()
    dec_cfg, tuning = tune_decoder(model, {"clean": sets["dev_clean"], "noisy": sets["dev_noisy"]}, lm, dec_cfg, **grid)
    tune_s = time.perf_counter() - t1

    figures: dict = {}
    rows = []
    seen = set(sets["train"]["texts"])
    for slice_name, key in (("test_clean", "clean"), ("test_noisy", "noisy_10db_reverb")):
        refs = sets[slice_name]["texts"]
        for dec, suffix in (("greedy", ""), ("beam+LM", "_beam_lm")):
            t1 = time.perf_counter()
            if dec == "greedy":
                hyps = transcribe(model, sets[slice_name]["feats"])
            else:
                hyps = transcribe(model, sets[slice_name]["feats"], decoder="beam", beam_width=dec_cfg.beam_width, lm=lm,
                                  alpha=dec_cfg.alpha, beta=dec_cfg.beta)  # fmt: skip
            dec_s = time.perf_counter() - t1
            c, w = cer(refs, hyps), wer(refs, hyps)
            counts = error_counts(refs, hyps, "word")
            rows.append((slice_name, dec, c, w, counts["substitutions"], counts["deletions"], counts["insertions"], dec_s))
            short = "noisy" if key != "clean" and suffix else key
            figures[f"cer_{short}{suffix}"] = round(c, 4)
            figures[f"wer_{short}{suffix}"] = round(w, 4)
            new = [k for k, t in enumerate(refs) if t not in seen]
            if dec == "beam+LM" and new:  # the sentences the LM never saw in training, scored on their own
                figures[f"cer_{short}{suffix}_new_texts"] = round(cer([refs[k] for k in new], [hyps[k] for k in new]), 4)
    figures["alpha"], figures["beta"], figures["beam"] = dec_cfg.alpha, dec_cfg.beta, dec_cfg.beam_width
    figures["lm_order"] = dec_cfg.lm_order
    test_texts = sets["test_clean"]["texts"]
    figures["test_texts_in_train"] = round(sum(t in seen for t in test_texts) / len(test_texts), 4)
    figures["asr_train_s"] = round(history.seconds, 1)
    figures["features_s"] = round(features_s, 1)
    figures["train_steps"] = history.steps
    figures["epochs"] = train_cfg.epochs
    figures["n_train_utts"] = len(sets["train"]["feats"])
    figures["n_test_utts"] = len(sets["test_clean"]["feats"])
    figures["params"] = count_parameters(model)
    figures["threads"] = torch.get_num_threads()

    print(f"CTC recognizer ({'FAST' if fast else 'FULL'}): {figures['params']:,} parameters, "
          f"{figures['n_train_utts']} training utterances, {history.steps} steps "
          f"({train_cfg.epochs} epochs max, batch {train_cfg.batch_size}), {figures['threads']} threads")
    print(f"training {history.seconds:.1f} s, features {features_s:.1f} s; unseen speakers, "
          f"{figures['n_test_utts']} utterances per slice")
    print(f"decoder tuned on dev speakers in {tune_s:.0f} s (CER, best first):")
    print(tuning.head(5).round(4).to_string(index=False))
    print(f"chosen: beam {dec_cfg.beam_width}, {dec_cfg.lm_order}-gram LM, alpha {dec_cfg.alpha}, beta {dec_cfg.beta}; "
          f"{figures['test_texts_in_train']:.1%} of test sentences also occur in the training transcripts")
    print(f"{'slice':<12}{'decoder':<10}{'CER':>8}{'WER':>8}{'S':>6}{'D':>6}{'I':>6}{'decode s':>10}")
    for s, d, c, w, S, D, I, sec in rows:
        print(f"{s:<12}{d:<10}{c:>8.4f}{w:>8.4f}{S:>6d}{D:>6d}{I:>6d}{sec:>10.1f}")
    from course_lib.tooling.results import emit_benchmark

    emit_benchmark("benchmarks/asr.py", figures, full=args.full, seed=getattr(args, "seed", 0))
    return figures


if __name__ == "__main__":
    main()
