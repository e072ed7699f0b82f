// Starts the built darwin-sim and labelport-server for the end-to-end tests (as
// tests/integration/upload/support.py and the Go client's testenv do) and drives the sim's
// /_sim control API. Binaries come from $LP_BUILD, else the repository's build/ directory; a
// missing binary fails the test with the command that builds it.
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { createWriteStream, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { deflateSync } from "node:zlib";

const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 15_000;

// dist/test/support.js → the repository root is four levels up.
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");
export const BUILD = resolve(process.env.LP_BUILD ?? join(REPO, "build"));

function binary(rel: string, target: string): string {
  const path = join(BUILD, rel);
  if (!existsSync(path)) {
    throw new Error(`${path} is missing; build it with: bash .ci/build ${target} (or set LP_BUILD)`);
  }
  return path;
}

/** The environment without settings that would reach the processes from outside the test. */
function hermeticEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) =>
    !k.startsWith("LABELPORT_") && !k.startsWith("FIFTYONE_DARWIN_") && !k.startsWith("DARWIN_")));
}

/** A started binary whose first stdout line was "listening on ADDRESS". */
export class Proc {
  private constructor(readonly child: ChildProcess, readonly address: string, readonly stderrPath: string) {}

  static async start(name: string, path: string, args: string[], dir: string): Promise<Proc> {
    const stderrPath = join(dir, `${name}.stderr`);
    const stderr = createWriteStream(stderrPath);
    await new Promise((ok) => stderr.on("open", ok));
    const child = spawn(path, args, { env: hermeticEnv(), stdio: ["ignore", "pipe", stderr] });
    const lines = createInterface({ input: child.stdout! });
    const first = new Promise<string>((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`${name}: no "listening on" line within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
      lines.once("line", (line) => { clearTimeout(timer); ok(line); });
      child.once("exit", (code) => { clearTimeout(timer); fail(new Error(`${name} exited with ${code} at start-up (see ${stderrPath})`)); });
    });
    child.stdout!.resume(); // keep draining so the pipe never fills
    const line = await first;
    if (!line.startsWith("listening on ")) {
      child.kill("SIGKILL");
      throw new Error(`${name}: first stdout line ${JSON.stringify(line)}`);
    }
    return new Proc(child, line.slice("listening on ".length).trim(), stderrPath);
  }

  /** SIGTERM, then the exit code (SIGKILL after 15 s). */
  async stop(): Promise<number | null> {
    if (this.child.exitCode !== null) return this.child.exitCode;
    const exited = new Promise<number | null>((ok) => this.child.once("exit", (code) => ok(code)));
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), STOP_TIMEOUT_MS);
    const code = await exited;
    clearTimeout(timer);
    return code;
  }
}

export interface SimItem { id: string; name: string; path: string; status: string }

/** darwin-sim with one team and a fresh API key. */
export class Sim {
  constructor(readonly proc: Proc, readonly team: string, readonly apiKey: string) {}

  get url(): string {
    return this.proc.address;
  }

  async control<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(this.url + path, {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status}: ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  async items(slug: string): Promise<SimItem[]> {
    const state = await this.control<{ teams: { datasets: { slug: string; items: SimItem[] }[] }[] }>("GET", "/_sim/state");
    for (const team of state.teams) {
      for (const d of team.datasets) if (d.slug === slug) return d.items;
    }
    throw new Error(`no dataset ${slug} in the sim`);
  }

  async annotations(itemId: string): Promise<{ id: string; class_name: string }[]> {
    return (await this.control<{ annotations: { id: string; class_name: string }[] }>(
      "GET", `/_sim/items/${itemId}/annotations`)).annotations;
  }
}

/** The sample id labelport encodes as an item's folder ("/<sample id>"). */
export function sampleIdOf(item: SimItem): string {
  const p = item.path.replace(/\/+$/, "");
  return p.slice(p.lastIndexOf("/") + 1);
}

/**
 * darwin-sim and labelport-server with bearer-token authentication: one tenant whose V7 key
 * (the sim's) is in a key file beside the tenants file. `token` is the tenant's token.
 */
export class Stack {
  private constructor(readonly dir: string, readonly sim: Sim, readonly server: Proc, readonly token: string) {}

  get target(): string {
    return this.server.address;
  }

  static async start(): Promise<Stack> {
    const dir = mkdtempSync(join(tmpdir(), "labelport-ts-"));
    const team = "ts-client-team";
    const h = randomBytes(20).toString("hex");
    const apiKey = `${h.slice(0, 7)}.${h.slice(8, 40)}`;
    const sim = new Sim(await Proc.start("darwin-sim", binary("tests/darwin_sim/darwin-sim", "darwin_sim"),
      ["--listen", "127.0.0.1:0", "--team", team, "--api_key", apiKey, "--threads", "2"], dir), team, apiKey);
    const token = randomBytes(24).toString("base64url");
    writeFileSync(join(dir, "ts.v7key"), apiKey, { mode: 0o600 });
    writeFileSync(join(dir, "tenants.json"), JSON.stringify({
      tenants: [{
        name: "ts",
        token_sha256: [createHash("sha256").update(token).digest("hex")],
        darwin: { api_key_file: "ts.v7key" },
      }],
    }), { mode: 0o600 });
    let server: Proc;
    try {
      server = await Proc.start("labelport-server", binary("service/server/labelport-server", "labelport_server"), [
        "--listen", "127.0.0.1:0", "--data_dir", join(dir, "data"), "--darwin_url", sim.url,
        "--auth", "token", "--tenants_file", join(dir, "tenants.json"),
        "--darwin_rate_limit_per_minute", "60000", "--worker_id", "ts-e2e", "--drain_seconds", "2",
      ], dir);
    } catch (err) {
      await sim.proc.stop();
      throw err;
    }
    return new Stack(dir, sim, server, token);
  }

  /** Stops both processes (the server must exit 0 on SIGTERM) and removes the directory. */
  async stop(): Promise<number | null> {
    const code = await this.server.stop();
    await this.sim.proc.stop();
    if (code === 0) rmSync(this.dir, { recursive: true, force: true });
    return code;
  }
}

// ---- PNG files (no dependencies): one colour, 8-bit RGB ---------------------------------

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** Writes a width × height PNG of one colour. */
export function writePng(path: string, width: number, height: number, rgb: [number, number, number]): void {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit, RGB, deflate, no filter, no interlace
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: width }, () => rgb).flat())]);
  const raw = Buffer.concat(Array.from({ length: height }, () => row));
  writeFileSync(path, Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr), chunk("IDAT", deflateSync(raw)), chunk("IEND", Buffer.alloc(0)),
  ]));
}
