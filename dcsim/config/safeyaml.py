"""Bounded reading of user input files and YAML: no hang, no memory blow-up, no huge numbers.

A config is read only if it is a regular file no larger than :data:`MAX_CONFIG_BYTES` (a FIFO or
``/dev/zero`` is refused before a byte is read). YAML is parsed by :class:`BoundedLoader`, the
safe loader with three limits checked while the document is composed, before any Python object
is built: nesting depth (:data:`MAX_DEPTH`), nodes after alias expansion (:data:`MAX_NODES`, the
"billion laughs" bomb) and digits of an integer (:data:`MAX_INT_DIGITS`). :func:`check_values`
then walks the parsed data (``Any``-typed sections included) and refuses, with the config path of
each, numbers outside :func:`dcsim.units.bounded_number`'s range (non-finite, or too large or
too small in magnitude), the rule every config model also applies to its fields.

The CSV inputs a config names (carbon series, failure traces) are read with
:func:`read_input_text` (UTF-8, a leading byte-order mark dropped, anything else refused with the
line of the first bad byte) and :func:`csv_rows` (a malformed record or a field beyond the
``csv`` module's limit refused with its line), so that no reader meets a ``UnicodeDecodeError``
or ``csv.Error`` of its own.

Imports: csv, yaml, dcsim.errors (no other dcsim module).
"""

from __future__ import annotations

import csv
import io
import os
import stat
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from dcsim.errors import ConfigError, Issue
from dcsim.units import bounded_number

__all__ = [
    "MAX_CONFIG_BYTES",
    "MAX_DEPTH",
    "MAX_INT_DIGITS",
    "MAX_NODES",
    "BoundedLoader",
    "LimitError",
    "check_values",
    "csv_rows",
    "load_shipped",
    "load_yaml",
    "read_input_bytes",
    "read_input_text",
    "regular_file",
]

MAX_CONFIG_BYTES = 4 * 1024 * 1024
"""Largest config file read (bytes): the shipped configs are a few kB."""
MAX_DEPTH = 64
"""Deepest nesting of mappings/lists in a config (the shipped ones reach 6)."""
MAX_NODES = 200_000
"""Most YAML nodes in one document after expanding aliases."""
MAX_INT_DIGITS = 40
"""Most digits of an integer literal (int64 has 19)."""



def regular_file(path: str | Path, what: str, max_bytes: int) -> Path:
    """``path`` if it is an existing regular file of at most ``max_bytes``; else ``ConfigError``.

    Checked with ``stat`` before opening, so a FIFO, a device (``/dev/zero``) or a directory is
    refused without reading from it.
    """
    p = Path(path)
    src = str(path)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise ConfigError(Issue("", f"{what} not found: {src}"), source=src) from None
    except OSError as exc:
        raise ConfigError(Issue("", f"cannot read {what} {src}: {exc.strerror}"),
                          source=src) from None
    if stat.S_ISDIR(st.st_mode):
        raise ConfigError(Issue("", f"expected a {what}, got a directory: {src}"), source=src)
    if not stat.S_ISREG(st.st_mode):
        raise ConfigError(Issue("", f"expected a regular {what}, got a device, pipe or socket: "
                                f"{src}"), source=src)
    if st.st_size > max_bytes:
        raise ConfigError(Issue("", f"{what} {src} is {st.st_size:,} bytes; the limit is "
                                f"{max_bytes:,}"), source=src)
    return p


def read_input_bytes(path: str | Path, what: str, max_bytes: int) -> bytes:
    """The bytes of a regular file of at most ``max_bytes`` (re-checked while reading)."""
    p = regular_file(path, what, max_bytes)
    try:
        with open(p, "rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise ConfigError(Issue("", f"cannot read {what} {path}: {exc.strerror}"),
                          source=str(path)) from None
    if len(data) > max_bytes:
        raise ConfigError(Issue("", f"{what} {path} grew beyond {max_bytes:,} bytes while read"),
                          source=str(path))
    return data


def read_input_text(path: str | Path, what: str, max_bytes: int) -> str:
    """The text of a regular UTF-8 file of at most ``max_bytes`` (a leading BOM, which
    spreadsheet programs write, is dropped); ``ConfigError`` (path ``""``) naming the file and
    the line of the first byte that is not UTF-8."""
    data = read_input_bytes(path, what, max_bytes)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError(Issue("", f"{path} line {line}: byte 0x{data[exc.start]:02x} is not "
                                f"UTF-8 text; expected a UTF-8 {what} (save it as UTF-8)"),
                          source=str(path)) from None


