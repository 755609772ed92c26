// The SidebarView as the pane's HTML. Every value from Oro or from the email is text (see dom.js).

import { el, uniqueId } from "./dom.js";
import { sendNowButton } from "./replies.js";

const ROLE_LABELS = { from: "From", to: "To", cc: "Cc", bcc: "Bcc" };

function day(iso) {
  if (!iso) return "";
  const moment = new Date(iso);
  return Number.isNaN(moment.getTime()) ? "" : moment.toISOString().slice(0, 10);
}

function ref(card) {
  return `${card.type}:${card.id}`;
}

function cardTitle(card) {
  if (card.url) {
    return el(
      "a",
      { class: "title", href: card.url, target: "_blank", rel: "noopener noreferrer", "aria-label": `${card.title} (opens in Oro)` },
      card.title,
    );
  }
  return el("span", { class: "title" }, card.title);
}

function facts(card) {
  if (!card.facts || !card.facts.length) return null;
  return el(
    "dl",
    { class: "facts" },
    card.facts.map((fact) => [el("dt", {}, fact.label), el("dd", {}, fact.value)]),
  );
}

function noteBox(card, label, act) {
  const id = uniqueId("note");
  const text = el("textarea", { id, rows: "3", required: true, maxlength: "20000" });
  const button = el("button", { type: "submit", "aria-label": `Add note to ${label}` }, "Add note");
  const done = el("p", { class: "muted done", role: "status" });
  const form = el(
    "form",
    {
      class: "note-form",
      onsubmit: (event) => {
        event.preventDefault();
        if (!text.value.trim()) {
          done.textContent = "Write the note first.";
          text.focus();
          return;
        }
        act.note(card, text.value, { text, button, done });
      },
    },
    el("label", { for: id }, `Note on ${card.title}`),
    text,
    el("div", { class: "actions" }, button),
    done,
  );
  return el("details", { class: "note-box" }, el("summary", {}, "Add a note"), form);
}

/** One record. ``linked`` is the set of refs the thread is linked to; ``act`` handles buttons. */
export function recordCard(card, { linked, act, headingLevel = "h4" }) {
  const isLinked = card.in_context || linked.has(ref(card));
  const label = `${card.title} (${card.type_label})`;
  const buttons = [];
  if (isLinked && (card.actions.includes("unlink") || card.actions.includes("link"))) {
    buttons.push(
      el("button", { type: "button", class: "secondary", "aria-label": `Unlink ${label} from this conversation`, onclick: () => act.unlink(card) }, "Unlink"),
    );
  } else if (card.actions.includes("link")) {
    buttons.push(
      el("button", { type: "button", "aria-label": `Link this conversation to ${label}`, onclick: () => act.link(card) }, "Link"),
    );
  }
  return el(
    "li",
    { class: isLinked ? "card linked" : "card", dataset: { ref: ref(card) } },
    el(headingLevel, { class: "card-head" }, cardTitle(card), " ", el("span", { class: "type" }, card.type_label)),
    card.subtitle ? el("p", { class: "subtitle" }, card.subtitle) : null,
    facts(card),
    card.why ? el("p", { class: "why" }, card.why.text) : null,
    isLinked ? el("p", { class: "badge" }, "Linked to this conversation") : null,
    buttons.length ? el("div", { class: "actions" }, buttons) : null,
    card.actions.includes("note") && act.note ? noteBox(card, label, act) : null,
  );
}

function cardList(cards, options) {
  return el("ul", { class: "cards" }, cards.map((card) => recordCard(card, options)));
}

function choiceBox(choice, { act }) {
  const noun = choice.label.toLowerCase();
  const legend = `Several ${noun} records use ${choice.address}. Which one is it?`;
  if (choice.chosen) {
    const picked = choice.options.find((o) => o.id === choice.chosen);
    return el(
      "div",
      { class: "choice" },
      el("p", {}, `You chose ${picked ? picked.title : "a record"} for ${choice.address}.`),
      el(
        "button",
        { type: "button", class: "secondary", "aria-label": `Change which ${noun} ${choice.address} is`, onclick: () => act.forget(choice) },
        "Change",
      ),
    );
  }
  const name = uniqueId("choice");
  const options = choice.options.map((option, index) => {
    const id = `${name}-${index}`;
    return el(
      "li",
      { class: "option" },
      el("input", { type: "radio", id, name, value: option.id, checked: index === 0 }),
      el(
        "label",
        { for: id },
        el("span", { class: "title" }, option.title),
        option.subtitle ? el("span", { class: "subtitle" }, ` · ${option.subtitle}`) : null,
      ),
    );
  });
  const form = el(
    "form",
    {
      class: "choice",
      onsubmit: (event) => {
        event.preventDefault();
        const picked = form.querySelector(`input[name="${name}"]:checked`);
        if (picked) act.choose(choice, picked.value);
      },
    },
    el(
      "fieldset",
      {},
      el("legend", {}, legend),
      el("ul", { class: "options" }, options),
      el("button", { type: "submit" }, `Use this ${noun}`),
    ),
  );
  return form;
}

