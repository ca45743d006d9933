import * as assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { ConnectionCheck } from '../../src/extension/commands/connection';
import type { WanStudioApi } from '../../src/extension/activate';
import { REHEARSAL_KEY } from '../../src/extension/connection';

const EXTENSION_ID = 'wan-studio.wan-studio';

/** The literal first arguments of every `l10n.t(...)` call in the extension's sources. */
function l10nStrings(srcDir: string): Set<string> {
  const found = new Set<string>();
  const files = readdirSync(srcDir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  const call = /\bl10n\.t\(\s*(['"])((?:\\.|(?!\1)[^\\])*)\1/g;
  for (const f of files) {
    const text = readFileSync(join(srcDir, f), 'utf8');
    for (const m of text.matchAll(call)) {
      const quote = m[1] ?? "'";
      const body = m[2] ?? '';
      // Turn the TS string literal into its value (JSON handles the escapes once the quotes match).
      found.add(JSON.parse(`"${(quote === "'" ? body.replace(/\\'/g, "'") : body).replace(/(?<!\\)"/g, '\\"')}"`) as string);
    }
  }
  return found;
}

/** Every `%placeholder%` used in the manifest. */
function manifestPlaceholders(value: unknown, out = new Set<string>()): Set<string> {
  if (typeof value === 'string') {
    const m = /^%(.+)%$/.exec(value);
    if (m?.[1]) out.add(m[1]);
  } else if (Array.isArray(value)) {
    for (const v of value) manifestPlaceholders(v, out);
  } else if (value && typeof value === 'object') {
    for (const v of Object.values(value)) manifestPlaceholders(v, out);
  }
  return out;
}

const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;

const sha256Prefix = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex').slice(0, 12);

suite('Wan Studio extension', () => {
  let ext: vscode.Extension<WanStudioApi>;
  let api: WanStudioApi;

  suiteSetup(async () => {
    const found = vscode.extensions.getExtension<WanStudioApi>(EXTENSION_ID);
    assert.ok(found, `extension ${EXTENSION_ID} is not installed in this host`);
    ext = found;
  });

  test('exports its API once active', async () => {
    api = await ext.activate();
    assert.equal(typeof api.apiKeyFingerprint, 'function');
  });

  test('registers every contributed command from its one registry, and nothing else', async () => {
    await api.testing.ready; // the registry belongs to the loaded extension, not to the activation shell
    const contributed = (ext.packageJSON.contributes.commands as { command: string }[]).map((c) => c.command);
    assert.deepEqual([...contributed].sort(), [...api.testing.commandIds()].sort());
    const registered = new Set(await vscode.commands.getCommands(true));
    for (const id of contributed) assert.ok(registered.has(id), `command ${id} is not registered`);
    // VS Code adds commands of its own for each contributed view (`<view id>.focus`, `.open`, …).
    const views = Object.values<{ id: string }[]>(ext.packageJSON.contributes.views).flat().map((v) => `${v.id}.`);
    const ours = [...registered].filter((id) => id.startsWith('wanStudio.') && (contributed.includes(id) || !views.some((v) => id.startsWith(v))));
    assert.deepEqual(ours.sort(), [...contributed].sort(), 'commands registered but not contributed');
  });

  test('setApiKey stores the exact (trimmed) key in SecretStorage', async () => {
    const key = `sk-test-${randomBytes(12).toString('hex')}`;
    const stored = await vscode.commands.executeCommand<boolean>('wanStudio.setApiKey', `  ${key}\n`);
    assert.equal(stored, true);
    assert.equal(await api.apiKeyFingerprint(), sha256Prefix(key));
    assert.notEqual(await api.apiKeyFingerprint(), sha256Prefix(`  ${key}\n`));
  });

  test('setApiKey replaces an earlier key', async () => {
    const key = `sk-second-${randomBytes(12).toString('hex')}`;
    assert.equal(await vscode.commands.executeCommand<boolean>('wanStudio.setApiKey', key), true);
    assert.equal(await api.apiKeyFingerprint(), sha256Prefix(key));
  });

  test('clearApiKey removes the key', async () => {
    assert.notEqual(await api.apiKeyFingerprint(), undefined);
    assert.equal(await vscode.commands.executeCommand<boolean>('wanStudio.clearApiKey'), true);
    assert.equal(await api.apiKeyFingerprint(), undefined);
    // Clearing again is harmless and reports that nothing was stored.
    assert.equal(await vscode.commands.executeCommand<boolean>('wanStudio.clearApiKey'), false);
  });

  test('a whitespace-only key is refused and nothing is stored', async () => {
    assert.equal(await vscode.commands.executeCommand<boolean>('wanStudio.setApiKey', ' \t\n '), false);
    assert.equal(await api.apiKeyFingerprint(), undefined);
    assert.equal(await vscode.commands.executeCommand<boolean>('wanStudio.setApiKey', ''), false);
    assert.equal(await api.apiKeyFingerprint(), undefined);
  });

  test('a refused key leaves the stored key untouched', async () => {
    const key = `sk-keep-${randomBytes(12).toString('hex')}`;
    assert.equal(await vscode.commands.executeCommand<boolean>('wanStudio.setApiKey', key), true);
    assert.equal(await vscode.commands.executeCommand<boolean>('wanStudio.setApiKey', 'sk-with a-space'), false);
    assert.equal(await vscode.commands.executeCommand<boolean>('wanStudio.setApiKey', '   '), false);
    assert.equal(await api.apiKeyFingerprint(), sha256Prefix(key));
    await vscode.commands.executeCommand('wanStudio.clearApiKey');
    assert.equal(await api.apiKeyFingerprint(), undefined);
  });

  test('testConnection without a key reaches the rehearsal emulator with the placeholder key', async function () {
    this.timeout(60_000);
    await vscode.commands.executeCommand('wanStudio.clearApiKey');
    const result = await vscode.commands.executeCommand<ConnectionCheck>('wanStudio.testConnection');
    assert.ok(result.ok, result.ok ? '' : result.message);
    assert.equal(result.rehearsal, true);
    const res = await fetch(`${result.baseUrl}/__emulator/requests`);
    const { requests } = (await res.json()) as { requests: { route: string; keySha256Prefix?: string }[] };
    assert.equal(requests.filter((r) => r.route === 'task').at(-1)?.keySha256Prefix, sha256Prefix(REHEARSAL_KEY));
  });

  test('testConnection sends the stored key to the embedded rehearsal emulator', async function () {
    this.timeout(60_000);
    const key = `sk-wire-${randomBytes(12).toString('hex')}`;
    await vscode.commands.executeCommand('wanStudio.setApiKey', key);
    const result = await vscode.commands.executeCommand<ConnectionCheck>('wanStudio.testConnection');
    assert.ok(result.ok, result.ok ? '' : result.message);
    assert.equal(result.rehearsal, true);
    assert.match(result.baseUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    // The emulator logs a hash of each key it receives: it must be the key SecretStorage returned.
    const res = await fetch(`${result.baseUrl}/__emulator/requests`);
    assert.equal(res.headers.get('x-wan-emulator'), 'rehearsal');
    const { requests } = (await res.json()) as { requests: { route: string; keySha256Prefix?: string }[] };
    const poll = requests.filter((r) => r.route === 'task').at(-1);
    assert.equal(poll?.keySha256Prefix, sha256Prefix(key));
    await vscode.commands.executeCommand('wanStudio.clearApiKey');
  });

  test('every user-facing string has a Simplified Chinese translation', () => {
    const root = ext.extensionPath;
    const strings = l10nStrings(join(root, 'src'));
    assert.ok(strings.size >= 5, `found only ${strings.size} l10n.t strings`);
    const zh = readJson(join(root, 'media', 'l10n', 'bundle.l10n.zh-cn.json'));
    const missing = [...strings].filter((s) => typeof zh[s] !== 'string' || zh[s] === '');
    assert.deepEqual(missing, [], 'strings without a zh-cn translation');

    // ext.packageJSON is already localized by VS Code, so read the manifest as written.
    const placeholders = manifestPlaceholders(readJson(join(root, 'package.json')));
    assert.ok(placeholders.has('command.setApiKey'));
    for (const nls of ['package.nls.json', 'package.nls.zh-cn.json']) {
      const table = readJson(join(root, nls));
      const absent = [...placeholders].filter((p) => typeof table[p] !== 'string' || table[p] === '');
      assert.deepEqual(absent, [], `placeholders missing from ${nls}`);
    }
  });
});
