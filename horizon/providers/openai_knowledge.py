"""OpenAI knowledge: one vector store per client with knowledge files, its files tracked by sha256.

The store carries metadata `managed_by=horizon`, `client=<id>` (the ownership mark) and
`manifest_sha256`, a digest of every `(path, sha256)` pair Horizon attached. Each attached
file carries attributes `{path, sha256}`. A no-change plan reads only the paginated store
listing: a store whose name, manifest and file counts match is in sync without listing its
files. Only a store that differs has its files listed, and only added, changed or removed
files are uploaded or detached.

Uploads carry Horizon's name, `<client>--<path>`. An upload whose attach fails is deleted
again; one no store holds (that delete failed too, or a run was cut short) is observed as
`knowledge "upload:<name> (<file id>)"`, orphaned and deleted with --prune. Only uploads named for
a client Horizon knows (a client file's store or a marked store) are ever considered.

A file OpenAI failed to index is kept, and shown as a notice with OpenAI's `last_error`:
uploading the same content again would fail again, so it is replaced only when its sha256
changes. Apply waits for OpenAI to index what it attached (`openai_indexing.py`). Creates
are not idempotent: after an answer that may have been lost, each one first looks for what
its earlier attempt made (`vendor_call(..., recover=...)`).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from horizon.config.client import Client
from horizon.config.fleet import Fleet
from horizon.providers.openai_indexing import (
    DEFAULT_INDEX_WAIT,
    Indexing,
    IndexWait,
    Progress,
    wait_for_indexing,
)
from horizon.reconcile.provider import Applied, ByAction
from horizon.reconcile.resources import Change, Resource
from horizon.vendors.errors import VendorError, vendor_errors
from horizon.vendors.retry import DEFAULT_POLICY, RetryPolicy, openai_records, vendor_call
from horizon.vendors.vector_stores import MANAGED_BY, marked_stores, store_name

T = TypeVar("T")

KIND = "knowledge"
PAGE_LIMIT = 100  # the most OpenAI serves per page
# Statuses of a file that stays: indexed, being indexed, or failed on this very content.
KEPT_STATUSES = ("completed", "in_progress", "failed")
# An upload found after a lost answer must be recent: a file of the same name and size from
# before this attempt is an older upload, not ours. The margin absorbs clock skew between
# this machine and OpenAI (`created_at` is OpenAI's clock, in whole seconds); only a run
# that failed in that minute, on a file edited to the very same size, could fool it.
CLOCK_SLACK = 60.0


UPLOAD_KEY_PREFIX = "upload:"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def manifest(files: Mapping[str, str]) -> str:
    """One digest of a store's whole content: sha256 over `sha256  path` lines, sorted."""
    lines = "".join(f"{files[path]}  {path}\n" for path in sorted(files))
    return hashlib.sha256(lines.encode()).hexdigest()


def store_metadata(client_id: str, files: Mapping[str, str]) -> dict[str, str]:
    """The store's ownership mark and the manifest of the files it holds."""
    return {"managed_by": MANAGED_BY, "client": client_id, "manifest_sha256": manifest(files)}


def desired_knowledge(client: Client) -> Resource:
    """The store `client` asks for: its knowledge files by path, with their content's sha256.

    `detail["sources"]` tells the plan which file on disk each entry is, and its size, so a
    reviewer sees what is uploaded, not only a digest.
    """
    paths = dict(zip(client.assistant.knowledge, client.knowledge_paths(), strict=True))
    files = {name: sha256_file(path) for name, path in paths.items()}
    fields = {"name": store_name(client.id), "files": files}
    sources = {
        ("files", name): {"path": str(path), "bytes": path.stat().st_size}
        for name, path in paths.items()
    }
    detail = {"paths": {name: str(path) for name, path in paths.items()}, "sources": sources}
    return Resource(KIND, client.id, client.id, fields, detail=detail)


def upload_name(client_id: str, path: str) -> str:
    """The file name an upload carries at OpenAI (and that its citations show)."""
    return f"{client_id}--{path.replace('/', '--')}"


def upload_owner(filename: str, clients: set[str]) -> str | None:
    """The client an upload is named for (`<client>--<path>`), among `clients`; the most
    specific when ids overlap (`a` and `a--b`)."""
    owners = [c for c in clients if filename.startswith(f"{c}--") and len(filename) > len(c) + 2]
    return max(owners, key=len, default=None)


def _upload(client_id: str, upload: Any) -> Resource:
    """An upload no store holds, as the plan shows it (deleted with --prune)."""
    fields = {"upload": upload.filename, "bytes": upload.bytes}
    key = f"{UPLOAD_KEY_PREFIX}{upload.filename} ({upload.id})"  # what a reviewer recognises
    return Resource(KIND, key, client_id, fields, upload.id, detail={"upload": True})


