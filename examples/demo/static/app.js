// The demo page: notes via fetch(), the chat over a WebSocket, the upload via FormData.
// Everything from the server or other users is inserted with textContent (never innerHTML),
// so names and messages are HTML-escaped by construction.
"use strict";

const $ = (id) => document.getElementById(id);

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({
    "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",
  })[c]);
}

// --- notes ---------------------------------------------------------------------------------
async function loadNotes() {
  const notes = await (await fetch("/api/notes")).json();
  const list = $("notes");
  list.replaceChildren();
  for (const note of notes) {
    const item = document.createElement("li");
    item.textContent = `${note.title}: ${note.body} `;
    const remove = document.createElement("button");
    remove.textContent = "delete";
    remove.onclick = async () => {
      await fetch(`/api/notes/${note.id}`, { method: "DELETE" });
      loadNotes();
    };
    item.append(remove);
    list.append(item);
  }
}

$("note-form").onsubmit = async (event) => {
  event.preventDefault();
  await fetch("/api/notes", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ title: $("note-title").value, body: $("note-body").value }),
  });
  $("note-form").reset();
  loadNotes();
};

// --- chat ----------------------------------------------------------------------------------
let socket = null;

function showEvent(event) {
  const line = document.createElement("div");
  const name = escapeHtml(event.name);
  if (event.type === "message") {
    // Built from escaped text only: a name like <img onerror=...> shows as text.
    line.innerHTML = `<span class="name">${name}</span>: ${escapeHtml(event.text)}`;
  } else {
    line.className = "event";
    line.textContent = `${event.name} ${event.type === "join" ? "joined" : "left"}`;
  }
  $("chat-log").append(line);
  $("chat-log").scrollTop = $("chat-log").scrollHeight;
}

$("join-form").onsubmit = (event) => {
  event.preventDefault();
  if (socket) socket.close();
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const name = encodeURIComponent($("chat-name").value);
  socket = new WebSocket(`${scheme}://${location.host}/ws/chat?name=${name}`);
  socket.onmessage = (message) => showEvent(JSON.parse(message.data));
  socket.onopen = () => { $("chat-form").hidden = false; $("chat-text").focus(); };
  socket.onclose = () => { $("chat-form").hidden = true; };
};

$("chat-form").onsubmit = (event) => {
  event.preventDefault();
  const text = $("chat-text").value;
  if (socket && text) socket.send(text);
  $("chat-text").value = "";
};

// --- upload --------------------------------------------------------------------------------
$("upload-form").onsubmit = async (event) => {
  event.preventDefault();
  const response = await fetch("/upload", { method: "POST", body: new FormData(event.target) });
  $("upload-result").textContent = JSON.stringify(await response.json(), null, 2);
};

loadNotes();
