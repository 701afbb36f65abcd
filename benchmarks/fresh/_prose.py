"""Sentence pools for documents, wiki pages, runbooks and chat, by domain. Written for this set only."""

from __future__ import annotations

import random

from benchmarks.fresh._gen import prose

POLICY = (
    "Workforce members must only access protected health information needed for their assigned duties.",
    "System owners are responsible for reviewing access rights at least quarterly.",
    "Exceptions to this standard must be documented in the risk register with a named owner.",
    "Logs must be protected against unauthorized modification using write-once storage or cryptographic sealing.",
    "Where a vendor processes data on our behalf, the business associate agreement takes precedence.",
    "Time sources for all clinical systems must be synchronized to the enterprise NTP service.",
    "Shared accounts are prohibited except for documented break-glass procedures.",
    "Violations may result in disciplinary action up to and including termination.",
    "This section applies to all production systems, including those hosted by third parties.",
    "Department managers must ensure that staff complete the annual privacy training before system access is renewed.",
    "Retention periods begin on the date the record is created unless otherwise stated.",
    "Legal hold notices suspend all scheduled destruction for the records they name.",
    "Backups are subject to the same confidentiality requirements as the primary data.",
    "Any change to this standard requires review by the Information Governance Committee.",
)

RUNBOOK = (
    "Announce the start of the maintenance in the #sec-ops channel and link the change ticket.",
    "Confirm that both HSM cluster members report a healthy status before you proceed.",
    "Do not run these steps from a laptop; use the hardened jump host in the PCI zone.",
    "Two custodians must be present for every step that touches key material.",
    "If any command returns a non-zero exit code, stop and page the security on-call.",
    "Record the output of each command in the ceremony log, including timestamps.",
    "The previous key remains available for verification for the duration of the overlap window.",
    "Smart cards must be returned to the safe immediately after the ceremony.",
    "Expect the partition to be read-only for up to two minutes while replication catches up.",
    "Verify that the monitoring dashboard shows no signing errors for fifteen minutes afterwards.",
)

API = (
    "All requests must be authenticated with an OAuth 2.0 bearer token obtained via the client credentials flow.",
    "Timestamps are returned in RFC 3339 format, always in UTC.",
    "Monetary amounts are expressed in minor units as integers.",
    "Unknown fields in request bodies are ignored; unknown enum values cause a 422 response.",
    "List endpoints are paginated with an opaque cursor returned in the next_cursor field.",
    "Idempotency keys are honoured for 24 hours on all POST endpoints.",
    "Responses include an X-Request-Id header that you should quote when contacting support.",
    "Sandbox accounts share the same limits as production accounts unless otherwise noted.",
    "Webhooks are signed with HMAC-SHA256 using the secret shown in the developer console.",
    "Fields marked deprecated will be removed no earlier than twelve months after the deprecation notice.",
)

ENGINE = (
    "Console variables can be set on the command line, in the server config file, or at runtime by an admin.",
    "Changing this value requires a map restart to take effect.",
    "Values outside the supported range are clamped and a warning is printed to the server log.",
    "This setting is replicated to clients when they connect.",
    "Higher values increase CPU usage on the server roughly linearly.",
    "On consoles, this value is fixed by the platform certification requirements and cannot be overridden.",
    "See the networking overview for how this interacts with client-side prediction.",
    "Listen servers inherit this value from the hosting client's settings.",
)

WIKI = (
    "This page is owned by the data platform team; propose edits through the #dataplat-docs channel.",
    "Alerts are routed through PagerDuty; acknowledging an alert does not resolve it.",
    "For anything customer-facing, open an incident in the incident tool before you start debugging.",
    "Remember to hand over open incidents at the end of your shift with a short written summary.",
    "Service level objectives are reviewed every quarter in the reliability review.",
    "If you are unsure whether something is an incident, treat it as one.",
    "Escalation contacts change with the rotation; the schedule in PagerDuty is the source of truth.",
    "Post-incident reviews are blameless and should be scheduled within five business days.",
)

MOBILE = (
    "The release train leaves every second Tuesday; anything not merged by Monday noon waits for the next train.",
    "Feature flags default to off in production builds and are controlled from the remote config console.",
    "Accessibility checks run in CI and block the merge if a new screen has unlabeled controls.",
    "Analytics events must be registered in the tracking plan before they are shipped.",
    "Crash-free sessions below 99.5% on a staged rollout pause the rollout automatically.",
    "We keep the app size under 80 MB on Android and 120 MB on iOS.",
    "Deep links are owned by the growth team; new routes need their review.",
    "Localisation strings are frozen three days before the release branch is cut.",
    "Screens built with the legacy view system should be migrated when they are touched.",
    "Dependencies are updated weekly by the bot; a human reviews and merges them.",
)

GAMEDEV = (
    "Cold cook of the open-world map is back under forty minutes after the texture dedupe landed.",
    "The devkit crash reproduces only with the streaming budget above 2.5 GB.",
    "QA wants a build with the new save format by Thursday to start the compatibility pass.",
    "Frame time on base consoles is stable at 33 ms in the harbour level; the market square still spikes.",
    "The build farm is at 87% disk; old PDBs older than thirty days can go.",
    "Art asked for a preview of the lighting bake settings before we lock them for the milestone.",
    "The anti-cheat vendor needs our symbol files for the crash-reporting integration.",
    "Localisation delivered the German and Brazilian Portuguese strings; Japanese is a week late.",
    "Certification submission for the holiday patch is still scheduled for the fifteenth.",
    "Perf captures are now uploaded automatically from the nightly soak runs.",
)

PROCUREMENT = (
    "We would like to keep the current pickup windows at all Nordic depots.",
    "Our volumes for the peak period are forecast at roughly 20% above last year.",
    "Please note that the fuel surcharge is reviewed monthly and is not part of this negotiation.",
    "Claims for damaged parcels should continue to go through the existing portal.",
    "We can share the lane-level forecast under the existing NDA.",
    "Invoicing remains monthly in arrears with 30-day payment terms.",
    "Any change to the tariff would take effect from the first day of the quarter.",
    "Our finance team needs the final numbers before the budget freeze.",
)

CHAT = (
    "ok that makes sense",
    "let me check and get back to you",
    "sounds good",
    "thanks, that helped",
    "can you double-check that?",
    "I'll try that now",
    "right, that's what I thought",
)


def paragraph(r: random.Random, pool: tuple[str, ...], n: int | None = None) -> str:
    return prose(r, pool, n or r.randint(3, 6))
