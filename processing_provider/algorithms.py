"""Processing algorithms: thin wrappers over geoloc_core with QGIS's parameter and output types.

The engine is imported inside processAlgorithm, so that the Toolbox lists the algorithms cheaply.
"""

from __future__ import annotations

import traceback
from pathlib import Path

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsFeatureSink,
    QgsProcessingAlgorithm,
    QgsProcessingException,
    QgsProcessingLayerPostProcessorInterface,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterFile,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterString,
    QgsProcessingUtils,
    QgsVectorFileWriter,
    QgsWkbTypes,
)

from .. import layers
from ..geoloc_core.defaults import (
    DEFAULT_ARCHITECTURE,
    DEFAULT_BANDWIDTH_KM,
    DEFAULT_DENSITY_RESOLUTION_DEG,
    DEFAULT_ESTIMATOR,
    DEFAULT_FINETUNE_EPOCHS,
    DEFAULT_GALLERY_TOP_K,
    DEFAULT_GEO_DIM,
    DEFAULT_K,
    DEFAULT_SMOOTHING_KM,
    DEFAULT_T_MAX,
    DEFAULT_T_MIN,
    DEFAULT_TEMPERATURE,
    DEFAULT_TRAINING_EPOCHS,
    DEFAULT_VIEW_NAME,
)
from ..geoloc_core.defaults import POOLINGS as ENGINE_POOLINGS
from ..geoloc_core.embedder_registry import downloadable, list_embedders
from ..geoloc_core.estimator_registry import ESTIMATORS as ESTIMATOR_REGISTRY
from ..geoloc_core.options import BOUNDS
from ..geoloc_core.storage import utc_now
from ..qgis_compat import (
    FIELD_STRING,
    FILE_BEHAVIOUR_FILE,
    FILE_BEHAVIOUR_FOLDER,
    GEOMETRY_POLYGON,
    NUMBER_DOUBLE,
    NUMBER_INTEGER,
    SOURCE_FILE,
    SOURCE_VECTOR,
    SOURCE_VECTOR_LINE,
    SOURCE_VECTOR_POINT,
    SOURCE_VECTOR_POLYGON,
    WKB_MULTIPOLYGON,
    WKB_NO_GEOMETRY,
    WKB_POINT,
    WKB_POLYGON,
)
from ..ui.i18n import tr

ESTIMATORS = list(ESTIMATOR_REGISTRY.names())  # the enum's values are indices into this: the registry only appends
POOLINGS = list(ENGINE_POOLINGS)
WGS84 = "EPSG:4326"


def bounded(option: str) -> dict:
    """A number parameter's minValue and maxValue: the option's bounds in the engine's one table."""
    bound = BOUNDS[option]
    return {"minValue": bound.low, **({"maxValue": bound.high} if bound.high is not None else {})}


