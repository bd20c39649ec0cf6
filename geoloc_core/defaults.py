"""Default locate parameters, kept free of heavy imports so that QGIS can show them at start-up.

The spherical estimator's defaults come from a leave-one-out sweep on the worldwide flickr-cc set
(bench/accuracy.py --sweep): the best mean GeoGuessr score among kernels narrow enough to resolve
regions (<= 300 km). Wider kernels score a little higher on that sparse set only by pulling every
prediction towards the continent with the most photos, and lose most of the 200 km accuracy.
Weights falling by e^-1 per 0.2 of cosine similarity let many fairly similar neighbours vote,
which ImageNet features need (their top match is often from elsewhere).
"""

# cells and hybrid need a trained view (python -m geoloc_core train)
ESTIMATORS = ("sphere", "paper", "cells", "hybrid")
DEFAULT_ESTIMATOR = "sphere"
DEFAULT_K = 100
DEFAULT_BANDWIDTH_KM = 300.0
DEFAULT_TEMPERATURE = 0.2
