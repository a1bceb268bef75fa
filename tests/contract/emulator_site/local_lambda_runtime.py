"""The process of one execution environment of the `local-process` executor (emulator only).

Started by `local_process_executor.py` as `python -I local_lambda_runtime.py` in the function's task root,
with the environment LocalStack computed for the function. It does what LocalStack's runtime init does
inside a Lambda container, on 127.0.0.1 only: imports the handler (`_HANDLER`, e.g. `handler.handler`),
reports `ready` with its port (or `error` when the import fails), and for each `POST /invoke` calls the
handler with the event and a context object, then posts the logs and the result (or the error as the
Lambda Python runtime shapes it: errorMessage, errorType, stackTrace). Standard library only. A loopback
guard (an audit hook) refuses any connect or name lookup beyond 127.0.0.0/8 and says so on stderr, which
the executor copies into LocalStack's log, where the contract fixture looks for such lines.
"""

import contextlib
import errno
import importlib
import io
import ipaddress
import json
import logging
import os
import sys
import threading
import time
import traceback
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer

ENDPOINT = os.environ["LOCALSTACK_RUNTIME_ENDPOINT"]
RUNTIME_ID = os.environ["LOCALSTACK_RUNTIME_ID"]
TASK_ROOT = os.environ["LAMBDA_TASK_ROOT"]
# Never through a proxy: LocalStack is on loopback.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def post(path, body):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(
        f"{ENDPOINT}/{path}", data=data, method="POST", headers={"Content-Type": "application/json"}
    )
    with OPENER.open(request, timeout=10) as response:
        response.read()


def error_of(exc):
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "stackTrace": traceback.format_list(traceback.extract_tb(exc.__traceback__)[1:]),
    }


class CurrentStdout(logging.Handler):
    """The Lambda Python runtime's log format, written to whatever stdout is while an invocation runs."""

    request_id = ""

    def emit(self, record):
        sys.stdout.write(
            f"[{record.levelname}]\t{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(record.created))}Z\t"
            f"{self.request_id}\t{record.getMessage()}\n"
        )


class Context:
    """The handler's `context` argument (the attributes the Lambda Python runtime documents)."""

    def __init__(self, request_id, function_arn, deadline):
        self.aws_request_id = request_id
        self.invoked_function_arn = function_arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self._deadline = deadline

    def get_remaining_time_in_millis(self):
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def is_loopback(host):
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    if host in (None, "", "localhost"):
        return True
    try:
        address = ipaddress.ip_address(str(host).split("%")[0])
    except ValueError:
        return False  # any other name needs DNS
    return (getattr(address, "ipv4_mapped", None) or address).is_loopback


def loopback_guard(event, args):
    """Refuse (and report on the process's own stderr, which LocalStack's log receives) any connect or
    lookup beyond loopback: the function talks to LocalStack and the registry on 127.0.0.1 only."""
    if event == "socket.connect" and isinstance(args[1], tuple) and len(args[1]) >= 2:
        target, refused = args[1][0], f"{args[1][0]}:{args[1][1]}"
    elif event == "socket.getaddrinfo":
        target, refused = args[0], f"lookup of {args[0]}"
    else:
        return
    if not is_loopback(target):
        sys.__stderr__.write(f"loopback guard (local_lambda_runtime): refused {refused}: Network is unreachable\n")
        sys.__stderr__.flush()
        raise OSError(errno.ENETUNREACH, "Network is unreachable")


sys.addaudithook(loopback_guard)
LOG_HANDLER = CurrentStdout()
logging.getLogger().addHandler(LOG_HANDLER)


def load_handler():
    sys.path.insert(0, TASK_ROOT)
    # EMULATOR ONLY: a folder of libraries built for this machine, put ahead of the function's own. The deployed
    # zip carries arm64 builds of its compiled libraries (cryptography) for Lambda; this process is LocalStack's
    # x86_64 interpreter, so the contract tests name a folder holding x86_64 builds of the same pinned versions
    # (tests/contract/test_auth_contract.py). The runtime differs from Lambda's in architecture only.
    extra = os.environ.get("EMULATOR_EXTRA_SITE")
    if extra:
        sys.path.insert(0, extra)
    module_name, _, function_name = os.environ["_HANDLER"].rpartition(".")
    return getattr(importlib.import_module(module_name), function_name)


def run(handler, invocation):
    request_id = invocation["invoke-id"]
    timeout_s = float(os.environ.get("AWS_LAMBDA_FUNCTION_TIMEOUT", "3"))
    started = time.monotonic()
    context = Context(request_id, invocation["invoked-function-arn"], started + timeout_s)
    output = io.StringIO()
    LOG_HANDLER.request_id = request_id
    outcome, body = "response", b""
    with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
        try:
            body = json.dumps(handler(json.loads(invocation["payload"] or "null"), context)).encode()
        except Exception as exc:
            outcome, body = "error", json.dumps(error_of(exc)).encode()
            print(f"[ERROR] {type(exc).__name__}: {exc}")
    duration_ms = (time.monotonic() - started) * 1000
    logs = (
        f"START RequestId: {request_id} Version: {context.function_version}\n{output.getvalue()}"
        f"END RequestId: {request_id}\nREPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\n"
    )
    post(f"invocations/{request_id}/logs", {"logs": logs})
    post(f"invocations/{request_id}/{outcome}", body)


def serve(handler):
    class Invocations(BaseHTTPRequestHandler):
        def do_POST(self):
            invocation = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()
            threading.Thread(target=run, args=(handler, invocation), daemon=True).start()

        def log_message(self, format, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Invocations)
    post(f"status/{RUNTIME_ID}/ready", {"port": server.server_address[1]})
    server.serve_forever()


def exit_with_parent():
    """Never outlive LocalStack: if it dies without stopping this environment, stop too."""
    parent = os.getppid()
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


if __name__ == "__main__":
    threading.Thread(target=exit_with_parent, daemon=True).start()
    try:
        loaded = load_handler()
    except Exception as exc:
        post(f"status/{RUNTIME_ID}/error", {**error_of(exc), "errorType": "Runtime.ImportModuleError"})
        sys.exit(1)
    serve(loaded)
