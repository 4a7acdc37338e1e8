"""Extract the subset of twilio/twilio-oai that Horizon uses.

Usage (see tests/contracts/README.md):
    git clone --bare https://github.com/twilio/twilio-oai /tmp/twilio-oai.git
    python tests/contracts/extract_twilio.py --git-dir /tmp/twilio-oai.git \
        [--rev REV] [--out DIR] --extracted YYYY-MM-DD

Reads spec/json/twilio_messaging_v2.json and spec/json/twilio_api_v2010.json
from a (bare) git snapshot of twilio/twilio-oai at REV (default HEAD), keeps
only the listed paths/methods, copies every transitively referenced
`#/components/...` entry, and writes OpenAPI-3 JSON subsets with a top-level
"x-horizon-source" provenance object.  Re-running against the same commit
produces byte-identical output.
"""

import argparse
import copy
import json
import os
import subprocess
import sys

REPO = "twilio/twilio-oai"

# spec path in repo -> (output filename, {api path: [methods]}): what Horizon calls, and
# what else the sandbox serves (tests read state back through it).
SELECTION = {
    "spec/json/twilio_messaging_v2.json": (
        "messaging_v2.json",
        {
            "/v2/Channels/Senders": ["get", "post"],
            "/v2/Channels/Senders/{Sid}": ["get", "post", "delete"],
            "/v2/Indicators/Typing.json": ["post"],  # optional: kept if present
        },
    ),
    "spec/json/twilio_api_v2010.json": (
        "api_v2010.json",
        {
            "/2010-04-01/Accounts/{AccountSid}/Messages.json": ["get", "post"],
            "/2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json": ["get"],
            "/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json": ["get"],
            "/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/{Sid}.json": [
                "get",
                "post",
                "delete",
            ],
        },
    ),
}
OPTIONAL_PATHS = {"/v2/Indicators/Typing.json"}
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def git(git_dir, *args):
    return subprocess.run(
        ["git", "--git-dir", git_dir, *args], check=True, capture_output=True, text=True
    ).stdout


def iter_refs(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                yield v
            else:
                yield from iter_refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from iter_refs(v)


def resolve_pointer(doc, ref):
    assert ref.startswith("#/"), ref
    node = doc
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[part]
    return node


def extract(full, selection):
    out = {}
    for key in ("openapi", "info", "servers", "security"):
        if key in full:
            out[key] = copy.deepcopy(full[key])

    paths = {}
    missing = []
    for path, methods in selection.items():
        if path not in full["paths"]:
            if path in OPTIONAL_PATHS:
                missing.append(path)
                continue
            raise SystemExit(f"path not in spec: {path}")
        src = full["paths"][path]
        item = {k: copy.deepcopy(v) for k, v in src.items() if k not in HTTP_METHODS}
        for m in methods:
            if m not in src:
                raise SystemExit(f"method {m} not in spec for {path}")
            item[m] = copy.deepcopy(src[m])
        paths[path] = item
    out["paths"] = paths

    # tags actually used by the kept operations, in original order
    used_tags = {
        t
        for item in paths.values()
        for m, op in item.items()
        if m in HTTP_METHODS
        for t in op.get("tags", [])
    }
    if "tags" in full:
        out["tags"] = [t for t in full["tags"] if t.get("name") in used_tags]

    # transitive closure over #/components/* refs
    comps = {}
    if "securitySchemes" in full.get("components", {}):
        comps["securitySchemes"] = copy.deepcopy(full["components"]["securitySchemes"])
    todo = list(iter_refs(out["paths"]))
    seen = set()
    while todo:
        ref = todo.pop()
        if ref in seen:
            continue
        seen.add(ref)
        if not ref.startswith("#/components/"):
            raise SystemExit(f"unsupported $ref: {ref}")
        _, _, ctype, name = ref.split("/", 3)
        target = resolve_pointer(full, ref)
        comps.setdefault(ctype, {})[name] = copy.deepcopy(target)
        todo.extend(iter_refs(target))
    # keep component order as in the source
    ordered = {}
    for ctype, entries in full.get("components", {}).items():
        if ctype in comps:
            ordered[ctype] = {k: comps[ctype][k] for k in entries if k in comps[ctype]}
    out["components"] = ordered

    # sanity: every ref resolves inside the subset
    for ref in iter_refs(out):
        resolve_pointer(out, ref)
    return out, missing


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--git-dir", required=True, help="a clone of twilio/twilio-oai")
    ap.add_argument("--rev", default="HEAD")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "twilio"))
    ap.add_argument("--extracted", required=True, help="today's date, YYYY-MM-DD")
    args = ap.parse_args()

    commit = git(args.git_dir, "rev-parse", args.rev + "^{commit}").strip()
    commit_date = git(args.git_dir, "show", "-s", "--format=%cI", commit).strip()
    os.makedirs(args.out, exist_ok=True)

    for spec_path, (out_name, selection) in SELECTION.items():
        full = json.loads(git(args.git_dir, "show", f"{commit}:{spec_path}"))
        subset, missing = extract(full, selection)
        source = {
            "repository": REPO,
            "path": spec_path,
            "commit": commit,
            "commit_date": commit_date,
            "extracted": args.extracted,
        }
        if missing:
            source["missing_paths"] = missing
        result = {"x-horizon-source": source}
        result.update(subset)
        dest = os.path.join(args.out, out_name)
        with open(dest, "w", encoding="utf-8") as fh:
            json.dump(result, fh, indent=2, ensure_ascii=False)
            fh.write("\n")
        n_schemas = len(subset["components"].get("schemas", {}))
        print(
            f"{dest}: {len(subset['paths'])} paths, {n_schemas} schemas"
            + (f", missing {missing}" if missing else "")
        )


if __name__ == "__main__":
    sys.exit(main())
