"""Intent recognition: accuracy against two baselines, calibration and speed.

    .venv/bin/python bench/nlu.py

* 5-fold cross-validation over the training phrasings (folds stratified by intent and
  language), accuracy per language, for the shipped model and two baselines:
  **BM25** — each phrasing is an FAQ-style question; a message takes the intent of the
  best-matching question (search tokens from ``kefu.search``); and **TF-IDF + logistic
  regression** over the same search tokens.
* Accuracy on the held-out file tests/fixtures/nlu_holdout.tsv (never trained on), also
  counted without the held-out lines that happen to equal a training phrasing.
* Expected calibration error of the confidences on the cross-validation predictions.
* Throughput on one core (batches of 256) and per-message latency p50/p99 (one call each).
"""

from __future__ import annotations

import csv
import math
import os
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import itertools

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from kefu.bot.nlu import classify, classify_many
from kefu.bot.nlu.data import Example, load_examples
from kefu.bot.nlu.model import SEED, prepare, train
from kefu.search import service as search_service

HOLDOUT = Path(__file__).parents[1] / "tests" / "fixtures" / "nlu_holdout.tsv"
LANGS = ("zh", "en")
Predictor = Callable[[Sequence[str]], tuple[list[str], list[float]]]


class Bm25:
    def __init__(self, examples: Sequence[Example], k1: float = 1.2, b: float = 0.75) -> None:
        self.labels = [example.intent for example in examples]
        self.docs = [Counter(search_service.tokenize(example.text)) for example in examples]
        self.lengths = [sum(doc.values()) for doc in self.docs]
        self.average = statistics.fmean(self.lengths) or 1.0
        self.postings: dict[str, list[int]] = defaultdict(list)
        for position, doc in enumerate(self.docs):
            for term in doc:
                self.postings[term].append(position)
        total = len(self.docs)
        self.idf = {
            term: math.log(1 + (total - len(rows) + 0.5) / (len(rows) + 0.5))
            for term, rows in self.postings.items()
        }
        self.k1, self.b = k1, b

    def predict(self, texts: Sequence[str]) -> tuple[list[str], list[float]]:
        fallback = Counter(self.labels).most_common(1)[0][0]
        predictions = []
        for text in texts:
            scores: dict[int, float] = defaultdict(float)
            for term in set(search_service.tokenize(text)):
                for row in self.postings.get(term, ()):
                    tf = self.docs[row][term]
                    norm = self.k1 * (1 - self.b + self.b * self.lengths[row] / self.average)
                    scores[row] += self.idf[term] * tf * (self.k1 + 1) / (tf + norm)
            best = max(scores, key=scores.__getitem__) if scores else None
            predictions.append(self.labels[best] if best is not None else fallback)
        return predictions, [1.0] * len(predictions)


def tfidf_lr(examples: Sequence[Example]) -> Predictor:
    vectorizer = TfidfVectorizer(analyzer=search_service.tokenize, sublinear_tf=True)
    features = vectorizer.fit_transform([example.text for example in examples])
    classifier = LogisticRegression(max_iter=2000, random_state=SEED)
    classifier.fit(features, [example.intent for example in examples])

    def predict(texts: Sequence[str]) -> tuple[list[str], list[float]]:
        probabilities = classifier.predict_proba(vectorizer.transform(texts))
        best = probabilities.argmax(axis=1)
        return [str(classifier.classes_[i]) for i in best], probabilities.max(axis=1).tolist()

    return predict


def ours(examples: Sequence[Example]) -> Predictor:
    model = train(examples)

    def predict(texts: Sequence[str]) -> tuple[list[str], list[float]]:
        probabilities = model.probabilities([prepare(text) for text in texts])
        best = probabilities.argmax(axis=1)
        return [model.intents[i] for i in best], probabilities.max(axis=1).tolist()

    return predict


def bm25(examples: Sequence[Example]) -> Predictor:
    return Bm25(examples).predict


