"""Reconcile: Twilio and OpenAI planned against the committed Fleet, then made to match it.

    from horizon.config import load_fleet
    from horizon.providers import account_identity, build_providers
    from horizon.reconcile import reconcile

    result = reconcile(load_fleet("clients").fleet, build_providers(settings),
                       account=account_identity(settings))

The engine (plan, apply, renderers) speaks only its own types (`resources.py`) and the
provider protocol (`provider.py`); the providers themselves live in `horizon.providers`.
"""

from horizon.reconcile.run import Reconciliation, reconcile

__all__ = ["Reconciliation", "reconcile"]
