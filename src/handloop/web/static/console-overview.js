// The console's overview, kept live: /console/stream sends every flow's figures as an
// `overview` event whenever they change; this updates the counts, the progress bars,
// the answers-per-hour charts and the expected times in place.

const STATUSES = ["Completed", "Failed", "Stopped", "Stopping", "InProgress"];

function formatNumber(value, digits = 0) {
  return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function formatDuration(seconds) {
  if (seconds < 60) {
    return `${Math.round(seconds)} s`;
  }
  let minutes = Math.round(seconds / 60);
  if (minutes < 60) {
    return `${minutes} min`;
  }
  let hours = Math.floor(minutes / 60);
  minutes %= 60;
  if (hours < 48) {
    return minutes ? `${hours} h ${minutes} min` : `${hours} h`;
  }
  const days = Math.floor(hours / 24);
  hours %= 24;
  return hours ? `${days} d ${hours} h` : `${days} d`;
}

// An hour since the epoch as the charts label it: "HH:00", UTC.
function hourLabel(hour) {
  return `${new Date(hour * 3600 * 1000).toISOString().slice(11, 13)}:00`;
}

function updateBar(card, flow) {
  const svg = card.querySelector("svg.progress");
  if (!svg) {
    return;
  }
  let x = 0;
  const parts = [];
  for (const status of STATUSES) {
    const count = flow.counts[status] || 0;
    const share = flow.total ? (100 * count) / flow.total : 0;
    const rect = svg.querySelector(`rect[data-status="${status}"]`);
    if (rect) {
      rect.setAttribute("x", `${x.toFixed(3)}%`);
      rect.setAttribute("width", `${share.toFixed(3)}%`);
      const title = rect.querySelector("title");
      if (title) {
        title.textContent = `${status}: ${count}`;
      }
    }
    parts.push(`${status} ${count}`);
    x += share;
  }
  svg.setAttribute("aria-label", `${flow.name} loops: ${parts.join(", ")}`);
}

function updateChart(card, flow) {
  const svg = card.querySelector("[data-chart] svg.chart");
  if (!svg) {
    return;
  }
  const values = flow.hourly.map((entry) => entry[1]);
  const top = Math.max(1, ...values);
  const height = svg.viewBox.baseVal.height;
  svg.querySelectorAll("rect.bar").forEach((rect) => {
    const value = values[Number(rect.dataset.index)] || 0;
    const h = value === 0 ? 0 : Math.max(1, (height * value) / top);
    rect.setAttribute("y", (height - h).toFixed(1));
    rect.setAttribute("height", h.toFixed(1));
    const title = rect.querySelector("title");
    const hour = flow.hourly[Number(rect.dataset.index)];
    if (title && hour) {
      title.textContent = `${hourLabel(hour[0])}: ${value}`;
    }
  });
  const axis = card.querySelectorAll("[data-chart] .chart-axis > span");
  if (axis.length === 3 && flow.hourly.length) {
    axis[0].textContent = hourLabel(flow.hourly[0][0]);
    axis[2].textContent = hourLabel(flow.hourly[flow.hourly.length - 1][0]);
  }
  const peak = card.querySelector("[data-chart] .chart-peak");
  if (peak) {
    peak.textContent = String(Math.max(0, ...values));
  }
  const total = values.reduce((a, b) => a + b, 0);
  const label = svg.getAttribute("aria-label") || "";
  svg.setAttribute("aria-label", label.replace(/: \d+ in all$/, `: ${total} in all`));
}

function update(flow) {
  const card = document.querySelector(`li.flow[data-flow="${CSS.escape(flow.name)}"]`);
  if (!card) {
    return false;
  }
  for (const status of STATUSES) {
    const cell = card.querySelector(`[data-count="${status}"]`);
    if (cell) {
      cell.textContent = formatNumber(flow.counts[status] || 0);
    }
  }
  const total = card.querySelector('[data-count="total"]');
  if (total) {
    total.textContent = formatNumber(flow.total);
  }
  updateBar(card, flow);
  updateChart(card, flow);
  const rate = card.querySelector('[data-figure="rate"]');
  if (rate) {
    rate.textContent = formatNumber(flow.ratePerHour, 1);
  }
  const eta = card.querySelector('[data-figure="eta"]');
  if (eta) {
    const inProgress = flow.counts.InProgress || 0;
    if (flow.etaSeconds !== null) {
      eta.textContent = formatDuration(flow.etaSeconds);
    } else {
      eta.textContent = inProgress ? "no rate yet" : "nothing in progress";
    }
  }
  return true;
}

const note = document.getElementById("live-note");
const known = new Set(Array.from(document.querySelectorAll("li.flow"), (li) => li.dataset.flow));
const source = new EventSource("/console/stream");
source.addEventListener("overview", (event) => {
  const data = JSON.parse(event.data);
  let unknown = false;
  for (const flow of data.flows) {
    if (!update(flow) || !known.has(flow.name)) {
      unknown = true;
    }
  }
  if (note) {
    note.textContent = `Live: updated ${new Date().toLocaleTimeString()}.`;
    if (unknown) {
      note.textContent += " A new flow appeared: reload the page to see it.";
    }
  }
  document.body.dataset.live = "on";
});
source.addEventListener("error", () => {
  if (note) {
    note.textContent = "Live updates paused; reconnecting…";
  }
});
