"""The administrator's account changes as a service: add an account, change its roles and groups, enable or
disable it; each change is logged (the target by pseudonym). The routes (`web/accounts/user_routes.py`) parse
the form, call one of these, and render.
"""

from __future__ import annotations

from typing import Any

from core.errors import NotFound, UserError
from web.accounts.store import User, ordered
from web.auth import acting_role
from web.context import WebContext


class OwnAdminRole(UserError):
    """An administrator tried to take their own beheerder role away (someone must be left to administer)."""


class UserAdmin:
    """What one administrator changes, over the web context's accounts and audit log."""

    def __init__(self, context: WebContext, admin: User) -> None:
        self.context, self.admin = context, admin

    def users(self) -> list[User]:
        """Every account."""
        return self.context.accounts.users()

    def user(self, user_id: str) -> User:
        """One account (NotFound when there is none)."""
        found = self.context.accounts.user(user_id)
        if found is None:
            raise NotFound("user")
        return found

    def add(self, name: str, roles: list[str], password: str, groups: str) -> User:
        """A local account (argon2id hash) with its roles and groups (UserError when refused)."""
        user = self.context.accounts.add_user(name, roles, password, groups)
        self._log("add", user, role=user.role, roles=ordered(user.roles), groups=sorted(user.groups))
        return user

    def set_roles(self, user_id: str, roles: list[str], groups: str) -> User:
        """Replace one account's roles and groups; its sessions see them at once."""
        target = self.user(user_id)
        if target.id == self.admin.id and "beheerder" not in roles:
            raise OwnAdminRole("users.own_admin")
        changed = self.context.accounts.set_roles(user_id, roles, groups)
        self._log("roles", changed, role=changed.role, roles=ordered(changed.roles), groups=sorted(changed.groups))
        return changed

    def set_active(self, user_id: str, active: bool) -> None:
        """Enable or disable an account (disabling ends its sessions); not one's own (NotFound)."""
        target = self.user(user_id)
        if target.id == self.admin.id:
            raise NotFound("user")
        self.context.accounts.set_active(user_id, active)
        self._log("enable" if active else "disable", target)

    def _log(self, change: str, target: User, **details: Any) -> None:
        audit = self.context.audit
        if audit is not None:
            audit.append_auth_event("user.change", actor=self.admin.id, role=acting_role(self.admin, "users"),
                                    outcome="ok", details={"baken.user.change": change,
                                                           "baken.user.target": audit.pseudonym(target.id),
                                                           **{f"baken.user.{k}": v for k, v in details.items()}})
