"""Every broken client file in tests/data/broken is reported with file, line and field."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from horizon.cli import main
from horizon.config.loader import load_fleet
from tests.config.conftest import Repo

DATA = Path(__file__).parent.parent / "data"
BROKEN = DATA / "broken"

# case -> (file the error names, line, field path, words the message must contain)
CASES: dict[str, tuple[str, int, str, str]] = {
    "unknown-top-key.yaml": ("unknown-top-key.yaml", 3, "chanel", "did you mean 'channel'"),
    "unknown-nested-key.yaml": (
        "unknown-nested-key.yaml",
        5,
        "assistant.temprature",
        "did you mean 'temperature'",
    ),
    "missing-name.yaml": ("missing-name.yaml", 1, "name", "required field is missing"),
    "missing-instructions.yaml": (
        "missing-instructions.yaml",
        3,
        "assistant.instructions",
        "required field is missing",
    ),
    "missing-assistant.yaml": ("missing-assistant.yaml", 1, "assistant", "required"),
    "number-not-e164.yaml": ("number-not-e164.yaml", 2, "number", "is not in E.164 form: '+'"),
    "number-not-canonical.yaml": ("number-not-canonical.yaml", 2, "number", "write '+34910000207'"),
    "number-invalid.yaml": ("number-invalid.yaml", 2, "number", "not a valid phone number"),
    "number-unquoted.yaml": ("number-unquoted.yaml", 2, "number", "put the value in quotes"),
    "number-duplicate.yaml": (
        "number-duplicate.yaml",
        2,
        "number",
        "already the number of {dir}/000-valid.yaml:2",
    ),
    "channel-unknown.yaml": ("channel-unknown.yaml", 3, "channel", "'whatsapp' or 'sms'"),
    "enabled-not-bool.yaml": ("enabled-not-bool.yaml", 3, "enabled", "must be true or false"),
    "temperature-too-high.yaml": (
        "temperature-too-high.yaml",
        5,
        "assistant.temperature",
        "less than or equal to 2",
    ),
    "temperature-needs-effort-none.yaml": (
        "temperature-needs-effort-none.yaml",
        7,
        "assistant.temperature",
        "temperature needs reasoning_effort: none on gpt-5.4-mini (got low)",
    ),
    "temperature-not-accepted.yaml": (
        "temperature-not-accepted.yaml",
        6,
        "assistant.temperature",
        "gpt-5-mini-2025-08-07 does not accept temperature, at any reasoning effort",
    ),
    "effort-not-accepted.yaml": (
        "effort-not-accepted.yaml",
        6,
        "assistant.reasoning_effort",
        "gpt-5.4-mini does not accept reasoning_effort 'minimal' (it accepts none, low, medium",
    ),
    "effort-none-before-gpt-5-1.yaml": (
        "effort-none-before-gpt-5-1.yaml",
        6,
        "assistant.reasoning_effort",
        "o3 does not accept reasoning_effort 'none' (it accepts low, medium, high)",
    ),
    "effort-on-non-reasoning-model.yaml": (
        "effort-on-non-reasoning-model.yaml",
        6,
        "assistant.reasoning_effort",
        "gpt-4.1-mini is not a reasoning model; remove reasoning_effort",
    ),
    "effort-unknown-value.yaml": (
        "effort-unknown-value.yaml",
        5,
        "assistant.reasoning_effort",
        "must be 'none', 'minimal', 'low', 'medium' or 'high' (got 'extreme')",
    ),
    "model-shut-down.yaml": (
        "model-shut-down.yaml",
        4,
        "assistant.model",
        "OpenAI shut o4-mini down on 2026-10-23; choose another model",
    ),
    "max-tokens-too-low.yaml": (
        "max-tokens-too-low.yaml",
        5,
        "assistant.max_output_tokens",
        "greater than or equal to 16",
    ),
    "max-tokens-string.yaml": (
        "max-tokens-string.yaml",
        5,
        "assistant.max_output_tokens",
        "must be a whole number",
    ),
    "knowledge-missing-file.yaml": (
        "knowledge-missing-file.yaml",
        6,
        "assistant.knowledge[0]",
        "does not exist",
    ),
    "knowledge-outside-repo.yaml": (
        "knowledge-outside-repo.yaml",
        6,
        "assistant.knowledge[0]",
        "outside the repository",
    ),
    "knowledge-file-type.yaml": (
        "knowledge-file-type.yaml",
        6,
        "assistant.knowledge[0]",
        "cannot index this file type",
    ),
    "knowledge-path-too-long.yaml": (
        "knowledge-path-too-long.yaml",
        6,
        "assistant.knowledge[0]",
        "is 515 characters long; OpenAI keeps at most 512",
    ),
    "knowledge-listed-twice.yaml": (
        "knowledge-listed-twice.yaml",
        6,
        "assistant.knowledge",
        "listed more than once: knowledge-listed-twice/menu.md",
    ),
    "knowledge-symlink-env.yaml": (
        "knowledge-symlink-env.yaml",
        6,
        "assistant.knowledge[0]",
        "goes through a symbolic link (faq.txt)",
    ),
    "knowledge-symlink-git-config.yaml": (
        "knowledge-symlink-git-config.yaml",
        6,
        "assistant.knowledge[0]",
        "goes through a symbolic link (notes.md)",
    ),
    "knowledge-symlink-folder.yaml": (
        "knowledge-symlink-folder.yaml",
        6,
        "assistant.knowledge[0]",
        "goes through a symbolic link (docs)",
    ),
    "knowledge-hidden.yaml": (
        "knowledge-hidden.yaml",
        6,
        "assistant.knowledge[0]",
        "is hidden (.notes.md starts with '.')",
    ),
    "knowledge-in-git-dir.yaml": (
        "knowledge-in-git-dir.yaml",
        6,
        "assistant.knowledge[0]",
        "is inside .git/",
    ),
    "memory-days-zero.yaml": (
        "memory-days-zero.yaml",
        5,
        "assistant.memory_days",
        "greater than or equal to 1",
    ),
    "profile-vertical.yaml": ("profile-vertical.yaml", 6, "profile.vertical", "'Restaurant'"),
    "profile-email.yaml": (
        "profile-email.yaml",
        8,
        "profile.emails[1]",
        "'not-an-email' is not an email address",
    ),
    "profile-website.yaml": ("profile-website.yaml", 6, "profile.websites[0]", "http(s) URL"),
    "profile-about-too-long.yaml": (
        "profile-about-too-long.yaml",
        6,
        "profile.about",
        "at most 139 characters",
    ),
    "limits-negative-budget.yaml": (
        "limits-negative-budget.yaml",
        6,
        "limits.monthly_budget_usd",
        "greater than or equal to 0",
    ),
    "limits-zero-per-hour.yaml": (
        "limits-zero-per-hour.yaml",
        6,
        "limits.user_messages_per_hour",
        "greater than or equal",
    ),
    "metadata-not-string.yaml": (
        "metadata-not-string.yaml",
        7,
        "metadata.vip",
        "not bool False; put the value in quotes",
    ),
    "duplicate-key.yaml": (
        "duplicate-key.yaml",
        5,
        "name",
        "duplicate key 'name' (first defined on line 1)",
    ),
    "alias-bomb.yaml": (
        "alias-bomb.yaml",
        10,
        "(yaml)",
        "aliases expand this file to more than 10,000 values",
    ),
    "alias-recursive.yaml": (
        "alias-recursive.yaml",
        6,
        "(yaml)",
        "alias *loop is inside the value it names",
    ),
    "nested-too-deep.yaml": (
        "nested-too-deep.yaml",
        6,
        "(yaml)",
        "values nested more than 50 levels deep",
    ),
    "not-a-mapping.yaml": ("not-a-mapping.yaml", 1, "(root)", "mapping of fields, not a list"),
    "empty.yaml": ("empty.yaml", 1, "(file)", "file is empty"),
    "comments-only.yaml": ("comments-only.yaml", 1, "(file)", "file is empty"),
    "yaml-syntax.yaml": ("yaml-syntax.yaml", 5, "(yaml)", "YAML syntax error"),
    "assistant-not-mapping.yaml": (
        "assistant-not-mapping.yaml",
        3,
        "assistant",
        "must be a mapping of fields, not str",
    ),
    "instructions-blank.yaml": (
        "instructions-blank.yaml",
        4,
        "assistant.instructions",
        "at least 1 character",
    ),
    "Bad_Id.yaml": ("Bad_Id.yaml", 1, "id", "client id 'Bad_Id'"),
    "non-utf8.yaml": ("non-utf8.yaml", 1, "(file)", "not UTF-8: byte 0xe9"),
    "notes.txt": ("notes.txt", 1, "(file)", "only .yaml or .yml files"),
    "twin-ids": ("twin.yml", 1, "id", "client id 'twin' is also defined by {dir}/twin.yaml"),
}


# Links a case needs, made by the test (clients/ path -> target): the repository's own
# tests/data holds none. The first two are the links of an attack that once uploaded the
# checkout's .env and .git/config as knowledge.
LINKS: dict[str, tuple[str, str]] = {
    "knowledge-symlink-env.yaml": ("knowledge-symlink-env/faq.txt", "../../.env"),
    "knowledge-symlink-git-config.yaml": (
        "knowledge-symlink-git-config/notes.md",
        "../../.git/config",
    ),
    "knowledge-symlink-folder.yaml": ("knowledge-symlink-folder/docs", "../../docs"),
}


def make_clients_dir(tmp_path: Path, case: str) -> Path:
    """A clients/ directory holding one valid client and the broken case."""
    clients = tmp_path / "repo" / "clients"
    clients.mkdir(parents=True)
    shutil.copy(DATA / "valid" / "000-valid.yaml", clients)
    source = BROKEN / case
    if source.is_dir():
        shutil.copytree(source, clients, dirs_exist_ok=True)
    else:
        shutil.copy(source, clients)
        knowledge = BROKEN / Path(case).stem
        if knowledge.is_dir():
            shutil.copytree(knowledge, clients / knowledge.name)
    (tmp_path / "outside.md").write_text("# not part of the repository\n")
    (clients.parent / ".env").write_text("OPENAI_API_KEY=sk-secret\n")
    (clients.parent / "docs").mkdir()
    (clients.parent / "docs" / "menu.md").write_text("# Menu\n")
    if case in LINKS:
        link, target = LINKS[case]
        (clients / link).parent.mkdir(parents=True, exist_ok=True)
        (clients / link).symlink_to(target)
    return clients


def test_every_broken_case_is_listed() -> None:
    knowledge_folders = {p.name for p in BROKEN.iterdir() if f"{p.name}.yaml" in CASES}
    on_disk = {p.name for p in BROKEN.iterdir()} - knowledge_folders
    assert on_disk == set(CASES)
    assert len(CASES) >= 25


@pytest.mark.parametrize("case", sorted(CASES))
def test_broken_file_is_reported_with_file_line_and_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    clients = make_clients_dir(tmp_path, case)
    monkeypatch.chdir(clients.parent)
    file, line, field, words = CASES[case]

    result = CliRunner().invoke(main, ["validate", "-v"])

    assert result.exit_code == 1
    assert "Traceback" not in result.output
    errors = [row for row in result.stderr.splitlines() if row.startswith("clients/")]
    prefix = f"clients/{file}:{line}:"
    matching = [
        row
        for row in errors
        if row.startswith(prefix)
        and re.match(rf"^{re.escape(prefix)}\d+: {re.escape(field)}: ", row)
    ]
    assert matching, f"no error at {prefix} for {field}; got:\n" + "\n".join(errors)
    assert any(words.format(dir="clients") in row for row in matching), matching
    assert "clients/000-valid.yaml: OK" in result.stdout
    assert re.search(r"^\d+ clients? OK, 1 file with \d+ errors?$", result.stderr, re.M)


def test_valid_clients_load_into_the_fleet_beside_broken_ones(tmp_path: Path) -> None:
    clients = make_clients_dir(tmp_path, "unknown-top-key.yaml")

    result = load_fleet(clients)

    assert [client.id for client in result.fleet] == ["000-valid"]
    assert result.fleet.route("whatsapp:+34910000199").name == "Valid Bakery"
    assert result.files == 2
    assert {error.file for error in result.errors} == {str(clients / "unknown-top-key.yaml")}


def test_all_errors_of_one_file_are_reported_at_once(tmp_path: Path) -> None:
    clients = tmp_path / "clients"
    clients.mkdir()
    (clients / "many-faults.yaml").write_text(
        'name: ""\nnumber: "12"\nchanel: sms\nassistant:\n  temperature: 9\n'
    )

    errors = load_fleet(clients).errors

    assert [(error.line, error.path) for error in errors] == [
        (1, "name"),
        (2, "number"),
        (3, "chanel"),
        (4, "assistant.instructions"),
        (5, "assistant.temperature"),
    ]


def test_missing_clients_directory_is_an_error(tmp_path: Path) -> None:
    result = load_fleet(tmp_path / "nowhere")

    assert not result.ok
    assert "clients directory not found" in str(result.errors[0])


def test_hidden_files_and_knowledge_folders_are_not_client_files(tmp_path: Path) -> None:
    clients = tmp_path / "clients"
    (clients / "000-valid").mkdir(parents=True)
    shutil.copy(DATA / "valid" / "000-valid.yaml", clients)
    (clients / ".gitkeep").write_text("")
    (clients / "000-valid" / "notes.txt").write_text("knowledge")

    result = load_fleet(clients)

    assert result.ok and len(result.fleet) == 1


def test_a_broken_file_reusing_a_number_takes_the_error_not_the_valid_owner(
    tmp_path: Path,
) -> None:
    clients = tmp_path / "clients"
    clients.mkdir()
    shutil.copy(DATA / "valid" / "000-valid.yaml", clients / "zz-owner.yaml")
    (clients / "aa-newcomer.yaml").write_text('name: New\nnumber: "+34910000199"\nchanel: x\n')

    result = load_fleet(clients)

    numbers = [error for error in result.errors if error.path == "number"]
    assert [(e.file, e.line) for e in numbers] == [(str(clients / "aa-newcomer.yaml"), 2)]
    assert "zz-owner.yaml:2" in numbers[0].message
    assert [client.id for client in result.fleet] == ["zz-owner"]


def test_unreadable_client_file_is_an_error_line_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clients = tmp_path / "clients"
    clients.mkdir()
    shutil.copy(DATA / "valid" / "000-valid.yaml", clients)
    (clients / "dangling.yaml").symlink_to(tmp_path / "nowhere.yaml")
    monkeypatch.chdir(tmp_path)

    result = CliRunner().invoke(main, ["validate"])

    assert result.exit_code == 1
    assert "clients/dangling.yaml:1:1: (file): a client file must be a plain file" in (
        result.stderr
    )
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("case", "line"),
    [
        (
            "temperature-needs-effort-none.yaml",
            "clients/temperature-needs-effort-none.yaml:7:16: assistant.temperature: "
            "temperature needs reasoning_effort: none on gpt-5.4-mini (got low)",
        ),
        (
            "effort-on-non-reasoning-model.yaml",
            "clients/effort-on-non-reasoning-model.yaml:6:21: assistant.reasoning_effort: "
            "gpt-4.1-mini is not a reasoning model; remove reasoning_effort",
        ),
    ],
)
def test_a_parameter_the_model_rejects_points_at_its_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str, line: str
) -> None:
    monkeypatch.chdir(make_clients_dir(tmp_path, case).parent)

    result = CliRunner().invoke(main, ["validate"])

    assert result.exit_code == 1
    assert line in result.stderr.splitlines()


UNKNOWN_MODEL = """\
name: Future Model
number: "+34910000221"
assistant:
  instructions: Hi.
  temperature: 0.4
  reasoning_effort: low
  model: gpt-7-turbo
