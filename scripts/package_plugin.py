"""Write the installable plugin zip: one top folder `photo_geolocator/`, runtime files only."""

from __future__ import annotations

import argparse
import subprocess
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOP_FOLDER = "photo_geolocator"
# Everything tracked goes in but development files: tests, benchmarks, scripts, CI, tool settings.
EXCLUDED_TOP = {"tests", "bench", "scripts", "docs", ".ci", "constraints", "Makefile", "pyproject.toml", ".gitignore",
                "requirements.txt", "requirements-dev.txt", "requirements-clip.txt",
                "requirements-distributed.txt"}
EXCLUDED_SUFFIXES = (".pyc", ".pyo")


def plugin_files() -> list[str]:
    """Tracked and untracked-but-not-ignored files, less the development ones."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout.splitlines()
    return sorted(p for p in set(listed) if p.split("/")[0] not in EXCLUDED_TOP and not p.startswith(".")
                  and (ROOT / p).is_file()
                  and not p.endswith(EXCLUDED_SUFFIXES))


def build(output: Path) -> Path:
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_suffix(".zip.part")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for relative in plugin_files():
            archive.write(ROOT / relative, f"{TOP_FOLDER}/{relative}")
    partial.replace(output)
    return output


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", type=Path, required=True)
    print(build(parser.parse_args().output))
