// Phase 1 of the reload scenario (runs last): three generations are caught running, then the window
// reloads. Where the launcher can reload the window (code-server) it does so after this suite and
// afterReload/ checks the outcome; elsewhere the task engine is restarted in place with a new owner,
// as a reloaded window would start it.
import { writeFileSync } from 'node:fs';
import { reloadRequestPath } from '../index';
import { checkResumed, startBoardAndCatchItWaiting, startThreeAndCatchThemRunning } from '../reload';
import { extensionApi } from '../support';

suite('Window reload: before', () => {
  test('three generations are running, and a storyboard waits for its first shot, when the window goes', async function () {
    this.timeout(180_000);
    const api = await extensionApi();
    const three = await startThreeAndCatchThemRunning(api);
    const request = reloadRequestPath();
    if (request) {
      // Only a real reload cuts a storyboard's run short (a restart in place keeps it running).
      const handoff = await startBoardAndCatchItWaiting(api, three);
      writeFileSync(request, JSON.stringify(handoff));
      return;
    }
    await api.restartTasks();
    await checkResumed(api, three);
  });
});
