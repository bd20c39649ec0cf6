<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1">
<context>
    <name>PhotoGeolocator</name>
    <message>
        <source>&amp;Photo Geolocator</source>
        <translation type="unfinished"></translation>
    </message>
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
        <source>Photo geolocation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Folder of geotagged photos (EXIF GPS) (searched recursively)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Folder of photos (searched recursively)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>no photos: give a folder, files or a layer with a path field</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>give a reference database, a pack file or an installed pack's name</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>give an area layer or a country, not both</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Layer with a photo path field</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Photo path field</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>choose the field of the layer that holds the photo paths</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>give a folder, a CSV or a layer of reference photos</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reference database (a .geoloc folder, a .geolocpack file or an installed pack's name)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A reference database folder (type its path, or pick the manifest.json inside it), a .geolocpack file (installed into your profile on first use) or the name of an installed pack.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reference database (a .geoloc folder)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Weights file the database was built with (not needed for the bundled backbone)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Area of interest (polygons): search only references inside</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Or a country as the area (name or ISO code, e.g. France or FR)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>GPS track (a GPX file, points with a time field, or lines with times as M values)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Camera clock ahead of the true time (+HH:MM:SS or seconds; empty: estimated)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Camera time zone where its times carry none (e.g. +02:00; empty: UTC)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Locate photos taken close in time together (photos with EXIF GPS anchor them)</source>
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
        <source>Kernel bandwidth (km)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Similarity temperature</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Network architecture</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Weights file (state dict) for the architecture</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Pooling</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reference database folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reference photos</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>cancelled; the photos embedded so far are kept, run again to resume</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Density raster resolution (degrees; 0: auto, the bandwidth / 8)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Predicted locations</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Neighbours</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Uncertainty circles</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Density</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Per-photo errors</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Name of the trained view</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Most photos per cell</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Fewest photos per cell</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Size of the learned features</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Most training epochs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Label smoothing distance (km, 0: none)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Also fine-tune the backbone end to end on the photos (slow without a GPU)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>End-to-end epochs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Geocells</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Gallery points kept per photo</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Download the geoclip model first if it is missing (needs internet)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Gallery points</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>cancelled; nothing was added to the outputs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CSV with path,lat,lon columns</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Photo files</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reference packs (*.geolocpack);;Database folders (manifest.json);;All files (*)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Also search these databases, pack files or installed packs (separated by ;)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{}: the area is a layer of {}; an area is a polygon layer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{}: {} features handed to the engine in WGS 84</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{}: {}; {} photos in the database</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>located {} photos, {} skipped</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>skipped {}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>no photo with a usable location among the inputs ({} skipped); reference photos need EXIF GPS or coordinates</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>no photo could be located: {}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{}: cannot write a copy in WGS 84 ({})</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{}: the features could not be written ({})</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>no reason given</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Download the model first if it is missing ({}; needs internet)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>unreadable, skipped: {}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>fine-tuning end to end on {}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{}: the feature has no usable point; skipped</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>downloading {}@{}: {} files, {:,.1f} MB into {}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{} ({} photos)…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{}: file not found; skipped</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Build reference database</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Add photos to reference database</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&lt;p&gt;Adds geotagged photos to an existing reference database. Photos already in it (same file content) are skipped, so re-running over a grown folder only embeds the new photos.&lt;/p&gt;&lt;p&gt;Reference photos come from a &lt;b&gt;folder&lt;/b&gt; of photos with EXIF GPS (searched recursively), a &lt;b&gt;CSV&lt;/b&gt; with &lt;code&gt;path,lat,lon&lt;/code&gt; columns (relative paths resolve against the CSV's folder; other columns are kept as attributes), or a &lt;b&gt;point layer&lt;/b&gt; with a photo path field (its points give the locations, reprojected to WGS 84). Photos without a usable location are reported in the log and skipped.&lt;/p&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Geolocate photos</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Evaluate geolocation accuracy</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&lt;p&gt;Locates photos whose coordinates are known and compares: a per-photo error table and the share of photos within 1, 25, 200, 750 and 2500 km (street, city, region, country, continent), the median error and the mean GeoGuessr score (5000·exp(−d/1492.7 km)). A photo that is itself in the database is located without its own record (leave-one-out).&lt;/p&gt;&lt;p&gt;Reference photos come from a &lt;b&gt;folder&lt;/b&gt; of photos with EXIF GPS (searched recursively), a &lt;b&gt;CSV&lt;/b&gt; with &lt;code&gt;path,lat,lon&lt;/code&gt; columns (relative paths resolve against the CSV's folder; other columns are kept as attributes), or a &lt;b&gt;point layer&lt;/b&gt; with a photo path field (its points give the locations, reprojected to WGS 84). Photos without a usable location are reported in the log and skipped.&lt;/p&gt;&lt;p&gt;&lt;b&gt;What you know&lt;/b&gt; (all optional): an &lt;b&gt;area&lt;/b&gt; (a polygon layer or a country) restricts the search to references inside it, and the answers stay inside; a &lt;b&gt;GPS track&lt;/b&gt; (a GPX file, a point layer with a time field, or a line layer whose M values are times in seconds since 1970 UTC; any CRS) decides a photo's place where it has fixes around the photo's capture time; the &lt;b&gt;time offset&lt;/b&gt; is how far the camera clock ran ahead of the true time (empty: estimated from photos that carry GPS time); &lt;b&gt;streams&lt;/b&gt;: photos taken close in time are located together, and photos of the batch with EXIF GPS anchor them. Each answer's &lt;code&gt;evidence&lt;/code&gt; says what decided it (track, anchor, stream, pixels or area).&lt;/p&gt;&lt;p&gt;A CSV may carry the columns &lt;code&gt;time&lt;/code&gt; (ISO 8601), &lt;code&gt;anchor&lt;/code&gt; (1: the row's coordinates are known to the engine and the row is not scored) and &lt;code&gt;area&lt;/code&gt;.&lt;/p&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Train geolocation features</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&lt;p&gt;Learns geolocation features on a reference database, as the IM2GPS revisit paper found best: the photos' locations are split into adaptive geographic cells (small where photos are dense, large where sparse) and a small network on the stored embeddings learns to tell the cells apart. Its hidden layer becomes the features that &lt;i&gt;Geolocate photos&lt;/i&gt; then searches; its cell probabilities serve the &lt;i&gt;cells&lt;/i&gt; and &lt;i&gt;hybrid&lt;/i&gt; estimators. No photo is decoded again: on a CPU a few thousand photos train in minutes.&lt;/p&gt;&lt;p&gt;&lt;b&gt;Most / fewest photos per cell&lt;/b&gt;: a cell holding more is split; one holding fewer is dropped. &lt;b&gt;Label smoothing&lt;/b&gt; (km): neighbouring cells share probability by their distance (0: none). Training stops early when a held-out set of photos (whole photographers and places, never near-duplicates of the training photos) stops improving.&lt;/p&gt;&lt;p&gt;&lt;b&gt;Fine-tune end to end&lt;/b&gt;: also adapt the network itself on the photos (decoded again, with random crops, flips and colour changes), on the GPU when there is one. Expect hours on a CPU for thousands of photos.&lt;/p&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Geolocate photos worldwide (GeoCLIP, no database)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&lt;p&gt;Predicts where photos were taken with no reference database: GeoCLIP (Vivanco Cepeda et al. 2023) scores each photo against the 100,000 coordinates of its GPS gallery, and the most probable one is the prediction; the &lt;b&gt;top-k&lt;/b&gt; gallery points are written as neighbours, weighted by their probability. The confidence is the gallery's own share within 750 km, not calibrated.&lt;/p&gt;&lt;p&gt;Needs the &lt;code&gt;geoclip&lt;/code&gt; model (CLIP ViT-L/14, ~1.7 GB, in the profile's photo_geolocator/models; tick &lt;b&gt;Download&lt;/b&gt; to fetch it first) and the packages of requirements-clip.txt. With a reference database built with &lt;code&gt;geoclip&lt;/code&gt;, &lt;i&gt;Geolocate photos&lt;/i&gt; with the &lt;i&gt;geoclip&lt;/i&gt; estimator combines the gallery with your references.&lt;/p&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Photo Geolocator: locate photos by image retrieval</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Photo Geolocator (missing Python packages: {})</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Another step is still running; wait for it or cancel it first.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Area and trip</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Where the photos are known to come from</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Area</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Area layer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Country</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Use the area</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Restrict searches only the references inside the area and keeps the answers inside; prior prefers them but lets strong evidence outside win</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Use capture times (streams)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Photos taken close together in time form a stream, located jointly: photos of the batch with GPS (and the track) place the others of their stream</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>+00:00:00</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>How far the camera's clock ran ahead of the true time (UTC): seconds (330) or hours:minutes[:seconds] (-02:00 for a camera set to UTC+2)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Camera clock offset</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A GPS track recorded during the trip: where it speaks, it places the photo</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Track</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Track layer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Points with a time field, or a line whose M values are UTC seconds since 1970</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Time field</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Date and time of each point (UTC where it carries no zone)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Track file</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Area: choose a polygon layer of the project</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Track: choose a point or line layer of the project</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>None: search everywhere</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A polygon layer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The layer's selected features</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The map extent</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A country</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Restrict: only references inside</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Prior: prefer references inside</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>None</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A layer of the project</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A file</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Track: choose a track file (GPX, GeoPackage or CSV)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Area: could not write layer '{}' for the run: {}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Camera clock offset: {}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Area: no feature of layer '{}' is selected</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Track: layer '{}' needs a time field; choose it under Time field</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Track: layer '{}' is a line without M values; give its times as M values (UTC seconds) or use a point layer with a time field</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{}: cannot write the area or track for the run ({})</source>
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
        <source>1 photo</source>
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
        <source>Remove the missing databases from this list</source>
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
        <source>{} photos</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&lt;b&gt;{}&lt;/b&gt;: {}&lt;br&gt;&lt;small&gt;{}&lt;/small&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The reference database &lt;b&gt;{}&lt;/b&gt; is gone: its folder was deleted or moved. Open or build another.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The reference database {} is gone: {} was deleted or moved.</source>
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
        <source>{}
Engine: {}</source>
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
        <source>{} (missing)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Photo Geolocator: about and diagnostics</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Copy details</source>
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
        <source>Locating 1 photo</source>
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
        <source>The run's project could not be stored in {}: {}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Predicted</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>#{}  sim {:.2f}
{:.0f} km away
{}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>#{}  {:.0%}  {:.0f} km away  ({})</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Best matches (click one to pan the map to it):</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Other likely places (click one to take it as the location):</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Select a result to see why it was placed there.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>#1  {:.0%}  the prediction  ({})</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Placed at a GPS photo's place</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Placed by the GPS track at</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Placed by its stream at</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Predicted inside the area at</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{:.0f} m</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{:.1f} km</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{:.0f} km</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{}
{} {}; confidence {:.2f}; 50% within {}, 90% within {}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Installing Photo Geolocator's packages</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Feature model</source>
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
        <source>Downloaded: {}@{} in {}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{} (download ~{:.1f} GB)</source>
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
        <source>{} (1 photo)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{} ({} photos)</source>
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
        <source>No pack installed</source>
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
        <source>{}  [GPS {:.4f}, {:.4f}]</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> (and {} more)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{}
Already carries EXIF GPS: {:.6f}, {:.6f}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Predictions</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Uncertainty</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Alternatives</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Known locations (GPS)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Error lines</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Anchors</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Streams</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{} photo with EXIF GPS: error {:.0f} km; within {} km: {}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{} photos with EXIF GPS: median error {:.0f} km; within {} km: {}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{} accepted</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{} moved</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{} rejected</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{} of {} reviewed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Run {} · {}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Photo Geolocator run {} ({})</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>All photos; each photo's own density is a table density_&lt;photo&gt; in {}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Not reviewed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Accepted</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Moved</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Rejected</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Photo</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Lat (°)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Lon (°)</source>
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
        <source>Evidence</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Capture time (UTC)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stream</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Review</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Calibrated probability (0 to 1) that the photo lies within 750 km of the prediction</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Radius in km of the circle around the prediction that holds half of the density</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Radius in km of the circle around the prediction that holds 90% of the density</source>
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
        <source>What decided the place: the track, an anchor (the photo's own GPS or the stream's), the stream of photos taken together, the pixels alone, or the pixels searched inside the area</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The photo's stream: photos taken close together in time, numbered in time order (empty: none)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Your review of the photo: not reviewed, accepted, moved or rejected (sorted: the photos not reviewed first)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Results</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Save a copy of the run…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Keep them in a GeoPackage…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Save the run as a GeoPackage</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>GeoPackage (*.gpkg)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>track</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>anchor</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>stream</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>pixels</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>area</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Results in a temporary GeoPackage, removed after QGIS closes: keep it with the button below.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Keep the run in a GeoPackage…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The results are in a temporary GeoPackage:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Located {} photo ({} skipped).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Located {} photos ({} skipped).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Saved {} tables to {}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Results in {}</source>
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
        <source>Not reviewed yet</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Accept (A)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The predicted location is right</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Move (M)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Drag the pin on the map to where the photo was taken; Escape cancels</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reject (R)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The predicted location is wrong</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reset (U)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Back to not reviewed: the decision and the reviewed location are cleared; the note stays</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>◀ Previous (P)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Next (N) ▶</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Snap to a nearby reference photo</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Note about this photo (Enter saves it)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Drag the pin to where the photo was taken (Escape cancels).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Moved to {}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>While moving the pin: snap it to a reference photo's place within {} pixels of where it is dropped</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{}  ·  {} of {} photos reviewed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Write GPS to photos…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Write the accepted and moved locations into the photos' EXIF GPS (an XMP sidecar for HEIC and formats that cannot hold it), keeping each original as &lt;name&gt;_original. What would change is listed first.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Undo GPS write…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Put back the photos the GPS write changed, from the originals it kept, and remove the sidecars it made. What would be restored is listed first.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Add reviewed photos to database…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Add the accepted and moved photos to the open reference database at their reviewed location, marked as analyst-reviewed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No photo is accepted or moved yet: review some first.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Save the reviewed run as a GeoPackage</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Checking what would be written into the photos</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Write GPS to photos</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Writing GPS failed: {}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Checking what undoing the GPS write would restore</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Undoing the GPS write</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Undo GPS write</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Undoing the GPS write failed: {}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The run is kept in no GeoPackage, so no GPS was written from it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open the reference database to add the reviewed photos to first.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Writing GPS into {} photos</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{}.
Write it now? Each original is kept as &lt;name&gt;_original.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{}.
Restore them now? Each photo gets its kept original back, and the sidecars the write made are removed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Adding {} reviewed photos to {}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Save or discard your edits of {} first: the photos get what is saved.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>cancelled</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No photo can be written: {}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Nothing can be restored: {}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Add reviewed photos to database</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Adding the reviewed photos failed: {}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> (undo list: {})</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Added {} reviewed photos to {} ({} already in it)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Add {} accepted or moved photos to {} at their reviewed location?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&lt;small&gt;Worldwide needs the GeoCLIP model (hover for why)&lt;/small&gt;</source>
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
        <source>Auto (bandwidth / 8)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cell size of the density raster in degrees (0.1° ≈ 11 km), given exactly; Auto: the bandwidth / 8 rounded down to 1, 2 or 5 (1° for 1000 km), the finest detail the density has</source>
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
        <source>Where each run writes its GeoPackage (predictions, neighbours, circles, density). Empty: the saved project's folder, else a temporary folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Results folder</source>
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
