"""Text, JSON and Markdown renderings of one plan and one apply report."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

from markdown_it import MarkdownIt

from horizon.reconcile.apply import ApplyReport, Failure, Outcome
from horizon.reconcile.plan import diff
from horizon.reconcile.provider import Applied
from horizon.reconcile.render_json import FORMAT_VERSION, render_json
from horizon.reconcile.render_markdown import render_markdown
from horizon.reconcile.render_text import render_report_text, render_text
from horizon.reconcile.resources import PruneRule, Resource

SENDER = "whatsapp_sender"


def sender(client, number, about="Pizza", **extra):
    fields = {
        "friendly_name": f"horizon:{client}" if client else "Acme",
        "profile": {"about": about},
    }
    return Resource(SENDER, f"whatsapp:{number}", client, fields, **extra)


def mixed_plan():
    desired = [
        sender("roma", "+34910000101"),
        sender("sol", "+34910000102", about="Abierta 24 horas"),
        sender("harbor", "+14155550101"),
    ]
    observed = [
        sender(
            "sol",
            "+34910000102",
            about="Abierta 365 días",
            status="CREATING",
            notice="sender is CREATING, not ONLINE: wait.",
        ),
        sender(None, "+14155550101", label="Harbor HW"),
        sender("gone", "+34910000199"),
    ]
    return diff(desired, observed)


def test_text_follows_terraform_conventions():
    text = render_text(mixed_plan())

    assert '  + whatsapp_sender "whatsapp:+34910000101"  (roma)' in text
    assert '      + profile.about: "Pizza"' in text
    assert '  ~ whatsapp_sender "whatsapp:+34910000102"  (sol)' in text
    assert '      ~ profile.about: "Abierta 365 días" → "Abierta 24 horas"' in text
    assert '  ? whatsapp_sender "whatsapp:+34910000199"  (gone)' in text
    assert "# orphaned (would be deleted with --prune): no client file for 'gone'" in text
    assert '  ! whatsapp_sender "whatsapp:+14155550101"  (harbor)' in text
    assert "not managed by Horizon (friendly_name 'Harbor HW'); run `horizon adopt harbor`" in text
    assert '# whatsapp_sender "whatsapp:+34910000102": sender is CREATING, not ONLINE' in text
    assert "Plan: 1 to create, 1 to update, 0 to delete." in text
    assert "\x1b[" not in text


def test_colour_only_when_asked():
    assert "\x1b[32m" in render_text(mixed_plan(), color=True)


def test_in_sync_plan_says_no_changes():
    assert render_text(diff([sender("roma", "+1")], [sender("roma", "+1")])).startswith(
        "No changes."
    )


def test_json_is_stable_and_versioned():
    document = json.loads(render_json(mixed_plan()))

    assert document["format_version"] == FORMAT_VERSION
    assert list(document) == [
        "format_version",
        "horizon_version",
        "prune",
        "deleting",
        "scope",
        "in_sync",
        "summary",
        "problems",
        "changes",
    ]
    assert document["summary"]["create"] == 1 and document["summary"]["orphan"] == 1
    update = next(c for c in document["changes"] if c["action"] == "update")
    assert update == {
        "action": "update",
        "kind": SENDER,
        "key": "whatsapp:+34910000102",
        "client": "sol",
        "remote_id": None,
        "fields": [
            {
                "path": ["profile", "about"],
                "before": "Abierta 365 días",
                "after": "Abierta 24 horas",
            }
        ],
        "status": "CREATING",
        "notice": "sender is CREATING, not ONLINE: wait.",
        "message": None,
        "problem": None,
    }


def test_markdown_folds_each_client_into_a_diff_block():
    markdown = render_markdown(mixed_plan())

    assert markdown.startswith(
        "### Horizon plan\n\n**Plan: 1 to create, 1 to update, 0 to delete.**"
    )
    assert "<details><summary><b>sol</b> `~1`</summary>" in markdown
    assert "```diff\n~ whatsapp_sender" in markdown
    notices = Rendered(markdown).blockquotes
    assert notices == [
        'whatsapp_sender "whatsapp:+34910000102": sender is CREATING, not ONLINE: wait.'
    ]


def test_report_lists_applied_and_failed_with_the_vendor_answer():
    plan = mixed_plan()
    created, updated = plan.to_apply
    report = ApplyReport(
        (
            Outcome(created, Applied("XE1", "CREATING", "sender is CREATING, not ONLINE: wait.")),
            Outcome(updated, failure=Failure("twilio", "Invalid profile", 400, 20001)),
        )
    )

    text = render_report_text(report)
    markdown = render_markdown(plan, report)
    document = json.loads(render_json(plan, report))

    assert '  created  whatsapp_sender "whatsapp:+34910000101" (roma)' in text
    assert "# sender is CREATING, not ONLINE: wait." in text
    assert (
        '  failed   whatsapp_sender "whatsapp:+34910000102" (sol): '
        "twilio HTTP 400 (code 20001): Invalid profile"
    ) in text
    assert "Apply complete: 1 applied, 1 failed" in text
    assert "Run `horizon reconcile` again to retry what failed." in text
    assert "**1 applied, 1 failed.**" in markdown
    assert document["apply"]["outcomes"][1]["error"] == {
        "vendor": "twilio",
        "status": 400,
        "code": 20001,
        "message": "Invalid profile",
    }


def pruned_and_blocked_plan():
    def let_go(resource):
        return Resource(SENDER, resource.key, None, {"friendly_name": resource.key})

    rules = {SENDER: PruneRule(let_go, "kept at Twilio")}
    desired = [sender("roma", "+34910000101")]
    observed = [
        sender("roma", "+34910000101", problem="WhatsApp declined the display name"),
        sender("gone", "+34910000199"),
    ]
    return diff(desired, observed, prune=True, prune_rules=rules)


def test_detach_and_problems_in_text_markdown_and_json():
    plan = pruned_and_blocked_plan()

    text = render_text(plan)
    markdown = render_markdown(plan)
    document = json.loads(render_json(plan))

    assert '  ! whatsapp_sender "whatsapp:+34910000101"  (roma)' in text
    assert "      ! WhatsApp declined the display name" in text
    assert '  . whatsapp_sender "whatsapp:+34910000199"  (gone)' in text
    assert "# detached: no client file for 'gone'; kept at Twilio" in text
    assert '~ friendly_name: "horizon:gone" → "whatsapp:+34910000199"' in text
    assert "Plan: 0 to create, 0 to update, 0 to delete, 1 to detach." in text
    assert "1 resource cannot be reconciled without you (marked !)." in text
    assert "<b>roma</b> `!1`" in markdown and "<b>gone</b> `.1`" in markdown
    assert document["summary"]["detach"] == 1 and document["problems"] == 1
    roma = next(c for c in document["changes"] if c["client"] == "roma")
    assert (roma["action"], roma["problem"]) == ("no-op", "WhatsApp declined the display name")


def test_report_says_detached():
    plan = pruned_and_blocked_plan()
    (detach,) = plan.to_apply

    text = render_report_text(ApplyReport((Outcome(detach, Applied("XE1")),)))

    assert '  detached whatsapp_sender "whatsapp:+34910000199" (gone)' in text


class Rendered(HTMLParser):
    """Markdown rendered as CommonMark (with GitHub's tables and raw HTML), then read back:
    the tags it made, the text of each block quote, and the text outside code."""

    def __init__(self, markdown: str) -> None:
        super().__init__()
        self.html = MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)
        self.tags: list[str] = []
        self.blockquotes: list[str] = []
        self.prose, self.code = "", ""
        self._open: list[str] = []
        self.feed(self.html)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append(tag)
        self._open.append(tag)
        if tag == "blockquote":
            self.blockquotes.append("")

    def handle_endtag(self, tag: str) -> None:
        while self._open and self._open.pop() != tag:
            pass

    def handle_data(self, data: str) -> None:
        if "code" in self._open:
            self.code += data
            return
        self.prose += data
        if "blockquote" in self._open:
            self.blockquotes[-1] += data.strip("\n")


HOSTILE = (
    "Pizza\n</details>\n\n# Pwned ```js\n@octocat [site](https://evil.example) "
    "<img src=x onerror=alert(1)> see #12 | cell | *bold* \u202eevil"
)
SHOWN = (
    "Pizza\\n</details>\\n\\n# Pwned ```js\\n@\u2060octocat [site](https://evil.example) "
    "<img src=x onerror=alert(1)> see #\u206012 | cell | *bold* \\u202eevil"
)


def hostile_plan():
    """A display name awaiting review, a sender's mark and a vendor error, all hostile."""
    pending = f'display name "{HOSTILE}" awaits WhatsApp\'s review (PENDING_REVIEW).'
    desired = [sender("roma", "+34910000101", about=HOSTILE)]
    observed = [
        sender("roma", "+34910000101", about="Pizza", notice=pending, problem=HOSTILE),
        sender(f"x{HOSTILE}", "+34910000199"),
    ]
    return diff(desired, observed)


def test_markdown_of_hostile_vendor_and_client_strings_renders_them_as_text():
    plan = hostile_plan()
    update = next(change for change in plan.changes if change.client == "roma")
    failure = Failure("twilio", HOSTILE, 400, 20001)
    report = ApplyReport((Outcome(update, failure=failure),))

    page = Rendered(render_markdown(plan, report))

    # nothing the strings spell out became markup: no heading, image, link, emphasis
    assert set(page.tags) <= {"h3", "p", "br", "strong", "details", "summary", "b", "pre"} | {
        "code", "blockquote", "table", "thead", "tbody", "tr", "th", "td"
    }  # fmt: skip
    # each client's block opens and closes once, around its own content
    assert page.html.count("<details>") == page.html.count("</details>") == 2
    assert page.html.count("<pre>") == 2
    assert page.blockquotes == [f'whatsapp_sender "whatsapp:+34910000101": {pending_shown()}']
    assert f"x{SHOWN}" in page.prose  # the orphan's client, in its <summary>
    assert f"twilio HTTP 400 (code 20001): {SHOWN}" in page.prose  # the report's table cell
    assert len(re.findall(r"<tr>", page.html)) == 2  # the cell's pipes stayed text
    assert not re.search(r"(?<![\w`])[@#][A-Za-z0-9]", page.prose)  # no mention, no #ref
    assert "```js" in page.code and "\\n</details>" in page.code  # diff lines, as text


def pending_shown() -> str:
    return f'display name "{SHOWN}" awaits WhatsApp\'s review (PENDING_REVIEW).'


def test_vendor_text_cannot_move_the_terminal_cursor_or_recolour_it():
    from horizon.reconcile.display import printable

    hostile = "ok\x1b[2J\x1b[31mred\nsecond line\r\x07"

    shown = printable(hostile)

    assert shown.isprintable()
    assert shown == "ok\\x1b[2J\\x1b[31mred\\nsecond line\\r\\x07"
    assert printable("Pizzería «Roma» 🍕") == "Pizzería «Roma» 🍕"
