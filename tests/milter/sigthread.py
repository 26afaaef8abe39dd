#!/usr/bin/env python3
"""tests/milter/sigthread.py - send a signal to libmilter's signal thread
of a running htgate-milter, as the kernel would hand it a SIGTERM the main
thread could not take at that moment.

That thread waits in sigwait() (milter/sigwait.c: SIGTERM and SIGINT
only), so while it waits, its blocked set holds SIGHUP but not SIGTERM;
every other libmilter thread blocks both, the main thread neither.  The
thread is found by that mask in /proc/PID/task/*/status and signalled
with tgkill(2).

usage: sigthread.py PID SIGNUM    exit 0 sent, 1 no such thread
"""
import ctypes
import os
import sys

HUP, TERM = 1 << 0, 1 << 14             # bits of SIGHUP (1), SIGTERM (15)


def signal_thread(pid):
    """the TID whose blocked mask has SIGHUP and not SIGTERM, or None"""
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
            for line in f:
                if line.startswith("SigBlk:"):
                    blk = int(line.split()[1], 16)
                    if blk & HUP and not blk & TERM:
                        return int(tid)
    return None


def main():
    pid, sig = int(sys.argv[1]), int(sys.argv[2])
    tid = signal_thread(pid)
    if tid is None:
        print("no thread of %d waits for SIGTERM with SIGHUP blocked" % pid)
        return 1
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.tgkill(pid, tid, sig) != 0:            # glibc >= 2.30
        print("tgkill: %s" % os.strerror(ctypes.get_errno()))
        return 1
    print("signal %d sent to thread %d of %d" % (sig, tid, pid))
    return 0


if __name__ == "__main__":
    sys.exit(main())
