// A refusal the user can act on (no task selected, a file gone): shown as it is, never logged as a bug.
export class UserError extends Error {
  override readonly name = 'UserError';
}
