"""Command line: build | add | locate | evaluate | info | train | cells | view | reindex | verify | pack |
install | packs | download-model | world | write-gps | add-reviewed | request (one engine request as JSON,
for the panel's external engine).
User mistakes are one line on stderr and exit status 2, a bug its traceback and exit status 3;
`--progress json` prints one JSON object per line for another process to follow, the last one the
result (stage "result") or the failure (stage "error")."""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from pathlib import Path

from .defaults import (
    AUTO_DENSITY_RESOLUTION,
    DEFAULT_ARCHITECTURE,
    DEFAULT_BANDWIDTH_KM,
    DEFAULT_DENSITY_RESOLUTION_DEG,
    DEFAULT_ESTIMATOR,
    DEFAULT_FINETUNE_EPOCHS,
    DEFAULT_GALLERY_TOP_K,
    DEFAULT_GEO_DIM,
    DEFAULT_K,
    DEFAULT_POOLING,
    DEFAULT_SMOOTHING_KM,
    DEFAULT_T_MAX,
    DEFAULT_T_MIN,
    DEFAULT_TEMPERATURE,
    DEFAULT_TRAINING_EPOCHS,
    DEFAULT_VIEW_NAME,
    POOLINGS,
)
from .embedder_registry import architecture_help
from .errors import OptionError, UserError, internal_message, is_user_error, user_message
from .estimator_registry import ESTIMATORS
from .files import PHOTO_EXTENSIONS, display_path
from .options import check
from .progress import Cancelled, Progress
from .storage import utc_now

EXIT_USER_ERROR = 2
EXIT_INTERNAL_ERROR = 3  # a bug: its traceback, and a line asking for a report
EXIT_CANCELLED = 130


class OneLineParser(argparse.ArgumentParser):
    """Usage mistakes as one `error:` line (exit 2), like every other user error; --help shows usage."""

    def error(self, message: str):
        print(f"error: {self.prog}: {message} (see --help)", file=sys.stderr)
        sys.exit(EXIT_USER_ERROR)


def whole_option(name: str):
    """An argparse type: a whole number within the option's bounds (options.BOUNDS), refused in one line."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
        try:
            check(name, value)
        except OptionError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        return value
    return parse


def density_resolution_option(text: str) -> float:
    """An argparse type: `auto` (AUTO_DENSITY_RESOLUTION: the bandwidth / 8 on a 1-2-5 step) or degrees
    per cell, more than 0 and within the option's bounds, refused in one line."""
    if text.strip().lower() == "auto":
        return AUTO_DENSITY_RESOLUTION
    try:
        value = float(text)
        if value <= 0:
            raise OptionError(f"density resolution must be more than 0 degrees, or auto (got {text!r})")
        check("density_resolution_deg", value)
    except OptionError as exc:  # before ValueError, which it is
        raise argparse.ArgumentTypeError(str(exc)) from None
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of degrees nor auto") from None
    return value


class ProgressPrinter:
    """Progress as a tqdm bar on a terminal, JSON lines, or nothing."""

    def __init__(self, mode: str):
        self.mode = "bar" if mode == "auto" and sys.stderr.isatty() else ("none" if mode == "auto" else mode)
        self._bar = None
        self._stage = None

    def __call__(self, progress: Progress) -> None:
        if self.mode == "json":
            print(json.dumps(progress.as_dict()), flush=True)
        elif self.mode == "bar":
            from tqdm import tqdm

            if progress.stage != self._stage:
                self.close()
                self._stage = progress.stage
                self._bar = tqdm(total=progress.total, desc=progress.stage, unit="photo", file=sys.stderr)
            self._bar.n = progress.done
            self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def result(self, text: str, data: dict) -> None:
        if self.mode == "json":
            print(json.dumps({"stage": "result", **data}), flush=True)
        else:
            print(text)

    def failure(self, message: str, details: str | None = None, bug: str = "") -> None:
        """The `error:` line on stderr; in JSON, also the failure's event: the user's message, or for a bug
        what failed (`bug`) and its traceback (`details`)."""
        print(f"error: {message}", file=sys.stderr, flush=True)
        if self.mode == "json":
            print(json.dumps({"stage": "error", "user": details is None, "message": bug or message,
                              "details": details or ""}), flush=True)


def _add_embedder_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--architecture", default=DEFAULT_ARCHITECTURE, help=architecture_help())
    parser.add_argument("--weights", help="state-dict file for --architecture (the bundled one needs none)")
    _add_model_options(parser)
    parser.add_argument("--pooling", choices=POOLINGS, default=DEFAULT_POOLING, help="global pooling of the feature map")
    parser.add_argument("--batch-size", type=whole_option("batch_size"),
                        help="photos per network batch (default 32 on a CPU, 256 on a GPU)")
    parser.add_argument("--device", default="auto", help="where the network runs: auto (CUDA when present), cpu or cuda")


