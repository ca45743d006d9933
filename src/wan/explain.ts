// Turns any failure into one plain sentence and, where we know one, what to do about it.
import {
  WanAmbiguousCreateError,
  WanApiError,
  WanConfigError,
  WanLocalFileError,
  WanNetworkError,
  WanValidationError,
  isLocalFileErrorCode,
  isUploadPolicyExpired,
} from './errors';

/** Where a failure comes from: the service's answer, the network, this machine, the input, the settings. */
export type ErrorKind = 'service' | 'network' | 'local' | 'input' | 'config' | 'outcomeUnknown' | 'unexpected';

/** A next step a front end can offer as a button (the CLI prints the hint only). */
export type NextStep = 'setKey' | 'openSettings' | 'retry';

export interface Explanation {
  /** A stable code for programs (error code of the service, or one of ours). */
  code: string;
  kind: ErrorKind;
  message: string;
  hint?: string;
}

export interface Advice {
  /** One English sentence or two: what it means and what to do (front ends translate it). */
  hint: string;
  next: NextStep[];
}

/**
 * The one table of advice, by the service's error code (SPEC.md's codes by HTTP status) or one of ours.
 * The CLI, the panel, the tree and the notifications all read it through adviceFor.
 */
const BY_CODE: Record<string, Advice> = {
  InvalidApiKey: { hint: 'The key was refused. Check the key, and that it belongs to the same region as the endpoint.', next: ['setKey', 'openSettings'] },
  AccessDenied: { hint: 'This key has no access to this operation or model in this region.', next: ['openSettings'] },
  'AccessDenied.Unpurchased': { hint: 'Activate Model Studio for this account in this region, or choose another region.', next: ['openSettings'] },
  'Model.AccessDenied': { hint: 'This workspace has no access to the model; grant it in the Model Studio console, or choose another region.', next: ['openSettings'] },
  CommodityNotPurchased: { hint: 'The model is not purchased for this account; activate it in the Model Studio console.', next: ['openSettings'] },
  ModelNotFound: { hint: 'The model is not offered at this endpoint; check the region in the endpoint setting.', next: ['openSettings'] },
  Arrearage: { hint: 'The Alibaba Cloud account is overdue. Top it up in the Alibaba Cloud console, then try again.', next: ['retry'] },
  PrepaidBillOverdue: { hint: 'The Alibaba Cloud account is overdue. Top it up in the Alibaba Cloud console, then try again.', next: ['retry'] },
  PostpaidBillOverdue: { hint: 'The Alibaba Cloud account is overdue. Top it up in the Alibaba Cloud console, then try again.', next: ['retry'] },
  DataInspectionFailed: { hint: 'Content inspection flagged the prompt, an input or the result. Change the prompt or the media, then try again.', next: [] },
  // Not moderation: the service could not download (or inspect) a media URL in time.
  'InvalidParameter.DataInspection': { hint: 'The service could not download or inspect a media file. Check that its URL is public and the file within the limits, then try again.', next: ['retry'] },
  InvalidURL: { hint: 'A media URL is malformed or not reachable; give a public http(s) URL.', next: [] },
  'BadRequest.InputDownloadFailed': { hint: 'The service could not download a media file. Check that its URL is public and answers quickly, then try again.', next: ['retry'] },
  'BadRequest.UnsupportedFileFormat': { hint: 'A media file is in a format the model does not take (images: JPEG, PNG, BMP, WEBP; audio: WAV, MP3; video: MP4, MOV).', next: [] },
  'BadRequest.TooLarge': { hint: 'The request or a media file is too large; use a smaller file or a URL.', next: [] },
  Throttling: { hint: 'The service is throttling this account. Wait a little, then try again.', next: ['retry'] },
  'Throttling.RateQuota': { hint: 'The service is throttling this account. Wait a little, then try again.', next: ['retry'] },
  'Throttling.AllocationQuota': { hint: 'The account’s quota is used up for now; try again later.', next: ['retry'] },
  LimitRequests: { hint: 'The service is throttling this account. Wait a little, then try again.', next: ['retry'] },
  RequestTimeOut: { hint: 'The service took too long to answer; try again.', next: ['retry'] },
  InternalError: { hint: 'The service failed on its side; try again.', next: ['retry'] },
  'InternalError.Algo': { hint: 'The model failed on this input; try again, perhaps with another seed or prompt.', next: ['retry'] },
  'InternalError.Timeout': { hint: 'The model took too long on this task; try again.', next: ['retry'] },
  SystemError: { hint: 'The service failed on its side; try again.', next: ['retry'] },
  ModelUnavailable: { hint: 'The model is unavailable for now; try again later.', next: ['retry'] },
  UnsupportedOperation: { hint: 'Only a task that is still PENDING can be canceled.', next: [] },
  VideoUrlExpired: { hint: 'Result links last 24 hours; the video can no longer be downloaded.', next: [] },
  UploadPolicyExpired: {
    hint:
      'The upload policy expired before the file reached the storage host (a policy lasts about 5 minutes), even with fresh policies. ' +
      'This comes from a very slow upload or a wrong system clock: check the connection and the clock, then try again.',
    next: ['retry'],
  },
  // Never offer Retry here: the service may have made (and will bill) the task already.
  CreateOutcomeUnknown: {
    hint: 'The service may have created this task. It was not sent again, so nothing is billed twice; check your recent tasks before generating it again.',
    next: [],
  },
  Unresolved: {
    hint: 'The service may have created this task. It was not sent again, so nothing is billed twice; check your recent tasks before generating it again.',
    next: [],
  },
  NotConfigured: { hint: 'Set the API key, or check the endpoint settings.', next: ['setKey', 'openSettings'] },
};

