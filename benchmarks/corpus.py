"""Benchmark the course corpus: generation and cache-load times, corpus size.

Usage: python benchmarks/corpus.py [--full]

Generates into a fresh temporary cache (so the numbers include synthesis),
then loads again from that cache. Prints a readable table and, as its very
last line, one JSON object of the figures.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time

import numpy as np


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="also time the FULL-size sentence and sound sets")
    parser.add_argument("--workers", type=int, default=2, help="generation processes (default 2)")
    args = parser.parse_args(argv)

    from course_lib.data.corpus import (
        DEFAULT_SIZES,
        keyword_dataset,
        sentence_dataset,
        sound_dataset,
    )
    from course_lib.tooling.runtime import figures_table
    from course_lib.data.tts import speakers

    n_kws = 5000
    n_sent = DEFAULT_SIZES["full"]["sentences"] if args.full else 500
    n_snd = DEFAULT_SIZES["full"]["sounds"] if args.full else 500
    cache = tempfile.mkdtemp(prefix="corpus-bench-")
    figures: dict = {}
    try:
        ds, figures["gen_5000_kws_s"] = _timed(lambda: keyword_dataset(n_kws, seed=0, cache_dir=cache, n_workers=args.workers))

        def load_all():
            again = keyword_dataset(n_kws, seed=0, cache_dir=cache)
            waves = np.stack([again[i]["waveform"].numpy() for i in range(len(again))])
            return again, waves

        (again, waves), figures["load_5000_kws_s"] = _timed(load_all)
        assert waves.shape == (n_kws, 16000)
        figures["kws_audio_mb"] = round(os.path.getsize(again._audio_path) / 1e6, 1)
        sent, t_sent = _timed(lambda: sentence_dataset(n_sent, seed=0, cache_dir=cache, n_workers=args.workers))
        figures[f"gen_{n_sent}_sentences_s"] = t_sent
        figures["sentence_mean_s"] = float((sent.metadata["n_samples"] / 16000).mean())
        snd, t_snd = _timed(lambda: sound_dataset(n_snd, seed=0, cache_dir=cache, n_workers=args.workers))
        figures[f"gen_{n_snd}_sounds_s"] = t_snd
        figures["speakers"] = len(speakers())
        figures["accents"] = len({s.accent for s in speakers()})
        figures["kws_speakers_used"] = int(ds.metadata["speaker"].nunique())
        figures["kws_conditions"] = int(ds.metadata["condition"].nunique())
        figures["cpu_count"] = os.cpu_count() or 0
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    figures = {k: (round(v, 2) if isinstance(v, float) else v) for k, v in figures.items()}
    print(figures_table(figures))
    from course_lib.tooling.results import emit_benchmark

    emit_benchmark("benchmarks/corpus.py", figures, full=args.full, seed=getattr(args, "seed", 0))
    return figures


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
