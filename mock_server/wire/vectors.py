"""Embedding vectors whose similarity means something: lexical feature hashing.

A text's features are its words (lower-cased runs of letters and digits) and the character
trigrams of each word with its boundaries (``#cat#`` gives ``#ca``, ``cat``, ``at#``). Each
feature is hashed with BLAKE2b, a fixed function (never Python's ``hash``, which changes
between processes), to a position in the vector and a sign; words weigh 1, trigrams 0.5; the
sum is scaled to unit length. So the same text always gives the same vector, in any process on
any machine; texts that share most words or word pieces point the same way (a paraphrase, a
typo, another inflection), and case or punctuation changes move nothing but a word boundary.
It is lexical, not semantic: synonyms that share no letters (``car``, ``automobile``) are no
closer than unrelated words.

``dimensions`` shortens a vector as OpenAI documents for its v3 models: the first
``dimensions`` numbers, scaled to unit length again.
"""

from __future__ import annotations

import hashlib
import math
import re

from ..caches import SHARED, BoundedCache

_WORD = re.compile(r"\w+")
WORD_WEIGHT = 1.0
PIECE_WEIGHT = 0.5
MAX_CACHED_WORD = 64  # longer words (a client's long tokens) are hashed each time, not kept

Contribution = tuple[tuple[int, float], ...]  # (position, signed weight) of each feature


def embedding(text: str, size: int) -> list[float]:
    """The unit vector of ``size`` numbers for ``text`` (all zeros for a text with no word)."""
    vector = [0.0] * size
    for word in _WORD.findall(text.lower()):
        found = _word_features(word, size) if len(word) <= MAX_CACHED_WORD else None
        for position, weight in found or _features(word, size):
            vector[position] += weight
    return unit(vector)


def shortened(vector: list[float], dimensions: int) -> list[float]:
    """The first ``dimensions`` numbers of ``vector``, scaled to unit length."""
    return unit(vector[:dimensions])


def unit(vector: list[float]) -> list[float]:
    norm = math.sqrt(math.fsum(value * value for value in vector))
    return [value / norm for value in vector] if norm else vector


def _features(word: str, size: int) -> Contribution:
    """Where ``word`` and its trigrams land in a vector of ``size`` numbers, and with what
    weight and sign."""
    bounded = f"#{word}#"
    pieces = [bounded[i : i + 3] for i in range(len(bounded) - 2)]
    weighted = [(word, WORD_WEIGHT), *((piece, PIECE_WEIGHT) for piece in pieces)]
    out = []
    for feature, weight in weighted:
        digest = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "big")
        out.append((digest % size, weight if digest >> 63 else -weight))
    return tuple(out)


_word_features = BoundedCache("embedding_words", 8192, registry=SHARED).memoize(_features)
