"""Wrong answers that the hidden tests of 06_audio_fundamentals must catch."""
MUTANTS = [
    {
        "name": "mel scale: 1127 with log10 forward, the 2595 log10 inverse back (constants mixed up)",
        "cell": "mel_filterbank",
        "source": '''def mel_filterbank(sample_rate, n_fft, n_mels, f_min=0.0, f_max=None):
    f_max = sample_rate / 2 if f_max is None else f_max
    to_mel = lambda f: 1127.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)
    to_hz = lambda m: 700.0 * (10.0 ** (np.asarray(m) / 2595.0) - 1.0)
    edges = to_hz(np.linspace(to_mel(f_min), to_mel(f_max), n_mels + 2))
    bins = np.arange(n_fft // 2 + 1) * sample_rate / n_fft
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    return np.maximum(0.0, np.minimum((bins[None] - lower) / (centre - lower), (upper - bins[None]) / (upper - centre)))
''',
        "must_fail": ["test_mel_filterbank"],
    },
    {
        "name": "mel scale: natural-log inverse (exp) of a log10 forward formula",
        "cell": "mel_filterbank",
        "source": '''def mel_filterbank(sample_rate, n_fft, n_mels, f_min=0.0, f_max=None):
    f_max = sample_rate / 2 if f_max is None else f_max
    to_mel = lambda f: 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)
    to_hz = lambda m: 700.0 * (np.exp(np.asarray(m) / 2595.0) - 1.0)
    edges = to_hz(np.linspace(to_mel(f_min), to_mel(f_max), n_mels + 2))
    bins = np.arange(n_fft // 2 + 1) * sample_rate / n_fft
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    return np.maximum(0.0, np.minimum((bins[None] - lower) / (centre - lower), (upper - bins[None]) / (upper - centre)))
''',
        "must_fail": ["test_mel_filterbank"],
    },
    {
        "name": "off-by-one: n_fft // 2 frequency bins instead of n_fft // 2 + 1",
        "cell": "mel_filterbank",
        "source": '''def mel_filterbank(sample_rate, n_fft, n_mels, f_min=0.0, f_max=None):
    f_max = sample_rate / 2 if f_max is None else f_max
    to_mel = lambda f: 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)
    to_hz = lambda m: 700.0 * (10.0 ** (np.asarray(m) / 2595.0) - 1.0)
    edges = to_hz(np.linspace(to_mel(f_min), to_mel(f_max), n_mels + 2))
    bins = np.linspace(0, sample_rate / 2, n_fft // 2)
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    return np.maximum(0.0, np.minimum((bins[None] - lower) / (centre - lower), (upper - bins[None]) / (upper - centre)))
''',
        "must_fail": ["test_mel_filterbank"],
    },
    {
        "name": "band edges equally spaced in Hz instead of mel",
        "cell": "mel_filterbank",
        "source": '''def mel_filterbank(sample_rate, n_fft, n_mels, f_min=0.0, f_max=None):
    f_max = sample_rate / 2 if f_max is None else f_max
    edges = np.linspace(f_min, f_max, n_mels + 2)
    bins = np.arange(n_fft // 2 + 1) * sample_rate / n_fft
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    return np.maximum(0.0, np.minimum((bins[None] - lower) / (centre - lower), (upper - bins[None]) / (upper - centre)))
''',
        "must_fail": ["test_mel_filterbank"],
    },
    {
        "name": "Slaney area normalisation applied although none was asked",
        "cell": "mel_filterbank",
        "source": '''def mel_filterbank(sample_rate, n_fft, n_mels, f_min=0.0, f_max=None):
    f_max = sample_rate / 2 if f_max is None else f_max
    to_mel = lambda f: 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)
    to_hz = lambda m: 700.0 * (10.0 ** (np.asarray(m) / 2595.0) - 1.0)
    edges = to_hz(np.linspace(to_mel(f_min), to_mel(f_max), n_mels + 2))
    bins = np.arange(n_fft // 2 + 1) * sample_rate / n_fft
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    fb = np.maximum(0.0, np.minimum((bins[None] - lower) / (centre - lower), (upper - bins[None]) / (upper - centre)))
    return fb * (2.0 / (upper - lower))
''',
        "must_fail": ["test_mel_filterbank"],
    },
    {
        "name": "alias as f modulo fs (no folding around fs / 2)",
        "cell": "alias_frequency",
        "source": '''def alias_frequency(f, fs):
    return f % fs
''',
        "must_fail": ["test_alias_frequency"],
    },
    {
        "name": "fold once around Nyquist only (wrong above fs)",
        "cell": "alias_frequency",
        "source": '''def alias_frequency(f, fs):
    return fs - f if f > fs / 2 else f
''',
        "must_fail": ["test_alias_frequency"],
    },
    {
        "name": "DCT-II without the orthonormal scaling (scipy's norm=None)",
        "cell": "mfcc_from_log_mel",
        "source": '''def mfcc_from_log_mel(log_mel_db, n_mfcc):
    import scipy.fft
    out = scipy.fft.dct(log_mel_db.numpy(), type=2, axis=-2)[..., :n_mfcc, :]
    return torch.from_numpy(out)
''',
        "must_fail": ["test_mfcc_from_log_mel"],
    },
    {
        "name": "forgets the smaller scale of c0 (sqrt(2 / N) for every k)",
        "cell": "mfcc_from_log_mel",
        "source": '''def mfcc_from_log_mel(log_mel_db, n_mfcc):
    n_mels = log_mel_db.shape[-2]
    n = torch.arange(n_mels, dtype=torch.float64)
    k = torch.arange(n_mfcc, dtype=torch.float64)[:, None]
    basis = torch.cos(math.pi * k * (2 * n + 1) / (2 * n_mels)) * math.sqrt(2.0 / n_mels)
    return torch.matmul(basis.to(log_mel_db.dtype), log_mel_db)
''',
        "must_fail": ["test_mfcc_from_log_mel"],
    },
    {
        "name": "DCT along the time axis instead of the mel axis",
        "cell": "mfcc_from_log_mel",
        "source": '''def mfcc_from_log_mel(log_mel_db, n_mfcc):
    import scipy.fft
    out = scipy.fft.dct(log_mel_db.numpy(), type=2, norm="ortho", axis=-1)
    return torch.from_numpy(out)[..., :n_mfcc, :]
''',
        "must_fail": ["test_mfcc_from_log_mel"],
    },
    {
        "name": "drops c0 (keeps coefficients 1..n_mfcc)",
        "cell": "mfcc_from_log_mel",
        "source": '''def mfcc_from_log_mel(log_mel_db, n_mfcc):
    import scipy.fft
    out = scipy.fft.dct(log_mel_db.numpy(), type=2, norm="ortho", axis=-2)[..., 1 : n_mfcc + 1, :]
    return torch.from_numpy(out)
''',
        "must_fail": ["test_mfcc_from_log_mel"],
    },
    {
        "name": "PCM size ignores the number of channels",
        "cell": "pcm_bytes",
        "source": '''def pcm_bytes(seconds, sample_rate, bits, channels=1):
    return int(round(seconds * sample_rate)) * (bits // 8)
''',
        "must_fail": ["test_pcm_bytes"],
    },
    {
        "name": "PCM size in bits, not bytes",
        "cell": "pcm_bytes",
        "source": '''def pcm_bytes(seconds, sample_rate, bits, channels=1):
    return int(round(seconds * sample_rate)) * bits * channels
''',
        "must_fail": ["test_pcm_bytes"],
    },
    {
        "name": "source rate taken as its own Nyquist frequency (forgets the / 2)",
        "cell": "empty_mel_bands",
        "source": '''def empty_mel_bands(source_rate, sample_rate, n_fft, n_mels):
    fb = mel_filterbank(sample_rate, n_fft, n_mels)
    bins = np.arange(n_fft // 2 + 1) * sample_rate / n_fft
    return int((~(fb[:, bins <= source_rate] > 0).any(axis=1)).sum())
''',
        "must_fail": ["test_empty_mel_bands"],
    },
    {
        "name": "counts bands whose centre is above the source Nyquist (half-empty bands counted)",
        "cell": "empty_mel_bands",
        "source": '''def empty_mel_bands(source_rate, sample_rate, n_fft, n_mels):
    fb = mel_filterbank(sample_rate, n_fft, n_mels)
    bins = np.arange(n_fft // 2 + 1) * sample_rate / n_fft
    centres = bins[fb.argmax(axis=1)]
    return int((centres > source_rate / 2).sum())
''',
        "must_fail": ["test_empty_mel_bands"],
    },
]
