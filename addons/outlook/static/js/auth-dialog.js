// The sign-in fallback dialog: MSAL.js signs the user in by redirect inside this Office dialog, then
// hands the access token for our API to the pane with messageParent. No secret is involved.

import { config } from "./config.js";

function send(message) {
  Office.context.ui.messageParent(JSON.stringify(message));
}

function say(text) {
  const status = document.getElementById("dialog-status");
  if (status) status.textContent = text;
}

async function signIn() {
  const app = await window.msal.PublicClientApplication.createPublicClientApplication({
    auth: {
      clientId: config.clientId,
      authority: config.authority,
      redirectUri: window.location.origin + window.location.pathname,
    },
    cache: { cacheLocation: "localStorage" },
  });
  const request = { scopes: [config.apiScope] };
  const returned = await app.handleRedirectPromise();
  if (returned) return returned;
  const account = app.getAllAccounts()[0];
  if (account) {
    try {
      return await app.acquireTokenSilent({ ...request, account });
    } catch {
      // fall through to the interactive sign-in
    }
  }
  await app.acquireTokenRedirect(request);
  return null; // the page navigates away
}

Office.onReady(async () => {
  try {
    const result = await signIn();
    if (result) {
      say("Signed in.");
      send({
        status: "success",
        accessToken: result.accessToken,
        expiresOn: result.expiresOn ? new Date(result.expiresOn).toISOString() : null,
      });
    }
  } catch (error) {
    say("Signing in did not succeed.");
    send({ status: "failure", error: String(error?.message || error) });
  }
});
