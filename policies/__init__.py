"""Policies as data: rule files per jurisdiction, the decision engine and the working-day calendar.

Pure Python: nothing here imports gRPC or SQL. The broker gathers facts, calls the engine and
records the decision with the article it cites.
"""

from tongdao.policies.calendar import UnknownYearError, WorkingDayCalendar
from tongdao.policies.engine import (
    Decision,
    DepartmentFacts,
    EntryFacts,
    ShareRequestFacts,
    decide_deadline_extension,
    decide_open_data_request,
    decide_provider_review,
    decide_share_request,
    effective_share_type,
    validate_catalogue_entry,
)
from tongdao.policies.loader import load_policy
from tongdao.policies.masking import mask_value
from tongdao.policies.model import DeadlineRule, GradeRule, PeriodRule, Policy, PolicyError

__all__ = [
    "DeadlineRule",
    "Decision",
    "DepartmentFacts",
    "EntryFacts",
    "GradeRule",
    "PeriodRule",
    "Policy",
    "PolicyError",
    "ShareRequestFacts",
    "UnknownYearError",
    "WorkingDayCalendar",
    "decide_deadline_extension",
    "decide_open_data_request",
    "decide_provider_review",
    "decide_share_request",
    "effective_share_type",
    "load_policy",
    "mask_value",
    "validate_catalogue_entry",
]
