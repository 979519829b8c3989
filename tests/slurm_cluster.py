"""A real single-node SLURM cluster for the tests, bound to loopback: munge, MariaDB, slurmdbd, slurmctld and
slurmd from Debian's packages, started directly (no systemd), every daemon tracked by its PID file and stopped
by PID. No cgroup plugins (proctrack/linuxproc, task/none); the node declares one GPU as a generic resource
backed by /dev/null, so jobs that request GPUs are scheduled and accounted as GPU jobs and train on the CPU."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

DAEMONS = ("munged", "mariadbd", "slurmdbd", "slurmctld", "slurmd")  # in the order started
BINARIES = (
    "/usr/sbin/munged",
    "/usr/sbin/mariadbd",
    "/usr/sbin/slurmdbd",
    "/usr/sbin/slurmctld",
    "/usr/sbin/slurmd",
    "mysql_install_db",
    "sbatch",
    "sacct",
    "sacctmgr",
    "scontrol",
    "sinfo",
    "runuser",
)
MUNGE_SOCKET_DIR = Path("/run/munge")  # the clients (sacct, sacctmgr) look for munge's socket here
# The slurm executor plugin strips SLURM_* variables (SLURM_CONF too) from the jobs it runs, so srun inside a
# job finds the configuration only at the default path, as on a real site.
CONF_DIR = Path("/etc/slurm")
CONF_FILES = ("slurm.conf", "gres.conf", "slurmdbd.conf")


def missing() -> str | None:
    """Why this machine cannot run the cluster, or None."""
    if os.geteuid() != 0:
        return "the single-node SLURM cluster needs root (daemons run as munge, mysql and root)"
    absent = [b for b in BINARIES if shutil.which(b) is None and not Path(b).exists()]
    if absent:
        return f"not installed: {', '.join(absent)} (.ci/run installs slurm-wlm slurmdbd munge mariadb-server)"
    if (MUNGE_SOCKET_DIR / "munge.socket.2").exists():
        return "a munged already serves /run/munge; not starting a second one"
    if any((CONF_DIR / f).exists() for f in CONF_FILES):
        return f"{CONF_DIR} holds a SLURM configuration already; not replacing it"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SingleNodeSlurm:
    """`with SingleNodeSlurm(root) as cluster:` starts everything under `root`; leaving the block stops
    every daemon it started, by PID, also when the block raised."""

    def __init__(self, root: Path, cluster: str = "plainres"):
        self.root, self.cluster = Path(root), cluster
        self.host = socket.gethostname()
        self.conf = CONF_DIR / "slurm.conf"
        self.env = {**os.environ, "SLURM_CONF": str(self.conf)}
        self.pids: dict[str, Path] = {}
        self.written: list[Path] = []
        # MariaDB runs as mysql, which cannot enter pytest's private tmp folders: its files live apart
        self.db = Path(tempfile.mkdtemp(prefix="plainres-slurm-db-"))
        self.db.chmod(0o755)

    # ---------------------------------------------------------------- files

    def _write_configs(self, ctld: int, slurmd: int, dbd: int, db: int):
        r = self.root
        for d in ("spool/ctld", "spool/d", "log"):
            (r / d).mkdir(parents=True, exist_ok=True)
        for d in ("data", "run"):
            (self.db / d).mkdir(exist_ok=True)
            shutil.chown(self.db / d, "mysql", "mysql")
        CONF_DIR.mkdir(parents=True, exist_ok=True)
        self.written = [CONF_DIR / f for f in CONF_FILES]
        cpus = os.cpu_count() or 1
        mem = int(Path("/proc/meminfo").read_text().split()[1]) // 1024 - 1024
        self.conf.write_text(f"""ClusterName={self.cluster}
