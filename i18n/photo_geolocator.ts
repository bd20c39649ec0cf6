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
        <source>Another step is still running; wait for it or cancel it first.</source>
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
        <source>Open a reference database (a .geoloc folder)</source>
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
        <source>Create a database from your geotagged photos (a folder with EXIF GPS, or a CSV)</source>
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
        <source>Add more geotagged photos to the open database (new photos only)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Train features</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Learn geolocation features on this database (a geocell classifier on the stored embeddings; minutes on a CPU for a few thousand photos). Enables the cells and hybrid estimators</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Show coverage</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Add the reference photos as a point layer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open a reference database (.geoloc folder)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Opening the reference database</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>New reference database</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reference database (*.geoloc)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Folder of geotagged photos to add</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Building the reference database</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Training geolocation features</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No reference database is open yet.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Folder of geotagged photos</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CSV with path, lat, lon</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CSV (*.csv)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancelled; the photos embedded so far are kept.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&lt;b&gt;{}&lt;/b&gt;: {} photos&lt;br&gt;&lt;small&gt;{}&lt;/small&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{}
Engine: {}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Training cancelled; the database is unchanged.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reading the locations of {}'s photos</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>References of {}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No recent database</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Building the database failed: {}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{}: {}. The database is empty: no photo with a usable EXIF GPS location was found.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Training failed: {}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Showing the coverage failed: {}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>. Unreadable: {}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{}: {}. Locating now uses them.</source>
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
        <source>Cancelling…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The photos added last are still being read; locate them in a moment.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Add photos to locate first.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancelled; no layer was added.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No photo could be located.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open or build a reference database, or tick a reference pack, first.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Locating {} photos</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Locating failed: {}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Skipped {}: {}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Worldwide: {}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Feature model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>EfficientNet-Lite0 (bundled, works offline)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The network new reference databases are built with; a database is always searched with the one it was built with</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Download…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Fetch the model's files (size shown first; an interrupted download resumes)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Bundled with the plugin.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Download a feature model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Asking the model hub about {}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancelled.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Download {} (revision {}): {} files, {:,.0f} MB, into {}?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Downloading {}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Download cancelled; what came is kept and the next download resumes.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{} (download ~{:.1f} GB)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Downloaded: {}@{} in {}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Downloaded {}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The world starter pack is tiny (315 Creative Commons photos): left out one at a time, its own photos are placed within 200 km 17% of the time and within 2,500 km 48%; of 47 phone and camera photos from elsewhere, 2% within 200 km and 28% within 2,500 km (median error 6,500 km). Read its answers as a rough hint; for real work, build a database of photos of your area and search it with the pack.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reference packs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ticked packs are searched together with the open database (or alone when none is open); their neighbours are merged by similarity</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Install the starter pack</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A small worldwide pack shipped with the plugin, to try it without photos of your own</source>
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
        <source>Uninstall the selected pack</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Install a reference pack</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Address of the pack (https://…); an interrupted download resumes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Remove reference pack</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Select a pack to remove first.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reference packs (*{})</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Installing reference pack {}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Pack installation cancelled; nothing was installed (a download resumes next time).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Uninstall the pack {}?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{} ({} photos)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{}
Licences: {}
Credits: {}
Embedder: {}
{}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No pack installed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{}: give an https:// address</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Installed {} ({} photos)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Photos to locate</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Drop photos or folders here. Photos that already carry EXIF GPS are marked.</source>
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
        <source>Leave them out; keep them to check the engine against their known location</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Folder of photos to locate</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Photos ({})</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>skipped {}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{}  [GPS {:.4f}, {:.4f}]</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{}
Already carries EXIF GPS: {:.6f}, {:.6f}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> (and {} more)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Photo</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Lat</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Lon</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Confidence</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>50% (km)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>90% (km)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Best match similarity</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Error vs EXIF GPS (km)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cosine similarity (0 to 1) between the photo and its most similar reference photo: an embedding likeness, not a distance on the ground</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>For photos that carry EXIF GPS: the distance from the prediction to it</source>
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
        <source>Export run to GeoPackage</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>GeoPackage (*.gpkg)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>this photo: {}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> Density raster: {}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Located {} photos ({} skipped).{} The layers are temporary:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Exported {} layers to {}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Replace file?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export failed: {}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{} exists. Replace it?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>needs a reference database built with GeoCLIP (Feature model: GeoCLIP image encoder); without one, choose Search: Worldwide</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Parameters</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The reference database and ticked packs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Worldwide: GeoCLIP's GPS gallery (no database)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Worldwide needs no reference database: GeoCLIP (downloaded under Feature model) scores each photo against 100,000 places of its GPS gallery</source>
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
        <source>How many of the gallery's most probable places are kept per photo (shown as its neighbours and measured for its uncertainty)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>How many of the most similar reference photos vote on the location</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Neighbours (k)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>cascade: continent, region, then the best-supported neighbour</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>sphere: kernel density on the sphere</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>paper: the IM2GPS authors' grid procedure</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>cells: most probable geocell (trained features)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>hybrid: density × geocell probabilities (trained features)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>geoclip: density × GeoCLIP's GPS gallery (GeoCLIP database)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>cascade (ahead of paper from 25 km up on the benchmark) narrows the density from continent to region and snaps to the neighbour with the most support; sphere finds the density's peak exactly, also across the date line and near the poles; paper reproduces the original method</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Estimator</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> km</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Size of each neighbour's kernel on the ground: small for a dense local collection (one site), large for a sparse worldwide one</source>
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
        <source>Write the kernel density as a GeoTIFF per photo (probability per km²)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cell size of the density raster in degrees (0.1° ≈ 11 km)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Raster resolution</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Around each prediction</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Whole world</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Raster extent</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Where density rasters are kept (the project folder by default)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Raster folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&lt;small&gt;Worldwide: {}&lt;/small&gt;</source>
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
        <source>Install them with pip into a private folder of your QGIS profile (CPU-only PyTorch); QGIS's own Python packages are not touched</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Use another Python…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Run the engine in a Python environment (venv, conda) that already has its packages; QGIS then also survives crashes in the engine</source>
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
    <message>
        <source>Copy the list of required packages and their versions, for bug reports</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Python interpreter with the engine's packages</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Checking the Python interpreter</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Installing {} into {}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Installation cancelled.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The engine now runs in {}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The engine runs in {}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Installed {}. If a package was already loaded, restart QGIS.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&lt;b&gt;The engine cannot run yet:&lt;/b&gt; QGIS's Python lacks {}. Install them here (a few hundred MB, into your QGIS profile), or point to a Python that has them.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Installing failed: {} (see the log in the panel)</source>
        <translation type="unfinished"></translation>
    </message>
</context>
</TS>
