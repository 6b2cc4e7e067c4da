#!/usr/bin/python3
"""pty-answer.py - run a command on a terminal and answer its question.

    pty-answer.py ANSWER COMMAND [ARG...]

Runs COMMAND with a pseudo-terminal as its standard input, output and
error (so isatty() is true for all three), waits for a question ending in
"[y/N]", types ANSWER and Enter (ANSWER "EOF": Ctrl-D, the end of input),
and keeps reading until the command exits.  Prints everything the command
wrote to the terminal (with the echoed answer, lines ending LF) on standard output and
exits with the command's exit status; 124 when no question came within 30
seconds or the command did not end within 60 (it is then killed).

For the scenario tests of "postroom campaign send" and "subscriber
import", whose questions are only asked on a terminal.  With PTY_QUESTION
in the environment, that text is the question instead (a password
prompt's ": "), and ANSWER may hold one answer a line, typed in turn at
each time the question is asked.
"""
import os
import pty
import select
import signal
import sys
import time


def main():
    if len(sys.argv) < 3:
        sys.stderr.write(__doc__)
        return 64
    answers, cmd = sys.argv[1].split("\n"), sys.argv[2:]
    question = os.environ.get("PTY_QUESTION", "[y/N]").encode()
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    out = b""
    asked = False
    given = 0
    start = time.time()
    timed_out = False
    while True:
        waited = time.time() - start
        if (not asked and waited > 30) or waited > 60:
            timed_out = True
            os.kill(pid, signal.SIGKILL)
            break
        ready, _, _ = select.select([fd], [], [], 0.2)
        if not ready:
            continue
        try:
            data = os.read(fd, 4096)
        except OSError:         # EIO: the command has closed the terminal
            break
        if not data:
            break
        out += data
        while not asked and out.count(question) > given:
            answer = answers[given]
            given += 1
            asked = given == len(answers)
            if answer == "EOF":
                os.write(fd, b"\x04")
            else:
                os.write(fd, answer.encode() + b"\n")
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    # A terminal ends lines with CR LF; the tests grep for lines.
    sys.stdout.write(out.decode("utf-8", "replace").replace("\r\n", "\n"))
    sys.stdout.flush()
    if timed_out:
        return 124
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main())