SlurmctldHost={self.host}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation={r}/spool/ctld
SlurmdSpoolDir={r}/spool/d
SlurmctldPidFile={r}/slurmctld.pid
SlurmdPidFile={r}/slurmd.pid
SlurmctldLogFile={r}/log/slurmctld.log
SlurmdLogFile={r}/log/slurmd.log
SlurmctldPort={ctld}
SlurmdPort={slurmd}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
GresTypes=gpu
ReturnToService=2
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort={dbd}
AccountingStorageTRES=gres/gpu
JobAcctGatherType=jobacct_gather/none
NodeName={self.host} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={mem} Gres=gpu:1 State=UNKNOWN
PartitionName=debug Nodes={self.host} Default=YES MaxTime=INFINITE State=UP
""")
        # a GPU gres needs a device file, else slurmd drops it ("file-less GPU"): /dev/null stands in for one
        (CONF_DIR / "gres.conf").write_text(f"NodeName={self.host} Name=gpu File=/dev/null\n")
        dbd_conf = CONF_DIR / "slurmdbd.conf"
        dbd_conf.write_text(f"""AuthType=auth/munge
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort={dbd}
SlurmUser=root
PidFile={r}/slurmdbd.pid
LogFile={r}/log/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort={db}
StorageUser=slurm
StoragePass=plainres
StorageLoc=slurm_acct_db
""")
        dbd_conf.chmod(0o600)

    # ---------------------------------------------------------------- daemons

    def _run(self, *cmd, **kw):
        return subprocess.run(cmd, env=self.env, capture_output=True, text=True, check=True, timeout=120, **kw)

    def _wait(self, what: str, ok, timeout: float = 60):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if ok():
                return
            time.sleep(0.5)
        raise RuntimeError(f"{what} did not come up within {timeout:.0f} s; logs in {self.root / 'log'}")

    def _started(self, name: str, pid_file: Path):
        self.pids[name] = pid_file
        self._wait(f"{name} (pid file {pid_file})", pid_file.exists)

    def start(self):
        r = self.root
        ctld, slurmd, dbd, db = (free_port() for _ in range(4))
        self._write_configs(ctld, slurmd, dbd, db)
        MUNGE_SOCKET_DIR.mkdir(parents=True, exist_ok=True)
        shutil.chown(MUNGE_SOCKET_DIR, "munge", "munge")
        self._run(
            "runuser", "-u", "munge", "--", "/usr/sbin/munged", f"--pid-file={MUNGE_SOCKET_DIR}/plainres-munged.pid"
        )
        self._started("munged", MUNGE_SOCKET_DIR / "plainres-munged.pid")
        self._run("mysql_install_db", "--user=mysql", f"--datadir={self.db}/data", "--skip-test-db")
        sock = self.db / "run/mysqld.sock"
        with open(r / "log/mariadbd.log", "w") as log:
            subprocess.Popen(
                [
                    "runuser",
                    "-u",
                    "mysql",
                    "--",
                    "/usr/sbin/mariadbd",
                    f"--datadir={self.db}/data",
                    f"--socket={sock}",
                    f"--port={db}",
                    "--bind-address=127.0.0.1",
                    f"--pid-file={self.db}/run/mariadbd.pid",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._started("mariadbd", self.db / "run/mariadbd.pid")
        self._wait("MariaDB's socket", sock.exists)
        self._run(
            "mysql",
            f"--socket={sock}",
            "-u",
            "root",
            "-e",
            "CREATE DATABASE slurm_acct_db; CREATE USER 'slurm'@'localhost' IDENTIFIED BY 'plainres'; "
            "CREATE USER 'slurm'@'127.0.0.1' IDENTIFIED BY 'plainres'; "
            "GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost'; GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';",
        )
        self._run("/usr/sbin/slurmdbd")  # reads slurmdbd.conf beside $SLURM_CONF
        self._started("slurmdbd", r / "slurmdbd.pid")
        self._wait(
            "slurmdbd",
            lambda: (
                subprocess.run(
                    ["sacctmgr", "-n", "list", "cluster"], env=self.env, capture_output=True, check=False
                ).returncode
                == 0
            ),
        )
        self._run("sacctmgr", "-i", "add", "cluster", self.cluster)
        self._run("/usr/sbin/slurmctld", "-f", str(self.conf))
        self._started("slurmctld", r / "slurmctld.pid")
        self._run("/usr/sbin/slurmd", "-f", str(self.conf))
        self._started("slurmd", r / "slurmd.pid")
        self._wait("the node", lambda: "idle" in self._run("sinfo", "-h", "-o", "%T").stdout)
        return self

    def stop(self):
        """SIGTERM every daemon started here, by its PID, newest first; SIGKILL what is left after 20 s; remove
        the configuration files written."""
        alive = []
        for name in reversed(list(self.pids)):
            try:
                pid = int(self.pids[name].read_text().split()[0])
                os.kill(pid, signal.SIGTERM)
                alive.append(pid)
            except (OSError, ValueError, IndexError):
                pass
        end = time.monotonic() + 20
        while alive and time.monotonic() < end:
            alive = [pid for pid in alive if _running(pid)]
            time.sleep(0.2)
        for pid in alive:
            os.kill(pid, signal.SIGKILL)
        for path in self.written:
            path.unlink(missing_ok=True)
        shutil.rmtree(self.db, ignore_errors=True)

    def __enter__(self):
        # a SIGTERM (a CI timeout, `timeout`, `kill`) raises here instead of ending the process in place, so
        # leaving the block still stops the daemons
        self._sigterm = signal.signal(signal.SIGTERM, _raise_on_sigterm)
        try:
            return self.start()
        except BaseException:
            self.__exit__()
            raise

    def __exit__(self, *exc):
        try:
            self.stop()
        finally:
            signal.signal(signal.SIGTERM, self._sigterm)

    # ---------------------------------------------------------------- queries

    def sacct(self, *fields: str, duplicates: bool = False) -> list[dict]:
        """One dict per job (allocations only) from the accounting database; with `duplicates`, also the
        earlier records of a requeued job."""
        out = self._run(
            "sacct", "-X", "-a", "-P", "-n", *(["-D"] if duplicates else []), f"--format={','.join(fields)}"
        ).stdout
        return [dict(zip(fields, line.split("|"))) for line in out.splitlines() if line]


def _raise_on_sigterm(signum, frame):
    raise SystemExit(128 + signum)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "State:\tZ" in status.read_text())
