"""Command line: build | add | locate | evaluate | info. User mistakes are one line on stderr and
exit status 2; `--progress json` prints one JSON object per line for another process to follow."""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime, timezone
from pathlib import Path

from .database import DatabaseError
from .defaults import (
    DEFAULT_BANDWIDTH_KM,
    DEFAULT_ESTIMATOR,
    DEFAULT_K,
    DEFAULT_TEMPERATURE,
    ESTIMATORS,
    training_size_warning,
)
from .embedders import DEFAULT_ARCHITECTURE, POOLINGS, EmbedderError
from .export import ExportError
from .files import PhotoError
from .progress import Cancelled, Progress

EXIT_USER_ERROR = 2
# Test-only hook: abort the process at this progress event, to check that callers survive a crash.
TEST_ABORT_AFTER = int(os.environ.get("GEOLOC_CORE_TEST_ABORT_AFTER", "0") or 0)
EXIT_CANCELLED = 130


class ProgressPrinter:
    """Progress as a tqdm bar on a terminal, JSON lines, or nothing."""

    def __init__(self, mode: str):
        self.mode = "bar" if mode == "auto" and sys.stderr.isatty() else ("none" if mode == "auto" else mode)
        self._bar = None
        self._stage = None
        self._events = 0

    def __call__(self, progress: Progress) -> None:
        self._events += 1
        if self._events == TEST_ABORT_AFTER:  # test-only: a native crash in the middle of a run
            os.abort()
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


def _add_embedder_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--architecture", default=DEFAULT_ARCHITECTURE,
                        help="bundled efficientnet_lite0 (default) or a torchvision classifier name, e.g. resnet50")
    parser.add_argument("--weights", help="state-dict file for --architecture (the bundled one needs none)")
    parser.add_argument("--pooling", choices=POOLINGS, default="avg", help="global pooling of the feature map")
    parser.add_argument("--batch-size", type=int, default=32, help="photos per network batch (default 32)")


def _add_locate_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-k", type=int, default=DEFAULT_K, help=f"neighbours to retrieve (default {DEFAULT_K})")
    parser.add_argument("--estimator", choices=ESTIMATORS, default=DEFAULT_ESTIMATOR,
                        help=f"cascade: continental then regional KDE mode, snapped to the best-supported "
                             f"neighbour; sphere: spherical KDE mode; paper: the authors' grid procedure "
                             f"(default {DEFAULT_ESTIMATOR})")
    parser.add_argument("--bandwidth", type=float, default=DEFAULT_BANDWIDTH_KM,
                        help=f"KDE kernel size in km (default {DEFAULT_BANDWIDTH_KM:g})")
    parser.add_argument("--temperature", type=float, default=DEFAULT_TEMPERATURE,
                        help=f"similarity weighting: lower trusts the best matches more (default {DEFAULT_TEMPERATURE:g})")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m geoloc_core", description=__doc__)
    parser.add_argument("--progress", choices=("auto", "bar", "json", "none"), default="auto",
                        help="progress display (json: one object per line on stdout)")
    commands = parser.add_subparsers(dest="command", required=True)

    build = commands.add_parser("build", help="create a reference database (or resume one) from photos")
    build.add_argument("database", type=Path, help="database folder to create, e.g. field-photos.geoloc")
    build.add_argument("source", type=Path, help="folder of photos with EXIF GPS, or CSV with path,lat,lon")
    _add_embedder_options(build)

    add = commands.add_parser("add", help="add photos to a database; photos already in it are skipped")
    add.add_argument("database", type=Path)
    add.add_argument("source", type=Path, help="folder of photos with EXIF GPS, or CSV with path,lat,lon")
    add.add_argument("--weights", help="the weights file the database was built with (if not bundled)")
    add.add_argument("--batch-size", type=int, default=32)

    locate = commands.add_parser("locate", help="predict where photos were taken")
    locate.add_argument("database", type=Path)
    locate.add_argument("photos", nargs="+", type=Path, help="photo files or folders")
    locate.add_argument("-o", "--output", type=Path, help="write results: .csv, .geojson or .gpkg")
    locate.add_argument("--density-dir", type=Path, help="also write one density GeoTIFF per photo here")
    locate.add_argument("--density-resolution", type=float, default=0.1, help="degrees per density cell")
    locate.add_argument("--density-extent", choices=("around", "world"), default="around",
                        help="around each prediction (default) or the whole world")
    locate.add_argument("--overwrite", action="store_true", help="replace existing output files")
    locate.add_argument("--weights", help="the weights file the database was built with (if not bundled)")
    _add_locate_options(locate)

    evaluate = commands.add_parser("evaluate", help="accuracy on photos with known coordinates (leave-one-out)")
    evaluate.add_argument("database", type=Path)
    evaluate.add_argument("source", type=Path, help="folder of photos with EXIF GPS, or CSV with path,lat,lon")
    evaluate.add_argument("--json", type=Path, help="also write the per-photo errors and summary as JSON")
    evaluate.add_argument("--weights", help="the weights file the database was built with (if not bundled)")
    _add_locate_options(evaluate)

    train = commands.add_parser("train", help="learn geolocation features on a database (geocell classifier)")
    train.add_argument("database", type=Path)
    train.add_argument("--name", default="geocells", help="name of the trained view (default geocells)")
    train.add_argument("--t-max", type=int, default=50, help="most photos in one geocell (default 50)")
    train.add_argument("--t-min", type=int, default=5, help="fewer photos and a cell is dropped (default 5)")
    train.add_argument("--geo-dim", type=int, default=128, help="size of the learned geo-embedding (default 128)")
    train.add_argument("--epochs", type=int, default=300, help="most training epochs (early stopping ends sooner)")
    train.add_argument("--smoothing", type=float, default=500.0,
                       help="label smoothing between cells by distance, in km (0: none; default 500)")
    train.add_argument("--cells-output", type=Path, help="also write the geocells as polygons (.geojson or .gpkg)")
    train.add_argument("--finetune", action="store_true",
                       help="also fine-tune the backbone end to end on the photos, with augmentation (slow on a "
                            "CPU: for users with time or a GPU)")
    train.add_argument("--finetune-epochs", type=int, default=10, help="epochs of end-to-end training (default 10)")
    train.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")

    cells = commands.add_parser("cells", help="write the trained view's geocells as a polygon layer")
    cells.add_argument("database", type=Path)
    cells.add_argument("-o", "--output", type=Path, required=True, help=".geojson or .gpkg")
    cells.add_argument("--overwrite", action="store_true")

    view = commands.add_parser("view", help="choose which trained view locate uses ('none': base features)")
    view.add_argument("database", type=Path)
    view.add_argument("name")

    info = commands.add_parser("info", help="describe a database")
    info.add_argument("database", type=Path)
    info.add_argument("--records", action="store_true", help="also list every reference photo (JSON output)")
    return parser


