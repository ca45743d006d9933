// The webview hosts' rule for which files a page may show (src/tasks/insideFolder.ts).
import * as assert from 'node:assert/strict';
import { isInsideFolder } from '../../src/tasks/insideFolder';

describe('isInsideFolder', () => {
  it('takes files below the folder, and not the folder itself, a sibling sharing its prefix, or a way out through ..', () => {
    assert.equal(isInsideFolder('/work/out', '/work/out/a.mp4'), true);
    assert.equal(isInsideFolder('/work/out/', '/work/out/sub/b.jpg'), true);
    assert.equal(isInsideFolder('/work/out', '/work/out'), false);
    assert.equal(isInsideFolder('/work/out', '/work/outside/a.mp4'), false);
    assert.equal(isInsideFolder('/work/out', '/work/out/../secret/a.jpg'), false);
    assert.equal(isInsideFolder('/work/out', '/etc/passwd'), false);
  });
});