class EngineAlgorithm(QgsProcessingAlgorithm):
    """Shared plumbing: naming, progress and cancellation, and engine errors as QgsProcessingException."""

    NAME = DISPLAY = HELP = ""

    def name(self):
        return self.NAME

    def displayName(self):
        return tr(self.DISPLAY)  # DISPLAY and HELP texts are collected by scripts/update_translations.py

    def group(self):
        return tr("Photo geolocation")

    def groupId(self):
        return "photo_geolocation"

    def shortHelpString(self):
        return tr(self.HELP)

    def createInstance(self):
        return type(self)()

    @staticmethod
    def progress_reporter(feedback):
        """Progress as the bar; the log gets one line per stage (hashing, embedding…), not one per photo."""
        stages = []

        def report(progress):
            if progress.total:
                feedback.setProgress(100.0 * progress.done / progress.total)
            if not stages or stages[-1] != progress.stage:
                stages.append(progress.stage)
                feedback.setProgressText(tr("{} ({} photos)…").format(progress.stage, progress.total)
                                         if progress.total else f"{progress.stage}…")
        return report

    def processAlgorithm(self, parameters, context, feedback):
        from ..geoloc_core.errors import internal_message, is_user_error, user_message
        from ..geoloc_core.progress import Cancelled

        try:
            return self.execute(parameters, context, feedback)
        except Cancelled:
            raise QgsProcessingException(tr("cancelled; nothing was added to the outputs")) from None
        except QgsProcessingException:
            raise
        except Exception as exc:
            if is_user_error(exc):
                raise QgsProcessingException(user_message(exc)) from None
            if feedback is not None:  # a bug: its traceback in the log, for the report
                feedback.reportError(traceback.format_exc())
            raise QgsProcessingException(internal_message(exc, "in the log")) from None

    def checkParameterValues(self, parameters, context):
        """Inputs that cannot work are refused here, before the run: qgis_process then prints the problem
        once (an error raised during the run is echoed by QGIS itself: the log, the ERROR line, the log
        again)."""
        ok, message = super().checkParameterValues(parameters, context)
        if not ok:
            return ok, message
        problem = self.input_problem(parameters, context)
        return (False, problem) if problem else (True, "")

    def input_problem(self, parameters, context) -> str | None:
        """One line on an input that cannot work, or None. Subclasses add their own checks."""
        return None

    # -- inputs shared by several algorithms ---------------------------------------------------

    def add_photo_source_parameters(self, with_location: bool):
        what = (tr("Folder of geotagged photos (EXIF GPS) (searched recursively)") if with_location
                else tr("Folder of photos (searched recursively)"))
        self.addParameter(QgsProcessingParameterFile("FOLDER", what, behavior=FILE_BEHAVIOUR_FOLDER, optional=True))
        if with_location:
            self.addParameter(QgsProcessingParameterFile(
                "CSV", tr("CSV with path,lat,lon columns"), behavior=FILE_BEHAVIOUR_FILE, extension="csv", optional=True))
        else:  # a list of files; a text with paths separated by ';' (scripts, models, qgis_process) still works
            self.addParameter(QgsProcessingParameterMultipleLayers("FILES", tr("Photo files"), SOURCE_FILE,
                                                                   optional=True))
        layer_types = [SOURCE_VECTOR_POINT] if with_location else [SOURCE_VECTOR]
        self.addParameter(QgsProcessingParameterFeatureSource(
            "LAYER", tr("Layer with a photo path field"), layer_types, optional=True))
        self.addParameter(QgsProcessingParameterField(
            "PATH_FIELD", tr("Photo path field"), parentLayerParameterName="LAYER", type=FIELD_STRING, optional=True))

    def layer_paths(self, parameters, context, with_location: bool):
        """(path, lat, lon, attributes) per feature of LAYER; lat/lon in WGS84 where asked."""
        source = self.parameterAsSource(parameters, "LAYER", context)
        if source is None:
            return []
        field = self.parameterAsString(parameters, "PATH_FIELD", context)
        if not field:
            raise QgsProcessingException(tr("choose the field of the layer that holds the photo paths"))
        transform = QgsCoordinateTransform(source.sourceCrs(), QgsCoordinateReferenceSystem(WGS84),
                                           context.transformContext())
        rows = []
        for feature in source.getFeatures():
            path = feature[field]
            if not path:
                continue
            lat = lon = None
            if with_location and feature.hasGeometry():
                point = transform.transform(feature.geometry().asPoint())
                lat, lon = point.y(), point.x()
            attributes = {name: str(feature[name]) for name in feature.fields().names() if name != field}
            rows.append((str(path), lat, lon, attributes))
        return rows

    def read_candidates(self, parameters, context, feedback):
        from ..geoloc_core.sources import Candidate, from_csv, from_folder, valid_location

        candidates, skipped = [], []
        folder = self.parameterAsString(parameters, "FOLDER", context)
        csv_path = self.parameterAsString(parameters, "CSV", context)
        if folder:
            found = from_folder(folder)
            candidates += found[0]
            skipped += found[1]
        if csv_path:
            found = from_csv(csv_path)
            candidates += found[0]
            skipped += found[1]
        for path, lat, lon, attributes in self.layer_paths(parameters, context, with_location=True):
            if lat is None or not valid_location(lat, lon):
                feedback.pushWarning(tr("{}: the feature has no usable point; skipped").format(path))
            elif not Path(path).is_file():
                feedback.pushWarning(tr("{}: file not found; skipped").format(path))
            else:
                candidates.append(Candidate(Path(path), lat, lon, attributes=attributes))
        if not (folder or csv_path or parameters.get("LAYER")):
            raise QgsProcessingException(tr("give a folder, a CSV or a layer of reference photos"))
        for item in skipped:
            feedback.pushWarning(tr("skipped {}").format(item))
        if not candidates:
            raise QgsProcessingException(tr("no photo with a usable location among the inputs ({} skipped); "
                                            "reference photos need EXIF GPS or coordinates").format(len(skipped)))
        return candidates

    def read_photo_paths(self, parameters, context, feedback):
        from ..geoloc_core.files import find_photos

        paths, problems = [], []
        folder = self.parameterAsString(parameters, "FOLDER", context)
        if folder:
            paths += [str(p) for p in find_photos(folder, problems=problems)]
        for problem in problems:
            feedback.reportError(tr("skipped {}").format(problem), fatalError=False)
        paths += self.listed_files(parameters, context)
        paths += [row[0] for row in self.layer_paths(parameters, context, with_location=False)]
        if not paths:
            raise QgsProcessingException(tr("no photos: give a folder, files or a layer with a path field"))
        return paths

    def listed_files(self, parameters, context) -> list[str]:
        """The FILES parameter's paths: a list of files, each item possibly several paths joined by ';'."""
        if not parameters.get("FILES"):
            return []
        listed = self.parameterAsFileList(parameters, "FILES", context)
        return [part.strip() for item in listed for part in str(item).split(";") if part.strip()]

    def photos_problem(self, parameters, context) -> str | None:
        if not (parameters.get("FOLDER") or parameters.get("LAYER") or self.listed_files(parameters, context)):
            return tr("no photos: give a folder, files or a layer with a path field")
        return None

    def add_database_parameter(self, packs: bool = False):
        """The database to use; with `packs` (read-only uses) also a pack file or an installed pack's name,
        and more databases or packs to search with it."""
        if packs:  # a file box: it takes a pack file, a database's manifest.json, or a typed folder path or name
            # ("All files (*)" in the filter: QGIS checks a value against the filter's extensions, and the
            # default filter, "*.*", refuses a folder or a name)
            database = QgsProcessingParameterFile(
                "DATABASE", tr("Reference database (a .geoloc folder, a .geolocpack file or an installed pack's name)"),
                behavior=FILE_BEHAVIOUR_FILE,
                fileFilter=tr("Reference packs (*.geolocpack);;Database folders (manifest.json);;All files (*)"))
            database.setHelp(tr("A reference database folder (type its path, or pick the manifest.json inside it), "
                                "a .geolocpack file (installed into your profile on first use) or the name of an "
                                "installed pack."))
        else:
            database = QgsProcessingParameterFile("DATABASE", tr("Reference database (a .geoloc folder)"),
                                                  behavior=FILE_BEHAVIOUR_FOLDER)
        self.addParameter(database)
        if packs:
            self.addParameter(QgsProcessingParameterString(
                "ALSO", tr("Also search these databases, pack files or installed packs (separated by ;)"), optional=True))
        self.addParameter(QgsProcessingParameterFile(
            "WEIGHTS", tr("Weights file the database was built with (not needed for the bundled backbone)"),
            behavior=FILE_BEHAVIOUR_FILE, optional=True))

    def locate_request(self, parameters, context, density_resolution=None):
        """The service request for the DATABASE, ALSO, WEIGHTS and locate parameters (photos come later)."""
        from ..geoloc_core.service import LocateRequest
        from ..profile_data import models_dir, packs_dir

        also = (self.parameterAsString(parameters, "ALSO", context) or "").split(";")
        return LocateRequest(
            database_of(self.parameterAsString(parameters, "DATABASE", context)), [],
            k=self.parameterAsInt(parameters, "K", context),
            estimator=ESTIMATORS[self.parameterAsEnum(parameters, "ESTIMATOR", context)],
            bandwidth_km=self.parameterAsDouble(parameters, "BANDWIDTH", context),
            temperature=self.parameterAsDouble(parameters, "TEMPERATURE", context),
            density_resolution=density_resolution, also=list(filter(None, map(str.strip, also))),
            weights=self.parameterAsString(parameters, "WEIGHTS", context) or None, models_dir=str(models_dir()),
            packs_dir=str(packs_dir()))

    @staticmethod
    def located(outcome, feedback):
        """Report the photos passed over; refuse a run that located none."""
        for item in outcome.failed:
            feedback.reportError(tr("skipped {}").format(item), fatalError=False)
        if not outcome.results:
            raise QgsProcessingException(tr("no photo could be located: {}").format("; ".join(map(str, outcome.failed))))
        return outcome

    def database_problem(self, parameters, context) -> str | None:
        """Where DATABASE names nothing the engine can open: the engine's own line (no pack is installed here)."""
        from ..geoloc_core.errors import is_user_error
        from ..geoloc_core.packs import PACK_SUFFIX, resolve_reference
        from ..profile_data import packs_dir

        value = database_of(self.parameterAsString(parameters, "DATABASE", context))
        if not value:
            return tr("give a reference database, a pack file or an installed pack's name")
        if Path(value).suffix == PACK_SUFFIX and Path(value).is_file():
            return None
        try:
            resolve_reference(value, packs_dir())
        except Exception as exc:
            if is_user_error(exc):  # PackError: its one line
                return str(exc)
            raise
        return None

    def add_context_parameters(self):
        """What the analyst knows (docs/context.md): an area, a track, the camera clock, streams."""
        self.addParameter(QgsProcessingParameterFeatureSource(
            "AREA", tr("Area of interest (polygons): search only references inside"), [SOURCE_VECTOR_POLYGON],
            optional=True))
        self.addParameter(QgsProcessingParameterString(
            "AREA_COUNTRY", tr("Or a country as the area (name or ISO code, e.g. France or FR)"), optional=True))
        self.addParameter(QgsProcessingParameterFeatureSource(
            "TRACK", tr("GPS track (a GPX file, points with a time field, or lines with times as M values)"),
            [SOURCE_VECTOR_POINT, SOURCE_VECTOR_LINE], optional=True))
        self.addParameter(QgsProcessingParameterString(
            "TIME_OFFSET", tr("Camera clock ahead of the true time (+HH:MM:SS or seconds; empty: estimated)"),
            optional=True))
        self.addParameter(QgsProcessingParameterString(
            "TIME_ZONE", tr("Camera time zone where its times carry none (e.g. +02:00; empty: UTC)"), optional=True))
        self.addParameter(QgsProcessingParameterBoolean(
            "STREAMS", tr("Locate photos taken close in time together (photos with EXIF GPS anchor them)"),
            defaultValue=True, optional=True))

    def context_problem(self, parameters, context) -> str | None:
        from ..geoloc_core.context.run import ContextRequest
        from ..geoloc_core.errors import is_user_error

        if parameters.get("AREA") and (self.parameterAsString(parameters, "AREA_COUNTRY", context) or "").strip():
            return tr("give an area layer or a country, not both")
        source = self.parameterAsSource(parameters, "AREA", context) if parameters.get("AREA") else None
        if source is not None and QgsWkbTypes.geometryType(source.wkbType()) != GEOMETRY_POLYGON:
            return tr("{}: the area is a layer of {}; an area is a polygon layer").format(
                layer_name(parameters["AREA"], source), QgsWkbTypes.geometryDisplayString(
                    QgsWkbTypes.geometryType(source.wkbType())).lower())
        track = track_file(parameters.get("TRACK"))
        try:
            ContextRequest(time_offset=self.parameterAsString(parameters, "TIME_OFFSET", context).strip() or None,
                           time_zone=self.parameterAsString(parameters, "TIME_ZONE", context).strip() or None)
            if track is not None:
                from ..geoloc_core.context.tracks import read_track

                read_track(track)  # a file without times or fixes is refused here, in one line
        except Exception as exc:
            if is_user_error(exc):
                return str(exc)
            raise
        return None

    def context_request(self, parameters, context, feedback):
        """The ContextRequest for the context parameters; None where none is set (the engine's default:
        photos of the batch with EXIF GPS anchor their streams). A layer of the project is written to a
        temporary GeoPackage in WGS 84 for the engine; a track file is handed over as it is."""
        from ..geoloc_core.context.run import ContextRequest

        area = None
        if parameters.get("AREA"):
            area = self.wgs84_copy(parameters, "AREA", context, feedback)
        country = (self.parameterAsString(parameters, "AREA_COUNTRY", context) or "").strip()
        track = None
        if parameters.get("TRACK"):
            track = track_file(parameters["TRACK"]) or self.wgs84_copy(parameters, "TRACK", context, feedback)
        offset = (self.parameterAsString(parameters, "TIME_OFFSET", context) or "").strip() or None
        zone = (self.parameterAsString(parameters, "TIME_ZONE", context) or "").strip() or None
        streams = self.parameterAsBool(parameters, "STREAMS", context)
        if not (area or country or track or offset or zone) and streams:
            return None
        return ContextRequest(area=area or country or None, track=track, time_offset=offset, time_zone=zone,
                              streams=streams)

    def wgs84_copy(self, parameters, name: str, context, feedback) -> str:
        """The layer of parameter `name` written to a temporary GeoPackage in WGS 84 (from any CRS), with its
        fields and M values: the engine reads files, not QGIS layers."""
        source = self.parameterAsSource(parameters, name, context)
        if source is None:
            raise QgsProcessingException(self.invalidSourceError(parameters, name))
        wgs84 = QgsCoordinateReferenceSystem(WGS84)
        path = QgsProcessingUtils.generateTempFilename(f"{name.lower()}.gpkg")
        options = QgsVectorFileWriter.SaveVectorOptions()
        options.driverName = "GPKG"
        options.layerName = name.lower()
        writer = QgsVectorFileWriter.create(path, source.fields(), source.wkbType(), wgs84, context.transformContext(),
                                            options)
        if writer.hasError() != QgsVectorFileWriter.WriterError.NoError:
            raise QgsProcessingException(tr("{}: cannot write a copy in WGS 84 ({})").format(
                layer_name(parameters[name], source), writer.errorMessage()))
        transform = QgsCoordinateTransform(source.sourceCrs(), wgs84, context.transformContext())
        for feature in source.getFeatures():
            if feature.hasGeometry():
                geometry = feature.geometry()
                geometry.transform(transform)
                feature.setGeometry(geometry)
            writer.addFeature(feature)
        del writer  # closes the file
        feedback.pushInfo(tr("{}: {} features handed to the engine in WGS 84").format(
            layer_name(parameters[name], source), source.featureCount()))
        return path

    def add_locate_parameters(self):
        self.addParameter(QgsProcessingParameterNumber("K", tr("Neighbours (k)"), NUMBER_INTEGER, DEFAULT_K, **bounded("k")))
        self.addParameter(QgsProcessingParameterEnum("ESTIMATOR", tr("Estimator"), ESTIMATORS,
                                                     defaultValue=ESTIMATORS.index(DEFAULT_ESTIMATOR)))
        self.addParameter(QgsProcessingParameterNumber(
            "BANDWIDTH", tr("Kernel bandwidth (km)"), NUMBER_DOUBLE, DEFAULT_BANDWIDTH_KM, **bounded("bandwidth_km")))
        self.addParameter(QgsProcessingParameterNumber(
            "TEMPERATURE", tr("Similarity temperature"), NUMBER_DOUBLE, DEFAULT_TEMPERATURE, **bounded("temperature")))

    def write_sink(self, parameters, context, name, fields, wkb_type, features):
        sink, destination = self.parameterAsSink(parameters, name, context, fields, wkb_type,
                                                 QgsCoordinateReferenceSystem(WGS84))
        if sink is None:
            raise QgsProcessingException(self.invalidSinkError(parameters, name))
        if not sink.addFeatures(features, QgsFeatureSink.Flag.FastInsert):
            raise QgsProcessingException(tr("{}: the features could not be written ({})").format(
                name, sink.lastError() or tr("no reason given")))
        return destination


