"""The intent model: a linear classifier over character n-grams, words and sounds (and,
optionally, a sentence embedding), with its scores turned into probabilities that mean what
they say.

A linear model is the right size here: a few thousand phrasings, thirty intents, and a
budget of a fraction of a millisecond a message on one core. It trains in seconds, from the
phrasings in the package, with fixed seeds and a deterministic solver, so every process
that loads the same data builds the same model and nothing binary has to be shipped or
trusted (``kefu nlu train`` prints a fingerprint to compare).

**Stored once, loaded after.** Training takes most of a process's start and leaves the
training libraries' memory behind, so the first process to need the model stores it in
``KEFU_NLU_CACHE_DIR`` (plain arrays and JSON, never pickle), named by a digest of all that
decides it: the phrasings, this package's model code, the settings and the solver's
version. Later processes load it and recompute its fingerprint; a file that does not match
its recorded fingerprint is trained again and replaced.

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
import json
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata, resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from kefu import __version__
from kefu.bot.nlu.data import Example, load_examples
from kefu.bot.nlu.features import Counts, Vectorizer, Vocabulary, mask_digits
from kefu.bot.nlu.normalise import normalise
from kefu.bot.nlu.semantic import Embedder
from kefu.config import get_settings

if TYPE_CHECKING:  # the training libraries are imported only when a model is trained
    from sklearn.svm import LinearSVC

logger = logging.getLogger(__name__)

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
    # (features, intents), C-contiguous: a feature's row is one slice. Single precision:
    # half the memory of the largest array a served process holds, and a score moves by
    # less than 1e-6, far below any threshold the dialog decides on.
    weights: npt.NDArray[np.float32]
    bias: Matrix  # (intents,)
    # (embedding dimensions, intents), already multiplied by SEMANTIC_WEIGHT
    semantic: Matrix | None = None

    def scores(self, prepared: Sequence[str], embeddings: Matrix | None = None) -> Matrix:
        """Scores of many messages: each known feature's weighted row added to its
        message's scores."""
        columns, values, rows = self.vectorizer.weigh(prepared)
        result: Matrix = np.zeros((len(prepared), len(self.bias)))
        np.add.at(result, rows, values[:, np.newaxis] * self.weights[columns])
        result += self.bias
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
    from scipy.sparse import csr_matrix, hstack
    from sklearn.svm import LinearSVC

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
    from scipy.sparse import csr_matrix, hstack

    features = counts.weighted(rows, idf)
    if embeddings is not None:
        features = hstack([features, csr_matrix(embeddings[rows] * SEMANTIC_WEIGHT)]).tocsr()
    result: Matrix = classifier.decision_function(features)
    return result


def fit_temperature(scores: Matrix, truth: npt.NDArray[np.int64]) -> float:
    """The temperature that minimises the negative log-likelihood of the true labels."""
    from scipy.optimize import minimize_scalar

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
        """A hash of everything the model computes with: equal models, equal fingerprints.

        The features are hashed in their vocabularies' order, which training fixes (the
        phrasings' order) and storing keeps, so a check costs no sort of 134,000 names."""
        digest = hashlib.sha256()
        for part in (self.scorer.weights, self.scorer.bias, self.scorer.semantic):
            if part is not None:
                digest.update(np.ascontiguousarray(part).tobytes())
        digest.update(repr((self.intents, self.temperature)).encode())
        vocabulary = self.scorer.vectorizer.vocabulary
        for names, columns in zip(vocabulary.names, vocabulary.columns, strict=True):
            digest.update(names)
            digest.update(np.ascontiguousarray(columns, dtype=np.int64).tobytes())
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
        from sklearn.model_selection import StratifiedKFold

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
        weights=np.ascontiguousarray(coefficients[:sparse_size][idf > 0], dtype=np.float32),
        bias=np.asarray(classifier.intercept_, dtype=np.float64),
        semantic=(
            np.ascontiguousarray(coefficients[sparse_size:] * SEMANTIC_WEIGHT)
            if embeddings is not None
            else None
        ),
    )
    return IntentModel(intents=classes, scorer=scorer, temperature=temperature, embed=embed)


def store_key(examples: Sequence[Example], *, embedder_version: str | None) -> str:
    """A digest of everything that decides the trained model."""
    digest = hashlib.sha256()
    for example in examples:
        digest.update(f"{example.intent}\t{example.text}\n".encode())
    package = resources.files("kefu.bot.nlu")
    for name in sorted(item.name for item in package.iterdir() if item.name.endswith(".py")):
        digest.update(name.encode() + package.joinpath(name).read_bytes())
    libraries = [metadata.version(name) for name in ("scikit-learn", "scipy", "numpy")]
    digest.update(repr((__version__, libraries, embedder_version)).encode())
    return digest.hexdigest()[:24]


