"""Where alerts go: Microsoft Teams, Slack and, always, a JSON-lines file; and the outbox delivery.

- Teams: a Workflows webhook (`DXKPI_TEAMS_WEBHOOK_URL`; the Office 365 connectors are retired)
  receives an Adaptive Card 1.5 in a `message` envelope and answers 202 Accepted.
- Slack: an incoming webhook (`DXKPI_SLACK_WEBHOOK_URL`) receives `{"text": ..., "blocks": [...]}`.
- File: one JSON object per line appended to `DXKPI_ALERTS_FILE` (default `data/alerts.jsonl`).

Delivery reads each channel's outbox in order and stops at the channel's first message that is
not due or not accepted, so a channel never receives a resolution before its opening. HTTP goes
through one session with short timeouts and a single connection retry (urllib3's `Retry`); a
refused message is retried on a later tick with the store's backoff, or after the webhook's
Retry-After when longer: a tick never sleeps on a channel and never raises because of one.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from orchestration.alerts.incidents import ERROR, RESOLVED, Alert, IncidentStore, OutboxItem
from orchestration.settings import REPO_ROOT

TEAMS = "teams"
SLACK = "slack"
FILE = "file"
DEFAULT_ALERTS_FILE = "data/alerts.jsonl"
# (connect, read) seconds: a webhook answers in well under a second when it is up.
HTTP_TIMEOUT = (3.05, 5.0)
ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
OPEN_IN_UI = "Open in Dagster"

logger = logging.getLogger(__name__)


class ChannelError(Exception):
    """A channel did not accept a message (down, refused, timed out)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Channel(Protocol):
    """Something that delivers one alert or raises ChannelError."""

    name: str

    def send(self, alert: Alert) -> None:
        """Deliver one alert."""


# Rendering -------------------------------------------------------------------------------


def headline(alert: Alert) -> str:
    """`[OPEN ERROR] title` or `[RESOLVED] title`."""
    state = "RESOLVED" if alert.status == RESOLVED else f"OPEN {alert.severity}"
    return f"[{state}] {alert.title}"


def facts(alert: Alert) -> list[tuple[str, str]]:
    """The labelled facts of an alert that are known, in a fixed order."""
    pairs = [
        ("Severity", alert.severity),
        ("Ward", alert.ward),
        ("Dataset", alert.dataset),
        ("File", alert.file),
        ("Rule", alert.rule),
        ("Opened", alert.opened_at),
        ("Resolved", alert.resolved_at),
    ]
    return [(label, value) for label, value in pairs if value]


def closing_line(alert: Alert) -> str:
    """What to do (an open incident) or why it resolved."""
    if alert.status == RESOLVED:
        return f"Resolved: {alert.resolution or 'the problem is gone'}"
    return f"What to do: {alert.action}"


def _card_colour(alert: Alert) -> str:
    if alert.status == RESOLVED:
        return "Good"
    return "Attention" if alert.severity == ERROR else "Warning"


def teams_card(alert: Alert) -> dict[str, Any]:
    """The Workflows webhook payload: an Adaptive Card 1.5 in a `message` envelope."""
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": headline(alert),
            "weight": "Bolder",
            "size": "Medium",
            "color": _card_colour(alert),
            "wrap": True,
        },
        {"type": "TextBlock", "text": alert.message, "wrap": True},
        {
            "type": "FactSet",
            "facts": [{"title": label, "value": value} for label, value in facts(alert)],
        },
        {"type": "TextBlock", "text": closing_line(alert), "wrap": True},
        {
            "type": "ActionSet",
            "actions": [{"type": "Action.OpenUrl", "title": OPEN_IN_UI, "url": alert.link}],
        },
    ]
    content = {"type": "AdaptiveCard", "version": "1.5", "body": body}
    return {"type": "message", "attachments": [{"contentType": ADAPTIVE_CARD, "content": content}]}


def slack_escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn reserves."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_message(alert: Alert) -> dict[str, Any]:
    """The incoming-webhook payload: a plain `text` (notifications) and Block Kit blocks."""
    fields = [
        {"type": "mrkdwn", "text": f"*{label}*\n{slack_escape(value)}"}
        for label, value in facts(alert)
    ]
    return {
        "text": slack_escape(headline(alert)),
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": f"*{slack_escape(headline(alert))}*\n{slack_escape(alert.message)}",
                },
            },
            {"type": "section", "fields": fields},
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": slack_escape(closing_line(alert))},
            },
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"<{alert.link}|{OPEN_IN_UI}>"}],
            },
        ],
    }


# Channels --------------------------------------------------------------------------------


