"""What travels to Spark executors, and what runs there.

Everything an executor needs rides inside the `mapInArrow` function's closure, so it works
wherever Spark runs Python: a local session, a cluster, Spark Connect, Databricks serverless
(no `sparkContext`, no broadcast variables, no files added to the session):

- fabula's own source, zipped (about 180 KB): executors need not have fabula installed.
  The first task on a machine unpacks it into the temp folder, keyed by its digest, and every
  Python worker imports that copy, never another installed version;
- the plan, pickled with Spark's cloudpickle (so Python callables in a spec travel too). It
  carries its Faker pools and per-parent prefix sums, and the parent columns children read when
  they are small (`SHIP_MATERIALISED_BYTES`); bigger ones are left out and recomputed on first
  use by each Python worker, which caches the plan for the tasks it runs after;
- the driver's NumPy and PyArrow versions: an executor with others would draw or compute
  different values, so it refuses to generate (`VersionMismatchError`).

The closure itself references no fabula module (cloudpickle pickles such nested functions by
value); it unpacks fabula, then hands over to `generate_blocks` below (or `block_labels`, for
the labels of a table's defects, or `write_parts`, when the tasks write the files).
"""

from __future__ import annotations

import hashlib
import io
import pickle
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pyarrow as pa

from fabula.errors import FabulaError
from fabula.plan.model import Plan

SHIP_MATERIALISED_BYTES = 16 * 2**20
"""Materialised parent columns up to this size ship inside the plan; above it, executors
recompute them (Spark Connect sends the function in one gRPC message, 128 MiB at most)."""

_CHECKED = ("numpy", "pyarrow")
"""Libraries whose version decides the values: NumPy's streams and Arrow's compute kernels."""


class VersionMismatchError(FabulaError):
    """Spark executors run other NumPy/PyArrow versions than the driver, which could change the data."""

    exit_code = 2
    _PHRASE = re.compile(r"(\w+) ([^\s,]+) on the Spark executors but ([^\s,]+) on the driver")

    def __init__(self, differences: dict[str, tuple[str, str]]):
        self.differences = dict(differences)
        found = ", ".join(f"{name} {executor} on the Spark executors but {driver} on the driver"
                          for name, (executor, driver) in self.differences.items())
        pins = " ".join(f"{name}=={driver}" for name, (_, driver) in self.differences.items())
        self.message = f"{found}: the data would differ from the local engine's, so fabula refused to generate it"
        self.hint = f"install the same versions on both sides (pip install {pins}), or run fabula from an " \
                    "environment that matches the cluster's"
        super().__init__(f"{self.message}\n    hint: {self.hint}")

    @classmethod
    def found_in(cls, error: BaseException) -> VersionMismatchError | None:
        """The mismatch an executor reported, if this Spark error (which carries the
        executor's traceback as text) is one."""
        text = str(error)
        if cls.__name__ not in text:
            return None
        differences = {name: (executor, driver) for name, executor, driver in cls._PHRASE.findall(text)}
        return cls(differences) if differences else None


@dataclass(frozen=True)
class Shipment:
    """What every task of a Spark job receives: fabula's source, the plan and the versions."""

    source: bytes = field(repr=False)
    source_digest: str
    payload: bytes = field(repr=False)
    payload_digest: str
    versions: dict[str, str]

    @classmethod
    def build(cls, plan: Plan, *, ship_materialised_bytes: int = SHIP_MATERIALISED_BYTES) -> Shipment:
        import numpy
        from pyspark import cloudpickle

        shipped = plan if _materialised_bytes(plan) <= ship_materialised_bytes else _recomputing(plan)
        payload = cloudpickle.dumps(shipped, protocol=pickle.HIGHEST_PROTOCOL)
        source, source_digest = fabula_source()
        return cls(source=source, source_digest=source_digest, payload=payload,
                   payload_digest=hashlib.sha256(payload).hexdigest(),
                   versions={"numpy": numpy.__version__, "pyarrow": pa.__version__})


def _materialised_bytes(plan: Plan) -> int:
    return plan.relations.memory_bytes()


def _recomputing(plan: Plan) -> Plan:
    """The plan without its materialised parent columns (executors recompute them)."""
    return plan.without_materialised()


