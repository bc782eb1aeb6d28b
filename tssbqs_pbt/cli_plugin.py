"""The command line's plug-ins: ``--plugin MODULE[:ATTR]`` loaded for one run, and a saved
counterexample of a protocol that is not registered refused with how to load it."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

from tssbqs_pbt.counterexample_file import read_counterexample
from tssbqs_pbt.engine.search import COUNTEREXAMPLE_FORMAT
from tssbqs_pbt.errors import InvalidArgument
from tssbqs_pbt.protocols import ProtocolSpec, available, register

__all__ = ["check_registered", "load_plugin"]


def load_plugin(text: str) -> str:
    """Import ``MODULE[:ATTR]``, register its ProtocolSpec (not as an entry point: for this run
    only) and return its name."""
    module_name, _, attr = text.partition(":")
    if not module_name:
        raise InvalidArgument(f"--plugin {text!r}: give MODULE or MODULE:ATTR")
    try:
        if module_name.endswith(".py"):
            path = Path(module_name)
            loader_spec = importlib.util.spec_from_file_location(path.stem, path)
            if loader_spec is None or loader_spec.loader is None or not path.is_file():
                raise InvalidArgument(f"--plugin {text!r}: no such file {module_name!r}")
            module = importlib.util.module_from_spec(loader_spec)
            sys.modules[path.stem] = module
            loader_spec.loader.exec_module(module)
        else:
            if "" not in sys.path and str(Path.cwd()) not in sys.path:
                sys.path.insert(0, str(Path.cwd()))
            module = importlib.import_module(module_name)
    except ImportError as exc:
        raise InvalidArgument(f"--plugin {text!r}: cannot import {module_name!r} ({exc})") from None
    if attr:
        if not hasattr(module, attr):
            raise InvalidArgument(f"--plugin {text!r}: {module_name!r} has no attribute {attr!r}")
        spec = getattr(module, attr)
    else:
        found = {id(v): v for v in vars(module).values() if isinstance(v, ProtocolSpec)}
        if len(found) != 1:
            raise InvalidArgument(f"--plugin {text!r}: {module_name!r} holds {len(found)} "
                                  "ProtocolSpec objects; name one as MODULE:ATTR")
        (spec,) = found.values()
    if not isinstance(spec, ProtocolSpec):
        raise InvalidArgument(f"--plugin {text!r}: {attr!r} is a {type(spec).__name__}, not a "
                              "tssbqs_pbt.protocols.ProtocolSpec")
    register(spec, replace=True)
    return spec.name


def check_registered(path: str, plugin: str | None, command: str) -> None:
    """Refuse a counterexample of a protocol that is not registered, saying how to load it
    (a plug-in's file replays with ``--plugin MODULE``)."""
    _, _, name, _ = read_counterexample(Path(path), COUNTEREXAMPLE_FORMAT)
    if name.startswith("design[") or name in available():
        return
    hint = ("the --plugin given registers another protocol; name the module (or "
            "MODULE:ATTR) that defines it" if plugin is not None else
            "if it is a plug-in's, load its module: pass --plugin MODULE[:ATTR]")
    raise InvalidArgument(f"{path!r} is a counterexample of protocol {name!r}, which is not "
                          f"registered; {hint}, e.g. tssbqs-pbt {command} {path} --plugin "
                          "my_protocol.py")
