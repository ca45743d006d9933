// DashScope's temporary file upload, emulated: getPolicy hands out a signed policy whose upload_host is
// the emulator's own /__oss, and a POST there (an OSS PostObject form) stores the file as oss://{key}.
import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { IncomingMessage } from 'node:http';
import type { EmulatorClock } from './clock';
import { BodyTooLarge, readBody, xmlReply, type Reply } from './http';

export const POLICY_TTL_S = 300;
export const MAX_FILE_SIZE_MB = 100;
export const UPLOAD_TTL_MS = 48 * 60 * 60 * 1000;

export interface IssuedPolicy {
  policy: string;
  signature: string;
  upload_dir: string;
  upload_host: string;
  expire_in_seconds: number;
  max_file_size_mb: number;
  capacity_limit_mb: number;
  oss_access_key_id: string;
  x_oss_object_acl: string;
  x_oss_forbid_overwrite: string;
}

interface PolicyRecord {
  issued: IssuedPolicy;
  expiresAt: number;
}

export interface StoredObject {
  key: string;
  path: string;
  bytes: number;
  fileName: string;
  storedAt: number;
}

/** An OSS-style refusal (the storage host answers XML). */
export class OssError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
  xml(requestId: string): string {
    const e = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    return (
      `<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n  <Code>${e(this.code)}</Code>\n  <Message>${e(this.message)}</Message>\n` +
      `  <RequestId>${requestId}</RequestId>\n  <HostId>emulator</HostId>\n</Error>\n`
    );
  }
}

export class UploadStore {
  private readonly secret = randomBytes(32);
  private readonly accessKeyId = `LTAI5tEmulator${randomBytes(4).toString('hex')}`;
  private readonly policies = new Map<string, PolicyRecord>();
  private readonly objects = new Map<string, StoredObject>();

  constructor(
    private readonly dir: string,
    private readonly clock: EmulatorClock,
    private readonly maxFileSizeMb = MAX_FILE_SIZE_MB,
  ) {}

  /** Issues a policy for `model`; `account` scopes the upload directory to the caller's account. */
  issuePolicy(model: string, account: string, uploadHost: string): IssuedPolicy {
    const now = this.clock.now();
    const expiresAt = now + POLICY_TTL_S * 1000;
    const day = new Date(now).toISOString().slice(0, 10);
    const upload_dir = `dashscope-instant/${account.slice(0, 32)}/${day}/${randomUUID()}`;
    const policyDoc = {
      expiration: new Date(expiresAt).toISOString(),
      conditions: [
        ['content-length-range', 0, this.maxFileSizeMb * 1024 * 1024],
        ['starts-with', '$key', upload_dir],
        { bucket: 'dashscope-file-emulator' },
        { 'x-oss-object-acl': 'private' },
        { 'x-oss-forbid-overwrite': 'true' },
        { model },
      ],
    };
    const policy = Buffer.from(JSON.stringify(policyDoc)).toString('base64');
    const signature = createHmac('sha1', this.secret).update(policy).digest('base64');
    const issued: IssuedPolicy = {
      policy,
      signature,
      upload_dir,
      upload_host: uploadHost,
      expire_in_seconds: POLICY_TTL_S,
      max_file_size_mb: this.maxFileSizeMb,
      capacity_limit_mb: 999999999,
      oss_access_key_id: this.accessKeyId,
      x_oss_object_acl: 'private',
      x_oss_forbid_overwrite: 'true',
    };
    this.policies.set(policy, { issued, expiresAt });
    return issued;
  }

  /** Largest body a form upload may have (file limit plus room for the other fields). */
  get maxFormBytes(): number {
    return this.maxFileSizeMb * 1024 * 1024 + 1024 * 1024;
  }

