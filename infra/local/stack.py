#!/usr/bin/env python3
"""The local emulator stack: moto (DynamoDB, SES v2, EventBridge) and localstripe, on 127.0.0.1.

  stack.py run -- CMD...   start both on free ports, run CMD with the stack's environment, stop both
                           (whatever CMD does, Ctrl-C included); exits with CMD's status
  stack.py up DIR          start both in the background for `make dev`; writes DIR/stack.env
  stack.py down DIR        stop what `up` started (no-op when nothing runs)

The environment handed on: AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
STRIPE_API_BASE, LOCAL_STACK_MOTO_PORT, LOCAL_STACK_STRIPE_PORT.
"""
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, proc: subprocess.Popen, name: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{name} exited with {proc.returncode} before it was ready")
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return  # it answered
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{name} did not come up at {url} within {seconds:.0f}s")


def start(log_dir: Path) -> tuple[list[subprocess.Popen], dict]:
    log_dir.mkdir(parents=True, exist_ok=True)
    moto_port, stripe_port = free_port(), free_port()
    procs = []
    specs = [
        ("moto", [sys.executable, str(HERE / "moto_serialized.py"), "-H", "127.0.0.1", "-p", str(moto_port)],
         f"http://127.0.0.1:{moto_port}/moto-api/"),
        ("localstripe", [sys.executable, str(HERE / "localstripe_loopback.py"), str(stripe_port)],
         f"http://127.0.0.1:{stripe_port}/v1/customers"),
    ]
    try:
        for name, argv, ready_url in specs:
            log = open(log_dir / f"{name}.log", "ab")
            proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True)
            procs.append(proc)
            wait_until_up(ready_url, proc, name)
    except BaseException:
        stop(procs)
        raise
    env = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{moto_port}",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "STRIPE_API_BASE": f"http://127.0.0.1:{stripe_port}",
        "LOCAL_STACK_MOTO_PORT": str(moto_port),
        "LOCAL_STACK_STRIPE_PORT": str(stripe_port),
    }
    return procs, env


def stop_pid(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    for _ in range(50):
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        stop_pid(proc.pid)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass


def run(cmd: list[str]) -> int:
    log_dir = Path(os.environ.get("LOCAL_STACK_LOG_DIR", HERE.parent.parent / ".local" / "test"))
    procs, env = start(log_dir)
    child = None

    def forward(signum, _frame):
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    try:
        print(f"stack: moto at {env['AWS_ENDPOINT_URL']}, localstripe at {env['STRIPE_API_BASE']}", flush=True)
        child = subprocess.Popen(cmd, env={**os.environ, **env})
        return child.wait()
    finally:
        if child is not None and child.poll() is None:
            child.kill()
            child.wait()
        stop(procs)


def up(state_dir: Path) -> None:
    down(state_dir)
    procs, env = start(state_dir)
    (state_dir / "stack.pids").write_text("\n".join(str(p.pid) for p in procs) + "\n")
    (state_dir / "stack.env").write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    print(f"stack: moto at {env['AWS_ENDPOINT_URL']}, localstripe at {env['STRIPE_API_BASE']}")


def down(state_dir: Path) -> None:
    pids = state_dir / "stack.pids"
    if pids.exists():
        for line in pids.read_text().split():
            stop_pid(int(line))
        pids.unlink()


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "run" and argv[1] == "--" and len(argv) > 2:
        return run(argv[2:])
    if len(argv) == 2 and argv[0] == "up":
        up(Path(argv[1]))
        return 0
    if len(argv) == 2 and argv[0] == "down":
        down(Path(argv[1]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
