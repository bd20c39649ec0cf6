"""GPU embedding check: the same photos embedded on the CPU and on CUDA give the same features (the
database's embedder identity does not change with the device), and how many photos/s each device embeds.
With --finetune CSV (path,lat,lon rows for the photos), also fine-tunes end to end on CUDA: BatchNorm
folded on the GPU keeps the unfolded network's features, and the fine-tuned view embeds alike on both
devices.

    python bench/gpu_check.py [--photos DIR] [--count 64] [--finetune manifest.csv --epochs 2]

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


def moved_batchnorm_check(crops: list[np.ndarray]) -> bool:
    """Folding on CUDA: an unfolded Lite0 whose BatchNorm statistics moved (as training moves them) gives
    the same features before and after `fold_batchnorm`. Compared in full float32: cuDNN's default TF32
    convolutions alone differ by ~1e-3 (as the CPU and CUDA do), which would hide a folding error."""
    import torch
    from torch import nn

    from geoloc_core.embedders import fold_batchnorm

    unfolded = load_embedder(fold=False).to_device("cuda")
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for norm in (m for m in unfolded.trunk.modules() if isinstance(m, nn.BatchNorm2d)):
            shape = norm.running_mean.shape
            norm.running_mean.add_(0.1 * torch.randn(shape, generator=generator).cuda())
            norm.running_var.mul_(0.5 + torch.rand(shape, generator=generator).cuda())
    tf32 = torch.backends.cudnn.allow_tf32
    torch.backends.cudnn.allow_tf32 = False
    try:
        before = unfolded.embed_crops(crops)
        fold_batchnorm(unfolded.trunk)
        difference = float(np.abs(unfolded.embed_crops(crops) - before).max())
    finally:
        torch.backends.cudnn.allow_tf32 = tf32
    print(f"BatchNorm folded on cuda (float32): max abs feature difference {difference:.2e} (tolerance 1e-4)")
    return difference < 1e-4


def finetune_check(files: list[Path], manifest: Path, epochs: int, crops: list[np.ndarray],
                   device: str = "cuda") -> bool:
    """Fine-tunes end to end on `device`, then embeds with the folded, fine-tuned network on both devices."""
    import csv

    from geoloc_core.finetune import FinetuneOptions, finetune, finetuned_embedder
    from geoloc_core.training import TrainOptions, photo_groups

    with manifest.open(newline="", encoding="utf-8") as handle:
        rows = {Path(row["path"]).name: row for row in csv.DictReader(handle)}
    located = [path for path in files if path.name in rows]
    lat = np.array([float(rows[p.name]["lat"]) for p in located])
    lon = np.array([float(rows[p.name]["lon"]) for p in located])
    owners = [{"flickr_owner": rows[p.name].get("flickr_owner", "")} for p in located]
    groups = photo_groups(lat, lon, owners)
    base = load_embedder().identity
    options = TrainOptions(t_max=40, t_min=5)
    started = time.perf_counter()
    head, arrays = finetune(base, located, lat, lon, groups, options,
                            FinetuneOptions(epochs=epochs, patience=epochs, device=device))
    seconds = time.perf_counter() - started
    epochs_run = len(head.history)
    print(f"fine-tuned on {device}: {len(located)} photos, {len(head.partition)} geocells, {epochs_run} epochs in "
          f"{seconds:.1f} s ({seconds / max(epochs_run, 1):.1f} s/epoch, photo decoding included); "
          f"validation (loss, accuracy) by epoch {[(round(h[2], 3), round(h[3], 3)) for h in head.history]}")
    tuned = finetuned_embedder(base, arrays, "gpu-check")
    on_cpu = tuned.embed_crops(crops)
    on_cuda = tuned.to_device(device).embed_crops(crops)
    difference = float(np.abs(on_cpu - on_cuda).max())
    print(f"fine-tuned view cpu vs cuda: max abs difference {difference:.2e}, identity {tuned.identity.describe()}")
    return difference < 1e-2


def main() -> int:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=Path, help="folder of photos (default ../shared/flickr-cc/photos)")
    parser.add_argument("--count", type=int, default=64)
    parser.add_argument("--finetune", type=Path, metavar="CSV",
                        help="also fine-tune on CUDA with these locations (path,lat,lon[,flickr_owner])")
    parser.add_argument("--epochs", type=int, default=2, help="fine-tuning epochs for --finetune")
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
        print("embedding: " + ("PASS" if agree else "FAIL: the devices disagree beyond float tolerance"))
        if args.finetune:
            folded = moved_batchnorm_check(crops[:32])
            print("BatchNorm fold on cuda: " + ("PASS" if folded else "FAIL"))
            tuned = finetune_check(files, args.finetune, args.epochs, crops[:32])
            print("fine-tuned view across devices: " + ("PASS" if tuned else "FAIL"))
            agree = agree and folded and tuned
        return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
