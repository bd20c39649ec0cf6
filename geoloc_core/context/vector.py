"""The analyst's vector files (areas, tracks) read with OGR: opened with one line naming the file where
OGR cannot read it, and each layer's geometries taken to WGS84 longitude/latitude."""

from __future__ import annotations

from pathlib import Path


def open_vector(path: Path, error: type[Exception], what: str):
    """The OGR dataset at `path`; `error` ("{path}: not {what} OGR can read") where it cannot be opened.
    OGR's exception mode is turned on for the open only, as the caller found it otherwise."""
    from osgeo import ogr

    use_exceptions = ogr.GetUseExceptions()
    ogr.UseExceptions()
    try:
        dataset = ogr.Open(str(path))
    except RuntimeError as exc:
        raise error(f"{path}: not {what} OGR can read ({str(exc).splitlines()[0][:120]})") from None
    finally:
        if not use_exceptions:
            ogr.DontUseExceptions()
    if dataset is None:
        raise error(f"{path}: not {what} OGR can read")
    return dataset


def features_in_wgs84(layer):
    """(feature, geometry) of each of the layer's features that has a geometry, the geometry in WGS84
    longitude/latitude (a transformed copy where the layer is in another CRS)."""
    transform = to_wgs84(layer)
    for feature in layer:
        geometry = feature.GetGeometryRef()
        if geometry is None:
            continue
        if transform is not None:
            geometry = geometry.Clone()
            geometry.Transform(transform)
        yield feature, geometry


def to_wgs84(layer):
    """The transformation of the layer's geometries to WGS84 in longitude/latitude order; None where they
    are in it already or the layer declares no CRS."""
    from osgeo import osr

    wgs84 = osr.SpatialReference()
    wgs84.ImportFromEPSG(4326)
    wgs84.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    source = layer.GetSpatialRef()
    if source is None or source.IsSame(wgs84):
        return None
    source.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return osr.CoordinateTransformation(source, wgs84)