def database_of(value: str) -> str:
    """A database folder picked through the manifest.json inside it is the folder."""
    path = Path(value) if value else None
    return str(path.parent) if path is not None and path.name == "manifest.json" and path.is_file() else value


def track_file(value) -> str | None:
    """A track given as a file path (GPX, CSV, GPKG) goes to the engine as it is: its reader knows GPX
    track points from waypoints and CSV columns; a layer of the project, or a layer URI, is copied."""
    if isinstance(value, str) and "|" not in value and Path(value).is_file():
        return value
    return None


def layer_name(value, source) -> str:
    """How an input layer is named in a message: its source's name or the value given."""
    name = source.sourceName() if source is not None else ""
    return name or str(value)


CONTEXT_HELP = ("<p><b>What you know</b> (all optional): an <b>area</b> (a polygon layer or a country) "
                "restricts the search to references inside it, and the answers stay inside; a <b>GPS track</b> "
                "(a GPX file, a point layer with a time field, or a line layer whose M values are times in "
                "seconds since 1970 UTC; any CRS) decides a photo's place where it has fixes around the photo's "
                "capture time; the <b>time offset</b> is how far the camera clock ran ahead of the true time "
                "(empty: estimated from photos that carry GPS time); <b>streams</b>: photos taken close in time "
                "are located together, and photos of the batch with EXIF GPS anchor them. Each answer's "
                "<code>evidence</code> says what decided it (track, anchor, stream, pixels or area).</p>")

