"""Embedding vectors whose similarity means something: lexical feature hashing.

A text's features are its words (lower-cased runs of letters, digits and underscores) and the
character trigrams of each word with its boundaries (``#cat#`` gives ``#ca``, ``cat``, ``at#``).
Each feature is hashed with CRC-32 (zlib's, the same function everywhere; never Python's
``hash``, which changes between processes) to a position in the vector and a sign; words weigh
2, trigrams 1; the sum is scaled to unit length. So the same text always gives the same vector,
in any process on any machine; texts that share most words or word pieces point the same way (a
paraphrase, a typo, another inflection), and case or punctuation changes move nothing but a word
boundary. It is lexical, not semantic: synonyms that share no letters (``car``, ``automobile``)
are no closer than unrelated words.

``dimensions`` shortens a vector as OpenAI documents for its v3 models: the first
``dimensions`` numbers, scaled to unit length again. A text none of whose features lands in
the vector (no word at all, or none in its first ``dimensions`` numbers) gets one position of
its own, also from CRC-32: OpenAI never answers a zero vector, and a client dividing by a
vector's length must not fail here.
"""

from __future__ import annotations

import math
import re
import zlib

from ..caches import SHARED, BoundedCache

_WORD = re.compile(r"\w+")
WORD_WEIGHT = 2.0
PIECE_WEIGHT = 1.0
MAX_CACHED_WORD = 24  # longer words (a client's long tokens) are hashed each time, not kept

Features = tuple[tuple[int, float], ...]  # (position, signed weight) of each feature


def embedding(text: str, size: int, dimensions: int | None = None) -> list[float]:
    """The unit vector for ``text`` of a model whose vectors have ``size`` numbers, shortened
    to its first ``dimensions`` when given."""
    length = dimensions or size
    weights: dict[int, float] = {}
    weight_at = weights.get
    for word in _WORD.findall(text.lower()):
        features = _word_features if len(word) <= MAX_CACHED_WORD else _features
        for position, weight in features(word, size):
            if position < length:
                weights[position] = weight_at(position, 0.0) + weight
    vector = [0.0] * length
    norm = math.sqrt(math.fsum(weight * weight for weight in weights.values()))
    if norm:  # only the positions some feature reached: a few hundred of 1536
        for position, weight in weights.items():
            vector[position] = weight / norm
    else:
        vector[zlib.crc32(text.encode()) % length] = 1.0
    return vector


def _features(word: str, size: int) -> Features:
    """Where ``word`` and its trigrams land in a vector of ``size`` numbers, with what weight
    and sign (the word's own feature is hashed with a mark, so that ``cat`` the word and ``cat``
    the trigram of ``#cat#`` are two features)."""
    bounded = f"#{word}#"
    features = [(f"w:{word}", WORD_WEIGHT)]
    features += [(bounded[i : i + 3], PIECE_WEIGHT) for i in range(len(bounded) - 2)]
    out = []
    for feature, weight in features:
        digest = zlib.crc32(feature.encode())
        out.append(((digest >> 1) % size, weight if digest & 1 else -weight))
    return tuple(out)


_word_features = BoundedCache("embedding_words", 8192, registry=SHARED).memoize(_features)
