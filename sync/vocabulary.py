"""The words of the protocol, defined once: roles, record types and every enumeration a
record field takes. The server's models and the phone's schemas both import them."""

ROLES = ("inspector", "supervisor", "reviewer", "compiler", "unit", "admin")
RECORD_TYPES = ("site", "unit", "category", "plan", "check", "finding", "evidence", "case",
                "rectification")
READ_ONLY_TYPES = ("site", "unit", "category", "plan")  # phones pull them, never push
OPS = ("upsert", "delete")

MODES = ("open", "covert")  # 明察, 暗访
SITE_KINDS = ("office", "construction_site", "road", "village", "other")
SEVERITIES = ("general", "major")
FINDING_STATES = ("pending", "confirmed", "dismissed")
EVIDENCE_KINDS = ("photo", "audio", "video")
EVIDENCE_STATES = ("awaiting_upload", "processing", "ready", "failed")
REVIEW_STATES = ("pending", "accepted", "needs_info", "rejected")
GEOFENCE_VERDICTS = ("inside", "outside", "unknown")
CASE_STATUSES = ("open", "notified", "rectifying", "submitted", "verified", "closed",
                 "reopened")
RESULT_STATUSES = ("applied", "duplicate", "conflict", "rejected")
