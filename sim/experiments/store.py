"""The results store: every finished run of a sweep, committed as it arrives, in one SQLite file.

A sweep of thousands of runs takes hours, so it must survive being stopped. Each finished run
is written in **one SQLite transaction** under a run id derived from what determines its
results — the scenario's content, the design point, the replicate's seed and the scale (see
:func:`run_id`). A sweep killed at any moment, ``SIGKILL`` included, and started again asks
:meth:`ResultsStore.finished_ids` what is done and runs the rest: a run is either wholly in
the store or not at all, so none is lost, none is half-written and none is stored twice.

Why SQLite in WAL mode (measured when the store was built, killing writer processes at random moments):

* SQLite WAL with one transaction per run survived every ``SIGKILL`` — the file always
  opened cleanly with every committed run intact — and let several writer processes append
  to one store (they take turns through ``busy_timeout``), while readers see a consistent
  snapshot and never block the writer (``pingan results`` works during a sweep).
* DuckDB locked the file against every other process while a sweep held it open.
* Parquet written in place was left unreadable by most kills (no footer), and cannot be
  appended to run by run.

Parquet and CSV remain the export formats (:meth:`ResultsStore.export`), streamed chunk by
chunk so a store of any size is never loaded whole into memory.

``synchronous=FULL``: each commit is flushed to disk, so a finished run survives a power cut
as well as a killed process. It costs a fraction of a millisecond per run here
(``benchmarks/store_overhead.py``), nothing beside a run lasting seconds. WAL needs a local
filesystem (shared memory between processes), not a network share: with a distributed
backend, the process that gathers results writes the store, not the remote workers.

Layout: ``runs`` has one row per run (run id, the identifying columns, the design point as
JSON, and which set of metric names its rows carry); ``rows`` one per run and counted year,
the metrics packed as little-endian float64 in the order of the run's ``metric_sets`` entry
(compact, exact, and unpacked a chunk at a time with numpy rather than parsed value by value).
"""

from __future__ import annotations

import functools
import json
import math
import numbers
import os
import sqlite3
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from hashlib import sha256
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["RunRecord", "ResultsStore", "StoreError", "run_id", "ID_COLUMNS"]

#: The first columns of every frame, in order; design factors and then metrics follow.
ID_COLUMNS: tuple[str, ...] = ("sweep", "run_id", "scenario", "point_id", "replicate", "seed", "scale", "year")

