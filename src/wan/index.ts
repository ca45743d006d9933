// The protocol core's public surface. Nothing here imports `vscode`.
export * from './limits';
export * from './errors';
export * from './schema';
export * from './sizing';
export * from './time';
export * from './regions';
export * from './retry';
export * from './poll';
export * from './explain';
export { isAbort } from './http';
export { WanClient, type WanClientOptions, type ClientEvent, type TaskListQuery, type WaitForTaskOptions } from './client';
export * from './list';
export * from './match';
export type { DownloadProgress, DownloadResult } from './download';
export { expectedVideoSeconds, isCompleteMp4, makeDirs, probeWritable } from './files';
export { checkCreateBody, checkRequest, prepareRequest, isUrl, type CheckedCreateRequest, type CheckedRequest, type GenerationInput, type PreparedRequest, type Uploader } from './request';
export * from './media';
