"""Data-parallel training on one machine's cores: N processes, each with its own share of every batch and
one torch thread, their gradients summed over gloo (torch.distributed) after each backward.

Why: the vila-shapes model is small, so torch's intra-op threads hardly help (a stage-2 step, batch 32:
0.95 s with 2 threads, about 1.0 s with 1), while two processes with one thread each run at about the speed
of one. Each process sees the same batches (the same seeds) and takes rows rank, rank + N, ...; the mean of
the processes' gradients is the gradient of the whole batch (up to how the answer tokens split), every
process applies the same update, and the weights stay identical. Results depend on N, not on timing.

The processes are forked after the data are drawn, so they share the pictures' memory.
"""
import hashlib
import multiprocessing
import os
import socket
import traceback

import torch
import torch.distributed as dist


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _child(fn, rank: int, world: int, port: int, errors) -> None:
    try:
        _init(rank, world, port)
        fn(rank, world)
    except BaseException:  # noqa: BLE001 - reported to the parent, which fails the run
        errors.put(f"process {rank}:\n{traceback.format_exc()}")
        os._exit(1)
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def _init(rank: int, world: int, port: int) -> None:
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)


def run(world: int, fn) -> None:
    """fn(rank, world) in `world` processes: rank 0 here, the others forked. With world 1, just fn(0, 1)."""
    if world <= 1:
        fn(0, 1)
        return
    ctx = multiprocessing.get_context("fork")
    port = _free_port()
    errors = ctx.SimpleQueue()
    kids = [ctx.Process(target=_child, args=(fn, r, world, port, errors), daemon=True) for r in range(1, world)]
    for k in kids:
        k.start()
    try:
        _init(0, world, port)
        fn(0, world)
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
        for k in kids:
            k.join(timeout=60)
    if not errors.empty() or any(k.exitcode != 0 for k in kids):
        raise RuntimeError("a training process failed:\n" + ("" if errors.empty() else errors.get()))


def share(rows, rank: int, world: int):
    """This process's rows of a batch: rank, rank + world, ..."""
    return rows[rank::world]


def sync_grads(params, scalars=()) -> list:
    """Average the gradients of params over the processes (missing gradients count as zero) and the given
    float scalars (e.g. losses, for the log); returns the averaged scalars. A no-op with one process."""
    scalars = [float(s) for s in scalars]
    if not dist.is_initialized():
        return scalars
    world = dist.get_world_size()
    grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
    flat = torch.cat([g.reshape(-1) for g in grads] + [torch.tensor(scalars, dtype=grads[0].dtype)])
    dist.all_reduce(flat)
    flat /= world
    off = 0
    for p, g in zip(params, grads):
        n = g.numel()
        if p.grad is None:
            p.grad = flat[off:off + n].view_as(p).clone()
        else:
            p.grad.copy_(flat[off:off + n].view_as(p))
        off += n
    return flat[off:].tolist()


def gather(obj) -> list:
    """Every process's obj, in rank order (a one-element list with one process)."""
    if not dist.is_initialized():
        return [obj]
    out = [None] * dist.get_world_size()
    dist.all_gather_object(out, obj)
    return out


def same_weights(params) -> None:
    """Rank 0's values into every process's params (they start equal when forked; this makes sure)."""
    if dist.is_initialized():
        for p in params:
            dist.broadcast(p.data, 0)


def check_same(params) -> None:
    """Raise if the processes' params differ (they must stay equal: same gradients, same updates)."""
    if not dist.is_initialized():
        return
    digest = hashlib.sha256(b"".join(p.detach().cpu().contiguous().numpy().tobytes() for p in params)).hexdigest()
    digests = gather(digest)
    if len(set(digests)) != 1:
        raise RuntimeError(f"the training processes' weights differ: {digests}")
