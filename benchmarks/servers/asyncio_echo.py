"""Echo server on CPython's asyncio streams, the baseline AsyncStreams ports.

Usage: python3 asyncio_echo.py --port P [--mode line|read] [--no-drain] [--limit BYTES] [--lifetime SECONDS]

Listens on 127.0.0.1 only, with TCP_NODELAY. Line mode is the asyncio documentation's echo loop made
persistent: readline(), write(line), await drain(). Read mode does read(65536) instead of readline().
With --no-drain the handler never awaits drain(), as much asyncio code in the wild does: then a peer that
does not read makes the server buffer everything it sends. A line longer than --limit (default 1 MiB, so
that 100 KiB lines fit) closes its connection. The process exits after --lifetime seconds (default 3600).
"""
import argparse
import asyncio
import socket


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mode", choices=("line", "read"), default="line")
    parser.add_argument("--no-drain", action="store_true")
    parser.add_argument("--limit", type=int, default=1 << 20)
    parser.add_argument("--lifetime", type=float, default=3600)
    args = parser.parse_args()
    drain = not args.no_drain

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            if args.mode == "line":
                while True:
                    line = await reader.readline()
                    if not line:
                        break
                    writer.write(line)
                    if drain:
                        await writer.drain()
            else:
                while True:
                    data = await reader.read(65536)
                    if not data:
                        break
                    writer.write(data)
                    if drain:
                        await writer.drain()
        except (ConnectionError, asyncio.LimitOverrunError, ValueError):
            pass
        finally:
            writer.close()
            try:
                await writer.wait_closed()
            except ConnectionError:
                pass

    server = await asyncio.start_server(handle, "127.0.0.1", args.port, limit=args.limit, backlog=1024)
    print(f"listening on 127.0.0.1:{server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        try:
            await asyncio.wait_for(server.serve_forever(), args.lifetime)
        except asyncio.TimeoutError:
            pass


if __name__ == "__main__":
    asyncio.run(main())