def _open_locator(args):
    from .database import ReferenceDatabase
    from .embedders import embedder_for
    from .locate import Locator

    database = ReferenceDatabase.open(args.database)
    return Locator(database, embedder_for(database.identity, args.weights))


def _options(args, density=None):
    from .locate import LocateOptions

    return LocateOptions(k=args.k, estimator=args.estimator, bandwidth_km=args.bandwidth,
                         temperature=args.temperature, density=density)


def _print_report_problems(report) -> None:
    for item in [*report.skipped, *report.failed] if hasattr(report, "skipped") else report.failed:
        print(f"skipped {item}", file=sys.stderr)


def run_build(args, printer: ProgressPrinter) -> int:
    from .database import ReferenceDatabase, build_database
    from .embedders import embedder_for, load_embedder
    from .sources import from_source

    candidates, skipped = from_source(args.source)
    if args.command == "add":
        database = ReferenceDatabase.open(args.database, writable=True)
        embedder = embedder_for(database.identity, args.weights)
        report = database.add(candidates, embedder, printer, batch_size=args.batch_size)
    else:
        embedder = load_embedder(args.architecture, args.weights, args.pooling)
        database, report = build_database(args.database, candidates, embedder, printer, batch_size=args.batch_size)
    printer.close()
    report.skipped[:0] = skipped
    _print_report_problems(report)
    printer.result(f"{database.path}: {report.summary()}; {database.count} photos in the database",
                   {"database": str(database.path), "count": database.count, **report.to_dict()})
    database.close()
    return EXIT_CANCELLED if report.cancelled else 0


def _expand_photos(paths: list[Path]) -> list[Path]:
    from .files import find_photos

    expanded = []
    for path in paths:
        expanded.extend(find_photos(path) if path.is_dir() else [path])
    return expanded


def run_locate(args, printer: ProgressPrinter) -> int:
    from .export import write_density_geotiff, write_results
    from .locate import DensityOptions

    if args.output and args.output.exists() and not args.overwrite:
        raise ExportError(f"{args.output}: file exists; choose another name or pass --overwrite")
    locator = _open_locator(args)
    world = (-180.0, -90.0, 180.0, 90.0) if args.density_extent == "world" else None
    density = DensityOptions(args.density_resolution, world) if args.density_dir else None
    report = locator.locate_paths(_expand_photos(args.photos), _options(args, density), printer)
    printer.close()
    _print_report_problems(report)
    run_time = datetime.now(timezone.utc).isoformat(timespec="seconds")
    written = []
    if args.output:
        written += write_results(args.output, report.results, locator.database.name, run_time, args.overwrite)
    densities = {}
    if args.density_dir:
        args.density_dir.mkdir(parents=True, exist_ok=True)
        for result in report.results:
            target = args.density_dir / f"{Path(result.photo).stem}-density.tif"
            densities[result.photo] = str(write_density_geotiff(target, result.density, args.overwrite))
            written.append(densities[result.photo])
    lines = [f"{r.photo}\t{r.lat:.5f}\t{r.lon:.5f}\tconfidence {r.confidence:.2f}\t"
             f"50% within {r.radius50_km:.0f} km\t90% within {r.radius90_km:.0f} km" for r in report.results]
    lines += [f"wrote {p}" for p in written]
    printer.result("\n".join(lines), {"results": [{**r.to_dict(), "density_path": densities.get(r.photo)}
                                                  for r in report.results],
                                      "failed": [vars(f) for f in report.failed], "written": [str(p) for p in written]})
    return 0 if report.results or not report.failed else 1