SOURCE_HELP = ("<p>Reference photos come from a <b>folder</b> of photos with EXIF GPS (searched recursively), "
               "a <b>CSV</b> with <code>path,lat,lon</code> columns (relative paths resolve against the CSV's "
               "folder; other columns are kept as attributes), or a <b>point layer</b> with a photo path field "
               "(its points give the locations, reprojected to WGS 84). Photos without a usable location "
               "are reported in the log and skipped.</p>")


class BuildDatabase(EngineAlgorithm):
    NAME, DISPLAY = "build_database", "Build reference database"
    HELP = ("<p>Creates a reference database of geotagged photos: each photo is embedded with a convolutional "
            "network and stored with its location, so that other photos can be located by their likeness.</p>"
            + SOURCE_HELP +
            "<p><b>Architecture</b>: one of</p><ul>"
            + "".join(f"<li><code>{entry.name}</code>: {entry.help}</li>" for entry in list_embedders()) +
            "</ul><p>or any torchvision classifier name (e.g. resnet50) with a <b>weights file</b> (a PyTorch "
            "state dict). The downloadable ones are fetched on request into the profile's "
            "photo_geolocator/models and need the packages of requirements-clip.txt; tick <b>Download</b> to "
            "fetch a missing one first (resumable). <b>Pooling</b>: how the last feature map becomes one vector "
            "(average, max or GeM). "
            "If the output folder already holds a database, the photos are added to it (same embedder only).</p>")

    def initAlgorithm(self, config=None):
        self.add_photo_source_parameters(with_location=True)
        self.addParameter(QgsProcessingParameterString("ARCHITECTURE", tr("Network architecture"),
                                                       defaultValue=DEFAULT_ARCHITECTURE))
        self.addParameter(QgsProcessingParameterFile("WEIGHTS", tr("Weights file (state dict) for the architecture"),
                                                     behavior=FILE_BEHAVIOUR_FILE, optional=True))
        self.addParameter(QgsProcessingParameterEnum("POOLING", tr("Pooling"), POOLINGS, defaultValue=0))
        self.addParameter(QgsProcessingParameterBoolean(
            "DOWNLOAD", tr("Download the model first if it is missing ({}; needs internet)").format(
                ", ".join(downloadable())), defaultValue=False, optional=True))
        self.addParameter(QgsProcessingParameterFolderDestination("OUTPUT_DATABASE", tr("Reference database folder")))
        self.addParameter(QgsProcessingParameterFeatureSink("OUTPUT_REFERENCES", tr("Reference photos"),
                                                            SOURCE_VECTOR_POINT, optional=True))

    def execute(self, parameters, context, feedback):
        from ..geoloc_core.service import BuildRequest, build, weights_for
        from ..profile_data import models_dir

        candidates = self.read_candidates(parameters, context, feedback)
        architecture = self.parameterAsString(parameters, "ARCHITECTURE", context) or DEFAULT_ARCHITECTURE
        weights = weights_for(architecture, self.parameterAsString(parameters, "WEIGHTS", context), models_dir())
        if self.parameterAsBool(parameters, "DOWNLOAD", context):
            self.download_model(architecture, feedback)
        request = BuildRequest(self.parameterAsString(parameters, "OUTPUT_DATABASE", context),
                               architecture=architecture, weights=weights,
                               pooling=POOLINGS[self.parameterAsEnum(parameters, "POOLING", context)])
        return self.finish(*build(request, candidates, self.progress_reporter(feedback), feedback.isCanceled),
                           parameters, context, feedback)

    def download_model(self, architecture: str, feedback) -> None:
        """Fetch a missing CLIP-family model into the profile's models folder, its size in the log first."""
        from ..geoloc_core.service import download_missing_model
        from ..profile_data import models_dir

        download_missing_model(architecture, models_dir(), self.progress_reporter(feedback), feedback.isCanceled,
                               lambda listing: feedback.pushInfo(
                                   tr("downloading {}@{}: {} files, {:,.1f} MB into {}").format(
                                       listing.repo_id, listing.revision[:12], len(listing.files),
                                       listing.total_bytes / 1e6, models_dir())))

    def finish(self, database, report, parameters, context, feedback):
        for item in report.failed:
            feedback.pushWarning(tr("unreadable, skipped: {}").format(item))
        feedback.pushInfo(tr("{}: {}; {} photos in the database").format(database.path, report.summary(),
                                                                           database.count))
        outputs = {"OUTPUT_DATABASE": str(database.path), "ADDED": report.added, "COUNT": database.count}
        if parameters.get("OUTPUT_REFERENCES"):
            outputs["OUTPUT_REFERENCES"] = self.write_sink(parameters, context, "OUTPUT_REFERENCES",
                                                           layers.REFERENCES, WKB_POINT,
                                                           layers.reference_features(database.all_records()))
        database.close()
        if report.cancelled:
            raise QgsProcessingException(tr("cancelled; the photos embedded so far are kept, run again to resume"))
        return outputs


