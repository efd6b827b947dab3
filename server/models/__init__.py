"""All models, imported so that metadata and migrations see every table."""

from .base import Model, utcnow
from .bulletin import AuditEvent, Bulletin
from .case import Case, Rectification
from .check import Check, Evidence, Finding
from .plan import Plan, plan_assignees, plan_sites
from .registry import Category, Site, Unit
from .sync import AppliedMutation, Change
from .upload import Upload
from .user import ROLES, Device, LoginFailure, User

__all__ = [
    "ROLES", "AppliedMutation", "AuditEvent", "Bulletin", "Case", "Category", "Change", "Check",
    "Device", "Evidence", "Finding", "LoginFailure", "Model", "Plan", "Rectification", "Site",
    "Unit", "Upload", "User", "plan_assignees", "plan_sites", "utcnow",
]
