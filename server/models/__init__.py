"""All models, imported so that metadata and migrations see every table."""

from .audit import AuditEvent, AuditHead
from .base import Model, utcnow
from .bulletin import Bulletin, DeductionTable
from .case import Case, Notice, Rectification
from .check import Check, Finding
from .evidence import Evidence, Upload
from .plan import Draw, Plan, plan_assignees, plan_sites
from .registry import Category, Site, Unit
from .sync import AppliedMutation, FeedRow
from .user import Device, LoginFailure, User

__all__ = [
    "AppliedMutation", "AuditEvent", "AuditHead", "Bulletin", "Case", "Category", "Check",
    "DeductionTable", "Draw",
    "Device", "Evidence", "FeedRow", "Finding", "LoginFailure", "Model", "Notice", "Plan",
    "Rectification", "Site", "Unit", "Upload", "User", "plan_assignees", "plan_sites",
    "utcnow",
]
