"""Alerts: one message when an incident opens, none while it stays open, one when it resolves,
delivered to a real HTTP receiver on loopback (standing in for Teams and Slack) and a JSON-lines
file; a receiver that is down loses nothing."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from alert_loopback import START, Receiver, Ticker, channels_of, jsonl

from ingestion.common.ledger import FileVersion, Ledger
from orchestration.alerts.channels import slack_escape
from orchestration.alerts.incidents import Alert, IncidentStore, Transition, alerts_db_path
from orchestration.alerts.sources import check_incident, safe_reason
from orchestration.resources import LandingZoneResource

UI = "http://dagster.test"
RAW_STAFF = dg.AssetKey(["raw", "hr_staff"])
# The catalogue snapshot's suite: a landing dataset's suite is alerted per refused file instead.
RAW_PACKAGES = dg.AssetKey(["raw", "opendata_package"])
REFUSED_FILE = "hr/131016_staff_20250401.csv"


@pytest.fixture(autouse=True)
def ui_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DXKPI_UI_URL", UI + "/")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.stop()


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.DagsterInstance.ephemeral() as ephemeral:
        yield ephemeral


@pytest.fixture
def landing(tmp_path: Path) -> LandingZoneResource:
    (tmp_path / "landing").mkdir()
    return LandingZoneResource(
        path=str(tmp_path / "landing"), ledger_path=str(tmp_path / "ledger.sqlite")
    )


def report_check(instance: dg.DagsterInstance, passed: bool) -> None:
    """A blocking ERROR evaluation of the catalogue suite, as a run would record."""
    instance.report_runless_asset_event(
        dg.AssetCheckEvaluation(
            asset_key=RAW_PACKAGES,
            check_name="expectation_suite",
            passed=passed,
            severity=dg.AssetCheckSeverity.ERROR,
            blocking=True,
            metadata={"files_checked": 3, "files_rejected": 0 if passed else 1, "note": "x"},
        )
    )


TITLE = "Check expectation_suite failed on raw/opendata_package"
MESSAGE = (
    "The ERROR check expectation_suite of raw/opendata_package failed. It is blocking: "
    "downstream models and the publication wait. Counts: files_checked=3, files_rejected=1."
)
ACTION = (
    "A catalogue snapshot was refused by its suite: open the check for the rule and rows that "
    "failed. The previous snapshot and the published marts stand; the next snapshot is "
    "checked again."
)
LINK = "http://dagster.test/assets/raw/opendata_package?view=checks"


def teams_open(opened_at: str) -> dict[str, Any]:
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "content": {
                    "type": "AdaptiveCard",
                    "version": "1.5",
                    "body": [
                        {
                            "type": "TextBlock",
                            "text": f"[OPEN ERROR] {TITLE}",
                            "weight": "Bolder",
                            "size": "Medium",
                            "color": "Attention",
                            "wrap": True,
                        },
                        {"type": "TextBlock", "text": MESSAGE, "wrap": True},
                        {
                            "type": "FactSet",
                            "facts": [
                                {"title": "Severity", "value": "ERROR"},
                                {"title": "Dataset", "value": "opendata_package"},
                                {"title": "Rule", "value": "expectation_suite"},
                                {"title": "Opened", "value": opened_at},
                            ],
                        },
                        {"type": "TextBlock", "text": f"What to do: {ACTION}", "wrap": True},
                        {
                            "type": "ActionSet",
                            "actions": [
                                {"type": "Action.OpenUrl", "title": "Open in Dagster", "url": LINK}
                            ],
                        },
                    ],
                },
            }
        ],
    }


def teams_resolved(opened_at: str, resolved_at: str) -> dict[str, Any]:
    card = teams_open(opened_at)
    body = card["attachments"][0]["content"]["body"]
    body[0] |= {"text": f"[RESOLVED] {TITLE}", "color": "Good"}
    body[2]["facts"].append({"title": "Resolved", "value": resolved_at})
    body[3]["text"] = "Resolved: the check passed again"
    return card


def slack_open(opened_at: str) -> dict[str, Any]:
    return {
        "text": f"[OPEN ERROR] {TITLE}",
        "blocks": [
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": f"*[OPEN ERROR] {TITLE}*\n{MESSAGE}"},
            },
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": "*Severity*\nERROR"},
                    {"type": "mrkdwn", "text": "*Dataset*\nopendata_package"},
                    {"type": "mrkdwn", "text": "*Rule*\nexpectation_suite"},
                    {"type": "mrkdwn", "text": f"*Opened*\n{opened_at}"},
                ],
            },
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": f"What to do: {ACTION}"},
            },
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"<{LINK}|Open in Dagster>"}],
            },
        ],
    }


def slack_resolved(opened_at: str, resolved_at: str) -> dict[str, Any]:
    message = slack_open(opened_at)
    message["text"] = f"[RESOLVED] {TITLE}"
    message["blocks"][0]["text"]["text"] = f"*[RESOLVED] {TITLE}*\n{MESSAGE}"
    message["blocks"][1]["fields"].append({"type": "mrkdwn", "text": f"*Resolved*\n{resolved_at}"})
    message["blocks"][2]["text"]["text"] = "Resolved: the check passed again"
    return message


def line(status: str, opened_at: str, resolved_at: str | None = None) -> dict[str, Any]:
    return {
        "status": status,
        "key": "check:raw/opendata_package:expectation_suite",
        "kind": "check",
        "severity": "ERROR",
        "title": TITLE,
        "message": MESSAGE,
        "action": ACTION,
        "link": LINK,
        "opened_at": opened_at,
        "resolved_at": resolved_at,
        "resolution": "the check passed again" if resolved_at else None,
        "ward": None,
        "dataset": "opendata_package",
        "file": None,
        "rule": "expectation_suite",
    }


# Tests ------------------------------------------------------------------------------------


def test_fail_fail_pass_fail_sends_open_nothing_resolve_open(
    instance: dg.DagsterInstance, landing: LandingZoneResource, receiver: Receiver, tmp_path: Path
) -> None:
    alerts_file = tmp_path / "alerts.jsonl"
    ticker = Ticker(instance, landing, channels_of(receiver, alerts_file))

    # fail: one message opens the incident
    report_check(instance, passed=False)
    ticker.tick()
    first = ticker.at()
    assert receiver.bodies("/teams") == [teams_open(first)]
    assert receiver.bodies("/slack") == [slack_open(first)]
    assert jsonl(alerts_file) == [line("opened", first)]

    # fail again: still open, nothing sent
    report_check(instance, passed=False)
    ticker.tick()
    assert len(receiver.bodies("/teams")) == len(receiver.bodies("/slack")) == 1
    assert len(jsonl(alerts_file)) == 1

    # pass: one message resolves it
    report_check(instance, passed=True)
    ticker.tick()
    passed_at = ticker.at()
    assert receiver.bodies("/teams")[1:] == [teams_resolved(first, passed_at)]
    assert receiver.bodies("/slack")[1:] == [slack_resolved(first, passed_at)]
    assert jsonl(alerts_file)[1:] == [line("resolved", first, passed_at)]

    # fail: a new incident, one message
    report_check(instance, passed=False)
    ticker.tick()
    again = ticker.at()
    assert receiver.bodies("/teams")[2:] == [teams_open(again)]
    assert receiver.bodies("/slack")[2:] == [slack_open(again)]
    assert jsonl(alerts_file)[2:] == [line("opened", again)]

    # and a quiet tick sends nothing more
    ticker.tick()
    assert len(receiver.bodies("/teams")) == len(receiver.bodies("/slack")) == 3
    assert len(jsonl(alerts_file)) == 3


def test_a_receiver_that_is_down_loses_nothing(
    instance: dg.DagsterInstance, landing: LandingZoneResource, receiver: Receiver, tmp_path: Path
) -> None:
    # GIVEN Teams answering 500 and Slack's port closed
    slack = Receiver()
    slack_port = slack.port
    slack.stop()
    alerts_file = tmp_path / "alerts.jsonl"
    environ = channels_of(receiver, alerts_file) | {
        "DXKPI_SLACK_WEBHOOK_URL": f"http://127.0.0.1:{slack_port}/slack"
    }
    ticker = Ticker(instance, landing, environ)
    receiver.status = 500

    # WHEN a check fails, then passes, over ticks during the outage
    report_check(instance, passed=False)
    result = ticker.tick()
    summary = result.skip_reason.skip_message if result.skip_reason else ""
    assert "teams: failed (HTTP 500)" in summary
    assert "slack: failed (ConnectionError)" in summary
    report_check(instance, passed=True)
    ticker.tick(advance=10)  # within the backoff: not even tried
    # THEN nothing reached the receivers, the file has both lines
    assert receiver.received == {}
    assert [entry["status"] for entry in jsonl(alerts_file)] == ["opened", "resolved"]

    # WHEN both come back
    receiver.status = 202
    slack = Receiver(port=slack_port)
    try:
        ticker.tick(advance=60)
        # THEN both messages arrive, in order, once
        assert [
            b["attachments"][0]["content"]["body"][0]["text"] for b in receiver.bodies("/teams")
        ] == [
            f"[OPEN ERROR] {TITLE}",
            f"[RESOLVED] {TITLE}",
        ]
        assert [b["text"] for b in slack.bodies("/slack")] == [
            f"[OPEN ERROR] {TITLE}",
            f"[RESOLVED] {TITLE}",
        ]
        ticker.tick()
        assert len(receiver.bodies("/teams")) == len(slack.bodies("/slack")) == 2
        assert len(jsonl(alerts_file)) == 2
    finally:
        slack.stop()


def test_a_refused_file_opens_an_incident_and_its_corrected_version_resolves_it(
    instance: dg.DagsterInstance, landing: LandingZoneResource, receiver: Receiver, tmp_path: Path
) -> None:
    # GIVEN a refused roster in the landing zone, whose reason quotes cell values
    alerts_file = tmp_path / "alerts.jsonl"
    ticker = Ticker(instance, landing, channels_of(receiver, alerts_file))
    (Path(landing.path) / "hr").mkdir()
    (Path(landing.path) / REFUSED_FILE).write_text("bad", encoding="utf-8")
    ledger = Ledger(Path(landing.ledger_path))
    reason = "ERROR: rule 'known_employment_type' failed on column 任用形態: values 山田, 鈴木"
    ledger.record(FileVersion(REFUSED_FILE, "a" * 64, 3), "rejected", reason, run_id="run-1")

    # WHEN the sensor ticks
    ticker.tick()
    # THEN one incident names the file and the reason, without the cell values
    [opened] = jsonl(alerts_file)
    assert opened["status"] == "opened"
    assert opened["key"] == f"file:{REFUSED_FILE}"
    assert (opened["severity"], opened["ward"], opened["dataset"]) == (
        "ERROR",
        "131016",
        "hr_staff",
    )
    assert opened["file"] == REFUSED_FILE and opened["rule"] == "rejected"
    assert opened["message"] == (
        f"{REFUSED_FILE} (sha256 aaaaaaaaaaaa) is rejected: "
        "ERROR: rule 'known_employment_type' failed on column 任用形態"
    )
    assert "山田" not in json.dumps(receiver.received, ensure_ascii=False)
    assert opened["link"] == "http://dagster.test/runs/run-1"
    assert receiver.bodies("/teams")[0]["attachments"][0]["content"]["body"][0]["text"] == (
        f"[OPEN ERROR] File {REFUSED_FILE} rejected"
    )
    assert receiver.bodies("/slack")[0]["text"] == f"[OPEN ERROR] File {REFUSED_FILE} rejected"

    # the same bytes seen again change nothing
    ledger.record(FileVersion(REFUSED_FILE, "a" * 64, 3), "still_rejected", reason)
    ticker.tick()
    assert len(jsonl(alerts_file)) == 1

    # WHEN a corrected export of the same path loads
    time.sleep(0.01)  # the ledger orders versions by first_seen (milliseconds)
    ledger.record(FileVersion(REFUSED_FILE, "b" * 64, 3), "loaded", run_id="run-2")
    ticker.tick()
    # THEN the incident resolves, once
    resolved = jsonl(alerts_file)[1]
    assert (resolved["status"], resolved["key"]) == ("resolved", f"file:{REFUSED_FILE}")
    assert resolved["resolution"] == "a later version (sha256 bbbbbbbbbbbb) was loaded"
    ticker.tick()
    assert len(jsonl(alerts_file)) == 2
    assert len(receiver.bodies("/teams")) == len(receiver.bodies("/slack")) == 2


def test_the_ledger_gives_the_newest_refused_or_named_versions_only(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite")
    for path, versions in {
        "hr/131016_staff_20250401.csv": ["loaded"],  # fine: not asked for
        "hr/131024_staff_20250401.csv": ["rejected", "loaded"],  # corrected
        "hr/131032_staff_20250401.csv": ["loaded", "rejected"],  # refused now
        "hr/131041_staff_20250401.csv": ["rejected", "loaded"],  # corrected, incident open
    }.items():
        for n, state in enumerate(versions):
            ledger.record(FileVersion(path, str(n) * 64, 3), state)
            time.sleep(0.002)  # versions are ordered by first_seen (milliseconds)

    newest = ledger.newest_entries({"rejected"}, ["hr/131041_staff_20250401.csv"])

    assert [(e.path, e.state, e.sha256[0]) for e in newest] == [
        ("hr/131032_staff_20250401.csv", "rejected", "1"),
        ("hr/131041_staff_20250401.csv", "loaded", "1"),
    ]


def test_a_tick_reads_the_problem_files_not_every_version(
    instance: dg.DagsterInstance,
    landing: LandingZoneResource,
    receiver: Receiver,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a ledger with a refused roster, read by the sensor without listing every version
    def every_version(*args: object) -> None:
        raise AssertionError("the alert sensor read every ledger entry")

    monkeypatch.setattr(Ledger, "entries", every_version)
    (Path(landing.path) / "hr").mkdir()
    (Path(landing.path) / REFUSED_FILE).write_text("bad", encoding="utf-8")
    ledger = Ledger(Path(landing.ledger_path))
    ledger.record(FileVersion(REFUSED_FILE, "a" * 64, 3), "rejected", "rule x failed")
    ticker = Ticker(instance, landing, channels_of(receiver, tmp_path / "alerts.jsonl"))
    # WHEN the sensor ticks, THEN the incident opens; and it resolves with the correction
    ticker.tick()
    assert [a["status"] for a in jsonl(tmp_path / "alerts.jsonl")] == ["opened"]
    time.sleep(0.01)
    ledger.record(FileVersion(REFUSED_FILE, "b" * 64, 3), "loaded")
    ticker.tick()
    assert [a["status"] for a in jsonl(tmp_path / "alerts.jsonl")] == ["opened", "resolved"]


@dg.op(config_schema={"fail": bool})
def maybe_fail(context) -> None:  # noqa: ANN001 (Dagster rejects a string annotation)
    if context.op_config["fail"]:
        raise RuntimeError("boom")


@dg.job
def tiny_job() -> None:
    maybe_fail()


def _run_tiny_job(instance: dg.DagsterInstance, fail: bool) -> dg.ExecuteInProcessResult:
    config = {"ops": {"maybe_fail": {"config": {"fail": fail}}}}
    return tiny_job.execute_in_process(run_config=config, instance=instance, raise_on_error=False)


def test_a_failed_run_opens_one_incident_and_a_good_run_resolves_it(
    instance: dg.DagsterInstance, landing: LandingZoneResource, receiver: Receiver, tmp_path: Path
) -> None:
    alerts_file = tmp_path / "alerts.jsonl"
    ticker = Ticker(instance, landing, channels_of(receiver, alerts_file))
    ticker.tick()  # an empty instance: nothing to say

    # WHEN a run fails
    failed = _run_tiny_job(instance, fail=True)
    assert not failed.success
    ticker.tick()
    # THEN one incident, linking to the run
    [opened] = jsonl(alerts_file)
    assert opened["key"] == "run:tiny_job:manual"
    assert opened["title"] == "Run of tiny_job (manual) failed"
    assert opened["link"] == f"http://dagster.test/runs/{failed.run_id}"
    assert len(receiver.bodies("/teams")) == len(receiver.bodies("/slack")) == 1
    assert "boom" not in json.dumps(receiver.received)  # no error text: it may quote data

    # a second failure while it is open says nothing; a success resolves it
    _run_tiny_job(instance, fail=True)
    ticker.tick()
    assert len(jsonl(alerts_file)) == 1
    good = _run_tiny_job(instance, fail=False)
    assert good.success
    ticker.tick()
    assert [entry["status"] for entry in jsonl(alerts_file)] == ["opened", "resolved"]
    assert jsonl(alerts_file)[1]["resolution"] == f"run {good.run_id} of the same target succeeded"


def test_history_before_the_first_tick_announces_only_what_is_still_open(
    instance: dg.DagsterInstance, landing: LandingZoneResource, receiver: Receiver, tmp_path: Path
) -> None:
    # GIVEN a check that failed and passed, and a run that failed, before the sensor existed
    alerts_file = tmp_path / "alerts.jsonl"
    report_check(instance, passed=False)
    report_check(instance, passed=True)
    _run_tiny_job(instance, fail=True)
    # WHEN it ticks for the first time
    Ticker(instance, landing, channels_of(receiver, alerts_file)).tick()
    # THEN only the open run incident is announced
    assert [(e["status"], e["key"]) for e in jsonl(alerts_file)] == [
        ("opened", "run:tiny_job:manual")
    ]


def test_a_replayed_event_sends_nothing_twice(tmp_path: Path) -> None:
    store = IncidentStore(alerts_db_path(tmp_path / "ledger.sqlite"))
    evaluation = dg.AssetCheckEvaluation(
        asset_key=RAW_STAFF, check_name="ward_freshness", passed=False
    )
    fail = Transition(check_incident(evaluation), opens=True, event_id=1)
    passes = Transition(check_incident(evaluation), opens=False, event_id=2)
    fail_again = Transition(check_incident(evaluation), opens=True, event_id=3)
    store.apply([fail, passes, fail_again], ["file"], START)
    # a tick whose cursor was lost reads the same events again
    replay = store.apply([fail, passes, fail_again], ["file"], START)
    assert (replay.opened, replay.resolved) == ([], [])
    assert [i.key for i in store.open_incidents()] == ["check:raw/hr_staff:ward_freshness"]
    assert [item.alert.status for item in store.pending("file")] == ["opened", "resolved", "opened"]


@pytest.mark.parametrize(
    ("reason", "safe"),
    [
        pytest.param("missing columns: 氏名", "missing columns: 氏名", id="no-values"),
        pytest.param("rule 'r' failed: values a, b", "rule 'r' failed", id="values-cut"),
        pytest.param("a\n\nb: values x", "a; b", id="lines-joined"),
    ],
)
def test_safe_reason(reason: str, safe: str) -> None:
    assert safe_reason(reason) == safe


def test_slack_escape() -> None:
    assert slack_escape("a < b & c > d") == "a &lt; b &amp; c &gt; d"


def test_alert_round_trips_through_json() -> None:
    alert = Alert(
        status="opened",
        key="k",
        kind="check",
        severity="WARN",
        title="t",
        message="m",
        action="a",
        link="l",
        opened_at=START.isoformat(),
    )
    assert Alert.from_json(alert.to_json()) == alert
