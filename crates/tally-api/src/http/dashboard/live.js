// tally live updates: reads /api/analytics/live (Server-Sent Events, read through fetch so
// the key goes as Bearer) and refreshes the page's data when a batch of the projects it
// shows commits. While no stream is up the page's poll (dashboard.js) runs instead, and
// the stream is tried again with a growing pause.
//
// One tab per key holds the stream and passes what it hears to the others on a
// BroadcastChannel: a browser opens at most six connections to one server, so a stream
// per tab would leave the seventh tab's requests waiting. The holder is chosen by a Web
// Lock, released when its tab closes so that another takes over. Where there are no locks
// (a page served over plain HTTP from another host is not a secure context) each tab holds
// its own stream.
"use strict";

const tallyLive = { connected: false, commits: 0 };
window.tallyLive = tallyLive;

// One refresh at a time; commits during one run it once more after.
let liveRunning = null, liveAgain = false;
async function liveRefresh() {
  if (liveRunning) { liveAgain = true; return; }
  do {
    liveAgain = false;
    liveRunning = refresh();
    try { await liveRunning; } finally { liveRunning = null; }
  } while (liveAgain);
}

function liveEvent(block) {
  let name = "message", data = "";
  for (const line of block.split("\n")) {
    if (line.startsWith("event:")) name = line.slice(6).trim();
    else if (line.startsWith("data:")) data += line.slice(5).trim();
  }
  if (name !== "commit") return;
  const commit = JSON.parse(data);
  const input = document.getElementById("f-project");
  const shown = input ? input.value.trim() : "";
  // A skipped announcement may have been the shown project's.
  if (shown && !(shown in commit.projects) && !commit.skipped) return;
  tallyLive.commits += 1;
  document.body.dataset.liveCommits = String(tallyLive.commits);
  const auto = document.getElementById("f-refresh");
  if (!auto || auto.checked) liveRefresh();
}

function liveConnected(on) {
  tallyLive.connected = on;
  document.body.dataset.live = on ? "on" : "off";
}

// Reads the stream for ever: each event block to `onEvent`, up and down to `onState`.
async function liveStream(onEvent, onState) {
  let pause = 1000;
  for (;;) {
    try {
      const response = await fetch("/api/analytics/live", { headers: headers() });
      if (!response.ok || !response.body) throw new Error("status " + response.status);
      onState(true);
      pause = 1000;
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value.replace(/\r\n/g, "\n");
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          onEvent(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
    } catch (_) { /* the poll covers until the stream is back */ }
    onState(false);
    await new Promise((resolve) => setTimeout(resolve, pause));
    pause = Math.min(pause * 2, 30000);
  }
}

// The tabs of one key share a stream; a short FNV-1a tag of the key names their channel.
function liveTag() {
  const key = sessionStorage.getItem("tally_key") || "";
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return "tally-live-" + (hash >>> 0).toString(16);
}

function liveStart() {
  const shared = "BroadcastChannel" in window && navigator.locks && navigator.locks.request;
  if (!shared) { liveStream(liveEvent, liveConnected); return; }
  const tag = liveTag();
  const channel = new BroadcastChannel(tag);
  let holding = false;
  channel.onmessage = ({ data }) => {
    if (data.type === "event") liveEvent(data.block);
    else if (data.type === "state") liveConnected(data.connected);
    else if (data.type === "hello" && holding) channel.postMessage({ type: "state", connected: tallyLive.connected });
  };
  channel.postMessage({ type: "hello" });
  navigator.locks.request(tag, () => {
    holding = true;
    return liveStream(
      (block) => { liveEvent(block); channel.postMessage({ type: "event", block }); },
      (on) => { liveConnected(on); channel.postMessage({ type: "state", connected: on }); },
    );
  });
}

// On every page dashboard.js drives (the events explorer too), not the wire format.
document.addEventListener("DOMContentLoaded", () => {
  if (typeof refresh === "function" && typeof headers === "function" && document.body.dataset.page !== "docs") liveStart();
});
