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
        <source>Reference database (a .geoloc folder, a .geolocpack file or an installed pack's name)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reference database (a .geoloc folder)</source>
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
        <source>no photos: give a folder, files or a layer with a path field</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Weights file the database was built with (not needed for the bundled backbone)</source>
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
        <source>Density raster resolution (degrees)</source>
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
        <source>Photo files (separated by ;)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Also search these databases, pack files or installed packs (separated by ;)</source>
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
        <source>&lt;p&gt;Locates photos whose coordinates are known and compares: a per-photo error table and the share of photos within 1, 25, 200, 750 and 2500 km (street, city, region, country, continent), the median error and the mean GeoGuessr score (5000·exp(−d/1492.7 km)). A photo that is itself in the database is located without its own record (leave-one-out).&lt;/p&gt;&lt;p&gt;Reference photos come from a &lt;b&gt;folder&lt;/b&gt; of photos with EXIF GPS (searched recursively), a &lt;b&gt;CSV&lt;/b&gt; with &lt;code&gt;path,lat,lon&lt;/code&gt; columns (relative paths resolve against the CSV's folder; other columns are kept as attributes), or a &lt;b&gt;point layer&lt;/b&gt; with a photo path field (its points give the locations, reprojected to WGS 84). Photos without a usable location are reported in the log and skipped.&lt;/p&gt;</source>
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
        <source>Locating {} photo</source>
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
        <source>{} photo with EXIF GPS: error {:.0f} km; within {} km: {}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{} photos with EXIF GPS: median error {:.0f} km; within {} km: {}</source>
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
        <source>this photo: {}</source>
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
        <source>Where each run writes its GeoPackage (predictions, neighbours, circles, density). Empty: the saved project's folder, else a temporary folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Results folder</source>
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
