"""Local-area figures: chance of return by local authority, and the timing of newborns' cases.

Never imports dagster; the assets are in ``pipelines/defs/profiles/``.
"""
