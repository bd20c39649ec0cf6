"""What makes two feature spaces the same, without importing torch (a database, the CLI's `info` and
the plugin read identities long before, or without, loading a network)."""

from __future__ import annotations

import hashlib
import os
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class EmbedderIdentity:
    """What makes two feature spaces the same. `weights_path` is only where the weights were found."""

    architecture: str
    weights_sha256: str
    pooling: str
    preprocessing: str
    dimension: int
    weights_path: str | None = field(default=None, compare=False)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> EmbedderIdentity:
        return cls(
            architecture=str(data["architecture"]), weights_sha256=str(data["weights_sha256"]),
            pooling=str(data["pooling"]), preprocessing=str(data["preprocessing"]),
            dimension=int(data["dimension"]), weights_path=data.get("weights_path"),
        )

    def describe(self) -> str:
        return (f"{self.architecture} ({self.pooling} pooling, {self.dimension}-d, "
                f"weights {self.weights_sha256[:12]}, {self.preprocessing})")


def sha256_of(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
