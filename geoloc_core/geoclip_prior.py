"""GeoCLIP's GPS gallery as a location prior (Vivanco Cepeda et al., NeurIPS 2023), from the `geoclip`
wheel: its location encoder turns each of 100,000 gallery coordinates into a 512-d feature, and the
softmax of (logit scale x cosine) between a photo's GeoCLIP image feature and them is the photo's
probability over the gallery.

- With a reference database built with the `geoclip` embedder, the `geoclip` estimator weights each
  neighbour by the gallery's probability around it (the top-k gallery points smoothed by a kernel of
  GALLERY_KERNEL_KM), as the `hybrid` estimator weights neighbours by a geocell classifier.
- Without a database, `locate.locate_worldwide` answers from the gallery alone: its most probable point (as
  GeoCLIP reports it), with the top-k points as the evidence shown and measured for the uncertainty.
  That confidence and those radii are the gallery's own, not calibrated on held-out photos.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .defaults import DEFAULT_GALLERY_TOP_K, DEFAULT_TEMPERATURE
from .errors import OptionError
from .estimator_registry import estimate
from .estimators import Estimate, uncertainty
from .geo import haversine_km
from .progress import ProgressCallback, StopCheck, check_stop, report

# The 100k gallery points lie tens of km apart where photos are dense: a 200 km kernel spreads a
# point's probability over its region, the scale at which GeoCLIP's top-1 accuracy stops rising fast.
GALLERY_KERNEL_KM = 200.0
GALLERY_CHUNK = 4096
GALLERY_CSV = Path("model") / "gps_gallery" / "coordinates_100K.csv"


@dataclass(frozen=True)
class GalleryPrediction:
    """The top-k gallery points of one photo, most probable first; probabilities over the whole gallery."""

    lat: np.ndarray
    lon: np.ndarray
    probability: np.ndarray
    similarity: np.ndarray  # cosine between the photo's and each point's feature

    def prior_at(self, lat, lon, kernel_km: float = GALLERY_KERNEL_KM) -> np.ndarray:
        """The gallery's probability around each (lat, lon): its top-k points smoothed by a Gaussian kernel."""
        gaps = haversine_km(np.asarray(lat, dtype=np.float64)[:, None], np.asarray(lon, dtype=np.float64)[:, None],
                            self.lat[None, :], self.lon[None, :])
        return np.exp(-0.5 * (gaps / kernel_km) ** 2) @ self.probability


def _geoclip_package_dir() -> Path:
    from .clip_embedders import geoclip_weights_dir

    return geoclip_weights_dir().parent.parent