class AddPhotos(BuildDatabase):
    NAME, DISPLAY = "add_photos", "Add photos to reference database"
    HELP = ("<p>Adds geotagged photos to an existing reference database. Photos already in it (same file "
            "content) are skipped, so re-running over a grown folder only embeds the new photos.</p>" + SOURCE_HELP)

    def initAlgorithm(self, config=None):
        self.add_photo_source_parameters(with_location=True)
        self.add_database_parameter()
        self.addParameter(QgsProcessingParameterFeatureSink("OUTPUT_REFERENCES", tr("Reference photos"),
                                                            SOURCE_VECTOR_POINT, optional=True))

    def execute(self, parameters, context, feedback):
        from ..geoloc_core.service import BuildRequest, build

        candidates = self.read_candidates(parameters, context, feedback)
        request = BuildRequest(self.parameterAsString(parameters, "DATABASE", context), add=True,
                               weights=self.parameterAsString(parameters, "WEIGHTS", context) or None)
        return self.finish(*build(request, candidates, self.progress_reporter(feedback), feedback.isCanceled),
                           parameters, context, feedback)


class GeolocatePhotos(EngineAlgorithm):
    NAME, DISPLAY = "geolocate_photos", "Geolocate photos"
    HELP = ("<p>Predicts where photos were taken: each photo's <b>k</b> most similar reference photos are "
            "found in the database, and the density of their locations gives the prediction.</p>"
            "<p>Photos come from a folder, a list of files, or a layer with a photo path field. Unreadable "
            "photos are reported and skipped.</p>"
            "<p>The <b>reference database</b> is a database folder (type its path or pick the "
            "<code>manifest.json</code> inside it), a reference pack file (<code>.geolocpack</code>, installed "
            "into your profile on first use) or an installed pack's name; <b>also search</b> lists "
            "more databases or packs, separated by <code>;</code>, whose neighbours are merged by similarity.</p>"
            "<p><b>Estimator</b>:</p><ul>"
            + "".join(f"<li><i>{e.name}</i>{' (default)' if e.name == DEFAULT_ESTIMATOR else ''}: {e.help}"
                      + "".join(f" Needs {r.text}." for r in e.requires) + "</li>" for e in ESTIMATOR_REGISTRY)
            + "</ul><p><b>Bandwidth</b> (km): the kernel's "
            "size on the ground. <b>Temperature</b>: how fast a neighbour's weight falls with its similarity "
            "(lower trusts the best matches more).</p>"
            "<p>Outputs (EPSG:4326): <b>predictions</b> with confidence (the calibrated probability that the "
            "photo was taken within 750 km) and the calibrated radii holding the truth for 50%/90% of photos; "
            "<b>neighbours</b>; <b>uncertainty</b> circles "
            "(geodesic); and a <b>density</b> raster (probability per km², one band per photo) at the given "
            "resolution in degrees (0: the bandwidth / 8 rounded down to 1, 2 or 5), over the union of the photos' "
            "surroundings.</p>" + CONTEXT_HELP)

    def initAlgorithm(self, config=None):
        self.add_photo_source_parameters(with_location=False)
        self.add_database_parameter(packs=True)
        self.add_locate_parameters()
        self.add_context_parameters()
        self.addParameter(QgsProcessingParameterNumber("DENSITY_RESOLUTION",
                                                       tr("Density raster resolution (degrees; 0: auto, the bandwidth / 8)"),
                                                       NUMBER_DOUBLE, DEFAULT_DENSITY_RESOLUTION_DEG,
                                                       **bounded("density_resolution_deg")))
        self.addParameter(QgsProcessingParameterFeatureSink("PREDICTIONS", tr("Predicted locations"),
                                                            SOURCE_VECTOR_POINT))
        self.addParameter(QgsProcessingParameterFeatureSink("NEIGHBOURS", tr("Neighbours"),
                                                            SOURCE_VECTOR_POINT))
        self.addParameter(QgsProcessingParameterFeatureSink("UNCERTAINTY", tr("Uncertainty circles"),
                                                            SOURCE_VECTOR_POLYGON, optional=True))
        self.addParameter(QgsProcessingParameterRasterDestination("DENSITY", tr("Density"), optional=True))

    def input_problem(self, parameters, context):
        return (self.photos_problem(parameters, context) or self.database_problem(parameters, context)
                or self.context_problem(parameters, context))

    def execute(self, parameters, context, feedback):
        from ..geoloc_core.service import Session, write_run_density

        density_path = self.parameterAsOutputLayer(parameters, "DENSITY", context)
        density_path = density_path if parameters.get("DENSITY") and density_path else None
        request = self.locate_request(parameters, context, self.parameterAsDouble(
            parameters, "DENSITY_RESOLUTION", context) if density_path else None)
        request.context = self.context_request(parameters, context, feedback)
        with Session() as session:
            session.searched(request)
            request.photos = self.read_photo_paths(parameters, context, feedback)
            outcome = self.located(session.locate(request, self.progress_reporter(feedback), feedback.isCanceled),
                                   feedback)
        run_time = utc_now()
        outputs = {
            "PREDICTIONS": self.write_sink(parameters, context, "PREDICTIONS", layers.PREDICTIONS, WKB_POINT,
                                           layers.prediction_features(outcome.results, outcome.reference, run_time)),
            "NEIGHBOURS": self.write_sink(parameters, context, "NEIGHBOURS", layers.NEIGHBOURS, WKB_POINT,
                                          layers.neighbour_features(outcome.results)),
            "LOCATED": len(outcome.results), "FAILED": len(outcome.failed),
        }
        if parameters.get("UNCERTAINTY"):
            outputs["UNCERTAINTY"] = self.write_sink(parameters, context, "UNCERTAINTY", layers.UNCERTAINTY,
                                                     WKB_MULTIPOLYGON, layers.uncertainty_features(outcome.results))
        if density_path:
            write_run_density(outcome, request, density_path, overwrite=True)
            outputs["DENSITY"] = density_path
        for name, style in (("PREDICTIONS", "predictions"), ("NEIGHBOURS", "neighbours"),
                            ("UNCERTAINTY", "uncertainty"), ("DENSITY", None)):
            if isinstance(outputs.get(name), str) and context.willLoadLayerOnCompletion(outputs[name]):
                context.layerToLoadOnCompletionDetails(outputs[name]).setPostProcessor(StyleOnLoad.for_style(style))
        feedback.pushInfo(tr("located {} photos, {} skipped").format(len(outcome.results), len(outcome.failed)))
        return outputs


