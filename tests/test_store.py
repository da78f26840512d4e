"""The results store: atomic runs, resume after a kill, concurrent readers, ordered exports.

Runs are synthetic records (2 years x 40 metrics); no simulation is needed. Processes that
write or read the store concurrently are real subprocesses.
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from sim.experiments.store import ID_COLUMNS, ResultsStore, RunRecord, StoreError, run_id

N_METRICS = 40
YEARS = (2021, 2022)
SCENARIO_JSON = json.dumps({"name": "synthetic", "run": {"years": 2}})
REPO = Path(__file__).resolve().parents[1]

# Subprocesses load the store module by its path: importing the `sim` package would load the
# whole model, seconds per process.
PRELUDE = textwrap.dedent(f"""
    import importlib.util, sys
    _spec = importlib.util.spec_from_file_location("store", {str(REPO / "sim" / "experiments" / "store.py")!r})
    store = sys.modules["store"] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(store)
    ResultsStore, RunRecord, run_id = store.ResultsStore, store.RunRecord, store.run_id
""")
# Subprocesses build the same synthetic records as the tests do, from this source.
RECORDS_SRC = textwrap.dedent(f"""
    N_METRICS, YEARS, SCENARIO_JSON = {N_METRICS}, {YEARS!r}, {SCENARIO_JSON!r}

    def make_record(i, sweep="s", n_replicates=4):
        point_id, replicate = divmod(i, n_replicates)
        point = {{"interventions.video.cameras": 1000 * point_id, "crime.displacement_prob": 0.1 * point_id}}
        seed = 100 + replicate
        rows = [{{"year": y, **{{f"m{{k:02d}}": i + k / 7 + (y - 2021) for k in range(N_METRICS)}}}} for y in YEARS]
        return RunRecord(run_id(SCENARIO_JSON, point, seed, 0.05), sweep, "synthetic", point_id, point,
                         replicate, seed, 0.05, rows)
