"""Regenerate the QML styles in resources/styles/ with QGIS itself (so they are valid QML for the
QGIS version that wrote them; 3.22 QML loads in every later QGIS). Run: .venv/bin/python scripts/make_styles.py"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_HASH_SEED", "0")  # the same attribute order on every run: diffs show real changes
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT.parent))

from qgis.core import (  # noqa: E402
    QgsApplication,
    QgsCategorizedSymbolRenderer,
    QgsEditorWidgetSetup,
    QgsFillSymbol,
    QgsGeometryGeneratorSymbolLayer,
    QgsLineSymbol,
    QgsMarkerSymbol,
    QgsProperty,
    QgsRendererCategory,
    QgsSymbolLayer,
    QgsVectorLayer,
)

sys.path.insert(0, str(ROOT))
from geoloc_core.schema import FIELD_HELP  # noqa: E402

# A path is text from the file system: escaped, so that a name holding < > & " cannot end the tag or
# the attribute it is shown in (nested replace: QGIS 3.22's replace() with a map has no fixed order).
ESCAPED = """[% replace(replace(replace(replace("{field}", '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;') %]"""
PHOTO_TIP = ('<div style="max-width:340px"><b>' + ESCAPED.replace("{field}", "{name}") + '</b><br>'
             '<img src="file:///' + ESCAPED.replace("{field}", "{path}") + '" width="320"><br>{extra}</div>')


def described(layer: QgsVectorLayer) -> QgsVectorLayer:
    """Each field's alias with its unit (schema.FIELD_HELP): a style's aliases replace the layer's own."""
    for index, name in enumerate(layer.fields().names()):
        layer.setFieldAlias(index, FIELD_HELP[name][0])
    return layer


def photo_widget(layer: QgsVectorLayer, field: str) -> None:
    """Show the photo itself in the attribute form, as ImportPhotos users expect."""
    index = layer.fields().indexOf(field)
    layer.setEditorWidgetSetup(index, QgsEditorWidgetSetup("ExternalResource", {
        "DocumentViewer": 1, "DocumentViewerHeight": 320, "DocumentViewerWidth": 320, "FileWidget": True,
        "FileWidgetButton": True, "RelativeStorage": 0, "StorageMode": 0, "UseLink": True, "FullUrl": True}))


# The review on the map (review_status, reviewed_lat, reviewed_lon of schema.PREDICTION_FIELDS): the
# predicted star red while unreviewed, green once accepted, grey and faint once rejected; a moved photo
# keeps a faint star at the prediction, a thin line from it to the reviewed place and a blue star there.
# One symbol with data-defined colours and geometry generators (QGIS 3.22 has both), so the layer keeps
# one star as its first symbol layer and its legend entry.
REVIEW_COLOURS = {"accepted": "26,150,65,255", "moved": "44,123,182,80", "rejected": "150,150,150,110"}
UNREVIEWED_COLOUR = "215,48,31,255"
MOVED_COLOUR = "#2c7bb6"
MOVED = "\"review_status\" = 'moved' AND \"reviewed_lat\" IS NOT NULL AND \"reviewed_lon\" IS NOT NULL"
REVIEWED_PLACE = 'make_point("reviewed_lon", "reviewed_lat")'


def review_colour(colours: dict, otherwise: str) -> QgsProperty:
    """A colour by review status (QGIS 3.22's CASE has no `CASE value WHEN` form: each WHEN tests)."""
    cases = " ".join(f"WHEN \"review_status\" = '{status}' THEN '{colour}'" for status, colour in colours.items())
    return QgsProperty.fromExpression(f"CASE {cases} ELSE '{otherwise}' END")


def generated(geometry: str, symbol) -> QgsGeometryGeneratorSymbolLayer:
    """A symbol layer drawn at a geometry computed from the feature (in the layer's CRS, map units)."""
    layer = QgsGeometryGeneratorSymbolLayer.create({"geometryModifier": f"CASE WHEN {MOVED} THEN {geometry} END",
                                                    "SymbolType": "Line" if isinstance(symbol, QgsLineSymbol)
                                                    else "Marker"})
    layer.setSubSymbol(symbol)
    return layer


def predictions(path: Path) -> None:
    layer = QgsVectorLayer("Point?crs=EPSG:4326&field=photo:string&field=file_name:string&field=confidence:double"
                           "&field=radius50_km:double&field=radius90_km:double&field=lat:double&field=lon:double"
                           "&field=review_status:string&field=reviewed_lat:double&field=reviewed_lon:double"
                           "&field=review_note:string", "predictions", "memory")
    symbol = QgsMarkerSymbol.createSimple({"name": "star", "color": "#d7301f", "outline_color": "#ffffff",
                                           "outline_width": "0.4", "size": "5"})
    star = symbol.symbolLayer(0)
    star.setDataDefinedProperty(QgsSymbolLayer.Property.PropertySize,
                                QgsProperty.fromExpression('scale_linear(coalesce("confidence", 0), 0, 1, 4, 9)'))
    star.setDataDefinedProperty(QgsSymbolLayer.Property.PropertyFillColor,
                                review_colour(REVIEW_COLOURS, UNREVIEWED_COLOUR))
    star.setDataDefinedProperty(QgsSymbolLayer.Property.PropertyStrokeColor,
                                review_colour({"moved": "44,123,182,255", "rejected": "150,150,150,160"},
                                              "255,255,255,255"))
    symbol.appendSymbolLayer(generated(f"make_line($geometry, {REVIEWED_PLACE})", QgsLineSymbol.createSimple(
        {"line_color": MOVED_COLOUR, "line_width": "0.4", "line_style": "dash", "trim_distance_start": "2",
         "trim_distance_end": "2"})))  # mm: the line stops short of both stars
    symbol.appendSymbolLayer(generated(REVIEWED_PLACE, QgsMarkerSymbol.createSimple(
        {"name": "star", "color": MOVED_COLOUR, "outline_color": "#ffffff", "outline_width": "0.4", "size": "6"})))
    layer.renderer().setSymbol(symbol)
    extra = ('[% format_number("lat", 5) %], [% format_number("lon", 5) %]<br>'
             'confidence [% format_number("confidence", 2) %]; 50% within [% format_number("radius50_km", 0) %] km,'
             ' 90% within [% format_number("radius90_km", 0) %] km<br>'
             'review: [% coalesce("review_status", \'unreviewed\') %]'
             '[% CASE WHEN "reviewed_lat" IS NOT NULL THEN \' at \' || format_number("reviewed_lat", 5) || \', \' || '
             'format_number("reviewed_lon", 5) END %]')
    layer.setMapTipTemplate(PHOTO_TIP.format(name="file_name", path="photo", extra=extra))
    layer.setDisplayExpression('"file_name"')
    photo_widget(layer, "photo")
    described(layer).saveNamedStyle(str(path))


def neighbours(path: Path) -> None:
    layer = QgsVectorLayer("Point?crs=EPSG:4326&field=photo:string&field=rank:integer&field=weight:double"
                           "&field=similarity:double&field=reference_path:string", "neighbours", "memory")
    symbol = QgsMarkerSymbol.createSimple({"name": "circle", "color": "#2b8cbe", "outline_color": "#ffffff",
                                           "outline_width": "0.2", "size": "2"})
    symbol.symbolLayer(0).setDataDefinedProperty(
        QgsSymbolLayer.Property.PropertySize,
        QgsProperty.fromExpression('scale_linear(coalesce("weight", 0), 0, 0.1, 1.5, 5)'))
    symbol.symbolLayer(0).setDataDefinedProperty(
        QgsSymbolLayer.Property.PropertyFillColor,
        QgsProperty.fromExpression('ramp_color(\'Blues\', scale_linear("rank", 1, 100, 1, 0.35))'))
    layer.renderer().setSymbol(symbol)
    extra = 'rank [% "rank" %], similarity [% format_number("similarity", 3) %], weight [% format_number("weight", 3) %]'
    layer.setMapTipTemplate(PHOTO_TIP.format(name="reference_path", path="reference_path", extra=extra))
    layer.setDisplayExpression('"reference_path"')
    photo_widget(layer, "reference_path")
    described(layer).saveNamedStyle(str(path))


def references(path: Path) -> None:
    """The coverage layer: a reference database's photos (REFERENCE_FIELDS), the photo in the map tip."""
    layer = QgsVectorLayer("Point?crs=EPSG:4326&field=record_id:integer&field=path:string&field=lat:double"
                           "&field=lon:double&field=time:string&field=width:integer&field=height:integer",
                           "references", "memory")
    layer.renderer().setSymbol(QgsMarkerSymbol.createSimple({"name": "circle", "color": "#41ab5d",
                                                             "outline_color": "#ffffff", "outline_width": "0.2",
                                                             "size": "1.8"}))
    extra = '[% format_number("lat", 5) %], [% format_number("lon", 5) %]'
    layer.setMapTipTemplate(PHOTO_TIP.format(name="path", path="path", extra=extra))
    layer.setDisplayExpression('"path"')
    photo_widget(layer, "path")
    described(layer).saveNamedStyle(str(path))


def uncertainty(path: Path) -> None:
    layer = QgsVectorLayer("MultiPolygon?crs=EPSG:4326&field=photo:string&field=level:integer&field=radius_km:double",
                           "uncertainty", "memory")
    inner = QgsFillSymbol.createSimple({"color": "215,48,31,40", "outline_color": "#d7301f", "outline_width": "0.5"})
    outer = QgsFillSymbol.createSimple({"color": "0,0,0,0", "outline_color": "#fc8d59", "outline_width": "0.4",
                                        "outline_style": "dash"})
    layer.setRenderer(QgsCategorizedSymbolRenderer("level", [
        QgsRendererCategory(50, inner, "50% of the density"), QgsRendererCategory(90, outer, "90% of the density")]))
    described(layer).saveNamedStyle(str(path))


if __name__ == "__main__":
    app = QgsApplication([], False)
    app.initQgis()
    out = ROOT / "resources" / "styles"
    out.mkdir(parents=True, exist_ok=True)
    predictions(out / "predictions.qml")
    neighbours(out / "neighbours.qml")
    uncertainty(out / "uncertainty.qml")
    references(out / "references.qml")
    print("wrote", ", ".join(sorted(p.name for p in out.glob("*.qml"))))
    app.exitQgis()