  /** Checks an OSS PostObject form and stores its file. Throws OssError on any refusal. */
  async acceptForm(form: FormData): Promise<StoredObject> {
    const field = (name: string): string => {
      const v = form.get(name);
      if (typeof v !== 'string' || !v) throw new OssError(400, 'InvalidArgument', `The form field ${name} is missing.`);
      return v;
    };
    const policy = field('policy');
    const record = this.policies.get(policy);
    const signature = field('Signature');
    const accessKeyId = field('OSSAccessKeyId');
    if (!record || record.issued.signature !== signature || accessKeyId !== this.accessKeyId) {
      throw new OssError(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
    }
    if (this.clock.now() > record.expiresAt) {
      throw new OssError(403, 'AccessDenied', 'Invalid according to Policy: Policy expired.');
    }
    const key = field('key');
    if (!key.startsWith(record.issued.upload_dir + '/') || key.includes('..')) {
      throw new OssError(403, 'AccessDenied', 'Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "' + record.issued.upload_dir + '"]');
    }
    for (const [name, want] of [
      ['x-oss-object-acl', record.issued.x_oss_object_acl],
      ['x-oss-forbid-overwrite', record.issued.x_oss_forbid_overwrite],
    ] as const) {
      const got = form.get(name);
      if (got !== null && got !== want) {
        throw new OssError(403, 'AccessDenied', `Invalid according to Policy: Policy Condition failed: ["eq", "$${name}", "${want}"]`);
      }
    }
    const file = form.get('file');
    if (!file || typeof file === 'string') throw new OssError(400, 'InvalidArgument', 'The form field file is missing or is not a file.');
    const max = record.issued.max_file_size_mb * 1024 * 1024;
    if (file.size > max) {
      throw new OssError(400, 'EntityTooLarge', `Your proposed upload exceeds the maximum allowed size (${record.issued.max_file_size_mb} MB).`);
    }
    if (this.objects.has(key)) {
      throw new OssError(409, 'FileAlreadyExists', 'The object you specified already exists and can not be overwritten.');
    }
    const fileName = ('name' in file && typeof file.name === 'string' && file.name) || basename(key);
    const path = join(this.dir, `${randomUUID()}-${basename(key).replace(/[^A-Za-z0-9._-]/g, '_').slice(-80)}`);
    await mkdir(this.dir, { recursive: true });
    await writeFile(path, Buffer.from(await file.arrayBuffer()));
    const obj: StoredObject = { key, path, bytes: file.size, fileName, storedAt: this.clock.now() };
    this.objects.set(key, obj);
    return obj;
  }

  /** The stored object for an `oss://key` URL, or undefined (unknown or older than 48 h). */
  resolve(ossUrl: string): StoredObject | undefined {
    const key = ossUrl.replace(/^oss:\/\//, '');
    const obj = this.objects.get(key);
    if (!obj || this.clock.now() - obj.storedAt > UPLOAD_TTL_MS) return undefined;
    return obj;
  }
}

/** Answers the storage host's POST (an OSS PostObject form): stores the file, or refuses it as OSS would. */
export async function answerUpload(uploads: UploadStore, req: IncomingMessage, requestId: string, log: (line: string) => void): Promise<Reply> {
  try {
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > uploads.maxFormBytes) throw new OssError(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size.');
    let raw: Buffer;
    try {
      raw = await readBody(req, uploads.maxFormBytes);
    } catch (e) {
      if (e instanceof BodyTooLarge) throw new OssError(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size.');
      throw e;
    }
    const contentType = String(req.headers['content-type'] ?? '');
    if (!/^multipart\/form-data/i.test(contentType)) {
      throw new OssError(400, 'InvalidArgument', 'The upload must be a multipart/form-data POST (OSS PostObject).');
    }
    let form: FormData;
    try {
      form = await new Request('http://emulator/__oss', { method: 'POST', headers: { 'content-type': contentType }, body: new Uint8Array(raw) }).formData();
    } catch (e) {
      throw new OssError(400, 'MalformedPOSTRequest', `The body of your POST request is not well-formed multipart/form-data. (${(e as Error).message})`);
    }
    const obj = await uploads.acceptForm(form);
    log(`stored upload oss://${obj.key} (${obj.bytes} bytes)`);
    const wanted = Number(form.get('success_action_status'));
    const status = wanted === 200 || wanted === 201 ? wanted : 204;
    return { status, body: Buffer.alloc(0), headers: { etag: `"${createHash('sha256').update(obj.key).digest('hex').slice(0, 32)}"`, 'x-oss-request-id': requestId } };
  } catch (e) {
    if (e instanceof OssError) return xmlReply(e.status, e.xml(requestId));
    throw e;
  }
}
