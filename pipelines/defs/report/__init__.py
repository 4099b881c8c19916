"""Report stage: the HTML and PDF report of each run."""
