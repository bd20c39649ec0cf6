"""One table of option bounds (geoloc_core/options.py): the engine's checks, the panel's spin boxes and
the Processing parameters all offer and accept the same range for every numeric option."""

from __future__ import annotations

import math

import pytest

from geoloc_core.errors import OptionError, UserError
from geoloc_core.options import BOUNDS, check

# where each option is checked by the engine: a callable taking the value
ENGINE_CHECKS = {
    "k": lambda v: _locate_options(k=v),
    "bandwidth_km": lambda v: _locate_options(bandwidth_km=v),
    "temperature": lambda v: _locate_options(temperature=v),
    "density_resolution_deg": lambda v: _density_options(v),
    "top_k": lambda v: _worldwide_request(v).check(),
    "batch_size": lambda v: _build_request(v).check(),
    "workers": lambda v: _dataset_request(v).check(),
    "t_max": lambda v: _train_options(t_max=v, t_min=1),
    "t_min": lambda v: _train_options(t_min=v, t_max=max(v, 2) if isinstance(v, int) else 50),
    "geo_dim": lambda v: _train_options(geo_dim=v),
    "epochs": lambda v: _train_options(epochs=v),
    "smoothing_km": lambda v: _train_options(smoothing_km=v),
    "finetune_epochs": lambda v: _finetune_options(v),
}
# (algorithm name, parameter) of each option in Processing
PROCESSING = {
    "k": [("geolocate_photos", "K"), ("evaluate_accuracy", "K")],
    "bandwidth_km": [("geolocate_photos", "BANDWIDTH"), ("evaluate_accuracy", "BANDWIDTH")],
    "temperature": [("geolocate_photos", "TEMPERATURE"), ("evaluate_accuracy", "TEMPERATURE")],
    "density_resolution_deg": [("geolocate_photos", "DENSITY_RESOLUTION")],
    "top_k": [("locate_worldwide", "TOP_K")],
    "t_max": [("train_features", "T_MAX")], "t_min": [("train_features", "T_MIN")],
    "geo_dim": [("train_features", "GEO_DIM")], "epochs": [("train_features", "EPOCHS")],
    "smoothing_km": [("train_features", "SMOOTHING")], "finetune_epochs": [("train_features", "FINETUNE_EPOCHS")],
}
PANEL = {"k": "k_spin", "bandwidth_km": "bandwidth_spin", "density_resolution_deg": "resolution_spin",
         "top_k": "top_k_spin"}


def _locate_options(**values):
    from geoloc_core.locate import LocateOptions

    return LocateOptions(**values)


def _density_options(resolution):
    from geoloc_core.locate import DensityOptions

    return DensityOptions(resolution)


def _train_options(**values):
    from geoloc_core.training import TrainOptions

    return TrainOptions(**values)


def _finetune_options(epochs):
    from geoloc_core.finetune import FinetuneOptions

    return FinetuneOptions(epochs=epochs, device="cpu")


def _worldwide_request(top_k):
    from geoloc_core.service import WorldwideRequest

    return WorldwideRequest([], top_k, None)


def _build_request(batch_size):
    from geoloc_core.service import BuildRequest

    return BuildRequest("db.geoloc", batch_size=batch_size)


def _dataset_request(workers):
    from geoloc_core.service import DatasetRequest

    return DatasetRequest("shards", workers=workers)


def outside(bound) -> list:
    """Values just outside the bound (and garbage)."""
    step = 1 if bound.whole else max(abs(bound.low) * 1e-3, 1e-9)
    values = [bound.low - step, math.nan, "many"]
    if bound.high is not None:
        values.append(bound.high + (1 if bound.whole else bound.high * 1e-3))
    return values + ([2.5] if bound.whole else [])


def test_every_option_has_an_engine_check_and_every_front_end_entry_is_in_the_table():
    assert set(ENGINE_CHECKS) == set(BOUNDS)
    assert set(PROCESSING) <= set(BOUNDS) and set(PANEL) <= set(BOUNDS)


@pytest.mark.parametrize("name", sorted(BOUNDS))
def test_the_engine_accepts_the_bounds_and_refuses_beyond(name):
    bound = BOUNDS[name]
    ENGINE_CHECKS[name](bound.low if not bound.whole else int(bound.low))
    if bound.high is not None:
        ENGINE_CHECKS[name](bound.high if not bound.whole else int(bound.high))
    for value in outside(bound):
        with pytest.raises(OptionError, match=bound.label.replace("(", r"\(").replace(")", r"\)")):
            ENGINE_CHECKS[name](value)
        with pytest.raises(OptionError):
            check(name, value)


def test_an_option_error_is_the_users_and_a_value_error():
    with pytest.raises(OptionError) as raised:
        check("k", 0)
    assert isinstance(raised.value, UserError) and isinstance(raised.value, ValueError)


def test_processing_offers_the_bounds(qgis_app, plugin_module):
    module = plugin_module("processing_provider.algorithms")
    algorithms = {}
    for kind in (module.GeolocatePhotos, module.EvaluateAccuracy, module.LocateWorldwide, module.TrainFeatures):
        algorithm = kind()
        algorithm.initAlgorithm()
        algorithms[algorithm.name()] = algorithm
    for name, places in PROCESSING.items():
        bound = BOUNDS[name]
        for algorithm, parameter in places:
            definition = algorithms[algorithm].parameterDefinition(parameter)
            assert definition.minimum() == pytest.approx(bound.low), (name, algorithm)
            if bound.high is not None:
                assert definition.maximum() == pytest.approx(bound.high), (name, algorithm)
            else:
                assert definition.maximum() > 1e30, (name, algorithm)


def test_the_panel_offers_the_bounds(qgis_app, plugin_module):
    options = plugin_module("ui.run_options").RunOptions(plugin_module("ui.context").PanelContext(None, None))
    for name, spin in PANEL.items():
        widget = getattr(options, spin)
        assert (widget.minimum(), widget.maximum()) == pytest.approx((BOUNDS[name].low, BOUNDS[name].high)), name
