"""Commands over client files: validate, schema, new."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from horizon.config.errors import ConfigError, ConfigWarning
from horizon.config.loader import load_client, load_fleet
from horizon.config.reference import START as REFERENCE_START
from horizon.config.reference import reference_is_current, with_reference
from horizon.config.scaffold import NewClient, ScaffoldError, create_client_file
from horizon.config.schema import render_schema, schema_is_current
from horizon.settings import Settings

clients_dir_option = click.option(
    "--clients-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory of client files [env HORIZON_CLIENTS_DIR; default: clients].",
)


def resolve_clients_dir(clients_dir: Path | None) -> Path:
    return clients_dir if clients_dir is not None else Path(Settings().clients_dir)


@click.command()
@clients_dir_option
@click.option("-v", "--verbose", is_flag=True, help="Also list every valid file.")
def validate(clients_dir: Path | None, verbose: bool) -> None:
    """Load and validate every client file; print every error and warning at once."""
    result = load_fleet(resolve_clients_dir(clients_dir))
    for problem in sorted([*result.errors, *result.warnings], key=_position):
        click.echo(str(problem), err=True)
    if verbose:
        for client in result.fleet:
            click.echo(f"{client.path}: OK")
    summary = f"{len(result.fleet)} {_plural(len(result.fleet), 'client')} OK"
    if not result.ok:
        bad_files = len({error.file for error in result.errors})
        summary += f", {bad_files} {_plural(bad_files, 'file')} with "
        summary += f"{len(result.errors)} {_plural(len(result.errors), 'error')}"
    if result.warnings:
        summary += f", {len(result.warnings)} {_plural(len(result.warnings), 'warning')}"
    click.echo(summary, err=not result.ok)
    if not result.ok:
        sys.exit(1)


def _position(problem: ConfigError | ConfigWarning) -> tuple[str, int, int]:
    return (problem.file, problem.line, problem.col)


def _plural(count: int, noun: str) -> str:
    return noun if count == 1 else f"{noun}s"


@click.command()
@click.option("--check", is_flag=True, help="Exit 1 if a file is stale instead of writing.")
@click.option(
    "--path",
    "schema_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("schema.json"),
    show_default=True,
)
@click.option(
    "--readme",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("README.md"),
    show_default=True,
    help="Also keep this file's client reference table current, when it has one.",
)
def schema(check: bool, schema_path: Path, readme: Path) -> None:
    """Write schema.json (and README's field reference) from the client models."""
    has_reference = readme.is_file() and REFERENCE_START in readme.read_text(encoding="utf-8")
    if check:
        stale = [] if schema_is_current(schema_path) else [schema_path]
        if has_reference and not reference_is_current(readme):
            stale.append(readme)
        for path in stale:
            click.echo(f"{path} is stale; run `horizon schema` and commit it", err=True)
        if stale:
            sys.exit(1)
        click.echo(f"{schema_path} is current")
        return
    schema_path.write_text(render_schema(), encoding="utf-8")
    click.echo(f"wrote {schema_path}")
    if has_reference:
        readme.write_text(with_reference(readme.read_text(encoding="utf-8")), encoding="utf-8")
        click.echo(f"updated the client reference in {readme}")


def _ask(value: str | None, prompt: str, flag: str) -> str:
    if value:
        return value
    if sys.stdin.isatty():
        return click.prompt(prompt)
    raise click.UsageError(f"{flag} is required when not on a terminal")


@click.command()
@click.argument("client_id", metavar="ID")
@click.option("--number", help="WhatsApp number in E.164 form, e.g. +34910000101.")
@click.option("--name", help="Business name.")
@click.option("--instructions", help="Assistant instructions.")
@click.option("--model", default=None, help="OpenAI model [default: the format's default].")
@clients_dir_option
def new(
    client_id: str,
    number: str | None,
    name: str | None,
    instructions: str | None,
    model: str | None,
    clients_dir: Path | None,
) -> None:
    """Scaffold clients/ID.yaml, validate it, and print the next steps."""
    directory = resolve_clients_dir(clients_dir)
    name = _ask(name, "Business name", "--name")
    number = _ask(number, "WhatsApp number (E.164, e.g. +34910000101)", "--number")
    instructions = instructions or (
        click.prompt("Assistant instructions")
        if sys.stdin.isatty()
        else f"You are the WhatsApp assistant of {name}. Answer briefly and kindly."
    )
    fields = {"model": model} if model else {}
    try:
        path = create_client_file(
            directory, NewClient(client_id, name, number, instructions, **fields)
        )
    except ScaffoldError as exc:
        raise click.ClickException(str(exc)) from None
    for warning in load_client(path, directory.resolve().parent).warnings:
        click.echo(str(warning), err=True)  # an unknown --model: valid, but unchecked
    click.echo(f"wrote {path}\n")
    click.echo(NEXT_STEPS.format(id=client_id, path=path))


NEXT_STEPS = """Next steps:
  1. git switch -c add-{id} && git add {path} (and any knowledge files: validate
     accepts only files git tracks)
  2. Review {path} (profile, limits, knowledge files), run `horizon validate`, then
     git commit -m "Add client {id}"
  3. git push -u origin add-{id}, then open a pull request.
     CI validates the file and comments the plan (`horizon reconcile --dry-run`):
     expect `+ whatsapp_sender` for the new number, and a knowledge store if you add files.
  4. Merging applies the plan; the webhook serves the new number after its reload."""
