"""A LocalStack Lambda runtime executor that runs each execution environment as a local Python process.

Emulator only (the contract tests). LocalStack 4.12 runs functions through a runtime executor chosen by
`LAMBDA_RUNTIME_EXECUTOR` among the plugins of the `localstack.lambda.runtime_executor` entry-point
namespace; the one it ships (`docker`) starts a container per execution environment and, before that,
downloads its runtime-init binary and the runtime's image (`prepare_version`). Neither Docker nor a
download is possible here, so this executor (registered as `local-process` by the `*.dist-info` folder
beside this file) replaces it, and only it:

- one Python process per execution environment, listening on 127.0.0.1 (a free port it reports), runs
  `local_lambda_runtime.py` with the function's unzipped code as its task root and the environment
  LocalStack computed for the function (reserved variables, the function's own `Environment`);
- it speaks LocalStack's executor-endpoint protocol as the Docker init does (`ExecutorEndpoint`): it
  posts `status/<id>/ready` (or `status/<id>/error` when the handler does not import), receives
  `POST /invoke`, posts `invocations/<id>/logs` and then `invocations/<id>/response` or `/error`;
- the function's timeout is enforced here, as AWS does: past it the process is killed, the invocation
  ends with `Sandbox.Timedout`, and the next invocation starts a fresh process (a new init);
- `prepare_version` only unzips the code (`code.prepare_for_execution()`): no image, no init binary.

The interpreter is LocalStack's own (Python 3.11, with boto3): what the Lambda Python runtime provides
to a handler that needs only boto3. Everything else (the Lambda API, versions, concurrency, the event,
the response) stays LocalStack's.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections import deque
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

from localstack import config
from localstack.services.lambda_.invocation.executor_endpoint import ExecutorEndpoint
from localstack.services.lambda_.invocation.lambda_models import FunctionVersion, InvocationResult
from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin
from localstack.services.lambda_.invocation.runtime_executor import LambdaRuntimeException, RuntimeExecutor

LOG = logging.getLogger(__name__)

RUNTIME_SCRIPT = Path(__file__).with_name("local_lambda_runtime.py")
LOOPBACK = "127.0.0.1"
STOP_TIMEOUT_S = 5.0
SEND_TIMEOUT_S = 10.0
# Variables of LocalStack's own process handed on to a function process: the loopback guards (a
# closed-port proxy with NO_PROXY for loopback; no instance-metadata lookups), so the function's boto3
# stays on 127.0.0.1 exactly as LocalStack does.
INHERITED = (
    "PATH",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "http_proxy",
    "https_proxy",
    "NO_PROXY",
    "no_proxy",
    "AWS_EC2_METADATA_DISABLED",
)


class LocalProcessEndpoint(ExecutorEndpoint):
    """LocalStack's executor endpoint, told the process's port in its `ready` call (the port is free, not fixed)."""

    def status_ready(self, request, executor_id):
        self.container_port = int(request.get_json(force=True)["port"])
        return super().status_ready(request, executor_id)

    def invoke_within(self, payload: dict, timeout_s: float) -> InvocationResult:
        """Send one invocation and wait for its result at most `timeout_s` (FutureTimeout after that)."""
        self.invocation_future = Future()
        self.logs = None
        url = f"http://{self.container_address}:{self.container_port}/invoke"
        response = self._perform_invoke(invocation_url=url, proxies={"http": "", "https": ""}, payload=payload)
        if not response.ok:
            raise LambdaRuntimeException(f"the function process refused the invocation: {response.status_code}")
        return self.invocation_future.result(timeout=timeout_s)


class LocalProcessRuntimeExecutor(RuntimeExecutor):
    """One execution environment: a local Python process running the function's handler."""

    def __init__(self, id: str, function_version: FunctionVersion) -> None:
        super().__init__(id=id, function_version=function_version)
        self.endpoint = LocalProcessEndpoint(self.id, container_address=LOOPBACK, container_port=None)
        self.process: subprocess.Popen[bytes] | None = None
        self.environment: dict[str, str] = {}
        self.output: deque[str] = deque(maxlen=500)
        self.lock = threading.Lock()

    # --- lifecycle --------------------------------------------------------------------------------

    def start(self, env_vars: dict[str, str]) -> None:
        code = self.function_version.config.code
        if code is None:
            raise LambdaRuntimeException("local-process runs zip-packaged functions only")
        task_root = str(code.get_unzipped_code_location())
        inherited = {name: os.environ[name] for name in INHERITED if name in os.environ}
        self.environment = {
            **inherited,
            **{key: str(value) for key, value in env_vars.items()},
            "LAMBDA_TASK_ROOT": task_root,
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        self.endpoint.start()
        self._spawn()
        self.endpoint.wait_for_startup()

    def _spawn(self) -> None:
        """Start the process; it reports `ready` (with its port) or `error` to the endpoint."""
        self.output.clear()
        self.process = subprocess.Popen(
            # -I: no PYTHONPATH, no user site, no script folder on sys.path (this folder's sitecustomize
            # is LocalStack's, not the function's).
            [sys.executable, "-I", str(RUNTIME_SCRIPT)],
            cwd=self.environment["LAMBDA_TASK_ROOT"],
            env=self.environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        process = self.process
        threading.Thread(target=self._collect, args=(process,), name=f"lambda-output-{self.id}", daemon=True).start()
        LOG.debug("local-process executor %s: started pid %s", self.id, process.pid)

    def _collect(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        for raw in process.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            self.output.append(line)
            # Into LocalStack's log too, where the contract fixture looks for attempts beyond loopback.
            LOG.info("lambda %s (pid %s): %s", self.id, process.pid, line)

    def _kill(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_S)

    def _restart(self) -> None:
        """A fresh process after a timeout: AWS re-initialises the execution environment the same way."""
        self._kill()
        self.endpoint.startup_future = Future()
        self._spawn()
        try:
            self.endpoint.startup_future.result(timeout=config.LAMBDA_RUNTIME_ENVIRONMENT_TIMEOUT)
        except FutureTimeout as error:
            self._kill()
            raise LambdaRuntimeException("the function process did not become ready in time") from error

    def stop(self) -> None:
        self._kill()
        try:
            self.endpoint.shutdown()
        except Exception as error:  # already unregistered: nothing left to stop
            LOG.debug("local-process executor %s: endpoint shutdown: %s", self.id, error)

    # --- invocation -------------------------------------------------------------------------------

    def invoke(self, payload: dict[str, str]) -> InvocationResult:
        timeout_s = float(self.function_version.config.timeout)
        with self.lock:
            if self.process is None or self.process.poll() is not None:
                self._restart()
            started = time.monotonic()
            try:
                return self.endpoint.invoke_within(payload, timeout_s)
            except FutureTimeout:
                self._kill()  # the next invocation gets a new process
                request_id = payload["invoke-id"]
                elapsed = time.monotonic() - started
                message = f"RequestId: {request_id} Error: Task timed out after {timeout_s:.2f} seconds"
                LOG.info("local-process executor %s: %s (%.2f s)", self.id, message, elapsed)
                return InvocationResult(
                    request_id,
                    json.dumps({"errorType": "Sandbox.Timedout", "errorMessage": message}).encode(),
                    is_error=True,
                    logs=f"{message}\n",
                )

    # --- addresses --------------------------------------------------------------------------------

    def get_address(self) -> str:
        return LOOPBACK

    def get_endpoint_from_executor(self) -> str:
        return LOOPBACK

    def get_runtime_endpoint(self) -> str:
        return f"http://{LOOPBACK}:{config.GATEWAY_LISTEN[0].port}{self.endpoint.get_endpoint_prefix()}"

    def get_logs(self) -> str:
        return "\n".join(self.output)

    # --- versions ---------------------------------------------------------------------------------

    @classmethod
    def prepare_version(cls, function_version: FunctionVersion) -> None:
        runtime = function_version.config.runtime or ""
        if not runtime.startswith("python"):
            raise LambdaRuntimeException(f"local-process runs Python functions only, not {runtime or 'images'}")
        if function_version.config.code:
            function_version.config.code.prepare_for_execution()  # unzip from LocalStack's own store

    @classmethod
    def cleanup_version(cls, function_version: FunctionVersion) -> None:
        pass

    @classmethod
    def validate_environment(cls) -> bool:
        return True


class LocalProcessExecutorPlugin(RuntimeExecutorPlugin):
    name = "local-process"

    def load(self, *args, **kwargs):
        return LocalProcessRuntimeExecutor
