/**
 * Helpers for the e2e specs: HL7 test messages and `hie send` (the real CLI, over MLLP).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, type Page } from '@playwright/test';

const run = promisify(execFile);
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The run's scratch directory (made by playwright.config.ts). */
export function e2eDir(...parts: string[]): string {
  const dir = path.join(process.env.HIE_E2E_DIR ?? path.join(repoRoot, 'e2e/artifacts/tmp'), ...parts);
  mkdirSync(dir, { recursive: true });
  return dir;
}

export const adminPassword = () => process.env.HIE_E2E_ADMIN_PASSWORD ?? 'admin';
export const mllpPort = () => Number(process.env.HIE_E2E_MLLP_PORT ?? 2575);

/** An ADT^A01 with our own control and patient ids (segments separated by CR, as on the wire). */
export function adtA01(controlId: string, patientId: string, family = 'DOE', given = 'JANE'): string {
  const ts = '20260101120000';
  return [
    `MSH|^~\\&|E2E|HOSP|HIE|HOSP|${ts}||ADT^A01^ADT_A01|${controlId}|P|2.5`,
    `EVN|A01|${ts}`,
    `PID|1||${patientId}^^^HOSP^MR||${family}^${given}^Q||19800101|F|||1 Main St^^Leeds^^LS1 1AA^GB`,
    `PV1|1|I|WARD1^101^1^HOSP||||1234^SMITH^ALAN^^^DR`,
  ].join('\r');
}

/** Writes the messages to files and sends them with `hie send`; returns its output (one ACK per line). */
export async function hieSend(port: number, messages: string[], name = 'msg'): Promise<string> {
  const dir = e2eDir('send');
  const files = messages.map((m, i) => {
    const file = path.join(dir, `${name}-${Date.now()}-${i}.hl7`);
    writeFileSync(file, m + '\r');
    return file;
  });
  const { stdout, stderr } = await run(process.execPath, ['bin/hie.mjs', 'send', '--host', '127.0.0.1', '--port', String(port), ...files], {
    cwd: repoRoot,
    timeout: 60_000,
  });
  return stdout + stderr;
}

export async function login(page: Page, username: string, password: string): Promise<void> {
  await page.goto('/login');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
}

export function artifact(name: string): string {
  return path.join(repoRoot, 'e2e/artifacts', name);
}

/** Console errors and uncaught exceptions, asserted empty at the end of each test. */
export function watchConsole(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
  return errors;
}

/**
 * A TCP port free on 127.0.0.1 now (the OS picks it). The specs keep to their own helpers: the
 * engine's sources are not loadable by Playwright's module loader.
 */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A tRPC mutation over HTTP with the page's session (what the portal would send). */
export async function call<T>(page: Page, path: string, input: unknown): Promise<T> {
  const res = await page.request.post(`/api/trpc/${path}`, { data: input, headers: { 'content-type': 'application/json' } });
  expect(res.ok(), await res.text()).toBe(true);
  return ((await res.json()) as { result: { data: T } }).result.data;
}

/** A tRPC query over HTTP with the page's session. */
export async function query<T>(page: Page, path: string, input: unknown): Promise<T> {
  const res = await page.request.get(`/api/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`);
  expect(res.ok(), await res.text()).toBe(true);
  return ((await res.json()) as { result: { data: T } }).result.data;
}
