"""Extract the subset of OpenAI's public OpenAPI spec that Horizon uses.

Re-runnable (see tests/contracts/README.md):
    git clone --bare https://github.com/openai/openai-openapi /tmp/openai-openapi.git
    python tests/contracts/extract_openai.py --git-dir /tmp/openai-openapi.git \
        [--ref main] [--path openapi.yaml] [--out tests/contracts/openai/openapi.json] \
        --extracted YYYY-MM-DD

The spec is read straight out of git (`git show REF:PATH`), so nothing needs to be
checked out. The same commit gives byte-identical output.

What is kept:
  * the listed (method, path) operations only (other methods on the same path
    item are dropped; path-level keys such as `parameters` are kept);
  * every component (`schemas`, `responses`, `parameters`, ...) reachable
    through `$ref` from those operations, transitively;
  * `components.securitySchemes` referenced by top-level/operation `security`;
  * `openapi`, `info` (incl. `info.version`), `servers`, `security`, and the
    `tags` actually used by the kept operations.
What is dropped: every other path, `webhooks`, top-level `x-oaiMeta`.
Per-operation `x-oaiMeta` (request/response examples) is kept.
Only deviation from upstream text: `$recursiveAnchor`/`$recursiveRef` (draft
2019-09, used by CompoundFilter) are rewritten to a plain self-`$ref`; each such
rewrite is listed in the output's top-level `x-horizon-normalizations`.

Only the Python stdlib + PyYAML are needed.  YAML is loaded with a SafeLoader
variant that does NOT turn `2024-10-01` into datetime.date, so the output is
the same as upstream's own openapi.json.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

try:  # libyaml is ~20x faster on a 3 MB file
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _BaseLoader


class _NoDateLoader(_BaseLoader):
    pass


# drop the implicit timestamp resolver so dates stay strings (JSON-compatible)
_NoDateLoader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for ch, resolvers in _BaseLoader.yaml_implicit_resolvers.copy().items()
}

REPOSITORY = "openai/openai-openapi"

# What Horizon calls, and what else the sandbox serves (tests read state back through it).
OPERATIONS: list[tuple[str, str]] = [
    ("post", "/responses"),
    ("get", "/responses/{response_id}"),
    ("delete", "/responses/{response_id}"),
    ("post", "/conversations"),
    ("get", "/conversations/{conversation_id}"),
    ("post", "/conversations/{conversation_id}"),
    ("delete", "/conversations/{conversation_id}"),
    ("get", "/conversations/{conversation_id}/items"),
    ("post", "/conversations/{conversation_id}/items"),
    ("get", "/conversations/{conversation_id}/items/{item_id}"),
    ("delete", "/conversations/{conversation_id}/items/{item_id}"),
    ("get", "/files"),
    ("post", "/files"),
    ("get", "/files/{file_id}"),
    ("delete", "/files/{file_id}"),
    ("get", "/files/{file_id}/content"),
    ("get", "/vector_stores"),
    ("post", "/vector_stores"),
    ("get", "/vector_stores/{vector_store_id}"),
    ("post", "/vector_stores/{vector_store_id}"),
    ("delete", "/vector_stores/{vector_store_id}"),
    ("get", "/vector_stores/{vector_store_id}/files"),
    ("post", "/vector_stores/{vector_store_id}/files"),
    ("get", "/vector_stores/{vector_store_id}/files/{file_id}"),
    ("post", "/vector_stores/{vector_store_id}/files/{file_id}"),
    ("delete", "/vector_stores/{vector_store_id}/files/{file_id}"),
    ("get", "/models/{model}"),
    ("get", "/models"),
]

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
_REF_RX = re.compile(r"^#/components/([^/]+)/([^/]+)(?:/.*)?$")


def git(git_dir: str, *args: str) -> str:
    return subprocess.run(
        ["git", "--git-dir", git_dir, *args], check=True, capture_output=True, text=True
    ).stdout


def iter_refs(node):
    """Yield every `$ref` string (and discriminator.mapping target) under node."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                yield v
            elif k == "discriminator" and isinstance(v, dict):
                for target in (v.get("mapping") or {}).values():
                    if isinstance(target, str) and target.startswith("#/"):
                        yield target
            yield from iter_refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from iter_refs(v)


def unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def extract(spec: dict) -> dict:
    paths_out: dict = {}
    missing = []
    for method, path in OPERATIONS:
        item = spec["paths"].get(path)
        if not item or method not in item:
            missing.append(f"{method.upper()} {path}")
            continue
        out_item = paths_out.setdefault(
            path, {k: v for k, v in item.items() if k not in HTTP_METHODS}
        )
        out_item[method] = item[method]
    if missing:
        raise SystemExit("operations missing from spec: " + ", ".join(missing))

    # transitive closure over component refs
    needed: dict[str, set[str]] = {}
    queue = list(iter_refs(paths_out))
    seen_refs: set[str] = set()
    while queue:
        ref = queue.pop()
        if ref in seen_refs:
            continue
        seen_refs.add(ref)
        m = _REF_RX.match(ref)
        if not m:
            raise SystemExit(f"unsupported $ref form: {ref}")
        section, name = m.group(1), unescape(m.group(2))
        try:
            target = spec["components"][section][name]
        except KeyError:
            raise SystemExit(f"dangling $ref in upstream spec: {ref}") from None
        if name in needed.setdefault(section, set()):
            continue
        needed[section].add(name)
        queue.extend(iter_refs(target))

    components: dict = {}
    # keep upstream ordering for stable diffs
    for section, entries in spec["components"].items():
        if section == "securitySchemes":
            continue
        keep = needed.get(section)
        if keep:
            components[section] = {k: v for k, v in entries.items() if k in keep}

    # security schemes referenced by top-level or operation-level security
    sec_names: set[str] = set()
    for req in spec.get("security", []) or []:
        sec_names.update(req)
    for item in paths_out.values():
        for method, op in item.items():
            if method in HTTP_METHODS:
                for req in op.get("security", []) or []:
                    sec_names.update(req)
    schemes = spec["components"].get("securitySchemes", {})
    if sec_names:
        components["securitySchemes"] = {k: schemes[k] for k in schemes if k in sec_names}

    used_tags = {
        t
        for item in paths_out.values()
        for method, op in item.items()
        if method in HTTP_METHODS
        for t in op.get("tags", [])
    }

    out: dict = {"openapi": spec["openapi"], "info": spec["info"]}
    for key in ("jsonSchemaDialect", "servers", "security"):
        if key in spec:
            out[key] = spec[key]
    if "tags" in spec:
        out["tags"] = [t for t in spec["tags"] if t.get("name") in used_tags]
    out["paths"] = paths_out
    out["components"] = components
    return out


def normalize_recursive_refs(doc: dict) -> list[str]:
    """Rewrite draft-2019-09 `$recursiveAnchor`/`$recursiveRef` (used upstream by
    CompoundFilter) into plain OAS-3.1 / JSON-Schema-2020-12 `$ref`s.

    Upstream writes `$recursiveAnchor: true` on the component and
    `$recursiveRef: "#"` for "a nested CompoundFilter".  Those keywords do not
    exist in the 2020-12 dialect OAS 3.1 uses (validators ignore them, and
    openapi-spec-validator rejects the boolean anchor), and inside a bundled
    document "#" would point at the document root.  The intended meaning is a
    self-reference, so we emit `$ref: "#/components/schemas/<Name>"`.
    Returns a list of human-readable notes for x-horizon-normalizations.
    """
    notes: list[str] = []

    def rewrite(node, self_ref: str):
        if isinstance(node, dict):
            if node.get("$recursiveRef") == "#":
                del node["$recursiveRef"]
                node["$ref"] = self_ref
            for v in node.values():
                rewrite(v, self_ref)
        elif isinstance(node, list):
            for v in node:
                rewrite(v, self_ref)

    for name, schema in doc.get("components", {}).get("schemas", {}).items():
        if isinstance(schema, dict) and schema.pop("$recursiveAnchor", None) is not None:
            rewrite(schema, f"#/components/schemas/{name}")
            notes.append(
                f"components.schemas.{name}: removed `$recursiveAnchor: true` and replaced "
                f'`$recursiveRef: "#"` with `$ref: "#/components/schemas/{name}"`'
            )
    leftovers = [k for k in ("$recursiveRef", "$recursiveAnchor") if f'"{k}"' in json.dumps(doc)]
    if leftovers:
        raise SystemExit(f"un-normalized draft-2019-09 keywords remain: {leftovers}")
    return notes


def check_closed(doc: dict) -> None:
    """Every $ref in the output must resolve inside the output."""
    for ref in set(iter_refs(doc)):
        node = doc
        for tok in ref[2:].split("/"):
            node = node[unescape(tok)]  # KeyError => dangling


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--git-dir", required=True, help="a clone of openai/openai-openapi")
    ap.add_argument("--ref", default="main")
    ap.add_argument("--path", default="openapi.yaml")
    ap.add_argument("--out", default=str(Path(__file__).parent / "openai" / "openapi.json"))
    ap.add_argument("--extracted", required=True, help="today's date, YYYY-MM-DD")
    args = ap.parse_args(argv)

    commit = git(args.git_dir, "rev-parse", f"{args.ref}^{{commit}}").strip()
    commit_date = git(args.git_dir, "log", "-1", "--format=%cI", commit).strip()
    text = git(args.git_dir, "show", f"{commit}:{args.path}")
    spec = yaml.load(text, Loader=_NoDateLoader)

    doc = extract(spec)
    notes = normalize_recursive_refs(doc)
    check_closed(doc)
    result = {
        "x-horizon-source": {
            "repository": REPOSITORY,
            "path": args.path,
            "ref": args.ref,
            "commit": commit,
            "commit_date": commit_date,
            "extracted": args.extracted,
        },
        **({"x-horizon-normalizations": notes} if notes else {}),
        **doc,
    }
    with open(args.out, "w", encoding="utf-8") as fh:
        json.dump(result, fh, indent=2, ensure_ascii=False)
        fh.write("\n")
    n_ops = sum(1 for i in doc["paths"].values() for m in i if m in HTTP_METHODS)
    sizes = {k: len(v) for k, v in doc["components"].items()}
    print(
        f"wrote {args.out}: {n_ops} operations, components={sizes}, "
        f"commit={commit[:12]} ({commit_date}), info.version={doc['info'].get('version')}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
