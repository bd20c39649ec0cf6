"""The plugin inside the real QGIS application under Xvfb, where headless tests cannot see native clashes."""

from __future__ import annotations

import pytest

from .conftest import shared_path
from .qgis_app import needs_xvfb, run_in_qgis

ADD_HEIC = '''
def add():
    dock.add_photos(PHOTOS)
    state["items"] = [dock.photo_list.item(i).text() for i in range(dock.photo_list.count())]
    state["icons"] = [not dock.photo_list.item(i).icon().isNull() for i in range(dock.photo_list.count())]
    finish()


QTimer.singleShot(2000, guarded(add))
'''


@pytest.mark.slow
@needs_xvfb
def test_adding_heic_photos_in_the_qgis_application_reads_their_gps_without_crashing(tmp_path):
    heic = shared_path("photos", "exif-samples", "heic")
    photos = [str(heic / "IMG_5195.HEIC"), str(heic / "mobile" / "HMD_Nokia_8.3_5G.heif")]
    state, result = run_in_qgis(tmp_path, f"PHOTOS = {photos!r}\n{ADD_HEIC}")
    assert state["items"] == ["IMG_5195.HEIC  [GPS 39.0513, -94.2888]", "HMD_Nokia_8.3_5G.heif  [GPS 40.7887, -4.0051]"]
    assert all(state["icons"]), "every photo has a thumbnail"
    assert not [e for e in state["errors"] if "python" in e[0].lower()], state["errors"]