def _add_dataset_options(parser: argparse.ArgumentParser) -> None:
    """Options of builds from dataset shards and URL lists (geoloc_core.shards, geoloc_core.distributed)."""
    parser.add_argument("--engine", choices=("local", "ray"), default="local",
                        help="local: this process; ray: a Ray cluster (a local one when --address is not given); "
                             "ray reads dataset shards or a URL list")
    parser.add_argument("--address", help="the Ray cluster to use, e.g. 10.0.0.5:6379 (with --engine ray)")
    parser.add_argument("--workers", type=whole_option("workers"),
                        help="embedding workers (with --engine ray; default: one per GPU of the cluster, or 1)")
    parser.add_argument("--lat-field", help="the shards' latitude field (default: lat, latitude or y)")
    parser.add_argument("--lon-field", help="the shards' longitude field (default: lon, lng, long, longitude or x)")
    parser.add_argument("--download-dir", type=Path, help="where a URL list is downloaded to as shards (default: "
                                                          "DATABASE.download beside the database)")
    parser.add_argument("--work-dir", type=Path, help="the Ray build's per-shard embeddings (default: DATABASE.work; "
                                                      "removed when the build is complete)")


def _add_locate_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-k", type=int, default=DEFAULT_K, help=f"neighbours to retrieve (default {DEFAULT_K})")
    parser.add_argument("--estimator", choices=ESTIMATORS.names(), default=DEFAULT_ESTIMATOR,
                        help="; ".join(f"{e.name}: {e.label}" for e in ESTIMATORS) + f" (default {DEFAULT_ESTIMATOR}; "
                             "docs/estimators.md says more)")
    parser.add_argument("--bandwidth", type=float, default=DEFAULT_BANDWIDTH_KM,
                        help=f"KDE kernel size in km (default {DEFAULT_BANDWIDTH_KM:g})")
    parser.add_argument("--temperature", type=float, default=DEFAULT_TEMPERATURE,
                        help=f"similarity weighting: lower trusts the best matches more (default {DEFAULT_TEMPERATURE:g})")


def _add_context_options(parser: argparse.ArgumentParser) -> None:
    """What the analyst knows (geoloc_core/context): any of these turns the context on."""
    group = parser.add_argument_group("context (docs/context.md)")
    group.add_argument("--area", type=Path, metavar="FILE",
                       help="search only references inside this area's polygons (GeoJSON, GPKG, any OGR vector file)")
    group.add_argument("--area-country", metavar="NAME", help="search only references inside this country (name as in "
                       "Natural Earth, e.g. France, or its ISO code, FR)")
    group.add_argument("--area-bbox", metavar="W,S,E,N", help="search only references inside this box (degrees)")
    group.add_argument("--area-mode", choices=("restrict", "prior"), default="restrict",
                       help="restrict: only references inside; prior: references outside count less (default restrict)")
    group.add_argument("--track", type=Path, metavar="FILE",
                       help="a GPS track (GPX, or a CSV/GPKG of points with a time field): where it speaks it decides")
    group.add_argument("--track-max-gap", type=float, default=600.0, metavar="SECONDS",
                       help="the track does not speak between fixes further apart than this (default 600)")
    group.add_argument("--time-offset", metavar="OFFSET",
                       help="how far the camera clock ran ahead of the true time: seconds or [+-]HH:MM[:SS], a "
                            "negative one as --time-offset=-00:02 (default: estimated from photos with GPS time, else 0)")
    group.add_argument("--time-zone", metavar="ZONE", help="the camera's time zone where its times carry none, e.g. "
                       "+02:00 (default UTC)")
    group.add_argument("--streams", action=argparse.BooleanOptionalAction, default=None,
                       help="locate photos taken close in time jointly; photos with EXIF GPS (or a CSV anchor) become "
                            "anchors (default: on; with no other context option, `locate` runs the pass only where a "
                            "photo with EXIF GPS shares a stream with photos without)")
    group.add_argument("--stream-gap", type=float, default=3 * 3600.0, metavar="SECONDS",
                       help="a pause longer than this starts a new stream (default 10800)")
    group.add_argument("--no-filename-times", action="store_true",
                       help="do not read capture times from file names like IMG_20230512_101502.jpg")


