"""Loading configs: YAML → dict → ``--set`` overrides → validated ``Config``, every issue at once.

Errors never escape as pydantic or YAML tracebacks: they become ``ConfigError`` with one ``Issue``
per problem, each with the dotted path of the field in the user's file
(``datacenters[0].hosts[1].ram``).

This module validates the schema only (``validate_schema``); the full check of a config, with
the checks of the layers above ``config`` (policies, traces, network, engine), is
``dcsim.validate.parse_config`` / ``load_config``.

Imports: yaml, pydantic, dcsim.errors, dcsim.config.{schema, catalog, workloads}.
"""

from __future__ import annotations

import hashlib
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from dcsim.config.safeyaml import (
    MAX_CONFIG_BYTES,
    LimitError,
    check_values,
    load_shipped,
    load_yaml,
    read_input_bytes,
)
from dcsim.errors import ConfigError, Issue

__all__ = [
    "apply_overrides",
    "config_hash",
    "format_path",
    "issues_from_validation",
    "load_data",
    "load_raw",
    "validate_schema",
]

DEFAULT_CONFIG = "default.yaml"


def format_path(parts: list[str | int] | tuple[str | int, ...]) -> str:
    """``("a", 0, "b")`` → ``"a[0].b"``."""
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += f".{p}" if out else str(p)
    return out


def _user_loc(loc: tuple[str | int, ...], data: Any) -> list[str | int]:
    """Keep the parts of a pydantic ``loc`` that exist in the user's data (drops union tags)."""
    out: list[str | int] = []
    cur = data
    for part in loc:
        in_dict = isinstance(cur, dict) and part in cur
        in_list = isinstance(cur, list) and isinstance(part, int) and 0 <= part < len(cur)
        if in_dict or in_list:
            out.append(part)
            cur = cur[part]
        elif isinstance(part, str) and (part.startswith("function-") or part in _TAGS):
            continue
        else:
            out.append(part)
            cur = None
    return out


_TAGS: set[str] = set()


def _message(err: Any) -> str:
    kind = err.get("type", "")
    msg = str(err.get("msg", "invalid value"))
    if kind == "extra_forbidden":
        return "unknown key (not part of the schema; check the spelling)"
    if kind == "missing":
        return "required field is missing"
    if kind == "union_tag_invalid":
        ctx = err.get("ctx", {})
        return f"unknown kind {ctx.get('tag')!r}; expected one of {ctx.get('expected_tags')}"
    if kind == "union_tag_not_found":
        return "missing 'kind'"
    msg = msg.removeprefix("Value error, ")
    if "input" in err and kind not in ("extra_forbidden",):
        got = err["input"]
        if not isinstance(got, dict | list) and repr(got) not in msg and str(got) not in msg:
            msg = f"{msg} (got {got!r})"
    return msg


def issues_from_validation(
    exc: ValidationError, prefix: str = "", data: Any = None
) -> list[Issue]:
    """One ``Issue`` per pydantic error, with user-facing dotted paths."""
    issues = []
    for err in exc.errors():
        loc = tuple(err.get("loc", ()))
        parts = _user_loc(loc, data) if data is not None else list(loc)
        path = format_path(parts)
        if prefix:
            path = f"{prefix}.{path}" if path and not path.startswith("[") else prefix + path
        issues.append(Issue(path, _message(err)))
    return issues


