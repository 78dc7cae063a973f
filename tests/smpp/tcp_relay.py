#!/usr/bin/python3
"""A loopback TCP relay for the SMPP reconnect test: listens on 127.0.0.1 port 0 (written to
--port-file) and joins each connection to 127.0.0.1:<the port in --target-file, read at each new
connection>. When either side closes, both are closed: a killed SMSC looks to the client like a
dropped connection, and a new SMSC (on another port) is reached by writing its port to the file."""

import argparse
import asyncio
import os


async def pump(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def handle(client_reader, client_writer, target_file):
    try:
        with open(target_file, encoding="utf-8") as f:
            port = int(f.read().strip())
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", port)
    except (OSError, ValueError):
        client_writer.close()
        return
    await asyncio.gather(pump(client_reader, server_writer), pump(server_reader, client_writer))


async def main(args):
    server = await asyncio.start_server(lambda r, w: handle(r, w, args.target_file), "127.0.0.1", 0)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("%d\n" % server.sockets[0].getsockname()[1])
    os.rename(tmp, args.port_file)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--port-file", required=True)
    p.add_argument("--target-file", required=True)
    asyncio.run(main(p.parse_args()))
