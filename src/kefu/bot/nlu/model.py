"""The intent model: a linear classifier over character n-grams, words and sounds (and,
optionally, a sentence embedding), with its scores turned into probabilities that mean what
they say.

A linear model is the right size here: a few thousand phrasings, thirty intents, and a
budget of a fraction of a millisecond a message on one core. It trains in seconds at first
use, from the phrasings in the package, with fixed seeds and a deterministic solver, so
every process that loads the same data builds the same model and nothing binary has to be
shipped or trusted (``kefu nlu train`` prints a fingerprint to compare).

**Reading a message** needs no machine-learning library: the weights are kept as a dense
(features × intents) array, and a message's scores are its few hundred non-zero feature
weights times the matching rows — one small dot product.

**Calibration.** A linear SVM's margins are not probabilities. The softmax of the margins
divided by a temperature is, once the temperature is chosen to minimise the log-loss on
predictions the model made for phrasings it had not seen (3-fold cross-validation over the
training data). So when the assistant reports 0.6, about six in ten such answers are right,
and the dialog can decide when to ask back instead of acting.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize_scalar
from scipy.sparse import csr_matrix, hstack
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from kefu.bot.nlu.data import Example, load_examples
from kefu.bot.nlu.features import Counts, Vectorizer, mask_digits
from kefu.bot.nlu.normalise import normalise
from kefu.bot.nlu.semantic import Embedder
from kefu.config import get_settings

SEED = 20260101
CALIBRATION_FOLDS = 3
# Regularisation of the SVM; chosen by cross-validation in bench/nlu.py, where values from
# 0.3 to 1 score within half a point of each other.
C = 0.5
# How much the sentence embedding weighs against the unit-length sparse views; chosen by
# cross-validation (1 to 4 score within half a point, below 1 loses most of the gain).
SEMANTIC_WEIGHT = 2.0

Matrix = npt.NDArray[np.float64]
Embed = Callable[[Sequence[str]], Matrix]


def prepare(text: str) -> str:
    """What the sparse views read: the normalised message with its digits masked."""
    return mask_digits(normalise(text))


def softmax(scores: Matrix, temperature: float) -> Matrix:
    scaled = scores / temperature
    scaled -= scaled.max(axis=-1, keepdims=True)
    exp = np.exp(scaled)
    result: Matrix = exp / exp.sum(axis=-1, keepdims=True)
    return result


@dataclass(frozen=True)
class Scorer:
    """A fitted linear classifier in the form that is fastest to read with."""

    vectorizer: Vectorizer
    weights: Matrix  # (features, intents), C-contiguous: a feature's row is one slice
    bias: Matrix  # (intents,)
    # (embedding dimensions, intents), already multiplied by SEMANTIC_WEIGHT
    semantic: Matrix | None = None

    def scores(self, prepared: Sequence[str], embeddings: Matrix | None = None) -> Matrix:
        """Scores of many messages: one sparse matrix product."""
        features = self.vectorizer.matrix(prepared)
        result: Matrix = np.asarray(features @ self.weights) + self.bias
        if self.semantic is not None and embeddings is not None:
            result += embeddings @ self.semantic
        return result

    def score(self, prepared: str, embedding: Matrix | None = None) -> Matrix:
        """Scores of one message: its non-zero weights times the matching rows."""
        columns, values = self.vectorizer.vector(prepared)
        result: Matrix = values @ self.weights[columns] + self.bias
        if self.semantic is not None and embedding is not None:
            result += embedding @ self.semantic
        return result


def _fit(
    counts: Counts,
    rows: npt.NDArray[np.int64],
    labels: Sequence[str],
    embeddings: Matrix | None,
) -> tuple[npt.NDArray[np.float64], LinearSVC]:
    idf = counts.idf(rows)
    features = counts.weighted(rows, idf)
    if embeddings is not None:
        features = hstack([features, csr_matrix(embeddings[rows] * SEMANTIC_WEIGHT)]).tocsr()
    classifier = LinearSVC(C=C, random_state=SEED)
    classifier.fit(features, [labels[row] for row in rows])
    return idf, classifier


def _decide(
    counts: Counts,
    rows: npt.NDArray[np.int64],
    idf: npt.NDArray[np.float64],
    classifier: LinearSVC,
    embeddings: Matrix | None,
) -> Matrix:
    features = counts.weighted(rows, idf)
    if embeddings is not None:
        features = hstack([features, csr_matrix(embeddings[rows] * SEMANTIC_WEIGHT)]).tocsr()
    result: Matrix = classifier.decision_function(features)
    return result


def fit_temperature(scores: Matrix, truth: npt.NDArray[np.int64]) -> float:
    """The temperature that minimises the negative log-likelihood of the true labels."""

    def loss(log_temperature: float) -> float:
        probabilities = softmax(scores, float(np.exp(log_temperature)))
        picked = probabilities[np.arange(len(truth)), truth]
        return float(-np.log(np.clip(picked, 1e-12, None)).mean())

    result = minimize_scalar(loss, bounds=(-6.0, 3.0), method="bounded")
    return float(np.exp(result.x))


@dataclass(frozen=True)
class IntentModel:
    intents: list[str]
    scorer: Scorer
    temperature: float
    embed: Embed | None = None  # the sentence embedder, when the semantic view is on

    def probabilities(self, texts: Sequence[str]) -> Matrix:
        """One row of intent probabilities per message (fast for batches)."""
        embeddings = self.embed(texts) if self.embed is not None else None
        scores = self.scorer.scores([prepare(text) for text in texts], embeddings)
        return softmax(scores, self.temperature)

    def probability(self, text: str) -> Matrix:
        """The intent probabilities of one message (fast for a single one)."""
        embedding = self.embed([text])[0] if self.embed is not None else None
        return softmax(self.scorer.score(prepare(text), embedding), self.temperature)

    def fingerprint(self) -> str:
        """A hash of everything the model computes with: equal models, equal fingerprints."""
        digest = hashlib.sha256()
        for part in (self.scorer.weights, self.scorer.bias, self.scorer.semantic):
            if part is not None:
                digest.update(np.ascontiguousarray(part).tobytes())
        digest.update(repr((self.intents, self.temperature)).encode())
        for mapping in self.scorer.vectorizer.columns:
            digest.update(repr(sorted(mapping.items())).encode("utf-8"))
        return digest.hexdigest()[:16]


def train(
    examples: Sequence[Example],
    *,
    calibrate: bool = True,
    embed: Embed | None = None,
    embeddings: Matrix | None = None,
) -> IntentModel:
    """Fit the model on ``examples``; the same examples always give the same model.

    With ``embed`` the sentence embedding is a fourth view: ``embeddings`` are then the
    examples' embeddings (computed with ``embed`` when not given)."""
    texts = [example.text for example in examples]
    counts = Counts.of([prepare(text) for text in texts])
    labels = [example.intent for example in examples]
    classes = sorted(set(labels))
    if embed is None:
        embeddings = None
    elif embeddings is None:
        embeddings = embed(texts)
    temperature = 1.0
    if calibrate:
        index = {label: position for position, label in enumerate(classes)}
        truth = np.array([index[label] for label in labels], dtype=np.int64)
        scores = np.zeros((len(labels), len(classes)))
        folds = StratifiedKFold(n_splits=CALIBRATION_FOLDS, shuffle=True, random_state=SEED)
        for fit_rows, held_rows in folds.split(labels, labels):
            idf, classifier = _fit(counts, fit_rows, labels, embeddings)
            scores[held_rows] = _decide(counts, held_rows, idf, classifier, embeddings)
        temperature = fit_temperature(scores, truth)
    idf, classifier = _fit(counts, np.arange(len(labels)), labels, embeddings)
    if [str(label) for label in classifier.classes_] != classes:
        raise ValueError("every intent needs training phrasings")
    coefficients = np.asarray(classifier.coef_, dtype=np.float64).T
    sparse_size = counts.matrix.shape[1]
    scorer = Scorer(
        vectorizer=counts.vectorizer(idf),
        weights=np.ascontiguousarray(coefficients[:sparse_size][idf > 0]),
        bias=np.asarray(classifier.intercept_, dtype=np.float64),
        semantic=(
            np.ascontiguousarray(coefficients[sparse_size:] * SEMANTIC_WEIGHT)
            if embeddings is not None
            else None
        ),
    )
    return IntentModel(intents=classes, scorer=scorer, temperature=temperature, embed=embed)


@lru_cache(maxsize=1)
def get_model() -> IntentModel:
    """The model trained on the packaged phrasings, built once per process; with the
    semantic view when ``KEFU_NLU_SEMANTIC`` is on."""
    examples = load_examples()
    settings = get_settings()
    if not settings.nlu_semantic:
        return train(examples)
    embedder = Embedder()
    embeddings = embedder.embed_cached(
        [example.text for example in examples], Path(settings.nlu_cache_dir)
    )
    return train(examples, embed=embedder.embed, embeddings=embeddings)