def load_raw(path: str | Path) -> dict[str, Any]:
    """Parse a YAML config file into a dict (no validation; size, depth and aliases bounded)."""
    src = str(path)
    raw = read_input_bytes(path, "config file", MAX_CONFIG_BYTES)
    try:
        data = load_yaml(raw.decode("utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(Issue("", f"not valid YAML{_where(exc)}: {_problem(exc)}"),
                          source=src) from None
    except UnicodeDecodeError:
        raise ConfigError(Issue("", "not a UTF-8 text file"), source=src) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(Issue("", "expected a mapping of keys at the top level"), source=src)
    return data


def _where(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    return f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""


def _problem(exc: yaml.YAMLError) -> str:
    """The parser's problem, without the excerpt of the file PyYAML appends to ``str(exc)``."""
    problem = getattr(exc, "problem", None)
    return str(problem) if problem else "cannot parse"


_SEG = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _split_path(dotted: str) -> list[str | int]:
    parts: list[str | int] = []
    pos = 0
    for m in _SEG.finditer(dotted):
        # a name first; then "." before each name, nothing before each [index]
        sep = "." if parts and m.group(1) is not None else ""
        if dotted[pos:m.start()] != sep or (not parts and m.group(1) is None):
            raise ValueError(f"cannot parse path {dotted!r}")
        parts.append(m.group(1) if m.group(1) is not None else int(m.group(2)))
        pos = m.end()
    if pos != len(dotted) or not parts:
        raise ValueError(f"cannot parse path {dotted!r}")
    return parts


def _what(value: Any) -> str:
    """A YAML value as a message names it: ``null``, ``true``, ``the number 5``, ``a list``."""
    if value is None or isinstance(value, bool):
        return yaml.safe_dump(value).split("\n", 1)[0]
    if isinstance(value, int | float):
        return f"the number {value:g}"
    if isinstance(value, str):
        return f"the text {value[:40]!r}"
    return f"a {'list' if isinstance(value, list) else type(value).__name__}"


def set_path(data: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``data[dotted]`` in place, creating mappings along the way (lists must exist)."""
    parts = _split_path(dotted)
    cur: Any = data
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(part, int):
            if not isinstance(cur, list) or part >= len(cur):
                raise ValueError(f"{format_path(parts[: i + 1])}: no such list element")
            if last:
                cur[part] = value
            else:
                cur = cur[part]
        else:
            if not isinstance(cur, dict):
                raise ValueError(f"{format_path(parts[:i])} is {_what(cur)}, not a mapping")
            if last:
                cur[part] = value
            else:
                if part not in cur or cur[part] is None:
                    nxt: Any = [] if isinstance(parts[i + 1], int) else {}
                    cur[part] = nxt
                cur = cur[part]


def get_path(data: Any, dotted: str) -> Any:
    """Value at ``dotted`` in nested dicts/lists; KeyError if absent."""
    cur = data
    for part in _split_path(dotted):
        if isinstance(part, int):
            if not isinstance(cur, list) or part >= len(cur):
                raise KeyError(dotted)
            cur = cur[part]
        else:
            if not isinstance(cur, dict) or part not in cur:
                raise KeyError(dotted)
            cur = cur[part]
    return cur


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``dotted.path=value`` strings (values parsed as YAML scalars) to a deep copy."""
    out: dict[str, Any] = json.loads(json.dumps(data))
    issues = []
    for item in overrides:
        if "=" not in item:
            issues.append(Issue("--set", f"expected dotted.path=value, got {item!r}"))
            continue
        key, _, raw = item.partition("=")
        try:
            value = load_yaml(raw) if raw.strip() else ""
        except LimitError as exc:
            issues.append(Issue(f"--set {key.strip()}", f"value refused: {exc.problem}"))
            continue
        except yaml.YAMLError:
            value = raw
        try:
            set_path(out, key.strip(), value)
        except ValueError as exc:
            issues.append(Issue(f"--set {key.strip()}", str(exc)))
    if issues:
        raise ConfigError(issues)
    return out


def validate_schema(data: dict[str, Any], source: str | None = None) -> Any:
    """Validate a raw dict into a ``Config`` (schema, units, catalog names).

    Raises ``ConfigError`` listing every schema problem plus the unknown catalog names found in
    the raw data. Returns a ``dcsim.config.schema.Config``.
    """
    from dcsim.config.schema import Config

    _collect_tags()
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        issues = issues_from_validation(exc, data=data)
        seen = {i.path for i in issues}
        issues += [i for i in name_issues(data) if i.path not in seen]
        raise ConfigError(issues, source=source) from None


def name_issues(data: Any) -> list[Issue]:
    """Unknown catalog names, found in raw data even when the schema check fails.

    So that one pass reports schema problems and misspelled names together (policy names are
    checked the same way by ``dcsim.validate``).
    """
    from dcsim.config.catalog import guest_types, host_models, virtualization_profiles

    if not isinstance(data, dict):
        return []
    out: list[Issue] = []

    def known(section: str, shipped: dict[str, Any]) -> set[str]:
        extra = data.get(section)
        return set(shipped) | (set(extra) if isinstance(extra, dict) else set())

    def check(path: str, value: Any, names: set[str], what: str) -> None:
        if isinstance(value, str) and value not in names:
            out.append(Issue(path, f"unknown {what} {value!r}; known: {', '.join(sorted(names))}"))

    models = known("host_models", host_models())
    profiles = known("virtualization_profiles", virtualization_profiles())
    types = known("guest_types", guest_types())
    dcs = data.get("datacenters")
    for d, dc in enumerate(dcs if isinstance(dcs, list) else []):
        hosts = dc.get("hosts") if isinstance(dc, dict) else None
        for j, h in enumerate(hosts if isinstance(hosts, list) else []):
            if isinstance(h, dict):
                check(f"datacenters[{d}].hosts[{j}].model", h.get("model"), models, "host model")
                check(f"datacenters[{d}].hosts[{j}].virtualization", h.get("virtualization"),
                      profiles, "virtualization profile")
    guests = data.get("guests")
    for k, g in enumerate(guests if isinstance(guests, list) else []):
        if isinstance(g, dict):
            check(f"guests[{k}].type", g.get("type"), types, "guest type")
    return out


def load_data(path: str | Path | None = None,
              overrides: list[str] | None = None) -> tuple[dict[str, Any], str]:
    """Raw config data with ``--set`` overrides applied, and its source name (no validation)."""
    if path is None:
        text = resources.files("dcsim.configs").joinpath(DEFAULT_CONFIG).read_text("utf-8")
        data = load_shipped(text)
        source = f"<dcsim>/configs/{DEFAULT_CONFIG}"
    else:
        data = load_raw(path)
        source = str(path)
    if overrides:
        try:
            data = apply_overrides(data, overrides)
        except ConfigError as exc:
            raise ConfigError(exc.issues, source=source) from None
    bad = check_values(data)
    if bad:
        raise ConfigError(bad, source=source)
    return data, source


def config_hash(config_json: dict[str, Any]) -> str:
    """First 12 hex digits of the SHA-256 of canonical JSON (sorted keys, no NaN)."""
    blob = json.dumps(config_json, sort_keys=True, allow_nan=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:12]


def _collect_tags() -> None:
    """Remember discriminator values of tagged unions so they are dropped from error paths."""
    if _TAGS:
        return
    from typing import get_args

    from dcsim.config import workloads

    _TAGS.add("plugin")  # the workload union's member for plugin kinds (its Tag)
    for union_name in dir(workloads):
        obj = getattr(workloads, union_name)
        for member in get_args(get_args(obj)[0]) if get_args(obj) else ():
            if get_args(member) and not hasattr(member, "model_fields"):
                member = get_args(member)[0]  # Annotated[Model, Tag(...)]
            field = getattr(member, "model_fields", {}).get("kind")
            if field is not None and isinstance(field.default, str):
                _TAGS.add(field.default)
