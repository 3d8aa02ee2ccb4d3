"""Wrong answers that the hidden tests of 00_welcome must catch."""
MUTANTS = [
    {
        "name": "truncates instead of rounding",
        "cell": "seconds_to_samples",
        "source": '''def seconds_to_samples(seconds, sample_rate):
    if seconds < 0 or sample_rate <= 0:
        raise ValueError("bad input")
    return int(seconds * sample_rate)
''',
        "must_fail": ["test_seconds_to_samples"],
    },
    {
        "name": "accepts a negative duration",
        "cell": "seconds_to_samples",
        "source": '''def seconds_to_samples(seconds, sample_rate):
    return int(round(seconds * sample_rate))
''',
        "must_fail": ["test_seconds_to_samples"],
    },
    {
        "name": "string prefix comparison of versions",
        "cell": "same_minor",
        "source": '''def same_minor(v1, v2):
    return v1[:3] == v2[:3]
''',
        "must_fail": ["test_same_minor"],
    },
    {
        "name": "compares whole version strings",
        "cell": "same_minor",
        "source": '''def same_minor(v1, v2):
    return v1 == v2
''',
        "must_fail": ["test_same_minor"],
    },
    {
        "name": "power formula (10 log10) for an amplitude",
        "cell": "peak_dbfs",
        "source": '''import math
def peak_dbfs(waveform):
    peak = float(waveform.abs().max())
    return -math.inf if peak == 0 else 10 * math.log10(peak)
''',
        "must_fail": ["test_peak_dbfs"],
    },
    {
        "name": "forgets the absolute value (misses negative peaks)",
        "cell": "peak_dbfs",
        "source": '''import math
def peak_dbfs(waveform):
    peak = float(waveform.max())
    return -math.inf if peak <= 0 else 20 * math.log10(peak)
''',
        "must_fail": ["test_peak_dbfs"],
    },
    {
        "name": "RMS level instead of peak",
        "cell": "peak_dbfs",
        "source": '''import math
def peak_dbfs(waveform):
    rms = float(waveform.pow(2).mean().sqrt())
    return -math.inf if rms == 0 else 20 * math.log10(rms)
''',
        "must_fail": ["test_peak_dbfs"],
    },
]
