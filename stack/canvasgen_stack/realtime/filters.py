"""Binding filters (`column=operator.value`) and the SQL that evaluates them on a changed row.

A filter is compared in SQL against the row rebuilt with the table's own types, so `eq` on a uuid,
`lt` on a timestamp or `in` on an integer behave as Postgres compares them. The literal is left
untyped so Postgres gives it the column's type, as Supabase casts both sides to it.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import sql

OPERATORS = {"eq": "=", "neq": "<>", "lt": "<", "lte": "<=", "gt": ">", "gte": ">=", "in": "in"}


class FilterError(ValueError):
    """A filter that cannot be parsed."""


@dataclass(frozen=True)
class Filter:
    """One parsed filter."""

    column: str
    operator: str
    values: tuple[str, ...]

    def condition(self, row: str) -> sql.Composable:
        """Return a boolean SQL expression over the composite column `row`; NULL counts as false."""
        column = sql.SQL("({}).{}").format(sql.Identifier(row), sql.Identifier(self.column))
        if self.operator == "in":
            values = sql.SQL(", ").join(sql.Literal(value) for value in self.values)
            test = sql.SQL("{} in ({})").format(column, values)
        else:
            test = sql.SQL("{} {} {}").format(
                column, sql.SQL(OPERATORS[self.operator]), sql.Literal(self.values[0])
            )
        return sql.SQL("coalesce({}, false)").format(test)


def parse(text: str | None) -> Filter | None:
    """Parse a binding's `filter`; None or an empty text means no filter."""
    if not text:
        return None
    column, equals, rest = text.partition("=")
    operator, dot, value = rest.partition(".")
    if not column or not equals or not dot or operator not in OPERATORS:
        raise FilterError(_message(text))
    if operator != "in":
        return Filter(column, operator, (value,))
    if not (value.startswith("(") and value.endswith(")")):
        raise FilterError(_message(text))
    items = _split_list(value[1:-1])
    if not items:
        raise FilterError(_message(text))
    return Filter(column, operator, tuple(items))


def _split_list(text: str) -> list[str]:
    """Split `a,"b,c",d` on commas outside double quotes and unquote the items."""
    items: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            items.append("".join(current))
            current = []
        else:
            current.append(char)
    if text:
        items.append("".join(current))
    return items


def _message(text: str) -> str:
    return f'Error parsing `filter` params: ["{text}"]'