@lru_cache(maxsize=1)
def fabula_source() -> tuple[bytes, str]:
    """fabula's package (its modules and data files, without bytecode caches) as zip bytes,
    and their digest."""
    package = Path(__file__).resolve().parents[1]
    files = sorted(path for path in package.rglob("*")
                   if path.is_file() and path.suffix not in (".pyc", ".pyo") and "__pycache__" not in path.parts)
    digest = hashlib.sha256()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in files:
            name = "fabula/" + path.relative_to(package).as_posix()
            data = path.read_bytes()
            digest.update(name.encode() + b"\0" + data + b"\0")
            entry = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))  # the same bytes every time
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, data)
    return buffer.getvalue(), digest.hexdigest()


def block_mapper(shipment: Shipment, table: str, *,
                 labels: bool = False) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """The function `mapInArrow` runs: batches of block numbers in, one batch per block out
    (its rows; with `labels`, the labels of the defects injected into it instead).

    Nested, and referencing only its closure and the standard library, so cloudpickle ships it
    by value and an executor can run it before fabula is importable there."""
    import_shipped_fabula = _importer(shipment.source, shipment.source_digest)
    payload, payload_digest, versions = shipment.payload, shipment.payload_digest, shipment.versions

    def generate(block_numbers):
        executor = import_shipped_fabula()
        make = executor.block_labels if labels else executor.generate_blocks
        yield from make(payload, payload_digest, versions, table, block_numbers)

    return generate


def _importer(source: bytes, digest: str):
    """A function that unpacks fabula's shipped source (once per machine) and imports this
    module from it. Nested, referencing only the standard library, so cloudpickle ships it by
    value inside the mappers' closures."""

    def import_shipped_fabula():
        import importlib
        import os
        import shutil
        import sys
        import tempfile
        import zipfile as zip_files
        from io import BytesIO

        uid = os.getuid() if hasattr(os, "getuid") else 0
        root = os.path.join(tempfile.gettempdir(), f"fabula-spark-{uid}-{digest[:20]}")
        if not os.path.isdir(root):
            staging = tempfile.mkdtemp(prefix=f".fabula-spark-{digest[:20]}-")
            zip_files.ZipFile(BytesIO(source)).extractall(staging)
            try:
                os.rename(staging, root)  # atomic: another worker may have won the race
            except OSError:
                shutil.rmtree(staging, ignore_errors=True)
        loaded = sys.modules.get("fabula")
        if loaded is None or not str(getattr(loaded, "__file__", "")).startswith(root + os.sep):
            for name in [name for name in sys.modules if name == "fabula" or name.startswith("fabula.")]:
                del sys.modules[name]
            if root not in sys.path:
                sys.path.insert(0, root)
            importlib.invalidate_caches()
        return importlib.import_module("fabula.engine.spark_executor")

    return import_shipped_fabula


PART_RESULT = ("table string, part long, path string, rows long, bytes long, sha256 string, summaries binary, "
               "setup_seconds double, seconds double, labels binary")
"""What each part task returns to the driver: one row per file written, with the `PartWritten`
fields (a part of a partitioned table writes one file per partition, and with no rows none:
then one row with a null path), and on the part's first row its blocks' validation summaries,
pickled ({block: (rows, states)}): a few KB, never the data. The first row also carries the
task's timings (`TaskTimes`): its set-up before the first block, and the part's work; and,
when the part's blocks were damaged by declared defects, their labels (`_defects` rows, in
block order, as Arrow IPC stream bytes: about rate × rows of them, small beside the data)."""


@dataclass(frozen=True)
class TaskTimes:
    """Where a Spark run's task time went, summed over its part tasks (issue 16: the engine's
    per-task overhead, measured): `setup` is what each task spends before its first block —
    unpacking fabula's source on a new machine, importing it, checking versions, unpickling the
    plan (or finding it cached in the Python worker) — and `work` generating and writing."""

    tasks: int
    setup_seconds: float
    setup_max_seconds: float
    work_seconds: float

    @classmethod
    def of(cls, rows: Iterable) -> TaskTimes:
        """From the rows the part tasks return (their timings are on each part's first row)."""
        firsts = [row for row in rows if row["summaries"] is not None]
        setups = [row["setup_seconds"] or 0.0 for row in firsts]
        return cls(tasks=len(firsts), setup_seconds=sum(setups), setup_max_seconds=max(setups, default=0.0),
                   work_seconds=sum(row["seconds"] or 0.0 for row in firsts))

    @property
    def setup_share(self) -> float:
        """The set-up's share of the tasks' time."""
        total = self.setup_seconds + self.work_seconds
        return self.setup_seconds / total if total else 0.0

