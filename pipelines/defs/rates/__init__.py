"""Rates stage: newborns and infants in care proceedings per 10,000 live births."""