def _context_request(args):
    """The context the options ask for, or None where none is given (photos located one by one)."""
    from .context.area import AreaError
    from .context.run import ContextRequest

    areas = [a for a in (args.area, args.area_country, args.area_bbox and f"bbox:{args.area_bbox}") if a]
    if len(areas) > 1:
        raise UserError("give one of --area, --area-country and --area-bbox")
    if args.area is not None and not args.area.exists():
        raise AreaError(f"{args.area}: area file not found")
    given = (areas or args.track or args.time_offset or args.time_zone or args.streams is not None
             or args.area_mode != "restrict")
    if not given:
        return None
    return ContextRequest(str(areas[0]) if areas else None, args.area_mode, str(args.track) if args.track else None,
                          args.track_max_gap, args.time_offset, args.time_zone, args.streams is not False,
                          args.stream_gap, not args.no_filename_times)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m geoloc_core", description=__doc__)
    parser.add_argument("--progress", choices=("auto", "bar", "json", "none"), default="auto",
                        help="progress display (json: one object per line on stdout)")
    commands = parser.add_subparsers(dest="command", required=True)

    build = commands.add_parser("build", help="create a reference database (or resume one) from photos")
    build.add_argument("database", type=Path, help="database folder to create, e.g. field-photos.geoloc")
    build.add_argument("source", type=Path, help="folder of photos with EXIF GPS, CSV with path,lat,lon, folder of "
                                                 "WebDataset .tar shards, or URL list (.csv/.parquet with url,lat,lon)")
    _add_embedder_options(build)
    _add_dataset_options(build)

    add = commands.add_parser("add", help="add photos to a database; photos already in it are skipped")
    add.add_argument("database", type=Path)
    add.add_argument("source", type=Path, help="folder of photos with EXIF GPS, or CSV with path,lat,lon")
    add.add_argument("--weights", help="the weights file the database was built with (if not bundled; a CLIP-family "
                        "model: its models folder, if not where it was downloaded)")
    add.add_argument("--batch-size", type=whole_option("batch_size"),
                     help="photos per network batch (default 32 on a CPU, 256 on a GPU)")
    add.add_argument("--device", default="auto", help="where the network runs: auto (CUDA when present), cpu or cuda")

    locate = commands.add_parser("locate", help="predict where photos were taken")
    locate.add_argument("database", type=Path, help="database folder, pack file or installed pack name")
    locate.add_argument("photos", nargs="+", type=Path, help="photo files or folders")
    locate.add_argument("--also", action="append", type=Path, default=[], metavar="DATABASE",
                        help="also search this database, pack file or installed pack (repeatable): neighbours are "
                             "merged by similarity")
    locate.add_argument("--packs-dir", type=Path, help="where packs are installed (default: the QGIS default "
                                                       "profile's photo_geolocator/packs, or $GEOLOC_PACKS_DIR)")
    locate.add_argument("-o", "--output", type=Path, help="write results: .csv, .geojson or .gpkg")
    locate.add_argument("--density", type=Path, help="also write one density GeoTIFF for the run: band 1 the "
                        "highest density of any photo, then one band per photo")
    locate.add_argument("--density-dir", type=Path, help="also write one density GeoTIFF per photo here")
    locate.add_argument("--density-resolution", type=density_resolution_option,
                        default=DEFAULT_DENSITY_RESOLUTION_DEG, metavar="DEGREES|auto",
                        help="degrees per density cell, given exactly; auto (the default): the bandwidth / 8 "
                             "rounded down to a 1-2-5 step (1 degree for 1000 km), the finest detail its kernels "
                             "have; the raster's metadata says which (RESOLUTION_DEG, RESOLUTION_SOURCE)")
    locate.add_argument("--density-extent", choices=("around", "world"), default="around",
                        help="the run's raster around where the photos' densities hold mass (default) or over the "
                        "whole world (each photo's own GeoTIFF covers only where its density holds mass)")
    locate.add_argument("--overwrite", action="store_true", help="replace existing output files")
    locate.add_argument("--weights", help="the weights file the database was built with (if not bundled; a CLIP-family "
                        "model: its models folder, if not where it was downloaded)")
    _add_locate_options(locate)
    _add_context_options(locate)

    evaluate = commands.add_parser("evaluate", help="accuracy on photos with known coordinates (leave-one-out)")
    evaluate.add_argument("database", type=Path)
    evaluate.add_argument("source", type=Path, help="folder of photos with EXIF GPS, or CSV with path,lat,lon")
    evaluate.add_argument("--json", type=Path, help="also write the per-photo errors and summary as JSON")
    evaluate.add_argument("--weights", help="the weights file the database was built with (if not bundled; a CLIP-family "
                        "model: its models folder, if not where it was downloaded)")
    _add_locate_options(evaluate)
    _add_context_options(evaluate)

    train = commands.add_parser("train", help="learn geolocation features on a database (geocell classifier)")
    train.add_argument("database", type=Path)
    train.add_argument("--name", default=DEFAULT_VIEW_NAME, help=f"name of the trained view (default {DEFAULT_VIEW_NAME})")
    train.add_argument("--t-max", type=int, default=DEFAULT_T_MAX,
                       help=f"most photos in one geocell (default {DEFAULT_T_MAX})")
    train.add_argument("--t-min", type=int, default=DEFAULT_T_MIN,
                       help=f"fewer photos and a cell is dropped (default {DEFAULT_T_MIN})")
    train.add_argument("--geo-dim", type=int, default=DEFAULT_GEO_DIM,
                       help=f"size of the learned geo-embedding (default {DEFAULT_GEO_DIM})")
    train.add_argument("--epochs", type=int, default=DEFAULT_TRAINING_EPOCHS,
                       help="most training epochs (early stopping ends sooner)")
    train.add_argument("--smoothing", type=float, default=DEFAULT_SMOOTHING_KM,
                       help=f"label smoothing between cells by distance, in km (0: none; default {DEFAULT_SMOOTHING_KM:g})")
    train.add_argument("--cells-output", type=Path, help="also write the geocells as polygons (.geojson or .gpkg)")
    train.add_argument("--finetune", action="store_true",
                       help="also fine-tune the backbone end to end on the photos, with augmentation (slow on a "
                            "CPU: for users with time or a GPU)")
    train.add_argument("--finetune-epochs", type=int, default=DEFAULT_FINETUNE_EPOCHS,
                       help=f"epochs of end-to-end training (default {DEFAULT_FINETUNE_EPOCHS})")
    train.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")

    cells = commands.add_parser("cells", help="write the trained view's geocells as a polygon layer")
    cells.add_argument("database", type=Path)
    cells.add_argument("-o", "--output", type=Path, required=True, help=".geojson or .gpkg")
    cells.add_argument("--overwrite", action="store_true")

    view = commands.add_parser("view", help="choose which trained view locate uses ('none': base features)")
    view.add_argument("database", type=Path)
    view.add_argument("name")

    reindex = commands.add_parser("reindex", help="train the database's search index again (adds do it when the "
                                                  "size calls for another index)")
    reindex.add_argument("database", type=Path)
    reindex.add_argument("--factory", help="a faiss index_factory string with IVF to use instead of the one chosen "
                                           "by size (kept as the database grows), or 'auto' to go back to choosing")

    verify = commands.add_parser("verify", help="re-read the whole database and check every checksum")
    verify.add_argument("database", type=Path)

    request = commands.add_parser("request", help="run one engine request given as JSON and print its outcome's "
                                                  "JSON (what the QGIS panel's external engine sends)")
    request.add_argument("file", help="the request's JSON file, or - to read it from stdin")

    info = commands.add_parser("info", help="describe a database")
    info.add_argument("database", type=Path)
    info.add_argument("--records", action="store_true", help="also list every reference photo (JSON output)")
    _add_pack_commands(commands)
    _add_model_commands(commands)
    _add_review_commands(commands)
    return parser


