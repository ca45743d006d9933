// What the form's parts need from the page (main.ts owns the draft, the host's verdict and the channel).
import type { Action, Draft, Field, InitMessage, Issue, Validation } from '../../src/protocol/generate';

export interface FormContext {
  readonly init: InitMessage;
  draft(): Draft | undefined;
  validation(): Validation | undefined;
  /** An edit: keep it, tell the host, and ask for its verdict (at once, or after a short pause while typing). */
  changed(immediate?: boolean): void;
  /** A draft the host rebuilt (a drop): put it in the controls, then treat it as an edit. */
  replace(draft: Draft): void;
  act(action: Action): void;
}

/** The host's issues for one field of the current verdict. */
export function issuesFor(ctx: FormContext, field: Field): Issue[] {
  return ctx.validation()?.issues.filter((i) => i.field === field) ?? [];
}