class GeoClipGallery:
    """The location encoder and GPS gallery shipped in the geoclip wheel. `coordinates` replaces the
    gallery (tests use a part of it); `cache_dir` keeps the gallery's features between runs (the
    encoder takes about a minute on a CPU for 100,000 points)."""

    def __init__(self, coordinates: np.ndarray | None = None, cache_dir: str | os.PathLike | None = None):
        import torch
        from geoclip import LocationEncoder

        weights = _geoclip_package_dir() / "model" / "weights"
        self.encoder = LocationEncoder(from_pretrained=False).eval()
        self.encoder.load_state_dict(torch.load(weights / "location_encoder_weights.pth", map_location="cpu",
                                                weights_only=True))
        self.logit_scale = float(torch.load(weights / "logit_scale_weights.pth", map_location="cpu",
                                            weights_only=True).exp())
        if coordinates is None:
            csv_path = _geoclip_package_dir() / GALLERY_CSV
            coordinates = np.loadtxt(csv_path, delimiter=",", skiprows=1, dtype=np.float64)
        self.coordinates = np.asarray(coordinates, dtype=np.float64).reshape(-1, 2)
        digest = hashlib.sha256(self.coordinates.tobytes())
        digest.update((weights / "location_encoder_weights.pth").read_bytes())
        self.key = digest.hexdigest()[:16]
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self._features: np.ndarray | None = None

    def features(self, progress: ProgressCallback | None = None, should_stop: StopCheck | None = None) -> np.ndarray:
        """(gallery size, 512) L2-normalised location features, computed once (and cached on disk)."""
        if self._features is not None:
            return self._features
        cached = self.cache_dir / f"geoclip-gallery-{self.key}.npy" if self.cache_dir else None
        if cached is not None and cached.is_file():
            self._features = np.load(cached)
            return self._features
        import torch
        from torch.nn import functional as F

        chunks = []
        with torch.inference_mode():
            for start in range(0, len(self.coordinates), GALLERY_CHUNK):
                check_stop(should_stop)
                points = torch.from_numpy(self.coordinates[start:start + GALLERY_CHUNK]).float()
                chunks.append(F.normalize(self.encoder(points), dim=1).numpy())
                report(progress, min(start + GALLERY_CHUNK, len(self.coordinates)), len(self.coordinates),
                       "gallery", "GeoCLIP GPS gallery")
        self._features = np.concatenate(chunks).astype(np.float32)
        if cached is not None:
            from .storage import atomic_write_bytes

            cached.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(cached, _npy_bytes(self._features))
        return self._features

    def predict(self, image_features: np.ndarray, top_k: int = DEFAULT_GALLERY_TOP_K,
                should_stop: StopCheck | None = None) -> list[GalleryPrediction]:
        """Each photo's top-k gallery points (GeoCLIP image features, L2-normalised, one row per photo)."""
        gallery = self.features(should_stop=should_stop)
        if not 1 <= top_k <= len(gallery):
            raise OptionError(f"top-k must be between 1 and the gallery's {len(gallery)} points (got {top_k})")
        predictions = []
        for row in np.asarray(image_features, dtype=np.float32).reshape(-1, gallery.shape[1]):
            similarity = gallery @ row
            logits = self.logit_scale * similarity.astype(np.float64)
            probability = np.exp(logits - logits.max())
            probability /= probability.sum()
            top = np.argpartition(-probability, top_k - 1)[:top_k]
            top = top[np.argsort(-probability[top], kind="stable")]
            predictions.append(GalleryPrediction(self.coordinates[top, 0], self.coordinates[top, 1],
                                                 probability[top], similarity[top].astype(np.float64)))
        return predictions


def _npy_bytes(array: np.ndarray) -> bytes:
    import io

    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


@lru_cache(maxsize=2)
def gallery_for(cache_dir: str | None) -> GeoClipGallery:
    """One gallery per process and cache folder: its features are computed once."""
    return GeoClipGallery(cache_dir=cache_dir)


def gallery_of(embedder) -> GeoClipGallery:
    """The gallery that goes with a GeoCLIP embedder, its features cached beside the downloaded model."""
    if embedder.identity.architecture != "geoclip":
        raise OptionError(f"the geoclip estimator needs GeoCLIP features: build the database with --architecture "
                          f"geoclip (this one holds {embedder.identity.architecture} features), or locate without a "
                          "database (python -m geoloc_core world)")
    folder = embedder.identity.weights_path
    return gallery_for(str(Path(folder).parent) if folder else None)


def prior_estimate(prediction: GalleryPrediction, lat, lon, similarities, bandwidth_km: float,
                   temperature: float = DEFAULT_TEMPERATURE) -> Estimate:
    """The `geoclip` estimator: the neighbours' kernel density with each neighbour weighted by the gallery's
    probability around it (the hybrid estimator's rule, with GeoCLIP's gallery in place of a geocell classifier)."""
    return estimate("geoclip", lat, lon, similarities, bandwidth_km, temperature, gallery=prediction)


def worldwide_estimate(prediction: GalleryPrediction) -> Estimate:
    """The gallery alone: GeoCLIP's most probable point, the top-k probabilities as the evidence."""
    weights = prediction.probability / prediction.probability.sum()
    lat, lon = float(prediction.lat[0]), float(prediction.lon[0])
    share, mass50, mass90 = uncertainty(lat, lon, prediction.lat, prediction.lon, weights, GALLERY_KERNEL_KM)
    return Estimate(lat, lon, share, mass50, mass90, weights, share, mass50, mass90)
