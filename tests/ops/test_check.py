"""`horizon check` against the sandbox: passing after reconcile, and each failure it must name."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from twilio.rest.messaging.v2.channels_sender import ChannelsSenderList

from horizon.cli import main
from horizon.config.fleet import Fleet
from horizon.config.loader import load_fleet
from horizon.ops.check import run_checks
from horizon.ops.findings import FAIL, PASS
from horizon.providers import build_providers
from horizon.reconcile import reconcile
from horizon.settings import Settings
from horizon.webhook.server import start_in_thread

EXAMPLES = Path(__file__).parents[2] / "clients"


@dataclass
class Live:
    """The example clients reconciled into a sandbox, with a webhook answering /healthz."""

    sandbox: object
    settings: Settings
    clients_dir: Path

    def fleet(self) -> Fleet:
        loaded = load_fleet(self.clients_dir)
        assert loaded.ok, loaded.errors
        return loaded.fleet

    def check(self, settings: Settings | None = None, **options) -> dict[tuple[str, str], object]:
        findings = run_checks(settings or self.settings, self.fleet(), **options)
        return {(finding.check, finding.subject): finding for finding in findings}


def go_live(sandbox, tmp_path: Path, clients_dir: Path | None = None) -> Live:
    if clients_dir is None:
        clients_dir = tmp_path / "clients"
        shutil.copytree(EXAMPLES, clients_dir)
    settings = sandbox.settings(
        HORIZON_CLIENTS_DIR=str(clients_dir), HORIZON_DATABASE_URL=f"sqlite:///{tmp_path}/h.db"
    )
    return Live(sandbox, settings, clients_dir)


@pytest.fixture
def live(sandbox, tmp_path: Path):
    world = go_live(sandbox, tmp_path)
    with start_in_thread(world.settings) as webhook:
        world.settings = world.settings.model_copy(update={"public_url": webhook.public_url})
        result = reconcile(world.fleet(), build_providers(world.settings))
        assert result.ok, result.report
        yield world


def statuses(findings: dict) -> dict[tuple[str, str], str]:
    return {key: finding.status for key, finding in findings.items()}


def test_everything_passes_after_reconcile(live):
    findings = live.check()

    assert set(statuses(findings).values()) == {PASS}, statuses(findings)
    checks = {check for check, _ in findings}
    assert {"settings", "twilio", "openai", "whatsapp", "sender", "model", "knowledge"} <= checks
    assert "webhook" in checks


def test_a_bad_openai_key_fails_with_what_to_do(live):
    wrong = live.settings.model_copy(update={"openai_api_key": "sk-wrong"})

    [finding] = [f for f in live.check(wrong).values() if f.check == "openai"]

    assert finding.status == FAIL and "401" in finding.detail
    assert "OPENAI_API_KEY" in finding.fix


def test_a_bad_twilio_token_fails_and_skips_what_needs_twilio(live):
    wrong = live.settings.model_copy(update={"twilio_auth_token": "wrong-token"})

    findings = live.check(wrong)

    assert statuses(findings)[("twilio", live.settings.twilio_account_sid)] == FAIL
    assert "TWILIO_AUTH_TOKEN" in findings[("twilio", live.settings.twilio_account_sid)].fix
    assert not [key for key in findings if key[0] == "sender"]


def test_a_sender_pointing_elsewhere_fails(live):
    senders = live.sandbox.twilio().messaging.v2.channels_senders
    [roma] = [s for s in senders.list(channel="whatsapp") if s.sender_id == "whatsapp:+34910000101"]
    update = ChannelsSenderList.MessagingV2ChannelsSenderRequestsUpdate(
        {"webhook": {"callback_url": "https://elsewhere.example/hook"}}
    )
    senders(roma.sid).update(update)

    finding = live.check()[("sender", "pizzeria-roma (+34910000101)")]

    assert finding.status == FAIL
    assert "https://elsewhere.example/hook" in finding.detail
    assert "horizon reconcile" in finding.fix


def test_a_sender_not_online_fails_with_the_next_step(start_sandbox, tmp_path):
    slow = start_sandbox(sender_online_after=3600)
    world = go_live(slow, tmp_path)
    with start_in_thread(world.settings) as webhook:
        world.settings = world.settings.model_copy(update={"public_url": webhook.public_url})
        reconcile(world.fleet(), build_providers(world.settings))

        finding = world.check()[("sender", "pizzeria-roma (+34910000101)")]

    assert (finding.status, finding.detail) == (FAIL, "status CREATING")
    assert "nothing to do yet" in finding.fix


def test_an_account_without_any_sender_has_no_whatsapp_business_account(sandbox, tmp_path):
    world = go_live(sandbox, tmp_path)
    with start_in_thread(world.settings) as webhook:
        world.settings = world.settings.model_copy(update={"public_url": webhook.public_url})

        findings = world.check()

    waba = findings[("whatsapp", "business account")]
    assert waba.status == FAIL and "Twilio Console" in waba.fix


def test_an_unreachable_public_url_fails(live):
    gone = live.settings.model_copy(update={"public_url": "http://127.0.0.1:9"})

    [finding] = [f for f in live.check(gone).values() if f.check == "webhook"]

    assert finding.status == FAIL and "horizon serve" in finding.fix


def test_missing_settings_stop_before_any_call(sandbox, tmp_path):
    world = go_live(sandbox, tmp_path)
    bare = Settings(_env_file=None, HORIZON_CLIENTS_DIR=str(world.clients_dir))

    findings = run_checks(bare, world.fleet())

    assert {f.subject for f in findings} == {
        "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "OPENAI_API_KEY", "HORIZON_PUBLIC_URL",
    }  # fmt: skip
    assert sandbox.requests()["total"] == 0


def test_the_command_prints_json_and_exits_1_on_a_failure(live, monkeypatch):
    for name, value in live.sandbox.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HORIZON_PUBLIC_URL", live.settings.public_url)
    monkeypatch.chdir(live.clients_dir.parent)
    runner = CliRunner()
    args = ["check", "--output", "json", "--clients-dir", str(live.clients_dir)]

    passing = runner.invoke(main, args)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong")
    failing = runner.invoke(main, args)

    assert passing.exit_code == 0, passing.output
    assert json.loads(passing.output)["ok"] is True
    assert failing.exit_code == 1
    document = json.loads(failing.output)
    assert document["ok"] is False
    assert [f["check"] for f in document["findings"] if f["status"] == "fail"] == ["openai"]


def test_the_command_prints_a_table(live, monkeypatch):
    for name, value in live.sandbox.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HORIZON_PUBLIC_URL", live.settings.public_url)
    monkeypatch.chdir(live.clients_dir.parent)

    result = CliRunner().invoke(main, ["check", "--clients-dir", str(live.clients_dir)])

    assert result.exit_code == 0, result.output
    assert "PASS" in result.output and "Every check passed." in result.output


def test_a_model_the_api_does_not_know_fails(sandbox, tmp_path):
    world = go_live(sandbox, tmp_path)
    client_file = world.clients_dir / "harbor-hardware.yaml"
    text = client_file.read_text(encoding="utf-8")
    client_file.write_text(text.replace("model: gpt-5.4-mini", "model: gpt-5.4-maxi"), "utf-8")
    assert "gpt-5.4-maxi" in client_file.read_text(encoding="utf-8")
    with start_in_thread(world.settings) as webhook:
        world.settings = world.settings.model_copy(update={"public_url": webhook.public_url})
        reconcile(world.fleet(), build_providers(world.settings))

        findings = world.check(live_model=True)

    unknown = findings[("model", "gpt-5.4-maxi")]
    assert unknown.status == FAIL and "harbor-hardware" in unknown.fix
    assert findings[("model", "gpt-5.4-mini")].status == PASS
    [probe] = [
        f
        for (check, subject), f in findings.items()
        if check == "live model" and subject.startswith("gpt-5.4-maxi")
    ]
    assert probe.status == FAIL and "404" in probe.detail


def test_live_model_probes_each_model_and_parameters_once_and_says_the_cost(live):
    before = live.sandbox.requests()["by_route"].get("POST /v1/responses", 0)

    findings = live.check(live_model=True)

    probes = [f for (check, subject), f in findings.items() if check == "live model"]
    pairs = {
        (c.assistant.model, c.assistant.temperature, c.assistant.reasoning_effort)
        for c in live.fleet()
    }
    assert len(probes) == len(pairs) + 1  # one per pair, and the total
    assert all(probe.status == PASS for probe in probes)
    assert findings[("live model", "cost")].detail.startswith("≈ $")
    after = live.sandbox.requests()["by_route"]["POST /v1/responses"]
    assert after - before == len(pairs)


def test_a_knowledge_file_openai_could_not_index_fails_with_its_error(sandbox, tmp_path):
    world = go_live(sandbox, tmp_path)
    (world.clients_dir / "pizzeria-roma" / "menu.md").write_text("", encoding="utf-8")
    with start_in_thread(world.settings) as webhook:
        world.settings = world.settings.model_copy(update={"public_url": webhook.public_url})
        reconcile(world.fleet(), build_providers(world.settings))

        finding = world.check()[("knowledge", "pizzeria-roma")]

    assert finding.status == FAIL
    assert "menu.md: invalid_file" in finding.detail
    assert "horizon reconcile" in finding.fix