def _statuses(text: str) -> tuple[str, ...]:
    """An argparse type: review statuses separated by commas, each one that can be written."""
    from .gps_write import check_statuses

    try:
        return check_statuses(text.split(","))
    except OptionError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_review_commands(commands) -> None:
    statuses = dict(type=_statuses, default=("accepted", "moved"), metavar="STATUS[,STATUS]",
                    help="which review states to take (accepted, moved, unreviewed; default accepted,moved)")
    write = commands.add_parser("write-gps", help="write the reviewed locations of a results file into the photos' "
                                                  "EXIF GPS (an XMP sidecar for HEIC and other formats)")
    write.add_argument("results", type=Path, help="the .gpkg or .csv results file that locate -o or the panel wrote")
    write.add_argument("--status", **statuses)
    write.add_argument("--dry-run", action="store_true", help="list what would change and change nothing")
    write.add_argument("--sidecar", action="store_true", help="write XMP sidecars only, never into the photos")
    write.add_argument("--sidecar-name", choices=("full", "stem"), default="full",
                       help="full: IMG_1.HEIC.xmp (darktable, digiKam; default); stem: IMG_1.xmp (Lightroom)")
    write.add_argument("--no-backup", action="store_true",
                       help="keep no <name>_original copy of each photo (such writes cannot be undone)")
    write.add_argument("--allow-changed", action="store_true",
                       help="also write photos modified since the run (their content is not checked)")
    write.add_argument("--undo", action="store_true",
                       help="put back what earlier writes for these results changed, from the backups")
    add = commands.add_parser("add-reviewed", help="add the reviewed photos of a results file to a reference "
                                                   "database at their reviewed location (marked analyst-reviewed)")
    add.add_argument("results", type=Path, help="the .gpkg or .csv results file that locate -o or the panel wrote")
    add.add_argument("database", type=Path, help="the database folder to add them to")
    add.add_argument("--status", **statuses)
    add.add_argument("--weights", help="the weights file the database was built with (if not bundled; a CLIP-family "
                        "model: its models folder, if not where it was downloaded)")


def _add_model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--models-dir", type=Path, help="where downloaded models are kept (default: the QGIS default "
                                                        "profile's photo_geolocator/models, or $GEOLOC_MODELS_DIR)")
    parser.add_argument("--download", action="store_true",
                        help="download the --architecture model first if it is not there yet (CLIP family)")


def _add_model_commands(commands) -> None:
    fetch = commands.add_parser("download-model", help="download a CLIP-family model (size shown first; resumes an "
                                                       "interrupted download)")
    fetch.add_argument("name", help="clip_vit_b32, clip_vit_l14 or geoclip")
    fetch.add_argument("--revision", default="main", help="hub revision (default main, pinned to its commit)")
    fetch.add_argument("--models-dir", type=Path, help="where downloaded models are kept (default: the QGIS default "
                                                       "profile's photo_geolocator/models, or $GEOLOC_MODELS_DIR)")

    world = commands.add_parser("world", help="locate photos with no reference database, from GeoCLIP's GPS gallery")
    world.add_argument("photos", nargs="+", type=Path, help="photo files or folders")
    world.add_argument("--top-k", type=whole_option("top_k"), default=DEFAULT_GALLERY_TOP_K,
                       help=f"gallery points kept per photo (default {DEFAULT_GALLERY_TOP_K})")
    world.add_argument("-o", "--output", type=Path, help="write results: .csv, .geojson or .gpkg")
    world.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    _add_model_options(world)


