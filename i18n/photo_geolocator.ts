<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1">
<context>
    <name>PhotoGeolocator</name>
    <message>
        <source>Photo Geolocator</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Show or hide the Photo Geolocator panel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>About / diagnostics…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reference database</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Recent</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Build…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>From a folder of geotagged photos…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>From a CSV (path, lat, lon)…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Add photos…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Train features</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Show coverage</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No reference database is open yet.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Locate photos</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source></source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancelling…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Feature model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Download…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reference packs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Install the starter pack</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Install from file…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Install from URL…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Remove</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No pack installed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Photos to locate</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Add files…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Add folder…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Clear</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Skip photos that already have GPS</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Results</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export run to GeoPackage…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Keep them in a GeoPackage…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Parameters</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Search</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Gallery points (top-k)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Neighbours (k)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Estimator</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Bandwidth</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Uncertainty circles (50% / 90%)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Density raster</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Raster resolution</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Raster extent</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Raster folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Set-up</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Install missing packages</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Use another Python…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Use QGIS's Python</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Copy details</source>
        <translation type="unfinished"></translation>
    </message>
</context>
</TS>
