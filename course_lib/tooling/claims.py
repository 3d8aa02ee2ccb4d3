"""Claims are code: a sentence of a lesson that states a measured result is asserted where it is measured.

A lesson writes the sentence once, as the first argument of :func:`claim`, next
to the numbers that prove it. When the numbers agree, the sentence is printed
(so the reader sees it confirmed under the cell that measured it); when they do
not, the run fails with the sentence and the evidence, so a stale sentence can
never survive a change of library, data or machine::

    claim("augmentation helps the far-field slice",
          acc_aug["far"] > acc_base["far"], aug=acc_aug["far"], base=acc_base["far"])

Evidence values are shown only in the error message: the printed line holds no
numbers, so it is identical on every CPU. Compare with :func:`claim_greater`
where a margin (a noise band, a confidence interval) decides.
"""
from __future__ import annotations

import math
from typing import Any

__all__ = ["ClaimError", "claim", "claim_greater", "claim_within"]


class ClaimError(AssertionError):
    """A lesson's measured claim does not hold on this run."""


def _evidence(evidence: dict[str, Any]) -> str:
    parts = []
    for k, v in evidence.items():
        if hasattr(v, "item") and callable(v.item):
            try:
                v = v.item()
            except (ValueError, RuntimeError):
                pass
        parts.append(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v!r}")
    return ", ".join(parts)


def _check_text(text: Any) -> str:
    if not isinstance(text, str) or not text.strip():
        raise TypeError(f"a claim is a non-empty sentence (str), got {text!r}")
    return text.strip()


def claim(text: str, holds: Any, *, quiet: bool = False, **evidence: Any) -> str:
    """Assert one measured sentence of a lesson; print it when it holds.

    Parameters
    ----------
    text : str
        The sentence, as the lesson states it.
    holds : bool
        Whether the measurement supports it (a Python or NumPy/torch boolean).
    quiet : bool
        Do not print the confirmation (for claims checked in a loop).
    **evidence
        The numbers behind the claim, shown when it fails.

    Returns
    -------
    str
        The confirmation line ``"claim holds: <text>"``.

    Raises
    ------
    ClaimError
        When ``holds`` is false: the message carries the sentence and the evidence.

    Examples
    --------
    >>> claim("two is more than one", 2 > 1)
    claim holds: two is more than one
    'claim holds: two is more than one'
    >>> claim("one is more than two", 1 > 2, a=1, b=2)
    Traceback (most recent call last):
    ...
    course_lib.tooling.claims.ClaimError: claim does not hold: one is more than two (a=1, b=2)
    """
    text = _check_text(text)
    if hasattr(holds, "item") and callable(holds.item):
        holds = holds.item()
    if not isinstance(holds, bool):
        raise TypeError(f"claim {text!r}: holds must be a bool, got {type(holds).__name__} {holds!r}")
    for k, v in evidence.items():
        if isinstance(v, float) and math.isnan(v):
            raise ValueError(f"claim {text!r}: evidence {k} is NaN")
    if not holds:
        ev = _evidence(evidence)
        raise ClaimError(f"claim does not hold: {text}" + (f" ({ev})" if ev else ""))
    line = f"claim holds: {text}"
    if not quiet:
        print(line)
    return line


def claim_greater(text: str, a: float, b: float, *, margin: float = 0.0, quiet: bool = False,
                  names: tuple[str, str] = ("a", "b")) -> str:
    """Assert ``a > b + margin`` (``margin``: a noise band, twice a standard error...).

    Examples
    --------
    >>> _ = claim_greater("0.9 beats 0.8 by more than 0.05", 0.9, 0.8, margin=0.05, quiet=True)
    >>> claim_greater("0.9 beats 0.88 by more than 0.05", 0.9, 0.88, margin=0.05)
    Traceback (most recent call last):
    ...
    course_lib.tooling.claims.ClaimError: claim does not hold: 0.9 beats 0.88 by more than 0.05 (a=0.9, b=0.88, margin=0.05)
    """
    for name, v in ((names[0], a), (names[1], b), ("margin", margin)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ValueError(f"claim {text!r}: {name} must be a finite number, got {v!r}")
    return claim(text, float(a) > float(b) + float(margin), quiet=quiet,
                 **{names[0]: float(a), names[1]: float(b), "margin": float(margin)})


def claim_within(text: str, value: float, low: float, high: float, *, quiet: bool = False) -> str:
    """Assert ``low <= value <= high``.

    Examples
    --------
    >>> _ = claim_within("the ECE is small", 0.02, 0.0, 0.05, quiet=True)
    """
    for name, v in (("value", value), ("low", low), ("high", high)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ValueError(f"claim {text!r}: {name} must be a finite number, got {v!r}")
    if low > high:
        raise ValueError(f"claim {text!r}: low ({low}) must be <= high ({high})")
    return claim(text, low <= float(value) <= high, quiet=quiet, value=float(value), low=float(low), high=float(high))
