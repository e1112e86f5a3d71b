"""The overviews: the information manager's (/overview) and the auditor's (/audit/overview), charts with a
table beside each, for the last 7, 30 or 90 days; the period links swap the figures in place (htmx), a
normal request gets the whole page."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.exceptions import NotFoundException
from litestar.params import FromQuery
from litestar.response import Template

from assistant.overview import PERIODS, Overviews, period_of
from web.audit.overview_charts import auditor_charts, manager_charts
from web.auth import acting_role, requires
from web.context import WebContext, ctx, is_htmx, language, render, session_of
from web.i18n import translator


def _overviews(context: WebContext) -> Overviews:
    """The overview service over this app's audit log and index; without an audit log there are no figures."""
    if context.audit is None:
        raise NotFoundException()
    return Overviews(context.audit, context.services.index)


def _readable(request: Request[Any, Any, Any]) -> frozenset[str]:
    """The collections the viewer may read, by their groups (`algemeen` for everyone)."""
    return ctx(request).services.index.collections.readable(session_of(request).user.groups)


def _page(request: Request[Any, Any, Any], page: str, partial: str, **values: Any) -> Template:
    return render(request, partial if is_htmx(request) else page, periods=PERIODS, **values)


@get("/overview", guards=[requires("overview")], sync_to_thread=True)
def manager_overview(request: Request[Any, Any, Any], days: FromQuery[int] = 30) -> Template:
    """Questions, shares, gaps, feedback and documents per collection, for the information manager."""
    context, user = ctx(request), session_of(request).user
    overview = _overviews(context).manager(period_of(days), _readable(request), viewer=user.id,
                                           role=acting_role(user, "overview"))
    return _page(request, "pages/overview.html", "partials/overview_manager.html", section="overview",
                 overview=overview, figures=manager_charts(overview, translator(language(request))), base="/overview")


@get("/audit/overview", guards=[requires("audit")], sync_to_thread=True)
def auditor_overview(request: Request[Any, Any, Any], days: FromQuery[int] = 30) -> Template:
    """Outcomes, redactions, chain and witness, and who read the log, for the auditor; the opening is logged."""
    context, user = ctx(request), session_of(request).user
    overview = _overviews(context).auditor(period_of(days), _readable(request), auditor=user.id,
                                           witness=context.audit.settings.witness_dir if context.audit else None)
    return _page(request, "pages/audit_overview.html", "partials/overview_auditor.html", section="audit_overview",
                 overview=overview, figures=auditor_charts(overview, translator(language(request))), base="/audit/overview")


ROUTES = [manager_overview, auditor_overview]
