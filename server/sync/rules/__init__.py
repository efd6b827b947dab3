"""The push rules of each record type a phone may write."""

from .cases import CaseRules, RectificationRules
from .checks import CheckRules, FindingRules
from .common import Rejected, can_see
from .evidence import EvidenceRules

RULES = {"check": CheckRules(), "finding": FindingRules(), "evidence": EvidenceRules(),
         "case": CaseRules(), "rectification": RectificationRules()}

__all__ = ["RULES", "Rejected", "can_see"]