function participantBlock(participant, options) {
  const headingId = uniqueId("person");
  const parts = [
    el(
      "h3",
      { id: headingId, class: "person" },
      participant.name || participant.address,
      " ",
      el("span", { class: "role" }, ROLE_LABELS[participant.role] || participant.role),
    ),
    participant.name ? el("p", { class: "address" }, participant.address) : null,
  ];
  if (participant.excluded) {
    parts.push(el("p", { class: "muted" }, participant.excluded));
  } else {
    for (const group of participant.matches) parts.push(cardList(group.records, options));
    for (const choice of participant.choices) parts.push(choiceBox(choice, options));
    if (!participant.matches.length && !participant.choices.length) {
      if (participant.domain_matches.length) {
        parts.push(el("p", { class: "muted" }, "Nobody in Oro uses this address. Companies of its domain:"));
        parts.push(cardList(participant.domain_matches, options));
      } else {
        parts.push(el("p", { class: "muted" }, "Not found in Oro."));
      }
      if (participant.suggestions.length && options.act.create) parts.push(suggestionsBox(participant, options.act));
    }
  }
  return el("article", { class: "participant", "aria-labelledby": headingId }, parts);
}

// --- creating a record for someone Oro does not know -------------------------------------------------

const TYPE_LABELS = {
  contacts: "Contact",
  customerusers: "Customer user",
  customers: "Customer",
  accounts: "Account",
  b2bcustomers: "B2B customer",
  leads: "Lead",
  opportunities: "Opportunity",
  orders: "Order",
  cases: "Case",
  tasks: "Task",
};
const KIND_LABELS = { lead: "lead", contact: "contact", case: "case", opportunity: "opportunity", task: "task" };
const PREFILL_FIELDS = { "First name": "first_name", "Last name": "last_name", Email: "email", Company: "company" };

function suggestionKind(suggestion) {
  return suggestion.action.replace(/^create_/, "");
}

function suggestionsBox(participant, act) {
  const place = el("div", { class: "create-place" });
  const buttons = participant.suggestions
    .filter((s) => KIND_LABELS[suggestionKind(s)])
    .map((suggestion) => {
      const button = el(
        "button",
        {
          type: "button",
          class: "secondary",
          "aria-label": `${suggestion.label} for ${participant.address}`,
          "aria-expanded": "false",
          onclick: () => {
            place.replaceChildren(createForm(participant, suggestion, act, { opener: button, place, all: buttons }));
            for (const other of buttons) other.setAttribute("aria-expanded", String(other === button));
            place.querySelector("input:not([readonly]), select")?.focus();
          },
        },
        suggestion.label,
      );
      return button;
    });
  return el("div", { class: "suggestions" }, el("div", { class: "actions" }, buttons), place);
}

function textField(name, labelText, value, { readonly = false, type = "text" } = {}) {
  const id = uniqueId(name);
  const input = el("input", { type, id, name, value: value || "", maxlength: "255", readonly, autocomplete: "off" });
  return [el("label", { for: id }, labelText), input];
}

