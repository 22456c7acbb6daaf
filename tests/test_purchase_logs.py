"""Purchase logs without a customers table or contracts: read through a mapping (whitespace
columns, customers built from the events), churn by inactivity with re-activation, the win-back list."""
from __future__ import annotations

import pandas as pd
import pytest
from pydantic import ValidationError

from churnlab.data.loading import load_data
from churnlab.data.mapping import MappingError, customers_from_events
from churnlab.settings import MappingSettings, load_mapping

# A CDNOW-like log, columns lined up by blanks: customer 1 buys twice, customer 2 once, customer 3
# three times with a long pause; one row has a date that is not a date.
LOG = """customer_id  date  number_of_cds  dollar_value
 00001 19970101  1   11.77
 00001 19970115  2   20.00
 00002 19970112  5   77.00
 00003 19970102  1   10.00
 00003 19970301  1   12.00
 00003 19971001  3   30.00
 00004 1997XX01  1   10.00
"""


def _log(tmp_path, name="purchases.txt", text=LOG):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_whitespace_purchase_log_loads_through_the_shipped_mapping(tmp_path):
    data = load_data(_log(tmp_path), as_of="1997-12-31", mapping=load_mapping("cdnow"))
    events = data["usage_events"]
    assert len(events) == 6                       # the row with a broken date is quarantined
    assert data.quarantine["rule"].tolist() == ["unparseable_date"]
    assert events["dollar_value"].sum() == pytest.approx(11.77 + 20 + 77 + 10 + 12 + 30)
    assert events["quantity"].tolist() == [1.0, 2.0, 5.0, 1.0, 1.0, 3.0]
    customers = data["customers"].set_index("customer_id")
    # signup = the day of the first purchase; the customer of the broken row has none
    assert customers["signup_date"].dt.strftime("%Y-%m-%d").to_dict() == {
        "00001": "1997-01-01", "00002": "1997-01-12", "00003": "1997-01-02"}


def test_a_txt_log_read_with_commas_says_to_set_the_separator(tmp_path):
    mapping = MappingSettings.model_validate({"tables": {
        "usage_events": {"columns": {"customer_id": "customer_id", "ts": "date"},
                         "constants": {"event_type": "purchase"}},
        "customers": {"from_events": "usage_events"}}})
    with pytest.raises(MappingError, match="separator: whitespace"):
        load_data(_log(tmp_path), as_of="1997-12-31", mapping=mapping)


def test_customers_from_events_take_no_other_keys():
    with pytest.raises(ValidationError, match="take no other keys"):
        MappingSettings.model_validate({"tables": {
            "usage_events": {"columns": {"customer_id": "id"}},
            "customers": {"from_events": "usage_events", "source": "people"}}})
    with pytest.raises(ValidationError, match="is not mapped"):
        MappingSettings.model_validate({"tables": {"customers": {"from_events": "usage_events"}}})


def test_customers_from_events_are_one_row_per_customer_at_its_first_event():
    events = pd.DataFrame({"customer_id": ["b", "a", "b", None],
                           "ts": pd.to_datetime(["2024-03-05 10:00", "2024-01-02 00:00", "2024-02-01 09:30", "2024-01-01 00:00"])})
    customers = customers_from_events(events)
    assert customers["customer_id"].tolist() == ["a", "b"]
    assert customers["signup_date"].dt.strftime("%Y-%m-%d").tolist() == ["2024-01-02", "2024-02-01"]
