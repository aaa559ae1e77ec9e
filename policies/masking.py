"""Masking (脱敏) of values returned by fetch, per the policy's grade and mask rules (PRIV-6)."""

from __future__ import annotations

from tongdao.policies.model import Policy, PolicyError


def mask_value(policy: Policy, grade: str, value: str, *, field_kind: str | None = None) -> str:
    """Return ``value`` as the policy lets it leave a node for a data item of ``grade``.

    Args:
        policy: the loaded policy.
        grade: the data item's sensitivity grade.
        value: the stored value as text.
        field_kind: the data item's name (or kind); selects a specific mask rule such as
            ``id_number`` → ``2301**********1234`` when the policy maps it.

    Returns:
        The value unchanged (grade fetch = plain) or masked.

    Raises:
        PolicyError: unknown grade, or the grade forbids fetching.
    """
    rule_for_grade = policy.grade(grade)
    if rule_for_grade.fetch == "plain" or value == "":
        return value
    if rule_for_grade.fetch == "forbidden":
        raise PolicyError(policy.source, f"grades.{grade}.fetch", "this grade is never fetched")
    rule_name = policy.field_kinds.get(field_kind or "", rule_for_grade.mask_rule or "")
    rule = policy.mask_rules[rule_name]
    n = len(value)
    keep_start = min(rule.keep_start, n)
    keep_end = min(rule.keep_end, n - keep_start)
    if keep_start + keep_end >= n:
        # too short to keep both ends and still hide something: hide all but the first character
        # (a one-character value is hidden entirely)
        keep_start, keep_end = (1, 0) if n > 1 else (0, 0)
    hidden = n - keep_start - keep_end
    return value[:keep_start] + policy.mask_char * hidden + value[n - keep_end :]