function createForm(participant, suggestion, act, { opener, place, all }) {
  const values = {};
  for (const fact of suggestion.prefill) if (PREFILL_FIELDS[fact.label]) values[PREFILL_FIELDS[fact.label]] = fact.value;
  const legendId = uniqueId("create");
  const kinds = participant.suggestions.map(suggestionKind).filter((k) => KIND_LABELS[k]);
  const kindId = uniqueId("kind");
  const kind = el(
    "select",
    { id: kindId, name: "kind" },
    kinds.map((k) => el("option", { value: k, selected: k === suggestionKind(suggestion) }, KIND_LABELS[k][0].toUpperCase() + KIND_LABELS[k].slice(1))),
  );
  const result = el("div", { class: "create-result", "aria-live": "polite" });
  const submit = el("button", { type: "submit" }, "Create");
  const close = () => {
    place.replaceChildren();
    for (const button of all) button.setAttribute("aria-expanded", "false");
    opener.focus();
  };
  const form = el(
    "form",
    {
      class: "create-form",
      "aria-labelledby": legendId,
      onsubmit: (event) => {
        event.preventDefault();
        send(false);
      },
    },
    el(
      "fieldset",
      {},
      el("legend", { id: legendId }, `New record for ${participant.address}`),
      el("label", { for: kindId }, "Record type"),
      kind,
      textField("first_name", "First name", values.first_name),
      textField("last_name", "Last name", values.last_name),
      textField("email", "Email", values.email || participant.address, { readonly: true, type: "email" }),
      textField("company", "Company", values.company),
      el(
        "div",
        { class: "actions" },
        submit,
        el("button", { type: "button", class: "secondary", onclick: close }, "Cancel"),
      ),
    ),
    result,
  );
  function fields() {
    const picked = {};
    for (const name of ["first_name", "last_name", "company"]) {
      const value = form.elements[name].value.trim();
      if (value) picked[name] = value;
    }
    return picked;
  }
  function send(confirm) {
    return act.create(
      { participant: participant.address, kind: kind.value, fields: fields(), confirm },
      {
        busy(on) {
          for (const button of form.querySelectorAll("button")) button.disabled = on;
        },
        duplicates(outcome) {
          result.replaceChildren(duplicatesBox(outcome, act, () => send(true)));
          result.querySelector("h4")?.focus();
        },
      },
    );
  }
  return form;
}

function duplicatesBox(outcome, act, createAnyway) {
  const headingId = uniqueId("duplicates");
  const noun = KIND_LABELS[outcome.prefill.kind] || "record";
  return el(
    "div",
    { class: "duplicates", role: "group", "aria-labelledby": headingId },
    el("h4", { id: headingId, tabindex: "-1" }, "Oro may already have this person"),
    el(
      "ul",
      { class: "cards" },
      outcome.duplicates.map((offer) => {
        const record = offer.record;
        const title = record.title || `${TYPE_LABELS[record.type] || record.type} #${record.id}`;
        const label = `${title} (${TYPE_LABELS[record.type] || record.type})`;
        return el(
          "li",
          { class: "card" },
          el(
            "h5",
            { class: "card-head" },
            cardTitle({ title, url: offer.url }),
            " ",
            el("span", { class: "type" }, TYPE_LABELS[record.type] || record.type),
          ),
          el("p", { class: "why" }, offer.why),
          el(
            "div",
            { class: "actions" },
            el(
              "button",
              { type: "button", "aria-label": `Link this conversation to ${label} instead`, onclick: () => act.link({ type: record.type, id: record.id, title }) },
              "Link this one instead",
            ),
          ),
        );
      }),
    ),
    el(
      "div",
      { class: "actions" },
      el("button", { type: "button", class: "secondary", "aria-label": `Create the ${noun} anyway`, onclick: createAnyway }, "Create anyway"),
    ),
  );
}

function section(id, title, ...children) {
  const headingId = `${id}-title`;
  return el("section", { id, "aria-labelledby": headingId }, el("h2", { id: headingId, tabindex: "-1" }, title), children);
}

function banners(view) {
  return view.banners.map((banner) =>
    el("p", { class: `banner ${banner.level}`, role: banner.level === "error" ? "alert" : "status" }, banner.text),
  );
}

function threadSection(view, options) {
  const linked = view.thread.linked;
  const body = linked.length
    ? el(
        "ul",
        { class: "cards" },
        linked.map((item) => {
          const card = recordCard(item.record, { ...options, headingLevel: "h3" });
          card.append(el("p", { class: "why" }, `Linked by ${item.linked_by} on ${day(item.linked_at)}`));
          return card;
        }),
      )
    : el("p", { class: "muted" }, "Not linked to any Oro record yet. Link it to a record below.");
  return section("thread", "This conversation in Oro", view.thread.note ? el("p", { class: "note" }, view.thread.note) : null, body);
}

