// The task pane: reads the open item with Office.js, asks the connector's API for its sidebar, and
// carries out the user's clicks (link, unlink, note, create a record, choose a match, search, reply).

import { ApiProblem, call } from "./api.js";
import { append, clear, el, textToHtml } from "./dom.js";
import { readMessage } from "./item.js";
import * as render from "./render.js";
import { RepliesList } from "./replies.js";

const main = document.getElementById("main");
const status = document.getElementById("status");
const who = document.getElementById("who");
const refreshButton = document.getElementById("refresh");

const state = { message: null, view: null, me: null, templates: null, previewTicket: 0, generation: 0, replies: null };

function say(text) {
  status.textContent = text;
}

function show(nodes, { busy = false } = {}) {
  clear(main);
  append(main, nodes);
  main.setAttribute("aria-busy", busy ? "true" : "false");
}

function focusHeading(id) {
  const heading = document.getElementById(`${id}-title`);
  if (heading) heading.focus();
}

function describe(error) {
  if (error instanceof ApiProblem) return error;
  return new ApiProblem(0, { code: "error", detail: String(error?.message || error) });
}

function fail(error) {
  const problem = describe(error);
  if (problem.code === "oro_not_connected") {
    showConnect({ ...(state.me || {}), connect_url: problem.body.connect_url });
    return;
  }
  say("");
  show(render.problemScreen(problem, actions));
}

function addressee() {
  // Whom the reply goes to: the sender, or (on one's own message) the first other participant.
  const people = state.view?.participants || [];
  return people.find((p) => p.role === "from") || people[0] || null;
}

function greeting() {
  const first = (addressee()?.name || "").split(/\s+/)[0];
  const sign = state.me?.name ? `\n\nBest regards,\n${state.me.name}` : "\n\nBest regards,";
  return `${first ? `Hello ${first},` : "Hello,"}\n\n${sign}`;
}

function showConnect(me) {
  refreshButton.hidden = true;
  show(render.connectScreen(me, actions));
  focusHeading("connect");
}

async function loadTemplates(fresh) {
  // Asked once per opened message (and on Refresh); a failure shows in the templates section only.
  if (state.templates && !fresh) return state.templates;
  try {
    state.templates = { list: (await call("GET", "/templates")).templates };
  } catch (error) {
    state.templates = { error: describe(error).message };
  }
  return state.templates;
}

/** The templates that fit a reply to ``person``: those for a record type Oro matched them to (filled
 * from that record, the first of its type, as the Gmail add-on does) and those for no record. */
function templateChoices(templates, person) {
  const records = {};
  for (const group of person && !person.excluded ? person.matches : []) {
    if (group.records.length && !records[group.type]) records[group.type] = group.records[0];
  }
  return (templates.list || [])
    .filter((t) => !t.record_type || records[t.record_type])
    .map((t) => ({ template: t, record: t.record_type ? records[t.record_type] : null }));
}

async function loadSidebar({ fresh = false, focus = null } = {}) {
  const generation = state.generation;
  main.setAttribute("aria-busy", "true");
  const [view, templates] = await Promise.all([
    call("POST", "/sidebar", { body: { message: state.message, fresh } }),
    loadTemplates(fresh),
  ]);
  if (generation !== state.generation) return; // another message was opened meanwhile
  state.view = view;
  state.previewTicket += 1; // a preview still on its way belongs to the page being replaced
  refreshButton.hidden = false;
  const person = addressee();
  const replying = { person, choices: templateChoices(templates, person), error: templates.error };
  show(render.sidebar(view, { act: actions, replies: state.replies?.section }, { greeting: greeting(), templates: replying }));
  if (focus) focusHeading(focus);
}

function displayLocale() {
  // The user's Outlook language picks a template's locale text, as Gmail's does in the add-on.
  const language = Office.context.displayLanguage;
  return typeof language === "string" && /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,4}){0,2}$/.test(language) ? language : null;
}

function watchReplies() {
  // The thread the connector files the message under: its conversation, else the message itself.
  const thread = state.message.conversation_id || state.message.internet_message_id;
  state.replies = new RepliesList({
    load: () => call("GET", "/replies", { query: { conversationId: thread } }),
    act: actions,
    say,
  });
}

function listReplies() {
  // Not worth failing the sidebar for: the list shows nothing until it can be read.
  return state.replies?.refresh().catch((error) => {
    console.warn("the replies of this conversation could not be listed:", describe(error).message);
  });
}