def _add_pack_commands(commands) -> None:
    packs_help = ("where packs are installed (default: the QGIS default profile's photo_geolocator/packs, or "
                  "$GEOLOC_PACKS_DIR)")
    pack = commands.add_parser("pack", help="write a database as one portable reference pack (no photos, credits kept)")
    pack.add_argument("database", type=Path)
    pack.add_argument("output", type=Path, help="the pack file to write, e.g. my-area.geolocpack")
    pack.add_argument("--name", help="the pack's name (default: the database folder's)")
    pack.add_argument("--title", default="", help="a one-line description shown in the panel")
    pack.add_argument("--notice", type=Path, help="a text file with the licence notice to ship in the pack")
    pack.add_argument("--licence-attribute", default="licence", help="the attribute holding each photo's licence")
    pack.add_argument("--author-attribute", default="author", help="the attribute holding each photo's author")
    pack.add_argument("--source-attribute", default="source_url", help="the attribute holding each photo's link")
    pack.add_argument("--licence", help="licence of photos without a licence attribute (e.g. 'CC BY 4.0')")
    pack.add_argument("--author", help="author of photos without an author attribute")
    pack.add_argument("--no-thumbnails", action="store_true", help="leave out the 96-pixel thumbnails")
    pack.add_argument("--overwrite", action="store_true")

    install = commands.add_parser("install", help="install a reference pack from a file or an http(s) URL")
    install.add_argument("source", help="a .geolocpack file or its URL")
    install.add_argument("--sha256", help="the pack's published SHA-256: refuse any other file")
    install.add_argument("--packs-dir", type=Path, help=packs_help)

    packs = commands.add_parser("packs", help="list the installed reference packs")
    packs.add_argument("--packs-dir", type=Path, help=packs_help)


def _locate_request(args, density_resolution=None):
    from .service import LocateRequest

    return LocateRequest(args.database, [], args.k, args.estimator, args.bandwidth, args.temperature,
                         density_resolution, density_world=getattr(args, "density_extent", None) == "world",
                         also=getattr(args, "also", []), weights=args.weights,
                         packs_dir=getattr(args, "packs_dir", None),
                         context=_context_request(args) if hasattr(args, "streams") else None)


def _open_search(session, request):
    """Open what the request searches before any photo is read, saying why a trained view is not used."""
    from .searchset import SearchSet

    searched = session.searched(request)
    for warning in searched.warnings if isinstance(searched, SearchSet) else []:
        print(f"warning: {warning}", file=sys.stderr)
    return searched


def _report_located(outcome, photos: list, unlisted: list, printer: ProgressPrinter) -> None:
    """Say which photos were passed over and why; refuse a run that located none."""
    printer.close()
    outcome.failed[:0] = unlisted
    _print_report_problems(outcome)
    if not outcome.results:
        if printer.mode == "json":  # a program following the run still gets each photo's reason
            printer.result("", {**outcome.to_dict(), "written": []})
        raise UserError(f"none of the {len(photos)} photo(s) could be located (each one's reason is on a skipped line)")


def _print_report_problems(report) -> None:
    for item in [*report.skipped, *report.failed] if hasattr(report, "skipped") else report.failed:
        print(f"skipped {item}", file=sys.stderr)


def run_build(args, printer: ProgressPrinter) -> int:
    from .service import BuildRequest, build
    from .shards import is_shard_folder, is_url_list
    from .sources import from_source

    if args.command == "build" and args.engine != "ray" and (args.address or args.workers):
        raise UserError("--address and --workers apply to --engine ray only")
    if args.command == "build" and (args.engine == "ray" or is_shard_folder(args.source) or is_url_list(args.source)):
        return run_dataset_build(args, printer)
    candidates, skipped = from_source(args.source)
    if not candidates:  # before a database is made: a build that adds nothing is a failure, with each reason
        for item in skipped:
            print(f"skipped {item}", file=sys.stderr)
        raise UserError(f"{display_path(args.source)}: no usable photo to add ({len(skipped)} passed over, each "
                        "one's reason is on a skipped line)")
    if args.command == "add":
        request = BuildRequest(args.database, add=True, weights=args.weights)
    else:
        request = BuildRequest(args.database, architecture=args.architecture, pooling=args.pooling,
                               weights=_model_weights(args, args.architecture, printer))
    request.device, request.batch_size = args.device, args.batch_size
    database, report = build(request, candidates, printer)
    return _finish_build(database, report, skipped, printer)


def _finish_build(database, report, skipped, printer: ProgressPrinter) -> int:
    printer.close()
    report.skipped[:0] = skipped
    _print_report_problems(report)
    if not (report.added or report.already_present or report.cancelled):
        database.close()
        raise UserError(f"{display_path(database.path)}: nothing was added (each photo's reason is on a skipped line)")
    printer.result(f"{database.path}: {report.summary()}; {database.count} photos in the database",
                   {"database": str(database.path), "count": database.count, **report.to_dict()})
    database.close()
    return EXIT_CANCELLED if report.cancelled else 0


def run_dataset_build(args, printer: ProgressPrinter) -> int:
    """A build from WebDataset shards or a URL list (downloaded first), in this process or on Ray."""
    from .service import BuildRequest, DatasetRequest, build_dataset
    from .shards import is_url_list

    dataset = DatasetRequest(args.source, args.engine, args.address, args.workers, args.work_dir, args.download_dir,
                             args.lat_field, args.lon_field)
    dataset.check_engine()  # before the model download
    if is_url_list(args.source):
        _check_output(dataset.download_folder(args.database), args.database, folder=True)
    if args.engine == "ray":
        _check_output(args.work_dir, args.database, folder=True)
    request = BuildRequest(args.database, architecture=args.architecture, pooling=args.pooling,
                           weights=_model_weights(args, args.architecture, printer), device=args.device,
                           batch_size=args.batch_size)
    database, report = build_dataset(request, dataset, printer)
    return _finish_build(database, report, [], printer)


