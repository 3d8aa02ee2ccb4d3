"""Benchmark: course_lib log-mel against torchaudio's MelSpectrogram + log.

Usage::

    python benchmarks/features.py          # 10 minutes of 16 kHz audio
    python benchmarks/features.py --full   # one hour

Both sides compute an 80-band log-mel (n_fft = 400, hop = 160, HTK mel,
centred reflect padding) of the same noise signal, in one-minute chunks
batched together, best of ``--repeats`` runs. Prints a table and, as its last
line, one JSON object of figures (seconds and the ratio ours / torchaudio).
"""
from __future__ import annotations

import argparse
import time

import torch


def _best_of(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> dict:
    import torchaudio

    from course_lib.mel import LogMel, log_mel

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="one hour of audio instead of 10 minutes")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    sr = 16000
    minutes = 60 if args.full else 10
    gen = torch.Generator().manual_seed(0)
    audio = 0.1 * torch.randn(minutes, 60 * sr, generator=gen)  # (chunks, time): one-minute chunks

    ours_fn = LogMel(sr, n_fft=400, hop_length=160, n_mels=80)
    theirs_mod = torchaudio.transforms.MelSpectrogram(sr, n_fft=400, hop_length=160, n_mels=80)

    with torch.inference_mode():
        ours = log_mel(audio[:1])
        theirs = torch.log(theirs_mod(audio[:1]) + 1e-6)
        max_diff = float((ours - theirs).abs().max())
        t_fun = _best_of(lambda: log_mel(audio), args.repeats)
        t_mod = _best_of(lambda: ours_fn(audio), args.repeats)
        t_ta = _best_of(lambda: torch.log(theirs_mod(audio) + 1e-6), args.repeats)

    scale = 60.0 / minutes  # report seconds per hour of audio
    figures = {
        "audio_min": minutes,
        "threads": torch.get_num_threads(),
        "logmel_1h_s": round(min(t_fun, t_mod) * scale, 3),
        "logmel_function_1h_s": round(t_fun * scale, 3),
        "logmel_module_1h_s": round(t_mod * scale, 3),
        "torchaudio_logmel_1h_s": round(t_ta * scale, 3),
        "ratio": round(min(t_fun, t_mod) / t_ta, 3),
        "max_abs_diff": float(f"{max_diff:.3g}"),
    }
    rows = [
        ("course_lib.mel.log_mel", t_fun),
        ("course_lib.mel.LogMel", t_mod),
        ("torchaudio MelSpectrogram + log", t_ta),
    ]
    print(f"log-mel of {minutes} min of 16 kHz audio (best of {args.repeats}, {torch.get_num_threads()} threads)")
    print(f"{'implementation':<34}{'seconds':>10}{'s per hour':>12}")
    for name, sec in rows:
        print(f"{name:<34}{sec:>10.3f}{sec * scale:>12.3f}")
    print(f"ratio ours / torchaudio: {figures['ratio']:.3f}; max |diff| on one minute: {max_diff:.3g}")
    from course_lib.tooling.results import emit_benchmark

    emit_benchmark("benchmarks/features.py", figures, full=args.full, seed=getattr(args, "seed", 0))
    return figures


if __name__ == "__main__":
    main()