"""


def test_an_unknown_model_is_a_warning_and_its_file_stays_valid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clients = make_clients_dir(tmp_path, "unknown-top-key.yaml")
    (clients / "unknown-top-key.yaml").unlink()
    (clients / "future-model.yaml").write_text(UNKNOWN_MODEL)
    monkeypatch.chdir(clients.parent)

    loaded = load_fleet(clients)
    result = CliRunner().invoke(main, ["validate"])

    assert loaded.ok and [client.id for client in loaded.fleet] == ["000-valid", "future-model"]
    assert [str(warning) for warning in loaded.warnings] == [
        f"{clients}/future-model.yaml:7:10: assistant.model: warning: unknown model "
        "'gpt-7-turbo'; Horizon cannot check its parameters"
    ]
    assert result.exit_code == 0
    assert result.stderr == (
        "clients/future-model.yaml:7:10: assistant.model: warning: unknown model "
        "'gpt-7-turbo'; Horizon cannot check its parameters\n"
    )
    assert result.stdout == "2 clients OK, 1 warning\n"


def test_model_parameters_are_checked_beside_the_files_other_errors(tmp_path: Path) -> None:
    clients = tmp_path / "clients"
    clients.mkdir()
    (clients / "two-faults.yaml").write_text(
        'name: Two\nnumber: "+34910000222"\nassistant:\n  model: o3\n  instructions: Hi.\n'
        "  temperature: 0.5\nprofile:\n  emails: [nope]\n"
    )

    errors = load_fleet(clients).errors

    assert [(error.line, error.path) for error in errors] == [
        (6, "assistant.temperature"),
        (8, "profile.emails[0]"),
    ]
    assert errors[0].message == "o3 does not accept temperature, at any reasoning effort; remove it"


def test_a_duplicate_number_is_blamed_on_the_file_git_saw_last(repo: Repo) -> None:
    owner = (DATA / "valid" / "000-valid.yaml").read_text()
    repo.write("clients/zz-owner.yaml", owner)
    repo.commit("clients", when=1_700_000_000)
    repo.write("clients/aa-newcomer.yaml", owner.replace("Valid Bakery", "New Bakery"))
    repo.commit("clients", when=1_700_086_400)

    result = load_fleet(repo.clients)

    numbers = [error for error in result.errors if error.path == "number"]
    assert [(e.file, e.line) for e in numbers] == [(str(repo.clients / "aa-newcomer.yaml"), 2)]
    assert "zz-owner.yaml:2" in numbers[0].message
    assert [client.id for client in result.fleet] == ["zz-owner"]


def test_a_number_changed_later_or_not_yet_committed_is_the_newcomer(repo: Repo) -> None:
    owner = (DATA / "valid" / "000-valid.yaml").read_text()
    repo.write("clients/aa-changed.yaml", owner.replace("+34910000199", "+34910000198"))
    repo.write("clients/mm-owner.yaml", owner)
    repo.commit("clients", when=1_700_000_000)
    repo.write("clients/aa-changed.yaml", owner)  # its number line now collides
    repo.commit("clients", when=1_700_086_400)
    repo.write("clients/bb-uncommitted.yaml", owner)

    result = load_fleet(repo.clients)

    blamed = sorted(Path(e.file).name for e in result.errors if e.path == "number")
    assert blamed == ["aa-changed.yaml", "bb-uncommitted.yaml"]


def test_numbers_written_in_one_commit_fall_back_to_the_name_order(repo: Repo) -> None:
    owner = (DATA / "valid" / "000-valid.yaml").read_text()
    repo.write("clients/zz-second.yaml", owner)
    repo.write("clients/aa-first.yaml", owner)
    repo.commit("clients")  # a shallow clone sees every line in one commit, too

    result = load_fleet(repo.clients)

    assert [Path(e.file).name for e in result.errors] == ["zz-second.yaml"]


@pytest.mark.parametrize(
    ("written", "budget"), [("1e-06", 1e-06), ("5E3", 5000.0), ("2.5e+1", 25.0)]
)
def test_a_budget_written_with_an_exponent_is_a_number(
    tmp_path: Path, written: str, budget: float
) -> None:
    clients = tmp_path / "clients"
    clients.mkdir()
    text = (DATA / "valid" / "000-valid.yaml").read_text()
    (clients / "tiny.yaml").write_text(f"{text}limits:\n  monthly_budget_usd: {written}\n")

    result = load_fleet(clients)

    assert result.ok, result.errors
    assert result.fleet.by_id["tiny"].limits.monthly_budget_usd == budget


def test_a_budget_in_quotes_is_still_text_and_refused(tmp_path: Path) -> None:
    clients = tmp_path / "clients"
    clients.mkdir()
    text = (DATA / "valid" / "000-valid.yaml").read_text()
    (clients / "quoted.yaml").write_text(f'{text}limits:\n  monthly_budget_usd: "1e-06"\n')

    (error,) = load_fleet(clients).errors

    assert (error.line, error.path) == (6, "limits.monthly_budget_usd")
    assert error.message == "must be a number, not str '1e-06'"


def test_a_client_file_over_the_size_cap_is_refused_unread(tmp_path: Path) -> None:
    clients = tmp_path / "clients"
    clients.mkdir()
    padding = "# " + "x" * 1022 + "\n"
    text = (DATA / "valid" / "000-valid.yaml").read_text()
    (clients / "huge.yaml").write_text(text + padding * 300)

    (error,) = load_fleet(clients).errors

    assert str(error) == (
        f"{clients}/huge.yaml:1:1: (file): larger than 256 KiB; a client file needs far less"
    )


def test_a_file_of_many_values_is_refused_once_it_holds_too_many(tmp_path: Path) -> None:
    clients = tmp_path / "clients"
    clients.mkdir()
    text = (DATA / "valid" / "000-valid.yaml").read_text()
    items = "".join(f"  - {i}\n" for i in range(20_000))
    (clients / "wide.yaml").write_text(f"{text}extra:\n{items}")

    (error,) = load_fleet(clients).errors

    assert (error.path, error.message) == (
        "(yaml)",
        "this file holds more than 10,000 values; a client file needs far fewer",
    )


def test_an_alias_shared_by_two_messages_is_read_once_and_valid(tmp_path: Path) -> None:
    clients = tmp_path / "clients"
    clients.mkdir()
    (clients / "shared.yaml").write_text(
        'name: Shared\nnumber: "+34910000248"\nassistant:\n  instructions: Hi.\n'
        "  fallback_message: &away Volvemos enseguida.\n  paused_message: *away\n"
    )

    result = load_fleet(clients)

    assert result.ok, result.errors
    assert result.fleet.by_id["shared"].assistant.paused_message == "Volvemos enseguida."


def test_a_client_file_that_is_a_symlink_is_refused_unread(tmp_path):
    secret = tmp_path / ".env"
    secret.write_text("OPENAI_API_KEY: sk-live-secret\n", encoding="utf-8")
    clients = tmp_path / "clients"
    clients.mkdir()
    (clients / "leaky-shop.yaml").symlink_to(secret)

    result = load_fleet(clients)

    assert [str(error) for error in result.errors] == [
        f"{clients / 'leaky-shop.yaml'}:1:1: (file): a client file must be a plain file, "
        "not a symlink"
    ]
