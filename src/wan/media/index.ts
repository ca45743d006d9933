// Local media probing and validation (pure TypeScript, no vscode, no ffmpeg).
export {
  MediaProbeError,
  describeUnsupportedImage,
  probeImage,
  type ImageFormat,
  type ImageInfo,
} from './image';
export { probeAudio, type AudioFormat, type AudioInfo } from './audio';
export { probeVideo, type AudioCodec, type AudioTrackInfo, type VideoFormat, type VideoInfo } from './video';
export { probeMediaFormat, uploadFileName, type MediaFormat } from './uploadName';
export {
  imageIssues,
  imageToDataUri,
  mediaField,
  readCheckedImage,
  readImageAsDataUri,
  validateDataUriImage,
  validateLocalMedia,
  type ImageMediaType,
  type LocalMediaInfo,
  type LocalMediaType,
} from './validate';