class StyleOnLoad(QgsProcessingLayerPostProcessorInterface):
    """Styles an output as the dock styles its layers when Processing loads it into the project."""

    _alive: list = []  # Processing does not own post-processors: keep them referenced

    def __init__(self, style: str | None):
        super().__init__()
        self.style = style  # a style in resources/styles, or None for the density heat ramp

    @classmethod
    def for_style(cls, style: str | None) -> StyleOnLoad:
        processor = cls(style)
        cls._alive.append(processor)
        return processor

    def postProcessLayer(self, layer, context, feedback):
        from ..ui.results import STYLES, style_density

        if self.style is None:
            style_density(layer)
        else:
            layer.loadNamedStyle(str(STYLES / f"{self.style}.qml"))
        layer.triggerRepaint()


class EvaluateAccuracy(EngineAlgorithm):
    NAME, DISPLAY = "evaluate_accuracy", "Evaluate geolocation accuracy"
    HELP = ("<p>Locates photos whose coordinates are known and compares: a per-photo error table and the "
            "share of photos within 1, 25, 200, 750 and 2500 km (street, city, region, country, continent), "
            "the median error and the mean GeoGuessr score (5000·exp(−d/1492.7 km)). A photo that is itself "
            "in the database is located without its own record (leave-one-out).</p>" + SOURCE_HELP + CONTEXT_HELP
            + "<p>A CSV may carry the columns <code>time</code> (ISO 8601), <code>anchor</code> (1: the row's "
            "coordinates are known to the engine and the row is not scored) and <code>area</code>.</p>")

    def initAlgorithm(self, config=None):
        self.add_photo_source_parameters(with_location=True)
        self.add_database_parameter(packs=True)
        self.add_locate_parameters()
        self.add_context_parameters()
        self.addParameter(QgsProcessingParameterFeatureSink("OUTPUT", tr("Per-photo errors"),
                                                            SOURCE_VECTOR))

    def input_problem(self, parameters, context):
        return self.database_problem(parameters, context) or self.context_problem(parameters, context)

    def execute(self, parameters, context, feedback):
        from ..geoloc_core.service import Session

        request = self.locate_request(parameters, context)
        request.context = self.context_request(parameters, context, feedback)
        with Session() as session:
            session.searched(request)
            items = self.read_candidates(parameters, context, feedback)
            report = session.evaluate(request, items, self.progress_reporter(feedback), feedback.isCanceled)
        for item in report.failed:
            feedback.reportError(tr("skipped {}").format(item), fatalError=False)
        feedback.pushInfo(report.table())
        outputs = {key.upper(): value for key, value in report.summary().items()}
        outputs["OUTPUT"] = self.write_sink(parameters, context, "OUTPUT", layers.EVALUATION, WKB_NO_GEOMETRY,
                                            layers.evaluation_features(report.rows))
        return outputs


