"""The results store: an embedded SQLite database (WAL mode), versioned schema.

Every evaluated example is committed as it completes, so a run killed mid-way keeps everything
recorded before the kill; several processes (pytest-xdist workers) may write at once.  A store
that is not a database, is corrupt, belongs to another application, or comes from a newer schema raises
StoreError and is never modified.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
import random
import shlex
import socket
import sqlite3
import sys
import time
import urllib.parse
from pathlib import Path

from .jsonable import jsonable

SCHEMA_VERSION = 2     # v2: runs.pid (to mark runs killed mid-way 'incomplete'); v1 stores are migrated
# PRAGMA application_id of a lora-claims store ('LoRA'): a store is recognised positively by it (or, for a
# store made before it was set, by its schema_version row and its tables); any other database is refused
APPLICATION_ID = int.from_bytes(b"LoRA", "big")
STORE_TABLES = {"meta", "runs", "examples", "claim_results"}
DEFAULT_PATH = Path("results") / "claims.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, started REAL NOT NULL, finished REAL,
    status TEXT NOT NULL, profile TEXT, device TEXT, seed INTEGER, argv TEXT, versions TEXT, host TEXT,
    pid INTEGER);
CREATE TABLE IF NOT EXISTS examples (
    id INTEGER PRIMARY KEY AUTOINCREMENT, run_id INTEGER NOT NULL REFERENCES runs(id),
    claim_id TEXT NOT NULL, origin TEXT, drawn TEXT NOT NULL, status TEXT NOT NULL, margin REAL,
    reason TEXT, binding TEXT, measured TEXT, traces TEXT, seconds REAL, device TEXT, dtype TEXT,
    created REAL NOT NULL);
CREATE INDEX IF NOT EXISTS examples_claim ON examples(claim_id, run_id);
CREATE TABLE IF NOT EXISTS claim_results (
    run_id INTEGER NOT NULL REFERENCES runs(id), claim_id TEXT NOT NULL, verdict TEXT NOT NULL,
    ok INTEGER NOT NULL, examples INTEGER, passed INTEGER, failed INTEGER, inconclusive INTEGER,
    worst_margin REAL, seconds REAL, summary TEXT NOT NULL, PRIMARY KEY (run_id, claim_id));
"""


class StoreError(RuntimeError):
    """The store cannot be used (unreadable, corrupt, newer schema); nothing was modified."""


def _num(x):
    return x if x is None or (isinstance(x, float) and x == x and abs(x) != float("inf")) else None


