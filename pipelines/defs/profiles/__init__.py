"""Local-area figures: chance of return by authority, and pre-birth timing of newborns' cases."""
