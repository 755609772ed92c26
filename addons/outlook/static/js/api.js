// The connector's JSON API (/api/v1), called with the user's Entra access token.

import { accessToken } from "./auth.js";
import { config } from "./config.js";

export class ApiProblem extends Error {
  constructor(status, body) {
    super(body?.detail || `The connector answered ${status}.`);
    this.status = status;
    this.code = body?.code || "error";
    this.body = body || {};
  }
}

async function send(method, path, { body, query, fresh }) {
  const url = new URL(config.apiBase + path, window.location.origin);
  for (const [name, value] of Object.entries(query || {})) url.searchParams.set(name, String(value));
  const headers = { Accept: "application/json", Authorization: `Bearer ${await accessToken({ fresh })}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  return fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "omit",
    cache: "no-store",
  });
}

export async function call(method, path, options = {}) {
  let response;
  try {
    response = await send(method, path, options);
    if (response.status === 401) response = await send(method, path, { ...options, fresh: true });
  } catch (error) {
    if (error instanceof ApiProblem) throw error;
    throw new ApiProblem(0, { code: "network", detail: `The connector could not be reached (${error.message}).` });
  }
  if (response.status === 204) return null;
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) throw new ApiProblem(response.status, data);
  return data;
}