SYSTEMS: dict[str, Callable[[Sequence[Example]], Predictor]] = {
    "kefu (chars+words, calibrated SVM)": ours,
    "baseline BM25 over phrasings": bm25,
    "baseline TF-IDF + logistic regression": tfidf_lr,
}


def ece(confidences: Sequence[float], correct: Sequence[bool], bins: int = 10) -> float:
    edges = np.linspace(0, 1, bins + 1)
    conf, hit = np.array(confidences), np.array(correct, dtype=float)
    total = 0.0
    for low, high in itertools.pairwise(edges):
        mask = (conf > low) & (conf <= high)
        if mask.any():
            total += mask.mean() * abs(conf[mask].mean() - hit[mask].mean())
    return total


def accuracy(rows: Sequence[tuple[str, str, str]], predicted: Sequence[str]) -> dict[str, float]:
    result = {}
    for lang in LANGS:
        pairs = [(row[1], p) for row, p in zip(rows, predicted, strict=True) if row[0] == lang]
        result[lang] = sum(truth == p for truth, p in pairs) / len(pairs)
    return result


def main() -> None:
    examples = list(load_examples())
    rows = [(e.lang, e.intent, e.text) for e in examples]
    with HOLDOUT.open(encoding="utf-8") as handle:
        holdout = [
            (r["lang"], r["intent"], r["text"]) for r in csv.DictReader(handle, delimiter="\t")
        ]
    trained = {prepare(e.text) for e in examples}
    unseen = [row for row in holdout if prepare(row[2]) not in trained]
    print(f"{len(examples)} training phrasings; held-out {len(holdout)} ({len(unseen)} unseen)\n")

    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=SEED)
    strata = [f"{e.intent}/{e.lang}" for e in examples]
    header = f"{'system':40} {'CV zh':>7} {'CV en':>7} {'hold zh':>8} {'hold en':>8}"
    header += f" {'unseen zh':>10} {'unseen en':>10} {'ECE':>6}"
    print(header)
    print("-" * len(header))
    for name, build in SYSTEMS.items():
        predicted = [""] * len(examples)
        confidence = [0.0] * len(examples)
        for fit_rows, test_rows in folds.split(examples, strata):
            predict = build([examples[i] for i in fit_rows])
            labels, conf = predict([examples[i].text for i in test_rows])
            for i, label, c in zip(test_rows, labels, conf, strict=True):
                predicted[i], confidence[i] = label, c
        cv = accuracy(rows, predicted)
        calibration = ece(
            confidence, [p == e.intent for p, e in zip(predicted, examples, strict=True)]
        )
        predict = build(examples)
        held = accuracy(holdout, predict([row[2] for row in holdout])[0])
        new = accuracy(unseen, predict([row[2] for row in unseen])[0])
        ece_text = f"{calibration:6.3f}" if name != "baseline BM25 over phrasings" else f"{'-':>6}"
        print(
            f"{name:40} {cv['zh']:7.1%} {cv['en']:7.1%} {held['zh']:8.1%} {held['en']:8.1%}"
            f" {new['zh']:10.1%} {new['en']:10.1%} {ece_text}"
        )

    texts = [row[2] for row in holdout] * 10
    classify_many(texts[:10])  # train and warm up outside the timing
    started = time.perf_counter()
    for start in range(0, len(texts), 256):
        classify_many(texts[start : start + 256])
    elapsed = time.perf_counter() - started
    latencies = []
    for text in texts[: len(holdout)]:
        begin = time.perf_counter()
        classify(text)
        latencies.append((time.perf_counter() - begin) * 1000)
    latencies.sort()
    p50 = latencies[len(latencies) // 2]
    p99 = latencies[int(len(latencies) * 0.99)]
    print(f"\nthroughput: {len(texts) / elapsed:,.0f} messages/s (batches of 256, one core)")
    print(f"latency per single message: p50 {p50:.2f} ms, p99 {p99:.2f} ms")


if __name__ == "__main__":
    main()
