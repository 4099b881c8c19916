"""Recurrence stage: the cohort of mothers, the chance of return within seven years, predictors."""
