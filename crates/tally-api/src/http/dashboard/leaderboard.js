// tally dashboard, learners page: the project's leaderboard and the achievements
// catalogue with the chosen learner's progress. Loaded after dashboard.js, whose
// loadLearners calls loadLearningExtras.
"use strict";

// The learning routes' query: the page's project filter and `own` parameters.
function learningQuery(own) {
  const params = new URLSearchParams(own);
  const project = document.getElementById("f-project");
  if (project && project.value.trim()) params.set("project", project.value.trim());
  return "?" + params.toString();
}

async function loadLeaderboard() {
  const by = document.getElementById("leaderboard-by").value;
  const result = await api("learning/leaderboard" + learningQuery({ by, limit: "20" }), false);
  const container = document.getElementById("leaderboard");
  if (!result.ok) { notAvailable(container, result); return; }
  table(container, result.data.entries, [
    { key: "rank", title: "Rank", num: true },
    { key: "user", title: "Learner" },
    { key: "streak_days", title: "Streak (days)", num: true },
    { key: "sessions", title: "Sessions", num: true, render: (e) => fmtInt(e.sessions) },
    { key: "points", title: "Points", num: true, render: (e) => fmtInt(e.points) },
  ], "leaderboard");
}

async function loadCatalogue(user) {
  const own = {};
  if (user) own.learner = user;
  const category = document.getElementById("catalogue-category").value;
  if (category) own.category = category;
  const result = await api("learning/achievements/catalogue" + learningQuery(own), false);
  const container = document.getElementById("catalogue");
  if (!result.ok) { notAvailable(container, result); return; }
  table(container, result.data.achievements, [
    { key: "name", title: "Achievement" },
    { key: "description", title: "For" },
    { key: "category", title: "Category", render: (a) => words(a.category) },
    { key: "points", title: "Points", num: true },
    { key: "percent", title: "Progress", num: true, sort: (a) => a.percent ?? -1, render: (a) => (a.unlocked
      ? el("span", { class: "rate green" }, "unlocked")
      : a.percent === null ? "–" : el("progress", { max: "100", value: String(a.percent) }, fmtInt(a.percent) + "%")) },
  ], "catalogue");
}

async function loadLearningExtras(user) {
  await Promise.all([loadLeaderboard(), loadCatalogue(user)]);
}

document.addEventListener("DOMContentLoaded", () => {
  const by = document.getElementById("leaderboard-by");
  if (by) by.addEventListener("change", loadLeaderboard);
  const category = document.getElementById("catalogue-category");
  if (category) category.addEventListener("change", () => loadCatalogue(document.getElementById("learner").value));
});
