// The TypeScript MCP SDK's client with its own OAuth provider, driven by tests/e2e/test_client_matrix.py.
//
// usage: node sdk_client.mjs <server url> <redirect uri>
// It talks JSON lines with the test: it prints {"event":"authorize","url":…} when the SDK sends
// the user to sign in and reads {"code":…,"state":…} back (the test plays the browser); then it
// calls tools/list and get_current_user, spoils its access token so that the next call gets 401
// and the SDK must refresh, calls again, and prints {"event":"done",…} with what it saw.
import { createInterface } from "node:readline";

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [serverUrl, redirectUri] = process.argv.slice(2);
const replies = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const say = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);

class TestProvider {
  // Everything in memory, as a desktop client would keep it in its own store.
  constructor() {
    this.client = undefined;
    this.stored = undefined;
    this.verifier = undefined;
    this.sentState = undefined;
    this.saves = 0;
  }
  get redirectUrl() {
    return redirectUri;
  }
  get clientMetadata() {
    return {
      client_name: "TypeScript SDK test client",
      redirect_uris: [redirectUri],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    };
  }
  state() {
    this.sentState = crypto.randomUUID();
    return this.sentState;
  }
  clientInformation() {
    return this.client;
  }
  saveClientInformation(info) {
    this.client = info;
  }
  tokens() {
    return this.stored;
  }
  saveTokens(tokens) {
    this.stored = tokens;
    this.saves += 1;
  }
  redirectToAuthorization(url) {
    say({ event: "authorize", url: url.toString() });
  }
  saveCodeVerifier(verifier) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
}

async function connected(provider) {
  const client = new Client({ name: "gitlab-mcp-tests", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(serverUrl), { authProvider: provider });
  try {
    await client.connect(transport);
    return [client, transport];
  } catch (error) {
    if (!(error instanceof UnauthorizedError)) throw error;
  }
  const reply = JSON.parse((await replies.next()).value);
  if (reply.state !== provider.sentState) throw new Error(`state came back as ${reply.state}`);
  await transport.finishAuth(reply.code);
  return connected(provider);
}

async function main() {
  const provider = new TestProvider();
  const [client, transport] = await connected(provider);
  const tools = await client.listTools();
  const me = await client.callTool({ name: "get_current_user", arguments: {} });
  const firstToken = provider.stored.access_token;
  provider.stored = { ...provider.stored, access_token: "spoiled" }; // the next call gets 401
  const again = await client.callTool({ name: "get_current_user", arguments: {} });
  say({
    event: "done",
    protocolVersion: transport.protocolVersion,
    tools: tools.tools.length,
    me: me.structuredContent,
    meAfterRefresh: again.structuredContent,
    refreshed: provider.stored.access_token !== firstToken && provider.stored.access_token !== "spoiled",
    tokenSaves: provider.saves,
  });
  await client.close();
}

main().then(
  () => process.exit(0),
  (error) => {
    say({ event: "error", message: String(error?.stack ?? error) });
    process.exit(1);
  },
);
