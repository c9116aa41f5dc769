# Runs one command (argv after this script's name) and prints, as one JSON line on stdout, its wall time
# from spawn to exit, its exit code, the bytes it wrote to stdout and its peak resident set: os.wait4's
# rusage of that one child (ru_maxrss, KiB on Linux). The command's stderr passes through. Python's own
# start-up is outside the timed span.
# Used by bench/envelope/cli-runs.ts; never through a shell.
import json
import os
import sys
import time

r, w = os.pipe()
started = time.monotonic()
pid = os.fork()
if pid == 0:
    os.close(r)
    os.dup2(w, 1)
    try:
        os.execvp(sys.argv[1], sys.argv[1:])
    finally:
        os._exit(127)
os.close(w)
size = 0
while True:
    chunk = os.read(r, 1 << 16)
    if not chunk:
        break
    size += len(chunk)
_, status, usage = os.wait4(pid, 0)
ms = (time.monotonic() - started) * 1000
print(json.dumps({"code": os.waitstatus_to_exitcode(status), "ms": ms, "maxRssKiB": usage.ru_maxrss, "stdoutBytes": size}))
