"""Outcomes stage: how care proceedings end, for whom, and how long they take."""
