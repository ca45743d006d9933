import assert from 'node:assert/strict';
import {
  CreateTaskResponseSchema,
  ErrorBodySchema,
  MODEL,
  TaskListResponseSchema,
  TaskResponseSchema,
  UploadPolicyResponseSchema,
  VALID_COMBINATIONS,
  WanValidationError,
  parseCreateRequest,
  type MediaType,
} from '../../src/wan';

const URLS: Record<MediaType, string> = {
  first_frame: 'https://example.com/first.png',
  last_frame: 'data:image/png;base64,iVBORw0KGgo=',
  driving_audio: 'https://example.com/voice.mp3',
  first_clip: 'oss://dashscope-instant/abc/clip.mp4',
};

function body(types: MediaType[], extra: { input?: object; parameters?: object } = {}) {
  return {
    model: MODEL,
    input: { prompt: 'a cat', media: types.map((type) => ({ type, url: URLS[type] })), ...extra.input },
    parameters: extra.parameters,
  };
}

/** Asserts the body is refused and that some issue names `field` with a message matching `rule`. */
function refused(input: unknown, field: string, rule: RegExp) {
  try {
    parseCreateRequest(input);
  } catch (error) {
    assert.ok(error instanceof WanValidationError, `expected WanValidationError, got ${String(error)}`);
    const hit = error.issues.find((i) => i.field === field && rule.test(i.message));
    assert.ok(hit, `no issue for ${field} matching ${rule}; got:\n${error.message}`);
    return;
  }
  assert.fail(`accepted an invalid body for ${field}`);
}

