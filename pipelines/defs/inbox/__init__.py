"""Inbox: a sensor that starts a run for each complete extract folder dropped into a folder."""
