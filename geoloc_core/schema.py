"""Field names and types of the result tables, shared by the file export, Processing and the plugin's
layers (kept free of heavy imports so that QGIS can read it at start-up)."""

from pathlib import PurePath

from .files import display_path

PREDICTION_FIELDS = (
    ("photo", str), ("file_name", str), ("lat", float), ("lon", float), ("confidence", float),
    ("radius50_km", float), ("radius90_km", float), ("estimator", str), ("k", int),
    ("nearest_embedding_distance", float), ("database", str), ("run_time", str), ("evidence", str), ("note", str),
    ("capture_time", str), ("stream", int),
    ("review_status", str), ("reviewed_lat", float), ("reviewed_lon", float), ("review_note", str),
)
# What the analyst decided about a prediction: `reviewed_lat/lon` hold the accepted or moved place.
REVIEW_STATUSES = ("unreviewed", "accepted", "moved", "rejected")
NEIGHBOUR_FIELDS = (
    ("photo", str), ("rank", int), ("embedding_distance", float), ("similarity", float), ("weight", float), ("lat", float),
    ("lon", float), ("reference_path", str), ("record_id", int),
)
UNCERTAINTY_FIELDS = (("photo", str), ("level", int), ("radius_km", float))
# The density's separate modes, best first: the second and third guesses the analyst can pick.
ALTERNATIVE_FIELDS = (("photo", str), ("rank", int), ("lat", float), ("lon", float), ("mass", float),
                      ("distance_km", float))
UNCERTAINTY_LEVELS = (50, 90)
# The plugin's predictions layer adds a small JPEG of the photo (about 128 px; blob), so that the GeoPackage
# shows each photo's face in map tips and forms after the photos have moved.
THUMBNAIL_FIELD = ("thumbnail", bytes)
GPS_ERROR_FIELD = ("gps_error_km", float)  # and, for photos with EXIF GPS, how far the prediction missed
# Photos of the batch that carry EXIF GPS: where they really are, and how far the prediction missed.
KNOWN_FIELDS = (("photo", str), ("file_name", str), ("lat", float), ("lon", float), ("error_km", float))
ERROR_LINE_FIELDS = (("photo", str), ("file_name", str), ("error_km", float))
SUMMARY_THRESHOLDS_KM = (1, 25, 200, 750, 2500)  # street, city, region, country, continent


def uncertainty_radius(result, level: int) -> float:
    """The radius (km) holding `level` percent of a result's density."""
    return {50: result.radius50_km, 90: result.radius90_km}[level]

EVALUATION_FIELDS = (
    ("photo", str), ("true_lat", float), ("true_lon", float), ("pred_lat", float), ("pred_lon", float),
    ("error_km", float), ("confidence", float), ("radius50_km", float), ("radius90_km", float), ("left_out", int),
)
CELL_FIELDS = (("token", str), ("face", int), ("level", int), ("count", int), ("lat", float), ("lon", float))
REFERENCE_FIELDS = (("record_id", int), ("path", str), ("lat", float), ("lon", float), ("time", str),
                    ("width", int), ("height", int))


def names(fields) -> tuple[str, ...]:
    return tuple(name for name, _ in fields)


def prediction_rows(results, database: str = "", run_time: str = "") -> list[dict]:
    """One row per located photo (duck-typed LocationResult), keyed by PREDICTION_FIELDS; paths as
    valid text (display_path), which every writer (CSV, GeoPackage, QGIS fields) accepts."""
    return [{
        "photo": display_path(r.photo), "file_name": display_path(PurePath(r.photo).name), "lat": r.lat, "lon": r.lon,
        "confidence": r.confidence, "radius50_km": r.radius50_km, "radius90_km": r.radius90_km,
        "estimator": r.estimator, "k": r.k,
        "nearest_embedding_distance": r.neighbours[0].distance if r.neighbours else None,
        "database": database, "run_time": run_time, "evidence": getattr(r, "evidence", "pixels"),
        "note": getattr(r, "note", ""),
        "capture_time": getattr(r, "capture_time", ""), "stream": getattr(r, "stream", 0),
        "review_status": "unreviewed", "reviewed_lat": None, "reviewed_lon": None, "review_note": "",
    } for r in results]


def neighbour_rows(results) -> list[dict]:
    """One row per neighbour of every located photo, keyed by NEIGHBOUR_FIELDS."""
    return [{
        "photo": display_path(r.photo), "rank": n.rank, "embedding_distance": n.distance, "similarity": n.similarity,
        "weight": n.weight, "lat": n.lat, "lon": n.lon, "reference_path": display_path(n.path), "record_id": n.record_id,
    } for r in results for n in r.neighbours]


def alternative_rows(results) -> list[dict]:
    """One row per alternative place (density mode) of every located photo, keyed by ALTERNATIVE_FIELDS."""
    return [{"photo": display_path(r.photo), "rank": a.rank, "lat": a.lat, "lon": a.lon, "mass": a.mass,
             "distance_km": a.distance_km} for r in results for a in getattr(r, "alternatives", [])]


def error_summary(errors_km) -> dict | None:
    """The batch summary of the photos with a known place: how many, the median error (km) and the share
    within each of SUMMARY_THRESHOLDS_KM; None where no photo has one."""
    errors = sorted(float(e) for e in errors_km)
    if not errors:
        return None
    middle = len(errors) // 2
    median = errors[middle] if len(errors) % 2 else (errors[middle - 1] + errors[middle]) / 2
    return {"photos": len(errors), "median_km": median,
            "within": {km: sum(e <= km for e in errors) / len(errors) for km in SUMMARY_THRESHOLDS_KM}}