def http_session() -> requests.Session:
    """One session for the webhooks: one retry of a failed connection, none of a POST that
    reached the server (it may have been posted; the outbox retries later)."""
    retry = Retry(total=1, connect=1, read=0, status=0, other=0, backoff_factor=0.2)
    session = requests.Session()
    session.mount("https://", HTTPAdapter(max_retries=retry))
    session.mount("http://", HTTPAdapter(max_retries=retry))
    return session


def _retry_after(response: requests.Response) -> float | None:
    """The seconds of a Retry-After header given in seconds (dates are ignored)."""
    value = response.headers.get("Retry-After", "")
    return float(value) if value.strip().isdigit() else None


@dataclass
class WebhookChannel:
    """A webhook that takes a JSON payload rendered from the alert; any 2xx is delivered."""

    name: str
    url: str
    render: Callable[[Alert], dict[str, Any]]
    session: requests.Session = field(default_factory=http_session)

    def send(self, alert: Alert) -> None:
        """POST the rendered alert; raise ChannelError unless the webhook answers 2xx."""
        try:
            response = self.session.post(self.url, json=self.render(alert), timeout=HTTP_TIMEOUT)
            response.raise_for_status()
        except requests.HTTPError as error:
            raise ChannelError(
                f"HTTP {error.response.status_code}", _retry_after(error.response)
            ) from error
        except requests.RequestException as error:
            raise ChannelError(type(error).__name__) from error


@dataclass
class JsonLinesChannel:
    """Appends each alert as one JSON line to a file (created with its folder)."""

    path: Path
    name: str = FILE

    def send(self, alert: Alert) -> None:
        """Append one line; raise ChannelError if the file cannot be written."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(alert.to_json() + "\n")
        except OSError as error:
            raise ChannelError(str(error.strerror or error)) from error


def alerts_file(environ: Mapping[str, str] | None = None) -> Path:
    """The JSON-lines file (`DXKPI_ALERTS_FILE`, relative to the repository)."""
    env = os.environ if environ is None else environ
    path = Path(env.get("DXKPI_ALERTS_FILE") or DEFAULT_ALERTS_FILE)
    return path if path.is_absolute() else REPO_ROOT / path


def configured_channels(environ: Mapping[str, str] | None = None) -> list[Channel]:
    """The file, plus Teams and Slack when their webhook URLs are set."""
    env = os.environ if environ is None else environ
    channels: list[Channel] = [JsonLinesChannel(alerts_file(env))]
    if env.get("DXKPI_TEAMS_WEBHOOK_URL"):
        channels.append(WebhookChannel(TEAMS, env["DXKPI_TEAMS_WEBHOOK_URL"], teams_card))
    if env.get("DXKPI_SLACK_WEBHOOK_URL"):
        channels.append(WebhookChannel(SLACK, env["DXKPI_SLACK_WEBHOOK_URL"], slack_message))
    return channels


# Delivery --------------------------------------------------------------------------------


@dataclass
class DeliveryReport:
    """What one delivery pass did, per channel."""

    delivered: dict[str, int] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    waiting: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        """One line for the tick's log."""
        parts = [f"{name}: {n} delivered" for name, n in sorted(self.delivered.items()) if n]
        parts += [f"{name}: failed ({error})" for name, error in sorted(self.failed.items())]
        parts += [f"{name}: {n} waiting" for name, n in sorted(self.waiting.items()) if n]
        return "; ".join(parts) or "nothing to deliver"


def _deliver_channel(
    store: IncidentStore,
    channel: Channel,
    clock: Callable[[], datetime],
    deadline: float,
    report: DeliveryReport,
) -> None:
    """Deliver one channel's due messages in order; stop at its first failure."""
    items: Sequence[OutboxItem] = store.pending(channel.name)
    sent = 0
    for item in items:
        if time.monotonic() > deadline or item.next_attempt_at > clock():
            break
        try:
            channel.send(item.alert)
        except ChannelError as error:
            store.mark_failed(item, str(error), clock(), error.retry_after)
            report.failed[channel.name] = str(error)
            break
        store.mark_delivered(item.id, clock())
        sent += 1
    report.delivered[channel.name] = sent
    report.waiting[channel.name] = len(items) - sent


def deliver(
    store: IncidentStore,
    channels: Sequence[Channel],
    clock: Callable[[], datetime],
    budget_seconds: float = 20.0,
) -> DeliveryReport:
    """Deliver what the outbox holds for the configured channels, within `budget_seconds`.

    Never raises because of a channel: a failure is recorded on the message, which waits for
    its backoff. Messages of a channel no longer configured stay in the outbox.
    """
    report = DeliveryReport()
    deadline = time.monotonic() + budget_seconds
    for channel in channels:
        try:
            _deliver_channel(store, channel, clock, deadline, report)
        except Exception as error:  # a bug or a locked store must not fail the tick
            logger.exception("alert delivery to %s failed", channel.name)
            report.failed[channel.name] = f"{type(error).__name__}: {error}"
    return report