class TrainFeatures(EngineAlgorithm):
    NAME, DISPLAY = "train_features", "Train geolocation features"
    HELP = ("<p>Learns geolocation features on a reference database, as the IM2GPS revisit paper found best: "
            "the photos' locations are split into adaptive geographic cells (small where photos are dense, "
            "large where sparse) and a small network on the stored embeddings learns to tell the cells apart. "
            "Its hidden layer becomes the features that <i>Geolocate photos</i> then searches; its cell "
            "probabilities serve the <i>cells</i> and <i>hybrid</i> estimators. No photo is decoded again: on a "
            "CPU a few thousand photos train in minutes.</p>"
            "<p><b>Most / fewest photos per cell</b>: a cell holding more is split; one holding fewer is dropped. "
            "<b>Label smoothing</b> (km): neighbouring cells share probability by their distance (0: none). "
            "Training stops early when a held-out set of photos (whole photographers and places, never "
            "near-duplicates of the training photos) stops improving.</p>"
            "<p><b>Fine-tune end to end</b>: also adapt the network itself on the photos (decoded again, with "
            "random crops, flips and colour changes), on the GPU when there is one. Expect hours on a CPU for "
            "thousands of photos.</p>")

    def initAlgorithm(self, config=None):
        self.add_database_parameter()
        self.addParameter(QgsProcessingParameterString("NAME", tr("Name of the trained view"),
                                                       defaultValue=DEFAULT_VIEW_NAME))
        self.addParameter(QgsProcessingParameterNumber("T_MAX", tr("Most photos per cell"), NUMBER_INTEGER, DEFAULT_T_MAX,
                                                       **bounded("t_max")))
        self.addParameter(QgsProcessingParameterNumber("T_MIN", tr("Fewest photos per cell"), NUMBER_INTEGER, DEFAULT_T_MIN,
                                                       **bounded("t_min")))
        self.addParameter(QgsProcessingParameterNumber("GEO_DIM", tr("Size of the learned features"), NUMBER_INTEGER,
                                                       DEFAULT_GEO_DIM, **bounded("geo_dim")))
        self.addParameter(QgsProcessingParameterNumber("EPOCHS", tr("Most training epochs"), NUMBER_INTEGER,
                                                       DEFAULT_TRAINING_EPOCHS, **bounded("epochs")))
        self.addParameter(QgsProcessingParameterNumber("SMOOTHING", tr("Label smoothing distance (km, 0: none)"),
                                                       NUMBER_DOUBLE, DEFAULT_SMOOTHING_KM, **bounded("smoothing_km")))
        self.addParameter(QgsProcessingParameterBoolean(
            "FINETUNE", tr("Also fine-tune the backbone end to end on the photos (slow without a GPU)"), False))
        self.addParameter(QgsProcessingParameterNumber("FINETUNE_EPOCHS", tr("End-to-end epochs"), NUMBER_INTEGER,
                                                       DEFAULT_FINETUNE_EPOCHS, **bounded("finetune_epochs")))
        self.addParameter(QgsProcessingParameterFeatureSink("CELLS", tr("Geocells"), SOURCE_VECTOR_POLYGON, optional=True))

    def execute(self, parameters, context, feedback):
        from ..geoloc_core.service import TrainRequest, train

        finetune = self.parameterAsBoolean(parameters, "FINETUNE", context)
        request = TrainRequest(self.parameterAsString(parameters, "DATABASE", context),
                               self.parameterAsString(parameters, "NAME", context) or DEFAULT_VIEW_NAME,
                               t_max=self.parameterAsInt(parameters, "T_MAX", context),
                               t_min=self.parameterAsInt(parameters, "T_MIN", context),
                               geo_dim=self.parameterAsInt(parameters, "GEO_DIM", context),
                               epochs=self.parameterAsInt(parameters, "EPOCHS", context),
                               smoothing_km=self.parameterAsDouble(parameters, "SMOOTHING", context),
                               finetune_epochs=self.parameterAsInt(parameters, "FINETUNE_EPOCHS", context)
                               if finetune else None)
        if finetune:
            from ..geoloc_core.finetune import pick_device

            feedback.pushInfo(tr("fine-tuning end to end on {}").format(pick_device(request.device)))
        summary = train(request, self.progress_reporter(feedback), feedback.isCanceled, feedback.pushWarning)
        feedback.pushInfo(summary.text())
        outputs = {"VIEW": summary.view, "CELL_COUNT": len(summary.trained.partition),
                   "EPOCHS": len(summary.trained.history), "VALIDATION_ACCURACY": summary.best[3]}
        if parameters.get("CELLS"):
            outputs["CELLS"] = self.write_sink(parameters, context, "CELLS", layers.CELLS, WKB_POLYGON,
                                               layers.cell_features(summary.trained.partition))
        return outputs


