"""Command-line flags generated from model fields, so each option is declared once.

A field's type, default, bounds and ``Field(description=...)`` give its flag's value check, default
and help; ``Annotated[..., Cli(...)]`` adds what a type cannot say (a positional, a metavar). Works
on pydantic models (settings) and pydantic dataclasses (command options, ``TrainConfig``).
"""

from __future__ import annotations

import argparse
import types
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

from pydantic import SecretStr
from pydantic.fields import FieldInfo

Target = argparse.ArgumentParser | argparse._ArgumentGroup
_Model = TypeVar("_Model")


@dataclass(frozen=True)
class Cli:
    """Command-line details of a field that its type cannot give."""

    positional: bool = False
    metavar: str | None = None


def add_flags(target: Target, model: type, *, only: Iterable[str] | None = None) -> None:
    """Each field of ``model`` (or of ``only``) as ``--field-name``, defaulting to the field's default.

    A bool defaulting to False is a switch ``--name``; one defaulting to True is ``--no-name``; an
    optional bool defaulting to None gets both, and reads None when neither is given.
    """
    fields = fields_of(model)
    for name in only if only is not None else fields:
        info = fields[name]
        cli = next((item for item in info.metadata if isinstance(item, Cli)), Cli())
        if cli.positional:
            target.add_argument(name, help=help_text(info), **value_kind(info))
        elif plain_type(info.annotation) is bool:
            add_switch(target, name, info)
        else:
            target.add_argument(
                f"--{name.replace('_', '-')}",
                dest=name,
                default=None if info.is_required() else info.get_default(call_default_factory=True),
                required=info.is_required(),
                metavar=cli.metavar,
                help=help_text(info, show_default=True),
                **value_kind(info),
            )


def add_override(target: Target, flag: str, dest: str, info: FieldInfo, note: str) -> None:
    """``flag`` overriding a value set elsewhere (an environment variable): left unset, it reads None."""
    kind = value_kind(info)
    metavar = None if "choices" in kind else flag.lstrip("-").replace("-", "_").upper()
    target.add_argument(flag, dest=dest, metavar=metavar, help=f"{help_text(info)} [{note}]", **kind)


def add_switch(target: Target, name: str, info: FieldInfo) -> None:
    flag = name.replace("_", "-")
    if info.default is None:  # three states: on, off, or left to the command (None)
        target.add_argument(
            f"--{flag}", dest=name, action=argparse.BooleanOptionalAction, default=None, help=help_text(info)
        )
    elif info.default:
        target.add_argument(f"--no-{flag}", dest=name, action="store_false", help=f"leave out {help_text(info)}")
    else:
        target.add_argument(f"--{flag}", dest=name, action="store_true", help=help_text(info))


def parsed(model: type[_Model], args: argparse.Namespace, **given: Any) -> _Model:
    """``model`` built from the parsed flags named after its fields, with ``given`` on top."""
    values = {name: getattr(args, name) for name in fields_of(model) if hasattr(args, name)}
    return model(**{**values, **given})


def fields_of(model: type) -> dict[str, FieldInfo]:
    fields = getattr(model, "model_fields", None) or getattr(model, "__pydantic_fields__", None)
    if fields is None:
        raise TypeError(f"{model.__name__} is neither a pydantic model nor a pydantic dataclass")
    return fields


def help_text(info: FieldInfo, *, show_default: bool = False) -> str:
    text = (info.description or "").replace("%", "%%")  # argparse formats help with %
    default = info.default
    if show_default and not info.is_required() and isinstance(default, (str, int, float, Path)):
        text = f"{text} (default {default})".lstrip()
    return text


def value_kind(info: FieldInfo) -> dict[str, Any]:
    """argparse's ``choices`` for a Literal, ``nargs`` for a list, else the value check of ``type``."""
    kind = plain_type(info.annotation)
    if get_origin(kind) is Literal:
        return {"choices": list(get_args(kind))}
    if get_origin(kind) is list:
        return {"nargs": "+", "type": value_check(get_args(kind)[0], info)}
    return {"type": value_check(kind, info)}


def plain_type(annotation: Any) -> Any:
    """``X`` for ``X | None``."""
    if get_origin(annotation) in (Union, types.UnionType):
        present = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(present) == 1:
            return present[0]
    return annotation


def value_check(kind: Any, info: FieldInfo) -> Callable[[str], Any]:
    """The check for the field's lower bound, with the one-line message each flag has always had.

    Upper bounds other than 1 are left to the model's own validation.
    """
    bounds = {
        key: getattr(item, key) for item in info.metadata for key in ("gt", "ge", "lt", "le") if hasattr(item, key)
    }
    if kind is float and bounds == {"gt": 0, "lt": 1}:
        return probability
    if kind is float and bounds == {"ge": 0, "le": 1}:
        return fraction
    if kind is float and bounds.get("gt") == 0:
        return positive_float
    if kind is int and bounds.get("ge") == 0:
        return non_negative_int
    if kind is int and (bounds.get("ge", 0) >= 1 or "gt" in bounds):
        return positive_int
    return str if kind is SecretStr else kind


def positive_int(text: str) -> int:
    value = _number(text, int)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def non_negative_int(text: str) -> int:
    value = _number(text, int, "an integer")
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def positive_float(text: str) -> float:
    value = _number(text, float)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def probability(text: str) -> float:
    value = _number(text, float)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text!r}")
    return value


def fraction(text: str) -> float:
    value = _number(text, float)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be within [0, 1], got {text}")
    return value


def _number(text: str, kind: Callable[[str], Any], what: str = "a number") -> Any:
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not {what}: {text!r}") from None
