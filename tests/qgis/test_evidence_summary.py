"""The evidence view says how each answer was reached: a place known from GPS or a track is not called a
prediction, shows no other likely places, and its small radii read in metres."""

from __future__ import annotations


def result_with(plugin_module, evidence: str, radius_km: float):
    results_module = plugin_module("geoloc_core.results")
    alternatives = [results_module.Alternative(1, 48.85, 2.35, 0.0, 0.0),
                    results_module.Alternative(2, 40.0, -3.7, 0.97, 1050.0)]
    return results_module.LocationResult("/trip/b.jpg", 48.85, 2.35, 1.0, radius_km, radius_km, "cascade", 0, [],
                                         evidence=evidence, alternatives=alternatives)


def test_a_place_from_the_track_reads_as_such_in_metres_without_alternatives(qgis_app, plugin_module):
    view = plugin_module("ui.evidence_view").EvidenceView()
    view.show_result(result_with(plugin_module, "track", 0.04))
    summary = view.summary.text()
    assert "Placed by the GPS track at" in summary and "Predicted" not in summary
    assert "50% within 40 m, 90% within 40 m" in summary
    assert not view.alternative_buttons and view.alternatives_title.isHidden(), "a known place has no second guess"
    view.reader.shutdown()


def test_a_prediction_from_the_pixels_keeps_its_alternatives_and_km(qgis_app, plugin_module):
    view = plugin_module("ui.evidence_view").EvidenceView()
    view.show_result(result_with(plugin_module, "pixels", 1430.0))
    summary = view.summary.text()
    assert "Predicted 48.8500°" in summary and "50% within 1430 km" in summary
    assert len(view.alternative_buttons) == 2 and not view.alternatives_title.isHidden()
    assert plugin_module("ui.evidence_view").distance_text(2.46) == "2.5 km"
    view.reader.shutdown()
