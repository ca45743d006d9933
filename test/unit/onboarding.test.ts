// The first things a new user reads: the Tasks view's welcome and the walkthrough's steps. VS Code shows
// their text as it is (links only, no other Markdown), so a setting is named by a link that opens it, and
// the palette offers each action once.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../..');
const read = (name: string) => JSON.parse(readFileSync(join(ROOT, name), 'utf8')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('onboarding text', () => {
  const manifest = read('package.json');
  const contributes = manifest.contributes;
  const settings = Object.keys(contributes.configuration.properties as Record<string, unknown>);
  const keyOf = (value: string) => /^%(.+)%$/.exec(value)?.[1] ?? value;
  const texts: string[] = [
    ...(contributes.viewsWelcome as { contents: string }[]).map((w) => keyOf(w.contents)),
    ...(contributes.walkthroughs as { steps: { description: string }[] }[]).flatMap((w) => w.steps.map((s) => keyOf(s.description))),
  ];

  for (const nls of ['package.nls.json', 'package.nls.zh-cn.json']) {
    it(`${nls}: the welcome view and the walkthrough show no raw Markdown and link every setting they name`, () => {
      const table = read(nls);
      for (const key of texts) {
        const text: string = table[key];
        assert.equal(typeof text, 'string', key);
        assert.ok(!/[`*_]/.test(text.replace(/\]\([^)]*\)/g, ']')), `${key} shows raw Markdown: ${text}`);
        const links = [...text.matchAll(/\]\(command:wanStudio\.openSettings\?%5B%22([^%]+)%22%5D\)/g)].map((m) => m[1]!);
        for (const target of links) {
          assert.ok(settings.some((s) => s === target || s.startsWith(`${target}.`)), `${key} links to ${target}, which is no setting`);
        }
        // Outside its links, the text names a setting only in words: any id there must also be linked.
        const named = text.replace(/\]\([^)]*\)/g, ']').match(/wanStudio\.[\w.]+/g) ?? [];
        for (const id of named) assert.ok(links.includes(id), `${key} names ${id} without a link to it`);
        assert.ok(!/command:workbench\.action\.openSettings/.test(text), `${key}: machine-scoped settings open under Remote in a remote window; use wanStudio.openSettings`);
      }
      // The settings the texts are about are each a link away.
      const all = texts.map((k) => table[k] as string).join('\n');
      for (const setting of ['wanStudio.endpoint', 'wanStudio.outputFolder', 'wanStudio.budget']) assert.ok(all.includes(`%5B%22${setting}%22%5D`), `no link to ${setting}`);
    });
  }

  it('promises the free rehearsal without a key only while the endpoint is the emulator', () => {
    // Without a key, only the emulator answers (connection.ts): a Model Studio endpoint needs the key first.
    const en = read('package.nls.json');
    const welcomes = contributes.viewsWelcome as { contents: string; when?: string }[];
    const rehearsal = welcomes.filter((w) => /rehearsal emulator \(free/.test(en[keyOf(w.contents)] as string));
    assert.equal(rehearsal.length, 1);
    assert.match(rehearsal[0]!.when ?? '', /config\.wanStudio\.endpoint == emulator/);
    const otherwise = welcomes.filter((w) => /config\.wanStudio\.endpoint != emulator/.test(w.when ?? '') && /!wanStudio\.apiKeySet/.test(w.when ?? ''));
    assert.equal(otherwise.length, 1, 'no welcome for a missing key on a Model Studio endpoint');
    assert.match(en[keyOf(otherwise[0]!.contents)] as string, /nothing can be generated until the key is set/);
  });

  it('offers each action once in the palette', () => {
    const hidden = new Set((contributes.menus.commandPalette as { command: string; when?: string }[]).filter((m) => m.when === 'false').map((m) => m.command));
    // Both open the generation panel from the palette: only one may be listed.
    const sameAction = ['wanStudio.generate', 'wanStudio.openGenerator'];
    assert.equal(sameAction.filter((c) => !hidden.has(c)).length, 1, 'New Generation and Generate Video… are one action');
    const en = read('package.nls.json');
    const titles = (contributes.commands as { command: string; title: string }[]).filter((c) => !hidden.has(c.command)).map((c) => en[keyOf(c.title)] as string);
    assert.equal(new Set(titles).size, titles.length, `a title is listed twice: ${titles.join(', ')}`);
  });

  // Issue 11.9: in code-server (any remote window) machine-scoped settings are not in the User tab at all, only
  // under Remote: a text that sends the user to "user settings" for them must say where they are there.
  it('says where the machine-scoped settings are wherever it calls them user settings (the Remote tab in a remote window)', () => {
    const scoped = Object.entries(contributes.configuration.properties as Record<string, { scope?: string }>).filter(([, p]) => /^machine/.test(p.scope ?? '')).map(([id]) => id);
    assert.ok(scoped.includes('wanStudio.endpoint') && scoped.includes('wanStudio.customBaseUrl'), `machine-scoped: ${scoped.join(', ')}`);
    const docs = ['README.md', ...readdirSync(join(ROOT, 'media', 'walkthrough')).filter((f) => f.endsWith('.md')).map((f) => join('media', 'walkthrough', f))];
    const unsaid: string[] = [];
    for (const doc of docs) {
      // A paragraph, a list item or a table row: the unit a reader takes in at once.
      const blocks = readFileSync(join(ROOT, doc), 'utf8').split(/\n\s*\n|\n(?=\s*[-|] )/);
      for (const block of blocks) if (/user settings?\b/i.test(block) && !/Remote\*{0,2} tab/.test(block)) unsaid.push(`${doc}: ${block.trim().slice(0, 160)}`);
    }
    assert.deepEqual(unsaid, [], 'these send the user to "user settings" without saying that code-server lists them under the Remote tab');
    // Where the endpoint is chosen, the reader is told both places.
    for (const doc of ['README.md', join('media', 'walkthrough', 'region.md')]) {
      const text = readFileSync(join(ROOT, doc), 'utf8');
      assert.match(text, /\*\*User\*\* tab/, `${doc}: the User tab on desktop`);
      assert.match(text, /\*\*Remote\*\* tab/, `${doc}: the Remote tab in code-server`);
    }
  });
});
