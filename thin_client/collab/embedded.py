"""The embedded PostgreSQL cluster: a private cluster under the project, for laptops and CI.

Layout of the cluster folder (``COLLAB_PG_DIR``, default ``.collab/pg``)::

    data/            the cluster (initdb on first start)
    log/postgres.log the server log
    .s.PGSQL.<port>  the Unix socket

Guarantees: ``start`` twice is a no-op; a stale ``postmaster.pid`` left by a crash is
recovered; ``stop`` stops only this cluster; when run by root, the cluster runs as an
unprivileged OS user, because ``initdb`` refuses root.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

from collab import config
from collab.errors import SetupError

PASSWORD = "postgres"  # the same credentials as a local Supabase stack (postgres:postgres@:54322)
SUPERUSER = "postgres"
DATABASE = "postgres"


def find_bin_dir() -> Path:
    """Return the folder holding ``initdb``/``pg_ctl`` (PostgreSQL 15 preferred)."""
    configured = os.environ.get("COLLAB_PG_BIN")
    candidates: list[Path] = [Path(configured)] if configured else []
    root = Path("/usr/lib/postgresql")
    if root.is_dir():
        versions = sorted(
            (p for p in root.iterdir() if p.name.isdigit() and int(p.name) >= 15),
            key=lambda p: (p.name != "15", -int(p.name)),
        )
        candidates += [v / "bin" for v in versions]
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).parent)
    for candidate in candidates:
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    raise SetupError(
        "PostgreSQL 15 server binaries not found: install postgresql-15 or set COLLAB_PG_BIN"
    )


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_postgres(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"postgres" in cmdline


@dataclass(frozen=True)
class Status:
    running: bool
    pid: int | None
    port: int | None
    data_dir: Path


class EmbeddedPostgres:
    def __init__(self, base: Path | None = None, port: str | None = None) -> None:
        self.base = (base or config.pg_dir()).resolve()
        self.data = self.base / "data"
        self.log = self.base / "log" / "postgres.log"
        self.port_setting = port or config.pg_port_setting()
        self.as_root = os.geteuid() == 0
        self.os_user = config.pg_os_user() if self.as_root else pwd.getpwuid(os.geteuid()).pw_name

    # -- helpers -------------------------------------------------------------------------
    def _cmd(self, *args: str) -> list[str]:
        if self.as_root:
            return ["runuser", "-u", self.os_user, "--", *args]
        return list(args)

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(self._cmd(*args), capture_output=True, text=True, check=False)
        if check and proc.returncode != 0:
            lines = (proc.stderr or proc.stdout).strip().splitlines()
            raise SetupError(
                f"{Path(args[0]).name} failed: {lines[-1] if lines else proc.returncode}"
            )
        return proc

    def _os_uid(self) -> int:
        try:
            return pwd.getpwnam(self.os_user).pw_uid
        except KeyError as exc:
            raise SetupError(
                f"OS user {self.os_user!r} does not exist: create it or set COLLAB_PG_OS_USER"
            ) from exc

    def _check_ownership(self) -> None:
        uid = self._os_uid()
        for path in (self.base, self.data):
            if path.exists() and path.stat().st_uid != uid:
                owner = pwd.getpwuid(path.stat().st_uid).pw_name
                raise SetupError(
                    f"data directory {path} is owned by {owner!r}, not {self.os_user!r}: "
                    f"fix its owner or set COLLAB_PG_DIR to another folder"
                )

    def _prepare_dirs(self) -> None:
        if self.as_root:
            uid = self._os_uid()
            gid = pwd.getpwnam(self.os_user).pw_gid
            created = not self.base.exists()
            self.base.mkdir(parents=True, exist_ok=True)
            if created:
                os.chown(self.base, uid, gid)
            self._check_ownership()
            (self.base / "log").mkdir(exist_ok=True)
            os.chown(self.base / "log", uid, gid)
            probe = self._run("test", "-w", str(self.base), check=False)
            if probe.returncode != 0:
                raise SetupError(
                    f"OS user {self.os_user!r} cannot reach {self.base}: make its parent folders "
                    f"traversable (chmod o+x) or set COLLAB_PG_DIR"
                )
        else:
            self.base.mkdir(parents=True, exist_ok=True)
            self._check_ownership()
            (self.base / "log").mkdir(exist_ok=True)

    def _pidfile(self) -> tuple[int, int] | None:
        """(pid, port) from postmaster.pid, or None."""
        try:
            lines = (self.data / "postmaster.pid").read_text().splitlines()
            return int(lines[0]), int(lines[3])
        except (OSError, ValueError, IndexError):
            return None

    # -- public --------------------------------------------------------------------------
    def status(self) -> Status:
        info = self._pidfile()
        if info and _pid_alive(info[0]) and _is_postgres(info[0]):
            return Status(True, info[0], info[1], self.data)
        return Status(False, None, None, self.data)

    def _recover_stale_pidfile(self) -> None:
        info = self._pidfile()
        if info is None:
            return
        pid, port = info
        if not (_pid_alive(pid) and _is_postgres(pid)):
            (self.data / "postmaster.pid").unlink(missing_ok=True)
            lock = self.base / f".s.PGSQL.{port}.lock"
            if lock.exists():
                lock.unlink(missing_ok=True)
                (self.base / f".s.PGSQL.{port}").unlink(missing_ok=True)

    def _choose_port(self) -> int:
        if self.port_setting == "auto":
            remembered = self.base / "port"
            if remembered.exists():
                port = int(remembered.read_text().strip())
                if not port_in_use(port):
                    return port
            port = free_port()
            remembered.write_text(f"{port}\n")
            return port
        try:
            port = int(self.port_setting)
        except ValueError as exc:
            raise SetupError(
                f"COLLAB_PG_PORT must be a port number or 'auto', got {self.port_setting!r}"
            ) from exc
        if port_in_use(port):
            raise SetupError(
                f"port {port} is already in use by another program: stop it or set COLLAB_PG_PORT"
            )
        return port

    def _initdb(self) -> None:
        pwfile = self.base / ".pwfile"
        pwfile.write_text(PASSWORD + "\n")
        if self.as_root:
            os.chown(pwfile, self._os_uid(), pwd.getpwnam(self.os_user).pw_gid)
        try:
            self._run(
                str(find_bin_dir() / "initdb"),
                "-D",
                str(self.data),
                "-U",
                SUPERUSER,
                "--pwfile",
                str(pwfile),
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            )
        finally:
            pwfile.unlink(missing_ok=True)
        conf = self.data / "postgresql.conf"
        with conf.open("a") as f:
            f.write("\ninclude_if_exists = 'collab.conf'\n")

    def _write_conf(self, port: int) -> None:
        libdir = self._run(
            str(find_bin_dir() / "pg_config"), "--pkglibdir", check=False
        ).stdout.strip()
        preload = ["pg_stat_statements"]
        if libdir and Path(libdir, "pg_cron.so").exists():
            preload.insert(0, "pg_cron")
        settings = {
            "port": str(port),
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{self.base}'",
            "wal_level": "logical",
            "max_wal_senders": "10",
            "max_replication_slots": "10",
            "shared_preload_libraries": "'" + ",".join(preload) + "'",
            "cron.database_name": "'postgres'",
            # Background workers: pg_cron needs no connection (and so no password) to run jobs.
            "cron.use_background_workers": "on",
            "max_worker_processes": "32",
            "max_connections": "200",
            "shared_buffers": "256MB",
            "synchronous_commit": "on",
            # The launcher visits each database once per naptime (a minute by default), and
            # collab.jobs, whose rows live for seconds, holds the dead versions of everything
            # claimed and finished since the last visit: at 2,400 jobs/s a minute of them made
            # the table 86 to 92 MB and its claim index 3 to 6 MB for a backlog under 1,000;
            # visited every 10 s, 19 to 24 MB and 0.5 to 2.8 MB (docs/bench.md, docs/runbook.md).
            "autovacuum_naptime": "'10s'",
            "logging_collector": "off",
        }
        if "pg_cron" not in preload:
            for key in ("cron.database_name", "cron.use_background_workers"):
                del settings[key]
        text = "# written by `collab db start`; edits are overwritten\n" + "".join(
            f"{k} = {v}\n" for k, v in settings.items()
        )
        target = self.data / "collab.conf"
        target.write_text(text)
        if self.as_root:
            os.chown(target, self._os_uid(), pwd.getpwnam(self.os_user).pw_gid)

    def start(self) -> Status:
        """Start the cluster (initdb on first start). A running cluster is left as it is."""
        current = self.status()
        if current.running:
            return current
        self._prepare_dirs()
        if not (self.data / "PG_VERSION").exists():
            self._initdb()
        self._recover_stale_pidfile()
        port = self._choose_port()
        self._write_conf(port)
        proc = self._run(
            str(find_bin_dir() / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-w",
            "-t",
            "60",
            "start",
            check=False,
        )
        if proc.returncode != 0:
            tail = ""
            with contextlib.suppress(OSError):
                tail = self.log.read_text().strip().splitlines()[-1]
            raise SetupError(f"the embedded cluster did not start: {tail or proc.stderr.strip()}")
        return self.status()

    def stop(self) -> bool:
        """Stop this cluster; return False when it was not running."""
        if not self.status().running:
            return False
        self._run(str(find_bin_dir() / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        return True

    def restart(self, mode: str = "fast") -> Status:
        self._run(
            str(find_bin_dir() / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-m",
            mode,
            "-w",
            "-t",
            "60",
            "restart",
        )
        return self.status()

    def url(self, database: str = DATABASE) -> str:
        st = self.status()
        if not st.running or st.port is None:
            raise SetupError("the embedded cluster is not running: run `collab db start`")
        return f"postgresql://{SUPERUSER}:{PASSWORD}@127.0.0.1:{st.port}/{database}"


def database_url(start: bool = True) -> str:
    """The database every command uses: COLLAB_DATABASE_URL, else the embedded cluster."""
    override = config.database_url_override()
    if override:
        return override
    cluster = EmbeddedPostgres()
    if start:
        cluster.start()
    return cluster.url()


def find_psql() -> str:
    for candidate in (find_bin_dir() / "psql", shutil.which("psql")):
        if candidate and Path(candidate).exists():
            return str(candidate)
    raise SetupError("psql not found: install postgresql-client-15")
