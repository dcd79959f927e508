"""OpenLLMetry's OpenAI instrumentation around the official `openai` client, its HTTP
transport stubbed with `httpx.MockTransport` (a fixed chat completion with usage), so
no network or key is needed; the spans go to tally through the OpenTelemetry SDK's
OTLP/HTTP exporter. Prints what the stub answered, for the test to compare.

Input (JSON on stdin): endpoint, key (or null), service, calls.
"""

import json
import sys

import httpx
import openai
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.openai import OpenAIInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

MODEL = "gpt-4o-mini-2024-07-18"
PROMPT_TOKENS = 42
COMPLETION_TOKENS = 7


def completion(request):
    body = json.loads(request.content)
    return httpx.Response(
        200,
        json={
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "created": 1790000000,
            "model": MODEL,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "Your order ships today."},
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": PROMPT_TOKENS,
                "completion_tokens": COMPLETION_TOKENS,
                "total_tokens": PROMPT_TOKENS + COMPLETION_TOKENS,
            },
            "echo_model": body["model"],
        },
    )


def main():
    case = json.load(sys.stdin)
    headers = {"Authorization": "Bearer " + case["key"]} if case.get("key") else {}
    results = []

    class Recording(OTLPSpanExporter):
        def export(self, spans):
            result = super().export(spans)
            results.append(result.name)
            return result

    provider = TracerProvider(resource=Resource.create({"service.name": case["service"]}))
    provider.add_span_processor(
        SimpleSpanProcessor(Recording(endpoint=case["endpoint"] + "/v1/traces", headers=headers))
    )
    OpenAIInstrumentor().instrument(tracer_provider=provider)
    client = openai.OpenAI(
        api_key="sk-test",
        base_url="http://openai.invalid/v1",
        http_client=httpx.Client(transport=httpx.MockTransport(completion)),
    )
    for _ in range(case["calls"]):
        client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "Where is my order?"}],
        )
    provider.shutdown()
    json.dump(
        {
            "results": results,
            "model": MODEL,
            "input_tokens": PROMPT_TOKENS * case["calls"],
            "output_tokens": COMPLETION_TOKENS * case["calls"],
        },
        sys.stdout,
    )


main()
