"""Benchmark: the small CTC recognizer of module 08, trained and scored on unseen speakers.

Usage::

    python benchmarks/asr.py          # FAST: a smoke run of the training loop, then the committed checkpoint is scored
    python benchmarks/asr.py --full   # the real recognizer (course_lib.asr.asr_recipe(fast=False)), trained here

Data (``course_lib.asr.asr_datasets``): training sentences by the default split's
*train* speakers in mixed recording conditions; test sentences by the unseen *test*
speakers, clean and at 10 dB SNR in a reverberant room (the same sentences and
speakers in both slices). FULL trains the recognizer (the recipe of
``checkpoints/asr.pt``) and scores it; FAST trains a few steps to show the loop
runs and scores the committed checkpoint (``course checkpoints asr``) on the FAST
test slices. Decoders: greedy, and prefix beam search with a character n-gram LM
fitted on the FULL training transcripts (``course_lib.asr.sentence_texts``: texts
only, so FAST fits the same LM), its weight ``alpha`` and length bonus ``beta``
chosen by CER on the *dev* speakers (``tune_decoder``), never on the test speakers.
References and hypotheses are normalised (``normalize_transcript``) before scoring.
Test sentences whose exact text occurs in the LM's training texts (the grammar is
small) are also scored apart (``_lm_seen`` / ``_lm_unseen``).

Prints a table and, as its last line, one JSON object: CER/WER per slice and
decoder (all, LM-seen and LM-unseen sentences), the training time
(``asr_train_s``, optimiser steps only), the feature-extraction time, the chosen
``alpha``/``beta`` and the share of test sentences the LM has seen.
"""
from __future__ import annotations

import argparse
import time
from dataclasses import replace

import torch


