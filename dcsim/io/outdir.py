"""Output folders of ``dcsim run``: which ones may be written, and replacing one atomically.

Rules (the README's "Where results go"):

* ``--out DIR`` may be a new path, an empty folder, or a dcsim run's results folder (its
  ``manifest.json`` says ``kind: dcsim-run``) when ``overwrite`` is set and the folder holds
  nothing but what dcsim wrote there (the files its manifest lists, and the figures ``dcsim
  plot`` drew there, which the folder's ledger lists: ``dcsim.io.figures``; a figure named like
  dcsim's that the ledger does not list is the user's). Anything else is refused with a
  :class:`ConfigError` naming ``--out``: a non-empty folder of something else, a file, a device
  or other special file, a symbolic link, a name that is ``.`` or ``..``, and the current
  folder or any of its parents.
* The results are built in a hidden sibling ``.NAME.tmp-PID`` that holds a marker file
  (:data:`MARKER`, the writer's identity) while it is incomplete, then put in place: on Linux
  with one ``renameat2(RENAME_EXCHANGE)``, which swaps the old and the new folder atomically;
  elsewhere with two renames (old aside to ``.NAME.old-PID``, new into place). SIGINT and
  SIGTERM are held back during the swap. At every instant the path holds the old or the new
  complete folder (with the fallback, only a SIGKILL between the two renames can leave it
  missing, and the next run puts the old folder back).
* Leftovers of interrupted writes (``.NAME.tmp-PID`` / ``.NAME.old-PID`` siblings carrying the
  marker, whose writer is dead) are removed by :func:`clean_leftovers` at the next run.

Imports: json, os, shutil, signal, dcsim.errors, dcsim.io.{atomic, figures, owner}.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import re
import shutil
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

from dcsim.errors import ConfigError, Issue
from dcsim.io.atomic import temporary_of
from dcsim.io.figures import FIGURES_LEDGER, figures_ledger_file, written_figures
from dcsim.io.owner import owner_alive, process_identity, read_identity

__all__ = ["MARKER", "RUN_KIND", "check_can_create", "check_out_dir", "clean_leftovers",
           "commit_dir", "new_tmp_dir", "probe_writable"]

#: Marker file inside a folder dcsim is still writing (or is about to delete).
MARKER = ".dcsim-incomplete"
#: ``manifest.json`` ``kind`` of a run's results folder.
RUN_KIND = "dcsim-run"
#: Files ``dcsim plot`` writes into a run folder (dcsim's own when its ledger lists them).
PLOT_FILES = frozenset({"timeseries.png", "timeseries.pdf"})
#: What a run folder of a dcsim version that did not list its files may hold.
_LEGACY_FILES = re.compile(r"^(summary\.json|manifest\.json|config\.yaml|resolved\.yaml|"
                           r"[a-z_]+\.parquet)$")


def _issue(msg: str) -> ConfigError:
    return ConfigError(Issue("--out", msg))


def _manifest(folder: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((folder / "manifest.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _is_run_manifest(m: dict[str, Any] | None) -> bool:
    if m is None:
        return False
    if "kind" in m:
        return bool(m["kind"] == RUN_KIND)
    # written before manifests had a kind: a run's manifest has exactly these provenance keys
    return {"dcsim_version", "scenario_id", "seed", "replication"} <= m.keys()


def _dead_plot_temporary(p: Path) -> bool:
    """Whether ``p`` is a temporary ``dcsim plot`` left when it was killed: a regular file
    named like its temporaries whose writer (the pid in the name) no longer runs. A live pid
    (``dcsim plot`` still drawing, or a pid reused since) keeps it foreign: the safe side."""
    tmp = temporary_of(p.name)  # .NAME.tmp-PID, NAME a figure or the ledger
    if tmp is None or tmp[0] not in PLOT_FILES | {FIGURES_LEDGER} or p.is_symlink() \
            or not p.is_file():
        return False
    try:
        os.kill(tmp[1], 0)
    except ProcessLookupError:
        return True
    except (OSError, OverflowError):  # exists but not ours to signal, or not a pid
        return False
    return False


def _foreign_entries(folder: Path, m: dict[str, Any]) -> list[str]:
    """Entries of a run folder that dcsim did not write."""
    listed = m.get("files")
    # a figure is dcsim's only if dcsim plot drew it here (the ledger), not by its name alone
    ours: set[str] = (written_figures(folder) & PLOT_FILES) | {MARKER}
    if figures_ledger_file(folder):
        ours.add(FIGURES_LEDGER)
    ours |= {p.name for p in folder.iterdir() if _dead_plot_temporary(p)}
    if isinstance(listed, list):
        ours |= {str(f) for f in listed}
        return sorted(p.name for p in folder.iterdir() if p.name not in ours)
    return sorted(p.name for p in folder.iterdir()
                  if p.name not in ours and not (_LEGACY_FILES.match(p.name) and p.is_file()))


def check_out_dir(final: Path, *, overwrite: bool) -> None:
    """Refuse (``ConfigError`` on ``--out``) a results folder that writing to would destroy.

    See the module docstring for the rules. Nothing is left created or changed (a probe
    folder shows the results can be written there, and is removed at once).
    """
    final = Path(final)
    raw = str(final).rstrip("/" + os.sep)
    if os.path.basename(raw) in ("", ".", ".."):
        raise _issue(f"{str(final)!r} is not a folder name dcsim can replace; name a new "
                     "folder, e.g. results/mine")
    resolved = Path(os.path.realpath(final))
    cwd = Path(os.path.realpath(Path.cwd()))
    if resolved == cwd or resolved in cwd.parents:
        raise _issue(f"{final} is the current folder or one of its parents; dcsim replaces the "
                     "whole --out folder, so name a new folder, e.g. results/mine")
    if final.is_symlink():
        raise _issue(f"{final} is a symbolic link; give the folder itself")
    if final.exists():
        if not final.is_dir():
            raise _issue(f"{final} exists and is not a folder (a file, a device or another "
                         "special file); dcsim never replaces it: pick another --out")
        entries = [p for p in final.iterdir() if p.name != MARKER]
        if not entries:
            return
        m = _manifest(final)
        if not _is_run_manifest(m):
            raise _issue(f"{final} is not empty and is not a dcsim run's results folder (no "
                         "manifest.json of a dcsim run); dcsim never deletes what it did not "
                         "write: pick another --out")
        assert m is not None
        if not overwrite:
            raise _issue(f"{final} already holds the results of a dcsim run (name "
                         f"{m.get('name')!r}, seed {m.get('seed')}); pass --overwrite to "
                         "replace them, or pick another --out")
        foreign = _foreign_entries(final, m)
        if foreign:
            shown = ", ".join(foreign[:5]) + (" …" if len(foreign) > 5 else "")
            raise _issue(f"{final} holds files dcsim did not write ({shown}); move them "
                         "elsewhere first, or pick another --out")
        probe_writable(final.parent, final.name)
        return
    check_can_create(final)


def check_can_create(path: Path) -> None:
    """Refuse (``ConfigError`` on ``--out``) a ``path`` dcsim could not create: the first folder
    that exists above it must be a folder (not a file) that dcsim can write in
    (:func:`probe_writable`). Used for results folders, sweep folders, figures and traces."""
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise _issue(f"{parent} is not a folder, so {path} cannot be created in it")
    probe_writable(parent, path.name)


def probe_writable(folder: Path, name: str) -> None:
    """Refuse an ``--out`` whose results could not be written, before the simulation rather
    than after it: a hidden folder named like the temporary one (``.NAME.tmp-PID``) is made in
    ``folder`` and removed at once (a read-only or special file system, a name too long)."""
    probe = folder / f".{name}.tmp-{os.getpid()}-probe"
    try:
        probe.mkdir()
    except FileExistsError:
        return  # someone's (or ours, left by a kill): the folder takes names; not ours to touch
    except OSError as exc:
        raise _issue(f"dcsim cannot write its results in {folder} ({exc.strerror or exc}); "
                     "pick another --out") from None
    probe.rmdir()


# --------------------------------------------------------------------------- writing


def _write_marker(folder: Path, role: str) -> None:
    data = {**process_identity(), "role": role}
    (folder / MARKER).write_text(json.dumps(data) + "\n", encoding="utf-8")


def _new_sibling(final: Path, tag: str) -> Path:
    """Create and return ``.NAME.TAG-PID`` next to ``final`` (``-PID-k`` if that is taken:
    whatever already has the name is not ours to delete)."""
    base = f".{final.name}.{tag}-{os.getpid()}"
    for k in range(1000):
        path = final.parent / (base if k == 0 else f"{base}-{k}")
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path
    raise FileExistsError(f"no free temporary name next to {final}")


def new_tmp_dir(final: Path) -> Path:
    """A fresh hidden folder next to ``final`` (same file system), marked as incomplete."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = _new_sibling(final, "tmp")
    _write_marker(tmp, "tmp")
    return tmp


