"""A reference build spread over a Ray cluster (or over this machine's cores, with no set-up).

Ray Data streams the shards through: each shard is read and decoded on a CPU task
(`shards.decode_shard`), embedded by one of a pool of actors holding the network (on the CPU or a
GPU), and the actor writes the shard's records and vectors to the work folder (`<stem>.npy`, then
`<stem>.json` naming the shard, its size and time, the embedder and the vectors' SHA-256, written
last, atomically: a shard is finished when its .json is there and matches). The driver then adds the
finished shards to the database in name order, exactly as the single-process build does
(`shards.build_from_shards`), so both give the same records, vectors and neighbours; the database
trains its index at the end.

Resuming: finished shards are kept in the work folder and skipped by the next run, so a killed
driver loses only the shards in flight. Ray retries a killed task and restarts a killed actor, whose
shard is then embedded again. The work folder is removed once the database holds everything.

Ray and pyarrow are optional: `pip install -r requirements-distributed.txt`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import socket
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .errors import UserError
from .files import display_path
from .identity import EmbedderIdentity
from .progress import ProgressCallback, StopCheck, check_stop, report
from .results import skipped_from_dicts, skipped_to_dicts
from .shards import USUAL_LOCATION_NAMES, LocationColumns, decode_shard, embed_decoded, merge_into_database
from .storage import atomic_write, atomic_write_json

INSTALL_HINT = "pip install -r requirements-distributed.txt (ray[data] and pyarrow)"
WORK_FORMAT = "photo-geolocator-shard-embeddings"


def import_ray():
    """Ray and Ray Data, or a UserError saying what to install."""
    try:
        import ray
        import ray.data  # Ray Data is an extra of the ray package
    except ImportError as exc:
        raise UserError(f"the distributed build needs Ray Data, which is not installed ({exc}); {INSTALL_HINT}") from None
    return ray


def default_work_dir(database_path: str | os.PathLike) -> Path:
    path = Path(database_path)
    return path.with_name(path.name + ".work")


def _shard_stamp(shard: Path) -> dict:
    status = shard.stat()
    return {"shard": str(shard), "size": status.st_size, "mtime_ns": status.st_mtime_ns}


def _outputs(work_dir: Path, shard: Path) -> tuple[Path, Path]:
    # the shard's full path hashed into the name: two folders may both hold a 00000.tar
    tag = hashlib.sha256(str(shard).encode("utf-8", "surrogateescape")).hexdigest()[:12]
    stem = f"{shard.stem}-{tag}"
    return work_dir / f"{stem}.npy", work_dir / f"{stem}.json"


def write_shard_output(work_dir: Path, shard: Path, identity: EmbedderIdentity, decoded, vectors: np.ndarray) -> None:
    """The shard's vectors, then its records (the .json, written last, marks the shard finished)."""
    vectors_path, records_path = _outputs(work_dir, shard)
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    atomic_write(vectors_path, lambda tmp: np.save(tmp, vectors, allow_pickle=False))
    atomic_write_json(records_path, {
        "format": WORK_FORMAT, **_shard_stamp(shard), "identity": identity.to_dict(),
        "count": len(vectors), "vectors_sha256": hashlib.sha256(vectors.tobytes()).hexdigest(),
        **_decoded_to_dict(decoded),
    })


def _decoded_to_dict(decoded) -> dict:
    """A decoded shard's records and passed-over photos as JSON: in the work folder, and from the decode
    tasks to the actors."""
    return {"records": [vars(r) for r in decoded.records], "skipped": skipped_to_dicts(decoded.skipped),
            "failed": skipped_to_dicts(decoded.failed)}


