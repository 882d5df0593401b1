"""A webhook receiver on loopback, a test clock and a ticker for the alert sensor."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import dagster as dg

from orchestration.resources import LandingZoneResource
from orchestration.sensors.alerts import build_alert_sensor

START = datetime(2025, 7, 1, 9, 0, tzinfo=UTC)


class Receiver:
    """A webhook receiver on 127.0.0.1: records the JSON bodies it accepts, per path."""

    def __init__(self, port: int = 0) -> None:
        self.status = 202
        self.received: dict[str, list[dict[str, Any]]] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.status < 300:
                    receiver.received.setdefault(self.path, []).append(json.loads(body))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def bodies(self, path: str) -> list[dict[str, Any]]:
        return self.received.get(path, [])

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Ticker:
    """Runs the alert sensor on an instance, keeping its cursor between ticks."""

    def __init__(
        self, instance: dg.DagsterInstance, landing: LandingZoneResource, environ: dict[str, str]
    ) -> None:
        self.instance = instance
        self.landing = landing
        self.clock = Clock()
        self.sensor = build_alert_sensor(clock=self.clock, environ=environ)
        self.cursor: str | None = None

    def tick(self, advance: float = 60) -> dg.SensorResult:
        self.clock.advance(advance)
        context = dg.build_sensor_context(
            instance=self.instance, cursor=self.cursor, resources={"landing": self.landing}
        )
        result = self.sensor(context)
        assert isinstance(result, dg.SensorResult)
        assert not result.run_requests
        self.cursor = result.cursor
        return result

    def at(self) -> str:
        return self.clock.now.isoformat(timespec="seconds")


def channels_of(receiver: Receiver, alerts_file: Path) -> dict[str, str]:
    return {
        "DXKPI_TEAMS_WEBHOOK_URL": receiver.url("/teams"),
        "DXKPI_SLACK_WEBHOOK_URL": receiver.url("/slack"),
        "DXKPI_ALERTS_FILE": str(alerts_file),
    }


def jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# The exact messages of the check incident -------------------------------------------------
