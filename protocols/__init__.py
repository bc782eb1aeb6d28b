"""Reference protocols and the plug-in protocol API (installed as ``tssbqs_pbt.protocols``).

- :class:`DesignProtocol` realises every point of the design space (docs/options.md), one
  small behaviour piece per option value; :func:`family_c` and :func:`family_j` are the two
  published valid families (COCA/CODEX and Jing et al.; docs/families.md) as presets.
- :class:`StorageProtocol`, :class:`ProtocolSpec`, :func:`declare` and :func:`register` let users
  bring their own candidate protocol; :func:`get` and :func:`available` look protocols up
  (built-ins, registered ones, and the ``tssbqs_pbt.protocols`` entry-point group).
"""

from __future__ import annotations

from tssbqs_pbt.protocols.api import (
    FieldRole,
    MessageDecl,
    ProtocolSpec,
    StorageProtocol,
    canonical_quorum,
    declare,
    infer_roles,
)
from tssbqs_pbt.protocols.design_protocol import DesignProtocol
from tssbqs_pbt.protocols.families import FAMILY_C_OPTIONS, FAMILY_J_OPTIONS, family_c, family_j
from tssbqs_pbt.protocols.options import (
    OPTION_TYPES,
    AckMode,
    Delegates,
    Design,
    DesignOptions,
    ReadGuard,
    ReadShape,
    RequestDedup,
    SignGuard,
    StoreForm,
    TsSource,
    parse_design,
    parse_option,
)
from tssbqs_pbt.protocols.registry import (
    ENTRY_POINT_GROUP,
    available,
    get,
    protocol_named,
    register,
    unregister,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "FAMILY_C_OPTIONS",
    "FAMILY_J_OPTIONS",
    "OPTION_TYPES",
    "AckMode",
    "Delegates",
    "Design",
    "DesignOptions",
    "DesignProtocol",
    "FieldRole",
    "MessageDecl",
    "ProtocolSpec",
    "ReadGuard",
    "ReadShape",
    "RequestDedup",
    "SignGuard",
    "StorageProtocol",
    "StoreForm",
    "TsSource",
    "available",
    "canonical_quorum",
    "declare",
    "family_c",
    "family_j",
    "get",
    "infer_roles",
    "parse_design",
    "parse_option",
    "protocol_named",
    "register",
    "unregister",
]
