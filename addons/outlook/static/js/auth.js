// An Entra access token for our API, by nested app authentication (MSAL.js in the Outlook host), or,
// where the Outlook client has no NAA, through a sign-in dialog (Office dialog API + MSAL redirect).

import { config } from "./config.js";

const DIALOG_URL = new URL("../auth-dialog.html", import.meta.url).href;
const EARLY = 60 * 1000; // renew a dialog token a minute before it expires

let nestedApp = null;
let dialogToken = null; // {token, expiresOn}

function nestedAuthSupported() {
  try {
    return (
      Office.context.requirements.isSetSupported("NestedAppAuth", "1.1") &&
      typeof window.msal?.createNestablePublicClientApplication === "function"
    );
  } catch {
    return false;
  }
}

function nestedClient() {
  if (!nestedApp) {
    nestedApp = window.msal.createNestablePublicClientApplication({
      auth: { clientId: config.clientId, authority: config.authority },
      cache: { cacheLocation: "localStorage" },
    });
  }
  return nestedApp;
}

/** The access token; ``fresh`` asks past MSAL's cache (after the API refused the token). */
export async function accessToken({ fresh = false } = {}) {
  if (!config.clientId || !config.apiScope) throw new Error("The add-in is not configured for sign-in.");
  const request = { scopes: [config.apiScope], forceRefresh: fresh };
  if (nestedAuthSupported()) {
    const app = await nestedClient();
    try {
      return (await app.acquireTokenSilent(request)).accessToken;
    } catch (error) {
      const interaction = window.msal.InteractionRequiredAuthError;
      if (interaction && !(error instanceof interaction)) throw error;
      return (await app.acquireTokenPopup(request)).accessToken;
    }
  }
  if (!fresh && dialogToken && dialogToken.expiresOn - EARLY > Date.now()) return dialogToken.token;
  dialogToken = await signInWithDialog();
  return dialogToken.token;
}

function signInWithDialog() {
  return new Promise((resolve, reject) => {
    Office.context.ui.displayDialogAsync(DIALOG_URL, { height: 60, width: 30 }, (opened) => {
      if (opened.status !== Office.AsyncResultStatus.Succeeded) {
        reject(new Error(opened.error?.message || "The sign-in window could not be opened."));
        return;
      }
      const dialog = opened.value;
      dialog.addEventHandler(Office.EventType.DialogMessageReceived, (arg) => {
        if (arg.origin && arg.origin !== window.location.origin) return;
        dialog.close();
        let message;
        try {
          message = JSON.parse(arg.message);
        } catch {
          reject(new Error("The sign-in window answered something unreadable."));
          return;
        }
        if (message.status === "success" && message.accessToken) {
          resolve({ token: message.accessToken, expiresOn: Date.parse(message.expiresOn) || Date.now() + 30 * 60 * 1000 });
        } else {
          reject(new Error(message.error || "Signing in did not succeed."));
        }
      });
      dialog.addEventHandler(Office.EventType.DialogEventReceived, () =>
        reject(new Error("The sign-in window was closed before signing in finished.")),
      );
    });
  });
}