describe('create request schema', () => {
  for (const combination of VALID_COMBINATIONS) {
    it(`accepts ${combination.join(' + ')}`, () => {
      const parsed = parseCreateRequest(body([...combination]));
      assert.deepEqual(
        parsed.input.media.map((m) => m.type),
        combination,
      );
    });
  }

  const invalid: MediaType[][] = [
    [],
    ['last_frame'],
    ['driving_audio'],
    ['first_frame', 'first_clip'],
    ['first_clip', 'driving_audio'],
    ['first_clip', 'last_frame', 'driving_audio'],
    ['last_frame', 'driving_audio'],
  ];
  for (const combination of invalid.slice(1)) {
    it(`refuses ${combination.join(' + ')} and lists the valid combinations`, () => {
      refused(body(combination), 'input.media', /is not a valid combination; use one of: first_frame, first_frame \+ driving_audio/);
    });
  }
  it('refuses an empty media list', () => refused(body([]), 'input.media', /at least a first_frame or a first_clip/));
  it('refuses a missing media list', () =>
    refused({ model: MODEL, input: { prompt: 'x' } }, 'input.media', /required/));
  it('refuses a type given twice', () => {
    const b = body(['first_frame']);
    b.input.media.push({ type: 'first_frame', url: URLS.first_frame });
    refused(b, 'input.media', /first_frame appears more than once/);
  });
  it('refuses an unknown media type', () =>
    refused({ model: MODEL, input: { media: [{ type: 'reference', url: URLS.first_frame }] } }, 'input.media[0].type', /./));
  it('refuses the wrong model', () => refused({ ...body(['first_frame']), model: 'wan2.6-i2v' }, 'model', /must be "wan2.7-i2v-2026-04-25"/));

  it('counts prompt length in characters, Chinese included', () => {
    assert.ok(parseCreateRequest(body(['first_frame'], { input: { prompt: '猫'.repeat(5000) } })));
    refused(body(['first_frame'], { input: { prompt: '猫'.repeat(5001) } }), 'input.prompt', /5001 characters; the limit is 5000/);
  });
  it('limits the negative prompt to 500 characters', () => {
    assert.ok(parseCreateRequest(body(['first_frame'], { input: { negative_prompt: 'x'.repeat(500) } })));
    refused(body(['first_frame'], { input: { negative_prompt: 'x'.repeat(501) } }), 'input.negative_prompt', /limit is 500/);
  });

  const params: [string, object, string, RegExp][] = [
    ['duration below 2', { duration: 1 }, 'parameters.duration', /at least 2 seconds/],
    ['duration above 15', { duration: 16 }, 'parameters.duration', /at most 15 seconds/],
    ['a fractional duration', { duration: 5.5 }, 'parameters.duration', /whole number/],
    ['a duration given as text', { duration: '5' }, 'parameters.duration', /whole number/],
    ['a negative seed', { seed: -1 }, 'parameters.seed', /at least 0/],
    ['a seed above 2147483647', { seed: 2147483648 }, 'parameters.seed', /at most 2147483647/],
    ['an unknown resolution', { resolution: '480P' }, 'parameters.resolution', /720P or 1080P/],
    ['a non-boolean watermark', { watermark: 'yes' }, 'parameters.watermark', /./],
    ['a non-boolean prompt_extend', { prompt_extend: 1 }, 'parameters.prompt_extend', /./],
  ];
  for (const [name, p, field, rule] of params) {
    it(`refuses ${name}`, () => refused(body(['first_frame'], { parameters: p }), field, rule));
  }
  it('accepts the limits themselves', () => {
    for (const p of [{ duration: 2, seed: 0 }, { duration: 15, seed: 2147483647, resolution: '720P', watermark: true, prompt_extend: false }]) {
      assert.deepEqual(parseCreateRequest(body(['first_frame'], { parameters: p })).parameters, p);
    }
  });

  it('accepts data: URIs only for images, with an image MIME type', () => {
    refused(
      body(['first_frame', 'driving_audio'], {
        input: { media: [{ type: 'first_frame', url: URLS.first_frame }, { type: 'driving_audio', url: 'data:audio/mpeg;base64,AAAA' }] },
      }),
      'input.media[1].url',
      /data: URIs are accepted for images only/,
    );
    refused(
      { model: MODEL, input: { media: [{ type: 'first_frame', url: 'data:image/gif;base64,R0lGOD==' }] } },
      'input.media[0].url',
      /image\/gif is not supported/,
    );
    refused(
      { model: MODEL, input: { media: [{ type: 'first_frame', url: 'data:image/png,notbase64' }] } },
      'input.media[0].url',
      /data:\{MIME type\};base64/,
    );
  });
  it('refuses a data: image over 20 MB', () => {
    const big = `data:image/png;base64,${'A'.repeat(Math.ceil((20 * 1024 * 1024 + 3) / 3) * 4)}`;
    refused({ model: MODEL, input: { media: [{ type: 'first_frame', url: big }] } }, 'input.media[0].url', /at most 20 MB/);
  });
  it('refuses URLs of other schemes', () =>
    refused(
      { model: MODEL, input: { media: [{ type: 'first_clip', url: 'file:///tmp/clip.mp4' }] } },
      'input.media[0].url',
      /must be an http\(s\) URL or an oss:\/\/ URL/,
    ));
  it('reports every problem at once', () => {
    try {
      parseCreateRequest(body(['last_frame'], { parameters: { duration: 20, seed: -5 } }));
      assert.fail('accepted');
    } catch (error) {
      assert.ok(error instanceof WanValidationError);
      assert.deepEqual(error.issues.map((i) => i.field).sort(), ['input.media', 'parameters.duration', 'parameters.seed']);
    }
  });
});

