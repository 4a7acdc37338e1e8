"""Load every file in `clients/` into a Fleet, collecting every error at once."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from horizon.config.checkout import Checkout
from horizon.config.client import CLIENT_ID_RE, DEFAULT_MODEL, Client, ClientSpec
from horizon.config.errors import ConfigError, ConfigWarning
from horizon.config.fleet import Fleet
from horizon.config.messages import describe_validation_error
from horizon.config.models import check_parameters
from horizon.config.yaml_source import Document, YamlSyntaxError, parse

CLIENT_SUFFIXES = (".yaml", ".yml")
# A client file is a few kilobytes (instructions hold at most 32,000 characters); the cap
# bounds what reading and parsing a hostile one costs.
MAX_FILE_BYTES = 256 * 1024


@dataclass
class LoadResult:
    """The valid clients as a Fleet, and every error and warning found in the directory.

    A warning (a model Horizon cannot check) leaves its file valid.
    """

    fleet: Fleet
    errors: list[ConfigError] = field(default_factory=list)
    files: int = 0
    warnings: list[ConfigWarning] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class FileResult:
    """One client file: its client when valid, its errors, and where its number stands."""

    path: Path
    client: Client | None = None
    errors: list[ConfigError] = field(default_factory=list)
    warnings: list[ConfigWarning] = field(default_factory=list)
    number: str | None = None
    number_at: tuple[int, int] = (1, 1)


def load_fleet(clients_dir: str | Path) -> LoadResult:
    """Validate every client file under `clients_dir`; valid clients form the Fleet."""
    directory = Path(clients_dir)
    if not directory.is_dir():
        error = ConfigError(str(directory), 1, 1, "(directory)", "clients directory not found")
        return LoadResult(Fleet(), [error])
    repo_root = directory.resolve().parent  # resolved once: knowledge paths are checked against it
    checkout = Checkout(directory)  # git runs at most once, when a knowledge file asks
    errors: list[ConfigError] = []
    warnings: list[ConfigWarning] = []
    results: list[FileResult] = []
    seen_ids: dict[str, Path] = {}
    files = 0
    for path in sorted(directory.iterdir()):
        if path.name.startswith(".") or path.is_dir():
            continue  # hidden files, and clients/<id>/ folders of knowledge files
        files += 1
        problem = _check_name(path, seen_ids)
        if problem:
            errors.append(problem)
            continue
        seen_ids[path.stem] = path
        result = load_client(path, repo_root, checkout)
        results.append(result)
        errors.extend(result.errors)
        warnings.extend(result.warnings)
    errors.extend(_duplicate_numbers(results, checkout))
    invalid_files = {error.file for error in errors}
    clients = [r.client for r in results if r.client and str(r.path) not in invalid_files]
    return LoadResult(Fleet(tuple(clients)), sorted(errors), files, sorted(warnings))


def _check_name(path: Path, seen_ids: dict[str, Path]) -> ConfigError | None:
    if path.is_symlink():
        # A link could show any file of the machine (a `.env`) through validation's errors.
        return ConfigError(
            str(path), 1, 1, "(file)", "a client file must be a plain file, not a symlink"
        )
    if path.suffix not in CLIENT_SUFFIXES:
        return ConfigError(
            str(path),
            1,
            1,
            "(file)",
            "not a client file: clients/ holds only .yaml or .yml files "
            "(knowledge files go in clients/<id>/)",
        )
    if not CLIENT_ID_RE.match(path.stem):
        return ConfigError(
            str(path),
            1,
            1,
            "id",
            f"client id {path.stem!r} (the file name) must be 3-48 lowercase letters, "
            "digits or '-', starting and ending with a letter or digit",
        )
    if path.stem in seen_ids:
        return ConfigError(
            str(path),
            1,
            1,
            "id",
            f"client id {path.stem!r} is also defined by {seen_ids[path.stem]}",
        )
    return None


def load_client(path: Path, repo_root: Path, checkout: Checkout | None = None) -> FileResult:
    """Parse and validate one client file (knowledge files against `checkout`, when given)."""
    result = FileResult(path)
    name = str(path)
    try:
        with path.open("rb") as stream:
            raw = stream.read(MAX_FILE_BYTES + 1)
    except OSError as exc:  # a broken symlink, no permission…
        reason = exc.strerror or type(exc).__name__
        result.errors.append(ConfigError(name, 1, 1, "(file)", f"cannot be read: {reason}"))
        return result
    if len(raw) > MAX_FILE_BYTES:
        message = f"larger than {MAX_FILE_BYTES // 1024} KiB; a client file needs far less"
        result.errors.append(ConfigError(name, 1, 1, "(file)", message))
        return result
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        message = f"not UTF-8: byte 0x{raw[exc.start]:02x}"
        result.errors.append(ConfigError(name, line, col, "(file)", message))
        return result
    try:
        document = parse(text)
    except YamlSyntaxError as exc:
        result.errors.append(ConfigError(name, exc.line, exc.col, "(yaml)", exc.message))
        return result
    if document.data is None:
        message = "file is empty; a client needs name, number and assistant.instructions"
        result.errors.append(ConfigError(name, 1, 1, "(file)", message))
        return result
    if not isinstance(document.data, dict):
        line, col = document.position(())
        message = f"a client file must be a mapping of fields, not a {type(document.data).__name__}"
        result.errors.append(ConfigError(name, line, col, "(root)", message))
        return result
    if isinstance(document.data.get("number"), str):
        result.number = document.data["number"]
        result.number_at = document.position(("number",))
    result.errors += [
        _duplicate_key_error(name, document, *pair) for pair in document.duplicate_keys
    ]
    context = {"base_dir": path.parent, "repo_root": repo_root, "checkout": checkout}
    try:
        spec = ClientSpec.model_validate(document.data, context=context)
    except ValidationError as exc:
        invalid = exc.errors()
        result.errors += [_located(name, document, error) for error in invalid]
        _check_model_parameters(result, document, invalid)
        return result
    _check_model_parameters(result, document, [])
    if not result.errors:
        result.client = Client.from_spec(spec, path.stem, path)
    return result


# Where an error makes the model check pointless: the assistant, or one of the fields checked.
_MODEL_LOCS = {("assistant",)} | {
    ("assistant", f) for f in ("model", "reasoning_effort", "temperature")
}


def _check_model_parameters(result: FileResult, document: Document, invalid: list) -> None:
    """Errors for parameters the model rejects, a warning for a model Horizon does not know.

    Checked even when other fields are wrong, so one run shows every error; skipped when
    one of the three fields is itself invalid (its own error says enough).
    """
    assistant = document.data.get("assistant")
    if not isinstance(assistant, dict) or any(tuple(e["loc"][:2]) in _MODEL_LOCS for e in invalid):
        return
    model = assistant.get("model", DEFAULT_MODEL).strip()
    name = str(result.path)
    problems = check_parameters(
        model, assistant.get("reasoning_effort"), assistant.get("temperature")
    )
    for problem in problems:
        loc = ("assistant", problem.field)
        line, col = document.position(loc)
        if problem.warning:
            result.warnings.append(ConfigWarning(name, line, col, _dotted(loc), problem.message))
        else:
            result.errors.append(ConfigError(name, line, col, _dotted(loc), problem.message))


def _located(name: str, document: Document, error: dict) -> ConfigError:
    loc = tuple(error["loc"])
    line, col = document.position(loc, at_key=error["type"] == "extra_forbidden")
    return ConfigError(name, line, col, _dotted(loc), describe_validation_error(error))


def _duplicate_key_error(name: str, document: Document, key_node, first_node) -> ConfigError:
    loc = document.path_of(key_node)
    mark = key_node.start_mark
    return ConfigError(
        name,
        mark.line + 1,
        mark.column + 1,
        _dotted(loc),
        f"duplicate key {key_node.value!r} "
        f"(first defined on line {first_node.start_mark.line + 1})",
    )


def _duplicate_numbers(results: list[FileResult], checkout: Checkout) -> list[ConfigError]:
    """Errors for every file reusing a number, blamed on the files that brought it in.

    In git, the file whose number line was written first keeps the number (a file not yet
    committed is newest); otherwise, and between lines written at once, a valid file keeps
    it over a broken one, then the first by name.
    """
    groups: dict[str, list[FileResult]] = {}
    for result in results:
        if result.number is not None:
            groups.setdefault(result.number, []).append(result)
    errors = []
    for group in groups.values():
        if len(group) < 2:
            continue
        owner, *others = sorted(group, key=_number_age(group, checkout))
        for result in sorted(others, key=lambda r: r.path):
            line, col = result.number_at
            message = (
                f"{result.number} is already the number of {owner.path}:{owner.number_at[0]}; "
                "numbers must be unique"
            )
            errors.append(ConfigError(str(result.path), line, col, "number", message))
    return errors


def _number_age(group: list[FileResult], checkout: Checkout):
    """Sort key: oldest number line first by git history, when git knows every one."""
    written = {id(r): checkout.written_at(r.path, r.number_at[0]) for r in group}
    by_history = all(when is not None for when in written.values())
    return lambda r: (written[id(r)] if by_history else 0, bool(r.errors), r.path)


def _dotted(loc: tuple) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(root)"
