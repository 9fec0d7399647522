"""Offline Chinese sentiment: hashed character 1–3-grams and a linear model (numpy only).

The weights are trained by scripts/train_sentiment.py and shipped as
``models/sentiment.npz``; nothing is downloaded at run time. Scoring is
vectorised over a whole batch (one numpy pass per chunk of texts) and
identical texts are scored once, because chats repeat canned phrases heavily.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from kefu.qa.normalize import normalise

MODEL_PATH = Path(__file__).parent / "models" / "sentiment.npz"
NGRAM_SIZES = (1, 2, 3)
_PRIME = np.uint64(0x100000001B3)  # FNV-1a prime: cheap, well-mixing multiply
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing spreads into the top bits
_SEPARATOR = "\x00"
_CHUNK_CHARS = 250_000  # bounds the temporary arrays (~2 MB each, ~40 MB in all)


@dataclass(frozen=True)
class SentimentModel:
    """Linear weights over ``2**bits`` hashed n-gram buckets plus a bias."""

    weights: npt.NDArray[np.float32]
    bias: float
    bits: int

    def logits(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        """Raw scores (log-odds of positive) for already-normalised, non-empty texts."""
        out = np.zeros(len(texts), dtype=np.float64)
        for first, last in _chunks(texts):
            ids, buckets, n_texts = hashed_ngrams(texts[first:last], self.bits)
            total = np.bincount(ids, weights=self.weights[buckets], minlength=n_texts)
            count = np.bincount(ids, minlength=n_texts)
            out[first:last] = total / np.sqrt(np.maximum(count, 1)) + self.bias
        return out


def _chunks(texts: Sequence[str]) -> list[tuple[int, int]]:
    bounds: list[tuple[int, int]] = []
    first, size = 0, 0
    for i, text in enumerate(texts):
        size += len(text) + 1
        if size >= _CHUNK_CHARS:
            bounds.append((first, i + 1))
            first, size = i + 1, 0
    if first < len(texts):
        bounds.append((first, len(texts)))
    return bounds


def hashed_ngrams(
    texts: Sequence[str], bits: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], int]:
    """(text index, bucket) for every character 1-, 2- and 3-gram of ``texts``.

    The texts are joined with a separator and hashed in one vectorised pass;
    n-grams that would cross a separator are dropped. Training and inference
    both use this function, so features cannot drift apart.
    """
    joined = _SEPARATOR.join(t.replace(_SEPARATOR, "") for t in texts)
    codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    is_sep = codes == 0
    text_id = np.cumsum(is_sep, dtype=np.int64)
    seps_before = np.concatenate(([0], text_id))
    ids: list[npt.NDArray[np.int64]] = []
    buckets: list[npt.NDArray[np.int64]] = []
    shift = np.uint64(64 - bits)
    with np.errstate(over="ignore"):
        for n in NGRAM_SIZES:
            length = len(codes) - n + 1
            if length <= 0:
                continue
            hashed = np.full(length, np.uint64(n) * _GOLDEN, dtype=np.uint64)
            for k in range(n):
                hashed = (hashed ^ codes[k : k + length]) * _PRIME
            # A window holds a separator iff the separator count changes across it.
            clean = seps_before[n : n + length] == seps_before[:length]
            clean &= ~is_sep[:length]
            ids.append(text_id[:length][clean])
            buckets.append(((hashed[clean] * _GOLDEN) >> shift).astype(np.int64))
    if not ids:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), len(texts)
    return np.concatenate(ids), np.concatenate(buckets), len(texts)


def prepare(text: str, normalised: str | None = None) -> str:
    """The text the model sees: normalised, whitespace removed, digits folded to 0."""
    norm = normalise(text) if normalised is None else normalised
    return "".join(norm.split()).translate(_DIGITS_TO_ZERO)


_DIGITS_TO_ZERO = str.maketrans("123456789", "000000000")


@cache
def load_model(path: Path = MODEL_PATH) -> SentimentModel:
    """Load the shipped (or a given) ``.npz`` model once per process."""
    with np.load(path) as data:
        weights = data["weights"].astype(np.float32)
        return SentimentModel(weights=weights, bias=float(data["bias"]), bits=int(data["bits"]))


def sentiment_scores(
    texts: Sequence[str | None],
    model: SentimentModel | None = None,
    normalised: Sequence[str] | None = None,
) -> npt.NDArray[np.float64]:
    """Polarity in [-1, 1] per text (tanh of half the log-odds); 0.0 for empty or None.

    Distinct texts are scored once and the scores spread back to every row.
    ``normalised`` (``normalise`` of each text) may be passed by a caller that has it.
    """
    model = model or load_model()
    unique: dict[str, int] = {}
    norms: list[str | None] = []
    index = np.empty(len(texts), dtype=np.int64)
    for row, text in enumerate(texts):
        key = text or ""
        position = unique.setdefault(key, len(unique))
        if position == len(norms):
            norms.append(normalised[row] if normalised is not None else None)
        index[row] = position
    prepared = [prepare(text, norm) for text, norm in zip(unique, norms, strict=True)]
    scores = np.zeros(len(prepared), dtype=np.float64)
    nonempty = [i for i, text in enumerate(prepared) if text]
    if nonempty:
        logits = model.logits([prepared[i] for i in nonempty])
        scores[nonempty] = np.tanh(logits / 2.0)
    return scores[index]
