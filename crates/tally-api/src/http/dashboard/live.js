// tally live updates: reads /api/analytics/live (Server-Sent Events, read through fetch so
// the key goes as Bearer) and refreshes the page's data when a batch of the projects it
// shows commits. While the stream is down the page's poll (dashboard.js) runs instead,
// and the stream is tried again with a growing pause.
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

async function liveStream() {
  let pause = 1000;
  for (;;) {
    try {
      const response = await fetch("/api/analytics/live", { headers: headers() });
      if (!response.ok || !response.body) throw new Error("status " + response.status);
      tallyLive.connected = true;
      document.body.dataset.live = "on";
      pause = 1000;
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value.replace(/\r\n/g, "\n");
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          liveEvent(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
    } catch (_) { /* the poll covers until the stream is back */ }
    tallyLive.connected = false;
    document.body.dataset.live = "off";
    await new Promise((resolve) => setTimeout(resolve, pause));
    pause = Math.min(pause * 2, 30000);
  }
}

// On every page dashboard.js drives (the events explorer too), not the wire format.
document.addEventListener("DOMContentLoaded", () => {
  if (typeof refresh === "function" && typeof headers === "function" && document.body.dataset.page !== "docs") liveStream();
});