def _expand_photos(paths: list[Path]) -> tuple[list[Path], list]:
    """The photo files named, those inside the folders named, and what could not be listed."""
    from .files import find_photos
    from .sources import Skipped

    expanded, problems = [], []
    for path in paths:
        expanded.extend(find_photos(path, problems=problems) if os.path.isdir(path) else [path])
    if not expanded:
        raise UserError(f"{', '.join(display_path(p) for p in paths)}: no photos found "
                        f"(looked for {', '.join(sorted(PHOTO_EXTENSIONS))})")
    return expanded, [Skipped(p.path, p.reason) for p in problems]


def _check_output(path: Path | None, database: Path, folder: bool = False) -> None:
    """Refuse, before any work is done, an output that would land inside the reference database (and
    could replace its files) or that cannot be written where it is asked."""
    if path is None:
        return
    inside = database.resolve()
    if path.resolve() == inside or inside in path.resolve().parents:
        raise UserError(f"{display_path(path)}: is inside the reference database {display_path(database)}; "
                        "write outputs elsewhere")
    if folder:
        if path.exists() and not path.is_dir():
            raise UserError(f"{display_path(path)}: is a file, not a folder")
        return
    if path.is_dir():
        raise UserError(f"{display_path(path)}: is a folder; give a file name")
    if not path.parent.is_dir():
        raise UserError(f"{display_path(path.parent)}: folder not found")


def run_locate(args, printer: ProgressPrinter) -> int:
    from .export import check_file_output, check_results_output, write_results
    from .service import Session

    density = args.density_resolution if args.density or args.density_dir else None
    request = _locate_request(args, density)
    request.density_path, request.density_dir, request.overwrite = args.density, args.density_dir, args.overwrite
    request.options()  # bad values are refused before anything is read
    _check_output(args.output, args.database)
    _check_output(args.density_dir, args.database, folder=True)
    _check_output(args.density, args.database)
    if args.output:
        check_results_output(args.output, args.overwrite)
    if args.density:
        check_file_output(args.density, args.overwrite)
    photos, unlisted = _expand_photos(args.photos)
    request.photos = photos
    with Session() as session:
        _open_search(session, request)
        for reference in request.also:
            _check_output(args.output, reference)
        outcome = session.locate(request, printer)
    _report_located(outcome, photos, unlisted, printer)
    run_time = utc_now()
    written = []
    if args.output:
        written += write_results(args.output, outcome.results, outcome.reference, run_time, args.overwrite)
    written += ([outcome.density_path] if outcome.density_path else []) + list(outcome.density_paths.values())
    lines = [f"{display_path(r.photo)}\t{r.lat:.5f}\t{r.lon:.5f}\tconfidence {r.confidence:.2f}\t"
             f"50% within {r.radius50_km:.0f} km\t90% within {r.radius90_km:.0f} km"
             + (f"\tevidence {r.evidence}" if request.context is not None or r.evidence != "pixels" else "")
             + (f"\t{r.note}" if r.note else "")
             for r in outcome.results]
    lines += [f"wrote {display_path(p)}" for p in written]
    printer.result("\n".join(lines), {**outcome.to_dict(), "written": [str(p) for p in written]})
    return 0


def run_evaluate(args, printer: ProgressPrinter) -> int:
    from .service import Session
    from .sources import from_source
    from .storage import atomic_write_json

    _check_output(args.json, args.database)
    request = _locate_request(args)
    request.options()  # bad values are refused before anything is read

    with Session() as session:
        searched = _open_search(session, request)
        items, skipped = from_source(args.source)
        report = session.evaluate(request, items, printer)
        view = searched.view
    printer.close()
    report.failed[:0] = skipped
    _print_report_problems(report)
    if view is not None and any(row.left_out for row in report.rows):
        print(f"note: trained view '{view.name}' was trained on these photos, so these figures "
              "are optimistic; bench/features.py measures trained features with grouped cross-validation",
              file=sys.stderr)
    if args.json:
        atomic_write_json(args.json, report.to_dict())
    printer.result(report.table(), report.summary())
    return 0


def run_info(args, printer: ProgressPrinter) -> int:
    from .database import ReferenceDatabase
    from .service import DatabaseInfo

    with ReferenceDatabase.open(args.database) as database:
        manifest = database.manifest
        text = "\n".join([
            f"database   {database.path}",
            f"photos     {database.count}",
            f"embedder   {database.identity.describe()}",
            f"features   {('trained view ' + database.view.name) if database.view else 'base (ImageNet)'}",
            f"index      {_describe_index(manifest['index'])}",
            f"metric     {manifest['metric']}",
            f"created    {manifest['created']}",
            f"updated    {manifest['updated']}",
            *[f"warning    {w}" for w in database.warnings],
        ])
        data = {**DatabaseInfo.of(database).to_dict(), "manifest": manifest}
        if args.records:
            data["records"] = [vars(r) for r in database.all_records()]
        printer.result(text, data)
    return 0


