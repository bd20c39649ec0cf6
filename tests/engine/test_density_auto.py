"""The density resolution "auto" (the default): cells of the bandwidth / 8 rounded down to a 1-2-5 step,
which the rasters' metadata says, drawn bilinear within a small share of the peak of a 0.1 degree density;
a resolution asked is given exactly, and the metadata says that too."""

from __future__ import annotations

import argparse

import numpy as np
import pytest

from geoloc_core import estimators as est
from geoloc_core.cli import density_resolution_option
from geoloc_core.defaults import AUTO_DENSITY_RESOLUTION, DEFAULT_DENSITY_RESOLUTION_DEG
from geoloc_core.locate import DensityOptions

from .test_density_windows import cluster, located

gdal = pytest.importorskip("osgeo.gdal")


@pytest.mark.parametrize("bandwidth_km, cells_deg", [
    (1000.0, 1.0),  # 1000 km / 8 = 1.12 degrees
    (500.0, 0.5),  # 0.56
    (200.0, 0.2),  # 0.22
    (100.0, 0.1),  # 0.112
    (25.0, 0.02),  # 0.028
    (1.0, 0.001),  # 0.00112
    (20_000.0, 10.0),  # 22.5, at most the option's 10 degrees
])
def test_auto_is_the_bandwidth_over_8_rounded_down_to_a_1_2_5_step(bandwidth_km, cells_deg):
    chosen = est.density_resolution(AUTO_DENSITY_RESOLUTION, bandwidth_km)
    assert chosen == cells_deg
    assert est.wraps_evenly(chosen), "whole cells go round the Earth"
    assert "auto" in est.density_resolution_source(AUTO_DENSITY_RESOLUTION, bandwidth_km)


def test_auto_is_the_default_and_an_asked_resolution_is_kept():
    assert DEFAULT_DENSITY_RESOLUTION_DEG == AUTO_DENSITY_RESOLUTION
    assert DensityOptions().resolution_deg == AUTO_DENSITY_RESOLUTION
    assert est.density_resolution(0.3, 1000.0) == 0.3  # not a 1-2-5 step, not the bandwidth / 8: as asked
    assert est.density_resolution_source(0.3, 1000.0) == "as asked: 0.3 degrees"


def test_a_photo_density_at_auto_and_at_an_asked_resolution():
    lat, lon = cluster(20.0, 10.0, 30, 3.0)
    auto = est.photo_density(lat, lon, np.ones(30), 1000.0, AUTO_DENSITY_RESOLUTION)
    asked = est.photo_density(lat, lon, np.ones(30), 1000.0, 0.25)
    assert (auto.resolution, auto.requested_resolution) == (1.0, None)
    assert auto.resolution_source.startswith("auto: the bandwidth (1000 km) / 8")
    assert (asked.resolution, asked.requested_resolution, asked.resolution_source) == (0.25, None,
                                                                                       "as asked: 0.25 degrees")


def _metadata_and_cell(path) -> tuple[dict, float]:
    dataset = gdal.Open(str(path))
    try:
        return dataset.GetMetadata(), dataset.GetGeoTransform()[1]
    finally:
        dataset = None


@pytest.mark.parametrize("asked, cells_deg, source", [
    (AUTO_DENSITY_RESOLUTION, 0.5, "auto: the bandwidth (500 km) / 8"),
    (0.3, 0.3, "as asked: 0.3 degrees"),
])
def test_the_run_raster_says_which_resolution_it_has_and_why(tmp_path, asked, cells_deg, source):
    from geoloc_core.export import write_density_stack

    results = [located("a", *cluster(40.0, 0.0, 12, 2.0), np.ones(12)),
               located("b", *cluster(-10.0, 60.0, 12, 2.0, seed=1), np.ones(12))]
    metadata, cell = _metadata_and_cell(write_density_stack(tmp_path / "run.tif", results, 500.0, asked))
    assert cell == cells_deg
    assert float(metadata["RESOLUTION_DEG"]) == cells_deg == float(metadata["REQUESTED_RESOLUTION_DEG"])
    assert metadata["RESOLUTION_SOURCE"].startswith(source) and "NOTE" not in metadata
    assert all(not r.note for r in results)


def test_a_photo_geotiff_keeps_how_its_resolution_was_chosen(tmp_path):
    from geoloc_core.export import read_density_geotiff, write_density_geotiff

    lat, lon = cluster(-30.0, 150.0, 20, 2.0)
    grid = est.photo_density(lat, lon, np.ones(20), 200.0, AUTO_DENSITY_RESOLUTION)
    path = write_density_geotiff(tmp_path / "a.tif", grid)
    metadata, cell = _metadata_and_cell(path)
    assert cell == 0.2 and metadata["RESOLUTION_SOURCE"] == grid.resolution_source
    assert read_density_geotiff(path).resolution_source == grid.resolution_source


def test_auto_drawn_bilinear_stays_close_to_the_density_at_a_tenth_of_a_degree():
    from scipy.interpolate import RegularGridInterpolator

    lat, lon = cluster(20.0, 10.0, 40, 4.0)
    weights = est.similarity_weights(np.linspace(0.8, 0.6, 40), 0.05)
    fine = est.photo_density(lat, lon, weights, 1000.0, 0.1)
    coarse = est.photo_density(lat, lon, weights, 1000.0, AUTO_DENSITY_RESOLUTION)

    def centres(grid):
        rows, cols = grid.values.shape
        return (grid.north - (np.arange(rows) + 0.5) * grid.resolution,
                grid.west + (np.arange(cols) + 0.5) * grid.resolution)

    coarse_lat, coarse_lon = centres(coarse)
    fine_lat, fine_lon = centres(fine)
    bilinear = RegularGridInterpolator((coarse_lat[::-1], coarse_lon), coarse.values[::-1].astype(np.float64))
    at = np.stack(np.meshgrid(np.clip(fine_lat, coarse_lat[-1], coarse_lat[0]),
                              np.clip(fine_lon, coarse_lon[0], coarse_lon[-1]), indexing="ij"), axis=-1)
    peak = float(fine.values.max())
    # a kernel's curvature over an eighth of its width: about 1/512 of the peak, the values' own rounding
    assert np.abs(bilinear(at) - fine.values).max() <= 0.01 * peak
    assert coarse.values.size * 50 < fine.values.size, "100 times fewer cells, less the window's edges"


@pytest.mark.parametrize("text, value", [("auto", AUTO_DENSITY_RESOLUTION), ("AUTO", AUTO_DENSITY_RESOLUTION),
                                         ("0.25", 0.25)])
def test_the_command_line_takes_auto_or_degrees(text, value):
    assert density_resolution_option(text) == value


@pytest.mark.parametrize("text, says", [("0", "more than 0 degrees, or auto"), ("-1", "more than 0 degrees"),
                                        ("fine", "not a number of degrees nor auto"), ("11", "at most 10")])
def test_the_command_line_refuses_other_resolutions(text, says):
    with pytest.raises(argparse.ArgumentTypeError, match=says):
        density_resolution_option(text)