class LocateWorldwide(EngineAlgorithm):
    NAME, DISPLAY = "locate_worldwide", "Geolocate photos worldwide (GeoCLIP, no database)"
    HELP = ("<p>Predicts where photos were taken with no reference database: GeoCLIP (Vivanco Cepeda et al. "
            "2023) scores each photo against the 100,000 coordinates of its GPS gallery, and the most probable "
            "one is the prediction; the <b>top-k</b> gallery points are written as neighbours, weighted by their "
            "probability. The confidence is the gallery's own share within 750 km, not calibrated.</p>"
            "<p>Needs the <code>geoclip</code> model (CLIP ViT-L/14, ~1.7 GB, in the profile's "
            "photo_geolocator/models; tick <b>Download</b> to fetch it first) and the packages of "
            "requirements-clip.txt. With a reference database built with <code>geoclip</code>, <i>Geolocate "
            "photos</i> with the <i>geoclip</i> estimator combines the gallery with your references.</p>")

    def initAlgorithm(self, config=None):
        self.add_photo_source_parameters(with_location=False)
        self.addParameter(QgsProcessingParameterNumber("TOP_K", tr("Gallery points kept per photo"), NUMBER_INTEGER,
                                                       DEFAULT_GALLERY_TOP_K, **bounded("top_k")))
        self.addParameter(QgsProcessingParameterBoolean(
            "DOWNLOAD", tr("Download the geoclip model first if it is missing (needs internet)"), defaultValue=False,
            optional=True))
        self.addParameter(QgsProcessingParameterFeatureSink("PREDICTIONS", tr("Predicted locations"),
                                                            SOURCE_VECTOR_POINT))
        self.addParameter(QgsProcessingParameterFeatureSink("NEIGHBOURS", tr("Gallery points"), SOURCE_VECTOR_POINT,
                                                            optional=True))

    def input_problem(self, parameters, context):
        return self.photos_problem(parameters, context)

    def execute(self, parameters, context, feedback):
        from ..geoloc_core.service import Session, WorldwideRequest
        from ..profile_data import models_dir

        if self.parameterAsBool(parameters, "DOWNLOAD", context):
            BuildDatabase.download_model(self, "geoclip", feedback)
        request = WorldwideRequest(self.read_photo_paths(parameters, context, feedback),
                                   self.parameterAsInt(parameters, "TOP_K", context), str(models_dir()))
        with Session() as session:
            outcome = self.located(session.locate_worldwide(request, self.progress_reporter(feedback),
                                                            feedback.isCanceled), feedback)
        run_time = utc_now()
        outputs = {"PREDICTIONS": self.write_sink(parameters, context, "PREDICTIONS", layers.PREDICTIONS, WKB_POINT,
                                                  layers.prediction_features(outcome.results, outcome.reference,
                                                                             run_time)),
                   "LOCATED": len(outcome.results), "FAILED": len(outcome.failed)}
        if parameters.get("NEIGHBOURS"):
            outputs["NEIGHBOURS"] = self.write_sink(parameters, context, "NEIGHBOURS", layers.NEIGHBOURS, WKB_POINT,
                                                    layers.neighbour_features(outcome.results))
        feedback.pushInfo(tr("located {} photos, {} skipped").format(len(outcome.results), len(outcome.failed)))
        return outputs


def all_algorithms():
    """Fresh instances of every algorithm (QGIS takes ownership of each)."""
    return [BuildDatabase(), AddPhotos(), GeolocatePhotos(), EvaluateAccuracy(), TrainFeatures(), LocateWorldwide()]