def main(argv: list[str] | None = None) -> dict:
    from course_lib.asr import (CTCRecognizer, asr_datasets, asr_recipe, ctc_log_probs, decode_log_probs,
                                sentence_texts, train_ctc, tune_decoder, utterance_features, ASR_DATA_SIZES)  # fmt: skip
    from course_lib.data.text import normalize_transcript
    from course_lib.decoding import CharNgramLM, decoder_recipe
    from course_lib.models import count_parameters
    from course_lib.tooling.checkpoints import load_checkpoint
    from course_lib.tooling.results import emit_benchmark
    from course_lib.tooling.runtime import seed_everything
    from course_lib.wer import cer, error_counts, wer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="train the FULL recognizer (minutes)")
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads (default 2)")
    parser.add_argument("--seed", type=int, default=0, help="training seed (default 0)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    fast = not args.full

    data = asr_datasets(fast, progress=False)
    model_cfg, train_cfg = asr_recipe(fast)
    train_cfg = replace(train_cfg, seed=args.seed)
    t0 = time.perf_counter()
    sets = {name: utterance_features(ds, model_cfg.n_mels) for name, ds in data.items()}
    features_s = time.perf_counter() - t0

    seed_everything(args.seed)
    model = CTCRecognizer(model_cfg)
    history = train_ctc(model, sets["train"], train_cfg, progress=False)
    if fast:  # the smoke run only shows that the loop runs: score the committed checkpoint (the FULL recipe)
        model = CTCRecognizer(model_cfg)
        load_checkpoint("asr", model)
    dec_cfg, grid = decoder_recipe(fast)
    lm_texts = sentence_texts(ASR_DATA_SIZES["full"]["train"], seed=2)  # the FULL training transcripts
    lm = CharNgramLM(order=dec_cfg.lm_order).fit(lm_texts)
    t1 = time.perf_counter()
    dec_cfg, tuning = tune_decoder(model, {"clean": sets["dev_clean"], "noisy": sets["dev_noisy"]}, lm, dec_cfg, **grid)
    tune_s = time.perf_counter() - t1

    figures: dict = {}
    rows = []
    seen_texts = set(lm_texts)
    norm = normalize_transcript
    for slice_name, short in (("test_clean", "clean"), ("test_noisy", "noisy")):
        refs = sets[slice_name]["texts"]
        seen = [t in seen_texts for t in refs]
        log_probs = ctc_log_probs(model, sets[slice_name]["feats"])
        for dec, suffix in (("greedy", ""), ("beam+LM", "_beam_lm")):
            t1 = time.perf_counter()
            if dec == "greedy":
                hyps = decode_log_probs(log_probs)
            else:
                hyps = decode_log_probs(log_probs, decoder="beam", beam_width=dec_cfg.beam_width, lm=lm,
                                        alpha=dec_cfg.alpha, beta=dec_cfg.beta)  # fmt: skip
            dec_s = time.perf_counter() - t1
            counts = error_counts(refs, hyps, "word", normalize=norm)
            figures[f"cer_{short}{suffix}"] = round(cer(refs, hyps, normalize=norm), 4)
            figures[f"wer_{short}{suffix}"] = round(wer(refs, hyps, normalize=norm), 4)
            for part, keep in (("lm_seen", True), ("lm_unseen", False)):
                idx = [k for k, s in enumerate(seen) if s == keep]
                if idx:
                    r, h = [refs[k] for k in idx], [hyps[k] for k in idx]
                    figures[f"cer_{short}{suffix}_{part}"] = round(cer(r, h, normalize=norm), 4)
                    figures[f"wer_{short}{suffix}_{part}"] = round(wer(r, h, normalize=norm), 4)
            rows.append((slice_name, dec, figures[f"cer_{short}{suffix}"], figures[f"wer_{short}{suffix}"],
                         figures.get(f"wer_{short}{suffix}_lm_seen", float("nan")),
                         figures.get(f"wer_{short}{suffix}_lm_unseen", float("nan")),
                         counts["substitutions"], counts["deletions"], counts["insertions"], dec_s))  # fmt: skip
    figures["alpha"], figures["beta"], figures["beam"] = dec_cfg.alpha, dec_cfg.beta, dec_cfg.beam_width
    figures["lm_order"] = dec_cfg.lm_order
    test_texts = sets["test_clean"]["texts"]
    figures["test_texts_in_lm"] = round(sum(t in seen_texts for t in test_texts) / len(test_texts), 4)
    figures["asr_train_s"] = round(history.seconds, 1)
    figures["features_s"] = round(features_s, 1)
    figures["train_steps"] = history.steps
    figures["epochs"] = train_cfg.epochs
    figures["n_train_utts"] = len(sets["train"]["feats"])
    figures["n_test_utts"] = len(sets["test_clean"]["feats"])
    figures["params"] = count_parameters(model)
    figures["threads"] = torch.get_num_threads()
    figures["scored_checkpoint"] = int(fast)

    print(f"CTC recognizer ({'FAST' if fast else 'FULL'}): {figures['params']:,} parameters, "
          f"{figures['n_train_utts']} training utterances, {history.steps} steps "
          f"({train_cfg.epochs} epochs max, batch {train_cfg.batch_size}), {figures['threads']} threads")
    print(f"training {history.seconds:.1f} s, features {features_s:.1f} s; unseen speakers, "
          f"{figures['n_test_utts']} utterances per slice")
    if fast:
        print("FAST: the training above is a smoke run of the loop; the scores below are the committed "
              "checkpoint's (checkpoints/asr.pt, the FULL recipe)")
    print(f"decoder tuned on dev speakers in {tune_s:.0f} s (CER, best first):")
    print(tuning.head(5).round(4).to_string(index=False))
    print(f"chosen: beam {dec_cfg.beam_width}, {dec_cfg.lm_order}-gram LM, alpha {dec_cfg.alpha}, beta {dec_cfg.beta}; "
          f"{figures['test_texts_in_lm']:.1%} of test sentences also occur in the LM's training texts")
    print(f"{'slice':<12}{'decoder':<10}{'CER':>8}{'WER':>8}{'WER seen':>10}{'WER new':>9}{'S':>6}{'D':>6}{'I':>6}"
          f"{'decode s':>10}")  # fmt: skip
    for s, d, c, w, ws, wu, S, D, I, sec in rows:
        print(f"{s:<12}{d:<10}{c:>8.4f}{w:>8.4f}{ws:>10.4f}{wu:>9.4f}{S:>6d}{D:>6d}{I:>6d}{sec:>10.1f}")
    emit_benchmark("benchmarks/asr.py", figures, full=args.full, seed=args.seed)
    return figures


if __name__ == "__main__":
    main()
