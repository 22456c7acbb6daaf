"""churnlab: customer churn management for small and mid-sized businesses.

What an analyst calls from a notebook is re-exported here; see README.md for the module map.
"""
from churnlab.demo.simulation import DemoSummary, generate_demo_data
from churnlab.features.engine import build_features, build_training_set
from churnlab.data.loading import Dataset, load_data, read_tables
from churnlab.data.mapping import MappingError
from churnlab.data.contract import DataContractError
from churnlab.data.validation import validate_tables
from churnlab.settings import Settings, load_mapping, load_settings
from churnlab.models.bundle import ModelBundle, load_bundle, save_bundle
from churnlab.models.fit import fit_models, score, survival_curves
from churnlab.decide.value import customer_value
from churnlab.decide.health import health_score
from churnlab.decide.saveability import save_rates
from churnlab.decide.uplift import action_rates
from churnlab.decide.rule_evidence import rule_evidence
from churnlab.decide.next_action import next_best_action
from churnlab.decide.campaign_effects import campaign_effects
from churnlab.decide.zones import assign_zones, zone_frame
from churnlab.decide.rules import (RuleError, RuleSet, check_rules, evaluate_rules, load_rules, rule_counts,
                            rules_not_evaluated)
from churnlab.decide.segments import assign_segments

__version__ = "0.1.0"

__all__ = [
    "DataContractError", "Dataset", "DemoSummary", "Settings", "__version__", "build_features",
    "build_training_set", "generate_demo_data",
    "load_data", "load_mapping", "load_settings", "read_tables", "validate_tables", "MappingError",
    "ModelBundle", "load_bundle", "save_bundle", "fit_models", "score", "survival_curves",
    "customer_value", "health_score", "save_rates", "action_rates", "rule_evidence", "next_best_action", "campaign_effects", "assign_zones", "zone_frame",
    "RuleError", "RuleSet", "load_rules", "check_rules", "evaluate_rules", "rule_counts", "rules_not_evaluated",
    "assign_segments",
]
