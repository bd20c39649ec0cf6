"""A trip's tables after a run with capture times: the anchors (photos whose place
was known: their EXIF GPS; green diamonds, apart from the predictions' red stars) and each stream drawn
as a line through its photos' places in capture-time order, its M values the capture times (UTC seconds
since 1970), so that QGIS's temporal and profile tools can read them."""

from __future__ import annotations

from datetime import datetime

from qgis.core import QgsFeature, QgsGeometry, QgsLineString, QgsLineSymbol, QgsMarkerSymbol, QgsPoint

from .. import layers

ANCHORS = layers.qgs_fields((("photo", str), ("lat", float), ("lon", float), ("capture_time", str), ("stream", int)))
STREAMS = layers.qgs_fields((("stream", int), ("photos", int), ("start_time", str), ("end_time", str)))


def anchor_features(results, known) -> list[QgsFeature]:
    """The photos whose own GPS (`known`: photo -> place) the engine used as known. Photos of a stream
    that it placed at an anchor's place also say "anchor" but are no anchors themselves."""
    features = []
    for result in results:
        if result.evidence != "anchor" or result.photo not in known:
            continue
        feature = QgsFeature(ANCHORS)
        feature.setGeometry(QgsGeometry(QgsPoint(result.lon, result.lat)))
        feature.setAttributes([result.photo, result.lat, result.lon, result.capture_time, result.stream])
        features.append(feature)
    return features


def epoch_seconds(moment: str) -> float:
    return datetime.fromisoformat(moment).timestamp()


def stream_features(results) -> list[QgsFeature]:
    """One line per stream of two or more timed photos, through their places in capture-time order."""
    streams: dict[int, list] = {}
    for result in results:
        if result.stream > 0 and result.capture_time:
            streams.setdefault(result.stream, []).append(result)
    features = []
    for number, members in sorted(streams.items()):
        if len(members) < 2:
            continue
        members.sort(key=lambda r: epoch_seconds(r.capture_time))
        line = QgsLineString([QgsPoint(r.lon, r.lat, m=epoch_seconds(r.capture_time)) for r in members])
        feature = QgsFeature(STREAMS)
        feature.setGeometry(QgsGeometry(line))
        feature.setAttributes([number, len(members), members[0].capture_time, members[-1].capture_time])
        features.append(feature)
    return features


def style(layer, role: str) -> None:
    """The anchors as green diamonds, apart from the predictions' stars; the streams as dashed lines."""
    if role == "anchors":
        layer.renderer().setSymbol(QgsMarkerSymbol.createSimple(
            {"name": "diamond", "color": "51,160,44", "outline_color": "255,255,255", "size": "4.6"}))
    elif role == "streams":
        layer.renderer().setSymbol(QgsLineSymbol.createSimple(
            {"line_color": "106,61,154", "line_width": "0.8", "line_style": "dash"}))
