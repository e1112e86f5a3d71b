"""Who may read which collection, as the administrator changes it: make a collection, grant and revoke a
group; each change is logged and takes effect at once for every search. The routes
(`web/documents/collection_routes.py`) parse the form, call one of these, and render.
"""

from __future__ import annotations

from ingestion.collection import Collection
from web.accounts.store import User
from web.auth import acting_role
from web.context import WebContext


class CollectionAdmin:
    """One administrator's changes to the collections, over the index's Collections and the audit log."""

    def __init__(self, context: WebContext, admin: User) -> None:
        self.context, self.admin = context, admin
        self.collections = context.services.index.collections

    def list(self) -> list[Collection]:
        """Every collection with the groups that read it and how many documents it holds."""
        return self.collections.list()

    def add(self, name: str, title: str) -> Collection:
        """A collection readable by no group until one is granted (UserError for a bad or taken name)."""
        return self._logged("collection.add", self.collections.add(name, title))

    def grant(self, collection: str, group: str) -> Collection:
        """Let a group read a collection (UserError when either is unknown or malformed)."""
        return self._logged("collection.grant", self.collections.grant(collection, group), group=group)

    def revoke(self, collection: str, group: str) -> Collection:
        """Stop a group reading a collection."""
        return self._logged("collection.revoke", self.collections.revoke(collection, group), group=group)

    def _logged(self, action: str, collection: Collection, **fields: str) -> Collection:
        audit = self.context.audit
        if audit is not None:
            audit.append(action, actor=self.admin.id, role=acting_role(self.admin, "users"), outcome="ok",
                         record={"baken.collection": collection.name, **{f"baken.{k}": v for k, v in fields.items()}})
        return collection
