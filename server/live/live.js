// live.js - draws what slowserver's /live/events says, as it happens.
//
// The server sends one Server-Sent Event when a request arrives ("begin")
// and one when it leaves ("end"), each with the server's clock and how many
// requests are in flight.  The browser's EventSource does the connection
// (and reconnects if the server restarts); this file only keeps a little
// state and draws it.  docs/slowserver.md, "The live view".
"use strict";

const WINDOW_SECONDS = 20;      // how much of the past the drawings show
const LANE_HEIGHT = 18;         // one row of the timeline per request in sight
const MAX_LANES = 24;           // more than this are counted, not drawn
const RECENT_ROWS = 8;
const RIGHT_MARGIN = 170;       // pixels right of "now", for the labels of the newest bars

const root = document.getElementById("live");
const timeline = document.getElementById("timeline");
const inFlightChart = document.getElementById("in-flight-chart");

const state = {
    offset: null,          // page clock minus server clock, in seconds
    requests: new Map(),   // id -> {path, begin, end, status, lane}
    lanes: [],             // lanes[i]: the id of the request drawn in row i, or null
    inFlight: 0,
    maxInFlight: 0,
    seen: 0,
    finished: 0,
    dropped: 0,
    samples: [],           // [server time, in flight], one per change
    recent: [],            // the last requests to finish, newest first
};

function pageSeconds() {
    return performance.now() / 1000;
}

// "Now" on the server's clock, which every event's t is measured on.
function serverNow() {
    return state.offset === null ? 0 : pageSeconds() - state.offset;
}

// ------------------------------------------------------------ the state

// Each request gets a row of its own until it scrolls out of sight, so the
// picture is a staircase when requests take turns (sync) and a stack of
// bars side by side when they wait together (async).
function freeLane(id) {
    let lane = state.lanes.indexOf(null);
    if (lane < 0) {
        lane = state.lanes.length;
        state.lanes.push(null);
    }
    state.lanes[lane] = id;
    return lane;
}

function setInFlight(t, inFlight) {
    state.inFlight = inFlight;
    state.maxInFlight = Math.max(state.maxInFlight, inFlight);
    state.samples.push([t, inFlight]);
}

function onHello(data) {
    // A new connection (the first, or after the server restarted): line
    // the clocks up and start from what the server holds right now.
    state.offset = pageSeconds() - data.t;
    state.requests.clear();
    state.lanes = [];
    state.samples = [];
    state.maxInFlight = 0;
    setInFlight(data.t, data.in_flight);
    root.dataset.mode = data.mode;
    showConnection(true, "connected: slowserver in mode " + data.mode +
        (data.in_flight > 0 ? ", " + data.in_flight + " requests already in flight when this page connected" : ""));
}

function onBegin(data) {
    state.requests.set(data.id, { path: data.path, begin: data.t, end: null, status: null,
                                  lane: freeLane(data.id) });
    state.seen++;
    setInFlight(data.t, data.in_flight);
}

function onEnd(data) {
    const request = state.requests.get(data.id);
    setInFlight(data.t, data.in_flight);
    if (request === undefined)
        return;                      // began before this page connected, or its begin was dropped
    request.end = data.t;
    request.status = data.status;
    state.finished++;
    state.recent.unshift(request);
    state.recent.length = Math.min(state.recent.length, RECENT_ROWS);
    showRecent();
}

function onDropped(data) {
    state.dropped = data.dropped;
    const box = document.getElementById("dropped");
    box.hidden = false;
    box.textContent = "This page could not keep up: the server dropped " + data.dropped +
        " events for it, so some bars are missing or never end, and \"seen\" and \"finished\"" +
        " count only what arrived.  \"In flight\" and \"most at once\" stay right: every event" +
        " carries the server's own count.";
}

function clear() {
    // Like POST /stats/reset: forget the past, keep what is still waiting.
    for (const [id, request] of state.requests)
        if (request.end !== null)
            forget(id, request);
    state.samples = [[serverNow(), state.inFlight]];
    state.maxInFlight = state.inFlight;
    state.seen = 0;
    state.finished = 0;
    state.recent = [];
    showRecent();
    showNumbers();
}

// ------------------------------------------------------------ the words

function showConnection(connected, text) {
    const line = document.getElementById("connection");
    line.textContent = text;
    line.className = connected ? "good" : "bad";
    root.dataset.connected = connected ? "yes" : "no";
}

function forget(id, request) {
    state.requests.delete(id);
    state.lanes[request.lane] = null;
}

function openCount() {
    let open = 0;
    for (const request of state.requests.values())
        if (request.end === null)
            open++;
    return open;
}

// The numbers, both as text and as the data-* attributes tests read.
function showNumbers() {
    const numbers = {
        inFlight: state.inFlight, maxInFlight: state.maxInFlight, seen: state.seen,
        finished: state.finished, open: openCount(), dropped: state.dropped,
    };
    for (const [name, value] of Object.entries(numbers))
        root.dataset[name] = String(value);
    document.getElementById("in-flight").textContent = state.inFlight;
    document.getElementById("max-in-flight").textContent = state.maxInFlight;
    document.getElementById("seen").textContent = state.seen;
    document.getElementById("finished").textContent = state.finished;
}

function statusText(status) {
    return status === 0 ? "closed" : String(status);
}

function showRecent() {
    const body = document.querySelector("#recent tbody");
    body.replaceChildren(...state.recent.map(request => {
        const row = document.createElement("tr");
        for (const text of [request.path, statusText(request.status),
                            (request.end - request.begin).toFixed(2) + " s"]) {
            const cell = document.createElement("td");
            cell.textContent = text;
            row.append(cell);
        }
        return row;
    }));
}

