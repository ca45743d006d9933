// The architecture's boundaries are enforced by the linter: these probes lint code in the place it would
// live (the text is linted as if it were that file; nothing is written) and expect the rule to fire.
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { ESLint } from 'eslint';

const ROOT = resolve(__dirname, '../../..');

describe('lint boundaries', function () {
  this.timeout(120_000);
  let eslint: ESLint;
  before(() => {
    eslint = new ESLint({ cwd: ROOT });
  });

  async function rules(filePath: string, code: string): Promise<string[]> {
    const [result] = await eslint.lintText(code, { filePath: resolve(ROOT, filePath) });
    return (result?.messages ?? []).map((m) => `${m.ruleId ?? 'parse'}: ${m.message}`);
  }

  for (const core of ['src/wan/limits.ts', 'src/tasks/naming.ts', 'src/emulator/clock.ts', 'src/cli/exitCodes.ts', 'src/protocol/player.ts', 'src/storyboard/plan.ts']) {
    it(`refuses a vscode import in the core (${core})`, async () => {
      const found = await rules(core, "import * as vscode from 'vscode';\nexport const version = vscode.version;\n");
      assert.equal(found.length, 1, found.join('\n'));
      assert.match(found[0]!, /no-restricted-imports: .*only src\/extension\/ may import vscode/);
    });
  }

  it('allows a vscode import in the extension layer', async () => {
    assert.deepEqual(await rules('src/extension/settings.ts', "import * as vscode from 'vscode';\nexport const version = vscode.version;\n"), []);
  });

  it('refuses host code and Node modules in a webview page, and allows the shared protocol', async () => {
    const host = await rules('webview/player/main.ts', "import { PLAYER_VIEW_TYPE } from '../../src/extension/player';\nexport const v = PLAYER_VIEW_TYPE;\n");
    assert.match(host.join('\n'), /imports only the shared protocol types/);
    const node = await rules('webview/generate/main.ts', "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n");
    assert.match(node.join('\n'), /runs in a browser/);
    const protocol = await rules('webview/generate/main.ts', "import type { Draft } from '../../src/protocol/generate';\nexport const d: Draft | undefined = undefined;\n");
    assert.deepEqual(protocol, []);
  });

  it('makes a floating promise an error', async () => {
    const found = await rules('src/tasks/queue.ts', 'export async function f(): Promise<number> { return 1; }\nexport function g(): void { f(); }\n');
    assert.match(found.join('\n'), /no-floating-promises/);
  });
});
