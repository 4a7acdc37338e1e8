"""The CI workflows: who can read which key, time limits, concurrency, pinned actions.

A pull request's own code (its Makefile, package and even the workflow file itself) is run
by anyone who can push a branch, so no job of pull-request.yml that runs it may hold a key
that can change Twilio or OpenAI, nor a token that can write. Full keys live only in the
`production` environment.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

WORKFLOWS = Path(__file__).parents[1] / ".github" / "workflows"
# The `plan` environment's keys: a Twilio restricted key and an OpenAI project key, both
# read-only (README, "Credentials in CI").
READ_ONLY_SECRETS = {
    "TWILIO_READONLY_API_KEY",
    "TWILIO_READONLY_API_SECRET",
    "OPENAI_READONLY_API_KEY",
}
EVERY_SECRET = "*"  # `toJSON(secrets)`, `secrets: inherit`: every secret the job can see
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[^@]+)?@[0-9a-f]{40}$")
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)
SECRET = re.compile(r"\bsecrets\b(?:\s*\.\s*(\w+)|\s*\[\s*'(\w+)'\s*\])?")


def workflow(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))


def workflow_files() -> list[str]:
    return sorted(path.name for path in WORKFLOWS.glob("*.yml"))


def strings(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [text for key, value in node.items() for text in strings(key) + strings(value)]
    if isinstance(node, list):
        return [text for item in node for text in strings(item)]
    return [node] if isinstance(node, str) else []


def secrets_of(job: dict) -> set[str]:
    """The secrets a job can read: by name, or EVERY_SECRET when it asks for them all."""
    found = {EVERY_SECRET} if job.get("secrets") == "inherit" else set()
    expressions = [e for text in strings(job) for e in EXPRESSION.findall(text)]
    expressions.append(str(job.get("if", "")))  # `if:` may leave out the ${{ }}
    for expression in expressions:
        for by_dot, by_index in SECRET.findall(expression):
            found.add(by_dot or by_index or EVERY_SECRET)
    found.discard("GITHUB_TOKEN")  # what it may do is the job's `permissions`, checked apart
    return found


def runs_branch_code(job: dict) -> bool:
    """Checks out the repository, runs a command, or calls a workflow of the repository."""
    if str(job.get("uses", "")).startswith("./"):
        return True
    steps = job.get("steps", [])
    return any("run" in s or str(s.get("uses", "")).startswith("actions/checkout@") for s in steps)


def can_write(job: dict, workflow_permissions: Any) -> bool:
    """Whether the job's GITHUB_TOKEN may write anything (unset: the repository's default)."""
    permissions = job.get("permissions", workflow_permissions)
    if permissions is None or permissions == "write-all":
        return True
    if isinstance(permissions, dict):
        return "write" in permissions.values()
    return False


def environment_of(job: dict) -> str | None:
    environment = job.get("environment")
    return environment.get("name") if isinstance(environment, dict) else environment


def uses_of(document: dict) -> list[str]:
    found = []
    for job in document["jobs"].values():
        found += [job["uses"]] if "uses" in job else []
        found += [step["uses"] for step in job.get("steps", []) if "uses" in step]
    return found


def violations(document: dict) -> list[str]:
    """Jobs of a pull-request workflow that run branch code with a key or token that writes."""
    found = []
    for name, job in document["jobs"].items():
        if not runs_branch_code(job):
            continue
        if secrets_of(job) - READ_ONLY_SECRETS:
            found.append(f"{name}: secrets {sorted(secrets_of(job) - READ_ONLY_SECRETS)}")
        if can_write(job, document.get("permissions")):
            found.append(f"{name}: a token that can write")
        if environment_of(job) == "production":
            found.append(f"{name}: the production environment")
    return found


def test_no_pull_request_job_that_runs_branch_code_holds_a_key_that_can_write():
    document = workflow("pull-request.yml")

    assert violations(document) == []
    plan = document["jobs"]["plan"]
    assert runs_branch_code(plan) and secrets_of(plan) == READ_ONLY_SECRETS
    assert environment_of(plan) == "plan"


def test_the_plan_runs_only_after_the_branch_was_checked_without_secrets():
    jobs = workflow("pull-request.yml")["jobs"]

    assert secrets_of(jobs["check"]) == set()
    assert not can_write(jobs["check"], {"contents": "read"})
    assert jobs["plan"]["needs"] == "check"


def test_the_job_that_writes_the_comment_runs_no_branch_code_and_holds_no_key():
    document = workflow("pull-request.yml")
    writers = [
        job for job in document["jobs"].values() if can_write(job, document.get("permissions"))
    ]

    assert [job.get("permissions") for job in writers] == [{"pull-requests": "write"}]
    assert not runs_branch_code(writers[0]) and secrets_of(writers[0]) == set()


LEAKY = """
on: pull_request
jobs:
  plan:
    runs-on: ubuntu-latest
    permissions: {contents: read, pull-requests: write}
    env:
      TWILIO_AUTH_TOKEN: ${{ secrets.TWILIO_AUTH_TOKEN }}
      ALL: ${{ toJSON(secrets) }}
      OPENAI_API_KEY: ${{ secrets['OPENAI_API_KEY'] }}
    steps:
      - uses: actions/checkout@v4
      - run: make .venv/.installed
  called:
    uses: ./.github/workflows/reconcile.yml
    secrets: inherit
"""


def test_the_check_catches_the_keys_the_old_pull_request_workflow_exposed():
    assert violations(yaml.safe_load(LEAKY)) == [
        "plan: secrets ['*', 'OPENAI_API_KEY', 'TWILIO_AUTH_TOKEN']",
        "plan: a token that can write",
        "called: secrets ['*']",
        "called: a token that can write",
    ]


@pytest.mark.parametrize("name", workflow_files())
def test_full_keys_live_only_in_the_production_environment(name):
    for job_name, job in workflow(name)["jobs"].items():
        if secrets_of(job) - READ_ONLY_SECRETS:
            assert environment_of(job) == "production", f"{name}: {job_name}"
        if environment_of(job) == "production":
            assert name == "reconcile.yml", f"{name}: {job_name}"


@pytest.mark.parametrize("name", workflow_files())
def test_every_job_has_a_time_limit(name):
    for job_name, job in workflow(name)["jobs"].items():
        minutes = job.get("timeout-minutes")
        assert isinstance(minutes, int) and 0 < minutes <= 60, f"{name}: {job_name}"


def test_drift_never_shares_the_apply_concurrency_group():
    apply, drift = workflow("reconcile.yml"), workflow("drift.yml")

    assert apply["concurrency"]["group"] != drift["concurrency"]["group"]
    assert apply["concurrency"]["cancel-in-progress"] is False
    assert all("concurrency" not in job for job in drift["jobs"].values())


@pytest.mark.parametrize("name", workflow_files())
def test_every_action_is_pinned_to_a_commit(name):
    unpinned = [used for used in uses_of(workflow(name)) if not PINNED.match(used)]
    assert unpinned == []
