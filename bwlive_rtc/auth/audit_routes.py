"""HTTP API for the audit log (admins): a filtered page at a time, or all of it as CSV,
streamed; people by their current name and e-mail address."""
from __future__ import annotations

from typing import Any

from aiohttp import web

from ..kernel.access import Access, access, organisation
from ..kernel.audit import AuditFilter, AuditPage, audit
from ..kernel.requests import query, read_query
from .accounts import Accounts
from .audit_export import csv_lines
from .service import AUTH

routes = web.RouteTableDef()


def _named(accounts: Accounts, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The entries with each person's current name and e-mail (the name recorded, for
    someone whose account is gone)."""
    people = {user_id: accounts.user(user_id) for user_id in {e["user_id"] for e in entries if e["user_id"]}}
    for entry in entries:
        person = people.get(entry["user_id"])
        entry["user_name"] = person.name if person else entry["user_name"]
        entry["user_email"] = person.email if person else None
    return entries


@routes.get("/api/organisation/audit")
@access(Access.ADMIN)
@query(AuditPage)
async def audit_page(request: web.Request) -> web.Response:
    """One page of entries, newest first, with the total matching and the actions there are."""
    only = read_query(request, AuditPage)
    auth, organisation_id = request.app[AUTH], organisation(request)
    entries, total = auth.audit.page(organisation_id, only)
    return web.json_response({"entries": _named(auth.accounts, entries), "total": total, "page": only.page,
                              "page_size": only.page_size, "actions": auth.audit.actions(organisation_id)})


@routes.get("/api/organisation/audit.csv")
@access(Access.ADMIN)
@query(AuditFilter)
async def audit_csv(request: web.Request) -> web.StreamResponse:
    """Every matching entry as CSV, written out in batches."""
    only = read_query(request, AuditFilter)
    auth, organisation_id = request.app[AUTH], organisation(request)
    audit(request, "audit log exported", filter=only.model_dump(mode="json", exclude_defaults=True))
    response = web.StreamResponse(headers={
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="audit-{auth.audit.clock.now():%Y%m%d-%H%M}.csv"'})
    await response.prepare(request)
    await response.write(csv_lines([], header=True).encode())
    for batch in auth.audit.every(organisation_id, only):
        await response.write(csv_lines(_named(auth.accounts, batch)).encode())
    await response.write_eof()
    return response
