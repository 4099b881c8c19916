"""recurrence: recurrent care proceedings and newborns in care proceedings, measured reproducibly.

The public API is the handful of names below; everything else is internal.
"""

from recurrence.config import Config, load_config
from recurrence.errors import ConfigError, ExtractError, RecurrenceError
from recurrence.warehouse import Warehouse, open_warehouse

__all__ = [
    "Config",
    "ConfigError",
    "ExtractError",
    "RecurrenceError",
    "Warehouse",
    "load_config",
    "open_warehouse",
]
__version__ = "0.1.0"
