"""The trainer as a child process: started in a session of its own (so Cancel can
stop it and everything it started, accelerate's workers included), found again by
its pid file after the bot restarts, and told apart from a process that reused
the pid by its command line."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from curation.training.local.job import PID, LocalJob

WORKER_MODULE = "curation.training.local.worker"
_LOG_TAIL_LINES = 15
_LOG_TAIL_CHARS = 2000


@dataclass(frozen=True, slots=True)
class ProcessState:
    alive: bool
    # Only known for a child this process started and reaped; None after a restart.
    exit_code: int | None = None


def trainer_command(job_path: Path, accelerate_config: Path | None) -> list[str]:
    """`python -m worker JOB`, or the same module under `accelerate launch`."""
    if accelerate_config is None:
        return [sys.executable, "-m", WORKER_MODULE, str(job_path)]
    return [
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--config_file",
        str(accelerate_config),
        "-m",
        WORKER_MODULE,
        str(job_path),
    ]


class TrainerProcesses:
    """The trainer processes of this bot. Children it started are kept so their
    exit status is read (and zombies reaped); others are known by pid file."""

    def __init__(self) -> None:
        self._children: dict[Path, subprocess.Popen[bytes]] = {}

    def start(self, job: LocalJob, command: list[str]) -> int:
        job.run_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "TOKENIZERS_PARALLELISM": "false"}
        with job.log_path.open("ab") as log:
            child = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env=env,
            )
        self._children[job.run_dir] = child
        (job.run_dir / PID).write_text(f"{child.pid}\n", encoding="utf-8")
        return child.pid

    def state(self, job: LocalJob) -> ProcessState:
        child = self._children.get(job.run_dir)
        if child is not None:
            code = child.poll()
            return ProcessState(alive=code is None, exit_code=code)
        pid = _read_pid(job.run_dir)
        return ProcessState(alive=pid is not None and _is_trainer(pid, job))

    def terminate(self, job: LocalJob, grace_seconds: float = 10.0) -> None:
        """SIGTERM to the trainer's process group, SIGKILL if it is still there
        after `grace_seconds`."""
        pid = _read_pid(job.run_dir)
        if pid is None or not self.state(job).alive:
            return
        _signal_group(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_seconds
        while time.monotonic() < deadline:
            if not self.state(job).alive:
                return
            time.sleep(0.1)
        _signal_group(pid, signal.SIGKILL)
        child = self._children.get(job.run_dir)
        if child is not None:
            child.wait(timeout=grace_seconds)


def log_tail(job: LocalJob) -> str:
    """The last lines of the trainer's log, progress-bar redraws left out."""
    try:
        with job.log_path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 64 * 1024))
            text = f.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""
    lines = [line.rsplit("\r", 1)[-1].rstrip() for line in text.splitlines()]
    tail = "\n".join(line for line in lines if line.strip())
    tail = "\n".join(tail.splitlines()[-_LOG_TAIL_LINES:])
    return tail[-_LOG_TAIL_CHARS:]


def _read_pid(run_dir: Path) -> int | None:
    try:
        return int((run_dir / PID).read_text(encoding="utf-8").strip())
    except (FileNotFoundError, ValueError):
        return None


def _is_trainer(pid: int, job: LocalJob) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process; exists
    proc = Path("/proc") / str(pid)
    if not proc.is_dir():
        return True  # no /proc (macOS): the pid is all there is to go on
    try:
        stat = (proc / "stat").read_text()
        if stat.rsplit(")", 1)[-1].split()[0] == "Z":
            return False  # exited, waiting for a parent that is gone to reap it
        cmdline = (proc / "cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return str(job.job_path).encode() in cmdline


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)
