"""Streaming stores for compiled loops that write large outputs they will not read again.

The weekly series of a chunk are megabytes written once (R x series x weeks)
and read only later, after the whole chunk. An ordinary store first reads the
cache line it writes into (so a line written in full is moved twice); a
non-temporal store writes whole lines straight to memory without reading them
or evicting the data the loop still works on. :func:`stream_rows` copies a
small array, built in cache, into such an output with these stores, row by row
(each row a run of whole lines); :func:`fence` after the last one orders them
before any later store, as other threads must see them. The values written are
the same bits: only how they reach memory changes. Where the processor has no
such store the hint is ignored (an ordinary store).
"""

from __future__ import annotations

from typing import Any

from llvmlite import ir  # type: ignore[import-untyped]
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

__all__ = ["fence", "stream_rows"]


def _stream_typed(typingctx, out, row, col, value):  # pragma: no cover - compiled
    """``out[row, col] = value`` (float64, 2-D) as a non-temporal store of its 64 bits."""
    if value != types.float64 or not (isinstance(out, types.Array) and out.ndim == 2):
        return None  # no such signature: numba reports the call as untypable
    if out.dtype != types.float64 or not out.mutable:
        return None
    sig = types.void(out, row, col, value)

    def codegen(context, builder, signature, args):
        kind = signature.args[0]
        array = context.make_array(kind)(context, builder, args[0])
        at = cgutils.get_item_pointer(context, builder, kind, array, [args[1], args[2]], wraparound=False)
        word = ir.IntType(64)  # as an integer: x86 has a non-temporal store of a 64-bit register
        store = builder.store(builder.bitcast(args[3], word), builder.bitcast(at, word.as_pointer()))
        store.set_metadata("nontemporal", builder.module.add_metadata([ir.Constant(ir.IntType(32), 1)]))
        return context.get_dummy_value()

    return sig, codegen


def _fence_typed(typingctx):  # pragma: no cover - compiled
    """A full memory fence: every store before it, streamed ones included, is seen before any after it."""
    sig = types.void()

    def codegen(context, builder, signature, args):
        builder.fence("seq_cst")
        return context.get_dummy_value()

    return sig, codegen


# numba calls an intrinsic without its typing context; typed as Any so that the checker does not ask for it
_stream: Any = intrinsic(_stream_typed)
fence: Any = intrinsic(_fence_typed)


@njit(cache=True, nogil=True, error_model="numpy")
def stream_rows(src, out):  # pragma: no cover - compiled
    """Copy ``src`` into ``out`` (float64, same 2-D shape) with streaming stores, row by row;
    call :func:`fence` once after the last copy."""
    for i in range(src.shape[0]):
        for j in range(src.shape[1]):
            _stream(out, i, j, src[i, j])
