"""A Flask application instrumented with the stock OpenTelemetry Flask instrumentation,
exporting its spans to tally with the OTLP/HTTP exporter, exactly as a deployed app
does; driven by Flask's test client. Prints what it served, for the test to compare
with tally's request analytics.

Input (JSON on stdin): endpoint, service, semconv ("old": the instrumentation's
default `http.method`/`http.status_code` names; "new": `OTEL_SEMCONV_STABILITY_OPT_IN=http`,
`http.request.method`/`http.response.status_code`), requests (how many rounds).
"""

import json
import os
import sys
import time

case = json.load(sys.stdin)
if case["semconv"] == "new":
    # Read when the instrumentation is set up, so it is set before.
    os.environ["OTEL_SEMCONV_STABILITY_OPT_IN"] = "http"

from flask import Flask, abort, request  # noqa: E402
from opentelemetry import trace  # noqa: E402
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter  # noqa: E402
from opentelemetry.instrumentation.flask import FlaskInstrumentor  # noqa: E402
from opentelemetry.sdk.resources import Resource  # noqa: E402
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter  # noqa: E402


class Recording(SpanExporter):
    """The real exporter, with the result of every export kept."""

    def __init__(self, inner):
        self.inner = inner
        self.results = []

    def export(self, spans):
        result = self.inner.export(spans)
        self.results.append(result.name)
        return result

    def shutdown(self):
        self.inner.shutdown()

    def force_flush(self, timeout_millis=30000):
        return True


exporter = Recording(OTLPSpanExporter(endpoint=case["endpoint"] + "/v1/traces"))
provider = TracerProvider(resource=Resource.create({"service.name": case["service"]}))
provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=600000))

app = Flask(__name__)
FlaskInstrumentor().instrument_app(app, tracer_provider=provider)

SLOW_MS = 30


@app.get("/users/<user_id>")
def user(user_id):
    # What an application adds to its server span: who asked.
    trace.get_current_span().set_attribute("enduser.id", request.headers.get("x-user", "anonymous"))
    return {"id": user_id}


@app.post("/orders/<int:order_id>/items")
def add_item(order_id):
    return {"order": order_id}, 201


@app.get("/slow")
def slow():
    time.sleep(SLOW_MS / 1000)
    return "done"


@app.get("/fail/<code>")
def fail(code):
    abort(int(code))


client = app.test_client()
served = []


def call(method, path, route, headers=None):
    response = client.open(path, method=method, headers=headers or {})
    served.append({"method": method, "route": route, "status": response.status_code})


for i in range(case["requests"]):
    call("GET", "/users/%d" % (1000 + i), "/users/<user_id>", {"x-user": "u-%d" % (i % 3)})
    call("POST", "/orders/%d/items" % (50 + i), "/orders/<int:order_id>/items")
    call("GET", "/fail/503", "/fail/<code>")
    # No route matches: a scanner's probe with an id in it.
    call("GET", "/wp-admin/%d.php" % i, None)
call("GET", "/slow", "/slow")

provider.shutdown()
json.dump({"results": exporter.results, "served": served, "slow_ms": SLOW_MS}, sys.stdout)
