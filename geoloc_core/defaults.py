"""Default locate parameters, kept free of heavy imports so that QGIS can show them at start-up.

Chosen on the development benchmark (bench/accuracy.py: grouped 5-fold cross-validation on the ~1,480
Creative Commons photos of ../shared, docs/benchmarks.md): the cascade estimator with a 1,000 km kernel
and temperature 0.05 beats the paper's procedure at every threshold from 25 km up and on the median
error. A wide kernel finds the continent, a 0.3 x narrower one the region within it, and a snap to the
best-supported neighbour keeps street- and city-level matches, which a kernel mode never reaches.
A temperature of 0.05 lets the few best matches dominate, as the paper's 1/d^10 weights do.
"""

import os
from pathlib import Path

# the folder holding geoloc_core: the plugin's folder (what the external engine's Python is pointed at)
PLUGIN_DIR = Path(__file__).resolve().parent.parent

DEFAULT_ESTIMATOR = "cascade"  # the estimators and what each needs: estimator_registry.py
DEFAULT_K = 100
DEFAULT_ARCHITECTURE = "efficientnet_lite0"
POOLINGS = ("avg", "max", "gem")  # global pooling of the feature map
DEFAULT_POOLING = POOLINGS[0]
DEFAULT_BANDWIDTH_KM = 1000.0
DEFAULT_TEMPERATURE = 0.05
# density cells as fine as the kernel has detail, the bandwidth / 8 (estimators.density_resolution)
AUTO_DENSITY_RESOLUTION = 0.0
DEFAULT_DENSITY_RESOLUTION_DEG = AUTO_DENSITY_RESOLUTION  # a resolution asked (in degrees) is given exactly
DEFAULT_GALLERY_TOP_K = 100  # GeoCLIP gallery points kept per photo when locating worldwide

# Training a view (training.TrainOptions, finetune.FinetuneOptions, the CLI's `train`, Processing)
DEFAULT_VIEW_NAME = "geocells"
DEFAULT_T_MAX = 50  # most photos in one geocell
DEFAULT_T_MIN = 5  # fewer and the cell is dropped (its photos still serve as references)
DEFAULT_GEO_DIM = 128  # size of the learned geo-embedding
DEFAULT_TRAINING_EPOCHS = 300  # at most: early stopping ends sooner
DEFAULT_SMOOTHING_KM = 500.0  # soft targets between cells by distance
DEFAULT_FINETUNE_EPOCHS = 10

# Learned features (python -m geoloc_core train) have measured no gain up to 6,000 reference photos: on
# 6,000 Flickr and Street View photos the geocell head reached 1.8% validation cell accuracy and made every
# estimator worse on held-out photos (issue 13), as on the 609 of flickr-cc (bench/features.py). A few
# dozen photos per cell of mostly unremarkable scenes do not teach a classifier what a place looks like
# better than the ImageNet features' nearest neighbours already tell; the paper trained on 6 million.
MIN_PHOTOS_FOR_TRAINING = 10_000


def training_size_warning(photos: int) -> str | None:
    """What to tell a user before training on a database this small; None when it is large enough."""
    if photos >= MIN_PHOTOS_FOR_TRAINING:
        return None
    return (f"this database holds {photos:,} photos: training has not improved accuracy on databases of up to "
            f"6,000 photos (it needs tens of thousands or more), so expect no gain below "
            f"{MIN_PHOTOS_FOR_TRAINING:,}; the base features and the default estimator are the better choice")


def default_profile_data_dir() -> Path:
    """The plugin's data folder in QGIS's default profile (packs, models): where the command line looks
    when no folder is given; the plugin passes its own profile's folder."""
    if os.name == "nt":
        base = Path(os.environ.get("APPDATA", Path.home() / "AppData" / "Roaming"))
    elif os.uname().sysname == "Darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
    return base / "QGIS" / "QGIS3" / "profiles" / "default" / "photo_geolocator"