class Store:
    def __init__(self, path: str | os.PathLike = DEFAULT_PATH, create: bool = True, readonly: bool = False):
        """Open (or, with ``create``, make) the store at ``path``.  ``readonly`` (report, reproduce): read it
        without any write -- no migration, no application id, no write-ahead log switch -- so its bytes stay
        as they were, also where the file or its folder is not writable."""
        self.path = Path(path)
        if not self.path.exists():
            if not create or readonly:
                raise StoreError(f"no results store at {self.path}")
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create results store {self.path}: {exc.strerror}") from None
            self._check_folder_writable()
        elif self.path.is_dir():
            raise StoreError(f"{self.path} is a directory, not a results store")
        elif not self.path.is_file():
            raise StoreError(f"{self.path} is not a regular file (a device or a pipe), not a results store")
        else:
            self._check_existing()
            if not readonly:
                self._check_writable()
        if readonly:
            try:
                self.db = sqlite3.connect(self._readonly_uri(), uri=True, timeout=60)
                self.db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            except sqlite3.DatabaseError as exc:
                raise StoreError(f"cannot read results store {self.path}: {exc}") from None
            return
        self.db = None
        deadline = time.monotonic() + 120
        while True:
            try:
                self._setup()
                break
            except sqlite3.OperationalError as exc:
                # switching to WAL and creating the schema need a lock that SQLite's busy handler does
                # not always wait for when several processes open a new store at once: retry
                if "locked" not in str(exc) and "busy" not in str(exc) or time.monotonic() > deadline:
                    raise StoreError(f"cannot open results store {self.path}: {exc}") from None
                if self.db is not None:
                    self.db.close()
                time.sleep(0.05 + 0.1 * random.random())
            except sqlite3.DatabaseError as exc:
                raise StoreError(f"cannot open results store {self.path}: {exc}") from None

    def _setup(self):
        self.db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        self.db.execute("PRAGMA busy_timeout = 60000")
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("PRAGMA synchronous = NORMAL")
        self.db.execute("BEGIN IMMEDIATE")
        try:
            fresh = not self.db.execute("SELECT name FROM sqlite_master WHERE name='meta'").fetchone()
            version = None if fresh else self.db.execute(
                "SELECT value FROM meta WHERE key='schema_version'").fetchone()
            for stmt in _SCHEMA.split(";"):
                if stmt.strip():
                    self.db.execute(stmt)
            if version is None:
                self.db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            else:
                self._migrate(_schema_version(version[0], self.path))
            if self.db.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
                self.db.execute(f"PRAGMA application_id = {APPLICATION_ID}")     # a write only where it is missing
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def _migrate(self, version: int):
        """Bring an older store up to SCHEMA_VERSION in place, inside the caller's transaction."""
        if version > SCHEMA_VERSION:   # a newer process upgraded it after our read-only check
            raise StoreError(f"results store {self.path} has schema {version}, newer than this "
                             f"lora-claims ({SCHEMA_VERSION}); upgrade lora-claims")
        if version < 2:
            cols = {r[1] for r in self.db.execute("PRAGMA table_info(runs)")}
            if "pid" not in cols:
                self.db.execute("ALTER TABLE runs ADD COLUMN pid INTEGER")
        if version < SCHEMA_VERSION:
            self.db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))

    def _check_folder_writable(self):
        folder = self.path.parent
        if not os.access(folder, os.W_OK | os.X_OK):
            raise StoreError(f"cannot record into results store {self.path}: its folder {folder} is not writable "
                             "(SQLite keeps its write-ahead log beside the store); choose another --results")

    def _check_writable(self):
        """A store to record into must be writable, file and folder: refused before anything is written.
        Opening the file for update writes nothing (an immutable file refuses even root)."""
        try:
            with open(self.path, "r+b"):
                pass
        except OSError as exc:
            raise StoreError(f"cannot record into results store {self.path}: it is not writable ({exc.strerror}); "
                             "choose another --results") from None
        self._check_folder_writable()

    def _readonly_uri(self) -> str:
        """A read-only SQLite URI of the store; without a write-ahead log beside it, also immutable (no
        locks: nothing is being written), so reading creates no -wal / -shm companions (issue 16, case 7)."""
        # quote the path: '#', '?' or '%' in it would otherwise be read as URI syntax
        uri = "file:" + urllib.parse.quote(os.path.abspath(self.path)) + "?mode=ro"
        return uri if Path(f"{self.path}-wal").exists() else uri + "&immutable=1"

    def _check_existing(self):
        """Read-only inspection before any write: a bad file is refused and left byte-identical."""
        try:
            with open(self.path, "rb") as fh:
                head = fh.read(100)
                size = os.fstat(fh.fileno()).st_size
        except OSError as exc:
            raise StoreError(f"cannot read results store {self.path}: {exc.strerror}") from None
        if head and head[:16] != b"SQLite format 3\x00":
            raise StoreError(f"{self.path} is not a SQLite results store")
        if not head:
            return
        # a file cut inside its last page passes quick_check with a silently altered row
        page = int.from_bytes(head[16:18], "big") if len(head) >= 18 else 0
        page = 65536 if page == 1 else page
        wal = Path(f"{self.path}-wal")
        if page >= 512 and size % page and not (wal.exists() and wal.stat().st_size > 0):
            raise StoreError(f"results store {self.path} is truncated ({size} bytes, pages of {page})")
        try:
            ro = sqlite3.connect(self._readonly_uri(), uri=True, timeout=60)
            try:
                ok = ro.execute("PRAGMA quick_check").fetchone()[0]
                if ok != "ok":
                    raise StoreError(f"results store {self.path} is corrupt: {ok}")
                tables = {r[0] for r in ro.execute("SELECT name FROM sqlite_master WHERE type='table'")}
                app = ro.execute("PRAGMA application_id").fetchone()[0]
                if app not in (0, APPLICATION_ID):
                    raise StoreError(f"{self.path} is a SQLite database of another application "
                                     f"(application_id {app:#x}), not a lora-claims store")
                if not tables and app == 0:
                    return                                   # an empty database: made into a store
                if "meta" not in tables:
                    raise StoreError(f"{self.path} is a SQLite database but not a lora-claims store")
                try:
                    row = ro.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
                except sqlite3.DatabaseError:
                    row = None
                if row is None or not STORE_TABLES <= tables:
                    raise StoreError(f"{self.path} is a SQLite database but not a lora-claims store "
                                     "(no schema version or missing tables)")
                version = _schema_version(row[0], self.path)
                if version > SCHEMA_VERSION:
                    raise StoreError(f"results store {self.path} has schema {version}, newer than this "
                                     f"lora-claims ({SCHEMA_VERSION}); upgrade lora-claims")
                cols = {r[1] for r in ro.execute("PRAGMA table_info(runs)")}
                if not {"id", "started", "status", "profile", "seed"} <= cols:
                    raise StoreError(f"{self.path} is a SQLite database but not a lora-claims store "
                                     "(its runs table is not lora-claims')")
            finally:
                ro.close()
        except sqlite3.DatabaseError as exc:
            if not os.access(self.path.parent, os.W_OK) and wal.exists():
                raise StoreError(f"cannot read results store {self.path}: it has a write-ahead log and its folder is "
                                 "not writable (SQLite needs to write a -shm file beside it)") from None
            raise StoreError(f"results store {self.path} is unreadable or corrupt: {exc}") from None

    # ------------------------------------------------------------------ writing
    def start_run(self, profile: str, device: str, seed: int, versions: dict, argv: list[str] | None = None) -> int:
        """A new 'running' run; ``argv``: the command line that made it (default: this process's)."""
        self.mark_interrupted()
        cur = self.db.execute(
            "INSERT INTO runs (started, status, profile, device, seed, argv, versions, host, pid) "
            "VALUES (?, 'running', ?, ?, ?, ?, ?, ?, ?)",
            (time.time(), profile, device, seed, json.dumps(sys.argv if argv is None else argv), json.dumps(versions),
             _host(), os.getpid()))
        return int(cur.lastrowid)

    def mark_interrupted(self) -> int:
        """Mark 'running' runs of this host whose process is gone (killed mid-way) 'incomplete'."""
        stale = [rid for rid, pid in self.db.execute(
                 "SELECT id, pid FROM runs WHERE status = 'running' AND host = ?", (_host(),))
                 if pid is not None and not _alive(pid)]
        for rid in stale:
            self.db.execute("UPDATE runs SET status = 'incomplete' WHERE id = ? AND status = 'running'", (rid,))
        return len(stale)

    def finish_run(self, run_id: int, status: str = "complete"):
        self.db.execute("UPDATE runs SET finished = ?, status = ? WHERE id = ?", (time.time(), status, run_id))

    def recorder(self, run_id: int):
        def record(claim, drawn, evidence, seconds, device, dtype, origin) -> int:
            cur = self.db.execute(
                "INSERT INTO examples (run_id, claim_id, origin, drawn, status, margin, reason, binding, "
                "measured, traces, seconds, device, dtype, created) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (run_id, claim.id, origin, json.dumps(jsonable(drawn), sort_keys=True), evidence.status,
                 _num(evidence.margin), evidence.why, evidence.binding, json.dumps(jsonable(evidence.measured)),
                 json.dumps(jsonable(evidence.traces)) if evidence.traces else None, seconds, device, dtype,
                 time.time()))
            return int(cur.lastrowid)
        return record

    def record_outcome(self, run_id: int, summary: dict):
        self.db.execute(
            "INSERT OR REPLACE INTO claim_results VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (run_id, summary["id"], summary["verdict"], int(summary["ok"]), summary["examples"],
             summary["passed"], summary["failed"], summary["inconclusive"], _num(summary["worst_margin"]),
             summary["seconds"], json.dumps(jsonable(summary))))

    def export_counterexample(self, counterexample: dict) -> dict:
        """Write a counterexample beside the store as JSON; returns it with ``file`` and ``command``."""
        folder = self.path.parent / "counterexamples"
        folder.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha1(json.dumps(counterexample["drawn"], sort_keys=True).encode()).hexdigest()[:10]
        # absolute, so the command works from any folder, not only the one the campaign ran in
        path = Path(os.path.abspath(folder / f"{counterexample['claim']}-{digest}.json"))
        ce = dict(counterexample, file=str(path), command=f"lora-claims reproduce {shlex.quote(str(path))}")
        path.write_text(json.dumps(jsonable(ce), indent=2))
        return ce

    def merge_shard(self, shard: str | os.PathLike, key: str, rewrite=None) -> dict | None:
        """Copy another store (a distributed task's shard) into this one in one transaction: its runs, examples
        and claim results, with run and example ids renumbered (``example_id`` references inside the summaries
        too; ``rewrite(summary)`` may change a summary further).  A shard run still 'running' (its process
        died) is marked 'incomplete'.  Idempotent: a shard is merged once per ``key`` (remembered in meta);
        returns the id maps ``{"runs": {old: new}, "examples": {old: new}}``, or None if ``key`` was merged."""
        src = Store(shard, create=False)
        try:
            runs = src.runs()
            examples = src.db.execute("SELECT * FROM examples ORDER BY id").fetchall()
            ex_cols = [d[0] for d in src.db.execute("SELECT * FROM examples LIMIT 0").description]
            results = src.db.execute("SELECT * FROM claim_results ORDER BY run_id, claim_id").fetchall()
            res_cols = [d[0] for d in src.db.execute("SELECT * FROM claim_results LIMIT 0").description]
        finally:
            src.close()
        mark = f"shard:{key}"
        self.db.execute("BEGIN IMMEDIATE")
        try:
            if self.db.execute("SELECT 1 FROM meta WHERE key = ?", (mark,)).fetchone():
                self.db.execute("ROLLBACK")
                return None
            run_map, ex_map = {}, {}
            for r in runs:
                status = "incomplete" if r["status"] == "running" else r["status"]
                cur = self.db.execute(
                    "INSERT INTO runs (started, finished, status, profile, device, seed, argv, versions, host, pid) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?)", (r["started"], r["finished"], status, r["profile"], r["device"],
                                                     r["seed"], r["argv"], r["versions"], r["host"], r["pid"]))
                run_map[r["id"]] = int(cur.lastrowid)
            copied = [c for c in ex_cols if c != "id"]
            for row in examples:
                values = dict(zip(ex_cols, row))
                values["run_id"] = run_map[values["run_id"]]
                cur = self.db.execute(f"INSERT INTO examples ({', '.join(copied)}) VALUES "
                                      f"({', '.join('?' * len(copied))})", [values[c] for c in copied])
                ex_map[values["id"]] = int(cur.lastrowid)
            for row in results:
                values = dict(zip(res_cols, row))
                summary = _renumbered(json.loads(values["summary"]), ex_map)
                if rewrite is not None:
                    summary = rewrite(summary)
                values.update(run_id=run_map[values["run_id"]], summary=json.dumps(jsonable(summary)))
                self.db.execute(f"INSERT OR REPLACE INTO claim_results ({', '.join(res_cols)}) VALUES "
                                f"({', '.join('?' * len(res_cols))})", [values[c] for c in res_cols])
            self.db.execute("INSERT INTO meta VALUES (?, ?)", (mark, json.dumps({"merged": time.time()})))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return {"runs": run_map, "examples": ex_map}

    # ------------------------------------------------------------------ reading
    def example(self, example_id: int) -> dict | None:
        self.db.row_factory = sqlite3.Row
        row = self.db.execute("SELECT * FROM examples WHERE id = ?", (example_id,)).fetchone()
        self.db.row_factory = None
        return None if row is None else {**dict(row), "drawn": json.loads(row["drawn"])}

    def claim_metadata(self) -> dict[str, dict]:
        """The latest recorded metadata (statement, kind, source...) of every claim with an outcome, so a
        report or a reproduction can show a claim whose module is not loaded."""
        out: dict[str, dict] = {}
        for cid, s in self.db.execute("SELECT claim_id, summary FROM claim_results ORDER BY run_id"):
            meta = json.loads(s).get("claim")
            if isinstance(meta, dict):
                out[cid] = meta
        return out

    def runs(self) -> list[dict]:
        self.db.row_factory = sqlite3.Row
        rows = [dict(r) for r in self.db.execute("SELECT * FROM runs ORDER BY id")]
        self.db.row_factory = None
        return rows

    def claim_results(self) -> list[dict]:
        return [dict(json.loads(s), run_id=r) for r, s in
                self.db.execute("SELECT run_id, summary FROM claim_results ORDER BY run_id, claim_id")]

    def examples_of(self, claim_id: str, run_id: int | None = None) -> list[dict]:
        q = "SELECT id, run_id, status, margin, reason, drawn, seconds, origin FROM examples WHERE claim_id = ?"
        args: tuple = (claim_id,)
        if run_id is not None:
            q += " AND run_id = ?"
            args += (run_id,)
        cols = ("id", "run_id", "status", "margin", "reason", "drawn", "seconds", "origin")
        return [dict(zip(cols, r)) for r in self.db.execute(q, args)]

    def traces(self, example_id: int | None) -> dict | None:
        if example_id is None:
            return None
        row = self.db.execute("SELECT traces FROM examples WHERE id = ?", (example_id,)).fetchone()
        return json.loads(row[0]) if row and row[0] else None

    def worst_example_id(self, claim_id: str, run_id: int) -> int | None:
        """The example of a run with the smallest (most violated) margin."""
        row = self.db.execute(
            "SELECT id FROM examples WHERE claim_id = ? AND run_id = ? AND status IN ('pass', 'fail') "
            "AND origin != 'reverify' ORDER BY margin, id LIMIT 1", (claim_id, run_id)).fetchone()
        return None if row is None else int(row[0])

    def run_totals(self) -> dict[int, dict]:
        """Per run: examples recorded, distinct claims and seconds spent evaluating."""
        return {r: {"examples": n, "claims": c, "seconds": t or 0.0} for r, n, c, t in self.db.execute(
            "SELECT run_id, COUNT(*), COUNT(DISTINCT claim_id), SUM(seconds) FROM examples "
            "WHERE origin != 'reverify' GROUP BY run_id")}

    def close(self):
        self.db.close()


def _schema_version(value, path) -> int:
    """The stored schema version as an int; anything else is a corrupt store (StoreError)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        raise StoreError(f"results store {path} is corrupt: its schema version is {value!r}, not a number") from None


def _renumbered(doc, ex_map: dict[int, int]):
    """``doc`` with every ``example_id`` mapped through ``ex_map`` (a merged shard's example ids)."""
    if isinstance(doc, dict):
        return {k: (ex_map.get(v, v) if k == "example_id" and isinstance(v, int) else _renumbered(v, ex_map))
                for k, v in doc.items()}
    if isinstance(doc, list):
        return [_renumbered(v, ex_map) for v in doc]
    return doc


def _host() -> str:
    return f"{socket.gethostname()} {platform.platform()}"


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
