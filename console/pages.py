"""Which pages and forms each person may use: read from the rule file's role table, the same
table the broker's access interceptor applies (so the console never offers what the broker
would refuse, and the broker still refuses whatever reaches it)."""

from __future__ import annotations

from dataclasses import dataclass

from tongdao.policies.access import AccessRules

RPC = "/tongdao.v1."


@dataclass(frozen=True)
class Page:
    """A page of the console.

    Attributes:
        name: its route name; path: its URL; title: its message id.
        needs: the RPCs it calls (the person's role must hold every one).
        authority_only: shown only on the authority's console (catalogue review, the log).
        department_only: shown only on a department's console (its inbox, its usage).
    """

    name: str
    path: str
    title: str
    needs: tuple[str, ...]
    authority_only: bool = False
    department_only: bool = False


PAGES: tuple[Page, ...] = (
    Page("dashboard", "/", "Dashboard", ()),
    Page(
        "review",
        "/review",
        "Catalogue review",
        (f"{RPC}Catalogue/PublishCatalogueEntry", f"{RPC}Catalogue/ReturnCatalogueEntry"),
        authority_only=True,
    ),
    Page(
        "requests",
        "/requests",
        "Share requests",
        (f"{RPC}Sharing/DecideShareRequest",),
        department_only=True,
    ),
    Page("catalogue", "/catalogue", "Catalogue", (f"{RPC}Catalogue/SearchCatalogue",)),
    Page(
        "ledger",
        "/ledger",
        "Log",
        (f"{RPC}Ledger/GetLedger", f"{RPC}Ledger/ProveInclusion"),
        authority_only=True,  # the broker serves the log's entries to the authority only
    ),
    Page("usage", "/usage", "Usage", (f"{RPC}Sharing/ListUsage",), department_only=True),
    Page(
        "activity",
        "/departments",
        "Department usage",
        (f"{RPC}Ledger/GetLedger", f"{RPC}Directory/ListDepartments"),
        authority_only=True,
    ),
    Page("charts", "/charts", "Charts", (f"{RPC}Supervision/ListDeadlines",)),
    Page("account", "/account", "My account", ()),
)
BY_NAME = {page.name: page for page in PAGES}


class Permissions:
    """What a role may do on this console (``authority``: the console acts for the authority)."""

    def __init__(self, access: AccessRules, *, authority: bool) -> None:
        self.access = access
        self.authority = authority

    def may(self, role: str, method: str) -> bool:
        """Whether ``role`` may call ``method`` (``Service/Method`` or the full name)."""
        full = method if method.startswith("/") else RPC + method
        return role in (self.access.required(full) or ())

    def page(self, role: str, name: str) -> bool:
        page = BY_NAME[name]
        if (page.authority_only and not self.authority) or (
            page.department_only and self.authority
        ):
            return False
        return all(self.may(role, method) for method in page.needs)

    def pages(self, role: str) -> list[Page]:
        return [page for page in PAGES if self.page(role, page.name)]
