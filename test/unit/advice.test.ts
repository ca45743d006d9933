// One table of advice for every error (src/wan/explain.ts), read by the CLI, the panel, the tree and the
// notifications: each code means what the API reference says, and every hint is translated.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WanApiError, WanNetworkError, adviceFor, allHints, explainError, kindOfCode } from '../../src/wan';
import { failureText } from '../../src/tasks/record';

describe('advice for errors (one table)', () => {
  it('tells a media fetch problem (InvalidParameter.DataInspection) from content moderation (DataInspectionFailed)', () => {
    const fetchProblem = explainError(new WanApiError(400, 'InvalidParameter.DataInspection', 'Unable to download the media resource during the data inspection process.'));
    const moderation = explainError(new WanApiError(400, 'DataInspectionFailed', 'Input data may contain inappropriate content.'));
    assert.match(fetchProblem.hint ?? '', /could not download or inspect a media file/);
    assert.doesNotMatch(fetchProblem.hint ?? '', /Content inspection flagged/);
    assert.match(moderation.hint ?? '', /Content inspection flagged/);
    // The CLI's explanation and the table the extension reads are the same advice.
    assert.equal(fetchProblem.hint, adviceFor('InvalidParameter.DataInspection')?.hint);
    assert.deepEqual(adviceFor('DataInspectionFailed')?.next, [], 'no Retry for a flagged prompt');
  });

  it('classifies by code and kind, never by words in the message', () => {
    const upload = explainError(new WanApiError(400, 'InvalidParameter', 'The upload of field first_frame is invalid'));
    assert.equal(upload.kind, 'service');
    assert.equal(upload.hint, undefined, 'a message that mentions "upload" is not an upload failure');
    const refused = explainError(new WanNetworkError('Create task failed: ECONNREFUSED (http://127.0.0.1:9)', false, 'ECONNREFUSED'));
    assert.equal(refused.kind, 'network');
    assert.equal(kindOfCode('ECONNREFUSED'), 'network');
    assert.equal(kindOfCode('ENOSPC'), 'local');
    assert.equal(kindOfCode('Throttling.RateQuota'), 'service');
    assert.deepEqual(adviceFor('ECONNREFUSED')?.next, ['retry', 'openSettings']);
    assert.deepEqual(adviceFor('CreateOutcomeUnknown')?.next, [], 'never Retry a create that may exist');
  });

  it('has a Simplified Chinese translation of every hint', () => {
    const zh = JSON.parse(readFileSync(join(__dirname, '../../../media/l10n/bundle.l10n.zh-cn.json'), 'utf8')) as Record<string, string>;
    const missing = allHints().filter((h) => !zh[h]);
    assert.deepEqual(missing, []);
  });
});

describe('a failure as one line', () => {
  it('names the code once, whether or not the message already starts with it', () => {
    // explainError writes a service refusal as "Code: message"; the record keeps both.
    const refused = explainError(new WanApiError(401, 'InvalidApiKey', 'Invalid API-key provided.'));
    assert.equal(failureText(refused), 'InvalidApiKey: Invalid API-key provided.');
    assert.equal(failureText({ code: 'ECONNREFUSED', message: 'Create task failed: connect refused' }), 'ECONNREFUSED: Create task failed: connect refused');
    assert.equal(failureText({ code: 'Unresolved' }), 'Unresolved');
    assert.equal(failureText({ message: 'the task ended' }), 'the task ended');
    assert.equal(failureText({}), '');
  });
});
