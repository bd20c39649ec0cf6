"""Field names and types of the result tables, shared by the file export, Processing and the plugin's
layers (kept free of heavy imports so that QGIS can read it at start-up)."""

PREDICTION_FIELDS = (
    ("photo", str), ("file_name", str), ("lat", float), ("lon", float), ("confidence", float),
    ("radius50_km", float), ("radius90_km", float), ("estimator", str), ("k", int), ("nearest_distance", float),
    ("database", str), ("run_time", str),
)
NEIGHBOUR_FIELDS = (
    ("photo", str), ("rank", int), ("distance", float), ("similarity", float), ("weight", float), ("lat", float),
    ("lon", float), ("reference_path", str), ("record_id", int),
)
UNCERTAINTY_FIELDS = (("photo", str), ("level", int), ("radius_km", float))
UNCERTAINTY_LEVELS = (50, 90)
EVALUATION_FIELDS = (
    ("photo", str), ("true_lat", float), ("true_lon", float), ("pred_lat", float), ("pred_lon", float),
    ("error_km", float), ("confidence", float), ("radius50_km", float), ("radius90_km", float), ("left_out", int),
)
CELL_FIELDS = (("token", str), ("face", int), ("level", int), ("count", int), ("lat", float), ("lon", float))
REFERENCE_FIELDS = (("record_id", int), ("path", str), ("lat", float), ("lon", float), ("time", str),
                    ("width", int), ("height", int))


def names(fields) -> tuple[str, ...]:
    return tuple(name for name, _ in fields)
