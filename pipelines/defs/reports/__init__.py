"""Release of a run's report folder, after the last disclosure check over all of it."""
