// The open item, read with Office.js, as the API's Message schema.

const MAX_BODY = 512 * 1024;
const MAX_ID = 998;
const MAX_RECIPIENTS = 500;

function address(recipient) {
  if (!recipient || !recipient.emailAddress) return null;
  return { name: (recipient.displayName || "").slice(0, 320), email: String(recipient.emailAddress).slice(0, 320) };
}

function restId(itemId) {
  if (!itemId) return "";
  try {
    if (Office.context.diagnostics?.hostName === "OutlookIOS") return itemId; // already REST-formatted
    return Office.context.mailbox.convertToRestId(itemId, Office.MailboxEnums.RestVersion.v2_0);
  } catch {
    return itemId;
  }
}

function asyncValue(start) {
  return new Promise((resolve) => {
    try {
      start((result) => resolve(result.status === Office.AsyncResultStatus.Succeeded ? result.value : null));
    } catch {
      resolve(null);
    }
  });
}

function bodyText(item) {
  if (!item.body || typeof item.body.getAsync !== "function") return Promise.resolve(null);
  return asyncValue((done) => item.body.getAsync(Office.CoercionType.Text, done));
}

function internetHeaders(item) {
  const supported = (() => {
    try {
      return Office.context.requirements.isSetSupported("Mailbox", "1.8");
    } catch {
      return false;
    }
  })();
  if (!supported || typeof item.getAllInternetHeadersAsync !== "function") return Promise.resolve(null);
  return asyncValue((done) => item.getAllInternetHeadersAsync(done));
}

/** Message-IDs of the References and In-Reply-To headers (unfolded), in that order, once each. */
export function referencedIds(headers) {
  if (!headers) return [];
  const unfolded = headers.replace(/\r?\n[ \t]+/g, " ");
  const ids = [];
  for (const name of ["references", "in-reply-to"]) {
    for (const line of unfolded.split(/\r?\n/)) {
      const colon = line.indexOf(":");
      if (colon < 0 || line.slice(0, colon).trim().toLowerCase() !== name) continue;
      for (const id of line.slice(colon + 1).match(/<[^<>\s]+>/g) || []) {
        if (id.length <= MAX_ID && !ids.includes(id)) ids.push(id);
      }
    }
  }
  return ids.slice(0, 100);
}

export async function readMessage(item) {
  const message = {
    internet_message_id: String(item.internetMessageId || "").slice(0, MAX_ID),
    conversation_id: String(item.conversationId || "").slice(0, 512),
    item_id: restId(item.itemId).slice(0, 512),
    subject: (typeof item.subject === "string" ? item.subject : "").slice(0, 2000),
    from: address(item.from),
    to: (item.to || []).map(address).filter(Boolean).slice(0, MAX_RECIPIENTS),
    cc: (item.cc || []).map(address).filter(Boolean).slice(0, MAX_RECIPIENTS),
  };
  if (item.dateTimeCreated instanceof Date && !Number.isNaN(item.dateTimeCreated.getTime())) {
    message.date = item.dateTimeCreated.toISOString();
  }
  const [body, headers] = await Promise.all([bodyText(item), internetHeaders(item)]);
  if (typeof body === "string") message.body_text = body.slice(0, MAX_BODY);
  const references = referencedIds(headers);
  if (references.length) message.references = references;
  return message;
}
