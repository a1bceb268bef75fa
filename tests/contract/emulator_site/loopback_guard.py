"""Loopback only, for every Python process started with this folder on its path (sitecustomize imports it).

A Python audit hook sees every socket call of the process. This one refuses any connect, send or bind
to an address outside 127.0.0.0/8 and ::1, and any name lookup other than `localhost`, before the call
reaches the kernel, and writes one line to stderr (LocalStack's log) for each: the contract fixture fails
the run on such a line. Many of LocalStack's outside callers fail quietly (boto3's instance-metadata
retries log at debug level, the S3 host probe swallows its error), so without the line the log would not
show them. The refusal looks like the network's own (ENETUNREACH, EAI_NONAME), so callers take their
usual failure path.
"""

import errno
import ipaddress
import socket
import sys


def _is_loopback(host):
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    if host in (None, "", "localhost"):
        return True
    try:
        address = ipaddress.ip_address(str(host).split("%")[0])
    except ValueError:
        return False  # a name other than localhost needs DNS
    return (getattr(address, "ipv4_mapped", None) or address).is_loopback


def _refuse(what, target, error):
    # The wording matches the fixture's log check ("Network is unreachable", "name resolution").
    message = f"loopback guard (emulator_site): refused {what} {target}: {error.strerror}"
    try:
        sys.stderr.write(message + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    raise error


def _loopback_guard(event, args):
    if not event.startswith("socket."):
        return
    if event in ("socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg"):
        address = args[1]  # (self, address) for all four
        # AF_INET/AF_INET6 addresses are (host, port, ...); a Unix socket's is a path, netlink's two ints.
        if isinstance(address, tuple) and len(address) >= 2 and isinstance(address[0], (str, bytes)):
            host, port = address[0], address[1]
            # LocalStack picks free ports by binding ("", 0) and closing the socket at once; a listener
            # beyond loopback is caught by the contract tests' socket check (test_loopback.py).
            if event == "socket.bind" and port == 0 and host in ("", "0.0.0.0", "::"):
                return
            if not _is_loopback(host):
                unreachable = OSError(errno.ENETUNREACH, "Network is unreachable")
                _refuse(event.removeprefix("socket."), f"{host}:{port}", unreachable)
    elif event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex", "socket.gethostbyaddr"):
        host = args[0]
        if not _is_loopback(host):
            _refuse(
                "lookup of",
                host,
                socket.gaierror(socket.EAI_NONAME, "no name resolution beyond loopback"),
            )


sys.addaudithook(_loopback_guard)
