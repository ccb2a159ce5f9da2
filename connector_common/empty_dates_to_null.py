"""Dates the API leaves "" when unset, emitted as null: a schema-driven record normalization for both connectors."""

from __future__ import annotations

from dataclasses import InitVar, dataclass, field
from typing import Any, Dict, Mapping, Optional

from airbyte_cdk.sources.declarative.extractors.type_transformer import TypeTransformer

DATE_FORMATS = frozenset({"date-time", "date"})

# A compiled schema: for each property that is or holds a date, (name, is_date, plan of its object's properties, plan
# of its array's object items, whether its array's items are dates).
Plan = tuple


def _types(node: Mapping[str, Any]) -> set:
    declared = node.get("type")
    if isinstance(declared, str):
        return {declared}
    return set(declared) if isinstance(declared, list) else set()


def _is_date(node: Any) -> bool:
    return isinstance(node, Mapping) and node.get("format") in DATE_FORMATS and "string" in _types(node)


def compile_date_paths(schema: Mapping[str, Any]) -> Plan:
    """The date properties of an object schema, nested objects and arrays of objects (or of dates) included. Only
    branches that hold a date are kept: a record is then walked along those and nothing else."""
    plan = []
    properties = schema.get("properties") if isinstance(schema, Mapping) else None
    for name, node in (properties or {}).items():
        if not isinstance(node, Mapping):
            continue
        if _is_date(node):
            plan.append((name, True, None, None, False))
            continue
        types = _types(node)
        fields = compile_date_paths(node) if "object" in types else ()
        items = node.get("items") if "array" in types else None
        item_fields = compile_date_paths(items) if isinstance(items, Mapping) else ()
        item_dates = _is_date(items)
        if fields or item_fields or item_dates:
            plan.append((name, False, fields or None, item_fields or None, item_dates))
    return tuple(plan)


def _nulled(obj: Dict[str, Any], plan: Plan, in_place: bool) -> Dict[str, Any]:
    """`obj` with "" made None at the plan's dates. Nested objects and arrays are copied when something in them
    changes, never modified: they belong to the parsed page, which may be served again."""
    out = obj
    for name, is_date, fields, item_fields, item_dates in plan:
        value = obj.get(name)
        if value is None:
            continue
        new: Any = value
        if is_date:
            if value == "":
                new = None
        elif type(value) is dict:
            if fields:
                new = _nulled(value, fields, False)
        elif type(value) is list:
            copied = None
            for index, item in enumerate(value):
                if item_dates and item == "":
                    changed: Any = None
                elif item_fields and type(item) is dict:
                    changed = _nulled(item, item_fields, False)
                else:
                    continue
                if changed is not item:
                    if copied is None:
                        copied = list(value)
                    copied[index] = changed
            if copied is not None:
                new = copied
        if new is not value:
            if out is obj and not in_place:
                out = dict(obj)
            out[name] = new
    return out


@dataclass
class EmptyDatesToNull(TypeTransformer):
    """A RecordSelector's `schema_normalization` that turns "" into null wherever the stream's schema declares a date
    (`format: date-time` or `date`), at any depth: in nested objects and in arrays of objects. Every other value,
    "" included, is left as the API sent it; a real date is never touched.

    Mailchimp sends "" for a date that is unset (a draft campaign's send_time, a pending member's timestamp_opt, a
    report without opens' last_open); "" is not a date, so a destination typing the column as a timestamp would reject
    or drop the record. YAML cannot express this: the CDK's `Default` normalization only casts values to the schema's
    types (it keeps "" as a string) and walks every field of every record; a RemoveFields with a condition evaluates a
    Jinja template per field per record and removes every "" rather than nulling the dates; AddFields would need each
    date's path written out per stream. Here the schema is compiled once into the paths that hold dates, and each
    record is walked along those only (a few dictionary look-ups per record)."""

    parameters: InitVar[Optional[Mapping[str, Any]]] = None
    _compiled: Dict[int, tuple] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self, parameters: Optional[Mapping[str, Any]]) -> None:
        self._compiled = {}

    def plan_for(self, schema: Mapping[str, Any]) -> Plan:
        # The CDK hands the same (cached) schema object for every record of a stream; kept with its plan so that its
        # id cannot be reused by another schema.
        entry = self._compiled.get(id(schema))
        if entry is None or entry[0] is not schema:
            entry = self._compiled[id(schema)] = (schema, compile_date_paths(schema))
        return entry[1]

    def transform(self, record: Dict[str, Any], schema: Mapping[str, Any]) -> None:
        plan = self.plan_for(schema)
        if plan:
            _nulled(record, plan, True)