def read_shard_output(work_dir: Path, shard: Path, identity: EmbedderIdentity, check_vectors: bool = True):
    """(records, vectors, skipped, failed) of a finished shard, or None where it is not finished, or was
    made from another version of the shard or with another embedder."""
    from .database import EmbeddedRecord

    vectors_path, records_path = _outputs(work_dir, shard)
    try:
        data = json.loads(records_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (data.get("format") != WORK_FORMAT or {k: data.get(k) for k in ("shard", "size", "mtime_ns")} != _shard_stamp(shard)
            or EmbedderIdentity.from_dict(data["identity"]) != identity):
        return None
    if not check_vectors:
        return data
    try:
        vectors = np.load(vectors_path, allow_pickle=False)
    except (OSError, ValueError):
        return None
    if len(vectors) != data["count"] or hashlib.sha256(np.ascontiguousarray(vectors).tobytes()).hexdigest() \
            != data["vectors_sha256"]:
        return None
    records = [EmbeddedRecord(**r) for r in data["records"]]
    return records, vectors, skipped_from_dicts(data["skipped"]), skipped_from_dicts(data["failed"])


def _decode_row(row: dict, input_size: int, lat: str | None, lon: str | None) -> dict:
    """Ray Data CPU task: a shard read and decoded into crops (bytes, so rows of any size pass)."""
    decoded = decode_shard(row["shard"], input_size, LocationColumns(lat, lon))
    return {"shard": row["shard"], "count": len(decoded.crops), "crops": decoded.crops.tobytes(),
            "decoded": json.dumps(_decoded_to_dict(decoded))}


def _spread_over_nodes() -> dict:
    return {"scheduling_strategy": "SPREAD"}


class ShardEmbedder:
    """Ray Data actor: holds the network on its device, embeds decoded shards and writes their outputs."""

    def __init__(self, identity: dict, weights: str | None, device: str, work_dir: str, threads: int | None):
        import torch

        from .embedders import embedder_for

        if threads:
            torch.set_num_threads(threads)
        self.identity = EmbedderIdentity.from_dict(identity)
        self.embedder = embedder_for(self.identity, weights).to_device(device)
        self.work_dir = Path(work_dir)

    def __call__(self, batch: dict) -> dict:
        from .database import EmbeddedRecord
        from .shards import DecodedShard

        size = self.embedder.input_size
        names, counts = [], []
        for shard, count, crops, decoded_json in zip(batch["shard"], batch["count"], batch["crops"], batch["decoded"]):
            decoded = json.loads(decoded_json)
            count = int(count)
            pixels = np.frombuffer(crops, dtype=np.uint8).reshape(count, size, size, 3)
            shard_data = DecodedShard(str(shard), [EmbeddedRecord(**r) for r in decoded["records"]], pixels,
                                      skipped_from_dicts(decoded["skipped"]), skipped_from_dicts(decoded["failed"]))
            vectors = embed_decoded(shard_data, self.embedder)
            write_shard_output(self.work_dir, Path(str(shard)), self.identity, shard_data, vectors)
            names.append(str(shard))
            counts.append(count)
        return {"shard": np.array(names, dtype=object), "count": np.array(counts, dtype=np.int64)}


def _worker_resources(ray, device: str, workers: int, local: bool) -> tuple[float, float, int | None]:
    """(CPUs, GPUs, torch threads) for each embedding actor. On this machine the cores are shared
    among the workers; on a cluster an actor takes a GPU where the cluster has them (device auto/cuda)
    or one CPU."""
    gpus_in_cluster = ray.cluster_resources().get("GPU", 0)
    if device.startswith("cuda") and not gpus_in_cluster:
        raise UserError(f"--device {device}: the Ray cluster has no GPU; use --device cpu or auto")
    use_gpu = gpus_in_cluster > 0 and device != "cpu"
    if use_gpu:
        return 1.0, 1.0, None
    if local:
        threads = max(1, (os.cpu_count() or 1) // workers)
        return float(threads), 0.0, threads
    return 1.0, 0.0, 1


def build_on_ray(database_path: str | os.PathLike, shards: Sequence[Path], embedder,
                 columns: LocationColumns = USUAL_LOCATION_NAMES, address: str | None = None,
                 workers: int | None = None, device: str = "auto",
                 work_dir: str | os.PathLike | None = None, weights: str | None = None,
                 progress: ProgressCallback | None = None, should_stop: StopCheck | None = None, keep_work: bool = False):
    """Embed the shards on Ray (a local one started here when `address` is None), then merge them into
    the database at `database_path` in name order. Returns (database, BuildReport)."""
    from .results import BuildReport

    ray = import_ray()
    started = time.perf_counter()
    shards = sorted(Path(s).resolve() for s in shards)
    work = Path(work_dir) if work_dir else default_work_dir(database_path)
    work.mkdir(parents=True, exist_ok=True)
    identity = embedder.identity
    pending = [s for s in shards if read_shard_output(work, s, identity, check_vectors=False) is None]
    report(progress, len(shards) - len(pending), len(shards), "embed",
           f"{len(shards) - len(pending)} of {len(shards)} shards already embedded in {display_path(work)}")
    if pending:
        _run_pipeline(ray, pending, embedder, identity, columns, address, workers, device, work, weights,
                      len(shards) - len(pending), len(shards), progress, should_stop)
    result = BuildReport()

    def batches():
        for shard in shards:
            finished = read_shard_output(work, shard, identity)
            if finished is None:
                raise UserError(f"{display_path(shard)}: its embeddings in {display_path(work)} are missing or "
                                "damaged; run the build again to embed it again")
            records, vectors, skipped, failed = finished
            result.skipped.extend(skipped)
            result.failed.extend(failed)
            yield records, vectors

    database, result = merge_into_database(database_path, identity, batches(), result, started, progress, should_stop)
    if not result.cancelled and not keep_work:
        shutil.rmtree(work, ignore_errors=True)
    return database, result


def start_ray(ray, address: str | None = None, workers: int | None = None) -> bool:
    """Connect to the cluster at `address`, or start a local Ray (no set-up) when it is None; nothing
    where this process is already connected. Returns whether it connected (and should shut down)."""
    if ray.is_initialized():
        return False
    options = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
    if address is not None:
        # the engine travels to the cluster's workers (they need the same Python packages installed)
        options["runtime_env"] = {"py_modules": [str(Path(__file__).parent)]}
    else:
        # the actors share the cores (see _worker_resources), and one decode task runs beside them, as
        # the decoding thread runs beside the network in the single-process build
        options["num_cpus"] = max(os.cpu_count() or 1, workers or 1) + 1
        # the build runs at the priority of the command that asked for it: Ray's workers default to
        # niceness 15, which lets any other work on the machine starve them (measured: half the speed)
        options["_system_config"] = {"worker_niceness": 0}
        # a local Ray's workers find the engine through the environment they inherit: a runtime_env
        # would keep them from reusing Ray's pre-started worker processes (a new process, with its
        # imports, for every task and actor)
        with _engine_on_python_path():
            ray.init(address="local", **options)
        return True
    check_cluster_answers(address)
    try:
        ray.init(address=address, **options)
    except ConnectionError as exc:
        raise UserError(f"{exc}: check that a Ray cluster runs there (`ray start --head` on its head node) and is "
                        "reachable from here; a cluster with token authentication (Ray's default where "
                        "~/.ray/auth_token exists) also needs RAY_AUTH_MODE=token here, with its token in "
                        "RAY_AUTH_TOKEN or ~/.ray/auth_token") from None
    return True


def check_cluster_answers(address: str, timeout_s: float = 10.0) -> None:
    """A host:port where nothing listens fails here in seconds: Ray itself retries for over ten minutes
    before it gives up (measured: 13 min 41 s). Other forms (auto, ray://...) are left to Ray."""
    host, _, port = address.rpartition(":")
    if not host or "/" in host or not port.isdigit():
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise UserError(f"no Ray cluster answers at {address} ({exc.strerror or exc}): start one there with "
                        "`ray start --head`, or check the address it printed") from None


@contextlib.contextmanager
def _engine_on_python_path():
    """PYTHONPATH with the folder holding geoloc_core in front, for the processes started meanwhile."""
    before = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).parent.parent), before]))
    try:
        yield
    finally:
        if before is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = before


