"""A minimal counting SMTP sink for benchmarks, in its own process (it shares the 2 cores with what it measures).

aiosmtpd costs ~1.6 ms of CPU per message (its state machine, envelope objects, per-line coroutines), more than our
sender after its own optimisation, so the nudge bench would mostly measure the sink. This one is an asyncio Protocol
that parses only what it must: EHLO/HELO, MAIL, RCPT (recipients counted per address), DATA (read up to the
terminating "." line and dropped), RSET, NOOP, QUIT. It advertises PIPELINING and 8BITMIME and answers in order,
so pipelined clients work too. Counts live in the sink process; `SinkProcess.total` reads a shared counter, and
`SinkProcess.stats()` asks for (total messages, distinct recipients, duplicate deliveries).

Used by bench/nudges.py (`--sink fast`, the default). Not for tests: they use aiosmtpd (a real, complete server).
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import socket


class _Session(asyncio.Protocol):
    def __init__(self, counts: dict[str, int], total):
        self.counts, self.total = counts, total
        self.buffer = b""
        self.in_data = False
        self.rcpts: list[str] = []

    def connection_made(self, transport):
        self.transport = transport
        transport.write(b"220 sink ESMTP\r\n")

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        out = []
        while True:
            if self.in_data:
                end = self.buffer.find(b"\r\n.\r\n")
                if end < 0:
                    # Keep only a tail long enough to hold a terminator split across reads.
                    self.buffer = self.buffer[-4:] if len(self.buffer) > 4 else self.buffer
                    break
                self.buffer = self.buffer[end + 5 :]
                self.in_data = False
                for r in self.rcpts:
                    self.counts[r] = self.counts.get(r, 0) + 1
                self.total.value += 1
                self.rcpts = []
                out.append(b"250 OK\r\n")
                continue
            nl = self.buffer.find(b"\r\n")
            if nl < 0:
                break
            line, self.buffer = self.buffer[:nl], self.buffer[nl + 2 :]
            verb = line[:4].upper()
            if verb == b"RCPT":
                self.rcpts.append(line.split(b":", 1)[1].strip().strip(b"<>").decode("utf-8", "replace"))
                out.append(b"250 OK\r\n")
            elif verb == b"MAIL":
                self.rcpts = []
                out.append(b"250 OK\r\n")
            elif verb == b"DATA":
                self.in_data = True
                out.append(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                # A message can start right after DATA in the same read; the terminator search above handles it,
                # including an empty body ("\r\n.\r\n" right away) because the buffer starts at a line start.
                self.buffer = b"\r\n" + self.buffer
            elif verb == b"EHLO":
                out.append(b"250-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 52428800\r\n")
            elif verb == b"QUIT":
                out.append(b"221 Bye\r\n")
                self.transport.write(b"".join(out))
                self.transport.close()
                return
            elif verb == b"RSET":
                self.rcpts = []
                out.append(b"250 OK\r\n")
            else:  # HELO, NOOP and anything else
                out.append(b"250 OK\r\n")
        if out:
            self.transport.write(b"".join(out))


def _serve(sock: socket.socket, total, conn) -> None:
    counts: dict[str, int] = {}

    async def main():
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: _Session(counts, total), sock=sock)
        async with server:
            while True:
                ready = await loop.run_in_executor(None, conn.poll, 0.5)
                if ready:
                    command = conn.recv()
                    if command == "stats":
                        dup = sum(c - 1 for c in counts.values() if c > 1)
                        conn.send((total.value, len(counts), dup))
                    elif command == "stop":
                        return

    asyncio.run(main())


class SinkProcess:
    """Start with `.start()`; `.port`, `.total` (live), `.stats()`, `.stop()`."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        ctx = mp.get_context("fork")
        self._total = ctx.Value("q", 0, lock=False)
        self._conn, child_conn = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(self.sock, self._total, child_conn), daemon=True)

    def start(self) -> SinkProcess:
        self.proc.start()
        return self

    @property
    def total(self) -> int:
        return self._total.value

    def stats(self) -> tuple[int, int, int]:
        self._conn.send("stats")
        return self._conn.recv()

    def stop(self) -> None:
        if self.proc.is_alive():
            self._conn.send("stop")
            self.proc.join(timeout=5)
            if self.proc.is_alive():
                self.proc.terminate()
        self.sock.close()
