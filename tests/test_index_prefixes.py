"""No index that another index already serves (issue 8: every write pays for each index of its table).

A foreign key gets an index of its own unless ``db_index=False``; where the same column already leads a
composite index or unique constraint of the model, that one serves every look-up by the key (the admin's
filters, ``on_delete``, PostgreSQL's own foreign-key checks of the parent's deletes) and the single-column
index is only a cost: one more entry written, and later vacuumed, for every row inserted.
"""

from __future__ import annotations

from django.apps import apps
from django.db import models

OURS = {"orders", "inventory", "channels_app", "returns", "metrics"}


def _leading_columns(model: type[models.Model]) -> dict[str, str]:
    """The first column of each plain (whole-table, by-field) composite index or unique constraint, by name."""
    meta, led = model._meta, {}
    groups = [(index.name, index.fields) for index in meta.indexes if index.fields and index.condition is None]
    groups += [
        (constraint.name, constraint.fields)
        for constraint in meta.constraints
        if isinstance(constraint, models.UniqueConstraint) and constraint.fields and constraint.condition is None
    ]
    groups += [(f"unique_together {fields}", fields) for fields in meta.unique_together]
    for name, fields in groups:
        first = fields[0].lstrip("-")
        if len(fields) > 1:
            led[meta.get_field(first).column] = name
    return led


def test_no_foreign_key_has_an_index_of_its_own_that_a_composite_one_already_leads_with():
    doubled = []
    for model in apps.get_models():
        if model._meta.app_label not in OURS:
            continue
        led = _leading_columns(model)
        for field in model._meta.concrete_fields:
            if field.is_relation and field.db_index and not field.unique and field.column in led:
                doubled.append(f"{model._meta.label}.{field.name} (led by {led[field.column]})")
    assert doubled == []