SCHEMA_VERSION = 1
#: How long a writer waits for another process's transaction before giving up, in ms.
BUSY_TIMEOUT_MS = 60_000
#: Characters of the sha256 hex digest kept as a run id (96 bits).
RUN_ID_CHARS = 24

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id    TEXT PRIMARY KEY,
    sweep     TEXT NOT NULL,
    scenario  TEXT NOT NULL,
    point_id  INTEGER NOT NULL,
    replicate INTEGER NOT NULL,
    seed      INTEGER NOT NULL,
    scale     REAL NOT NULL,
    point     TEXT NOT NULL,
    metric_set INTEGER NOT NULL REFERENCES metric_sets (set_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS runs_order ON runs (sweep, scenario, point_id, replicate, seed, scale, run_id);
CREATE TABLE IF NOT EXISTS rows (
    run_id  TEXT NOT NULL REFERENCES runs (run_id),
    year    INTEGER NOT NULL,
    metrics BLOB NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS rows_run ON rows (run_id, year);
CREATE TABLE IF NOT EXISTS metric_sets (
    set_id INTEGER PRIMARY KEY,
    names  TEXT NOT NULL UNIQUE
);
"""
# ``rows`` keeps a rowid (unlike ``runs``): its packed metrics are too large for SQLite's
# WITHOUT ROWID tables, which suit small rows.

#: How metric values are packed in ``rows.metrics``.
_FLOAT = np.dtype("<f8")

# Frame order: deterministic whatever order the runs finished in (seed, scale and run id
# only break ties between runs that share sweep, scenario, point and replicate).
_ORDER = "r.sweep, r.scenario, r.point_id, r.replicate, r.seed, r.scale, r.run_id"
# What iter_frames reads for each frame row, unpacked in this order by _frame().
_SELECT = ("r.sweep", "r.run_id", "r.scenario", "r.point_id", "r.replicate", "r.seed", "r.scale", "w.year",
           "r.point", "r.metric_set", "w.metrics")


def _plain(value: Any) -> Any:
    """JSON fallback for numpy scalars (``np.int64`` is not an ``int``)."""
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"not JSON serialisable: {value!r} ({type(value).__name__})")


#: Parts of the package (paths under sim/, or their first folder) that do not change what a run
#: computes: editing them keeps stored results. The store itself is one: it only keeps them; so are
#: the pre-run memory check, the output-folder lock and the CSV writer; the optimiser only writes
#: scenarios, whose content is part of the run id; tables, figures and reports only read runs, and
#: the run-and-compare pipeline only orders runs and writes those tables, choosing a package's
#: baseline only picks scenarios (their content is part of the run id), the drift check, the
#: evidence harness and the study-design statistics only run scenarios and read what they record
#: (the harness's overrides are scenario content, part of every run id); the maintainer's tools
#: that derive the shipped geographies and records (their outputs are hashed).
_NOT_MODEL = frozenset({"app", "calibration", "cli.py", "__main__.py", "_data", "experiments/store.py",
                        "experiments/resources.py", "experiments/folder_lock.py", "csv_output.py", "optimise",
                        "presentation.py", "plots.py", "report.py", "experiments/summary.py",
                        "experiments/packages.py", "experiments/pipeline.py", "experiments/stationarity.py",
                        "experiments/designs.py", "experiments/evidence.py", "experiments/baseline.py",
                        "space/derive_geographies.py", "space/derive_records.py"})


@functools.lru_cache(maxsize=1)
def model_version() -> str:
    """A hash of the simulation's source code and built-in real maps: a changed model never reuses stored results."""
    root = Path(__file__).resolve().parents[1]
    h = sha256()
    # The seed cities' outlines and populations (sim/space/geographies) are part of the model's input.
    for f in sorted([*root.rglob("*.py"), *(root / "space" / "geographies").glob("*.json")]):
        relative = f.relative_to(root)
        if relative.parts[0] in _NOT_MODEL or relative.as_posix() in _NOT_MODEL:
            continue
        h.update(relative.as_posix().encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def run_id(scenario_json: str, point: dict[str, Any], seed: int, scale: float) -> str:
    """The id of one run: the same inputs and model code give the same id in every process.

    The model's source (:func:`model_version`) is part of the id, so results computed by
    other code are recomputed rather than resumed.

    Args:
        scenario_json: The scenario's content (``Scenario.model_dump_json()``, with the
            point's overrides already applied or not — the caller's choice, as long as it is
            consistent). Parsed and re-serialised with sorted keys, so key order is irrelevant.
        point: The design point, ``{factor key: value}``; key order is irrelevant.
        seed: The replicate's seed.
        scale: Fraction of the full city.

    Returns:
        The first 24 hex characters of the sha256 of a canonical JSON of all four.
    """
    canonical = json.dumps(
        {"scenario": json.loads(scenario_json), "point": point, "seed": int(seed), "scale": float(scale),
         "model": model_version()},
        sort_keys=True, separators=(",", ":"), default=_plain,
    )
    return sha256(canonical.encode()).hexdigest()[:RUN_ID_CHARS]


@dataclass
class RunRecord:
    """One finished run, as the store keeps it.

    Attributes:
        run_id: From :func:`run_id`.
        sweep: Name of the sweep the run belongs to.
        scenario: Scenario name.
        point_id: Index of the design point in the sweep's design.
        point: The design point, ``{factor key: value}`` (e.g. ``"interventions.video.cameras"``).
        replicate: Replicate number.
        seed: The replicate's seed.
        scale: Fraction of the full city.
        rows: Per-year metric rows, as ``RunResult.rows``: ``{"year": 2021, "<metric>": value, ...}``.
    """

    run_id: str
    sweep: str
    scenario: str
    point_id: int
    point: dict[str, Any]
    replicate: int
    seed: int
    scale: float
    rows: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Layout:
    """A frame's columns beyond :data:`ID_COLUMNS`: factors (with their kinds) and metrics."""

    factors: dict[str, str]  # factor key -> "bool" | "int" | "float" | "str"
    metrics: list[str]
    set_columns: dict[int, np.ndarray]  # metric set id -> positions of its names in ``metrics``

    @property
    def columns(self) -> list[str]:
        return [*ID_COLUMNS, *self.factors, *self.metrics]


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    return "str"


_WIDER = {("int", "float"): "float", ("float", "int"): "float"}


class StoreError(ValueError):
    """A results store that cannot be used: not a SQLite file, damaged, another program's
    database or a newer version. The message names the file and what to do."""


#: Tables of a results store; a SQLite file without them and with other tables is not one.
_TABLES = frozenset({"runs", "rows", "metric_sets"})


def _damaged(path: Path, error: sqlite3.DatabaseError) -> StoreError:
    return StoreError(f"{path}: not a readable results store ({error}); it may be truncated or damaged. "
                      "Move it aside and run again to start a new store (its finished runs are recomputed), "
                      "or give another --out/--store")


#: SQLite's WAL-index header (the first 48 bytes of the ``-shm`` file, kept twice, native byte order;
#: https://www.sqlite.org/walformat.html): version, unused, change counter, is-initialised flag,
#: checksum order, page size, frames in the log (mxFrame), pages, frame checksum, salt (raw bytes),
#: header checksum.
_WAL_INDEX_HEADER = struct.Struct("=IIIBBHII8s8s8s")
#: Offset of nBackfill (frames already copied into the database) in the ``-shm`` file.
_WAL_BACKFILL_AT = 96
_WAL_HEADER_BYTES = 32  # the log's own header; its salt is at bytes 16–24
_WAL_FRAME_HEADER_BYTES = 24


def _lost_wal_frames(path: Path) -> str | None:
    """Whether committed transactions of a store's write-ahead log were lost while no process had it open.

    After a writer is killed, its ``-wal`` file holds the transactions committed since the last
    checkpoint, and the ``-shm`` index says how many frames that is. If the log was then deleted,
    truncated or replaced, SQLite silently opens the store without those transactions. This reads
    the index before SQLite opens (and rebuilds) it, and compares it with the log.

    Returns:
        "missing", "truncated" or "replaced" when frames the index counts are not in the log
        (beyond those already copied into the database), else None. None too when there is no
        index to compare with (deleting both files leaves no trace).
    """
    shm, wal = Path(f"{path}-shm"), Path(f"{path}-wal")

    def index() -> bytes:
        try:
            with open(shm, "rb") as fh:
                return fh.read(_WAL_BACKFILL_AT + 4)
        except OSError:
            return b""

    head = index()
    if len(head) < _WAL_BACKFILL_AT + 4 or head[:48] != head[48:96]:  # unset, or caught mid-update
        return None
    _version, _, _, is_init, _, page, frames, _, _, salt, _ = _WAL_INDEX_HEADER.unpack(head[:48])
    (backfilled,) = struct.unpack("=I", head[_WAL_BACKFILL_AT:_WAL_BACKFILL_AT + 4])
    page_size = 65536 if page == 1 else page
    if not is_init or frames <= backfilled or page_size < 512:
        return None  # nothing in the log that the database does not already hold
    try:
        size = wal.stat().st_size
        with open(wal, "rb") as fh:
            wal_salt = fh.read(_WAL_HEADER_BYTES)[16:24]
    except OSError:
        lost = "missing"
    else:
        short = size < _WAL_HEADER_BYTES + frames * (_WAL_FRAME_HEADER_BYTES + page_size)
        lost = "truncated" if short else "replaced" if wal_salt != salt else None
    # A live store (another process writing) moves its index on: only a still index tells of a loss.
    return lost if lost and index() == head else None


class ResultsStore:
    """Finished runs in a SQLite file (WAL mode), safe to open from many processes at once.

    Writers commit one run per transaction and take turns; readers never wait for writers.
    Use as a context manager, or call :meth:`close`.

    A store is only ever created where no file exists, and created whole: its tables are made in
    a file beside it that is then linked into place, so a file at the path is either a complete
    results store or not one of ours — and a file that is not ours (empty, another program's
    database, damaged) is refused and never written to. With ``readonly`` the file is opened
    read-only (SQLite's ``mode=ro``): reading results never changes the file, not even by a
    checkpoint of its write-ahead log.

    Args:
        path: The store file; created, with its tables, if it does not exist (not with ``readonly``).
        readonly: Open an existing store for reading only.

    Attributes:
        notes: What is wrong but usable, found when the store was opened: runs committed but lost
            with a deleted or truncated write-ahead log, runs without rows or rows without runs.

    Raises:
        StoreError: If the path is a folder, the file is empty, is not a SQLite database, is
            damaged, is another program's database, or was written by a newer version of the
            store; with ``readonly``, if it does not exist.
    """

    def __init__(self, path: str | Path, *, readonly: bool = False):
        self.path = Path(path)
        self.readonly = readonly
        if self.path.is_dir():
            raise StoreError(f"{self.path}: is a folder; expected a results store file (e.g. store.sqlite)")
        self._metric_sets: dict[str, int] = {}  # names (JSON) -> set id, once committed
        self.notes: list[str] = []
        if not self.path.exists():
            if readonly:
                raise StoreError(f"{self.path}: no such results store")
            self._create_file()
        elif self.path.stat().st_size == 0:
            raise StoreError(f"{self.path}: an empty file, not a results store (a store is created where no file "
                             "exists); move it aside or give another --out/--store file")
        lost = _lost_wal_frames(self.path)  # before connecting: opening the store recovers the log
        try:
            self._con = self._connect()
        except sqlite3.DatabaseError as e:
            raise _damaged(self.path, e) from None
        try:
            self._check()
        except sqlite3.DatabaseError as e:
            self._con.close()
            raise _damaged(self.path, e) from None
        except StoreError:
            self._con.close()
            raise
        if lost:
            self.notes.append(f"its write-ahead log ({self.path.name}-wal) is {lost}: runs committed after the last "
                              "checkpoint are not in the store; a resumed sweep computes them again")
        self.notes.extend(self._disagreements())

    def _check(self) -> None:
        """Check the file is a results store and read the last page of each table: a truncated file
        fails here, not mid-sweep.

        ``PRAGMA quick_check`` would read the whole file (minutes for a large store); the
        schema read and the ``MAX`` queries below touch the first and the last pages, where a
        truncated or overwritten file is found.
        """
        version = self._con.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(f"{self.path}: results store version {version}, this code reads up to "
                             f"{SCHEMA_VERSION}; update pingan or give another --out/--store")
        tables = {n for (n,) in self._con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        others = sorted(n for n in tables if n not in _TABLES and not n.startswith("sqlite_"))
        if others:  # never add our tables to another program's database, nor read it as ours
            raise StoreError(f"{self.path}: a SQLite database of another program (tables {others}); it is left "
                             "as it is: give another --out/--store file")
        if not _TABLES <= tables or version != SCHEMA_VERSION:
            raise StoreError(f"{self.path}: a SQLite database without the results store's tables (it has "
                             f"{sorted(tables) or 'none'}); it is left as it is: give another --out/--store file")
        self._con.execute("SELECT MAX(run_id) FROM runs").fetchone()
        self._con.execute("SELECT MAX(rowid) FROM rows").fetchone()
        self._con.execute("SELECT COUNT(*) FROM metric_sets").fetchone()

    def _disagreements(self) -> list[str]:
        """Runs without rows and rows without runs (a store edited by another program, or damaged)."""
        out = []
        (bare,) = self._con.execute(
            "SELECT COUNT(*) FROM runs r WHERE NOT EXISTS (SELECT 1 FROM rows w WHERE w.run_id = r.run_id)").fetchone()
        if bare:
            out.append(f"{bare} run{'s' if bare > 1 else ''} without any year row: left out of tables and exports, "
                       "and computed again by a resumed sweep")
        (orphans,) = self._con.execute(
            "SELECT COUNT(DISTINCT w.run_id) FROM rows w WHERE NOT EXISTS "
            "(SELECT 1 FROM runs r WHERE r.run_id = w.run_id)").fetchone()
        if orphans:
            out.append(f"year rows of {orphans} run{'s' if orphans > 1 else ''} that the store does not list: left "
                       "out of tables and exports")
        return out

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: no implicit transactions; put() opens and commits its own.
        if self.readonly:  # mode=ro: SQLite itself refuses every write, checkpoints included
            uri = f"{self.path.resolve().as_uri()}?mode=ro"
            con = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        else:
            con = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        con.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if not self.readonly:
            con.execute("PRAGMA synchronous = FULL")  # see the module docstring
        return con

    def _create_file(self) -> None:
        """Create a complete, empty store at :attr:`path`, atomically.

        The tables are made in a file of this process's own beside the path, switched to WAL
        (a property of the file, kept by every later connection) and closed; the file is then
        hard-linked into place, which fails if another process created the store meanwhile (then
        that store is used). A store is never half-created, and no existing file is ever written to.
        """
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.new")
        tmp.unlink(missing_ok=True)
        try:
            con = sqlite3.connect(tmp, isolation_level=None)
            try:
                con.execute("PRAGMA journal_mode = WAL")
                con.execute("BEGIN IMMEDIATE")
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        con.execute(statement)
                con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                con.execute("COMMIT")
            finally:
                con.close()  # the last connection: the log is checkpointed into the file and removed
            try:
                os.link(tmp, self.path)
            except FileExistsError:
                pass  # another process created the store first: use it
            except OSError:  # a filesystem without hard links: rename, unless the path appeared meanwhile
                if not self.path.exists():
                    os.replace(tmp, self.path)
        except sqlite3.DatabaseError as e:
            raise StoreError(f"{self.path}: cannot create a results store ({e})") from None
        except OSError as e:
            raise StoreError(f"{self.path}: cannot create a results store ({e.strerror})") from None
        finally:
            for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
                leftover.unlink(missing_ok=True)

    # -- writing -----------------------------------------------------------------------

    def put(self, record: RunRecord, *, replace: bool = False) -> bool:
        """Store one finished run and all its year rows, atomically.

        Args:
            record: The run.
            replace: If a run with this id is already stored, replace it (in the same
                transaction) instead of keeping it — for a deliberate recomputation.

        Returns:
            True if stored; False if a run with this id is already in the store and
            ``replace`` is false (nothing is changed).

        Raises:
            ValueError: If there are no rows, a row lacks ``year`` or repeats one, a metric is
                not a number, or a name clashes with an identifying column or a factor.
                Nothing is stored.
        """
        if not record.rows:
            raise ValueError(f"run {record.run_id}: no rows")
        names: dict[str, None] = {}
        for row in record.rows:
            if "year" not in row:
                raise ValueError(f"run {record.run_id}: a row has no 'year'")
            names.update(dict.fromkeys(k for k in row if k != "year"))
        clashes = (set(record.point) | set(names)) & set(ID_COLUMNS) | (set(record.point) & set(names))
        if clashes:
            raise ValueError(f"run {record.run_id}: column names clash with ids or factors: {sorted(clashes)}")
        years = [int(row["year"]) for row in record.rows]
        if len(set(years)) != len(years):
            raise ValueError(f"run {record.run_id}: a year appears twice in its rows")
        values = [[row.get(n) for n in names] for row in record.rows]
        bad = {n for row in values for n, v in zip(names, row, strict=True)
               if not (v is None or isinstance(v, numbers.Real))}  # numpy numbers are Real too
        if bad:
            raise ValueError(f"run {record.run_id}: metrics must be numbers, not so for {sorted(bad)}")
        packed = np.asarray(values, dtype=_FLOAT)  # None (absent) -> NaN
        names_json = json.dumps(list(names))
        point_json = json.dumps(record.point, default=_plain)

        if self.readonly:
            raise StoreError(f"{self.path}: opened read-only; cannot store run {record.run_id}")
        con = self._con
        con.execute("BEGIN IMMEDIATE")  # the write lock from the start: the check below cannot go stale
        try:
            if con.execute("SELECT 1 FROM rows WHERE run_id = ? LIMIT 1", (record.run_id,)).fetchone():
                if not replace:
                    con.execute("ROLLBACK")
                    return False
            # A finished run replaced, or a run listed without rows (an edited store): start it afresh.
            con.execute("DELETE FROM rows WHERE run_id = ?", (record.run_id,))
            con.execute("DELETE FROM runs WHERE run_id = ?", (record.run_id,))
            set_id = self._metric_sets.get(names_json)
            if set_id is None:
                con.execute("INSERT OR IGNORE INTO metric_sets (names) VALUES (?)", (names_json,))
                (set_id,) = con.execute("SELECT set_id FROM metric_sets WHERE names = ?", (names_json,)).fetchone()
            con.execute(
                "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (record.run_id, record.sweep, record.scenario, int(record.point_id), int(record.replicate),
                 int(record.seed), float(record.scale), point_json, set_id),
            )
            con.executemany("INSERT INTO rows VALUES (?, ?, ?)",
                            [(record.run_id, y, v.tobytes()) for y, v in zip(years, packed, strict=True)])
            con.execute("COMMIT")
        except BaseException:  # KeyboardInterrupt included: leave no open transaction
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise
        self._metric_sets[names_json] = set_id
        return True

    # -- reading -----------------------------------------------------------------------

    def finished_ids(self) -> set[str]:
        """Ids of every finished run in the store (of every sweep): listed, with its year rows."""
        return {rid for (rid,) in self._con.execute(
            "SELECT run_id FROM runs r WHERE EXISTS (SELECT 1 FROM rows w WHERE w.run_id = r.run_id)")}

    def run_rows(self, run_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        """The year rows of the given runs, as :attr:`RunRecord.rows` (absent ids are left out).

        Metrics a run did not write (NaN in the store) are left out of its rows.
        """
        names = {k: json.loads(v) for k, v in self._con.execute("SELECT set_id, names FROM metric_sets")}
        out: dict[str, list[dict[str, Any]]] = {}
        ids = list(dict.fromkeys(run_ids))
        for start in range(0, len(ids), 500):  # SQLite limits the parameters of one statement
            chunk = ids[start:start + 500]
            marks = ", ".join("?" * len(chunk))
            for rid, set_id, year, blob in self._con.execute(
                f"SELECT r.run_id, r.metric_set, w.year, w.metrics FROM runs r JOIN rows w ON w.run_id = r.run_id "
                f"WHERE r.run_id IN ({marks}) ORDER BY r.run_id, w.year", chunk,
            ):
                values = np.frombuffer(blob, dtype=_FLOAT)
                row: dict[str, Any] = {"year": int(year)}
                row.update({n: float(v) for n, v in zip(names[set_id], values, strict=True) if not math.isnan(v)})
                out.setdefault(rid, []).append(row)
        return out

    def count(self, sweep: str | None = None) -> int:
        """Number of runs stored (not rows), in one sweep or in all."""
        where, args = _where(sweep)
        return self._con.execute(f"SELECT COUNT(*) FROM runs r {where}", args).fetchone()[0]

    def sweeps(self) -> list[str]:
        """Names of the sweeps in the store, sorted."""
        return [s for (s,) in self._con.execute("SELECT DISTINCT sweep FROM runs ORDER BY sweep")]

    def iter_frames(self, sweep: str | None = None, chunksize: int = 1000) -> Iterator[pd.DataFrame]:
        """The store's rows, in frame order, a chunk at a time.

        Columns: :data:`ID_COLUMNS`, then one per design factor (in the order of the first
        run's point), then the metrics (in the order of the first run's rows, then any
        others alphabetically). Rows are ordered by sweep, scenario, point, replicate and
        year, whatever order the runs finished in. Every chunk has the same columns and
        dtypes; metrics are float64. The chunks come from one snapshot of the store, read
        through a connection of their own, so runs committed meanwhile are not mixed in.

        Args:
            sweep: Only this sweep's runs; all sweeps if None.
            chunksize: Rows per chunk.

        Yields:
            DataFrames of at most ``chunksize`` rows; nothing if no run matches.
        """
        if chunksize < 1:
            raise ValueError(f"chunksize must be at least 1, got {chunksize}")
        con = self._connect()
        try:
            con.execute("BEGIN")  # one read snapshot for the layout and every chunk
            layout = self._layout(con, sweep)
            where, args = _where(sweep)
            cursor = con.execute(
                f"SELECT {', '.join(_SELECT)} FROM runs r JOIN rows w ON w.run_id = r.run_id {where} "
                f"ORDER BY {_ORDER}, w.year",
                args,
            )
            while chunk := cursor.fetchmany(chunksize):
                yield _frame(chunk, layout)
        finally:
            con.close()  # ends the read transaction, also when the consumer stops early

    def frame(self, sweep: str | None = None) -> pd.DataFrame:
        """All rows in one DataFrame (for stores that fit in memory); see :meth:`iter_frames`."""
        chunks = list(self.iter_frames(sweep, chunksize=10_000))
        if not chunks:
            return _frame([], self._layout(self._con, sweep))
        return pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]

    def export(self, path: str | Path, sweep: str | None = None) -> int:
        """Write the rows to a CSV or Parquet file, chunk by chunk.

        The file is written beside its destination and renamed into place when complete, so
        an interrupted export leaves no partial file.

        Args:
            path: Destination; ``.csv`` or ``.parquet`` (pyarrow, one row group per chunk).
            sweep: Only this sweep's runs; all sweeps if None.

        Returns:
            Rows written.

        Raises:
            ValueError: If the suffix is neither ``.csv`` nor ``.parquet``.
        """
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in (".csv", ".parquet"):
            raise ValueError(f"{path}: export writes .csv or .parquet, not {path.suffix!r}")
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        chunks = self.iter_frames(sweep, chunksize=10_000)
        rows = 0
        try:
            if suffix == ".csv":
                from sim.csv_output import write_csv  # here: the store module imports nothing of sim at load

                with open(tmp, "w", newline="", encoding="utf-8") as fh:
                    first = True
                    for df in chunks:
                        write_csv(df, fh, header=first)
                        first, rows = False, rows + len(df)
                    if first:  # empty store: header only
                        write_csv(_frame([], self._layout(self._con, sweep)), fh)
            else:
                rows = _write_parquet(tmp, chunks, lambda: _frame([], self._layout(self._con, sweep)))
            os.replace(tmp, path)
        finally:
            chunks.close()
            tmp.unlink(missing_ok=True)
        return rows

    def close(self) -> None:
        """Close the store's connection (idempotent)."""
        self._con.close()

    def __enter__(self) -> ResultsStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ResultsStore({str(self.path)!r})"

    # -- helpers -----------------------------------------------------------------------

    @staticmethod
    def _layout(con: sqlite3.Connection, sweep: str | None) -> _Layout:
        where, args = _where(sweep)
        factors: dict[str, str] = {}
        present: dict[str, int] = {}
        n_runs = 0
        for (point_json,) in con.execute(f"SELECT r.point FROM runs r {where} ORDER BY {_ORDER}", args):
            n_runs += 1
            for key, value in json.loads(point_json).items():
                kind = _kind(value)
                old = factors.get(key, kind)
                factors[key] = old if old == kind else _WIDER.get((old, kind), "str")
                present[key] = present.get(key, 0) + 1
        for key, kind in factors.items():
            if present[key] < n_runs and kind in ("int", "bool"):  # missing values become NaN
                factors[key] = "float" if kind == "int" else "str"

        sets = dict(con.execute(
            "SELECT set_id, names FROM metric_sets WHERE set_id IN "
            f"(SELECT DISTINCT r.metric_set FROM runs r {where})", args,
        ))
        first = con.execute(f"SELECT r.metric_set FROM runs r {where} ORDER BY {_ORDER} LIMIT 1", args).fetchone()
        metrics = json.loads(sets[first[0]]) if first else []
        metrics += sorted({n for names in sets.values() for n in json.loads(names)} - set(metrics))
        position = {n: i for i, n in enumerate(metrics)}
        set_columns = {k: np.array([position[n] for n in json.loads(names)], dtype=np.intp)
                       for k, names in sets.items()}
        return _Layout(factors, metrics, set_columns)


def _where(sweep: str | None) -> tuple[str, tuple]:
    return ("WHERE r.sweep = ?", (sweep,)) if sweep is not None else ("", ())


_DTYPES = {"bool": "bool", "int": "int64", "float": "float64"}


def _frame(chunk: list[tuple], layout: _Layout) -> pd.DataFrame:
    """Rows fetched from the store, as a DataFrame with the layout's columns and dtypes."""
    columns = list(zip(*chunk, strict=True)) if chunk else [()] * len(_SELECT)
    sweeps, run_ids, scenarios, point_ids, replicates, seeds, scales, years, point_jsons, set_ids, packed = columns
    data: dict[str, Any] = {
        "sweep": list(sweeps),  # strings: pandas picks its own string dtype
        "run_id": list(run_ids),
        "scenario": list(scenarios),
        "point_id": np.array(point_ids, dtype=np.int64),
        "replicate": np.array(replicates, dtype=np.int64),
        "seed": np.array(seeds, dtype=np.int64),
        "scale": np.array(scales, dtype=np.float64),
        "year": np.array(years, dtype=np.int64),
    }
    points: list[dict] = []
    last_run, last_point = None, {}
    for run, point_json in zip(run_ids, point_jsons, strict=True):
        if run != last_run:  # a run's year rows are consecutive: parse its point once
            last_run, last_point = run, json.loads(point_json)
        points.append(last_point)
    for key, kind in layout.factors.items():
        values = [p.get(key) for p in points]
        if kind == "str":
            data[key] = [v if v is None or isinstance(v, str) else json.dumps(v) for v in values]
        else:
            data[key] = np.array([math.nan if v is None else v for v in values], dtype=_DTYPES[kind])

    # Unpack the metrics of all rows sharing a metric set at once, into their layout columns.
    metrics = np.full((len(chunk), len(layout.metrics)), math.nan)
    set_ids = np.array(set_ids, dtype=np.int64)
    for set_id in np.unique(set_ids):
        rows = np.flatnonzero(set_ids == set_id)
        where = layout.set_columns[int(set_id)]
        values = np.frombuffer(b"".join(packed[i] for i in rows), dtype=_FLOAT)
        metrics[np.ix_(rows, where)] = values.reshape(len(rows), len(where))
    return pd.concat([pd.DataFrame(data, columns=list(data)), pd.DataFrame(metrics, columns=layout.metrics)],
                     axis=1)


def _write_parquet(path: Path, chunks: Iterator[pd.DataFrame], empty: Any) -> int:
    import pyarrow as pa  # imported here: only exports need it
    import pyarrow.parquet as pq

    writer = None
    rows = 0
    try:
        for df in chunks:
            if writer is None:
                table = pa.Table.from_pandas(df, preserve_index=False)
                writer = pq.ParquetWriter(path, table.schema)
            else:
                table = pa.Table.from_pandas(df, schema=writer.schema, preserve_index=False)
            writer.write_table(table)
            rows += len(df)
        if writer is None:  # empty store: a file with the columns and no rows
            table = pa.Table.from_pandas(empty(), preserve_index=False)
            writer = pq.ParquetWriter(path, table.schema)
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()
    return rows