def run_evaluate(args, printer: ProgressPrinter) -> int:
    from .evaluate import evaluate
    from .sources import from_source
    from .storage import atomic_write_json

    locator = _open_locator(args)
    items, skipped = from_source(args.source)
    report = evaluate(locator, items, _options(args), printer)
    printer.close()
    report.failed[:0] = skipped
    _print_report_problems(report)
    if locator.database.view is not None and any(row.left_out for row in report.rows):
        print(f"note: trained view '{locator.database.view.name}' was trained on these photos, so these figures "
              "are optimistic; bench/features.py measures trained features with grouped cross-validation",
              file=sys.stderr)
    if args.json:
        atomic_write_json(args.json, report.to_dict())
    printer.result(report.table(), report.summary())
    return 0


def run_info(args, printer: ProgressPrinter) -> int:
    from .database import ReferenceDatabase

    with ReferenceDatabase.open(args.database) as database:
        manifest = database.manifest
        text = "\n".join([
            f"database   {database.path}",
            f"photos     {database.count}",
            f"embedder   {database.identity.describe()}",
            f"features   {('trained view ' + database.view.name) if database.view else 'base (ImageNet)'}",
            f"metric     {manifest['metric']}",
            f"created    {manifest['created']}",
            f"updated    {manifest['updated']}",
            *[f"warning    {w}" for w in database.warnings],
        ])
        data = {"database": str(database.path), "name": database.name, "count": database.count,
                "description": database.identity.describe(), "warnings": database.warnings, "manifest": manifest,
                "view": database.view.name if database.view else None}
        if args.records:
            data["records"] = [vars(r) for r in database.all_records()]
        printer.result(text, data)
    return 0


def run_train(args, printer: ProgressPrinter) -> int:
    from .database import ReferenceDatabase
    from .export import write_cells
    from .training import TrainOptions, train_view

    database = ReferenceDatabase.open(args.database, writable=True)
    warning = training_size_warning(database.count)
    if warning:
        print(f"warning: {warning}", file=sys.stderr, flush=True)
    options = TrainOptions(t_max=args.t_max, t_min=args.t_min, geo_dim=args.geo_dim, epochs=args.epochs,
                           smoothing_km=args.smoothing or None)
    tune = None
    if args.finetune:
        from .finetune import FinetuneOptions

        tune = FinetuneOptions(epochs=args.finetune_epochs, device=args.device)
    summary = train_view(database, args.name, options, tune, printer)
    printer.close()
    if args.cells_output:
        write_cells(args.cells_output, summary.trained.partition, overwrite=True)
    printer.result(f"{database.path}: {summary.text()}; locate now uses it",
                   {"database": str(database.path), **summary.to_dict()})
    database.close()
    return 0


def run_cells(args, printer: ProgressPrinter) -> int:
    from .database import DatabaseError, ReferenceDatabase
    from .export import write_cells

    with ReferenceDatabase.open(args.database) as database:
        if database.view is None:
            raise DatabaseError(f"{database.path}: no trained view; run `python -m geoloc_core train` first")
        written = write_cells(args.output, database.view.trained.partition, args.overwrite)
        printer.result(f"wrote {len(database.view.trained.partition)} geocells to {written}", {"written": str(written)})
    return 0


def run_view(args, printer: ProgressPrinter) -> int:
    from .database import ReferenceDatabase

    with ReferenceDatabase.open(args.database, writable=True) as database:
        database.use_view(None if args.name == "none" else args.name)
        printer.result(f"{database.path}: locate uses {'base features' if args.name == 'none' else args.name}",
                       {"view": args.name})
    return 0


COMMANDS = {"build": run_build, "add": run_build, "locate": run_locate, "evaluate": run_evaluate, "info": run_info,
            "train": run_train, "cells": run_cells, "view": run_view}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    printer = ProgressPrinter(args.progress)
    try:
        return COMMANDS[args.command](args, printer)
    except (PhotoError, DatabaseError, EmbedderError, ExportError, ValueError) as exc:
        printer.close()
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except (Cancelled, KeyboardInterrupt):
        printer.close()
        print("cancelled; committed work is kept (run the same command again to resume)", file=sys.stderr)
        return EXIT_CANCELLED