function commerceSection(view, options) {
  const groups = [
    ["Open orders", view.commerce.open_orders],
    ["Requests for quote", view.commerce.recent_rfqs],
    ["Open cases", view.commerce.open_cases],
    ["Open opportunities", view.commerce.open_opportunities],
  ].filter(([, cards]) => cards.length);
  if (!groups.length) return null;
  return section(
    "commerce",
    "Open business",
    groups.map(([title, cards]) => [el("h3", {}, title), cardList(cards, options)]),
  );
}

export function searchSection(act) {
  const input = el("input", { type: "search", id: "search-text", name: "q", required: true, maxlength: "200", autocomplete: "off" });
  const results = el("div", { id: "search-results", "aria-live": "polite" });
  const form = el(
    "form",
    {
      role: "search",
      "aria-label": "Search Oro",
      onsubmit: (event) => {
        event.preventDefault();
        if (input.value.trim()) act.search(input.value.trim(), 1);
      },
    },
    el("label", { for: "search-text" }, "Find a record in Oro"),
    el("div", { class: "inline" }, input, el("button", { type: "submit" }, "Search")),
  );
  return section("search", "Search Oro", form, results);
}

export function searchResults(results, { linked, act, append: more }) {
  const container = document.getElementById("search-results");
  if (!container) return;
  let list = container.querySelector("ul.cards");
  if (!more || !list) {
    container.replaceChildren();
    container.append(
      el("p", { class: "muted", role: "status" }, results.records.length ? `Results for “${results.text}”` : `Nothing in Oro matches “${results.text}”.`),
    );
    list = el("ul", { class: "cards" });
    container.append(list);
  }
  for (const card of results.records) list.append(recordCard(card, { linked, act }));
  container.querySelector("button.more")?.remove();
  if (results.has_more) {
    container.append(
      el("button", { type: "button", class: "secondary more", onclick: () => act.search(results.text, results.page + 1, true) }, "More results"),
    );
  }
}

export function replySection(greeting, act) {
  const text = el("textarea", { id: "reply-text", rows: "6" });
  text.value = greeting;
  return section(
    "reply",
    "Reply",
    el("label", { for: "reply-text" }, "Reply text"),
    text,
    el("div", { class: "actions" }, el("button", { type: "button", onclick: () => act.reply(text.value) }, "Open reply form")),
    el("p", { class: "muted" }, "Outlook opens the reply for you to review and send."),
  );
}

// --- replying with a template ------------------------------------------------------------------------

// The rendered body is HTML made by the connector's sandboxed template renderer from Oro's data. It is
// shown only inside a sandboxed frame (no scripts, no forms, no popups, an origin of its own), under a
// policy that loads nothing but inline styles and images: never as markup of the pane itself.
const PREVIEW_POLICY = "default-src 'none'; img-src https: data:; style-src 'unsafe-inline'; font-src https: data:";

function framedBody(html) {
  return (
    `<!doctype html><html><head><meta charset="utf-8">` +
    `<meta http-equiv="Content-Security-Policy" content="${PREVIEW_POLICY}">` +
    `<style>body{margin:8px;font:14px/1.45 "Segoe UI",system-ui,sans-serif;color:#1f2328;background:#fff;overflow-wrap:anywhere}</style>` +
    `</head><body>${html}</body></html>`
  );
}

function choiceLabel(choice) {
  const { template, record } = choice;
  return record ? `${template.name} · ${record.type_label}: ${record.title}` : template.name;
}

/** What a chosen template makes of the reply: subject, body, and each missing field by name. The
 * "Open reply form" button is enabled only when nothing is missing. */
export function templatePreview(place, choice, preview, act) {
  const body =
    preview.format === "html"
      ? el("iframe", {
          class: "preview-body",
          sandbox: true,
          referrerpolicy: "no-referrer",
          title: `Reply body of “${choice.template.name}”`,
          srcdoc: framedBody(preview.body),
        })
      : el("pre", { class: "preview-body text" }, preview.body);
  const missingId = uniqueId("missing");
  const missing = preview.missing_fields.length
    ? el(
        "div",
        { id: missingId, class: "banner warning missing", role: "alert" },
        el("p", {}, "Fill these fields in Oro, or take them out of the template, before replying:"),
        el("ul", {}, preview.missing_fields.map((field) => el("li", {}, `${field.label} (${field.path})`))),
      )
    : null;
  const open = el(
    "button",
    {
      type: "button",
      disabled: !preview.ready,
      "aria-describedby": missing ? missingId : null,
      onclick: () => act.replyWithTemplate(choice, preview),
    },
    "Open reply form",
  );
  place.replaceChildren(
    ...[
      el(
        "dl",
        { class: "facts preview-head" },
        el("dt", {}, "To"),
        el("dd", {}, preview.name ? `${preview.name} <${preview.to}>` : preview.to),
        el("dt", {}, "Subject"),
        el("dd", { class: "preview-subject" }, preview.subject),
      ),
      body,
      missing,
      // Further ways to send this reply (such as sending it at once) join this row.
      el("div", { class: "actions template-actions" }, open, sendNow(choice, preview, missing ? missingId : null, act)),
      el("p", { class: "muted" }, "Outlook opens the reply, under the conversation's subject, for you to review and send."),
      el("p", { class: "muted" }, "Send now: the connector sends it for you, once, and lists it under Replies in this conversation."),
    ].filter(Boolean),
  );
}

