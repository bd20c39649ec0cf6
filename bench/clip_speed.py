"""CPU speed of the CLIP-family image towers without their weights: the ViT-B/32 and ViT-L/14 vision
configurations of openai/clip-vit-base-patch32 and openai/clip-vit-large-patch14, typed in, randomly
initialised (the same arithmetic as the real weights), timed on a batch of photos at 224 px through the
embedder's own forward pass (micro-batches, projection, GeoCLIP's head for geoclip), beside the bundled
Lite0 for scale.

    .venv/bin/python bench/clip_speed.py [--batch 8] [--repeats 2]
"""

from __future__ import annotations

import argparse
import time

import common  # noqa: F401  (puts the repository on sys.path)
import numpy as np
import torch

from geoloc_core.embedders import EmbedderIdentity, load_embedder

# the vision_config values of the two hub models' config.json (projection_dim from the top level)
VISION_CONFIGS = {
    "clip_vit_b32": dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12,
                         image_size=224, patch_size=32, projection_dim=512),
    "clip_vit_l14": dict(hidden_size=1024, intermediate_size=4096, num_hidden_layers=24, num_attention_heads=16,
                         image_size=224, patch_size=14, projection_dim=768),
}
CLIP_NORMALISATION = ((0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711))


def random_clip_embedder(name: str):
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    from geoloc_core.clip_embedders import POOLING, clip_embedder_class

    config = VISION_CONFIGS[name]
    model = CLIPVisionModelWithProjection(CLIPVisionConfig(**config)).eval()
    identity = EmbedderIdentity(name, "random", POOLING, "random init", config["projection_dim"])
    return clip_embedder_class()(model, identity, CLIP_NORMALISATION, 224)


def seconds_per_photo(embedder, batch: int, repeats: int) -> float:
    crops = [np.random.default_rng(i).integers(0, 255, (embedder.input_size,) * 2 + (3,), dtype=np.uint8)
             for i in range(batch)]
    embedder.embed_crops(crops[:2])  # warm-up
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        embedder.embed_crops(crops)
        best = min(best, time.perf_counter() - started)
    return best / batch


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch of {args.batch} at 224 px, "
          f"best of {args.repeats}")
    for name, embedder in (("efficientnet_lite0 (bundled)", load_embedder("efficientnet_lite0")),
                           ("clip_vit_b32 (random weights)", random_clip_embedder("clip_vit_b32")),
                           ("clip_vit_l14 / geoclip backbone (random weights)", random_clip_embedder("clip_vit_l14"))):
        print(f"{name}: {seconds_per_photo(embedder, args.batch, args.repeats):.3f} s/photo "
              f"({embedder.dimension}-d)", flush=True)
        del embedder


if __name__ == "__main__":
    main()
