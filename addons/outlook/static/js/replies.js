// Replies the connector sends for the user in this conversation (/api/v1/replies): each one's state,
// a failed one with why and Retry / Dismiss until the user deals with it, and the "Send now" button.
// Everything shown is text (see dom.js).

import { el } from "./dom.js";

const POLL_MS = 2000;
const MAX_WAIT_MS = 30000; // a reply waiting for a later attempt is looked at again at least this often

function moment(iso) {
  if (!iso) return "";
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return "";
  return when.toLocaleString([], { dateStyle: "short", timeStyle: "short" });
}

function recipients(send) {
  return send.to.length ? send.to.join(", ") : "nobody";
}

function isUnderway(send) {
  return send.state === "pending" || send.state === "sending";
}

/** How long until the list should be looked at again; null when nothing is underway. */
export function nextLookIn(sends, now = Date.now()) {
  const underway = sends.filter(isUnderway);
  if (!underway.length) return null;
  let wait = MAX_WAIT_MS;
  for (const send of underway) {
    const due = send.state === "pending" && send.next_attempt_at ? Date.parse(send.next_attempt_at) : now;
    wait = Math.min(wait, Math.max(POLL_MS, (Number.isNaN(due) ? now : due) - now));
  }
  return wait;
}

function sendItem(send, act) {
  const what = send.template || send.subject || "Reply";
  const label = `the reply to ${recipients(send)}`;
  const when = send.state === "sent" ? `Sent ${moment(send.sent_at)}` : `Written ${moment(send.created_at)}`;
  return el(
    "li",
    { class: `send state-${send.state}`, dataset: { send: String(send.id), state: send.state } },
    el("p", { class: "send-head" }, el("span", { class: "send-label" }, send.label), " ", el("span", { class: "send-what" }, what)),
    el("p", { class: "muted send-to" }, `To ${recipients(send)}`),
    send.error && send.state !== "sent" ? el("p", { class: send.state === "failed" ? "send-error" : "muted send-why" }, send.error) : null,
    el("p", { class: "muted send-when" }, when),
    send.state === "failed"
      ? el(
          "div",
          { class: "actions" },
          el("button", { type: "button", "aria-label": `Retry ${label}`, onclick: () => act.retrySend(send) }, "Retry"),
          el("button", { type: "button", class: "secondary", "aria-label": `Dismiss ${label}`, onclick: () => act.dismissSend(send) }, "Dismiss"),
        )
      : null,
  );
}

/**
 * The "Replies in this conversation" section. ``load()`` answers the API's {sends}; ``act`` handles the
 * buttons; ``say`` announces a reply that was sent or failed while the pane watched.
 * Looks again every 2 s while a reply is being sent; stops when none is, or when the section has left
 * the page (another message, a refresh).
 */
export class RepliesList {
  constructor({ load, act, say }) {
    this.load = load;
    this.act = act;
    this.say = say;
    this.timer = null;
    this.shown = null;
    this.states = new Map();
    this.stopped = false;
    this.underway = false;
    this.ticket = 0;
    this.list = el("ul", { class: "sends" });
    this.section = el(
      "section",
      { id: "replies", "aria-labelledby": "replies-title", hidden: true },
      el("h2", { id: "replies-title", tabindex: "-1" }, "Replies in this conversation"),
      this.list,
    );
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = null;
  }

  /** Ask again now (after a send, a retry, a dismiss); keeps watching while one is underway. */
  async refresh() {
    clearTimeout(this.timer);
    this.timer = null;
    if (this.stopped) return;
    const ticket = (this.ticket += 1);
    let sends;
    try {
      sends = (await this.load()).sends;
      if (ticket !== this.ticket) return; // a later look is under way: it decides what comes next
    } catch (error) {
      if (ticket !== this.ticket) return;
      // A reply was underway: keep an eye on it, less often, until the connector answers again.
      if (this.underway && !this.stopped) this.timer = setTimeout(() => this.refresh().catch(() => {}), MAX_WAIT_MS);
      throw error;
    }
    if (this.stopped || (this.section.isConnected === false && this.shown !== null)) {
      this.stop();
      return;
    }
    this.show(sends);
    const wait = nextLookIn(sends);
    this.underway = wait !== null;
    if (wait !== null) this.timer = setTimeout(() => this.refresh().catch(() => {}), wait);
  }

  show(sends) {
    this.announce(sends);
    const key = JSON.stringify(sends);
    if (key === this.shown) return; // unchanged: keep the DOM (and the focus) as it is
    this.shown = key;
    this.section.hidden = sends.length === 0;
    this.list.replaceChildren(...sends.map((send) => sendItem(send, this.act)));
  }

  announce(sends) {
    const first = this.states.size === 0 && this.shown === null;
    for (const send of sends) {
      const before = this.states.get(send.id);
      this.states.set(send.id, send.state);
      if (first || before === undefined || before === send.state) continue;
      if (send.state === "sent") this.say(`Your reply to ${recipients(send)} was sent.`);
      if (send.state === "failed") this.say(`Your reply to ${recipients(send)} was not sent: ${send.error}`);
    }
  }
}

/**
 * "Send now": sends the reply ``request()`` describes through the connector; ``request()`` answers null
 * while there is nothing to send (a field missing), and the button is disabled then (call
 * ``button.update()`` when what it depends on changes). ``send(body)`` answers {settled}: whether the
 * connector gave an answer about this click. Each click gets a new key, except the click after one
 * that got no answer (the network, the server failing), which reuses its key: trying again can never
 * send the reply twice.
 */
export function sendNowButton({ request, send, label = "Send now", ariaLabel }) {
  let retryKey = null;
  const button = el("button", { type: "button", class: "send-now", "aria-label": ariaLabel }, label);
  button.update = () => {
    button.disabled = request() === null;
  };
  button.addEventListener("click", async () => {
    const body = request();
    if (!body) return;
    const key = retryKey || crypto.randomUUID();
    retryKey = key;
    button.disabled = true;
    try {
      const { settled } = await send({ key, ...body });
      if (settled) retryKey = null;
    } finally {
      button.update();
    }
  });
  button.update();
  return button;
}
