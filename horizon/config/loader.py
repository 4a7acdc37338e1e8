"""Load every file in `clients/` into a Fleet, collecting every error at once."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from horizon.config.client import CLIENT_ID_RE, Client, ClientSpec
from horizon.config.errors import ConfigError
from horizon.config.fleet import Fleet
from horizon.config.messages import describe_validation_error
from horizon.config.yaml_source import Document, YamlSyntaxError, parse

CLIENT_SUFFIXES = (".yaml", ".yml")


@dataclass
class LoadResult:
    """The valid clients as a Fleet, and every error found in the directory."""

    fleet: Fleet
    errors: list[ConfigError] = field(default_factory=list)
    files: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class _Loaded:
    client: Client
    number_at: tuple[int, int]  # (line, col) of `number`, for cross-file errors


def load_fleet(clients_dir: str | Path) -> LoadResult:
    """Validate every client file under `clients_dir`; valid clients form the Fleet."""
    directory = Path(clients_dir)
    if not directory.is_dir():
        error = ConfigError(str(directory), 1, 1, "(directory)", "clients directory not found")
        return LoadResult(Fleet(), [error])
    repo_root = directory.resolve().parent  # resolved once: knowledge paths are checked against it
    errors: list[ConfigError] = []
    loaded: list[_Loaded] = []
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
        result = load_client(path, repo_root)
        if isinstance(result, _Loaded):
            loaded.append(result)
        else:
            errors.extend(result)
    errors.extend(_duplicate_numbers(loaded))
    invalid_files = {error.file for error in errors}
    clients = [item.client for item in loaded if str(item.client.path) not in invalid_files]
    return LoadResult(Fleet(tuple(clients)), sorted(errors), files)


def _check_name(path: Path, seen_ids: dict[str, Path]) -> ConfigError | None:
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


def load_client(path: Path, repo_root: Path) -> _Loaded | list[ConfigError]:
    """Parse and validate one client file."""
    name = str(path)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        return [ConfigError(name, line, col, "(file)", f"not UTF-8: byte 0x{raw[exc.start]:02x}")]
    try:
        document = parse(text)
    except YamlSyntaxError as exc:
        return [ConfigError(name, exc.line, exc.col, "(yaml)", exc.message)]
    if document.data is None:
        return [
            ConfigError(
                name,
                1,
                1,
                "(file)",
                "file is empty; a client needs name, number and assistant.instructions",
            )
        ]
    if not isinstance(document.data, dict):
        kind = type(document.data).__name__
        line, col = document.position(())
        return [
            ConfigError(
                name,
                line,
                col,
                "(root)",
                f"a client file must be a mapping of fields, not a {kind}",
            )
        ]
    errors = [_duplicate_key_error(name, document, *pair) for pair in document.duplicate_keys]
    context = {"base_dir": path.parent, "repo_root": repo_root}
    try:
        spec = ClientSpec.model_validate(document.data, context=context)
    except ValidationError as exc:
        errors.extend(_located(name, document, error) for error in exc.errors())
        return errors
    if errors:
        return errors
    return _Loaded(Client.from_spec(spec, path.stem, path), document.position(("number",)))


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


def _duplicate_numbers(loaded: list[_Loaded]) -> list[ConfigError]:
    first: dict[str, _Loaded] = {}
    errors = []
    for item in loaded:
        earlier = first.setdefault(item.client.number, item)
        if earlier is item:
            continue
        line, col = item.number_at
        first_line, _ = earlier.number_at
        errors.append(
            ConfigError(
                str(item.client.path),
                line,
                col,
                "number",
                f"{item.client.number} is already the number of "
                f"{earlier.client.path}:{first_line}; numbers must be unique",
            )
        )
    return errors


def _dotted(loc: tuple) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(root)"
