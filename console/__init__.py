"""The data authority's (and a department's) web console: ``tongdao console serve``.

A separate process in front of the broker's gRPC API. It holds one party's mutual-TLS
certificate (the authority's, or a department's) and acts for the people who log in with their
accounts: every page is one or more broker calls carrying that person's login session, so the
broker's role table, its party checks and its ledger records apply exactly as for the CLI. The
console keeps no data of its own beyond the open sessions in memory.

Modules: ``gateway`` (the broker's stubs, refusals as values), ``sessions`` (browser sessions
and CSRF tokens), ``i18n`` (zh-CN and English), ``pages`` (what each page shows, by role),
``reading`` (the data each page reads), ``charts`` (server-rendered SVG), ``app`` (the
Starlette application: routes, security headers).
"""
