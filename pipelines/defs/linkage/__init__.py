"""Linkage stage: mothers across proceedings, children and mothers to maternity records."""
