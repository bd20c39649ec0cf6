"""GPU embedding check: the same photos embedded on the CPU and on CUDA give the same features (the
database's embedder identity does not change with the device), and how many photos/s each device embeds.

    python bench/gpu_check.py [--photos DIR] [--count 64]

Needs the repository and a Python with torch, torchvision and pillow (no faiss, no QGIS). Photos come
from --photos, else ../shared/flickr-cc/photos, else synthetic JPEGs made here. The bundled
EfficientNet-Lite0 is used where its weights package is installed, else a torchvision ResNet-18 with
seeded random weights (the comparison of devices holds for any network). Runs in well under 3 minutes.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from geoloc_core.embedders import (  # noqa: E402  (the repository is put on the path first)
    EmbedderError,
    batch_size_for,
    load_embedder,
)


def photo_files(folder: Path | None, count: int, scratch: Path) -> tuple[list[Path], str]:
    for candidate in [folder, REPO.parent / "shared" / "flickr-cc" / "photos"]:
        if candidate is not None and candidate.is_dir():
            files = sorted(p for p in candidate.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))[:count]
            if files:
                return files, str(candidate)
    from PIL import Image

    rng = np.random.default_rng(0)
    files = []
    for index in range(count):
        image = Image.fromarray(rng.integers(0, 255, (12, 16, 3), dtype=np.uint8)).resize((640, 480), Image.BILINEAR)
        files.append(scratch / f"synthetic-{index:03d}.jpg")
        image.save(files[-1], quality=90)
    return files, "synthetic 640x480 JPEGs"


def embedder_for_check(scratch: Path):
    try:
        return load_embedder()
    except EmbedderError as exc:
        import torch
        import torchvision

        print(f"note: bundled EfficientNet-Lite0 unavailable ({exc}); using ResNet-18 with seeded random weights")
        torch.manual_seed(0)
        weights = scratch / "resnet18-seeded.pt"
        torch.save(torchvision.models.resnet18(weights=None).state_dict(), weights)
        return load_embedder("resnet18", weights)


def timed_embedding(embedder, crops: list[np.ndarray], device: str) -> tuple[np.ndarray, float]:
    """Features of the crops on `device` and photos/s (network only: the crops are decoded once, before)."""
    import torch

    embedder.to_device(device)
    batch = batch_size_for(embedder.device)
    embedder.embed_crops(crops[:batch])  # warm-up: kernels chosen, memory allocated
    if embedder.device.type == "cuda":
        torch.cuda.synchronize()
    started = time.perf_counter()
    features = np.concatenate([embedder.embed_crops(crops[i:i + batch]) for i in range(0, len(crops), batch)])
    if embedder.device.type == "cuda":
        torch.cuda.synchronize()
    return features, len(crops) / (time.perf_counter() - started)


def main() -> int:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=Path, help="folder of photos (default ../shared/flickr-cc/photos)")
    parser.add_argument("--count", type=int, default=64)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        files, origin = photo_files(args.photos, args.count, scratch)
        embedder = embedder_for_check(scratch)
        identity = embedder.identity
        started = time.perf_counter()
        crops = [embedder._prepare(path) for path in files]
        decode_rate = len(crops) / (time.perf_counter() - started)
        print(f"{len(crops)} photos ({origin}); embedder {identity.describe()}")
        print(f"torch {torch.__version__}; CUDA available: {torch.cuda.is_available()}"
              + (f" ({torch.cuda.get_device_name(0)})" if torch.cuda.is_available() else ""))
        print(f"decode + crop (one CPU thread): {decode_rate:.1f} photos/s")
        cpu, cpu_rate = timed_embedding(embedder, crops, "cpu")
        print(f"cpu : {cpu_rate:8.1f} photos/s (batch {batch_size_for(torch.device('cpu'))}, "
              f"{torch.get_num_threads()} threads)")
        if not torch.cuda.is_available():
            print("cuda: skipped (no CUDA device on this machine)")
            return 0
        cuda, cuda_rate = timed_embedding(embedder, crops, "cuda")
        assert embedder.identity == identity, "the embedder identity changed with the device"
        difference = float(np.abs(cpu - cuda).max())
        cosine = np.sum(cpu * cuda, axis=1)  # both L2-normalised
        print(f"cuda: {cuda_rate:8.1f} photos/s (batch {batch_size_for(torch.device('cuda'))}); "
              f"{cuda_rate / cpu_rate:.1f}x the CPU")
        print(f"features cpu vs cuda: max abs difference {difference:.2e}, cosine similarity min {cosine.min():.6f} "
              f"mean {cosine.mean():.6f}; identity unchanged")
        agree = difference < 1e-2 and cosine.min() > 0.999
        print("PASS" if agree else "FAIL: the devices disagree beyond float tolerance")
        return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