def _in_sync(store: Any, wanted: Resource) -> bool:
    """The listing alone proves the store holds exactly the wanted files, none failed.

    A store with failed files is listed, to show why they failed.
    """
    files = wanted.fields["files"]
    counts = store.file_counts
    live = counts.completed + counts.in_progress
    return (
        store.name == wanted.fields["name"]
        and (store.metadata or {}).get("manifest_sha256") == manifest(files)
        and live == counts.total == len(files)
    )


@dataclass
class Listed:
    """A store's files as listed: sha256 and file id by path, ids to clean up, failures."""

    files: dict[str, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)
    broken: list[str] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)


def _unless_gone(function: Callable[[], T]) -> T | None:
    """`function`'s result, or None when the vendor answers 404."""
    try:
        with vendor_errors():
            return function()
    except VendorError as error:
        if error.status == 404:
            return None
        raise


class OpenAIKnowledge(ByAction):
    """The `knowledge` provider."""

    kind = KIND
    creatable = True
    missing_hint = ""

    def __init__(
        self,
        openai: Any,
        policy: RetryPolicy = DEFAULT_POLICY,
        *,
        progress: Progress | None = None,
        index_wait: IndexWait = DEFAULT_INDEX_WAIT,
    ):
        self.openai, self.policy = openai, policy
        self.progress, self.index_wait = progress, index_wait

    def desired(self, fleet: Fleet) -> list[Resource]:
        return [desired_knowledge(client) for client in fleet if client.assistant.knowledge]

    def observe(self, desired: Sequence[Resource]) -> list[Resource]:
        wanted = {resource.key: resource for resource in desired}
        stores = list(marked_stores(self.openai, self.policy))
        observed = [self._observed(store, wanted.get(store.metadata["client"])) for store in stores]
        clients = set(wanted) | {store.metadata["client"] for store in stores}
        return observed + self._unused_uploads(stores, clients)

    def _unused_uploads(self, stores: list[Any], clients: set[str]) -> list[Resource]:
        """Uploads named for one of `clients` that none of its stores holds.

        One listing of the account's files; a client's stores are listed only when they
        hold fewer files than it has uploads (they hold only Horizon's uploads, so equal
        counts prove every upload is in use).
        """
        listing = lambda: self.openai.files.list(purpose="assistants", limit=10_000)  # noqa: E731
        named: dict[str, list[Any]] = {}
        for upload in openai_records(listing, self.policy):
            owner = upload_owner(upload.filename or "", clients)
            if owner is not None:
                named.setdefault(owner, []).append(upload)
        unused = []
        for client_id, uploads in sorted(named.items()):
            own = [store for store in stores if store.metadata["client"] == client_id]
            if sum(store.file_counts.total for store in own) == len(uploads):
                continue
            held = {attached.id for store in own for attached in self._attached(store.id)}
            unused += [_upload(client_id, upload) for upload in uploads if upload.id not in held]
        return unused

    def _observed(self, store: Any, target: Resource | None) -> Resource:
        client_id, counts = store.metadata["client"], store.file_counts
        fields: dict[str, Any] = {"name": store.name}
        detail: dict[str, Any] = {"file_count": counts.total}
        failures: dict[str, str] = {}
        if target is not None and _in_sync(store, target):
            fields["files"] = dict(target.fields["files"])
        elif target is not None:
            listed = self._files(store.id)
            fields["files"], failures = listed.files, listed.failures
            detail["file_ids"], detail["broken"] = listed.ids, listed.broken
        notice = Indexing(counts.in_progress, counts.total, failures).notice()
        return Resource(KIND, client_id, client_id, fields, store.id, notice=notice, detail=detail)

    def _files(self, store_id: str) -> Listed:
        """A store's files by path; a cancelled, unlabelled or duplicated file is to clean up."""
        listed = Listed()
        for attached in self._attached(store_id):
            attributes = attached.attributes or {}
            path, sha = attributes.get("path"), attributes.get("sha256")
            if attached.status not in KEPT_STATUSES or not path or path in listed.files:
                listed.broken.append(attached.id)
                continue
            listed.files[str(path)], listed.ids[str(path)] = str(sha or ""), attached.id
            if attached.status == "failed":
                error = attached.last_error
                reason = f"{error.code}: {error.message}" if error else "no reason given"
                listed.failures[str(path)] = reason
        return listed

    def _attached(self, store_id: str) -> Iterator[Any]:
        files = self.openai.vector_stores.files
        listing = lambda: files.list(store_id, limit=PAGE_LIMIT)  # noqa: E731
        return openai_records(listing, self.policy)

    def create(self, wanted: Resource) -> Applied:
        # The manifest is written up front: until every file is attached the store's file
        # count falls short, so the next plan still sees the difference.
        files, name = wanted.fields["files"], wanted.fields["name"]
        metadata = store_metadata(wanted.key, files)
        create = self.openai.vector_stores.create
        store = vendor_call(
            lambda: create(name=name, metadata=metadata),
            self.policy,
            recover=lambda: self._find_store(wanted.key),
        )
        for path in sorted(files):
            self._add_file(store.id, wanted, path)
        return self._indexed(store.id, wanted.key)

    def update(self, change: Change) -> Applied:
        wanted, live = change.after, change.before
        store_id = live.remote_id
        before, after = live.fields.get("files", {}), wanted.fields["files"]
        added = [path for path in sorted(after) if before.get(path) != after[path]]
        for path in added:
            self._add_file(store_id, wanted, path)  # new content first, then drop the old
        ids = live.detail.get("file_ids", {})
        stale = [ids[path] for path in sorted(before) if before[path] != after.get(path)]
        for file_id in [*stale, *live.detail.get("broken", [])]:
            self._remove_file(store_id, file_id)
        # The manifest last: a failure before this point leaves a difference the next plan sees.
        metadata = store_metadata(wanted.key, after)
        stores = self.openai.vector_stores
        name = wanted.fields["name"]
        vendor_call(lambda: stores.update(store_id, name=name, metadata=metadata), self.policy)
        if added:
            return self._indexed(store_id, wanted.key)
        return Applied(remote_id=store_id, notice=live.notice)

    def _indexed(self, store_id: str, client_id: str) -> Applied:
        """Wait for OpenAI to index the store's files; the outcome says what it made of them."""
        indexing = wait_for_indexing(
            self.openai, store_id, client_id, self.policy, self.index_wait, self.progress
        )
        return Applied(remote_id=store_id, status=indexing.status, notice=indexing.notice())

    def delete(self, change: Change) -> Applied:
        if change.before.detail.get("upload"):
            file_id = change.before.remote_id
            self._ignoring_not_found(lambda: self.openai.files.delete(file_id))
            return Applied(remote_id=file_id)
        store_id = change.before.remote_id
        file_ids = [attached.id for attached in self._attached(store_id)]
        stores = self.openai.vector_stores
        self._ignoring_not_found(lambda: stores.delete(store_id))
        for file_id in file_ids:
            self._ignoring_not_found(lambda file_id=file_id: self.openai.files.delete(file_id))
        return Applied(remote_id=store_id)

    def _add_file(self, store_id: str, wanted: Resource, path: str) -> None:
        content = Path(wanted.detail["paths"][path]).read_bytes()
        name, since = upload_name(wanted.key, path), time.time() - CLOCK_SLACK
        files = self.openai.files
        uploaded = vendor_call(
            lambda: files.create(file=(name, content), purpose="assistants"),
            self.policy,
            recover=lambda: self._find_upload(name, len(content), since),
        )
        attributes = {"path": path, "sha256": hashlib.sha256(content).hexdigest()}
        attach = self.openai.vector_stores.files.create
        try:
            vendor_call(
                lambda: attach(store_id, file_id=uploaded.id, attributes=attributes),
                self.policy,
                recover=lambda: self._find_attached(store_id, uploaded.id, attributes),
            )
        except VendorError:
            self._discard_upload(store_id, uploaded.id, attributes)
            raise

    def _discard_upload(self, store_id: str, file_id: str, attributes: dict) -> None:
        """Delete an upload whose attach failed, unless a look finds it attached after all.

        When the look or the delete fails too, the upload stays unused: --prune removes it.
        """
        try:
            if self._find_attached(store_id, file_id, attributes) is None:
                self._ignoring_not_found(lambda: self.openai.files.delete(file_id))
        except VendorError:
            pass

    def _find_store(self, client_id: str) -> Any | None:
        """The marked store of `client_id` an earlier attempt made, if it did.

        A store is created only when the plan found none for the client, and the apply lock
        keeps other reconciles out: a marked store of the client now is that attempt's.
        """
        stores = marked_stores(self.openai, self.policy)
        return next((store for store in stores if store.metadata["client"] == client_id), None)

    def _find_upload(self, name: str, size: int, since: float) -> Any | None:
        """The file an earlier attempt uploaded: same name and size, uploaded since `since`."""
        listing = lambda: self.openai.files.list(purpose="assistants", order="desc")  # noqa: E731
        for uploaded in openai_records(listing, self.policy):
            if uploaded.created_at < since:
                return None  # newest first: the rest are older still
            if uploaded.filename == name and uploaded.bytes == size:
                return uploaded
        return None

    def _find_attached(self, store_id: str, file_id: str, attributes: dict) -> Any | None:
        """The attached file, if an earlier attempt attached it with these attributes."""
        retrieve = self.openai.vector_stores.files.retrieve
        attached = _unless_gone(lambda: retrieve(file_id, vector_store_id=store_id))
        if attached is None or (attached.attributes or {}) != attributes:
            return None
        return attached

    def _remove_file(self, store_id: str, file_id: str) -> None:
        detach = self.openai.vector_stores.files.delete
        self._ignoring_not_found(lambda: detach(file_id, vector_store_id=store_id))
        self._ignoring_not_found(lambda: self.openai.files.delete(file_id))

    def _ignoring_not_found(self, function: Any) -> None:
        """Deleting what is already gone is done, not failed (a re-run after a lost answer)."""
        try:
            vendor_call(function, self.policy)
        except VendorError as error:
            if error.status != 404:
                raise
