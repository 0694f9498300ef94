"""Starts `wafa run` again and again, quickly: the imports are paid once, here.

On a busy machine a fresh `python -m bot run` spends seconds importing
aiogram before it talks to Telegram, which would make a test that kills and
restarts the bot several times take minutes. This launcher imports the bot
once and, for each `start` line on stdin, forks a child that runs exactly
what `wafa run` runs (`bot.cli.main(["run"])`, with this process's
environment) and prints the child's pid. `wait <pid>` prints its exit status
once it has ended (a SIGKILL shows as -9). The parent never starts an event
loop, so forking is safe.
"""
from __future__ import annotations

import os
import sys

import bot.app  # noqa: F401  (the expensive imports, done once before any fork)
from bot.cli import main


def _child() -> None:
    os.dup2(2, 1)  # stdout is the launcher's answer channel
    try:
        code = main(["run"])
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    sys.stderr.flush()
    os._exit(code)


def _status(pid: int) -> int:
    _, status = os.waitpid(pid, 0)
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def serve() -> None:
    for line in sys.stdin:
        command, _, argument = line.strip().partition(" ")
        if command == "start":
            pid = os.fork()
            if pid == 0:
                _child()
            print(pid, flush=True)
        elif command == "wait":
            print(_status(int(argument)), flush=True)


if __name__ == "__main__":
    serve()
