// The deployment's settings for the pane, rendered by the server into a JSON block (never executed).
const block = document.getElementById("pane-config");

export const config = Object.freeze(JSON.parse(block ? block.textContent : "{}"));
