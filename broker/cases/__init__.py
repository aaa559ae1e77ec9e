"""Typical cases context: the typical use cases of shared data each level's data authority
records for its area, linked to the grants they used, and the reports that roll them up by
region (SHR-12, Art.31)."""
