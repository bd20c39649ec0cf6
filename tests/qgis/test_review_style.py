"""The predictions layer's style shows the review on the map, stored with the layer: unreviewed red,
accepted green, rejected grey and faint, a moved photo drawn at its reviewed place with a line from the
prediction (geometry generators on reviewed_lat / reviewed_lon). resources/styles/predictions.qml is
written by scripts/make_styles.py with QGIS 3.22, the oldest QGIS the plugin supports."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsExpression,
    QgsFeature,
    QgsGeometry,
    QgsMapRendererSequentialJob,
    QgsMapSettings,
    QgsPointXY,
    QgsProject,
    QgsRectangle,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor

from ..conftest import REPO_ROOT

STYLE = REPO_ROOT / "resources" / "styles" / "predictions.qml"
# photo -> (predicted lon, lat, review_status, reviewed lon, lat): each far from the others
REVIEWS = {"unreviewed.jpg": (-100.0, 40.0, "unreviewed", None, None),
           "accepted.jpg": (0.0, 45.0, "accepted", 0.0, 45.0),
           "rejected.jpg": (100.0, 40.0, "rejected", None, None),
           "moved.jpg": (-60.0, -20.0, "moved", 30.0, -30.0)}


def reviewed_layer() -> QgsVectorLayer:
    layer = QgsVectorLayer("Point?crs=EPSG:4326&field=photo:string&field=confidence:double"
                           "&field=review_status:string&field=reviewed_lat:double&field=reviewed_lon:double",
                           "predictions", "memory")
    features = []
    for photo, (lon, lat, status, reviewed_lon, reviewed_lat) in REVIEWS.items():
        feature = QgsFeature(layer.fields())
        feature.setAttributes([photo, 0.5, status, reviewed_lat, reviewed_lon])
        feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(lon, lat)))
        features.append(feature)
    layer.dataProvider().addFeatures(features)
    message, loaded = layer.loadNamedStyle(str(STYLE))
    assert loaded, message
    return layer


def test_the_style_is_qgis_3_22s_and_its_expressions_parse():
    text = STYLE.read_text(encoding="utf-8")
    assert re.search(r'version="3\.22\.', text), "written by QGIS 3.22: every later QGIS reads it"
    expressions = [option.get("value") for option in ElementTree.fromstring(text).iter("Option")
                   if option.get("name") in ("expression", "geometryModifier")]
    assert any("reviewed_lat" in e for e in expressions) and any("review_status" in e for e in expressions)
    for expression in expressions:
        parsed = QgsExpression(expression)
        assert not parsed.hasParserError(), (expression, parsed.parserErrorString())


def test_the_map_draws_each_review_state(qgis_app, tmp_path):
    layer = reviewed_layer()
    symbol = layer.renderer().symbol()
    assert symbol.symbolLayer(0).shape() == symbol.symbolLayer(0).Star, "one star, the legend's entry"
    mercator = QgsCoordinateReferenceSystem("EPSG:3857")  # not the layer's: the reviewed place is reprojected
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(mercator)
    settings.setOutputSize(QSize(1000, 700))
    settings.setBackgroundColor(QColor("white"))
    settings.setExtent(QgsRectangle(-15e6, -7e6, 15e6, 8e6))
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    image.save(str(tmp_path / "review-states.png"))
    to_map = QgsCoordinateTransform(QgsCoordinateReferenceSystem("EPSG:4326"), mercator, QgsProject.instance())

    def colour_at(lon: float, lat: float) -> QColor:
        pixel = settings.mapToPixel().transform(to_map.transform(QgsPointXY(lon, lat)))
        return QColor(image.pixel(round(pixel.x()), round(pixel.y())))

    red, green, grey = (colour_at(*REVIEWS[photo][:2]) for photo in ("unreviewed.jpg", "accepted.jpg", "rejected.jpg"))
    assert red.red() > 180 and red.green() < 100, red.name()
    assert green.green() > 120 and green.red() < 80, green.name()
    assert abs(grey.red() - grey.green()) < 12 and abs(grey.green() - grey.blue()) < 12 and 150 < grey.red() < 250, \
        "rejected: grey and faint"
    moved_to = colour_at(*REVIEWS["moved.jpg"][3:])
    assert moved_to.blue() > 150 and moved_to.red() < 100, "the moved photo drawn at its reviewed place"
    predicted = colour_at(*REVIEWS["moved.jpg"][:2])
    assert predicted.red() > 120 and predicted.blue() > predicted.red(), "a faint blue star where it was predicted"
    along = [colour_at(-60.0 + 90.0 * t / 20, -20.0 - 10.0 * t / 20) for t in range(4, 17)]
    assert sum(c.blue() > 150 and c.red() < 120 for c in along) >= 3, "a line from the prediction to the place"
    elsewhere = colour_at(-15.0, 60.0)
    assert elsewhere.name() == "#ffffff"