/** "Send now": the connector sends the previewed reply itself, once; disabled while a field is missing. */
function sendNow(choice, preview, missingId, act) {
  const button = sendNowButton({
    request: () =>
      preview.ready && !preview.missing_fields.length
        ? {
            template_id: choice.template.id,
            record: choice.record ? { type: choice.record.type, id: choice.record.id } : null,
            to: [preview.to],
          }
        : null,
    send: (body) => act.sendReply(body),
  });
  if (missingId) button.setAttribute("aria-describedby", missingId);
  return button;
}

export function templateSection({ person, choices, error }, act) {
  const title = "Reply with a template";
  if (error) return section("templates", title, el("p", { class: "banner warning" }, `Templates could not be loaded: ${error}`));
  if (!person) return section("templates", title, el("p", { class: "muted" }, "Nobody on this email to reply to."));
  if (!choices.length) {
    return section(
      "templates",
      title,
      el("p", { class: "muted" }, `No template fits a reply to ${person.name || person.address} yet. Templates are made on the connector's setup page.`),
    );
  }
  const place = el("div", { class: "template-preview", "aria-live": "polite" });
  const ui = {
    loading() {
      place.replaceChildren(el("p", { class: "muted" }, "Preparing the preview…"));
    },
    failed(message) {
      place.replaceChildren(el("p", { class: "banner error", role: "alert" }, message));
    },
  };
  const select = el(
    "select",
    {
      id: "template-choice",
      name: "template",
      onchange: () => {
        const choice = choices[Number(select.value)];
        if (!select.value || !choice) {
          place.replaceChildren();
          return;
        }
        act.previewTemplate(choice, { ...ui, show: (preview) => templatePreview(place, choice, preview, act) });
      },
    },
    el("option", { value: "" }, "Choose a template…"),
    choices.map((choice, index) => el("option", { value: String(index) }, choiceLabel(choice))),
  );
  return section(
    "templates",
    title,
    el("p", { class: "muted" }, `To ${person.name ? `${person.name} <${person.address}>` : person.address}, filled in from Oro.`),
    el("label", { for: "template-choice" }, "Template"),
    select,
    place,
  );
}

export function sidebar(view, options, { greeting, templates }) {
  const linked = new Set(view.thread.linked.map((item) => ref(item.record)));
  const shared = { ...options, linked };
  return [
    ...banners(view),
    options.replies,
    threadSection(view, shared),
    section("people", "People on this email", view.participants.length
      ? view.participants.map((p) => participantBlock(p, shared))
      : el("p", { class: "muted" }, "Nobody on this email but you.")),
    commerceSection(view, shared),
    searchSection(options.act),
    templates ? templateSection(templates, options.act) : null,
    replySection(greeting, options.act),
  ];
}

export function connectScreen(me, act) {
  return [
    section(
      "connect",
      "Connect to Oro",
      el("p", {}, `Signed in as ${me.email}. Connect your mailbox to Oro once to see Oro's records next to your email.`),
      el(
        "div",
        { class: "actions" },
        el("button", { type: "button", onclick: () => act.connect(me.connect_url) }, "Connect to Oro"),
        el("button", { type: "button", class: "secondary", onclick: () => act.restart() }, "I have connected"),
      ),
    ),
  ];
}

export function problemScreen(problem, act) {
  return [
    el("p", { class: "banner error", role: "alert" }, problem.message),
    el("div", { class: "actions" }, el("button", { type: "button", onclick: () => act.restart() }, "Try again")),
  ];
}

export function nothingOpen() {
  return [el("p", { class: "muted" }, "Open an email to see its Oro records.")];
}
