/*
 * The Office.js host shim (sandbox only: the demo preview and the tests).
 *
 * It stands in for Office.js and for MSAL's nested app authentication inside the task pane's frame,
 * so the unmodified pane runs outside Outlook. Like Office.js in Outlook on the web, it talks to its
 * host (the frame's parent, the preview page) with postMessage: the host answers with the open item,
 * its body and headers, an access token from the sandbox's Entra, opens dialogs, records reply forms,
 * and announces ItemChanged when another message is selected.
 */
(function () {
  "use strict";

  var host = window.parent !== window ? window.parent : null;
  var origin = window.location.origin;
  var pending = {};
  var sequence = 0;
  var itemChangedHandlers = [];
  var ready = null;

  function ask(method, args) {
    return new Promise(function (resolve, reject) {
      if (!host) {
        reject(new Error("The Office.js shim needs a host page (the sandbox preview)."));
        return;
      }
      sequence += 1;
      pending[sequence] = { resolve: resolve, reject: reject };
      host.postMessage({ oroShim: "call", id: sequence, method: method, args: args || null }, origin);
    });
  }

  function result(value, error) {
    return error
      ? { status: "failed", value: undefined, error: { message: String(error.message || error) } }
      : { status: "succeeded", value: value, error: null };
  }

  function makeItem(data) {
    if (!data) return null;
    function recipient(a) {
      return { displayName: a.name || "", emailAddress: a.email };
    }
    return {
      itemType: "message",
      itemId: data.itemId,
      conversationId: data.conversationId,
      internetMessageId: data.internetMessageId,
      subject: data.subject,
      from: data.from ? recipient(data.from) : null,
      sender: data.from ? recipient(data.from) : null,
      to: (data.to || []).map(recipient),
      cc: (data.cc || []).map(recipient),
      dateTimeCreated: data.dateTimeCreated ? new Date(data.dateTimeCreated) : null,
      body: {
        getAsync: function (coercion, options, callback) {
          var done = typeof options === "function" ? options : callback;
          ask("body", { itemId: data.itemId, coercion: coercion }).then(
            function (text) { done(result(text)); },
            function (error) { done(result(undefined, error)); }
          );
        }
      },
      getAllInternetHeadersAsync: function (options, callback) {
        var done = typeof options === "function" ? options : callback;
        ask("headers", { itemId: data.itemId }).then(
          function (text) { done(result(text)); },
          function (error) { done(result(undefined, error)); }
        );
      },
      displayReplyForm: function (form) {
        ask("displayReplyForm", { itemId: data.itemId, form: typeof form === "string" ? { htmlBody: form } : form });
      },
      displayReplyAllForm: function (form) {
        ask("displayReplyAllForm", { itemId: data.itemId, form: typeof form === "string" ? { htmlBody: form } : form });
      }
    };
  }

  window.addEventListener("message", function (event) {
    if (event.origin !== origin || event.source !== host || !event.data) return;
    var data = event.data;
    if (data.oroShim === "reply" && pending[data.id]) {
      var call = pending[data.id];
      delete pending[data.id];
      if (data.error) call.reject(new Error(data.error));
      else call.resolve(data.value);
    } else if (data.oroShim === "itemChanged") {
      Office.context.mailbox.item = makeItem(data.item);
      itemChangedHandlers.forEach(function (handler) {
        handler({ type: Office.EventType.ItemChanged });
      });
    }
  });

  function dialogFor(url) {
    var handlers = {};
    return ask("openDialog", { url: url }).then(function (dialogId) {
      var dialog = {
        addEventHandler: function (type, handler) { handlers[type] = handler; },
        close: function () { ask("closeDialog", { dialogId: dialogId }); },
        messageChild: function () {}
      };
      window.addEventListener("message", function (event) {
        var data = event.data;
        if (event.origin !== origin || event.source !== host || !data || data.dialogId !== dialogId) return;
        if (data.oroShim === "dialogClosed" && handlers[Office.EventType.DialogEventReceived]) {
          handlers[Office.EventType.DialogEventReceived]({ error: 12006, type: Office.EventType.DialogEventReceived });
        }
      });
      return dialog;
    });
  }

  var Office = {
    HostType: { Outlook: "Outlook" },
    PlatformType: { OfficeOnline: "OfficeOnline" },
    AsyncResultStatus: { Succeeded: "succeeded", Failed: "failed" },
    CoercionType: { Text: "text", Html: "html" },
    EventType: {
      ItemChanged: "olkItemSelectedChanged",
      DialogMessageReceived: "dialogMessageReceived",
      DialogEventReceived: "dialogEventReceived"
    },
    MailboxEnums: { RestVersion: { v1_0: "v1.0", v2_0: "v2.0", Beta: "beta" } },
    context: {
      diagnostics: { hostName: "OutlookWebApp", hostVersion: "sandbox" },
      officeTheme: null,
      requirements: {
        isSetSupported: function (name, version) {
          if (name === "Mailbox") return parseFloat(version || "1.1") <= 1.13;
          return name === "NestedAppAuth";
        }
      },
      mailbox: {
        item: null,
        userProfile: { emailAddress: "", displayName: "" },
        convertToRestId: function (itemId) { return itemId; },
        addHandlerAsync: function (type, handler, options, callback) {
          var done = typeof options === "function" ? options : callback;
          if (type === Office.EventType.ItemChanged) itemChangedHandlers.push(handler);
          if (done) done(result(undefined));
        }
      },
      ui: {
        displayDialogAsync: function (url, options, callback) {
          var done = typeof options === "function" ? options : callback;
          dialogFor(url).then(
            function (dialog) { done(result(dialog)); },
            function (error) { done(result(undefined, error)); }
          );
        },
        messageParent: function () {}
      }
    },
    onReady: function (callback) {
      if (!ready) {
        ready = ask("init").then(function (init) {
          Office.context.mailbox.item = makeItem(init.item);
          Office.context.mailbox.userProfile = init.userProfile;
          Office.context.officeTheme = init.officeTheme || null;
          return { host: "Outlook", platform: "OfficeOnline" };
        });
      }
      return ready.then(function (info) {
        if (callback) callback(info);
        return info;
      });
    }
  };

  // MSAL's nested app authentication, as the Outlook host would broker it: the host page gets an
  // access token for our API from the sandbox's Entra for the mailbox's user.
  function InteractionRequiredAuthError(message) {
    this.name = "InteractionRequiredAuthError";
    this.message = message;
  }
  InteractionRequiredAuthError.prototype = Object.create(Error.prototype);

  function nestedApp() {
    function acquire(request) {
      return ask("acquireToken", { scopes: (request && request.scopes) || [] }).then(function (token) {
        return { accessToken: token.accessToken, expiresOn: new Date(token.expiresOn), scopes: token.scopes };
      });
    }
    return { acquireTokenSilent: acquire, acquireTokenPopup: acquire, getAllAccounts: function () { return []; } };
  }

  window.Office = Office;
  window.msal = {
    createNestablePublicClientApplication: function () { return Promise.resolve(nestedApp()); },
    InteractionRequiredAuthError: InteractionRequiredAuthError
  };
})();
