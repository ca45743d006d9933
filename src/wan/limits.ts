// Every documented limit of the Wan 2.7 image-to-video API, in one place.
export const MODEL = 'wan2.7-i2v-2026-04-25';

export const MB = 1024 * 1024;

export const PROMPT_MAX_CHARS = 5000;
export const NEGATIVE_PROMPT_MAX_CHARS = 500;

export const DURATION_MIN_S = 2;
export const DURATION_MAX_S = 15;
export const DURATION_DEFAULT_S = 5;
export const SEED_MAX = 2147483647;

export const RESOLUTIONS = ['720P', '1080P'] as const;
export const RESOLUTION_DEFAULT = '1080P';

export const IMAGE = {
  formats: ['jpeg', 'png', 'bmp', 'webp'] as const,
  minSide: 240,
  maxSide: 8000,
  maxAspect: 8,
  maxBytes: 20 * MB,
};

export const AUDIO = {
  formats: ['wav', 'mp3'] as const,
  minSeconds: 2,
  maxSeconds: 30,
  maxBytes: 15 * MB,
};

export const VIDEO = {
  formats: ['mp4', 'mov'] as const,
  minSeconds: 2,
  maxSeconds: 10,
  minSide: 240,
  maxSide: 4096,
  maxAspect: 8,
  maxBytes: 100 * MB,
};

export const IMAGE_MIME = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  bmp: 'image/bmp',
  webp: 'image/webp',
} as const;

/** Target pixel count of each resolution tier (the FAQ's "about 920,000 pixels" for 720P). */
export const TIER_PIXELS = {
  '720P': 1280 * 720,
  '1080P': 1920 * 1080,
} as const;

export const RECOMMENDED_POLL_INTERVAL_MS = 15_000;
export const TASK_TTL_MS = 24 * 60 * 60 * 1000;
