"""The plan as a pure function of desired and observed resources: ownership decides everything."""

from __future__ import annotations

from horizon.reconcile.plan import diff
from horizon.reconcile.resources import Action, PruneRule, Resource

SENDER = "whatsapp_sender"


def sender(client: str | None, number: str = "+34910000101", about: str = "Pizza", **extra):
    fields = {
        "friendly_name": f"horizon:{client}" if client else "Acme",
        "profile": {"about": about},
    }
    return Resource(SENDER, f"whatsapp:{number}", client, fields, **extra)


def test_missing_resource_is_created_with_every_field():
    (change,) = diff([sender("roma")], []).changes

    assert change.action is Action.CREATE
    assert [f.path for f in change.fields] == [("friendly_name",), ("profile", "about")]


def test_resource_in_sync_is_a_noop_and_the_plan_is_in_sync():
    plan = diff([sender("roma")], [sender("roma", remote_id="XE1")])

    assert [c.action for c in plan.changes] == [Action.NOOP]
    assert plan.in_sync


def test_changed_field_is_an_update_of_that_field_only():
    (change,) = diff([sender("roma", about="Pizza al horno")], [sender("roma")]).changes

    assert change.action is Action.UPDATE
    assert [(f.path, f.before, f.after) for f in change.fields] == [
        (("profile", "about"), "Pizza", "Pizza al horno")
    ]


def test_marked_resource_without_client_is_orphaned_or_pruned():
    orphan = diff([], [sender("gone")]).changes[0]
    pruned = diff([], [sender("gone")], prune=True).changes[0]

    assert (
        orphan.action is Action.ORPHAN and orphan.hint == "orphaned (would be deleted with --prune)"
    )
    assert orphan.reason == "no client file for 'gone'"
    assert pruned.action is Action.DELETE


def let_go(resource: Resource) -> Resource:
    return Resource(resource.kind, resource.key, None, {"friendly_name": resource.key})


KEEP = {SENDER: PruneRule(let_go, "kept", "costly")}


def test_prune_detaches_a_kind_it_can_keep_unless_deleting_it_is_asked():
    orphan = diff([], [sender("gone")], prune_rules=KEEP).changes[0]
    detached = diff([], [sender("gone")], prune=True, prune_rules=KEEP).changes[0]
    plan = diff([], [sender("gone")], prune=True, prune_rules=KEEP, deleting=[SENDER])

    assert orphan.hint == "orphaned (would be detached with --prune)"
    assert (detached.action, detached.hint, detached.after.owner) == (Action.DETACH, "kept", None)
    assert [(f.path, f.before, f.after) for f in detached.fields] == [
        (("friendly_name",), "horizon:gone", "whatsapp:+34910000101"),
        (("profile", "about"), "Pizza", None),
    ]
    assert [(c.action, c.hint) for c in plan.changes] == [(Action.DELETE, "costly")]
    assert plan.deleting == (SENDER,)


def test_a_problem_at_the_vendor_blocks_the_plan_without_stopping_its_updates():
    stuck = sender("roma", problem="WhatsApp declined the display name")
    in_sync = diff([sender("roma")], [stuck])
    updated = diff([sender("roma", about="Pizza al horno")], [stuck])

    assert [(c.action, c.needs_operator) for c in in_sync.changes] == [(Action.NOOP, True)]
    assert in_sync.problems == in_sync.changes and not in_sync.in_sync
    assert [c.action for c in updated.to_apply] == [Action.UPDATE]
    assert updated.problems == updated.to_apply


def test_resource_a_remaining_client_no_longer_asks_for_is_orphaned_with_that_reason():
    (change,) = diff([], [sender("roma")], known_clients={"roma"}).changes

    assert change.reason == "client 'roma' no longer asks for it"


def test_unmarked_resources_are_never_planned_even_with_prune():
    assert diff([], [sender(None)], prune=True).changes == ()


def test_unmarked_resource_a_client_wants_is_a_conflict_with_the_adopt_hint():
    (change,) = diff([sender("roma")], [sender(None, label="Acme")], prune=True).changes

    assert change.action is Action.CONFLICT
    assert change.reason == "exists but is not managed by Horizon (friendly_name 'Acme')"
    assert change.hint == "run `horizon adopt roma` to let Horizon manage it"


def test_resource_marked_for_another_client_is_a_conflict():
    (change,) = diff([sender("roma")], [sender("old-roma")]).changes

    assert change.action is Action.CONFLICT
    assert "managed by Horizon for client 'old-roma'" in change.reason


def test_kind_horizon_cannot_create_is_missing_not_created():
    number = Resource("sms_number", "+34910000102", "sol", {"sms_url": "https://x"})

    (change,) = diff([number], [], uncreatable={"sms_number": "buy it"}).changes

    assert change.action is Action.MISSING and change.hint == "buy it"
    assert diff([number], [], uncreatable={"sms_number": "buy it"}).problems == (change,)


def test_scope_limits_desired_and_orphans_to_the_named_clients():
    desired = [sender("roma"), sender("sol", number="+34910000102")]
    observed = [sender("gone", number="+34910000103")]

    plan = diff(desired, observed, scope={"sol"})

    assert [(c.client, c.action) for c in plan.changes] == [("sol", Action.CREATE)]


def test_a_second_marked_copy_is_reported_as_a_duplicate():
    observed = [sender("roma", remote_id="XE1"), sender("roma", remote_id="XE2")]

    plan = diff([sender("roma")], observed, prune=True)

    assert sorted(c.action.value for c in plan.changes) == ["delete", "no-op"]
    assert plan.changes[0].before.remote_id != plan.changes[1].before.remote_id
