#!/usr/bin/python3
# Measures one child process at a time for the benchmark (bench/run.mjs talks
# to it over stdin/stdout, one JSON object per line).
#
# Why Python: Node's child_process gives no rusage of a child, and GNU time's
# %e/%U/%S print 10 ms steps, too coarse for a 10 ms meta-data. os.wait4() is
# the kernel's own answer: the user+sys time and ru_maxrss of the child
# together with every descendant it waited for. python3 is a dependency of
# resource-agents, so it is here wherever the shell agents are.
#
# The clock runs from just before posix_spawn to just after wait4 returns:
# this process is already running, so its own start-up is not measured. The
# child gets exactly the environment in the request (like `env -i VAR=…`).
#
# The runner makes itself a child subreaper: a process an agent leaves running
# in the background (IPaddr2's send_arp) is re-parented here, not to init, so
# the harness can list it and stop it by PID when it is done.
import ctypes
import json
import os
import signal
import sys
import threading
import time

PR_SET_CHILD_SUBREAPER = 36
try:
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
except Exception:  # not fatal: orphans then go to init, as without the bench
    pass


def measure(req):
    argv = req["argv"]
    env = req.get("env", {})
    out_path = req.get("stdout") or os.devnull
    err_path = req.get("stderr") or os.devnull
    timeout = float(req.get("timeout_s", 120))
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
        (os.POSIX_SPAWN_OPEN, 2, err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
    ]
    timed_out = []
    t0 = time.perf_counter_ns()
    pid = os.posix_spawn(argv[0], argv, env, file_actions=actions, setsigdef=(signal.SIGPIPE, signal.SIGINT, signal.SIGTERM))

    def kill():
        timed_out.append(True)
        try:
            os.kill(pid, signal.SIGKILL)  # our own child, by PID
        except ProcessLookupError:
            pass

    timer = threading.Timer(timeout, kill)
    timer.start()
    _, status, ru = os.wait4(pid, 0)
    t1 = time.perf_counter_ns()
    timer.cancel()
    return {
        "pid": pid,
        "wallNs": t1 - t0,
        "userUs": round(ru.ru_utime * 1e6),
        "sysUs": round(ru.ru_stime * 1e6),
        "maxRssKiB": ru.ru_maxrss,
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