// ------------------------------------------------------------ the drawings

function colourOf(request) {
    if (request.end === null) return "#3b78c4";
    if (request.status === 0) return "#999";
    if (request.status >= 500) return "#c8322f";
    if (request.status >= 400) return "#e09a1e";
    return "#3ea055";
}

// x on a canvas for server time t: "now" is RIGHT_MARGIN from the right edge.
function xOf(canvas, t, now) {
    return (canvas.width - RIGHT_MARGIN) * (1 - (now - t) / WINDOW_SECONDS);
}

function drawTimeline(now) {
    const lanes = Math.min(Math.max(state.lanes.length, 3), MAX_LANES);
    const height = lanes * LANE_HEIGHT + 20;
    if (timeline.height !== height)
        timeline.height = height;
    const g = timeline.getContext("2d");
    g.clearRect(0, 0, timeline.width, timeline.height);
    drawSecondMarks(g, timeline, now);
    g.font = "12px sans-serif";
    g.textBaseline = "middle";
    let hidden = 0;
    for (const [id, request] of state.requests) {
        const end = request.end === null ? now : request.end;
        if (end < now - WINDOW_SECONDS) {
            forget(id, request);         // scrolled out of sight
            continue;
        }
        if (request.lane >= MAX_LANES) {
            hidden++;
            continue;
        }
        const x0 = Math.max(0, xOf(timeline, request.begin, now));
        const x1 = Math.max(x0 + 2, xOf(timeline, end, now));
        const y = request.lane * LANE_HEIGHT + 2;
        g.fillStyle = colourOf(request);
        g.fillRect(x0, y, x1 - x0, LANE_HEIGHT - 4);
        const label = request.path + "  " + (end - request.begin).toFixed(1) + " s" +
            (request.end === null ? "" : "  " + statusText(request.status));
        g.fillStyle = "#000";
        g.fillText(label, x1 + 4, y + (LANE_HEIGHT - 4) / 2);
    }
    if (hidden > 0) {
        g.fillStyle = "#b00020";
        g.fillText("+" + hidden + " more requests not drawn", 8, timeline.height - 8);
    }
}

function drawSecondMarks(g, canvas, now) {
    g.strokeStyle = "#eee";
    g.fillStyle = "#999";
    g.font = "10px sans-serif";
    // A line every second of server time (they scroll), a label every 5 s
    // back from now (they stay put).
    for (let s = Math.ceil(now - WINDOW_SECONDS); s <= now; s++) {
        const x = xOf(canvas, s, now);
        g.beginPath();
        g.moveTo(x, 0);
        g.lineTo(x, canvas.height);
        g.stroke();
    }
    for (let ago = WINDOW_SECONDS; ago > 0; ago -= 5)
        g.fillText("-" + ago + " s", xOf(canvas, now - ago, now) + 2, canvas.height - 4);
    const x = xOf(canvas, now, now);
    g.strokeStyle = "#888";
    g.beginPath();
    g.moveTo(x, 0);
    g.lineTo(x, canvas.height);
    g.stroke();
    g.fillText("now", x + 2, canvas.height - 4);
}

function drawInFlight(now) {
    const g = inFlightChart.getContext("2d");
    const { width, height } = inFlightChart;
    g.clearRect(0, 0, width, height);
    drawSecondMarks(g, inFlightChart, now);
    // Keep one sample from before the window: the line starts at its value.
    while (state.samples.length > 1 && state.samples[1][0] < now - WINDOW_SECONDS)
        state.samples.shift();
    const top = Math.max(state.maxInFlight, 1);
    const yOf = value => height - 16 - (height - 30) * value / top;
    g.strokeStyle = "#c8322f";
    g.setLineDash([4, 4]);
    g.beginPath();
    g.moveTo(0, yOf(state.maxInFlight));
    g.lineTo(width, yOf(state.maxInFlight));
    g.stroke();
    g.setLineDash([]);
    g.fillStyle = "#c8322f";
    g.fillText("most at once: " + state.maxInFlight, 4, yOf(state.maxInFlight) - 4);
    g.strokeStyle = "#3b78c4";
    g.lineWidth = 2;
    g.beginPath();
    let value = state.samples.length > 0 ? state.samples[0][1] : 0;
    g.moveTo(0, yOf(value));
    for (const [t, next] of state.samples) {
        const x = Math.max(0, xOf(inFlightChart, t, now));
        g.lineTo(x, yOf(value));     // a step: flat until the change, then up or down
        g.lineTo(x, yOf(next));
        value = next;
    }
    g.lineTo(xOf(inFlightChart, now, now), yOf(value));
    g.stroke();
    g.lineWidth = 1;
}

function draw() {
    const now = serverNow();
    drawTimeline(now);
    drawInFlight(now);
    showNumbers();
    requestAnimationFrame(draw);
}

// ------------------------------------------------------------ the stream

function listen() {
    const events = new EventSource("/live/events");
    const handlers = { hello: onHello, begin: onBegin, end: onEnd, dropped: onDropped };
    for (const [name, handler] of Object.entries(handlers))
        events.addEventListener(name, message => {
            handler(JSON.parse(message.data));
            showNumbers();           // at once, not only at the next frame
        });
    events.onerror = () =>
        showConnection(false, "not connected to the server (is slowserver running?); retrying...");
}

document.getElementById("clear").addEventListener("click", clear);
document.getElementById("window-seconds").textContent = WINDOW_SECONDS;
listen();
requestAnimationFrame(draw);
