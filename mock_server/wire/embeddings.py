"""Embeddings answers: a list of vectors, as OpenAI writes it.

``{"object": "list", "data": [{"object": "embedding", "index": i, "embedding": ...}], "model",
"usage": {"prompt_tokens", "total_tokens"}}`` in that key order (OpenAI's API reference and its
answers); each vector as a list of numbers (``encoding_format: float``) or as the base64 of its
little-endian float32 bytes (``base64``, what the openai SDK asks for unless told otherwise and
decodes). Numbers are float32 values either way, so both formats give the same floats; written
as JSON they take the shortest form of the 64-bit value, longer than OpenAI's 8 or 9 digits.
"""

from __future__ import annotations

import base64
import sys
from array import array
from typing import Any


class EmbeddingList:
    """The vectors answering one request, the model named and the prompt tokens."""

    id = ""  # an embeddings answer has no id or creation time
    created = 0

    def __init__(
        self, vectors: list[list[float]], model: str, prompt_tokens: int, encoding: str
    ) -> None:
        self.vectors = vectors
        self.model = model
        self.prompt_tokens = prompt_tokens
        self.encoding = encoding

    @property
    def dimensions(self) -> int:
        """The numbers of a vector (those of a scenario's vectors are as it gives them)."""
        return len(self.vectors[0]) if self.vectors else 0

    def usage(self) -> dict[str, Any]:
        return {"prompt_tokens": self.prompt_tokens, "total_tokens": self.prompt_tokens}

    def summary(self) -> dict[str, Any]:
        """What the journal keeps: how many vectors, of what size, not the numbers."""
        return {
            "object": "list",
            "vectors": len(self.vectors),
            "dimensions": self.dimensions,
            "encoding_format": self.encoding,
            "model": self.model,
            "usage": self.usage(),
        }

    def body(self) -> dict[str, Any]:
        write = _base64 if self.encoding == "base64" else _floats
        return {
            "object": "list",
            "data": [
                {"object": "embedding", "index": index, "embedding": write(vector)}
                for index, vector in enumerate(self.vectors)
            ],
            "model": self.model,
            "usage": self.usage(),
        }


def _little_endian(vector: list[float]) -> array:
    """``vector`` as little-endian float32 numbers."""
    packed = array("f", vector)
    if sys.byteorder == "big":
        packed.byteswap()
    return packed


def _floats(vector: list[float]) -> list[float]:
    return array("f", vector).tolist()


def _base64(vector: list[float]) -> str:
    return base64.b64encode(_little_endian(vector).tobytes()).decode("ascii")