def csv_rows(text: str, src: str) -> list[tuple[int, list[str]]]:
    """The records of CSV ``text`` with the line each starts on (1-based; a quoted field may
    span lines), blank lines as ``[]``. ``ConfigError`` (path ``""``) naming ``src`` and the
    line for what the ``csv`` module refuses: a field longer than its limit (131,072
    characters, kept: no real field is that long) or a malformed record."""
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for row in reader:
            rows.append((start, row))
            start = reader.line_num + 1
    except csv.Error as exc:
        reason = str(exc)
        if "field larger than field limit" in reason:
            reason = f"a field longer than {csv.field_size_limit():,} characters"
        raise ConfigError(Issue("", f"{src} line {start}: not readable as CSV ({reason})"),
                          source=src) from None
    return rows


class LimitError(yaml.YAMLError):
    """Input beyond a bound of this module (depth, aliases, digits); a YAML error."""

    def __init__(self, problem: str, mark: Any) -> None:
        super().__init__(problem)
        self.problem = problem
        self.problem_mark = mark


class BoundedLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` with bounded depth, alias expansion and integer size."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                event = self.peek_event()  # type: ignore[no-untyped-call]
                raise LimitError(f"nested deeper than {MAX_DEPTH} levels", event.start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_document(self) -> Node | None:
        node = super().compose_document()
        if node is not None:
            _count_nodes(node)
        return node

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        """A mapping whose keys are all distinct: a repeated key is refused (with both lines),
        not silently replaced by its last value as PyYAML does."""
        first: dict[tuple[str, str], Any] = {}
        for key_node, _value in node.value:
            if isinstance(key_node, ScalarNode):
                k = (key_node.tag, key_node.value)
                if k in first:
                    raise LimitError(f"duplicate key {key_node.value!r} (first at line "
                                     f"{first[k].line + 1}); a key may appear once in a mapping",
                                     key_node.start_mark)
                first[k] = key_node.start_mark
        return super().construct_mapping(node, deep)

    def construct_yaml_int(self, node: ScalarNode) -> int:
        digits = sum(c.isalnum() for c in str(node.value))
        if digits > MAX_INT_DIGITS:
            raise LimitError(f"integer with {digits} digits (at most {MAX_INT_DIGITS})",
                         node.start_mark)
        return super().construct_yaml_int(node)


BoundedLoader.add_constructor("tag:yaml.org,2002:int", BoundedLoader.construct_yaml_int)


def _count_nodes(root: Node) -> None:
    """Refuse a document whose alias-expanded tree exceeds ``MAX_NODES`` (memoised: linear)."""
    sizes: dict[int, int] = {}
    open_: set[int] = set()  # nodes whose children are being counted: an alias to one is a cycle
    # iterative post-order: the depth is already bounded, but keep the stack explicit anyway
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if id(node) in sizes:
            continue
        kids: list[Node] = []
        if isinstance(node, SequenceNode):
            kids = list(node.value)
        elif isinstance(node, MappingNode):
            kids = [n for pair in node.value for n in pair]
        if not done:
            if id(node) in open_:
                raise LimitError("an alias refers to a value that contains it (a cycle)",
                                 node.start_mark)
            open_.add(id(node))
            stack.append((node, True))
            for k in kids:
                if id(k) in open_:
                    raise LimitError("an alias refers to a value that contains it (a cycle)",
                                     k.start_mark)
                if id(k) not in sizes:
                    stack.append((k, False))
            continue
        open_.discard(id(node))
        total = 1 + sum(sizes[id(k)] for k in kids)
        if total > MAX_NODES:
            raise LimitError(f"more than {MAX_NODES:,} values once aliases are expanded",
                         node.start_mark)
        sizes[id(node)] = total


def load_yaml(text: str) -> Any:
    """Parse YAML text with :class:`BoundedLoader` (raises ``yaml.YAMLError``)."""
    loader = BoundedLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


_SHIPPED_LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_shipped(text: str) -> Any:
    """Parse YAML that ships inside dcsim (catalogs, the default config), never user input.

    Uses libyaml's C safe loader when PyYAML was built with it (the catalogs parse in a few ms
    instead of ~0.1 s), else the pure-Python safe loader; both give the same data on every shipped
    file (``tests/unit/config/test_shipped_yaml.py``). User files go through :func:`load_yaml`.
    """
    return yaml.load(text, Loader=_SHIPPED_LOADER)


def check_values(data: Any, prefix: str = "") -> list[Issue]:
    """Issues for every number in ``data`` outside :func:`dcsim.units.bounded_number`'s range."""
    issues: list[Issue] = []
    stack: list[tuple[Any, str, str | None]] = [(data, prefix, None)]
    while stack:
        value, path, key = stack.pop()
        if isinstance(value, dict):
            for k, v in value.items():
                stack.append((v, f"{path}.{k}" if path else str(k), str(k)))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                stack.append((v, f"{path}[{i}]", None))
        else:
            try:
                bounded_number(value, key)
            except ValueError as exc:
                issues.append(Issue(path, str(exc)))
    issues.sort(key=lambda i: i.path)
    return issues
