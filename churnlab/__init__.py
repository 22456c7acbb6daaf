"""churnlab: customer churn management for small and mid-sized businesses.

What an analyst calls from a notebook is re-exported here; see README.md for the module map.
"""
from churnlab.settings import Settings, load_settings

__version__ = "0.1.0"

__all__ = ["Settings", "load_settings", "__version__"]