/** When the code says nothing we know: by the error's kind. */
const BY_KIND: Partial<Record<ErrorKind, Advice>> = {
  network: { hint: 'Nothing answered, or the connection broke. Check the network and the endpoint setting.', next: ['retry', 'openSettings'] },
  local: { hint: 'Free some disk space or choose another folder (check its permissions and quota); the result link stays valid for 24 hours.', next: ['retry'] },
};

/** The kind of a code kept in a task record (which keeps the code, not the error). */
export function kindOfCode(code: string | undefined): ErrorKind {
  if (!code) return 'unexpected';
  if (isLocalFileErrorCode(code)) return 'local';
  // System and transport codes are upper case (ECONNREFUSED, UND_ERR_SOCKET, BAD_RESPONSE); the service's are not.
  if (code === 'NetworkError' || /^[A-Z][A-Z0-9_]+$/.test(code)) return 'network';
  if (code === 'InvalidInput') return 'input';
  if (code === 'NotConfigured') return 'config';
  if (code === 'CreateOutcomeUnknown' || code === 'Unresolved') return 'outcomeUnknown';
  return 'service';
}

/** What to say and offer for a code of this kind; undefined when there is nothing useful to add. */
export function adviceFor(code: string | undefined, kind: ErrorKind = kindOfCode(code)): Advice | undefined {
  if (code && BY_CODE[code]) return BY_CODE[code];
  if (code && kind === 'service' && /^Throttling/.test(code)) return BY_CODE.Throttling;
  if (code && kind === 'service' && /BillOverdue$/.test(code)) return BY_CODE.Arrearage;
  return BY_KIND[kind];
}

/** Every hint of the table, for front ends that translate them. */
export function allHints(): string[] {
  return [...new Set([...Object.values(BY_CODE), ...Object.values(BY_KIND)].map((a) => a.hint))];
}

export function explainError(error: unknown): Explanation {
  const explained = explainOnly(error);
  return { ...explained, hint: adviceFor(explained.code, explained.kind)?.hint };
}

function explainOnly(error: unknown): Omit<Explanation, 'hint'> {
  if (error instanceof WanValidationError) return { code: 'InvalidInput', kind: 'input', message: error.message };
  if (error instanceof WanConfigError) return { code: error.code, kind: 'config', message: error.message };
  if (error instanceof WanAmbiguousCreateError) return { code: 'CreateOutcomeUnknown', kind: 'outcomeUnknown', message: error.message };
  if (error instanceof WanApiError) {
    const where = error.requestId ? ` (request ${error.requestId})` : '';
    const code = isUploadPolicyExpired(error) ? 'UploadPolicyExpired' : error.code;
    return { code, kind: 'service', message: `${error.code}: ${error.serviceMessage}${where}` };
  }
  if (error instanceof WanLocalFileError) return { code: error.errorCode, kind: 'local', message: error.message };
  if (error instanceof WanNetworkError) return { code: error.errorCode ?? 'NetworkError', kind: 'network', message: error.message };
  return { code: 'Unexpected', kind: 'unexpected', message: error instanceof Error ? error.message : String(error) };
}

/** Error codes of a host that is not there: nothing listens at the address, or the name does not resolve. */
const NO_SUCH_HOST = new Set(['ECONNREFUSED', 'ENOTFOUND']);

/**
 * Whether a failure from an endpoint that has never answered may mean a wrong address (a 404 on the
 * API path, or no server at all) rather than an outage: both look alike for the first minutes.
 */
export function suggestsWrongAddress(error: unknown): boolean {
  if (error instanceof WanApiError) return error.httpStatus === 404;
  return error instanceof WanNetworkError && error.errorCode !== undefined && NO_SUCH_HOST.has(error.errorCode);
}
