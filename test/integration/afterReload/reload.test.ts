// Phase 2 of the reload scenario, in the reloaded window (see beforeReload/).
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { reloadRequestPath } from '../index';
import { checkResumed, type Handoff } from '../reload';
import { extensionApi } from '../support';

suite('Window reload: after', () => {
  test('the reloaded window resumes the three tasks: polls them, saves the videos and records, creates nothing', async function () {
    this.timeout(180_000);
    const request = reloadRequestPath();
    assert.ok(request, 'this phase runs only after a real reload');
    const handoff = JSON.parse(readFileSync(request, 'utf8')) as Handoff;
    const api = await extensionApi();
    await checkResumed(api, handoff);
  });
});
