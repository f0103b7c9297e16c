#!/usr/bin/python3
# The benchmark's measuring process (bench/run.mjs talks to it over
# stdin/stdout, one JSON object per line). It stays up for the whole run, so
# an agent measured inside a network namespace is started from inside it (no
# `ip netns exec` per sample), and it is the agents' child subreaper: a
# process an agent leaves running in the background (IPaddr2's send_arp) is
# re-parented here, not to init, so the harness can list it and stop it by
# PID when it is done.
#
# Each sample is taken by measure-one (bench/lib/measure-one.c, compiled by
# the harness): forked from this 10 MB interpreter, a child would carry its
# image into ru_maxrss; forked from the small C program the floor is ~1 MB.
# measure-one starts its clock just before its fork, so its own start-up is
# not measured either.
import ctypes
import json
import os
import signal
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36
try:
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
except Exception:  # not fatal: orphans then go to init, as without the bench
    pass


MEASURE_ONE = sys.argv[1]
# Optional scheduling priority for everything measured (both sides alike): on a
# busy machine a negative value keeps other work from inflating wall times.
# With the kernel's autogroup scheduling (sched_autogroup_enabled), a nice
# value only counts inside its session: so the runner starts its own session
# and gives that session's autogroup the same nice value.
NICE = int(sys.argv[2]) if len(sys.argv) > 2 else 0
if NICE != 0:
    try:
        os.setsid()
    except OSError:
        pass
    try:
        with open("/proc/self/autogroup", "w") as f:
            f.write(str(NICE))
    except OSError:
        pass
    os.nice(NICE)


def measure(req):
    timeout = int(req.get("timeout_s", 120))
    argv = [MEASURE_ONE, req.get("stdout") or os.devnull, req.get("stderr") or os.devnull, str(timeout)] + req["argv"]
    r = subprocess.run(argv, env=req.get("env", {}), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, timeout=timeout + 30, check=False)
    if r.returncode != 0:
        raise RuntimeError(f"measure-one exited {r.returncode}")
    wall, user, sys_, rss, status, timed_out = (int(x) for x in r.stdout.split())
    return {
        "wallNs": wall,
        "userUs": user,
        "sysUs": sys_,
        "maxRssKiB": rss,
        "code": os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else None,
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        "timedOut": bool(timed_out),
    }


def reap_orphans():
    """Reaps re-parented background processes that have exited (never blocks)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def orphans():
    """PIDs of processes re-parented to this runner and still alive."""
    me = os.getpid()
    pids = []
    try:
        for tid in os.listdir(f"/proc/{me}/task"):
            with open(f"/proc/{me}/task/{tid}/children") as f:
                pids += [int(p) for p in f.read().split()]
    except OSError:
        pass
    return sorted(set(pids))


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        req = json.loads(line)
        try:
            if req.get("op") == "orphans":
                reap_orphans()
                res = {"pids": orphans()}
            elif req.get("op") == "kill":
                for p in req["pids"]:
                    if p in orphans():  # only processes that are ours
                        try:
                            os.kill(p, signal.SIGTERM)
                        except ProcessLookupError:
                            pass
                time.sleep(0.2)
                for p in req["pids"]:
                    if p in orphans():
                        try:
                            os.kill(p, signal.SIGKILL)
                        except ProcessLookupError:
                            pass
                time.sleep(0.05)
                reap_orphans()
                res = {"pids": orphans()}
            else:
                res = measure(req)
                reap_orphans()
        except Exception as e:  # report, keep serving
            res = {"error": f"{type(e).__name__}: {e}"}
        sys.stdout.write(json.dumps(res) + "\n")
        sys.stdout.flush()


main()
