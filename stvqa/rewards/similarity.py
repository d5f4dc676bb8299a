"""Label similarity for matching predicted to ground-truth objects, in [0, 1].

The default, `NameSimilarity`, is fast and offline: labels are compared after normalisation
(`traffic_light` == `Traffic Light`), singular/plural folding (`men` == `man`) and VG aliases.
`SpacySimilarity` uses a spaCy model with word vectors, as the paper did (`en_core_web_md`), and
`EmbeddingSimilarity` a local sentence-embedding model; both load only when asked for.
"""

from __future__ import annotations

import re
from typing import Protocol

import numpy as np

from ..errors import ConfigError
from ..names import lemma_phrase

_ID_SUFFIX = re.compile(r"\.\d+$")


_LABELS: dict[str, str] = {}


def label_of(object_id: str) -> str:
    """The object's name from its id: `traffic_light.2` -> `traffic light`."""
    label = _LABELS.get(object_id)
    if label is None:
        label = _ID_SUFFIX.sub("", object_id).replace("_", " ").strip().lower()
        if len(_LABELS) < 1 << 16:  # ids come from a small vocabulary; the bound guards odd model output
            _LABELS[object_id] = label
    return label


class LabelSimilarity(Protocol):
    def matrix(self, pred: list[str], gt: list[str]) -> np.ndarray:
        """(len(pred), len(gt)) similarities in [0, 1]."""


class NameSimilarity:
    """1.0 when two labels name the same thing after normalisation, lemmas and aliases, else 0.0.

    >>> NameSimilarity(aliases={"bike": "bicycle"}).matrix(["men", "bike", "dog"], ["man", "bicycle"]).tolist()
    [[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]
    """

    def __init__(self, aliases: dict[str, str] | None = None) -> None:
        self.aliases = {" ".join(lemma_phrase(k)): " ".join(lemma_phrase(v)) for k, v in (aliases or {}).items()}
        self._cache: dict[str, str] = {}  # a plain dict keeps the object picklable (TRL may pickle rewards)

    def key(self, label: str) -> str:
        """The form two labels must share to count as the same thing."""
        key = self._cache.get(label)
        if key is None:
            key = " ".join(lemma_phrase(label_of(label)))  # ids (`men.2`) and names (`men`) alike
            key = self.aliases.get(key, key)
            if len(self._cache) < 1 << 16:  # bounded: model output can invent any number of labels
                self._cache[label] = key
        return key

    def matrix(self, pred: list[str], gt: list[str]) -> np.ndarray:
        p = [self.key(x) for x in pred]
        g = [self.key(x) for x in gt]
        return np.array([[1.0 if a == b else 0.0 for b in g] for a in p], dtype=float).reshape(len(p), len(g))


class _VectorSimilarity:
    """Cosine similarity of cached label vectors, clipped to [0, 1]."""

    def __init__(self) -> None:
        self._cache: dict[str, np.ndarray] = {}

    def _vectors(self, labels: list[str]) -> np.ndarray:
        missing = [x for x in dict.fromkeys(labels) if x not in self._cache]
        if missing:
            for label, vector in zip(missing, self._embed(missing)):
                norm = float(np.linalg.norm(vector))
                self._cache[label] = vector / norm if norm > 0 else vector
        return np.stack([self._cache[x] for x in labels]) if labels else np.zeros((0, 1))

    def _embed(self, labels: list[str]) -> list[np.ndarray]:
        raise NotImplementedError

    def matrix(self, pred: list[str], gt: list[str]) -> np.ndarray:
        if not pred or not gt:
            return np.zeros((len(pred), len(gt)))
        p, g = self._vectors([label_of(x) for x in pred]), self._vectors([label_of(x) for x in gt])
        return np.clip(p @ g.T, 0.0, 1.0)


class SpacySimilarity(_VectorSimilarity):
    """spaCy word vectors (the paper used `en_core_web_md`); install the model yourself, it is not downloaded."""

    def __init__(self, model: str = "en_core_web_md") -> None:
        super().__init__()
        try:
            import spacy

            self.nlp = spacy.load(model, disable=["parser", "ner", "tagger", "lemmatizer"])
        except (ImportError, OSError) as exc:
            raise ConfigError(f"spaCy model {model!r} is not available ({exc})",
                              f"Install spaCy and the model (pip install spacy && python -m spacy download {model}), or use the default label similarity.") from None

    def _embed(self, labels: list[str]) -> list[np.ndarray]:
        return [np.asarray(doc.vector, dtype=float) for doc in self.nlp.pipe(labels)]


class EmbeddingSimilarity(_VectorSimilarity):
    """A local sentence-embedding model (a folder or an installed model name for sentence-transformers)."""

    def __init__(self, model: str) -> None:
        super().__init__()
        try:
            from sentence_transformers import SentenceTransformer

            self.model = SentenceTransformer(model)
        except Exception as exc:  # missing package, missing model folder, offline hub
            raise ConfigError(f"sentence-embedding model {model!r} could not be loaded ({exc})",
                              "Install sentence-transformers and pass a local model folder, or use the default label similarity.") from None

    def _embed(self, labels: list[str]) -> list[np.ndarray]:
        return list(np.asarray(self.model.encode(labels), dtype=float))