""")
_ns: dict = {"RunRecord": RunRecord, "run_id": run_id}
exec(RECORDS_SRC, _ns)  # noqa: S102 - the same source the subprocesses run
make_record = _ns["make_record"]


def _python(script: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", PRELUDE + RECORDS_SRC + textwrap.dedent(script), *args], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait(proc: subprocess.Popen, timeout: float = 30) -> str:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err
    return out


@pytest.fixture
def store(tmp_path):
    with ResultsStore(tmp_path / "results.sqlite") as s:
        yield s


def test_run_id_depends_on_content_point_seed_and_scale_not_key_order():
    base = run_id(SCENARIO_JSON, {"a": 1, "b": 0.5}, 7, 0.05)
    assert len(base) == 24
    assert run_id(json.dumps({"run": {"years": 2}, "name": "synthetic"}), {"b": 0.5, "a": 1}, 7, 0.05) == base
    assert run_id(SCENARIO_JSON.replace("2", "3"), {"a": 1, "b": 0.5}, 7, 0.05) != base
    assert run_id(SCENARIO_JSON, {"a": 2, "b": 0.5}, 7, 0.05) != base
    assert run_id(SCENARIO_JSON, {"a": 1, "b": 0.5}, 8, 0.05) != base
    assert run_id(SCENARIO_JSON, {"a": 1, "b": 0.5}, 7, 0.1) != base


def test_put_then_finished_ids_and_count(store):
    records = [make_record(i) for i in range(10)]
    assert all(store.put(r) for r in records)
    assert store.finished_ids() == {r.run_id for r in records}
    assert store.count() == 10 and store.count("s") == 10 and store.count("other") == 0


def test_duplicate_put_is_refused_and_stores_nothing_twice(store):
    record = make_record(0)
    assert store.put(record)
    altered = make_record(0)
    altered.rows[0]["m00"] = -1.0
    assert not store.put(altered)
    df = store.frame()
    assert len(df) == len(YEARS) and store.count() == 1
    assert df.loc[0, "m00"] == record.rows[0]["m00"]


def test_replace_overwrites_a_stored_run_in_one_piece(store):
    store.put(make_record(0))
    altered = make_record(0)
    altered.rows = [{**altered.rows[0], "m00": -1.0}]
    assert store.put(altered, replace=True)
    df = store.frame()
    assert store.count() == 1 and len(df) == 1 and df.loc[0, "m00"] == -1.0


def test_bad_rows_are_refused_before_anything_is_stored(store):
    record = make_record(0)
    record.rows = [{"year": 2021, "seed": 3.0}]
    with pytest.raises(ValueError, match="clash"):
        store.put(record)
    record.rows = [{"year": 2021, "m": 1.0}, {"year": 2021, "m": 2.0}]
    with pytest.raises(ValueError, match="twice"):
        store.put(record)
    assert store.count() == 0


def test_frame_columns_and_row_order_do_not_depend_on_insertion_order(tmp_path):
    records = [make_record(i) for i in range(12)] + [make_record(i, sweep="a") for i in range(100, 104)]
    frames = []
    for k in range(2):
        shuffled = random.Random(k).sample(records, len(records))
        with ResultsStore(tmp_path / f"{k}.sqlite") as s:
            for r in shuffled:
                s.put(r)
            frames.append(s.frame())
    df = frames[0]
    pd.testing.assert_frame_equal(df, frames[1])
    metrics = [f"m{k:02d}" for k in range(N_METRICS)]
    assert list(df.columns) == [*ID_COLUMNS, "interventions.video.cameras", "crime.displacement_prob", *metrics]
    keys = list(zip(df.sweep, df.scenario, df.point_id, df.replicate, df.year, strict=True))
    assert keys == sorted(keys) and len(df) == len(records) * len(YEARS)
    assert df.sweep.iloc[0] == "a"
    assert df["interventions.video.cameras"].dtype == "int64" and df["m00"].dtype == "float64"


def test_iter_frames_chunks_cover_every_row_exactly_once(store):
    for r in random.Random(1).sample([make_record(i) for i in range(25)], 25):
        store.put(r)
    chunks = list(store.iter_frames(chunksize=7))
    assert [len(c) for c in chunks] == [7] * 7 + [1]
    assert all(list(c.columns) == list(chunks[0].columns) for c in chunks)
    pd.testing.assert_frame_equal(pd.concat(chunks, ignore_index=True), store.frame())


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_export_reads_back_equal_to_frame(store, tmp_path, suffix):
    for i in range(30):
        store.put(make_record(i))
    path = tmp_path / f"out{suffix}"
    assert store.export(path) == 30 * len(YEARS)
    back = pd.read_csv(path) if suffix == ".csv" else pd.read_parquet(path)
    pd.testing.assert_frame_equal(back, store.frame(), check_dtype=suffix == ".parquet")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary file left


def test_export_refuses_unknown_formats(store, tmp_path):
    with pytest.raises(ValueError, match="csv or .parquet"):
        store.export(tmp_path / "out.xlsx")


def test_another_process_reads_while_this_one_writes(store):
    for i in range(10):
        store.put(make_record(i))
    # A second writer holds the write lock with an uncommitted insert: readers must not wait for it.
    blocker = sqlite3.connect(store.path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    blocker.execute("INSERT INTO metric_sets (names) VALUES ('[\"pending\"]')")
    # The lock is released only after the reader has finished: a reader that needed it would wait out
    # the busy timeout (60 s) and fail, or outlive _wait's 30 s; no wall-clock threshold is involved.
    reader = _python("""
        import sys
        with ResultsStore(sys.argv[1]) as s:
            print(s.count(), len(s.frame()))
    """, str(store.path))
    count, rows = _wait(reader).split()
    assert (int(count), int(rows)) == (10, 10 * len(YEARS))
    assert blocker.in_transaction  # still holding the write lock the reader did not need
    blocker.execute("ROLLBACK")
    blocker.close()

    # ...and it sees runs committed while it keeps reading.
    reader = _python("""
        import sys, time
        with ResultsStore(sys.argv[1]) as s:
            seen = [s.count()]
            print("ready", flush=True)
            while seen[-1] < 30 and len(seen) < 10_000:
                time.sleep(0.002)
                seen.append(s.count())
        print(seen[0], seen[-1])
    """, str(store.path))
    assert reader.stdout.readline().strip() == "ready"
    for i in range(10, 30):
        store.put(make_record(i))
        time.sleep(0.01)
    first, last = map(int, _wait(reader).split())
    assert first < 30 and last == 30


def test_concurrent_writers_take_turns_and_store_each_run_once(tmp_path):
    path = tmp_path / "results.sqlite"
    writer = """
        import sys
        with ResultsStore(sys.argv[1]) as s:
            print(sum(s.put(make_record(i)) for i in range(60)))
    """
    procs = [_python(writer, str(path)) for _ in range(2)]
    stored = sum(int(_wait(p)) for p in procs)
    with ResultsStore(path) as s:
        assert stored == 60 and s.count() == 60
        assert (s.frame().groupby("run_id").size() == len(YEARS)).all()


def test_sweep_killed_at_any_moment_resumes_without_losing_or_repeating_runs(tmp_path):
    path = tmp_path / "results.sqlite"
    n = 1000
    # The writer stores runs until it has `stop` of them, then begins the next run's transaction and,
    # with its rows written but not committed, says "paused" and waits on stdin: the test kills it
    # there, inside an open transaction (the worst moment), every time rather than when a race allows.
    writer = """
        import sys
        n, stop = int(sys.argv[2]), int(sys.argv[3])

        class PauseBeforeCommit:
            def __init__(self, con):
                self.con = con
            def __getattr__(self, name):
                return getattr(self.con, name)
            def execute(self, sql, *args):
                if sql == "COMMIT":
                    print("paused", flush=True)
                    sys.stdin.readline()  # killed here
                return self.con.execute(sql, *args)

        with ResultsStore(sys.argv[1]) as s:
            done = s.finished_ids()
            for i in range(n):
                record = make_record(i)
                if record.run_id not in done:
                    if s.count() == stop:
                        s._con = PauseBeforeCommit(s._con)
                    assert s.put(record)
        print("finished")
    """
    counts = []
    for stop in (50, 300, 600):
        proc = subprocess.Popen([sys.executable, "-c", PRELUDE + RECORDS_SRC + textwrap.dedent(writer), str(path),
                                 str(n), str(stop)], cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "paused", proc.stderr.read()
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate()
        assert proc.returncode == -signal.SIGKILL

        con = sqlite3.connect(path)
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        con.close()
        with ResultsStore(path) as s:
            df = s.frame()
            counts.append(s.count())
        # every stored run is complete (one transaction per run), and the one killed mid-write is absent
        assert (df.groupby("run_id").size() == len(YEARS)).all()
        assert df.run_id.nunique() == counts[-1] == stop

    assert _wait(_python(writer, str(path), str(n), str(n + 1))).strip() == "finished"
    expected = [make_record(i) for i in range(n)]
    with ResultsStore(path) as s:
        df = s.frame()
        assert s.count() == n and s.finished_ids() == {r.run_id for r in expected}
    assert len(df) == n * len(YEARS) and df.run_id.nunique() == n
    # nothing lost or altered: every value is the one its run produced
    want = pd.DataFrame([{"run_id": r.run_id, **row} for r in expected for row in r.rows])
    got = df[want.columns].sort_values(["run_id", "year"], ignore_index=True)
    pd.testing.assert_frame_equal(got, want.sort_values(["run_id", "year"], ignore_index=True), check_dtype=False)


def test_runs_with_different_metrics_share_columns_with_nan_where_absent(store):
    first, second = make_record(0), make_record(1)
    for row in second.rows:
        row["extra"] = 5
        del row["m01"]
    second.rows[1]["m02"] = None
    store.put(second)
    store.put(first)
    df = store.frame()
    assert list(df.columns[-3:]) == ["m38", "m39", "extra"]  # the first run's metrics, then the others sorted
    assert df.extra.isna().tolist() == [True, True, False, False]
    assert df.m01.isna().tolist() == [False, False, True, True]
    assert df.m02.isna().tolist() == [False, False, False, True]


def test_processes_creating_one_new_store_at_once_all_open_it(tmp_path):
    # Four processes released together onto a fresh file, 60 times: before the WAL switch was
    # retried, about 3 % of such openers failed with "database is locked".
    script = """
        import multiprocessing as mp, sys
        from pathlib import Path

        def open_store(path, barrier, errors):
            barrier.wait()
            try:
                with ResultsStore(path) as s:
                    s.count()
            except Exception as error:
                errors.put(repr(error))

        if __name__ == "__main__":
            ctx = mp.get_context("fork")
            errors = ctx.Queue()
            for i in range(60):
                barrier = ctx.Barrier(4)
                procs = [ctx.Process(target=open_store, args=(Path(sys.argv[1]) / f"s{i}.sqlite", barrier, errors))
                         for _ in range(4)]
                for p in procs:
                    p.start()
                for p in procs:
                    p.join()
            failures = []
            while not errors.empty():
                failures.append(errors.get())
            print(len(failures), sorted(set(failures)))
    """
    out = _wait(_python(script, str(tmp_path)), timeout=120)
    assert out.split()[0] == "0", out
    with ResultsStore(tmp_path / "s0.sqlite") as s:
        assert s.count() == 0


def _version_of_copy(package: Path) -> str:
    spec = importlib.util.spec_from_file_location("store_copy", package / "experiments" / "store.py")
    module = sys.modules["store_copy"] = importlib.util.module_from_spec(spec)  # dataclasses look it up
    try:
        spec.loader.exec_module(module)
        return module.model_version()
    finally:
        del sys.modules["store_copy"]


def test_model_version_follows_model_code_not_calibration_cli_or_store(tmp_path):
    package = tmp_path / "sim"
    shutil.copytree(REPO / "sim", package, ignore=shutil.ignore_patterns("__pycache__"))
    before = _version_of_copy(package)
    for kept in ("experiments/store.py", "cli.py", "calibration/calibrate.py"):
        with open(package / kept, "a") as f:
            f.write("\n# an edit that computes nothing differently\n")
        assert _version_of_copy(package) == before, kept
    with open(package / "model.py", "a") as f:
        f.write("\n# an edit to the model\n")
    assert _version_of_copy(package) != before


# ---- stores that cannot be used ------------------------------------------------------------


def _full_store(path: Path, runs: int = 60) -> Path:
    with ResultsStore(path) as s:
        for i in range(runs):
            s.put(make_record(i))
    assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0  # checkpointed
    return path


@pytest.mark.parametrize("damage", ["half", "first_page", "zeroed_tail", "random", "text"])
def test_a_damaged_or_truncated_store_is_a_clear_error_naming_the_file(tmp_path, damage):
    path = _full_store(tmp_path / "store.sqlite")
    data = path.read_bytes()
    assert len(data) > 8192
    damaged = {
        "half": data[: len(data) // 2],
        "first_page": data[:100],
        "zeroed_tail": data[:4096] + bytes(len(data) - 4096),
        "random": random.Random(1).randbytes(len(data)),
        "text": b"not a database\n" * 100,
    }[damage]
    path.write_bytes(damaged)
    with pytest.raises(StoreError) as err:
        ResultsStore(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}: not a readable results store (") and "Move it aside" in msg
    assert path.read_bytes() == damaged  # nothing written to it


def test_another_programs_database_is_refused_and_left_unchanged(tmp_path):
    path = tmp_path / "other.sqlite"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match=r"other.sqlite: a SQLite database of another program \(tables \['t'\]\)"):
        ResultsStore(path)
    assert path.read_bytes() == before


def test_a_folder_is_not_a_store(tmp_path):
    with pytest.raises(StoreError, match="is a folder; expected a results store file"):
        ResultsStore(tmp_path)


def test_a_store_of_a_newer_version_is_refused(tmp_path):
    path = _full_store(tmp_path / "store.sqlite", runs=1)
    con = sqlite3.connect(path)
    con.execute("PRAGMA user_version = 99")
    con.close()
    with pytest.raises(StoreError, match="version 99, this code reads up to 1; update pingan"):
        ResultsStore(path)


def test_model_version_ignores_the_packaged_data_and_python_m_entry_point(tmp_path):
    package = tmp_path / "sim"
    shutil.copytree(REPO / "sim", package, ignore=shutil.ignore_patterns("__pycache__"))
    before = _version_of_copy(package)
    for kept in ("__main__.py", "_data/__init__.py"):
        with open(package / kept, "a") as f:
            f.write("\n# an edit that computes nothing differently\n")
        assert _version_of_copy(package) == before, kept


def test_model_version_follows_the_built_in_real_maps(tmp_path):
    package = tmp_path / "sim"
    shutil.copytree(REPO / "sim", package, ignore=shutil.ignore_patterns("__pycache__"))
    before = _version_of_copy(package)
    geo = package / "space" / "geographies" / "suizhou.json"
    data = json.loads(geo.read_text(encoding="utf-8"))
    data["districts"][0]["population"] += 1  # one more resident in one district
    geo.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert _version_of_copy(package) != before


# ---- opening results never writes to a file it did not create; problems are said --------------


def _files_of(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_an_empty_file_is_refused_not_taken_as_a_new_store(tmp_path):
    path = tmp_path / "store.sqlite"
    path.write_bytes(b"")
    for readonly in (False, True):
        with pytest.raises(StoreError, match="store.sqlite: an empty file, not a results store"):
            ResultsStore(path, readonly=readonly)
    assert _files_of(tmp_path) == {"store.sqlite": b""}


def test_another_programs_empty_database_is_refused_and_left_unchanged(tmp_path):
    path = tmp_path / "other.sqlite"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE t (x)")
    con.execute("DROP TABLE t")  # a database with a header page and no tables
    con.close()
    before = _files_of(tmp_path)
    for readonly in (False, True):
        with pytest.raises(StoreError, match=r"without the results store's tables \(it has none\)"):
            ResultsStore(path, readonly=readonly)
    assert _files_of(tmp_path) == before


def test_a_new_store_is_created_whole_and_nothing_else_is_left(tmp_path):
    path = tmp_path / "store.sqlite"
    with ResultsStore(path) as s:
        assert s.count() == 0 and s.notes == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store.sqlite"]
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert con.execute("PRAGMA user_version").fetchone() == (1,)
    con.close()


def test_reading_a_store_read_only_never_changes_its_files(tmp_path):
    path = tmp_path / "store.sqlite"
    writer = """
        import os, signal, sys
        s = ResultsStore(sys.argv[1])
        for i in range(20):
            s.put(make_record(i))
        os.kill(os.getpid(), signal.SIGKILL)  # the log is left as a killed sweep leaves it
    """
    proc = _python(writer, str(path))
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    before = _files_of(tmp_path)
    assert {"store.sqlite", "store.sqlite-wal"} <= set(before)
    with ResultsStore(path, readonly=True) as s:
        assert s.count() == 20 and s.notes == []
        with pytest.raises(StoreError, match="opened read-only"):
            s.put(make_record(99))
    assert _files_of(tmp_path)["store.sqlite"] == before["store.sqlite"]
    assert _files_of(tmp_path)["store.sqlite-wal"] == before["store.sqlite-wal"]


def test_a_read_only_store_that_does_not_exist_is_not_created(tmp_path):
    with pytest.raises(StoreError, match="no such results store"):
        ResultsStore(tmp_path / "store.sqlite", readonly=True)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("damage", ["missing", "truncated"])
def test_a_lost_write_ahead_log_is_said_when_the_store_is_opened(tmp_path, damage):
    path = tmp_path / "store.sqlite"
    writer = """
        import os, signal, sys
        s = ResultsStore(sys.argv[1])
        for i in range(20):
            s.put(make_record(i))
        os.kill(os.getpid(), signal.SIGKILL)
    """
    proc = _python(writer, str(path))
    proc.communicate(timeout=60)
    wal = Path(f"{path}-wal")
    if damage == "missing":
        wal.unlink()
    else:
        os.truncate(wal, wal.stat().st_size // 2)
    with ResultsStore(path) as s:
        assert s.notes == [f"its write-ahead log (store.sqlite-wal) is {damage}: runs committed after the last "
                           "checkpoint are not in the store; a resumed sweep computes them again"]
        kept = s.count()
        assert kept < 20  # the runs lost with the log; a resume recomputes them
        assert sum(s.put(make_record(i)) for i in range(20)) == 20 - kept
        assert s.count() == 20


def test_runs_and_rows_that_disagree_are_said_and_such_a_run_is_computed_again(tmp_path):
    path = _full_store(tmp_path / "store.sqlite", runs=4)
    gone, orphan = make_record(0).run_id, make_record(1).run_id
    con = sqlite3.connect(path)
    con.execute("DELETE FROM rows WHERE run_id = ?", (gone,))
    con.execute("DELETE FROM runs WHERE run_id = ?", (orphan,))
    con.commit()
    con.close()
    with ResultsStore(path, readonly=True) as s:
        assert s.notes == ["1 run without any year row: left out of tables and exports, and computed again by a "
                           "resumed sweep",
                           "year rows of 1 run that the store does not list: left out of tables and exports"]
    with ResultsStore(path) as s:
        assert gone not in s.finished_ids() and s.put(make_record(0))
        assert gone in s.finished_ids() and s.frame().run_id.nunique() == 3


def test_pingan_results_says_what_is_wrong_with_a_store(tmp_path, capsys):
    from sim.cli import main

    path = _full_store(tmp_path / "store.sqlite", runs=3)
    con = sqlite3.connect(path)
    con.execute("DELETE FROM rows WHERE run_id = ?", (make_record(0).run_id,))
    con.commit()
    con.close()
    before = path.read_bytes()
    assert main(["results", str(path)]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == f"{path}: 3 finished runs"
    assert err.strip() == (f"pingan: warning: {path}: 1 run without any year row: left out of tables and exports, "
                           "and computed again by a resumed sweep")
    assert path.read_bytes() == before
