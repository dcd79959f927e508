"""Exports agent traces to tally with the OpenTelemetry Python SDK and its OTLP/HTTP
exporter, exactly as an instrumented application does, and prints the totals of what
it sent, for the test to compare with tally's views.

Input (JSON on stdin): endpoint, key (or null), service, traces, compression
("gzip" or "none"), seed. Each trace is invoke_agent > chat > execute_tool > chat;
some tools fail with an exception, some model calls fail with error.type.
"""

import json
import random
import sys

from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace import Status, StatusCode


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


def main():
    case = json.load(sys.stdin)
    rng = random.Random(case["seed"])
    headers = {"Authorization": "Bearer " + case["key"]} if case.get("key") else {}
    exporter = Recording(
        OTLPSpanExporter(
            endpoint=case["endpoint"] + "/v1/traces",
            headers=headers,
            compression=Compression.Gzip if case["compression"] == "gzip" else Compression.NoCompression,
        )
    )
    provider = TracerProvider(resource=Resource.create({"service.name": case["service"]}))
    # Batches of ten whole traces (five spans each end in one go, the root last), sent
    # when full and never on a timer, so that every export holds whole traces: an agent
    # is credited to its children within one request.
    provider.add_span_processor(
        BatchSpanProcessor(exporter, max_export_batch_size=50, schedule_delay_millis=600000)
    )
    tracer = provider.get_tracer("tally-test-agent", "1.0")

    models = {}
    tools = {}
    agents = {}
    trace_ids = []

    def count_tool(name, failed):
        entry = tools.setdefault(name, {"executions": 0, "failed": 0})
        entry["executions"] += 1
        entry["failed"] += int(failed)

    def chat(model, conversation):
        usage_in = rng.randint(50, 5000)
        usage_out = rng.randint(5, 800)
        cached = rng.randint(0, usage_in // 2)
        failed = rng.random() < 0.15
        with tracer.start_as_current_span("chat " + model) as span:
            span.set_attribute("gen_ai.operation.name", "chat")
            span.set_attribute("gen_ai.provider.name", "openai")
            span.set_attribute("gen_ai.request.model", model)
            span.set_attribute("gen_ai.response.model", model + "-2024-07-18")
            span.set_attribute("gen_ai.conversation.id", conversation)
            span.set_attribute("gen_ai.usage.input_tokens", usage_in)
            span.set_attribute("gen_ai.usage.output_tokens", usage_out)
            span.set_attribute("gen_ai.usage.cache_read.input_tokens", cached)
            if failed:
                span.set_attribute("error.type", "rate_limit_exceeded")
        entry = models.setdefault(model + "-2024-07-18", {"calls": 0, "input_tokens": 0, "output_tokens": 0, "cache_read_tokens": 0})
        entry["calls"] += 1
        entry["input_tokens"] += usage_in
        entry["output_tokens"] += usage_out
        entry["cache_read_tokens"] += cached
        count_tool("chat", failed)

    for i in range(case["traces"]):
        agent = ["triage", "researcher"][i % 2]
        model = ["gpt-4o-mini", "gpt-4o"][i % 3 == 0]
        tool = ["web_search", "read_file", "run_sql"][i % 3]
        conversation = "conv-%d" % (i // 4)
        with tracer.start_as_current_span("invoke_agent " + agent) as root:
            trace_ids.append(format(root.get_span_context().trace_id, "032x"))
            root.set_attribute("gen_ai.operation.name", "invoke_agent")
            root.set_attribute("gen_ai.agent.name", agent)
            # Totals of the children, as agent frameworks write them: never counted.
            root.set_attribute("gen_ai.usage.input_tokens", 123456)
            chat(model, conversation)
            tool_failed = rng.random() < 0.25
            with tracer.start_as_current_span("execute_tool " + tool) as span:
                span.set_attribute("gen_ai.operation.name", "execute_tool")
                span.set_attribute("gen_ai.tool.name", tool)
                if tool_failed:
                    span.record_exception(TimeoutError("the tool timed out"))
                    span.set_status(Status(StatusCode.ERROR, "the tool timed out"))
            count_tool(tool, tool_failed)
            chat(model, conversation)
            # An HTTP span of the kind every SDK makes: not GenAI, ignored.
            with tracer.start_as_current_span("GET /health") as span:
                span.set_attribute("http.request.method", "GET")
        count_tool("invoke_agent", False)
        agents[agent] = agents.get(agent, 0) + 4

    provider.shutdown()
    json.dump(
        {
            "results": exporter.results,
            "models": models,
            "tools": tools,
            "agents": agents,
            "trace_ids": trace_ids,
            "spans": case["traces"] * 5,
        },
        sys.stdout,
    )


main()
