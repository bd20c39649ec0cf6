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

# What each field holds, for the people who read the tables: (alias, comment), the alias with its unit.
# The layers and the styles show them in QGIS's attribute table, form and field list. Embedding distances
# are likenesses in the network's feature space, never distances on the ground; ground distances are km.
FIELD_HELP = {
    "photo": ("Photo", "path of the photo"),
    "file_name": ("File name", "the photo's file name"),
    "lat": ("Latitude (°)", "WGS84 degrees, north positive"),
    "lon": ("Longitude (°)", "WGS84 degrees, east positive"),
    "confidence": ("Confidence (0-1)", "calibrated probability that the photo lies within 750 km of the prediction"),
    "radius50_km": ("50% radius (km)", "circle around the prediction holding half of the density, in km"),
    "radius90_km": ("90% radius (km)", "circle around the prediction holding 90% of the density, in km"),
    "estimator": ("Estimator", "how the neighbours' places became one location"),
    "k": ("Neighbours (k)", "how many of the most similar reference photos voted"),
    "nearest_embedding_distance": (
        "Nearest embedding distance (feature space)",
        "distance in the network's feature space (0-2) to the most similar reference photo: how alike they "
        "look, not a distance on the ground; smaller is more alike"),
    "database": ("Reference database", "what was searched"),
    "run_time": ("Run time (UTC)", "when the run was made, ISO 8601"),
    "evidence": ("Evidence", "what decided the answer: pixels, track, anchor, stream or area"),
    "note": ("Note", "a warning about the answer"),
    "capture_time": ("Capture time (UTC)", "ISO 8601, the camera's clock corrected; empty where unknown"),
    "stream": ("Stream", "the photo's stream in the batch, numbered in time order; 0: in no stream"),
    "review_status": ("Review", "unreviewed, accepted, moved or rejected"),
    "reviewed_lat": ("Reviewed latitude (°)", "the accepted or moved place, WGS84 degrees"),
    "reviewed_lon": ("Reviewed longitude (°)", "the accepted or moved place, WGS84 degrees"),
    "review_note": ("Review note", "the analyst's note"),
    "rank": ("Rank", "1 is the best"),
    "embedding_distance": (
        "Embedding distance (feature space)",
        "distance in the network's feature space (0-2) between the photo and this reference photo: how alike "
        "they look, not a distance on the ground; smaller is more alike"),
    "similarity": ("Similarity (cosine)", "cosine similarity of the two photos' features, -1 to 1; higher is more alike"),
    "weight": ("Weight (0-1)", "this neighbour's share of the evidence; the weights of a photo's neighbours sum to 1"),
    "reference_path": ("Reference photo", "path of the reference photo (or of a pack's thumbnail)"),
    "record_id": ("Record", "the reference photo's number in its database"),
    "level": ("Level (%)", "share of the density inside the circle"),
    "radius_km": ("Radius (km)", "the circle's radius on the ground, in km"),
    "mass": ("Probability mass (0-1)", "share of the density's probability in this place's basin"),
    "distance_km": ("Distance from the prediction (km)", "great-circle distance on the ground, in km"),
    "gps_error_km": ("Error vs EXIF GPS (km)", "great-circle distance from the prediction to the photo's own EXIF GPS "
                     "location, in km"),
    "path": ("Photo", "path of the reference photo"),
    "time": ("Taken", "when the photo was taken, from its EXIF"),
    "width": ("Width (px)", "the photo's width in pixels"),
    "height": ("Height (px)", "the photo's height in pixels"),
}


def field_help(name: str) -> tuple[str, str]:
    """(alias, comment) of a result field: its name with units and what it means ("", "" if unknown)."""
    return FIELD_HELP.get(name, ("", ""))


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