describe('response schemas', () => {
  it('reads a create answer', () => {
    const r = CreateTaskResponseSchema.parse({ output: { task_status: 'PENDING', task_id: 't-1' }, request_id: 'r' });
    assert.equal(r.output.task_id, 't-1');
  });
  it('reads a succeeded task with usage, keeping unknown fields', () => {
    const r = TaskResponseSchema.parse({
      request_id: 'r',
      output: {
        task_id: 't',
        task_status: 'SUCCEEDED',
        submit_time: '2025-09-25 11:07:28.590',
        scheduled_time: '2025-09-25 11:07:35.349',
        end_time: '2025-09-25 11:17:11.650',
        orig_prompt: 'p',
        video_url: 'https://x.oss.example.com/a.mp4?Expires=1',
        extra: 1,
      },
      usage: { duration: 15, input_video_duration: 0, output_video_duration: 15, video_count: 1, SR: 720 },
    });
    assert.equal(r.output.task_status, 'SUCCEEDED');
    if (r.output.task_status === 'SUCCEEDED') assert.match(r.output.video_url, /a\.mp4/);
    assert.equal(r.usage?.SR, 720);
    assert.equal((r.output as Record<string, unknown>).extra, 1);
  });
  it('reads failed, canceled and unknown tasks', () => {
    const failed = TaskResponseSchema.parse({ output: { task_id: 't', task_status: 'FAILED', code: 'InvalidParameter', message: 'The size is not match' } });
    assert.equal(failed.output.task_status === 'FAILED' && failed.output.code, 'InvalidParameter');
    for (const s of ['CANCELED', 'UNKNOWN', 'PENDING', 'RUNNING']) {
      assert.equal(TaskResponseSchema.parse({ output: { task_id: 't', task_status: s } }).output.task_status, s);
    }
  });
  it('refuses a succeeded task without a video URL', () => {
    assert.equal(TaskResponseSchema.safeParse({ output: { task_id: 't', task_status: 'SUCCEEDED' } }).success, false);
  });
  it('reads an error body and an upload policy', () => {
    assert.equal(ErrorBodySchema.parse({ code: 'InvalidApiKey', message: 'No API-key provided.', request_id: 'r' }).code, 'InvalidApiKey');
    const policy = UploadPolicyResponseSchema.parse({
      request_id: 'r',
      data: {
        policy: 'p', signature: 's', upload_dir: 'dashscope-instant/x', upload_host: 'https://dashscope-file.oss.example.com',
        expire_in_seconds: 300, max_file_size_mb: 100, capacity_limit_mb: 999, oss_access_key_id: 'id',
        x_oss_object_acl: 'private', x_oss_forbid_overwrite: 'true',
      },
    });
    assert.equal(policy.data.upload_dir, 'dashscope-instant/x');
  });
});

describe('task list schema', () => {
  it('reads the documented answer and keeps fields it does not know', () => {
    const parsed = TaskListResponseSchema.parse({
      request_id: 'r1',
      total: 1,
      total_page: 1,
      page_no: 1,
      page_size: 10,
      data: [
        {
          task_id: 't1',
          status: 'SUCCEEDED',
          model_name: MODEL,
          region: 'cn-beijing',
          request_id: 'r0',
          gmt_create: '2026-04-25 10:00:00.123',
          start_time: '2026-04-25 10:00:01.000',
          end_time: '2026-04-25 10:02:00.000',
          api_key_id: 'k1',
          caller_uid: 'u1',
        },
      ],
      extra_top: true,
    });
    assert.equal(parsed.data[0]?.task_id, 't1');
    assert.equal((parsed.data[0] as Record<string, unknown>).api_key_id, 'k1');
    assert.equal((parsed as Record<string, unknown>).extra_top, true);
  });
  it('is lenient where the service may differ: counts as strings, no data, numeric times, new statuses', () => {
    const parsed = TaskListResponseSchema.parse({ total: '0', total_page: '0', page_no: '1', page_size: '10', data: null });
    assert.deepEqual([parsed.total, parsed.page_no, parsed.data], [0, 1, []]);
    const odd = TaskListResponseSchema.parse({ total: 1, data: [{ task_id: 't', status: 'SUSPENDED', gmt_create: 1777082400000, end_time: null }] });
    assert.equal(odd.data[0]?.status, 'SUSPENDED');
  });
  it('refuses an entry without a task ID', () => {
    assert.equal(TaskListResponseSchema.safeParse({ total: 1, data: [{ status: 'PENDING' }] }).success, false);
  });
});