def _describe_index(entry: dict) -> str:
    if entry["factory"] == "Flat":
        return "exact search over the stored float16 vectors"
    return (f"{entry['factory']} (nprobe {entry['nprobe']}, {entry['covered']} vectors indexed, the rest searched "
            f"exactly{', chosen by hand' if entry.get('forced') else ''}), re-ranked exactly")


def run_reindex(args, printer: ProgressPrinter) -> int:
    from .database import ReferenceDatabase
    from .search_index import plan_for

    with ReferenceDatabase.open(args.database, writable=True) as database:
        forced = args.factory not in (None, "auto")
        plan = plan_for(database.count, database.identity.dimension, args.factory if forced else None)
        database.reindex(plan, forced, printer)
        printer.close()
        entry = database.manifest["index"]
        printer.result(f"{database.path}: {_describe_index(entry)}", {"database": str(database.path), "index": entry})
    return 0


def run_verify(args, printer: ProgressPrinter) -> int:
    from .database import DamagedDatabaseError, ReferenceDatabase

    with ReferenceDatabase.open(args.database) as database:
        problems = database.verify(printer)
        printer.close()
        if problems:
            raise DamagedDatabaseError(f"{database.path}: damaged database: {'; '.join(problems)}")
        printer.result(f"{database.path}: {database.count} photos, all intact",
                       {"database": str(database.path), "count": database.count, "problems": []})
    return 0


def run_train(args, printer: ProgressPrinter) -> int:
    from .export import write_cells
    from .service import TrainRequest, train

    if not args.finetune and args.device != "auto":
        raise UserError("--device applies to --finetune only (the head trains on the CPU)")
    request = TrainRequest(str(args.database), args.name, args.t_max, args.t_min, args.geo_dim, args.epochs,
                           args.smoothing, args.finetune_epochs if args.finetune else None, args.device)
    _check_output(args.cells_output, args.database)
    summary = train(request, printer, warn=lambda warning: print(f"warning: {warning}", file=sys.stderr, flush=True))
    printer.close()
    if args.cells_output:
        write_cells(args.cells_output, summary.trained.partition, overwrite=True)
    printer.result(f"{args.database}: {summary.text()}; locate now uses it",
                   {"database": str(args.database), **summary.to_dict()})
    return 0


def run_cells(args, printer: ProgressPrinter) -> int:
    from .database import DatabaseError, ReferenceDatabase
    from .export import write_cells

    _check_output(args.output, args.database)
    with ReferenceDatabase.open(args.database) as database:
        if database.view is None:
            raise DatabaseError(f"{database.path}: no trained view; run `python -m geoloc_core train` first")
        written = write_cells(args.output, database.view.partition, args.overwrite)
        printer.result(f"wrote {len(database.view.partition)} geocells to {written}", {"written": str(written)})
    return 0


def run_view(args, printer: ProgressPrinter) -> int:
    from .database import ReferenceDatabase
    from .feature_space import use_view

    with ReferenceDatabase.open(args.database, writable=True) as database:
        use_view(database, None if args.name == "none" else args.name)
        printer.result(f"{database.path}: locate uses {'base features' if args.name == 'none' else args.name}",
                       {"view": args.name})
    return 0


def run_pack(args, printer: ProgressPrinter) -> int:
    from .packs import PackCredits, pack, read_notice

    _check_output(args.output, args.database)
    notice = read_notice(args.notice) if args.notice else ""
    credits = PackCredits(args.licence_attribute, args.author_attribute, args.source_attribute, args.licence,
                          args.author)
    info = pack(args.database, args.output, args.name, args.title, notice, credits, not args.no_thumbnails,
                args.overwrite, printer)
    printer.close()
    printer.result(f"wrote {display_path(args.output)}: {info.summary()}; SHA-256 {info.sha256}", info.to_dict())
    return 0


def run_install(args, printer: ProgressPrinter) -> int:
    from .service import install_pack

    info = install_pack(args.source, args.packs_dir, args.sha256, printer)
    printer.close()
    printer.result(f"installed {info.summary()} in {display_path(info.path)}", info.to_dict())
    return 0


def run_packs(args, printer: ProgressPrinter) -> int:
    from .packs import default_packs_dir, installed_packs

    folder = args.packs_dir or default_packs_dir()
    found = installed_packs(folder)
    lines = [f"{info.summary()}\t{display_path(info.path)}" for info in found] or [f"no packs installed in {folder}"]
    printer.result("\n".join(lines), {"packs_dir": str(folder), "packs": [info.to_dict() for info in found]})
    return 0


def _model_weights(args, name: str, printer: ProgressPrinter):
    """--weights, or for a downloadable model its models folder (downloaded first with --download)."""
    from .service import download_missing_model, weights_for

    if args.download:
        download_missing_model(name, args.models_dir, printer, announce=_announcer(name, args.models_dir))
        printer.close()
    return weights_for(name, getattr(args, "weights", None), args.models_dir)


def _announcer(name: str, models_dir):
    """What a download tells on stderr before it starts: the model's files, size and folder."""
    from .clip_embedders import model_folder

    def announce(listing) -> None:
        print(f"{name}: {listing.repo_id}@{listing.revision[:12]}, {len(listing.files)} files, "
              f"{listing.total_bytes / 1e6:,.1f} MB into {display_path(model_folder(name, models_dir))}",
              file=sys.stderr)
    return announce


