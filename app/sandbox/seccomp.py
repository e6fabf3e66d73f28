"""A seccomp filter for the memory that rlimits do not count.

RLIMIT_AS caps what a process maps, but System V shared memory and message queues live in
the IPC namespace and memfd files in the page cache: measured here, one sandboxed process
held 800 MB of SysV segments under a 256 MB RLIMIT_AS. Those calls fail with EPERM instead;
Python's own code never needs them (multiprocessing uses /dev/shm, which is read-only anyway).
"""

from __future__ import annotations

import errno
import platform
import struct

# <linux/audit.h> architecture tokens and each architecture's syscall numbers.
_ARCHITECTURES: dict[str, tuple[int, dict[str, int]]] = {
    "x86_64": (0xC000003E, {"shmget": 29, "msgget": 68, "memfd_create": 319}),
    "aarch64": (0xC00000B7, {"shmget": 194, "msgget": 186, "memfd_create": 279}),
}
# x32 syscalls share the x86_64 audit token but set this bit: they would bypass the numbers.
_X32_SYSCALL_BIT = 0x40000000

_LOAD_WORD = 0x20  # BPF_LD | BPF_W | BPF_ABS
_JUMP_IF_EQUAL = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_JUMP_IF_AT_LEAST = 0x35  # BPF_JMP | BPF_JGE | BPF_K
_RETURN = 0x06  # BPF_RET | BPF_K
_ALLOW = 0x7FFF0000
_KILL_PROCESS = 0x80000000
_FAIL_EPERM = 0x00050000 | errno.EPERM
# Offsets in struct seccomp_data.
_SYSCALL_NUMBER = 0
_ARCH = 4


def memory_hole_filter(machine: str | None = None) -> bytes | None:
    """The compiled filter for this machine, or None where we do not know the numbers."""
    known = _ARCHITECTURES.get(machine or platform.machine())
    if known is None:
        return None
    arch, numbers = known
    program = [
        (_LOAD_WORD, 0, 0, _ARCH),
        # Another ABI (i386 via int 0x80) has other numbers: end the process rather than guess.
        (_JUMP_IF_EQUAL, 1, 0, arch),
        (_RETURN, 0, 0, _KILL_PROCESS),
        (_LOAD_WORD, 0, 0, _SYSCALL_NUMBER),
        (_JUMP_IF_AT_LEAST, 0, 1, _X32_SYSCALL_BIT),
        (_RETURN, 0, 0, _KILL_PROCESS),
    ]
    for number in numbers.values():
        program += [(_JUMP_IF_EQUAL, 0, 1, number), (_RETURN, 0, 0, _FAIL_EPERM)]
    program.append((_RETURN, 0, 0, _ALLOW))
    return b"".join(struct.pack("=HBBI", *instruction) for instruction in program)
