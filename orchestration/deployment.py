"""A real local deployment in separate processes: a code server and `dagster-daemon`.

What `make dev` runs, without the UI, on a private instance and private data folders: the
daemon runs the sensors, the automation and the run queue, and launches each run as a process
of the code server, exactly as in production. The daemon test and `make bench-latency` use
it; it can be killed and restarted like the real thing.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from orchestration.instance import write_instance_config
from orchestration.settings import REPO_ROOT

BIN = Path(sys.executable).parent
_IN_FLIGHT = (
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
)


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(
    condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.5
) -> None:
    """Poll `condition` until it holds.

    Raises:
        TimeoutError: it did not hold within `timeout` seconds (the message says what).
    """
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout:.0f} s for {what}")
        time.sleep(interval)


@dataclass
class LocalDeployment:
    """A code server and a daemon on the instance `home`, with dxkpi settings `environment`.

    Attributes:
        home: DAGSTER_HOME of the deployment (written with the project's instance settings).
        environment: DXKPI_* variables (landing, warehouse, ledger, serving, catalogue, key).
        logs: Folder for the processes' output.
    """

    home: Path
    environment: Mapping[str, str]
    logs: Path
    port: int = field(default_factory=free_port)
    _code_server: subprocess.Popen | None = None
    _daemon: subprocess.Popen | None = None

    def _env(self) -> dict[str, str]:
        return {
            **os.environ,
            **self.environment,
            "DAGSTER_HOME": str(self.home),
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        }

    def _spawn(self, name: str, arguments: list[str]) -> subprocess.Popen:
        self.logs.mkdir(parents=True, exist_ok=True)
        with (self.logs / f"{name}.log").open("ab") as log:
            return subprocess.Popen(
                arguments,
                cwd=REPO_ROOT,
                env=self._env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopped with its children
            )

    def start(self, timeout: float = 120) -> LocalDeployment:
        """Write the instance settings and workspace, start the code server, then the daemon."""
        self.home.mkdir(parents=True, exist_ok=True)
        write_instance_config(self.home, postgres_url_env=False)
        (self.home / "workspace.yaml").write_text(
            "load_from:\n  - grpc_server:\n      host: 127.0.0.1\n"
            f"      port: {self.port}\n      location_name: dxkpi\n",
            encoding="utf-8",
        )
        self._code_server = self._spawn(
            "code-server",
            [str(BIN / "dagster"), "code-server", "start", "-m", "orchestration.definitions"]
            + ["-h", "127.0.0.1", "-p", str(self.port)],
        )
        wait_for(self._code_server_answers, timeout, "the code server to load dxkpi", 1)
        self.start_daemon()
        return self

    def _code_server_answers(self) -> bool:
        if self._code_server is not None and self._code_server.poll() is not None:
            raise RuntimeError(f"the code server exited: see {self.logs / 'code-server.log'}")
        check = subprocess.run(
            [str(BIN / "dagster"), "api", "grpc-health-check", "-p", str(self.port)],
            env=self._env(),
            capture_output=True,
            timeout=60,
        )
        return check.returncode == 0

    def start_daemon(self) -> None:
        """Start `dagster-daemon run` on the workspace (sensors, automation, run queue)."""
        self._daemon = self._spawn(
            "daemon",
            [str(BIN / "dagster-daemon"), "run", "-w", str(self.home / "workspace.yaml")],
        )

    def kill_daemon(self) -> None:
        """Kill the daemon at once (SIGKILL), as a crash would; runs already launched go on."""
        _stop(self._daemon, signal.SIGKILL)
        self._daemon = None

    def stop(self) -> None:
        """Stop the daemon, then the code server and the runs it launched."""
        _stop(self._daemon, signal.SIGTERM)
        _stop(self._code_server, signal.SIGTERM)
        self._daemon = self._code_server = None

    def instance(self) -> dg.DagsterInstance:
        """The deployment's instance, to read runs and events (close it after use)."""
        return dg.DagsterInstance.from_config(str(self.home))

    def runs_in_flight(self) -> int:
        """Runs queued or running."""
        with self.instance() as instance:
            return len(instance.get_runs(filters=dg.RunsFilter(statuses=list(_IN_FLIGHT))))

    def __enter__(self) -> LocalDeployment:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _stop(process: subprocess.Popen | None, how: signal.Signals, grace: float = 30) -> None:
    """Signal a process group; SIGKILL it if it has not exited within `grace` seconds."""
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, how)
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=grace)
    except ProcessLookupError:
        pass