PartTask = tuple[str, int, int, int]
"""(table, part, first block, end block) of one part file."""


def part_mapper(shipment: Shipment, tasks: list[PartTask], writer: bytes,
                validate: bool) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """The function `mapInArrow` runs to write part files: task numbers in, one small row per
    part out. `writer` is the sink's pickled part writer (it writes into the shared staging
    folder). Like `block_mapper`, it references only its closure until fabula is unpacked."""
    import_shipped_fabula = _importer(shipment.source, shipment.source_digest)
    payload, payload_digest, versions = shipment.payload, shipment.payload_digest, shipment.versions

    def write(task_numbers):
        import time

        started = time.perf_counter()  # the task's set-up (unpacking, imports, the plan) counts from here
        executor = import_shipped_fabula()
        yield from executor.write_parts(payload, payload_digest, versions, writer, tasks, validate, task_numbers,
                                        started=started)

    return write


# -- on the executors ---------------------------------------------------------------------------

_PLANS: dict[str, Plan] = {}
"""Plans this Python worker has unpickled, by payload digest: a worker runs many tasks, and a
plan whose parent columns are recomputed should compute them once."""


def generate_blocks(payload: bytes, payload_digest: str, versions: dict[str, str], table: str,
                    block_numbers: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Every block named in the incoming batches, converted for Spark, in order."""
    from fabula.engine.spark_schema import for_spark, spark_arrow_schema
    from fabula.plan.blocks import generate_block

    check_versions(versions)
    plan = _load_plan(payload, payload_digest)
    table_plan = plan.table(table)
    schema = spark_arrow_schema(table_plan.schema)
    injector = _injector(plan, payload_digest)  # the rows as written: damaged, their labels dropped
    for batch in block_numbers:
        for block in batch.column(0).to_pylist():
            rows = generate_block(plan, table_plan, block)
            if injector is not None:
                rows = injector.apply(table, block, rows)
            yield for_spark(rows, schema)


def block_labels(payload: bytes, payload_digest: str, versions: dict[str, str], table: str,
                 block_numbers: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """The labels of every block named in the incoming batches, in order: each block made and
    damaged as `generate_blocks` makes it (damage is a pure function of the plan and the
    block), its labels kept instead of its rows."""
    from fabula.defects import inject_block
    from fabula.plan.blocks import generate_block

    check_versions(versions)
    plan = _load_plan(payload, payload_digest)
    table_plan = plan.table(table)
    defects = _compiled_defects(plan, payload_digest)[table]
    for batch in block_numbers:
        for block in batch.column(0).to_pylist():
            _, labels = inject_block(plan, defects, block, generate_block(plan, table_plan, block))
            yield from labels.to_batches()


def write_parts(payload: bytes, payload_digest: str, versions: dict[str, str], writer: bytes,
                tasks: list[PartTask], validate: bool,
                task_numbers: Iterable[pa.RecordBatch], *, started: float | None = None) -> Iterator[pa.RecordBatch]:
    """Write each numbered part through the sink's part writer, summarising its blocks for the
    validation report as they are generated (the local engine's `observe`), and return one
    row per part. As in the local engine, validation sees each block clean, then the plan's
    declared defects damage it before it is written, and the part's labels go back with its
    row (each block's damage is a pure function of the plan and the block: `inject_block`).
    `started` is when the task began (`perf_counter`), for its set-up time."""
    from time import perf_counter

    from fabula.engine.local import row_groups
    from fabula.sinks.base import written_files

    setup_from = perf_counter() if started is None else started
    check_versions(versions)
    plan = _load_plan(payload, payload_digest)
    part_writer = pickle.loads(writer)
    accumulator = _accumulator(plan, payload_digest) if validate else None
    setup = perf_counter() - setup_from  # carried by the task's first part only
    schema = pa.schema([("table", pa.string()), ("part", pa.int64()), ("path", pa.string()), ("rows", pa.int64()),
                        ("bytes", pa.int64()), ("sha256", pa.string()), ("summaries", pa.binary()),
                        ("setup_seconds", pa.float64()), ("seconds", pa.float64()), ("labels", pa.binary())])
    for batch in task_numbers:
        for number in batch.column(0).to_pylist():
            part_started = perf_counter()
            table, part, first, end = tasks[number]
            table_plan = plan.table(table)
            summaries: dict[int, tuple[int, dict]] = {}
            injector = _injector(plan, payload_digest)  # one per part: it gathers the part's labels

            def observe(name, block, data, summaries=summaries):
                summaries[block] = (len(data), accumulator.summarise(name, block, data, generated=True))

            files = written_files(part_writer.write(table_plan, part, row_groups(
                plan, table_plan, range(first, end), observe=observe if validate else None, injector=injector)))
            # one row per file (a partitioned part may write several, or none); the part's
            # summaries ride on its first row, and a part with no file still sends one row
            rows: list[dict[str, object]]  # a column's value per key; the summaries are bytes
            rows = [{"table": file.table, "part": file.part, "path": file.path, "rows": file.rows,
                     "bytes": file.bytes, "sha256": file.sha256, "summaries": None} for file in files] or [
                {"table": table, "part": part, "path": None, "rows": 0, "bytes": 0, "sha256": None,
                 "summaries": None}]
            rows[0]["summaries"] = pickle.dumps(summaries, protocol=pickle.HIGHEST_PROTOCOL)
            rows[0]["labels"] = _ipc_bytes(injector.collector.table()) if injector is not None else None
            rows[0].update(setup_seconds=setup, seconds=perf_counter() - part_started)
            setup = 0.0
            yield pa.RecordBatch.from_pylist(rows, schema=schema)


def _ipc_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as stream:
        stream.write_table(table)
    return sink.getvalue().to_pybytes()


def read_labels(data: bytes) -> pa.Table:
    """The labels a part task returned (`write_parts`), as the Arrow table it sent."""
    return pa.ipc.open_stream(data).read_all()


_DEFECTS: dict[str, dict] = {}


def _injector(plan: Plan, payload_digest: str):
    """A fresh `Injector` of the plan's declared defects (None without any), on the defects
    compiled once per worker (`_compiled_defects`)."""
    from fabula.defects import Injector, has_defects

    if not has_defects(plan):
        return None
    return Injector(plan, tables=_compiled_defects(plan, payload_digest))


def _compiled_defects(plan: Plan, payload_digest: str) -> dict:
    """The plan's defects by table, compiled once per worker: each table's rows added before
    every block (`added_before`) are worked out from the plan alone, once, not per part."""
    from fabula.defects import compile_defects

    tables = _DEFECTS.get(payload_digest)
    if tables is None:
        if len(_DEFECTS) >= 4:
            _DEFECTS.clear()
        tables = _DEFECTS[payload_digest] = compile_defects(plan)
    return tables


_ACCUMULATORS: dict[str, object] = {}


def _accumulator(plan: Plan, payload_digest: str):
    """The validation statistics of a plan, built once per worker (only `summarise` is used
    here: merging happens on the driver)."""
    accumulator = _ACCUMULATORS.get(payload_digest)
    if accumulator is None:
        from fabula.validate.run import Validation

        if len(_ACCUMULATORS) >= 4:
            _ACCUMULATORS.clear()
        accumulator = _ACCUMULATORS[payload_digest] = Validation(plan).accumulator
    return accumulator


def check_versions(driver: dict[str, str]) -> None:
    """Refuse to generate with library versions other than the driver's."""
    here = _library_versions()
    differences = {name: (here.get(name, "missing"), version) for name, version in driver.items()
                   if name in _CHECKED and here.get(name) != version}
    if differences:
        raise VersionMismatchError(differences)


def _library_versions() -> dict[str, str]:
    import numpy

    return {"numpy": numpy.__version__, "pyarrow": pa.__version__}


def _load_plan(payload: bytes, payload_digest: str) -> Plan:
    plan = _PLANS.get(payload_digest)
    if plan is None:
        if len(_PLANS) >= 4:  # a long-lived worker keeps the latest few plans only
            _PLANS.clear()
        plan = _PLANS[payload_digest] = pickle.loads(payload)
    return plan
