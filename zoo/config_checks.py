"""Checks of a zoo config's fields, run whenever a config is made.

Every `Config` of the zoo calls `check_fields` in `__post_init__`, so a
preset changed with `--set`, `--epochs` or `dataclasses.replace` is refused
at once with the field, what was expected and what was received, rather
than deep inside training (an empty history, a NaN loss, a shape error).
"""

import dataclasses
import math
import numbers


def check_fields(
    config, positive=(), non_negative=(), fractions=(), unit_interval=(), choices=None
):
    """Raises ValueError for the first field of `config` out of its range.

    Every field declared `int`, `float`, `bool` or `str` must hold a value
    of that type (an `int` is a `float` too; `None` only where it is the
    declared default); floats must be finite. Numbers of other types (NumPy's)
    are stored as Python's `int` or `float`.

    Args:
        config: A dataclass instance.
        positive: Fields that must be > 0.
        non_negative: Fields that must be >= 0.
        fractions: Fields in [0, 1) (dropout rates and the like).
        unit_interval: Fields in (0, 1] (decay factors).
        choices: `{field: allowed values}`.
    """
    name = getattr(config, "name", type(config).__name__)
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        if value is None and field.default is None:
            continue
        expected = _TYPES.get(field.type)
        if expected is not None and not _is_a(value, field.type):
            _fail(name, field.name, expected, value)
        if field.type in (int, float) and type(value) is not field.type:
            # NumPy's numbers (a sweep's values) as Python's: the config
            # goes into metrics.json.
            value = field.type(value)
            object.__setattr__(config, field.name, value)
        if field.type is float and not math.isfinite(value):
            _fail(name, field.name, "a finite number", value)
    kinds = {field.name: field.type for field in dataclasses.fields(config)}
    for field in positive:
        if not getattr(config, field) > 0:
            expected = "a positive integer" if kinds[field] is int else "a number > 0"
            _fail(name, field, expected, getattr(config, field))
    for field in non_negative:
        if not getattr(config, field) >= 0:
            expected = "an integer >= 0" if kinds[field] is int else "a number >= 0"
            _fail(name, field, expected, getattr(config, field))
    for field in fractions:
        if not 0 <= getattr(config, field) < 1:
            _fail(name, field, "a number in [0, 1)", getattr(config, field))
    for field in unit_interval:
        if not 0 < getattr(config, field) <= 1:
            _fail(name, field, "a number in (0, 1]", getattr(config, field))
    for field, allowed in (choices or {}).items():
        if getattr(config, field) not in allowed:
            _fail(name, field, f"one of {list(allowed)}", getattr(config, field))


_TYPES = {int: "an integer", float: "a number", bool: "True or False", str: "a string"}


def _is_a(value, kind):
    if kind is bool:
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if kind is float:
        return isinstance(value, numbers.Real)
    if kind is int:
        return isinstance(value, numbers.Integral)
    return isinstance(value, kind)


def _fail(name, field, expected, value):
    raise ValueError(
        f"Received an invalid value for `{field}` of {name}'s config, expected "
        f"{expected}, got {value!r}."
    )
