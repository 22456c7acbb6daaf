"""churnlab: customer churn management for small and mid-sized businesses.

What an analyst calls from a notebook is re-exported here; see README.md for the module map.
"""
from churnlab.demo import DemoSummary, generate_demo_data
from churnlab.features import build_features, build_training_set
from churnlab.io import Dataset, load_data, read_tables
from churnlab.mapping import MappingError
from churnlab.schema import DataContractError, validate_tables
from churnlab.settings import Settings, load_mapping, load_settings
from churnlab.bundle import ModelBundle, load_bundle, save_bundle
from churnlab.models import fit_models, score, survival_curves

__version__ = "0.1.0"

__all__ = [
    "DataContractError", "Dataset", "DemoSummary", "Settings", "__version__", "build_features",
    "build_training_set", "generate_demo_data",
    "load_data", "load_mapping", "load_settings", "read_tables", "validate_tables", "MappingError",
    "ModelBundle", "load_bundle", "save_bundle", "fit_models", "score", "survival_curves",
]
