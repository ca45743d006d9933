// Turns any failure into one plain sentence and, where we know one, what to do about it.
import { WanAmbiguousCreateError, WanApiError, WanConfigError, WanLocalFileError, WanNetworkError, WanValidationError, isUploadPolicyExpired } from './errors';

export interface Explanation {
  /** A stable code for programs (error code of the service, or one of ours). */
  code: string;
  message: string;
  hint?: string;
}

const HINTS: Record<string, string> = {
  InvalidApiKey: 'Check the API key, and that it belongs to the same region as the endpoint.',
  AccessDenied: 'The key has no access to this operation or model in this region.',
  'AccessDenied.Unpurchased': 'Activate Model Studio for this account and region.',
  'Model.AccessDenied': 'This workspace has no access to the model; grant it in the Model Studio console.',
  Arrearage: 'The account is overdue; top it up in the Alibaba Cloud console.',
  DataInspectionFailed: 'The input or output was flagged by content moderation; change the prompt or media.',
  'InvalidParameter.DataInspection': 'A media URL could not be fetched or inspected; check it is public and within the limits.',
  Throttling: 'Too many requests; wait a little and try again.',
  'Throttling.RateQuota': 'The request rate limit was reached; wait a little and try again.',
  'Throttling.AllocationQuota': 'The quota is used up for now; try again later.',
  UnsupportedOperation: 'Only a task that is still PENDING can be canceled.',
  VideoUrlExpired: 'Result links last 24 hours; the video can no longer be downloaded.',
};

export function explainError(error: unknown): Explanation {
  if (error instanceof WanValidationError) return { code: 'InvalidInput', message: error.message };
  if (error instanceof WanConfigError) return { code: error.code, message: error.message };
  if (error instanceof WanAmbiguousCreateError) {
    return { code: 'CreateOutcomeUnknown', message: error.message };
  }
  if (isUploadPolicyExpired(error)) {
    const e = error as WanApiError;
    return {
      code: 'UploadPolicyExpired',
      message: `${e.code}: ${e.serviceMessage}${e.requestId ? ` (request ${e.requestId})` : ''}`,
      hint:
        'The upload policy expired before the file reached the storage host (a policy lasts about 5 minutes), even with fresh policies. ' +
        'This comes from a very slow upload or a wrong system clock: check the connection and the clock, then try again.',
    };
  }
  if (error instanceof WanApiError) {
    const hint = HINTS[error.code] ?? (error.code.startsWith('Throttling') ? HINTS.Throttling : undefined);
    const where = error.requestId ? ` (request ${error.requestId})` : '';
    return { code: error.code, message: `${error.code}: ${error.serviceMessage}${where}`, hint };
  }
  if (error instanceof WanLocalFileError) {
    return {
      code: error.errorCode,
      message: error.message,
      hint: 'Free some disk space or choose another folder (check its permissions and quota); the result link stays valid for 24 hours.',
    };
  }
  if (error instanceof WanNetworkError) {
    return {
      code: error.errorCode ?? 'NetworkError',
      message: error.message,
      hint: 'Check the network and the endpoint setting.',
    };
  }
  return { code: 'Unexpected', message: error instanceof Error ? error.message : String(error) };
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