def _run_pipeline(ray, pending, embedder, identity, columns, address, workers, device, work, weights,
                  done, total, progress, should_stop) -> None:
    local = address is None
    started_here = start_ray(ray, address, workers)
    try:
        workers = workers or (max(1, int(ray.cluster_resources().get("GPU", 0))) if device != "cpu" else 1)
        cpus, gpus, threads = _worker_resources(ray, device, workers, local)
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False
        dataset = ray.data.from_items([{"shard": str(s)} for s in pending], override_num_blocks=len(pending))
        # spread over the nodes, which also keeps Ray Data from fusing the decoding into the actors (the
        # argument is deprecated for Ray 2.64, whose replacement 2.60 lacks: requirements pin 2.60)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            dataset = dataset.map(_decode_row, num_cpus=1, ray_remote_args_fn=_spread_over_nodes, fn_kwargs={
                "input_size": embedder.input_size, "lat": columns.lat, "lon": columns.lon})
        dataset = dataset.map_batches(
            ShardEmbedder, batch_size=1, batch_format="numpy", compute=ray.data.ActorPoolStrategy(size=workers),
            num_cpus=cpus, num_gpus=gpus,
            fn_constructor_kwargs={"identity": identity.to_dict(), "weights": weights, "device": device,
                                   "work_dir": str(work), "threads": threads})
        for row in dataset.iter_rows():
            check_stop(should_stop)
            done += 1
            report(progress, done, total, "embed", f"{display_path(Path(row['shard']).name)}: {row['count']} photos")
    finally:
        if started_here:
            ray.shutdown()