async function start() {
  state.generation += 1;
  state.replies?.stop();
  state.replies = null;
  state.templates = null;
  const generation = state.generation;
  const item = Office.context.mailbox?.item; // no mailbox at all when opened outside Outlook
  if (!item) {
    show(render.nothingOpen());
    return;
  }
  show([el("p", { class: "muted loading" }, "Loading…")], { busy: true });
  try {
    const message = await readMessage(item);
    if (generation !== state.generation) return;
    state.message = message;
    state.me = await call("GET", "/me");
    who.textContent = state.me.email;
    if (!state.me.oro_connected) {
      showConnect(state.me);
      return;
    }
    watchReplies();
    await loadSidebar();
    listReplies();
  } catch (error) {
    fail(error);
  }
}

async function act(work, done) {
  try {
    const result = await work();
    if (done) await done(result);
  } catch (error) {
    const problem = describe(error);
    if (problem.code === "oro_not_connected") {
      fail(problem);
      return;
    }
    say(problem.message);
  }
}

function recordBody(card) {
  return { type: card.type, id: card.id, title: card.title };
}

const actions = {
  restart: start,

  /** Record a reply for the connector to send; answers whether this click got an answer (see replies.js). */
  async sendReply(body) {
    say("Sending your reply…");
    const locale = displayLocale();
    try {
      const { send } = await call("POST", "/replies", {
        body: { message: state.message, ...(locale && body.template_id ? { locale } : {}), ...body },
      });
      say(`Your reply to ${send.to.join(", ")} is recorded: ${send.label.toLowerCase()}.`);
      await listReplies();
      focusHeading("replies");
      return { settled: true };
    } catch (error) {
      const problem = describe(error);
      if (problem.code === "oro_not_connected") {
        fail(problem);
        return { settled: true };
      }
      // No answer about this click (the network, a failing server): it may have been recorded, so the
      // next click sends it under the same key, never as a second email.
      const settled = problem.status >= 400 && problem.status < 500;
      say(settled ? `Not sent: ${problem.message}` : `${problem.message} Press Send now again to send this reply.`);
      return { settled };
    }
  },

  retrySend(send) {
    return replyAction(send, "retry", `The reply to ${send.to.join(", ")} will be sent again.`);
  },

  dismissSend(send) {
    return replyAction(send, "dismiss", `The reply to ${send.to.join(", ")} is dismissed: it will not be sent.`);
  },

  connect(url) {
    if (!url) return;
    Office.context.ui.displayDialogAsync(url, { height: 70, width: 40 }, (opened) => {
      if (opened.status !== Office.AsyncResultStatus.Succeeded) {
        say("The Oro sign-in window could not be opened.");
        return;
      }
      say("Sign in to Oro in the window that opened.");
      // The window closes itself once connected: then look again.
      opened.value.addEventHandler(Office.EventType.DialogEventReceived, () => start());
    });
  },

  link(card) {
    say(`Linking to ${card.title}…`);
    return act(
      () => call("POST", "/links", { body: { message: state.message, record: recordBody(card) } }),
      async () => {
        await loadSidebar({ fresh: true, focus: "thread" });
        say(`Linked this conversation to ${card.title}.`);
      },
    );
  },

  unlink(card) {
    say(`Unlinking ${card.title}…`);
    return act(
      () => call("DELETE", "/links", { body: { message: state.message, record: recordBody(card) } }),
      async () => {
        await loadSidebar({ fresh: true, focus: "thread" });
        say(`${card.title} is no longer linked to this conversation.`);
      },
    );
  },

  choose(choice, recordId) {
    const option = choice.options.find((o) => o.id === recordId);
    return act(
      () => call("PUT", "/choices", { body: { address: choice.address, record_type: choice.type, record_id: recordId } }),
      async () => {
        await loadSidebar({ focus: "people" });
        say(`${choice.address} is ${option ? option.title : "the chosen record"} from now on.`);
      },
    );
  },

  forget(choice) {
    return act(
      () => call("DELETE", "/choices", { query: { address: choice.address, record_type: choice.type } }),
      async () => {
        await loadSidebar({ focus: "people" });
        say(`Choose again which record ${choice.address} is.`);
      },
    );
  },

  note(card, text, ui) {
    ui.button.disabled = true;
    ui.done.textContent = "";
    say(`Adding a note to ${card.title}…`);
    return act(
      () => call("POST", "/notes", { body: { record: recordBody(card), text } }),
      () => {
        ui.text.value = "";
        ui.done.textContent = "Note added";
        say(`Note added to ${card.title}.`);
      },
    ).finally(() => {
      ui.button.disabled = false;
    });
  },

  create(request, ui) {
    say(`Creating the ${request.kind}…`);
    ui.busy(true);
    return act(
      () => call("POST", "/records", { body: { message: state.message, ...request } }),
      async (outcome) => {
        if (!outcome.created) {
          ui.busy(false);
          ui.duplicates(outcome);
          say(`Oro may already have this ${request.kind}: link one of the records shown, or create it anyway.`);
          return;
        }
        await loadSidebar({ fresh: true, focus: "thread" });
        const done = outcome.link
          ? `Created ${outcome.created.title} and linked this conversation to it.`
          : `Created ${outcome.created.title}.`;
        say([done, ...outcome.warnings].join(" "));
      },
    ).finally(() => ui.busy(false));
  },

  search(text, page, more = false) {
    say(`Searching Oro for “${text}”…`);
    return act(
      () => call("GET", "/search", { query: { q: text, page } }),
      (results) => {
        const linked = new Set((state.view?.thread.linked || []).map((i) => `${i.record.type}:${i.record.id}`));
        render.searchResults(results, { linked, act: actions, append: more });
        say(`${results.records.length} result${results.records.length === 1 ? "" : "s"} for “${text}”.`);
      },
    );
  },

  reply(text) {
    const item = Office.context.mailbox?.item;
    if (!item) return;
    const htmlBody = textToHtml(text);
    if (htmlBody.length > 32 * 1024) {
      say("The reply is too long for Outlook's reply form (32 KB).");
      return;
    }
    item.displayReplyForm({ htmlBody });
    say("Outlook opened the reply for you to review.");
  },

  async previewTemplate(choice, ui) {
    const person = addressee();
    if (!person) return;
    const ticket = (state.previewTicket += 1);
    const body = { recipients: [{ email: person.address, name: person.name || "" }] };
    if (choice.record) body.record = { type: choice.record.type, id: choice.record.id };
    const locale = displayLocale();
    if (locale) body.locale = locale;
    ui.loading();
    try {
      const result = await call("POST", `/templates/${choice.template.id}/preview`, { body });
      if (ticket !== state.previewTicket) return; // another template was chosen meanwhile
      ui.show(result.previews[0]);
    } catch (error) {
      if (ticket !== state.previewTicket) return;
      const problem = describe(error);
      if (problem.code === "oro_not_connected") {
        fail(problem);
        return;
      }
      ui.failed(problem.message);
    }
  },

  replyWithTemplate(choice, preview) {
    const item = Office.context.mailbox?.item;
    if (!item || !preview.ready || preview.missing.length) return; // the button is disabled then too
    const htmlBody = preview.format === "html" ? preview.body : textToHtml(preview.body);
    if (htmlBody.length > 32 * 1024) {
      say("This template's reply is too long for Outlook's reply form (32 KB).");
      return;
    }
    item.displayReplyForm({ htmlBody });
    say(`Outlook opened the reply with “${choice.template.name}” for you to review.`);
  },
};

async function replyAction(send, verb, done) {
  try {
    await call("POST", `/replies/${send.id}/${verb}`);
    say(done);
  } catch (error) {
    say(describe(error).message); // e.g. retried meanwhile in another window: the list shows how it is
  }
  await listReplies();
  if (!state.replies?.section.hidden) focusHeading("replies");
}

refreshButton.addEventListener("click", () =>
  act(() => loadSidebar({ fresh: true }), () => say("Refreshed from Oro.")),
);

function applyOfficeTheme() {
  try {
    const background = Office.context.officeTheme?.bodyBackgroundColor;
    if (!background) return;
    const hex = background.replace("#", "");
    const [r, g, b] = [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16));
    document.documentElement.dataset.theme = 0.299 * r + 0.587 * g + 0.114 * b < 128 ? "dark" : "light";
  } catch {
    // no theme information: the browser's preference applies
  }
}

Office.onReady(() => {
  applyOfficeTheme();
  try {
    // Follows the selected message when the pane is pinned (needs SupportsPinning in the manifest).
    Office.context.mailbox.addHandlerAsync(Office.EventType.ItemChanged, () => start());
  } catch {
    // older clients: the pane closes when the selection changes
  }
  start();
});