def _bytes(text: str) -> npt.NDArray[np.uint8]:
    return np.frombuffer(text.encode(), dtype=np.uint8)


def save(model: IntentModel, path: Path) -> None:
    """Write a model's arrays and mappings to ``path`` (atomically: a reader sees the old
    file or the whole new one)."""
    scorer = model.scorer
    header = {
        "intents": model.intents,
        "temperature": model.temperature,
        "unseen": scorer.vectorizer.unseen,
        "views": scorer.vectorizer.vocabulary.views,
        "fingerprint": model.fingerprint(),
    }
    arrays: dict[str, npt.NDArray[np.generic]] = {
        "header": _bytes(json.dumps(header, ensure_ascii=False)),
        "weights": scorer.weights,
        "bias": scorer.bias,
        "idf": scorer.vectorizer.idf,
    }
    # each view's features as one string and one array, as the vocabulary holds them
    vocabulary = scorer.vectorizer.vocabulary
    for view, (names, columns) in enumerate(zip(vocabulary.names, vocabulary.columns, strict=True)):
        arrays[f"names{view}"] = np.frombuffer(names, dtype=np.uint8)
        arrays[f"columns{view}"] = columns
    if scorer.semantic is not None:
        arrays["semantic"] = scorer.semantic
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        with partial.open("wb") as handle:
            np.savez(handle, allow_pickle=False, **arrays)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


def load(path: Path, embed: Embed | None = None) -> IntentModel | None:
    """The model stored at ``path``, or None when there is none or it does not match the
    fingerprint recorded with it."""
    try:
        with np.load(path, allow_pickle=False) as stored:
            header = json.loads(stored["header"].tobytes().decode())
            views = range(int(header["views"]))
            vectorizer = Vectorizer(
                vocabulary=Vocabulary.of(
                    [stored[f"names{view}"].tobytes() for view in views],
                    [np.asarray(stored[f"columns{view}"], dtype=np.int64) for view in views],
                ),
                idf=np.asarray(stored["idf"], dtype=np.float64),
                unseen=float(header["unseen"]),
            )
            scorer = Scorer(
                vectorizer=vectorizer,
                weights=np.ascontiguousarray(stored["weights"], dtype=np.float32),
                bias=np.asarray(stored["bias"], dtype=np.float64),
                semantic=(
                    np.ascontiguousarray(stored["semantic"], dtype=np.float64)
                    if "semantic" in stored.files
                    else None
                ),
            )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as error:
        logger.warning(
            "the stored intent model %s cannot be read (%s): training again", path, error
        )
        return None
    model = IntentModel(
        intents=[str(intent) for intent in header["intents"]],
        scorer=scorer,
        temperature=float(header["temperature"]),
        embed=embed,
    )
    if model.fingerprint() != header.get("fingerprint"):
        logger.warning(
            "the stored intent model %s does not match its fingerprint: training again", path
        )
        return None
    return model


def store_path(examples: Sequence[Example], folder: Path, embedder: Embedder | None) -> Path:
    key = store_key(examples, embedder_version=embedder.version if embedder else None)
    return folder / f"intent-{key}.npz"


def stored_or_trained(
    examples: Sequence[Example], folder: Path, *, embedder: Embedder | None = None
) -> IntentModel:
    """The model for ``examples`` from ``folder`` when it was stored before, else trained
    and stored there for the next process."""
    model = load(
        store_path(examples, folder, embedder), embedder.embed if embedder is not None else None
    )
    return model if model is not None else train_and_store(examples, folder, embedder=embedder)


def train_and_store(
    examples: Sequence[Example], folder: Path, *, embedder: Embedder | None = None
) -> IntentModel:
    """Train the model for ``examples`` and store it in ``folder``, replacing the models
    of phrasings or code that changed since."""
    if embedder is None:
        model = train(examples)
    else:
        embeddings = embedder.embed_cached([example.text for example in examples], folder)
        model = train(examples, embed=embedder.embed, embeddings=embeddings)
    path = store_path(examples, folder, embedder)
    try:
        save(model, path)
        for stale in folder.glob("intent-*.npz"):
            if stale != path:
                stale.unlink(missing_ok=True)
    except OSError as error:
        logger.warning("cannot store the intent model in %s: %s", folder, error)
    return model


@lru_cache(maxsize=1)
def get_model() -> IntentModel:
    """The model of the packaged phrasings, loaded once per process (trained and stored by
    the first process that needs it); with the semantic view when ``KEFU_NLU_SEMANTIC`` is
    on."""
    settings = get_settings()
    return stored_or_trained(load_examples(), Path(settings.nlu_cache_dir), embedder=embedder())


def embedder() -> Embedder | None:
    """The sentence embedder when ``KEFU_NLU_SEMANTIC`` is on."""
    return Embedder() if get_settings().nlu_semantic else None
