"""The intent model: a linear classifier over character n-grams and words, with its
scores turned into probabilities that mean what they say.

A linear model is the right size here: a few thousand phrasings, thirty intents, and a
budget of well under a millisecond a message on one core. It trains in seconds at first
use, from the phrasings in the package, with fixed seeds, so every process that loads the
same data builds the same model and nothing binary has to be shipped or trusted.

**Calibration.** A linear SVM's margins are not probabilities. The softmax of the margins
divided by a temperature is, once the temperature is chosen to minimise the log-loss on
predictions the model made for phrasings it had not seen (3-fold cross-validation over the
training data). So when the assistant reports 0.6, about six in ten such answers are right,
and the dialog can decide when to ask back instead of acting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize_scalar
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import FeatureUnion
from sklearn.svm import LinearSVC

from kefu.bot.nlu.data import Example, load_examples
from kefu.bot.nlu.features import mask_digits, words
from kefu.bot.nlu.normalise import normalise

SEED = 20260101
CALIBRATION_FOLDS = 3
# Regularisation of the SVM; chosen by cross-validation in bench/nlu.py, where a range of
# values scores within a point of each other.
C = 0.5

Matrix = npt.NDArray[np.float64]


def prepare(text: str) -> str:
    """What the model reads: the normalised message with its digits masked."""
    return mask_digits(normalise(text))


def _vectorizer() -> FeatureUnion:
    return FeatureUnion(
        [
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True, lowercase=False
                ),
            ),
            (
                "words",
                TfidfVectorizer(analyzer=words, sublinear_tf=True, lowercase=False),
            ),
        ]
    )


def _softmax(scores: Matrix, temperature: float) -> Matrix:
    scaled = scores / temperature
    scaled -= scaled.max(axis=1, keepdims=True)
    exp = np.exp(scaled)
    result: Matrix = exp / exp.sum(axis=1, keepdims=True)
    return result


def _fit_scores(texts: list[str], labels: list[str]) -> tuple[FeatureUnion, LinearSVC]:
    vectorizer = _vectorizer()
    features = vectorizer.fit_transform(texts)
    classifier = LinearSVC(C=C, random_state=SEED)
    classifier.fit(features, labels)
    return vectorizer, classifier


def fit_temperature(scores: Matrix, truth: npt.NDArray[np.int64]) -> float:
    """The temperature that minimises the negative log-likelihood of the true labels."""

    def loss(log_temperature: float) -> float:
        probabilities = _softmax(scores, float(np.exp(log_temperature)))
        picked = probabilities[np.arange(len(truth)), truth]
        return float(-np.log(np.clip(picked, 1e-12, None)).mean())

    result = minimize_scalar(loss, bounds=(-6.0, 3.0), method="bounded")
    return float(np.exp(result.x))


@dataclass(frozen=True)
class IntentModel:
    vectorizer: FeatureUnion
    classifier: LinearSVC
    temperature: float

    @property
    def intents(self) -> list[str]:
        return [str(label) for label in self.classifier.classes_]

    def probabilities(self, prepared: Sequence[str]) -> Matrix:
        scores = self.classifier.decision_function(self.vectorizer.transform(prepared))
        return _softmax(np.asarray(scores, dtype=np.float64), self.temperature)


def train(examples: Sequence[Example], *, calibrate: bool = True) -> IntentModel:
    texts = [prepare(example.text) for example in examples]
    labels = [example.intent for example in examples]
    temperature = 1.0
    if calibrate:
        classes = sorted(set(labels))
        index = {label: position for position, label in enumerate(classes)}
        truth = np.array([index[label] for label in labels], dtype=np.int64)
        scores = np.zeros((len(texts), len(classes)))
        folds = StratifiedKFold(n_splits=CALIBRATION_FOLDS, shuffle=True, random_state=SEED)
        for fit_rows, held_rows in folds.split(texts, labels):
            vectorizer, classifier = _fit_scores(
                [texts[row] for row in fit_rows], [labels[row] for row in fit_rows]
            )
            held = vectorizer.transform([texts[row] for row in held_rows])
            scores[held_rows] = classifier.decision_function(held)
        temperature = fit_temperature(scores, truth)
    vectorizer, classifier = _fit_scores(texts, labels)
    return IntentModel(vectorizer=vectorizer, classifier=classifier, temperature=temperature)


@lru_cache(maxsize=1)
def get_model() -> IntentModel:
    """The model trained on the packaged phrasings, built once per process."""
    return train(load_examples())
