"""STORE_FORM: what a server stores and which reported data a delegate may trust."""

from __future__ import annotations

from typing import Protocol

from tssbqs_pbt.protocols.encoding import datum_is_signed
from tssbqs_pbt.protocols.messages import Datum
from tssbqs_pbt.protocols.options import StoreForm

from tssbqs_pbt.kernel import NodeContext

__all__ = ["STORE_FORMS", "StoreFormRule"]


class StoreFormRule(Protocol):
    def acceptable(self, ctx: NodeContext, datum: Datum) -> bool:
        """May a server store (or a delegate use) ``datum``?"""
        ...

    def kept(self, datum: Datum) -> Datum:
        """The form in which a server keeps ``datum``."""
        ...


class SignedStore:
    """Only complete self-verifying data are stored and trusted."""

    def acceptable(self, ctx: NodeContext, datum: Datum) -> bool:
        return datum_is_signed(ctx, datum)

    def kept(self, datum: Datum) -> Datum:
        return datum


class UnsignedStore:
    """<x, ts> is stored as given, without its signature; reports are taken at face value."""

    def acceptable(self, ctx: NodeContext, datum: Datum) -> bool:
        return True

    def kept(self, datum: Datum) -> Datum:
        return Datum(datum.value, datum.ts)


STORE_FORMS: dict[StoreForm, StoreFormRule] = {
    StoreForm.SIGNED: SignedStore(),
    StoreForm.UNSIGNED: UnsignedStore(),
}
