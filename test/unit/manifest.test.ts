// The manifest against the code: every contributed command is in the command registry's id list (the
// registry's type requires a factory for each), every title is translated, every menu item names a
// contributed command, and every context-value test in a `when` clause uses a flag or state that exists.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CommandIds } from '../../src/extension/commands/ids';
import { TASK_FLAGS, VIDEO_CONTEXT_VALUE, taskContextValue } from '../../src/extension/tasks/contextValue';
import { TASK_STATES, newTaskRecord, type TaskRecord, type TaskState } from '../../src/tasks/record';
import { formatServiceTime } from '../../src/wan/time';

const ROOT = resolve(__dirname, '../../..');
const read = (name: string) => JSON.parse(readFileSync(join(ROOT, name), 'utf8')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('manifest', () => {
  const manifest = read('package.json');
  const contributes = manifest.contributes;
  const contributed: { command: string; title: string }[] = contributes.commands;

  it('contributes exactly the commands of the registry', () => {
    assert.deepEqual(contributed.map((c) => c.command).sort(), Object.values(CommandIds).sort());
  });

  it('has an English and a Simplified Chinese title for every command', () => {
    const en = read('package.nls.json');
    const zh = read('package.nls.zh-cn.json');
    for (const c of contributed) {
      const key = /^%(.+)%$/.exec(c.title)?.[1];
      assert.ok(key, `${c.command}: its title is not a %placeholder%`);
      assert.ok(typeof en[key] === 'string' && en[key], `${c.command}: no English title`);
      assert.ok(typeof zh[key] === 'string' && zh[key], `${c.command}: no zh-cn title`);
      assert.notEqual(zh[key], en[key], `${c.command}: the zh-cn title is the English one`);
    }
  });

  it('names only contributed commands in its menus', () => {
    const ids = new Set(contributed.map((c) => c.command));
    for (const [menu, items] of Object.entries(contributes.menus as Record<string, { command: string }[]>)) {
      for (const item of items) assert.ok(ids.has(item.command), `${menu} names ${item.command}, which is not contributed`);
    }
  });

  it('matches context values only on flags and states that exist', () => {
    const states = new Set<string>(TASK_STATES);
    const flags = new Set<string>(TASK_FLAGS);
    const items = contributes.menus['view/item/context'] as { command: string; when: string }[];
    assert.ok(items.length > 10);
    for (const { command, when } of items) {
      const video = /viewItem == (\w+)/.exec(when);
      if (video) {
        assert.equal(video[1], VIDEO_CONTEXT_VALUE, `${command}: ${when}`);
        continue;
      }
      const flag = /viewItem =~ \/\^task:\.\*:(\w+)\(:\|\$\)\//.exec(when);
      const state = /viewItem =~ \/\^task:(\w+)\(:\|\$\)\//.exec(when);
      const any = /viewItem =~ \/\^task:\//.test(when);
      assert.ok(flag || state || any, `${command}: unexpected when clause ${when}`);
      if (flag) assert.ok(flags.has(flag[1]!), `${command}: no flag ${flag[1]}`);
      if (state) assert.ok(states.has(state[1]!), `${command}: no state ${state[1]}`);
    }
  });

  it('activates after start-up (so tasks resume) but never eagerly', () => {
    // onView: a Tasks view open at load shows the stored tasks at once, not after start-up finishes.
    // onWebviewPanel: a generation panel or a player restored after a reload needs its serializer.
    assert.deepEqual(manifest.activationEvents, ['onView:wanStudio.tasks', 'onStartupFinished', 'onWebviewPanel:wanStudio.generator', 'onWebviewPanel:wanStudio.player']);
  });

  it('lets only user or machine settings choose the endpoint, and a workspace choose its output folder', () => {
    const props = contributes.configuration.properties;
    for (const key of ['wanStudio.endpoint', 'wanStudio.workspaceId', 'wanStudio.customBaseUrl']) assert.equal(props[key].scope, 'machine', key);
    assert.equal(props['wanStudio.outputFolder'].scope, 'machine-overridable');
    assert.equal(props['wanStudio.outputFolder'].default, 'videos');
  });

  it('offers each task the actions of its state, and only those (the when clauses run on real context values)', () => {
    const items = contributes.menus['view/item/context'] as { command: string; when: string }[];
    const now = Date.now();
    const actionsFor = (contextValue: string) =>
      [
        ...new Set(
          items
            .filter(({ when }) => {
              const m = /viewItem =~ \/(.+)\/$/.exec(when);
              return m ? new RegExp(m[1]!).test(contextValue) : /viewItem == (\w+)/.exec(when)?.[1] === contextValue;
            })
            .map((i) => i.command.replace('wanStudio.task.', '')),
        ),
      ].sort();
    const base = (state: TaskState, extra: Partial<TaskRecord> = {}): TaskRecord =>
      newTaskRecord({
        id: 'l',
        state,
        request: { firstFrame: '/ws/a.png', prompt: 'p' },
        endpoint: { kind: 'emulator', baseUrl: '' },
        requestedAt: now,
        updatedAt: now,
        ...extra,
      });
    const sent = { taskId: 't', sentAt: now, endTime: formatServiceTime(new Date(now)) };
    const expect: [TaskRecord, string[]][] = [
      [base('queued'), ['cancel', 'copyPrompt', 'generateAgain', 'remove', 'showDetails']],
      [base('creating', { sentAt: now }), ['copyPrompt', 'generateAgain', 'showDetails']],
      [base('unresolved', { sentAt: now }), ['copyPrompt', 'createAgain', 'generateAgain', 'lookAgain', 'remove', 'showDetails']],
      [base('pending', sent), ['cancel', 'copyId', 'copyPrompt', 'generateAgain', 'showDetails']],
      [base('running', sent), ['copyId', 'copyPrompt', 'generateAgain', 'showDetails']],
      [base('succeeded', { ...sent, save: { state: 'saved', file: '/ws/v.mp4', attempts: 1 } }), ['continueVideo', 'copyId', 'copyPrompt', 'generateAgain', 'play', 'remove', 'reveal', 'showDetails']],
      [base('succeeded', { ...sent, save: { state: 'failed', attempts: 1 } }), ['copyId', 'copyPrompt', 'generateAgain', 'remove', 'retryDownload', 'showDetails']],
      [base('failed', sent), ['copyId', 'copyPrompt', 'generateAgain', 'remove', 'showDetails']],
      [base('canceled', sent), ['copyId', 'copyPrompt', 'generateAgain', 'remove', 'showDetails']],
    ];
    for (const [r, actions] of expect) {
      const value = taskContextValue(r, now);
      assert.deepEqual(actionsFor(value), actions, value);
    }
    assert.deepEqual(actionsFor(VIDEO_CONTEXT_VALUE), ['play', 'reveal', 'wanStudio.deleteVideo']);
  });
});