def run_download_model(args, printer: ProgressPrinter) -> int:
    from .clip_embedders import choice, model_folder
    from .service import download_model

    choice(args.name)
    record = download_model(args.name, args.models_dir, args.revision, printer,
                            announce=_announcer(args.name, args.models_dir))
    printer.close()
    folder = model_folder(args.name, args.models_dir)
    printer.result(f"{args.name}: {record['repo_id']}@{record['revision']} in {display_path(folder)}",
                   {**record, "folder": str(folder)})
    return 0


def run_request(args, printer: ProgressPrinter) -> int:
    """One request (service.Request.to_dict's JSON) through a Session; the outcome's JSON is the result."""
    from .service import Session, request_from_dict

    source = "standard input" if args.file == "-" else display_path(args.file)
    try:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
        request = request_from_dict(json.loads(text))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{source}: not a JSON engine request ({exc})") from None
    with Session() as session:
        outcome = session.run(request, printer, warn=lambda warning: print(f"warning: {warning}", file=sys.stderr,
                                                                             flush=True))
    printer.close()
    data = outcome.to_dict()
    printer.result(json.dumps(data, indent=1), data)
    return 0


def run_world(args, printer: ProgressPrinter) -> int:
    from .export import check_results_output, write_results
    from .service import Session, WorldwideRequest

    if args.output:
        check_results_output(args.output, args.overwrite)
    photos, unlisted = _expand_photos(args.photos)
    request = WorldwideRequest(photos, args.top_k, _model_weights(args, "geoclip", printer))
    with Session() as session:
        outcome = session.locate_worldwide(request, printer)
    _report_located(outcome, photos, unlisted, printer)
    run_time = utc_now()
    written = write_results(args.output, outcome.results, outcome.reference, run_time, args.overwrite) \
        if args.output else []
    lines = [f"{display_path(r.photo)}\t{r.lat:.5f}\t{r.lon:.5f}\tgallery share within 750 km {r.confidence:.2f}"
             for r in outcome.results] + [f"wrote {display_path(p)}" for p in written]
    printer.result("\n".join(lines), {**outcome.to_dict(), "written": [str(p) for p in written]})
    return 0


def run_write_gps(args, printer: ProgressPrinter) -> int:
    from .service import undo_gps, write_gps

    if args.undo:
        report = undo_gps(args.results, args.dry_run)
    else:
        report = write_gps(args.results, args.status, args.sidecar, args.dry_run, not args.no_backup,
                           args.sidecar_name, args.allow_changed, printer)
    printer.close()
    for row in report.rows:
        if row.outcome == "skipped":
            print(row.line(), file=sys.stderr)
    done = [row for row in report.rows if row.outcome != "skipped"]
    if not done and not report.cancelled:
        raise UserError(f"{display_path(args.results)}: no photo was {'restored' if args.undo else 'written'} "
                        "(each one's reason is on a skipped line)")
    printer.result("\n".join([row.line() for row in done] + [report.summary()]), report.to_dict())
    return EXIT_CANCELLED if report.cancelled else 0


def run_add_reviewed(args, printer: ProgressPrinter) -> int:
    from .service import add_reviewed_to_database

    report = add_reviewed_to_database(args.results, args.database, args.status, printer, weights=args.weights)
    printer.close()
    _print_report_problems(report)
    if not (report.added or report.already_present or report.cancelled):
        raise UserError(f"{display_path(args.database)}: nothing was added (each photo's reason is on a skipped line)")
    printer.result(f"{display_path(args.database)}: {report.summary()}",
                   {"database": str(args.database), **report.to_dict()})
    return EXIT_CANCELLED if report.cancelled else 0


COMMANDS = {"build": run_build, "add": run_build, "locate": run_locate, "evaluate": run_evaluate, "info": run_info,
            "train": run_train, "cells": run_cells, "view": run_view, "reindex": run_reindex, "verify": run_verify,
            "pack": run_pack, "install": run_install, "packs": run_packs, "download-model": run_download_model,
            "world": run_world, "write-gps": run_write_gps, "add-reviewed": run_add_reviewed, "request": run_request}


def main(argv: list[str] | None = None) -> int:
    """Every failure ends here: a user error is one `error:` line naming the file and the problem (exit
    2); a bug is its traceback, then an `error:` line saying it is a bug to report (exit 3)."""
    if hasattr(sys.stdout, "reconfigure"):  # file names that are not UTF-8 must not end a run
        sys.stdout.reconfigure(errors="backslashreplace")
    args = build_parser().parse_args(argv)
    printer = ProgressPrinter(args.progress)
    try:
        return COMMANDS[args.command](args, printer)
    except (Cancelled, KeyboardInterrupt):
        printer.close()
        print("cancelled; committed work is kept (run the same command again to resume)", file=sys.stderr)
        return EXIT_CANCELLED
    except Exception as exc:
        printer.close()
        if is_user_error(exc):
            printer.failure(user_message(exc))
            return EXIT_USER_ERROR
        details = traceback.format_exc()
        print(details, file=sys.stderr, end="")
        printer.failure(internal_message(exc), details, f"{type(exc).__name__}: {' '.join(str(exc).split())}")
        return EXIT_INTERNAL_ERROR