_LEFTOVER = re.compile(r"^\.(?P<name>.+)\.(?P<tag>tmp|old)-(?P<pid>\d+)(?:-\d+)?$")


def clean_leftovers(final: Path) -> list[Path]:
    """Remove what interrupted writes of ``final`` left; restore an old folder if ``final`` is gone.

    Only siblings named ``.NAME.tmp-PID`` / ``.NAME.old-PID`` that hold :data:`MARKER` (or are
    empty) and whose writer is dead are touched. Returns the paths removed or restored.
    """
    final = Path(final)
    parent = final.parent
    done: list[Path] = []
    if not parent.is_dir():
        return done
    for p in sorted(parent.iterdir()):
        m = _LEFTOVER.match(p.name)
        if m is None or m["name"] != final.name or p.is_symlink() or not p.is_dir():
            continue
        fallback = {**process_identity(), "pid": int(m["pid"]), "start": None}
        marker = p / MARKER
        if marker.is_file():
            ident = read_identity(marker) or fallback
        elif not any(p.iterdir()):
            ident = fallback
        else:
            continue  # not marked as dcsim's work in progress: never touched
        if owner_alive(ident) and ident["pid"] != os.getpid():
            continue
        if m["tag"] == "old" and not os.path.lexists(final) and (p / "manifest.json").is_file():
            os.rename(p, final)  # the old results, moved aside by a write that was killed
            (final / MARKER).unlink(missing_ok=True)
        else:
            shutil.rmtree(p, ignore_errors=True)
        done.append(p)
    stray = final / MARKER
    if final.is_dir() and not final.is_symlink() and stray.is_file():
        owner = read_identity(stray)
        if owner is None or not owner_alive(owner) or owner["pid"] == os.getpid():
            stray.unlink(missing_ok=True)  # a complete folder marked just before its swap
    return done


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) and SIGTERM back until the block is done, then act on them.

    Python runs signal handlers in the main thread only, so swapping the handlers there is
    enough (a signal mask would not be: the kernel may deliver to any other thread).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []

    def hold(signum: int, frame: FrameType | None) -> None:
        caught.append(signum)

    saved = {s: signal.signal(s, hold) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in saved.items():
            signal.signal(s, h)
        for num in dict.fromkeys(caught):
            h = saved[signal.Signals(num)]
            if callable(h):
                h(num, None)
            elif h == signal.SIG_DFL:
                signal.raise_signal(num)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2``); False where that is unavailable."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    errno = ctypes.get_errno()
    if errno in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: this file system cannot swap
        return False
    raise OSError(errno, os.strerror(errno), str(b))


def commit_dir(tmp: Path, final: Path) -> None:
    """Put the complete folder ``tmp`` at ``final``, replacing what is there atomically.

    The caller has checked ``final`` with :func:`check_out_dir`. The old folder is deleted.
    """
    tmp, final = Path(tmp), Path(final)
    with signals_deferred():
        old: Path | None = None
        if final.is_dir() and not final.is_symlink() and any(final.iterdir()):
            _write_marker(final, "old")  # so that a kill from here on leaves it recognisable
            if _exchange(tmp, final):
                old = tmp
            else:
                old = _new_sibling(final, "old")
                os.rename(final, old)  # replaces the empty folder just made
                try:
                    os.rename(tmp, final)
                except BaseException:
                    os.rename(old, final)
                    raise
        else:
            os.rename(tmp, final)  # a missing path or an empty folder is replaced atomically
        (final / MARKER).unlink(missing_ok=True)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
